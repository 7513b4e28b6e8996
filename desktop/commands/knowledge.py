"""`conversa knowledge add FILE|list|remove ID`: the shop's FAQ, policies and catalogues.

A running server keeps the knowledge base's search index in memory, so `add` and `remove`
refuse while one holds the data folder (use the window or `POST /knowledge` then); `list`
only reads.
"""

from __future__ import annotations

import argparse

from desktop import knowledge_parse
from desktop.app import command_lock, open_store
from desktop.config import Settings
from desktop.errors import InvalidInput
from desktop.store import knowledge
from desktop.usecases.knowledge import read_file


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "list":
        return _run(settings, args)
    with command_lock(settings, f"knowledge {args.action}"):
        return _run(settings, args)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings, create=args.action == "add")
    try:
        if args.action == "list":
            for d in knowledge.documents(store):
                print(f"{d['id']}  {d['kind']:<4} {d['passages']:>5} passages  {d['title']}")
            return 0
        if args.action == "remove":
            knowledge.delete(store, args.id)
            print(f"removed {args.id}")
            return 0
        try:
            with open(args.file, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise InvalidInput(f"cannot read {args.file}: {e.strerror}") from None
        title, kind, text = read_file(args.file, "", raw, args.title)
        parsed = knowledge_parse.passages_of(kind, text)
        name = args.file.replace("\\", "/").rsplit("/", 1)[-1]
        doc_id = knowledge.save(store, title, kind, text, [(p.text, p.fields) for p in parsed], None, filename=name)
        print(f"added {doc_id}: {title} ({len(parsed)} passages)")
        return 0
    finally:
        store.close()
