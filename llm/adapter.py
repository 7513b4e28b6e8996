"""The team's label adapter: a small multinomial logistic regression (numpy only).

It learns from corrected labels. Each example is ``(features, label)`` where ``features`` is
the dict from ``llm.label_features.features`` stored when the correction was saved, so
training never runs the model. Inputs: the lexicon counts, the out-of-the-box label
log-probabilities, the model's zero-shot scores and logit "embedding" (when the model was
available) and hashed word/char n-grams. Classes are weighted to balance them (the score
that matters is macro-F1). Serialised as an ``.npz`` (no pickle).

``predict_labels`` blends the adapter with the out-of-the-box method: labels the adapter
never saw keep their base probability, and the adapter's weight grows with its number of
examples (``n / (n + PRIOR_EXAMPLES)``).
"""

from __future__ import annotations

import io
import json
import math

from .label_features import HASH_DIM
from .lexicon_match import INTENTS, LEXICON_FEATURE_NAMES, SENTIMENTS, lexicon_features

PRIOR_EXAMPLES = 20
FORMAT = 1


def base_probs(feats: dict, task: str) -> dict[str, float]:
    """Out-of-the-box probabilities for one task (lexicon rules + zero-shot model)."""
    from .labels import base_intent, base_sentiment  # circular-safe: labels imports us lazily

    sent = base_sentiment(feats)
    return sent if task == "sentiment" else base_intent(feats, sent)


def _dense(feats: dict, task: str):
    """Dense part (standardised later) of one example."""
    import numpy as np

    labels = SENTIMENTS if task == "sentiment" else INTENTS
    lex = feats.get("lex") or lexicon_features(feats.get("text", ""), feats.get("lang", "pt"))
    base = base_probs(feats, task)
    parts = [np.asarray(lex, dtype=np.float64), np.log(np.array([base[l] for l in labels]) + 1e-6)]
    model = feats.get("model")
    key = "sent" if task == "sentiment" else "intent"
    if model:
        zero = model[key + "_zero"]
        parts += [np.array([zero[l] for l in labels]), np.asarray(model[key + "_vec"]), [1.0]]
    return np.concatenate(parts), bool(model)


def _hashed(feats: dict, scale: float):
    import numpy as np

    v = np.zeros(HASH_DIM)
    idx, val = feats["hash"]
    v[np.asarray(idx, dtype=np.int64)] = np.asarray(val) * scale
    return v


class Adapter:
    HASH_SCALE = 3.0
    MODEL_SCALE = 0.3  # the model's logit vector is wide and noisy: weight it down

    def __init__(self, task, labels, mu, sd, W, b, n_examples, with_model, dense_dim):
        self.task, self.labels = task, list(labels)
        self.mu, self.sd, self.W, self.b = mu, sd, W, b
        self.n_examples, self.with_model, self.dense_dim = n_examples, with_model, dense_dim

    # -- inference -------------------------------------------------------------
    def _row(self, feats: dict):
        import numpy as np

        dense, has_model = _dense(feats, self.task)
        if self.with_model and not has_model:  # trained with the model, asked without
            dense = np.concatenate([dense, self.mu[len(dense) : self.dense_dim]])
        elif has_model and not self.with_model:
            dense = dense[: self.dense_dim]
        dense = (dense - self.mu) / self.sd
        return np.concatenate([dense, _hashed(feats, self.HASH_SCALE)])

    def predict_proba(self, feats: dict) -> dict[str, float]:
        import numpy as np

        z = self._row(feats) @ self.W + self.b
        p = np.exp(z - z.max())
        p /= p.sum()
        return dict(zip(self.labels, p.tolist(), strict=False))

    def blend(self, base: dict[str, float], feats: dict) -> dict[str, float]:
        """Combine with the out-of-the-box probabilities ``base`` (all labels of the task)."""
        ad = self.predict_proba(feats)
        unseen = sum(p for l, p in base.items() if l not in ad)
        ext = {l: (ad[l] * (1 - unseen) if l in ad else base[l]) for l in base}
        w = self.n_examples / (self.n_examples + PRIOR_EXAMPLES)
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
            "with_model": self.with_model,
            "dense_dim": self.dense_dim,
        }
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            mu=self.mu,
            sd=self.sd,
            W=self.W.astype(np.float32),
            b=self.b,
            meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Adapter:
        import numpy as np

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise ValueError("unsupported adapter format")
            return cls(
                meta["task"],
                meta["labels"],
                z["mu"],
                z["sd"],
                z["W"].astype(np.float64),
                z["b"],
                meta["n_examples"],
                meta["with_model"],
                meta["dense_dim"],
            )


def train(examples, task: str, l2: float = 10.0, steps: int = 300) -> Adapter:
    """Fit on ``[(features, label), ...]``; ``task`` is "sentiment" or "intent"."""
    import numpy as np

    if task not in ("sentiment", "intent"):
        raise ValueError("task must be 'sentiment' or 'intent'")
    allowed = SENTIMENTS if task == "sentiment" else INTENTS
    examples = [(f, l) for f, l in examples if l in allowed]
    if not examples:
        raise ValueError("no usable examples")
    labels = [l for l in allowed if any(lab == l for _, lab in examples)]
    rows = [_dense(f, task) for f, _ in examples]
    with_model = sum(has for _, has in rows) * 2 >= len(rows)
    dim = max(len(d) for d, has in rows if has == with_model)
    dense = np.zeros((len(rows), dim))
    filled = np.zeros(len(rows), bool)
    for i, (d, _has) in enumerate(rows):
        if len(d) >= dim:
            dense[i], filled[i] = d[:dim], True
        else:
            dense[i, : len(d)] = d
    mu = dense[filled].mean(0)
    for i in np.where(~filled)[0]:  # missing model part: impute the mean
        n = len(rows[i][0])
        dense[i, n:] = mu[n:]
    sd = dense.std(0) + 1e-3
    k_labels = len(allowed)
    vec_start = len(LEXICON_FEATURE_NAMES) + 2 * k_labels  # lex | base | zero-shot | vec
    if with_model and dim > vec_start:
        sd[vec_start : dim - 1] /= Adapter.MODEL_SCALE  # shrink the 768 logit dims
    X = np.hstack([(dense - mu) / sd, np.vstack([_hashed(f, Adapter.HASH_SCALE) for f, _ in examples])]).astype(
        np.float32
    )  # float32: half the memory traffic per step
    y = np.array([labels.index(l) for _, l in examples])
    k, n = len(labels), len(y)
    Y = np.eye(k)[y]
    counts = np.bincount(y, minlength=k).astype(float)
    sw = (n / (k * counts))[y][:, None]  # balanced class weights
    W = np.zeros((X.shape[1], k))
    b = np.log(counts / n)
    if k > 1:
        W, b = _adam(X, Y, sw, W, b, l2, steps)
    return Adapter(task, labels, mu, sd, W, b, n, with_model, dim)


def _adam(X, Y, sw, W, b, l2, steps, lr=0.05):
    import numpy as np

    mW = np.zeros_like(W)
    vW = np.zeros_like(W)
    mb = np.zeros_like(b)
    vb = np.zeros_like(b)
    norm = sw.sum()
    for t in range(1, steps + 1):
        z = (X @ W.astype(np.float32)).astype(np.float64) + b
        z -= z.max(1, keepdims=True)
        P = np.exp(z)
        P /= P.sum(1, keepdims=True)
        G = (P - Y) * sw / norm
        gW = (X.T @ G.astype(np.float32)).astype(np.float64) + l2 * W / norm
        gb = G.sum(0)
        for p, g, m, v in ((W, gW, mW, vW), (b, gb, mb, vb)):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return W, b
