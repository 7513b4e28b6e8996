"""A held-out pt-BR sentiment set from Olist reviews the eval files do not hold, and a paired
comparison of two `conversa eval --predictions` files on it.

    python tests/bench/olist_heldout.py build REVIEWS --out heldout.csv [--seed 0]
    python tests/bench/olist_heldout.py classified CLASSIFIED --out-dir DIR [--seed 0]
    python tests/bench/olist_heldout.py folds CLASSIFIED --out-dir DIR [--k 5] [--seed 0]
    python tests/bench/olist_heldout.py compare heldout.csv OOB_PREDS.csv LEARNT_PREDS.csv [--bootstrap 2000]

``REVIEWS`` is Olist's public `olist_order_reviews_dataset.csv` (Kaggle "Brazilian E-Commerce
Public Dataset by Olist", CC BY-NC-SA 4.0; not shipped) or JSON Lines of its rows
(``{"id", "stars", "text"}``). ``build`` labels each review with a message by its stars as the
eval files do (1–2 negative, 3 neutral, 4–5 positive), writes it as those files are written
(lower case, punctuation stripped), drops every text the eval files (``nested_cv.EVAL``) or an
``--exclude`` set already hold, and samples the same number of texts per label (the size of the
smallest class). Score a set once, after the design is fixed: a set used to choose a setting is
no longer held out.

``classified`` builds the split the eval files were cut from and left over: Olist's
`olist_classified_public_dataset.csv` (3,584 reviews labelled by three analysts; the same
licence) holds every eval row under its `id` (``olist-NNNN``), so its rows whose id no eval file
holds are a held-out split of the same source with the same labelling. It writes
``sentiment.csv`` (by stars, the same number per label, like the dev file), ``sentiment_all.csv``
(every such row), ``sentiment_new.csv`` (as ``sentiment.csv``, only texts that no eval file and
no earlier row holds: the eval files hold each text once, the split by id does not),
``intent.csv`` (at most as many per analysts' subclass as the intent dev file holds of one,
mapped to our intents as the eval files map that subclass) and ``intent_all.csv``.

``folds`` asks what learning can reach when the team's examples are of the same kind as the
texts it is scored on: every distinct text of the classified dataset, labelled by its stars,
dealt into ``k`` folds stratified by label; ``test{i}.csv`` is fold i, ``train{i}.csv`` the
others (train with ``conversa eval --train train{i}.csv`` on ``test{i}.csv``; the team adapter
chooses its settings on inner folds of ``train{i}.csv`` only, so this is nested
cross-validation). It measures the learner, not the eval files' split.

``compare`` (a sentiment or an intent file) prints macro-F1 of both prediction files and a
paired bootstrap of the difference (resampling the held-out rows): P(Δ < 0), the 5th and 95th
percentiles, P(Δ ≥ 0.05); then both scored as if each label were equally frequent (the
balanced macro-F1 the team adapter's guard uses), for files that are not balanced.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from llm.adapter import macro_f1  # noqa: E402

EVAL_FILES = ("sentiment_ptbr_dev.csv", "olist_ptbr_pool.csv", "intent_ptbr_olist_dev.csv")
_NOT_WORD = re.compile(r"[^0-9a-zà-öø-ÿ×]+")


def as_eval_text(text: str) -> str:
    """Written as the eval files are: lower case, anything but letters and digits a space."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def label_of(stars: int) -> str:
    return "negative" if stars <= 2 else "neutral" if stars == 3 else "positive"


def read_reviews(path: str) -> list[dict]:
    """Rows ``{id, stars, text}``; SystemExit naming the problem for a file of another shape."""
    try:
        if path.endswith(".jsonl"):
            with open(path, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
            return [{"id": r["id"], "stars": r["stars"], "text": r["text"] or ""} for r in rows]
        with open(path, newline="", encoding="utf-8") as f:
            return [
                {"id": r["review_id"], "stars": r["review_score"], "text": r["review_comment_message"] or ""}
                for r in csv.DictReader(f)
            ]
    except (OSError, ValueError) as e:
        raise SystemExit(f"cannot read {path}: {e}") from None
    except (KeyError, TypeError) as e:
        raise SystemExit(
            f"{path}: every row needs review_id, review_score, review_comment_message (CSV) "
            f"or id, stars, text (JSON Lines); missing {e}"
        ) from None


def _stars(value) -> int | None:
    try:
        stars = float(str(value).strip())
    except ValueError:
        return None
    return int(stars) if stars in (1, 2, 3, 4, 5) else None


def balanced(reviews: list[dict], known: set[str], seed: int = 0) -> tuple[list[dict], dict[str, int], int]:
    """The held-out rows: each review with a message, labelled by its stars and written as the
    eval files are, unless ``known`` (texts of the eval files, as written there) or an earlier
    review already holds its text; then the same number per label, sampled with ``seed``.
    Returns the rows, how many texts each label had, and how many were dropped as known."""
    by_label: dict[str, list[dict]] = {}
    seen_ids, seen_texts, dropped = set(), set(), 0
    for r in reviews:
        text, stars = as_eval_text(r["text"]), _stars(r["stars"])
        if not text or r["id"] in seen_ids or stars is None:
            continue
        seen_ids.add(r["id"])
        if text in known or text in seen_texts:
            dropped += int(text in known)
            continue
        seen_texts.add(text)
        by_label.setdefault(label_of(stars), []).append({"id": r["id"], "text": text, "stars": stars})
    n = min(len(v) for v in by_label.values()) if by_label else 0
    rng = random.Random(seed)
    out = []
    for label in sorted(by_label):
        rows = sorted(by_label[label], key=lambda r: r["id"])
        out += [dict(r, label=label) for r in rng.sample(rows, n)]
    return out, {k: len(v) for k, v in sorted(by_label.items())}, dropped


def build(args) -> None:
    from nested_cv import load_csv

    known = {as_eval_text(r["text"]) for name in EVAL_FILES for r in load_csv(name)}
    for path in args.exclude:  # an earlier held-out set: a second one shares no text with it
        with open(path, newline="", encoding="utf-8") as f:
            known |= {as_eval_text(r["text"]) for r in csv.DictReader(f)}
    out, available, dropped = balanced(read_reviews(args.reviews), known, args.seed)
    if len(available) < 3:
        raise SystemExit(f"{args.reviews}: reviews of every label are needed, found {available or 'none'}")
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["id", "text", "stars", "label"])
        w.writeheader()
        w.writerows(out)
    sizes = ", ".join(f"{k} {v}" for k, v in available.items())
    n = len(out) // max(1, len(available))
    print(f"{args.out}: {len(out)} rows, {n} per label (available: {sizes}; {dropped} texts dropped as already held)")


def subclass_mapping(eval_rows: list[dict]) -> dict[str, tuple[str, str]]:
    """Analysts' subclass -> (mapped_label, alt_label) as the eval files map it; SystemExit if
    they map one subclass two ways (the split could not then be labelled as they are)."""
    out: dict[str, tuple[str, str]] = {}
    for r in eval_rows:
        sub = r.get("subclass", r.get("label", ""))
        pair = (r.get("mapped_label", ""), r.get("alt_label", ""))
        if out.setdefault(sub, pair) != pair:
            raise SystemExit(f"the eval files map subclass {sub!r} two ways: {out[sub]} and {pair}")
    return out


def classified_split(
    rows: list[dict], eval_ids: set[str], mapping: dict[str, tuple[str, str]], per_subclass: int, seed: int = 0
) -> dict[str, list[dict]]:
    """The four held-out files (see the module's doc) from the classified dataset's rows."""
    rest = []
    for r in rows:
        rid, text, stars = (
            f"olist-{int(r['id']):04d}",
            (r["review_comment_message"] or "").strip(),
            _stars(r["review_score"]),
        )
        if rid not in eval_ids and text and stars is not None:
            rest.append({"id": rid, "text": text, "stars": stars, "subclass": r["most_voted_subclass"] or ""})
    rng = random.Random(seed)
    by_label: dict[str, list[dict]] = {}
    for r in rest:
        by_label.setdefault(label_of(r["stars"]), []).append({k: r[k] for k in ("id", "text", "stars")})
    if len(by_label) < 3:
        raise SystemExit(f"the held-out rows need every sentiment label, found {sorted(by_label) or 'none'}")
    n = min(len(v) for v in by_label.values())
    sentiment_all = [
        {"id": r["id"], "text": r["text"], "stars": r["stars"], "label": label_of(r["stars"])} for r in rest
    ]
    sentiment = [dict(r, label=label) for label in sorted(by_label) for r in rng.sample(by_label[label], n)]
    by_sub: dict[str, list[dict]] = {}
    for r in rest:
        mapped, alt = mapping.get(r["subclass"], ("", ""))
        if mapped:
            row = {"id": r["id"], "text": r["text"], "label": r["subclass"], "mapped_label": mapped, "alt_label": alt}
            by_sub.setdefault(r["subclass"], []).append(row)
    intent_all = sorted((r for v in by_sub.values() for r in v), key=lambda r: r["id"])
    intent = [r for sub in sorted(by_sub) for r in rng.sample(by_sub[sub], min(per_subclass, len(by_sub[sub])))]
    return {"sentiment": sentiment, "sentiment_all": sentiment_all, "intent": intent, "intent_all": intent_all}


def new_texts(sentiment_all: list[dict], known: set[str], seed: int = 0) -> list[dict]:
    """The split's sentiment rows whose text neither an eval file nor an earlier row holds,
    balanced as ``build`` balances: learning scored on texts the team never labelled."""
    return balanced(sentiment_all, known, seed)[0]


def _classified_rows(path: str) -> list[dict]:
    """The classified dataset's rows; SystemExit naming the problem for another file."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, ValueError) as e:
        raise SystemExit(f"cannot read {path}: {e}") from None
    need = {"id", "review_score", "review_comment_message", "most_voted_subclass"}
    if not rows or need - set(rows[0]):
        raise SystemExit(f"{path}: not the classified dataset (needs columns {', '.join(sorted(need))})")
    try:
        for r in rows:
            int(r["id"])
    except (TypeError, ValueError):
        raise SystemExit(f"{path}: an `id` that is not a number: not the classified dataset") from None
    return rows


def classified(args) -> None:
    from nested_cv import load_csv

    eval_rows = {name: load_csv(name) for name in EVAL_FILES}
    eval_ids = {r["id"] for rows in eval_rows.values() for r in rows}
    intent_dev = eval_rows["intent_ptbr_olist_dev.csv"]
    mapping = subclass_mapping(intent_dev + eval_rows["olist_ptbr_pool.csv"])
    per_subclass = max(sum(r["label"] == s for r in intent_dev) for s in {r["label"] for r in intent_dev})
    rows = _classified_rows(args.classified)
    held = {f"olist-{int(r['id']):04d}" for r in rows}
    if not eval_ids <= held:
        raise SystemExit(
            f"{args.classified}: {len(eval_ids - held)} eval rows are not in it: not the eval files' source"
        )
    os.makedirs(args.out_dir, exist_ok=True)
    split = classified_split(rows, eval_ids, mapping, per_subclass, args.seed)
    known = {as_eval_text(r["text"]) for rows in eval_rows.values() for r in rows}
    split["sentiment_new"] = new_texts(split["sentiment_all"], known, args.seed)
    for name, out in split.items():
        cols = ["id", "text", "stars", "label"]
        if not name.startswith("sentiment"):
            cols = ["id", "text", "label", "mapped_label", "alt_label"]
        path = os.path.join(args.out_dir, f"{name}.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, cols)
            w.writeheader()
            w.writerows(out)
        key = "label" if name.startswith("sentiment") else "mapped_label"
        counts: dict[str, int] = {}
        for r in out:
            counts[r[key]] = counts.get(r[key], 0) + 1
        print(f"{path}: {len(out)} rows ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")


def folds(rows: list[dict], k: int, seed: int = 0) -> list[list[dict]]:
    """Every distinct text of the classified dataset (written as the eval files are, the first
    review of a text kept) with its stars and label, dealt into ``k`` folds stratified by label."""
    if k < 2:
        raise SystemExit("--k must be at least 2")
    by_label: dict[str, list[dict]] = {}
    seen: set[str] = set()
    for r in rows:
        text, stars = as_eval_text(r.get("review_comment_message") or ""), _stars(r.get("review_score"))
        if not text or stars is None or text in seen:
            continue
        seen.add(text)
        by_label.setdefault(label_of(stars), []).append(
            {"id": f"olist-{int(r['id']):04d}", "text": text, "stars": stars, "label": label_of(stars)}
        )
    rng = random.Random(seed)
    out: list[list[dict]] = [[] for _ in range(k)]
    for label in sorted(by_label):
        texts = by_label[label]
        rng.shuffle(texts)
        for i, r in enumerate(texts):
            out[i % k].append(r)
    return out


def write_folds(args) -> None:
    rows = _classified_rows(args.classified)
    parts = folds(rows, args.k, args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for i, test in enumerate(parts):
        train = [{c: r[c] for c in ("id", "text", "stars")} for j, p in enumerate(parts) if j != i for r in p]
        for name, out, cols in (
            (f"test{i}", test, ["id", "text", "stars", "label"]),
            (f"train{i}", train, ["id", "text", "stars"]),
        ):
            with open(os.path.join(args.out_dir, f"{name}.csv"), "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, cols)
                w.writeheader()
                w.writerows(out)
        counts: dict[str, int] = {}
        for r in test:
            counts[r["label"]] = counts.get(r["label"], 0) + 1
        sizes = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"fold {i}: test{i}.csv {len(test)} rows ({sizes}), train{i}.csv {len(train)} rows")


def compare(args) -> None:
    with open(args.heldout, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # An intent file is scored as `conversa eval` scores it: `mapped_label` is the gold (rows
    # without one are not scored) and a prediction equal to `alt_label` counts as that gold.
    intent = bool(rows) and "mapped_label" in rows[0]
    if intent:
        gold = {r["id"]: r["mapped_label"] for r in rows if r["mapped_label"]}
        alt = {r["id"]: r.get("alt_label", "") for r in rows}
    else:
        gold, alt = {r["id"]: r["label"] for r in rows}, {}

    def preds(path):
        with open(path, newline="", encoding="utf-8") as f:
            return {r["id"]: r["prediction"] for r in csv.DictReader(f)}

    def scored(i, p):
        return gold[i] if alt.get(i) and p == alt[i] else p

    a, b = preds(args.before), preds(args.after)
    ids = [i for i in gold if i in a and i in b]
    if not ids:
        raise SystemExit(f"no id of {args.heldout} is in both prediction files")
    g = [gold[i] for i in ids]
    pa, pb = [scored(i, a[i]) for i in ids], [scored(i, b[i]) for i in ids]
    fa, fb = macro_f1(g, pa), macro_f1(g, pb)
    print(f"{len(ids)} rows: macro-F1 {fa:.4f} -> {fb:.4f} (Δ {fb - fa:+.4f})")
    changed = sum(x != y for x, y in zip(pa, pb, strict=True))
    print(f"labels changed by learning: {changed}")
    rng = random.Random(12345)
    ds = []
    for _ in range(args.bootstrap):
        idx = [rng.randrange(len(ids)) for _ in ids]
        gg = [g[i] for i in idx]
        ds.append(macro_f1(gg, [pb[i] for i in idx]) - macro_f1(gg, [pa[i] for i in idx]))
    ds.sort()
    k = len(ds)
    below, lift = sum(d < 0 for d in ds) / k, sum(d >= 0.05 for d in ds) / k
    print(
        f"paired bootstrap ({k} resamples of {len(ids)} rows): P(Δ<0) {below:.4f}, "
        f"5th pct {ds[k // 20]:+.4f}, 95th pct {ds[k - 1 - k // 20]:+.4f}, P(Δ≥0.05) {lift:.3f}"
    )
    ba, bb = macro_f1(g, pa, balanced=True), macro_f1(g, pb, balanced=True)
    print(f"as if every label were equally frequent: macro-F1 {ba:.4f} -> {bb:.4f} (Δ {bb - ba:+.4f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="a balanced held-out CSV from Olist reviews the eval files do not hold")
    b.add_argument("reviews", help="olist_order_reviews_dataset.csv, or JSON Lines {id, stars, text}")
    b.add_argument("--out", required=True, help="the CSV to write (id, text, stars, label)")
    b.add_argument("--seed", type=int, default=0, help="seed of the per-label sample")
    b.add_argument("--exclude", action="append", default=[], help="a CSV whose `text` column to leave out (repeatable)")
    k = sub.add_parser("classified", help="the held-out split of the classified dataset the eval files come from")
    k.add_argument("classified", help="olist_classified_public_dataset.csv")
    k.add_argument(
        "--out-dir",
        required=True,
        help="where to write sentiment.csv, sentiment_all.csv, sentiment_new.csv, intent.csv, intent_all.csv",
    )
    k.add_argument("--seed", type=int, default=0, help="seed of the per-label and per-subclass samples")
    f = sub.add_parser("folds", help="k folds of every distinct text of the classified dataset, for nested CV")
    f.add_argument("classified", help="olist_classified_public_dataset.csv")
    f.add_argument("--out-dir", required=True, help="where to write test0.csv, train0.csv, ...")
    f.add_argument("--k", type=int, default=5, help="number of folds")
    f.add_argument("--seed", type=int, default=0, help="seed of the deal")
    c = sub.add_parser("compare", help="paired comparison of two `conversa eval --predictions` files")
    c.add_argument("heldout", help="a CSV `build` or `classified` wrote")
    c.add_argument("before", help="predictions out of the box")
    c.add_argument("after", help="predictions after learning")
    c.add_argument("--bootstrap", type=int, default=2000, help="resamples of the held-out rows")
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    {"build": build, "classified": classified, "folds": write_folds, "compare": compare}[args.cmd](args)


if __name__ == "__main__":
    main()
