"""Contacts, conversations and messages: storing captures and reading them back decrypted."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from desktop.pipeline import FIRST_STAGE
from desktop.store.database import Store, new_id
from desktop.store.errors import KeyMissing, RecordNotFound

STATUSES = ("open", "pending", "resolved")
_PACKED_ID = re.compile(r"^(true|false)_([^_]+)_([^_]+)(?:_(.+))?$")


def message_identity(raw_id: str) -> str:
    """The message part of a packed data-id, or the whole bare id: both name one message."""
    m = _PACKED_ID.match(raw_id)
    return m.group(3) if m else raw_id


@dataclass
class StoredCapture:
    conversation_id: str
    contact_id: str
    new_messages: int
    new_incoming: int
    last_message_id: str | None


def store_capture(store: Store, capture: dict[str, Any], user_id: str) -> StoredCapture:
    """Upsert contact and conversation and insert the messages not seen before, in one transaction."""
    chat = capture["chat"]
    with store.transaction():
        conv = _find_or_create_conversation(store, chat, user_id)
        kid = conv["kid"]
        cid = conv["id"]
        seq = conv["message_count"] or 0
        count = seq
        now = time.time()
        new = new_in = 0
        last_ts = None
        last_id = None
        newest = ""
        for msg in capture["messages"]:
            ts = msg.get("timestamp")
            sort_ts = ts or last_ts or ""
            last_ts = sort_ts or last_ts
            h = store.index("msg:" + cid, message_identity(msg["id"]))
            if store.conn.execute("SELECT 1 FROM messages WHERE conversation_id=? AND msg_hash=?", (cid, h)).fetchone():
                continue
            seq += 1
            mid = new_id("m")
            store.conn.execute(
                "INSERT INTO messages(id, conversation_id, msg_hash, direction, kind, author, text, ts, sort_ts,"
                " seq, created_at, captured_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    mid,
                    cid,
                    h,
                    msg["direction"],
                    msg["kind"],
                    store.seal(kid, "messages", "author", mid, msg.get("author")),
                    store.seal(kid, "messages", "text", mid, msg.get("text")),
                    ts,
                    sort_ts,
                    seq,
                    now,
                    user_id,
                ),
            )
            new += 1
            newest = max(newest, sort_ts)
            last_id = mid
            if msg["direction"] == "in" and msg["kind"] != "system":
                new_in += 1
        if new:
            # Kept incrementally: a chat with thousands of messages is not rescanned per capture.
            store.conn.execute(
                "UPDATE conversations SET updated_at=?, last_message_at=max(coalesce(last_message_at, ''), ?),"
                " message_count=? WHERE id=?",
                (now, newest, count + new, cid),
            )
    return StoredCapture(cid, conv["contact_id"], new, new_in, last_id)


def _find_or_create_conversation(store: Store, chat: dict[str, Any], user_id: str) -> dict[str, Any]:
    title = chat.get("title") or ""
    title_hash = store.index("title", title) if title else None
    chat_hash = store.index("chat", chat["id"]) if chat.get("id") else None
    sql = (
        "SELECT c.id, c.contact_id, c.chat_hash, c.message_count, k.kid FROM conversations c "
        "JOIN contacts k ON k.id = c.contact_id "
    )
    row = None
    if chat_hash:
        row = store.q1(sql + "WHERE c.chat_hash=?", (chat_hash,))
        if row is None and title_hash:
            # A bare-id capture of the same chat came first: adopt it now that the JID is known.
            row = store.q1(
                sql + "WHERE c.title_hash=? AND c.chat_hash IS NULL ORDER BY c.updated_at DESC LIMIT 1",
                (title_hash,),
            )
            if row:
                store.conn.execute("UPDATE conversations SET chat_hash=? WHERE id=?", (chat_hash, row["id"]))
    elif title_hash:
        row = store.q1(sql + "WHERE c.title_hash=? ORDER BY c.updated_at DESC LIMIT 1", (title_hash,))
    if row:
        return row
    contact = _find_or_create_contact(store, chat, title, title_hash, user_id)
    cid = new_id("c")
    now = time.time()
    store.conn.execute(
        "INSERT INTO conversations(id, contact_id, chat_hash, title_hash, title, is_group, status, owner_id,"
        " created_at, updated_at, message_count) VALUES (?,?,?,?,?,?,?,?,?,?,0)",
        (
            cid,
            contact["id"],
            chat_hash,
            title_hash,
            store.seal(contact["kid"], "conversations", "title", cid, title),
            int(bool(chat.get("is_group"))),
            "open",
            user_id,
            now,
            now,
        ),
    )
    return {"id": cid, "contact_id": contact["id"], "chat_hash": chat_hash, "kid": contact["kid"], "message_count": 0}


def _find_or_create_contact(store, chat, title, title_hash, user_id) -> dict[str, Any]:
    jid_hash = store.index("jid", chat["id"]) if chat.get("id") else None
    row = None
    if jid_hash:
        row = store.q1("SELECT id, kid FROM contacts WHERE jid_hash=?", (jid_hash,))
    elif title_hash:
        row = store.q1(
            "SELECT id, kid FROM contacts WHERE title_hash=? ORDER BY updated_at DESC LIMIT 1", (title_hash,)
        )
    if row:
        return row
    kid = store.new_contact_key()
    kid_id = new_id("k")
    now = time.time()
    phone = chat.get("phone")
    store.conn.execute(
        "INSERT INTO contacts(id, kid, jid_hash, title_hash, phone_hash, name, phone, is_group, stage, value,"
        " tags, notes, owner_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            kid_id,
            kid,
            jid_hash,
            title_hash,
            store.index("phone", phone) if phone else None,
            store.seal(kid, "contacts", "name", kid_id, title or None),
            store.seal(kid, "contacts", "phone", kid_id, phone),
            int(bool(chat.get("is_group"))),
            FIRST_STAGE,
            None,
            store.seal(kid, "contacts", "tags", kid_id, []),
            None,
            None,
            now,
            now,
        ),
    )
    return {"id": kid_id, "kid": kid}


# -- reading ----------------------------------------------------------------------------
def conversation_row(store: Store, conversation_id: str) -> dict[str, Any]:
    row = store.q1(
        "SELECT c.*, k.kid, k.owner_id AS contact_owner FROM conversations c JOIN contacts k ON k.id=c.contact_id "
        "WHERE c.id=?",
        (conversation_id,),
    )
    if not row:
        raise RecordNotFound("conversation not found", code="not_found")
    return row


def effective_owner(row: dict[str, Any]) -> str | None:
    return row.get("contact_owner") or row.get("owner_id")


def messages(store: Store, conversation_id: str, kid: str, limit: int | None = None) -> list[dict[str, Any]]:
    if limit:
        rows = store.q(
            "SELECT * FROM (SELECT * FROM messages WHERE conversation_id=? ORDER BY sort_ts DESC, seq DESC LIMIT ?)"
            " ORDER BY sort_ts, seq",
            (conversation_id, limit),
        )
    else:
        rows = store.q("SELECT * FROM messages WHERE conversation_id=? ORDER BY sort_ts, seq", (conversation_id,))
    out = []
    for r in rows:
        try:
            # Sealed with this conversation's contact key, or the row was moved here from another chat.
            text = store.unseal(r["text"], "messages", "text", r["id"], kid_b64=kid)
            author = store.unseal(r["author"], "messages", "author", r["id"], kid_b64=kid)
        except KeyMissing:
            text = author = None
        out.append(
            {
                "id": r["id"],
                "direction": r["direction"],
                "kind": r["kind"],
                "author": author,
                "timestamp": r["ts"],
                "text": text,
            }
        )
    return out


def contact(store: Store, contact_id: str) -> dict[str, Any]:
    row = store.q1("SELECT * FROM contacts WHERE id=?", (contact_id,))
    if not row:
        raise RecordNotFound("contact not found")
    return contact_public(store, row)


def erase_contact(store: Store, contact_id: str) -> dict[str, int]:
    """LGPD erasure: destroy the contact's key first (so nothing it sealed can be read even if
    the deletion below is interrupted), then delete its conversations and everything in them."""
    row = store.q1("SELECT kid FROM contacts WHERE id=?", (contact_id,))
    if not row:
        raise RecordNotFound("contact not found")
    store.erase_contact_key(row["kid"])
    convs = [r["id"] for r in store.q("SELECT id FROM conversations WHERE contact_id=?", (contact_id,))]
    marks = ",".join("?" * len(convs))
    removed = {}
    with store.transaction():
        for table in ("messages", "suggestion_feedback", "insights", "label_corrections"):
            cur = store.conn.execute(f"DELETE FROM {table} WHERE conversation_id IN ({marks})", tuple(convs))
            removed[table] = cur.rowcount
        store.conn.execute("DELETE FROM conversations WHERE contact_id=?", (contact_id,))
        store.conn.execute("DELETE FROM contacts WHERE id=?", (contact_id,))
    removed["conversations"] = len(convs)
    return removed


def contact_public(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    cid = row["id"]
    return {
        "id": cid,
        "name": store.unseal(row["name"], "contacts", "name", cid),
        "phone": store.unseal(row["phone"], "contacts", "phone", cid),
        "is_group": bool(row["is_group"]),
        "stage": row["stage"],
        "value": row["value"],
        "tags": store.unseal_json(row["tags"], "contacts", "tags", cid) or [],
        "notes": store.unseal(row["notes"], "contacts", "notes", cid) or "",
        "owner": row["owner_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def update_contact(store: Store, contact_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    with store.transaction():
        row = store.q1("SELECT * FROM contacts WHERE id=?", (contact_id,))
        if not row:
            raise RecordNotFound("contact not found")
        kid = row["kid"]
        sets: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("stage", "value", "owner_id"):
                sets[key] = value
            elif key in ("name", "notes", "phone"):
                sets[key] = store.seal(kid, "contacts", key, contact_id, value)
                if key == "phone":
                    sets["phone_hash"] = store.index("phone", value) if value else None
            elif key == "tags":
                sets[key] = store.seal(kid, "contacts", "tags", contact_id, value)
        sets["updated_at"] = time.time()
        cols = ", ".join(f"{k}=?" for k in sets)
        store.conn.execute(f"UPDATE contacts SET {cols} WHERE id=?", (*sets.values(), contact_id))
    return contact(store, contact_id)


def set_status(store: Store, conversation_id: str, status: str) -> None:
    now = time.time()
    with store.transaction():
        store.conn.execute(
            "UPDATE conversations SET status=?, updated_at=?, resolved_at=? WHERE id=?",
            (status, now, now if status == "resolved" else None, conversation_id),
        )
