"""`conversa quick-replies import FILE.csv|list`."""

from __future__ import annotations

import argparse
import csv
import re

from desktop import validation
from desktop.app import open_store
from desktop.config import Settings
from desktop.errors import ConversaError, InvalidInput
from desktop.store import quick_replies
from llm.tasks import INTENTS


def run(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings)
    try:
        if args.action == "list":
            for q in quick_replies.all_replies(store):
                print(f"/{q['shortcut']:<16} {','.join(q['intents']):<30} {q['text'][:60]}")
            return 0
        try:
            f = open(args.file, newline="", encoding="utf-8-sig")
        except OSError as e:
            raise InvalidInput(f"cannot read {args.file}: {e.strerror}") from None
        ok = bad = 0
        with f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not {"shortcut", "text"} <= set(reader.fieldnames):
                raise InvalidInput("the CSV needs a header with columns shortcut,text[,intents]")
            for line, row in enumerate(reader, start=2):
                intents = [i for i in re.split(r"[;|, ]+", row.get("intents") or "") if i]
                try:
                    data = validation.quick_reply(
                        {"shortcut": row["shortcut"], "text": row["text"], "intents": intents}, INTENTS
                    )
                    quick_replies.upsert(store, data["shortcut"], data["text"], data["intents"], None)
                    ok += 1
                except ConversaError as e:
                    bad += 1
                    print(f"line {line}: {e.message}")
        print(f"{ok} quick replies imported, {bad} rejected")
        return 0 if bad == 0 else 1
    finally:
        store.close()
