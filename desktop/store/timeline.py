"""What happened to a conversation over time: status changes, re-opens, hand-overs and the
contact's stage changes. The contact's history (`history.py`) is read from these rows."""

from __future__ import annotations

import time
from typing import Any

from desktop.store.database import Store, new_id


def add_event(
    store: Store,
    conversation_id: str | None,
    contact_id: str,
    kind: str,
    value: str | None,
    user_id: str | None,
    *,
    note: str | None = None,
    kid: str | None = None,
    at: float | None = None,
) -> str:
    """One event row; `note` (a transfer note) is sealed with the contact's key `kid`."""
    eid = new_id("e")
    store.conn.execute(
        "INSERT INTO conversation_events(id, conversation_id, contact_id, at, user_id, kind, value, note)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (
            eid,
            conversation_id,
            contact_id,
            time.time() if at is None else at,
            user_id,
            kind,
            value,
            store.seal(kid, "conversation_events", "note", eid, note) if note else None,
        ),
    )
    return eid


def transfer(store: Store, row: dict[str, Any], to_user: str, by_user: str, note: str | None) -> dict[str, Any]:
    """Give a conversation to another attendant. The visible owner is the contact's owner when it
    has one, so that moves too (every chat of the contact then belongs to the new attendant)."""
    now = time.time()
    cid = row["id"]
    with store.transaction():
        store.conn.execute(
            "UPDATE conversations SET owner_id=?, transfer_note=?, transferred_at=?, transferred_by=?, updated_at=?"
            " WHERE id=?",
            (
                to_user,
                store.seal(row["kid"], "conversations", "transfer_note", cid, note) if note else None,
                now,
                by_user,
                now,
                cid,
            ),
        )
        if row.get("contact_owner"):
            store.conn.execute(
                "UPDATE contacts SET owner_id=?, updated_at=? WHERE id=?", (to_user, now, row["contact_id"])
            )
        add_event(store, cid, row["contact_id"], "transfer", to_user, by_user, note=note, kid=row["kid"], at=now)
    return {"id": cid, "owner": to_user, "status": row["status"], "transferred_at": now}


def reopen_if_resolved(store: Store, conversation_id: str, user_id: str) -> bool:
    """A new customer message re-opens a resolved conversation (a new period of its history)."""
    row = store.q1("SELECT status, contact_id, resolved_at FROM conversations WHERE id=?", (conversation_id,))
    if not row or row["status"] != "resolved":
        return False
    # The new period starts with the first message stored after the resolution (this capture's).
    first = store.q1(
        "SELECT min(created_at) AS at FROM messages WHERE conversation_id=? AND created_at>=?",
        (conversation_id, row["resolved_at"] or 0),
    )
    with store.transaction():
        store.conn.execute(
            "UPDATE conversations SET status='open', resolved_at=NULL, updated_at=? WHERE id=?",
            (time.time(), conversation_id),
        )
        add_event(store, conversation_id, row["contact_id"], "reopen", "open", user_id, at=first["at"])
    return True
