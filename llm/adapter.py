"""The team's label adapter: a multinomial logistic regression learnt from corrections.

Each example is ``(features, label)`` where ``features`` is the dict from
``llm.label_features.features`` stored when the correction was saved, so training never runs
the model. Inputs, side by side in one sparse row:

- tf-idf of the hashed character n-grams, with document frequencies from the training set
  (n-grams seen in fewer than ``MIN_DF`` examples are dropped), L2-normalised;
- the lexicon counts, standardised and scaled by ``LEX_SCALE``;
- the model pass (the logit "embedding" and zero-shot scores), standardised and scaled by
  ``MODEL_SCALE[lang]``: SmolLM2 reads English, so its features help English labels and only
  add noise to Portuguese ones (measured in ``tests/bench/quality_research.py``).

Fitted with L-BFGS on the cross-entropy with balanced class weights (the score that matters is
macro-F1) and an L2 penalty (``C``). An example may carry a weight: a star rating becomes its
label plus a part-neutral copy (``rating_targets``). ``predict_labels`` blends the adapter with the
out-of-the-box method (log-linear, weight ``mix_weight()``); labels the adapter never saw keep
their base probability.

A team adapter is guarded (``train(..., base=...)``, ``choose``): its ``C`` and its weight
against the out of the box are chosen by 5-fold
cross-validation on the team's own examples, scored by macro-F1 as if every label were equally
frequent; the weight stays 0 (the adapter is not used) unless the blend beats the out of the
box there. Before this, its weight was ``n / (n + PRIOR_EXAMPLES)``, 0.99 for a 1,700-review
import, so it replaced the out of the box whether or not it was better (nested cross-validation
in ``tests/bench/nested_cv.py``). The built-in seed adapters and teams with too few examples to
cross-validate keep that prior weight. Serialised as an ``.npz`` (no pickle).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable

from .label_features import FEATURE_VERSION
from .lexicon_match import INTENTS, LEXICON_FEATURE_NAMES, SENTIMENTS

PRIOR_EXAMPLES = 20
FORMAT = 3  # 3: a mixing weight chosen by inner cross-validation
C = 0.4  # inverse L2 strength without a choice (too few examples to cross-validate)
# Candidates for a team adapter, chosen on its own examples (ties: the first). 0.1 was never
# chosen in nested cross-validation (tests/bench/nested_cv.py) and costs a third of the time.
C_GRID = (0.4, 1.6)
WEIGHT_GRID = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # adapter vs out of the box; 0 = not used
INNER_FOLDS = 5
MIN_CHECKED = 20  # fewer texts than this cannot be cross-validated: prior weight
# A blend is used only when its inner cross-validated gain is evidence, not noise: at least this
# much macro-F1 over the out of the box, and no worse than it on all inner folds but one. Chosen
# before measuring (a gain smaller than one text in a fold is a tie), not tuned on any score.
MIN_GAIN = 0.01
FOLDS_MAY_LOSE = 1
SEED_C = 0.25  # the built-in adapter's ~100 examples per language (out-of-the-box scores use it)
# 2- and 4-star reviews sit between the classes: counted also as neutral with this weight, they
# teach the adapter where "neutral" begins (pt-BR nested CV, tests/bench/nested_cv.py: 0.709
# without them, 0.748 with them).
BETWEEN_WEIGHT = 0.3
MIN_DF = 3  # with at least MIN_DF_FROM examples; fewer keep every n-gram
MIN_DF_FROM = 100
LEX_SCALE = 0.3
MODEL_SCALE = {"pt": 0.0, "en": 0.1}
N_LEX = len(LEXICON_FEATURE_NAMES)


def _labels_of(task: str) -> tuple[str, ...]:
    if task not in ("sentiment", "intent"):
        raise ValueError("task must be 'sentiment' or 'intent'")
    return SENTIMENTS if task == "sentiment" else INTENTS


def _model_block(feats: dict, task: str):
    """The model pass for one task as a vector, or None when the model was not available."""
    import numpy as np

    model = feats.get("model")
    if not model:
        return None
    key = "sent" if task == "sentiment" else "intent"
    zero = model[key + "_zero"]
    return np.concatenate([np.asarray(model[key + "_vec"], dtype=np.float64), [zero[l] for l in _labels_of(task)]])


class Adapter:
    def __init__(self, task, labels, keep, idf, lex_mu, lex_sd, model_mu, model_sd, W, b, n_examples, weight=None):
        self.task, self.labels = task, list(labels)
        # Weight of this adapter against the out-of-the-box probabilities in ``blend``: chosen by
        # inner cross-validation for a team adapter (0 = not used), None = the prior n / (n + 20).
        self.weight = weight
        self.selection: dict = {}  # how ``weight`` and ``C`` were chosen (inner-CV macro-F1s)
        self.keep, self.idf = keep, idf  # sorted hashed n-gram ids -> columns, their idf
        self.lex_mu, self.lex_sd = lex_mu, lex_sd
        self.model_mu, self.model_sd = model_mu, model_sd  # empty when trained without the model
        self.W, self.b, self.n_examples = W, b, n_examples

    # -- inference -------------------------------------------------------------
    def _row(self, feats: dict):
        """One example's non-zero columns and their values, in the design matrix's layout."""
        import numpy as np

        n_cols = len(self.keep)
        idx = np.asarray(feats["hash"][0], dtype=np.int64)
        cnt = np.asarray(feats["hash"][1], dtype=np.float64)
        pos = np.searchsorted(self.keep, idx)
        pos = np.minimum(pos, max(n_cols - 1, 0))
        hit = (self.keep[pos] == idx) if n_cols else np.zeros(len(idx), bool)
        cols = pos[hit]
        vals = (1.0 + np.log(cnt[hit])) * self.idf[cols]
        norm = math.sqrt(float(vals @ vals)) or 1.0
        lex = (np.asarray(feats["lex"], dtype=np.float64) - self.lex_mu) / self.lex_sd * LEX_SCALE
        parts_i = [cols, n_cols + np.arange(N_LEX)]
        parts_v = [vals / norm, lex]
        n_model = len(self.model_mu)
        block = _model_block(feats, self.task) if n_model else None
        if block is not None and len(block) == n_model:
            scale = MODEL_SCALE.get(feats.get("lang", "pt"), 0.0)
            parts_i.append(n_cols + N_LEX + np.arange(n_model))
            parts_v.append((block - self.model_mu) / self.model_sd * scale)
        return np.concatenate(parts_i), np.concatenate(parts_v)

    def _matrix(self, examples_feats: list[dict]):
        """Sparse design matrix (scipy CSR) for feature dicts: training only."""
        import numpy as np
        from scipy import sparse

        data, indices, indptr = [], [], [0]
        for feats in examples_feats:
            cols, vals = self._row(feats)
            indices.append(cols)
            data.append(vals)
            indptr.append(indptr[-1] + len(cols))
        shape = (len(examples_feats), len(self.keep) + N_LEX + len(self.model_mu))
        return sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=shape)

    def predict_proba(self, feats: dict) -> dict[str, float]:
        """Without scipy: its first import (shared libraries loaded while holding the GIL) froze
        the desktop window's thread for about 100 ms on the first analysis of a process."""
        import numpy as np

        cols, vals = self._row(feats)
        z = vals @ self.W[cols] + self.b
        p = np.exp(z - z.max())
        p /= p.sum()
        return dict(zip(self.labels, p.tolist(), strict=True))

    def mix_weight(self) -> float:
        return self.weight if self.weight is not None else self.n_examples / (self.n_examples + PRIOR_EXAMPLES)

    def blend(self, base: dict[str, float], feats: dict) -> dict[str, float]:
        """Combine with the out-of-the-box probabilities ``base`` (all labels of the task)."""
        ad = self.predict_proba(feats)
        unseen = sum(p for l, p in base.items() if l not in ad)
        ext = {l: (ad[l] * (1 - unseen) if l in ad else base[l]) for l in base}
        w = self.mix_weight()
        if w <= 0:
            return dict(base)
        logp = {l: w * math.log(ext[l] + 1e-9) + (1 - w) * math.log(base[l] + 1e-9) for l in base}
        top = max(logp.values())
        e = {l: math.exp(v - top) for l, v in logp.items()}
        s = sum(e.values())
        return {l: v / s for l, v in e.items()}

    # -- persistence -----------------------------------------------------------
    def to_bytes(self) -> bytes:
        import numpy as np

        meta = {
            "format": FORMAT,
            "task": self.task,
            "labels": self.labels,
            "n_examples": self.n_examples,
            "weight": self.weight,
            "selection": self.selection,
        }
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            keep=self.keep.astype(np.int32),
            idf=self.idf.astype(np.float32),
            lex_mu=self.lex_mu,
            lex_sd=self.lex_sd,
            model_mu=self.model_mu,
            model_sd=self.model_sd,
            W=self.W.astype(np.float32),
            b=self.b,
            meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Adapter:
        """Load a saved adapter; ``ValueError`` for an older format (retrain to replace it)."""
        import numpy as np

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise ValueError("unsupported adapter format")
            adapter = cls(
                meta["task"],
                meta["labels"],
                z["keep"].astype(np.int64),
                z["idf"].astype(np.float64),
                z["lex_mu"],
                z["lex_sd"],
                z["model_mu"],
                z["model_sd"],
                z["W"].astype(np.float64),
                z["b"],
                meta["n_examples"],
                meta.get("weight"),
            )
            adapter.selection = meta.get("selection") or {}
            return adapter


def needs_refresh(feats: dict) -> bool:
    """Features stored by an older version: recompute the text parts before training."""
    return feats.get("v") != FEATURE_VERSION


def rating_targets(stars: int) -> list[tuple[str, float]]:
    """Sentiment training targets of a 1-5 star rating: ``[(label, weight), ...]``."""
    if stars not in (1, 2, 3, 4, 5):
        raise ValueError("a rating is 1 to 5 stars")
    main = "negative" if stars <= 2 else "neutral" if stars == 3 else "positive"
    return [(main, 1.0)] + ([("neutral", BETWEEN_WEIGHT)] if stars in (2, 4) else [])


def example_targets(label: str, stars: int | None = None) -> list[tuple[str, float]]:
    """What one labelled text teaches: its label, and for a 2- or 4-star rating that agrees with
    it, the part-neutral copy too."""
    if stars in (1, 2, 3, 4, 5) and rating_targets(stars)[0][0] == label:
        return rating_targets(stars)
    return [(label, 1.0)]


def train(examples, task: str, c: float | None = None, base: BaseFn | None = None) -> Adapter:
    """Fit on ``[(features, label), ...]`` or ``(features, label, weight)`` triples; ``task`` is
    "sentiment" or "intent".

    With ``base`` (the out-of-the-box probabilities of a feature dict, ``base_probabilities``)
    the team's adapter is guarded: ``C`` (unless ``c`` is given) and the adapter's weight
    against the out of the box are chosen by cross-validation on these examples only; the
    weight is 0 (the adapter is not used) unless blending beats the out of the box there.
    Without ``base`` (the built-in seed adapters): ``c`` or ``C``, and the prior weight
    ``n / (n + PRIOR_EXAMPLES)``.
    """
    examples = _usable(examples, task)
    if base is None:
        return _train_one(examples, task, C if c is None else c)
    choice = choose(examples, task, base, (c,) if c is not None else C_GRID)
    if choice is None:  # too few examples to check: the prior weight, as before
        return _train_one(examples, task, C if c is None else c)
    adapter = _train_one(examples, task, choice["c"])
    adapter.weight = choice["weight"]
    adapter.selection = choice
    return adapter


BaseFn = Callable[[dict], dict]


def _usable(examples, task: str) -> list[tuple[dict, str, float]]:
    allowed = _labels_of(task)
    examples = [(e[0], e[1], float(e[2]) if len(e) > 2 else 1.0) for e in examples]
    examples = [e for e in examples if e[1] in allowed and e[2] > 0]
    if not examples:
        raise ValueError("no usable examples")
    if any(needs_refresh(f) for f, _, _ in examples):
        raise ValueError("features from an older version: refresh them first")
    return examples


def _texts(examples) -> dict[int, tuple[dict, str]]:
    """One entry per distinct text (its feature dict): the label of its heaviest target."""
    out: dict[int, tuple[dict, str, float]] = {}  # id of the feature dict -> (dict, label, weight)
    for f, label, w in examples:
        if id(f) not in out or w > out[id(f)][2]:
            out[id(f)] = (f, label, w)
    return {k: (f, label) for k, (f, label, _w) in out.items()}


def _without_copies(examples):
    main = {k: label for k, (_f, label) in _texts(examples).items()}
    return [e for e in examples if main[id(e[0])] == e[1]]


def _folds(texts: dict[int, tuple[dict, str]], k: int) -> list[set[int]]:
    """``k`` folds of text ids, stratified by label, the same for the same examples."""
    import random

    by_label: dict[str, list[int]] = {}
    for key, (_f, label) in texts.items():
        by_label.setdefault(label, []).append(key)
    folds: list[set[int]] = [set() for _ in range(k)]
    i = 0
    for label in sorted(by_label):
        keys = sorted(by_label[label], key=lambda key: texts[key][0]["hash"])  # by content, not by id
        random.Random(label).shuffle(keys)
        for key in keys:
            folds[i % k].add(key)
            i += 1
    return folds


def macro_f1(gold: list[str], pred: list[str], balanced: bool = False) -> float:
    """Macro-F1 over the labels present in ``gold``; ``balanced`` weighs every text by one over
    the size of its gold class, i.e. scores as if each label were equally frequent."""
    labels = sorted(set(gold))
    size = {lab: sum(g == lab for g in gold) for lab in labels}
    tp = dict.fromkeys(labels, 0.0)
    fp = dict.fromkeys(labels, 0.0)
    fn = dict.fromkeys(labels, 0.0)
    for g, p in zip(gold, pred, strict=True):
        w = 1 / size[g] if balanced else 1.0
        if g == p:
            tp[g] += w
        else:
            fn[g] += w
            if p in fp:
                fp[p] += w
    scores = [2 * tp[lab] / (2 * tp[lab] + fp[lab] + fn[lab]) if tp[lab] else 0.0 for lab in labels]
    return sum(scores) / len(scores) if scores else 0.0


def _blend_labels(ad_probs: list[dict], bases: list[dict], w: float) -> list[str]:
    out = []
    for ad, base in zip(ad_probs, bases, strict=True):
        unseen = sum(p for l, p in base.items() if l not in ad)
        logp = {
            l: w * math.log((ad[l] * (1 - unseen) if l in ad else base[l]) + 1e-9) + (1 - w) * math.log(base[l] + 1e-9)
            for l in base
        }
        out.append(max(logp, key=logp.get))
    return out


def choose(examples, task: str, base: BaseFn, c_grid=None) -> dict | None:
    """Settings of a team adapter by ``INNER_FOLDS``-fold cross-validation on its own examples:
    every fold is scored by an adapter that did not see it, blended with the out of the box at
    each weight of ``WEIGHT_GRID``. Returns the best ``{"c", "weight", "score", "base"}`` (the
    adapter must beat the out of the box by ``MIN_GAIN`` and on every inner fold but
    ``FOLDS_MAY_LOSE`` to be used; among equal blends, the larger weight), or None
    when there are too few examples to cross-validate (fewer than ``MIN_CHECKED`` texts, or a
    label with fewer texts than folds)."""
    examples = _usable(examples, task)
    texts = _texts(examples)
    counts: dict[str, int] = {}
    for _f, label in texts.values():
        counts[label] = counts.get(label, 0) + 1
    if len(texts) < MIN_CHECKED or len(counts) < 2 or min(counts.values()) < INNER_FOLDS:
        return None
    folds = _folds(texts, INNER_FOLDS)
    order = [key for fold in folds for key in sorted(fold)]
    gold = [texts[key][1] for key in order]
    bases = [base(texts[key][0]) for key in order]
    # Scored as if every label were equally frequent: the label mix of imported data (a review
    # pool is mostly 5-star) says nothing about the mix of the conversations to come.
    base_labels = [max(b, key=b.get) for b in bases]
    base_score = macro_f1(gold, base_labels, balanced=True)
    spans, start = [], 0
    for fold in folds:
        spans.append((start, start + len(fold)))
        start += len(fold)

    base_folds = [macro_f1(gold[a:b], base_labels[a:b], balanced=True) for a, b in spans]

    def folds_lost(labels: list[str]) -> int:
        scores = [macro_f1(gold[a:b], labels[a:b], balanced=True) for a, b in spans]
        return sum(s < b - 1e-9 for s, b in zip(scores, base_folds, strict=True))

    best = {"c": None, "weight": 0.0, "score": base_score, "base": base_score}
    for c in c_grid or C_GRID:
        probs: dict[int, dict] = {}
        for fold in folds:
            ad = _train_one([e for e in examples if id(e[0]) not in fold], task, c)
            for key in fold:
                probs[key] = ad.predict_proba(texts[key][0])
        ad_probs = [probs[key] for key in order]
        for w in WEIGHT_GRID[1:]:
            labels = _blend_labels(ad_probs, bases, w)
            score = macro_f1(gold, labels, balanced=True)
            if score < base_score + MIN_GAIN - 1e-9 or folds_lost(labels) > FOLDS_MAY_LOSE:
                continue  # not evidence that the team's examples help
            # A tie between blends trusts the team more.
            if score > best["score"] + 1e-9 or (best["weight"] and score > best["score"] - 1e-9 and w > best["weight"]):
                best = {"c": c, "weight": w, "score": score, "base": base_score}
    if best["c"] is None:  # the out of the box wins: keep a fitted adapter, with weight 0
        best["c"] = C
    best["score"], best["base"] = round(best["score"], 4), round(best["base"], 4)
    return best


def base_probabilities(feats: dict, task: str, seed=None) -> dict[str, float]:
    """The out-of-the-box probabilities of ``task`` for a feature dict, as ``predict_from_features``
    computes them before the team's adapter: lexicon rules, the zero-shot scores when the
    features hold a model pass, and the built-in ``seed`` adapters (by language)."""
    from .labels import _adapter_for, base_intent, base_sentiment

    sent = base_sentiment(feats)
    probs = sent if task == "sentiment" else base_intent(feats, sent)
    if seed is not None and feats.get("lang", "pt") in seed:
        seed = seed[feats.get("lang", "pt")]
    ad = _adapter_for(seed, task)
    return ad.blend(probs, feats) if ad is not None else probs


def _train_one(examples, task: str, c: float, balanced: bool = True) -> Adapter:
    import numpy as np

    allowed = _labels_of(task)
    feats = [f for f, _, _ in examples]
    labels = [l for l in allowed if any(lab == l for _, lab, _ in examples)]
    y = np.array([labels.index(l) for _, l, _ in examples])
    weights = np.array([w for _, _, w in examples])
    # A text given twice (a rating's part-neutral copy) counts once in the vocabulary and scales.
    texts = list({id(f): f for f in feats}.values())
    n = len(texts)

    df: dict[int, int] = {}
    for f in texts:
        for i in f["hash"][0]:
            df[i] = df.get(i, 0) + 1
    min_df = MIN_DF if n >= MIN_DF_FROM else 1
    keep = np.array(sorted(i for i, count in df.items() if count >= min_df), dtype=np.int64)
    idf = np.array([math.log((1 + n) / (1 + df[i])) + 1.0 for i in keep.tolist()])

    lex = np.array([f["lex"] for f in texts], dtype=np.float64)
    blocks = [_model_block(f, task) for f in texts]
    with_model = [b for b in blocks if b is not None]
    if with_model and any(MODEL_SCALE.get(f.get("lang", "pt"), 0.0) for f in texts):
        m = np.vstack(with_model)
        model_mu, model_sd = m.mean(0), m.std(0) + 1e-3
    else:
        model_mu = model_sd = np.zeros(0)
    k = len(labels)
    adapter = Adapter(
        task, labels, keep, idf, lex.mean(0), lex.std(0) + 1e-3, model_mu, model_sd, np.zeros((0, k)), np.zeros(k), n
    )
    X = adapter._matrix(feats)
    mass = np.bincount(y, weights=weights, minlength=k)
    sw = weights * (weights.sum() / (k * mass))[y] if balanced else weights  # balanced class weights
    if k == 1:
        adapter.W, adapter.b = np.zeros((X.shape[1], 1)), np.zeros(1)
    else:
        adapter.W, adapter.b = _fit(X, y, sw, k, c)
    return adapter


def _fit(X, y, sw, k, C):
    """Minimise sum(sw * cross-entropy) + ||W||^2 / (2C) with L-BFGS (bias unpenalised)."""
    import numpy as np
    from scipy.optimize import minimize

    d = X.shape[1]
    Y = np.eye(k)[y]
    XT = X.T.tocsr()

    def loss_grad(theta):
        W = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        z = X @ W + b
        z -= z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        loss = -(sw * (Y * logp).sum(1)).sum() + (W * W).sum() / (2 * C)
        G = (np.exp(logp) - Y) * sw[:, None]
        gW = XT @ G + W / C
        return loss, np.concatenate([gW.ravel(), G.sum(0)])

    res = minimize(loss_grad, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[: d * k].reshape(d, k), res.x[d * k :]
