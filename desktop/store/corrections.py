"""Label corrections from attendants: the text they judged (encrypted) and the clear label."""

from __future__ import annotations

import time
from typing import Any

from desktop.store import chats
from desktop.store.database import Store, new_id


def add(store: Store, conv_row: dict[str, Any], user_id: str, labels: dict[str, str]) -> list[str]:
    msgs = chats.messages(store, conv_row["id"], conv_row["kid"], limit=20)
    recent: list[str] = []
    for m in reversed(msgs):
        if m["direction"] == "in" and m["text"]:
            recent.append(m["text"])
            if len(recent) >= 3:
                break
        elif recent:
            break
    text = "\n".join(reversed(recent))
    ids = []
    now = time.time()
    with store.transaction():
        for task, label in labels.items():
            cid = new_id("l")
            store.conn.execute(
                "INSERT INTO label_corrections(id, conversation_id, user_id, task, label, lang, text, features,"
                " created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    cid,
                    conv_row["id"],
                    user_id,
                    task,
                    label,
                    None,
                    store.seal(conv_row["kid"], "label_corrections", "text", cid, text),
                    None,
                    now,
                ),
            )
            ids.append(cid)
    return ids


def status(store: Store) -> dict[str, Any]:
    row = store.q1("SELECT count(*) AS n FROM label_corrections")
    return {"state": "none", "corrections": row["n"]}
