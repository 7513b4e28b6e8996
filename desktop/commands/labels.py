"""`conversa labels import FILE.csv|status|forget-imported`: teach the label adapters from a
shop's own labelled texts (e.g. marketplace reviews with their stars), as if attendants had
corrected each one."""

from __future__ import annotations

import argparse
import sys

from desktop import evaluation, team_adapter
from desktop.app import command_lock, open_store, start_model
from desktop.config import Settings
from desktop.errors import InvalidInput
from desktop.store import corrections
from llm.analysis import customer_and_lang, turn_features
from llm.tasks import INTENTS, SENTIMENTS


def _progress(done: int, total: int) -> None:
    if done == total or done % 50 == 0:
        print(f"features {done}/{total}", file=sys.stderr, flush=True)


def _train(store) -> None:
    trained, secs = team_adapter.retrain(store)
    for task, adapter in trained.items():
        print(f"{task} adapter trained on {adapter.n_examples} examples in {secs:.1f}s")
    if not trained:
        print("no examples left: the built-in labels apply")
    print("The server uses the new adapters from its next start.")


def _valid(rows: list[dict], task: str) -> list[dict]:
    """The rows worth learning from; each other row is reported with its line number."""
    allowed = SENTIMENTS if task == "sentiment" else INTENTS
    good = []
    for line, r in enumerate(rows, start=2):
        if not r["gold"]:
            continue  # unlabelled rows are allowed, as in `conversa eval`
        if r["gold"] not in allowed:
            print(f"line {line}: {r['gold']!r} is not a {task} label ({', '.join(allowed)})")
        elif not r["text"].strip():
            print(f"line {line}: empty text")
        else:
            good.append(r)
    return good


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "status":  # reads only
        return _run(settings, args)
    # A running server keeps the adapters in memory and retrains them itself.
    with command_lock(settings, f"labels {args.action}"):
        return _run(settings, args)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    # Only an import may set up a new data folder: a mistyped --data-dir must not.
    store = open_store(settings, create=args.action == "import")
    try:
        if args.action == "status":
            st = corrections.status(store)
            print(f"corrections {st['corrections']}, imported {st['imported']}")
            for task, a in st["adapters"].items():
                print(f"{task} adapter: {a['examples']} examples")
            return 0
        if args.action == "forget-imported":
            print(f"{corrections.forget_imported(store)} imported examples deleted")
            _train(store)
            return 0
        all_rows = evaluation.read_rows(args.file, args.task)
        rows = _valid(all_rows, args.task)
        rejected = len(evaluation.scorable(all_rows)) - len(rows)
        if not rows:
            raise InvalidInput(f"{args.file} has no usable labelled rows for {args.task}")
        engine = None if args.no_model else start_model(settings)
        try:
            out = []
            for i, r in enumerate(rows):
                turns = evaluation.as_turns(r["text"])
                if engine:
                    feats = engine.run(lambda llama, cancelled, t=turns: turn_features(llama, t), timeout=600)
                else:
                    feats = turn_features(None, turns)
                text, lang = customer_and_lang(turns)
                out.append((args.task, r["gold"], r["stars"], text, lang, feats))
                _progress(i + 1, len(rows))
        finally:
            if engine:
                engine.stop()
        added = corrections.add_imported(store, out)
        print(f"{added} {args.task} examples imported from {args.file}, {rejected} rejected")
        _train(store)
        return 0 if rejected == 0 else 1
    finally:
        store.close()
