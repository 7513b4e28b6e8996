"""Follow-ups ("Lembrar"): a reminder on a conversation for one attendant, its note sealed with
the contact's key."""

from __future__ import annotations

import time
from typing import Any

from desktop.store.database import Store, new_id
from desktop.store.errors import KeyMissing, RecordNotFound

_SELECT = (
    "SELECT f.*, c.contact_id, c.title AS conversation_title, k.kid FROM followups f"
    " JOIN conversations c ON c.id = f.conversation_id JOIN contacts k ON k.id = c.contact_id "
)


def create(store: Store, conversation: dict[str, Any], user_id: str, due_at: float, note: str | None) -> dict:
    fid = new_id("f")
    now = time.time()
    with store.transaction():
        store.conn.execute(
            "INSERT INTO followups(id, conversation_id, user_id, due_at, note, done_at, created_at, updated_at)"
            " VALUES (?,?,?,?,?,NULL,?,?)",
            (
                fid,
                conversation["id"],
                user_id,
                due_at,
                store.seal(conversation["kid"], "followups", "note", fid, note) if note else None,
                now,
                now,
            ),
        )
    return get(store, fid)


def row(store: Store, followup_id: str) -> dict[str, Any]:
    found = store.q1(_SELECT + "WHERE f.id = ?", (followup_id,))
    if not found:
        raise RecordNotFound("follow-up not found")
    return found


def get(store: Store, followup_id: str) -> dict[str, Any]:
    return public(store, row(store, followup_id))


def listing(
    store: Store, user_id: str | None, *, due_before: float | None, conversation_id: str | None, done: bool | None
) -> list[dict[str, Any]]:
    where, params = [], []
    if user_id is not None:
        where.append("f.user_id = ?")
        params.append(user_id)
    if due_before is not None:
        where.append("f.due_at <= ?")
        params.append(due_before)
    if conversation_id is not None:
        where.append("f.conversation_id = ?")
        params.append(conversation_id)
    if done is not None:
        where.append("f.done_at IS NOT NULL" if done else "f.done_at IS NULL")
    sql = _SELECT + ("WHERE " + " AND ".join(where) if where else "") + " ORDER BY f.due_at, f.id LIMIT 500"
    return [public(store, r) for r in store.q(sql, tuple(params))]


def update(store: Store, followup_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    with store.transaction():
        current = row(store, followup_id)
        sets: dict[str, Any] = {"updated_at": time.time()}
        if "due_at" in changes:
            sets["due_at"] = changes["due_at"]
        if "note" in changes:
            note = changes["note"]
            sets["note"] = store.seal(current["kid"], "followups", "note", followup_id, note) if note else None
        if "done" in changes:
            sets["done_at"] = (current["done_at"] or time.time()) if changes["done"] else None
        cols = ", ".join(f"{k}=?" for k in sets)
        store.conn.execute(f"UPDATE followups SET {cols} WHERE id=?", (*sets.values(), followup_id))
    return get(store, followup_id)


def delete(store: Store, followup_id: str) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM followups WHERE id=?", (followup_id,))


def unseal_note(store: Store, followup_id: str, blob: bytes | None) -> str:
    try:
        return store.unseal(blob, "followups", "note", followup_id) or ""
    except KeyMissing:
        return ""


def public(store: Store, r: dict[str, Any]) -> dict[str, Any]:
    note = unseal_note(store, r["id"], r["note"])
    try:
        title = store.unseal(r.get("conversation_title"), "conversations", "title", r["conversation_id"])
    except KeyMissing:
        title = None
    return {
        "id": r["id"],
        "conversation_id": r["conversation_id"],
        "contact_id": r.get("contact_id"),
        "title": title,
        "user": r["user_id"],
        "due_at": r["due_at"],
        "note": note,
        "done": r["done_at"] is not None,
        "done_at": r["done_at"],
        "created_at": r["created_at"],
    }
