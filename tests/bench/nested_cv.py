"""Nested cross-validation of learning from the team, on ../shared/eval (pt-BR, Olist).

    python tests/bench/nested_cv.py [--task sentiment|intent|both] [--outer 5] [--repeats 3]

The question: does training the team adapter on the Olist pool plus part of a dev file lift
macro-F1 on dev rows it never saw, against out of the box? Outer folds (stratified, ``--outer``
K, ``--repeats`` shuffles) score; each method trains on the pool + the other dev folds only.
The guarded method (the product's ``llm.adapter.train`` with ``base``) chooses its settings
(C, weight against the out of the box) on inner folds of that training
set only, so nothing is ever fitted on the rows that score it. Fixed-setting rows are
diagnostics (each a candidate cause of the reviewer's drop), not choices.

Text features only (lexicon counts and n-grams; the ``--no-model`` path): for pt-BR the model
pass adds only its zero-shot term (``MODEL_SCALE["pt"]`` is 0). Prints, per method: the mean
± sd of macro-F1 over outer folds, the worst fold, the difference to out of the box (mean ± sd,
worst, folds where it is negative), the macro-F1 of each repeat's pooled out-of-fold
predictions (every dev row scored once: a held-out set of the dev file's size) and its worst
difference, and with ``--per-fold`` every fold. Not a timed test.

Then, for a held-out set that is not these rows: a paired bootstrap of each repeat's pooled
predictions (``--bootstrap`` resamples of as many rows as the dev file, and of one outer fold's
size) estimates how often learning would lower macro-F1 on a new sample of that size.
"""

from __future__ import annotations

import argparse
import csv
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # BLAS threads on a shared 2-core box: 6x slower fits
os.environ.setdefault("OMP_NUM_THREADS", "1")
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from llm import adapter as adapter_mod  # noqa: E402
from llm import seed_adapter  # noqa: E402
from llm.label_features import text_features  # noqa: E402

# ../shared/eval from a checkout (../../shared/eval from a worktree under wt/), or $CONVERSA_EVAL
EVAL = os.environ.get("CONVERSA_EVAL") or next(
    (
        p
        for p in (os.path.join(ROOT, "..", "shared", "eval"), os.path.join(ROOT, "..", "..", "shared", "eval"))
        if os.path.isdir(p)
    ),
    os.path.join(ROOT, "..", "shared", "eval"),
)


def load_csv(name):
    with open(os.path.join(EVAL, name), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def score(rows, preds, task):
    """Macro-F1 as `conversa eval` scores it: intent's alt_label counts as correct."""
    if task == "sentiment":
        return adapter_mod.macro_f1([r["gold"] for r in rows], preds)
    eff = [r["gold"] if p in (r["gold"], r["alt"]) else p for r, p in zip(rows, preds, strict=True)]
    return adapter_mod.macro_f1([r["gold"] for r in rows], eff)


def data(task):
    """(dev rows, pool rows); each row {text, gold, alt, stars, feats}."""
    pool = load_csv("olist_ptbr_pool.csv")
    if task == "sentiment":
        dev = [
            {"text": r["text"], "gold": r["label"], "alt": "", "stars": None}
            for r in load_csv("sentiment_ptbr_dev.csv")
        ]
        pool = [
            {"text": r["text"], "gold": r["sentiment"], "alt": "", "stars": int(r["stars"])}
            for r in pool
            if r["sentiment"]
        ]
    else:
        dev = [
            {"text": r["text"], "gold": r["mapped_label"], "alt": r["alt_label"], "stars": None}
            for r in load_csv("intent_ptbr_olist_dev.csv")
            if r["mapped_label"]
        ]
        pool = [
            {"text": r["text"], "gold": r["mapped_label"], "alt": r["alt_label"], "stars": None}
            for r in pool
            if r["mapped_label"]
        ]
    for r in dev + pool:
        r["feats"] = text_features(r["text"], "pt")
    return dev, pool


def targets(rows, task):
    """What `conversa eval --train` / `labels import` teach: a 2-/4-star rating also part neutral."""
    out = []
    for r in rows:
        stars = r["stars"] if task == "sentiment" else None
        out += [(r["feats"], label, w) for label, w in adapter_mod.example_targets(r["gold"], stars)]
    return out


def outer_folds(rows, k, seed):
    by = {}
    for i, r in enumerate(rows):
        by.setdefault(r["gold"], []).append(i)
    rng = random.Random(seed)
    folds = [[] for _ in range(k)]
    j = 0
    for label in sorted(by):
        idx = by[label][:]
        rng.shuffle(idx)
        for i in idx:
            folds[j % k].append(i)
            j += 1
    return folds


# -- methods: (name, which training rows, fit) ; fit(examples, task, base) -> predict(feats) -> label
def _argmax(d):
    return max(d, key=d.get)


def fixed(c=adapter_mod.C, copies=True, balanced=True, weight=None):
    def fit(examples, task, base):
        ex = examples if copies else adapter_mod._without_copies(examples)
        ad = adapter_mod._train_one(ex, task, c, balanced)
        ad.weight = weight
        return lambda f: _argmax(ad.blend(base(f), f))

    return fit


def guarded(examples, task, base):
    ad = adapter_mod.train(examples, task, base=base)
    guarded.choices.append(ad.selection)
    return lambda f: _argmax(ad.blend(base(f), f))


guarded.choices = []


def out_of_the_box(examples, task, base):
    return lambda f: _argmax(base(f))


METHODS = [
    ("out of the box (lexicon + built-in adapter)", "none", out_of_the_box),
    ("main: C 0.4, 2/4-star neutral copies 0.3, weight n/(n+20)", "pool+dev", fixed()),
    ("  same, no neutral copies", "pool+dev", fixed(copies=False)),
    ("  same, C 0.1", "pool+dev", fixed(c=0.1)),
    ("  same, C 1.6", "pool+dev", fixed(c=1.6)),
    ("  same, no class weighting", "pool+dev", fixed(balanced=False)),
    ("  same, team weight 0.5 (built-in keeps half)", "pool+dev", fixed(weight=0.5)),
    ("  same, trained on the pool only", "pool", fixed()),
    ("  same, trained on the dev folds only", "dev", fixed()),
    ("guarded: C and weight chosen on inner folds", "pool+dev", guarded),
    ("  guarded, trained on the pool only", "pool", guarded),
]


assert len({name for name, _, _ in METHODS}) == len(METHODS), "method names key the results"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="both", choices=["sentiment", "intent", "both"])
    ap.add_argument("--outer", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="", help="comma list of method numbers (0 = out of the box)")
    ap.add_argument("--per-fold", action="store_true")
    ap.add_argument(
        "--shuffle-seed", type=int, default=0,
        help="first seed of the outer folds' shuffles (repeat r uses seed + r): other seeds draw folds not seen before",
    )
    ap.add_argument(
        "--bootstrap", type=int, default=0,
        help="paired bootstrap resamples per repeat (0 = none): P(learning lowers macro-F1) on new held-out samples",
    )
    ap.add_argument("--lift", type=float, default=0.05, help="with --bootstrap: also P(Δ ≥ this lift)")
    ap.add_argument(
        "--score-on",
        default="dev",
        choices=["dev", "pool"],
        help="which rows the outer folds score: the balanced dev file, or the pool (mostly 5-star)",
    )
    args = ap.parse_args()
    seed = seed_adapter.for_model(None)
    methods = [m for i, m in enumerate(METHODS) if not args.only or str(i) in args.only.split(",") or i == 0]
    for task in ("sentiment", "intent") if args.task == "both" else (args.task,):
        run(task, seed, methods, args)


def run(task, seed, methods, args):
    t0 = time.time()
    dev, pool = data(task)
    if args.score_on == "pool":  # score the pool's own mix of labels; the dev file always trains
        dev, pool = pool, dev
    base_cache = {}

    def base(f):
        key = id(f)
        if key not in base_cache:
            base_cache[key] = adapter_mod.base_probabilities(f, task, seed)
        return base_cache[key]

    per_fold = {name: [] for name, _, _ in methods}
    pooled = {name: [] for name, _, _ in methods}
    repeat_preds = {name: [] for name, _, _ in methods}
    guarded.choices = []
    for rep in range(args.repeats):
        folds = outer_folds(dev, args.outer, args.shuffle_seed + rep)
        preds = {name: [None] * len(dev) for name, _, _ in methods}
        for test in folds:
            held = set(test)
            dev_train = [r for i, r in enumerate(dev) if i not in held]
            rows = [dev[i] for i in test]
            for name, which, fit in methods:
                train_rows = {"none": [], "pool": pool, "dev": dev_train, "pool+dev": pool + dev_train}[which]
                predict = fit(targets(train_rows, task), task, base)
                p = [predict(r["feats"]) for r in rows]
                per_fold[name].append(score(rows, p, task))
                for i, x in zip(test, p, strict=True):
                    preds[name][i] = x
        for name in preds:
            pooled[name].append(score(dev, preds[name], task))
            repeat_preds[name].append(preds[name])
    n_folds = len(next(iter(per_fold.values())))
    print(
        f"\n{task} (pt-BR): outer {args.outer}-fold x {args.repeats} repeats = {n_folds} folds"
        f" of ~{len(dev) // args.outer} {args.score_on} rows; training: the other {len(pool)} rows + the other folds;"
        f" text features; {time.time() - t0:.0f} s"
    )
    ref = per_fold[methods[0][0]]
    pref = pooled[methods[0][0]]
    head = (
        f"{'macro-F1 mean±sd':>18s}{'worst':>7s}{'Δ vs OOB mean±sd':>19s}{'worst Δ':>9s}{'Δ<0':>5s}{'pooled':>8s}"
        f"{'pooled worst Δ':>15s}{'Δ<0':>5s}"
    )
    print(f"{'method':62s}{head}")
    for name, _, _ in methods:
        s = per_fold[name]
        d = [a - b for a, b in zip(s, ref, strict=True)]
        pd = [a - b for a, b in zip(pooled[name], pref, strict=True)]  # per repeat: all rows once
        print(
            f"{name:62s}{statistics.mean(s):10.3f} ± {statistics.stdev(s):.3f}{min(s):7.3f}"
            f"{statistics.mean(d):+11.3f} ± {statistics.stdev(d):.3f}{min(d):+9.3f}{sum(x < -1e-9 for x in d):5d}"
            f"{statistics.mean(pooled[name]):8.3f}{min(pd):+15.3f}{sum(x < -1e-9 for x in pd):5d}"
        )
    if args.bootstrap:
        report_bootstrap(dev, repeat_preds, methods, task, args)
    if args.per_fold:
        print("per fold:")
        for name, _, _ in methods:
            print(f"  {name[:40]:40s} " + " ".join(f"{x:.3f}" for x in per_fold[name]))
    if guarded.choices:
        print("guarded choices (inner folds):")
        for c in guarded.choices:
            print(
                f"  C {c.get('c')} weight {c.get('weight')}"
                f"  inner macro-F1 {c.get('score')} vs out of the box {c.get('base')}"
                + (f" (best: weight {c['best_weight']} at {c['best_score']}, one SE {c['se']})" if "se" in c else "")
            )


def report_bootstrap(dev, repeat_preds, methods, task, args):
    """Paired bootstrap of the pooled out-of-fold predictions: P(Δ < 0), the 5th percentile of Δ
    and P(Δ ≥ ``--lift``) for a new sample of n rows, n = the dev file's size and one outer fold's
    size. Resampling the rows estimates the sampling spread of a held-out set; the repeats carry
    the spread of the training sets."""
    rng = random.Random(12345)
    ref = repeat_preds[methods[0][0]]
    sizes = (len(dev), len(dev) // args.outer)
    print(f"paired bootstrap, {args.bootstrap} resamples per repeat: how often learning lowers macro-F1 on n new rows")
    print(
        f"{'method':62s}"
        + "".join(f"{f'n={n}: P(Δ<0)':>16s}{'5th pct Δ':>11s}{f'P(Δ≥{args.lift:+.2f})':>13s}" for n in sizes)
    )
    draws = [[[rng.randrange(len(dev)) for _ in range(n)] for _ in range(args.bootstrap)] for n in sizes]
    for name, _, _ in methods[1:]:
        line = f"{name:62s}"
        for n_draws in draws:
            ds = []
            for p, q in zip(repeat_preds[name], ref, strict=True):
                for idx in n_draws:
                    rows = [dev[i] for i in idx]
                    ds.append(score(rows, [p[i] for i in idx], task) - score(rows, [q[i] for i in idx], task))
            ds.sort()
            lift = sum(d >= args.lift - 1e-9 for d in ds) / len(ds)
            line += f"{sum(d < -1e-9 for d in ds) / len(ds):16.4f}{ds[len(ds) // 20]:+11.3f}{lift:13.3f}"
        print(line)


if __name__ == "__main__":
    main()
