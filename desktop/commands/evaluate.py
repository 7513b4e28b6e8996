"""`conversa eval sentiment|intent FILE.csv`: quality of the labels the server would give."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from desktop import evaluation
from desktop.app import start_model
from desktop.config import Settings
from desktop.errors import InvalidInput
from llm.analysis import label_turns, turn_features


def _progress(label: str):
    def show(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            tty = sys.stderr.isatty()
            end = "\n" if done == total or not tty else ""
            print(f"{chr(13) if tty else chr(32)}{label} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def run(settings: Settings, args: argparse.Namespace) -> int:
    rows = evaluation.read_rows(args.file, args.task)
    if args.limit:
        last = [i for i, r in enumerate(rows) if r["gold"]][: args.limit]
        rows = rows[: last[-1] + 1] if last else []
    if not evaluation.scorable(rows):
        raise InvalidInput(f"{args.file} has no scorable rows for {args.task}")
    engine = None if args.no_model else start_model(settings, args.model)

    def call(fn):
        return engine.run(lambda llama, cancelled: fn(llama), timeout=600) if engine else fn(None)

    try:
        adapter = None
        if args.train:
            from llm import seed_adapter
            from llm.adapter import base_probabilities, example_targets, train

            train_rows = [r for path in args.train for r in evaluation.scorable(evaluation.read_rows(path, args.task))]
            show = _progress("features")
            examples = []
            for i, r in enumerate(train_rows):
                feats = call(lambda llama, t=r["text"]: turn_features(llama, evaluation.as_turns(t)))
                examples += [(feats, label, weight) for label, weight in example_targets(r["gold"], r["stars"])]
                show(i + 1, len(train_rows))
            # As the server trains: checked against the out of the box on these examples only.
            seed = call(seed_adapter.for_model) or seed_adapter.for_model(None)
            adapter = {args.task: train(examples, args.task, base=lambda f: base_probabilities(f, args.task, seed))}
        result, preds = evaluation.evaluate(
            rows,
            args.task,
            lambda text: call(lambda llama: label_turns(llama, evaluation.as_turns(text), adapter)),
            _progress("eval"),
        )
    finally:
        if engine:
            engine.stop()
    result["model"] = None if args.no_model else (args.model or settings.model)
    result["trained_on"] = len(train_rows) if args.train else 0
    if adapter:
        ad = adapter[args.task]
        result["adapter"] = {"weight": round(ad.mix_weight(), 3), "selection": ad.selection}
    if args.predictions:
        with open(args.predictions, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "prediction"])
            w.writerows([r["id"], p] for r, p in zip(rows, preds, strict=True))
    print(json.dumps(result, ensure_ascii=False) if args.json else evaluation.format_report(result))
    return 0
