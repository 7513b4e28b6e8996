"""Quick replies: a shortcut (typed after `/`), the text with `{nome}` variables, the intents it answers."""

from __future__ import annotations

import json
import time
from typing import Any

from desktop.errors import Conflict
from desktop.store.database import Store, new_id
from desktop.store.errors import RecordNotFound


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "shortcut": row["shortcut"],
        "text": row["text"],
        "intents": json.loads(row["intents"] or "[]"),
        "updated_at": row["updated_at"],
    }


def all_replies(store: Store) -> list[dict[str, Any]]:
    return [_out(r) for r in store.q("SELECT * FROM quick_replies ORDER BY shortcut")]


def create(store: Store, shortcut: str, text: str, intents: list[str], user_id: str | None) -> dict[str, Any]:
    """A new quick reply; Conflict when its shortcut is taken (the API never overwrites silently)."""
    with store.transaction():
        if store.q1("SELECT 1 FROM quick_replies WHERE shortcut=?", (shortcut,)):
            raise Conflict(f"shortcut /{shortcut} is already used", code="shortcut_taken")
        return upsert(store, shortcut, text, intents, user_id)


def upsert(
    store: Store, shortcut: str, text: str, intents: list[str], user_id: str | None, reply_id: str | None = None
) -> dict[str, Any]:
    """Create, or update by id; with no id an existing shortcut is updated (CSV re-imports)."""
    now = time.time()
    with store.transaction():
        clash = store.q1("SELECT id FROM quick_replies WHERE shortcut=?", (shortcut,))
        if reply_id:
            if not store.q1("SELECT 1 FROM quick_replies WHERE id=?", (reply_id,)):
                raise RecordNotFound("quick reply not found")
            if clash and clash["id"] != reply_id:
                raise Conflict(f"shortcut /{shortcut} is already used", code="shortcut_taken")
        else:
            reply_id = clash["id"] if clash else None
        if reply_id:
            store.conn.execute(
                "UPDATE quick_replies SET shortcut=?, text=?, intents=?, updated_at=? WHERE id=?",
                (shortcut, text, json.dumps(intents), now, reply_id),
            )
        else:
            reply_id = new_id("q")
            store.conn.execute(
                "INSERT INTO quick_replies(id, shortcut, text, intents, created_by, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (reply_id, shortcut, text, json.dumps(intents), user_id, now, now),
            )
    return _out(store.q1("SELECT * FROM quick_replies WHERE id=?", (reply_id,)))


def delete(store: Store, reply_id: str) -> None:
    with store.transaction():
        if store.conn.execute("DELETE FROM quick_replies WHERE id=?", (reply_id,)).rowcount == 0:
            raise RecordNotFound("quick reply not found")
