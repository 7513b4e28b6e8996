"""Label quality research bench: every label method on ../shared/eval, side by side.

    python tests/bench/quality_research.py [--model PATH] [--limit N] [--cache FILE]

Prints macro-F1 per method for pt sentiment, pt intent, en sentiment, en intent (BANKING77 +
CLINC150), ms per item, and the learning setting (adapter trained on the Olist pool + part
of the dev file, scored on the held-out part, ``--folds`` K, 5 by default; the adapter's settings
are chosen on its training rows as the product does; ``tests/bench/nested_cv.py`` has the nested
protocol with the spread over folds). Model outputs can be cached in a
JSONL file (``--cache``) so re-runs only recompute the cheap parts. Not a timed test.

Intent scoring: ``mapped_label`` is gold, a prediction equal to ``alt_label`` counts as
correct, rows with empty ``mapped_label`` are skipped, macro-F1 over labels in mapped_label.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from llm import adapter as adapter_mod  # noqa: E402
from llm import seed_adapter  # noqa: E402
from llm.label_features import features as compute_features  # noqa: E402
from llm.label_features import text_features  # noqa: E402
from llm.labels import predict_from_features, predict_labels  # noqa: E402
from llm.lexicon_match import SENTIMENTS  # noqa: E402

EVAL = os.path.join(os.path.dirname(ROOT), "shared", "eval")
DEFAULT_MODEL = os.path.join(os.path.dirname(ROOT), "models-scratch", "SmolLM2-135M-Instruct.Q4_1.gguf")


# -- data ------------------------------------------------------------------------------
def load_csv(name):
    with open(os.path.join(EVAL, name), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def subset(rows, limit, key):
    """Stratified first-N-per-label subset (deterministic) for quick iterations."""
    if not limit:
        return rows
    rng = random.Random(0)
    rows = rows[:]
    rng.shuffle(rows)
    per, out = {}, []
    for r in rows:
        lab = r[key]
        if per.get(lab, 0) < limit:
            per[lab] = per.get(lab, 0) + 1
            out.append(r)
    return out


# -- scoring ---------------------------------------------------------------------------
def macro_f1(gold, pred, labels):
    scores = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=False))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred, strict=False))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=False))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def score_sentiment(rows, preds):
    return macro_f1([r["label"] for r in rows], preds, SENTIMENTS)


def score_intent(rows, preds):
    gold = [
        (r["alt_label"] if p == r.get("alt_label") else r["mapped_label"]) for r, p in zip(rows, preds, strict=False)
    ]
    labels = sorted({r["mapped_label"] for r in rows})
    return macro_f1(gold, preds, labels)


# -- features with a model-output cache ------------------------------------------------
class FeatureSource:
    def __init__(self, llama, cache_path):
        self.llama, self.cache_path, self.cache = llama, cache_path, {}
        self.calib = None
        if cache_path and os.path.exists(cache_path):
            with open(cache_path, encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    self.cache[(d["lang"], d["text"])] = d["model"]

    def get(self, text, lang, with_model=True):
        feats = text_features(text, lang)
        if not with_model or self.llama is None and (lang, text) not in self.cache:
            return feats
        model = self.cache.get((lang, text))
        if model is None:
            model = compute_features(text, lang, self.llama)["model"]
            self.cache[(lang, text)] = model
            if self.cache_path:
                with open(self.cache_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"lang": lang, "text": text, "model": model}) + "\n")
        if "calib" not in model:
            model = dict(model, calib=self._calib())
        feats["model"] = model
        return feats

    def _calib(self):
        if self.calib is None:
            from llm.label_features import model_pass

            self.calib = model_pass(self.llama, "N/A")["calib"]
        return self.calib


def argmax(d):
    return max(d, key=d.get)


def zero_shot(feats, key):
    m = feats["model"]
    return argmax({l: v - m["calib"][key][l] for l, v in m[key].items()})


# -- the bench -------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--limit", type=int, default=0, help="rows per label (0 = all)")
    ap.add_argument("--cache", default="", help="JSONL cache of model outputs")
    ap.add_argument("--timing-items", type=int, default=40)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--folds", type=int, default=5, help="K for the learning cross-validation")
    ap.add_argument("--skip", default="", help="comma list: learning,timing")
    args = ap.parse_args()

    llama = None
    if not args.no_model:
        from llama_cpp import Llama

        llama = Llama(
            model_path=args.model, n_ctx=2048, n_threads=args.threads, n_threads_batch=args.threads, verbose=False
        )
    src = FeatureSource(llama, args.cache)
    has_model = llama is not None

    sets = {
        "pt sentiment": ("pt", "sentiment", subset(load_csv("sentiment_ptbr_dev.csv"), args.limit, "label")),
        "pt intent": (
            "pt",
            "intent",
            subset([r for r in load_csv("intent_ptbr_olist_dev.csv") if r["mapped_label"]], args.limit, "label"),
        ),
        "en sentiment": ("en", "sentiment", subset(load_csv("sentiment_en_dev.csv"), args.limit, "label")),
        "en intent": (
            "en",
            "intent",
            subset(
                [
                    r
                    for r in load_csv("intent_en_banking77_dev.csv") + load_csv("intent_en_clinc150_dev.csv")
                    if r["mapped_label"]
                ],
                args.limit,
                "mapped_label",
            ),
        ),
    }
    seeds = seed_adapter.seed_rows()

    t0 = time.time()
    feats = {name: [src.get(r["text"], lang, has_model) for r in rows] for name, (lang, _task, rows) in sets.items()}
    seed = seed_adapter.train_from([src.get(text, lang, has_model) for text, lang, _s, _i in seeds])
    seed_text_only = seed_adapter.train_from([src.get(text, lang, False) for text, lang, _s, _i in seeds])
    print(f"features ready in {time.time() - t0:.0f} s", file=sys.stderr)

    def score(name, preds):
        _lang, task, rows = sets[name]
        return (score_sentiment if task == "sentiment" else score_intent)(rows, preds)

    def pick(pred, task):
        return pred["sentiment"]["label"] if task == "sentiment" else pred["intent"]["label"]

    table = {}
    # 1. lexicon only (the llama=None path without the built-in adapter), then with it
    table["lexicon rules (no model)"] = {
        n: score(n, [pick(predict_from_features(dict(f, model=None)), sets[n][1]) for f in feats[n]]) for n in sets
    }
    table["lexicon + built-in adapter (no model)"] = {
        n: score(
            n, [pick(predict_from_features(dict(f, model=None), None, seed_text_only), sets[n][1]) for f in feats[n]]
        )
        for n in sets
    }
    if has_model:
        table["model zero-shot logprob (calibrated)"] = {
            n: score(n, [zero_shot(f, "sent_zero" if sets[n][1] == "sentiment" else "intent_zero") for f in feats[n]])
            for n in sets
        }
        table["lexicon x zero-shot"] = {
            n: score(n, [pick(predict_from_features(f), sets[n][1]) for f in feats[n]]) for n in sets
        }
        table["DEFAULT: lexicon x zero-shot + built-in adapter"] = {
            n: score(n, [pick(predict_from_features(f, None, seed), sets[n][1]) for f in feats[n]]) for n in sets
        }

    print_table("Out of the box (no training on eval data), macro-F1", table, sets)

    # 3. learning from the team: pool + (K-1)/K dev -> held-out 1/K (K-fold)
    if "learning" not in args.skip:
        learning(src, has_model, args.limit, seed if has_model else seed_text_only, args.folds)

    # 4. latency of the real function
    if "timing" not in args.skip:
        timing(sets, llama, args.timing_items)


def print_table(title, table, sets):
    names = list(sets)
    print(f"\n{title}")
    print(f"{'method':42s}" + "".join(f"{n:>14s}" for n in names))
    for method, scores in table.items():
        print(f"{method:42s}" + "".join(f"{scores[n]:14.3f}" if n in scores else f"{'-':>14s}" for n in names))


def learning(src, has_model, limit, seed, folds=5):
    pool = load_csv("olist_ptbr_pool.csv")
    sdev = subset(load_csv("sentiment_ptbr_dev.csv"), limit, "label")
    idev = subset([r for r in load_csv("intent_ptbr_olist_dev.csv") if r["mapped_label"]], limit, "label")
    en_sdev = subset(load_csv("sentiment_en_dev.csv"), limit, "label")
    en_idev = subset(
        [
            r
            for r in load_csv("intent_en_banking77_dev.csv") + load_csv("intent_en_clinc150_dev.csv")
            if r["mapped_label"]
        ],
        limit,
        "mapped_label",
    )
    f = lambda rows, lang: [src.get(r["text"], lang, has_model) for r in rows]  # noqa: E731
    pool_f = f(pool, "pt")
    # As `conversa eval --train` reads the pool: its stars also teach part-neutral copies.
    pool_sent = [
        (x, label, w)
        for x, r in zip(pool_f, pool, strict=False)
        if r["sentiment"]
        for label, w in adapter_mod.example_targets(r["sentiment"], int(r["stars"]))
    ]
    pool_int = [(x, r["mapped_label"]) for x, r in zip(pool_f, pool, strict=False) if r["mapped_label"]]
    results = {}

    def base_of(task):  # as the product trains: checked against the out of the box (llm.adapter.choose)
        return lambda feats: adapter_mod.base_probabilities(feats, task, seed)

    def cv(rows, feats_, task, extra, lang_name, k=folds):
        idx = list(range(len(rows)))
        random.Random(1).shuffle(idx)
        preds = [None] * len(rows)
        times = []
        for fold in range(k):
            test = set(idx[fold::k])
            key = "label" if task == "sentiment" else "mapped_label"
            train = extra + [(feats_[i], rows[i][key]) for i in idx if i not in test]
            t = time.time()
            ad = adapter_mod.train(train, task, base=base_of(task))
            times.append((time.time() - t, len(train)))
            for i in test:
                p = predict_from_features(feats_[i], {task: ad}, seed)
                preds[i] = p["sentiment"]["label"] if task == "sentiment" else p["intent"]["label"]
        sc = score_sentiment(rows, preds) if task == "sentiment" else score_intent(rows, preds)
        results[lang_name] = (sc, times)

    sdev_f, idev_f = f(sdev, "pt"), f(idev, "pt")
    cv(sdev, sdev_f, "sentiment", pool_sent, f"pt sentiment: pool + {folds - 1}/{folds} dev")
    cv(idev, idev_f, "intent", pool_int, f"pt intent: pool + {folds - 1}/{folds} dev")
    # strictest: pool only, all of dev held out
    for task, rows, ff, extra in (("sentiment", sdev, sdev_f, pool_sent), ("intent", idev, idev_f, pool_int)):
        ad = adapter_mod.train(extra, task, base=base_of(task))
        preds = [predict_from_features(x, {task: ad}, seed)[task]["label"] for x in ff]
        sc = score_sentiment(rows, preds) if task == "sentiment" else score_intent(rows, preds)
        results[f"pt {task}: pool only, all dev held out"] = (sc, [])
    cv(en_sdev, f(en_sdev, "en"), "sentiment", [], f"en sentiment: {folds - 1}/{folds} dev")
    cv(en_idev, f(en_idev, "en"), "intent", [], f"en intent: {folds - 1}/{folds} dev")

    # training time at 1,400 examples
    t = time.time()
    ad = adapter_mod.train(pool_sent, "sentiment")
    blob = ad.to_bytes()
    adapter_mod.Adapter.from_bytes(blob)
    train_s = time.time() - t
    print(f"\nLearning from corrections (adapter, {folds}-fold; model features: {has_model})")
    for name, (sc, _times) in results.items():
        print(f"  {name:44s} macro-F1 {sc:.3f}")
    print(f"  adapter train on {ad.n_examples} examples: {train_s:.1f} s, serialised {len(blob) // 1024} KiB")


def timing(sets, llama, n):
    print(f"\nLatency of predict_labels (first {n} items per set, live, no cache)")
    for name, (lang, _task, rows) in sets.items():
        texts = [r["text"] for r in rows[:n]]
        t = time.time()
        for text in texts:
            predict_labels(text, lang)
        lex_ms = (time.time() - t) * 1000 / len(texts)
        line = f"  {name:14s} lexicon {lex_ms:6.1f} ms/item"
        if llama is not None:
            t = time.time()
            for text in texts:
                predict_labels(text, lang, llama)
            line += f"   with model {(time.time() - t) * 1000 / len(texts):6.1f} ms/item"
        print(line)


if __name__ == "__main__":
    main()
