"""`conversa eval`: label quality on a labelled CSV, through the server's own label path.

Scoring follows the eval data's README: intent rows score `mapped_label`, a prediction equal
to `alt_label` counts as correct (and is scored as the mapped label), rows without a
`mapped_label` are skipped; macro-F1 averages over the labels present in the gold column.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.errors import InvalidInput
from llm.adapter import rating_targets

TASKS = ("sentiment", "intent")


def read_rows(path: Path, task: str) -> list[dict[str, str]]:
    """Every row with `id`, `text`, `gold` and `alt` ('' when none); rows whose `gold` is ''
    are predicted (for ``--predictions``) but not scored."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InvalidInput(f"cannot read {path}: {e.strerror}") from None
    with f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or [])
        if "text" not in cols:
            raise InvalidInput(f"{path} has no `text` column")
        if task == "sentiment":
            gold_col = next((c for c in ("label", "sentiment", "stars") if c in cols), None)
        else:
            gold_col = "mapped_label" if "mapped_label" in cols else None
        if gold_col is None:
            need = "label (or sentiment, or stars)" if task == "sentiment" else "mapped_label"
            raise InvalidInput(f"{path} has no `{need}` column for the {task} task")
        rows = []
        for i, r in enumerate(reader):
            stars = parse_stars(r.get("stars")) if task == "sentiment" else None
            gold = (r.get(gold_col) or "").strip().lower()
            if gold_col == "stars":
                gold = rating_targets(stars)[0][0] if stars else ""
            rows.append(
                {
                    "id": r.get("id") or str(i + 1),
                    "text": r["text"] or "",
                    "gold": gold,
                    "alt": (r.get("alt_label") or "").strip().lower() if task == "intent" else "",
                    "stars": stars,
                }
            )
    return rows


def parse_stars(value: str | None) -> int | None:
    """A 1-5 star rating from a CSV cell ("4", "4.0", " 4 "), or None."""
    try:
        stars = float((value or "").strip())
    except ValueError:
        return None
    return int(stars) if stars in (1, 2, 3, 4, 5) else None


def as_turns(text: str) -> list:
    """One customer message as a conversation, for the server's label path."""
    from llm.tasks import turns_from_messages

    return turns_from_messages([{"direction": "in", "kind": "text", "text": text}])


def scorable(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if r["gold"]]


def score(rows: list[dict[str, str]], predictions: list[str]) -> dict[str, Any]:
    """Scores of the rows that have a gold label (the others are ignored)."""
    pairs = [(r, p) for r, p in zip(rows, predictions, strict=True) if r["gold"]]
    rows, predictions = [r for r, _ in pairs], [p for _, p in pairs]
    labels = sorted({r["gold"] for r in rows})
    effective = [
        r["gold"] if (p == r["gold"] or (r["alt"] and p == r["alt"])) else p
        for r, p in zip(rows, predictions, strict=True)
    ]
    confusion: dict[str, Counter] = {g: Counter() for g in labels}
    for r, p in zip(rows, effective, strict=True):
        confusion[r["gold"]][p] += 1
    per_class = {}
    for label in labels:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in labels if g != label)
        fn = sum(confusion[label].values()) - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    n = len(rows)
    correct = sum(1 for r, p in zip(rows, effective, strict=True) if p == r["gold"])
    return {
        "n": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(sum(c["f1"] for c in per_class.values()) / len(labels), 4) if labels else 0.0,
        "per_class": per_class,
        "confusion": {g: dict(confusion[g]) for g in labels},
    }


def evaluate(
    rows: list[dict[str, str]],
    task: str,
    predict: Callable[[str], dict],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    preds = []
    t0 = time.perf_counter()
    for i, r in enumerate(rows):
        preds.append(predict(r["text"])[task]["label"])
        if progress:
            progress(i + 1, len(rows))
    ms = (time.perf_counter() - t0) * 1000 / max(1, len(rows))
    return {"task": task, **score(rows, preds), "ms_per_item": round(ms, 1)}, preds


def format_report(result: dict[str, Any]) -> str:
    lines = [
        f"task {result['task']}  n {result['n']}  accuracy {result['accuracy']:.3f}  "
        f"macro-F1 {result['macro_f1']:.3f}  {result['ms_per_item']:.0f} ms/item",
        "",
        f"{'label':<20}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}",
    ]
    for label, c in result["per_class"].items():
        lines.append(f"{label:<20}{c['precision']:>10.3f}{c['recall']:>8.3f}{c['f1']:>8.3f}{c['support']:>9}")
    labels = list(result["per_class"])
    predicted = sorted({p for row in result["confusion"].values() for p in row} | set(labels))
    lines += [
        "",
        "confusion (rows: gold, columns: predicted)",
        f"{'':<20}" + "".join(f"{p[:10]:>11}" for p in predicted),
    ]
    for g in labels:
        lines.append(f"{g:<20}" + "".join(f"{result['confusion'][g].get(p, 0):>11}" for p in predicted))
    return "\n".join(lines)
