"""Contacts, conversations and messages: storing captures and reading them back decrypted."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from desktop.pipeline import FIRST_STAGE
from desktop.store.database import Store, new_id
from desktop.store.errors import KeyMissing, RecordNotFound

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
            if not conv["verified"]:
                # Kept so a later merge into the real chat can re-key this message's de-duplication.
                store.conn.execute(
                    "UPDATE messages SET ident=? WHERE id=?",
                    (store.seal(kid, "messages", "ident", mid, message_identity(msg["id"])), mid),
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


_CONVERSATION = (
    "SELECT c.id, c.contact_id, c.chat_hash, c.message_count, c.last_message_at, c.owner_id, c.verified, k.kid"
    " FROM conversations c JOIN contacts k ON k.id = c.contact_id "
)


def _find_or_create_conversation(store: Store, chat: dict[str, Any], user_id: str) -> dict[str, Any]:
    """A chat id names one chat for everyone. Without it the title is only a guess (two customers
    may share a display name), so it joins only a conversation this attendant started with that
    title, else starts an unverified one; a later capture with the chat id adopts or merges that."""
    title = chat.get("title") or ""
    title_hash = store.index("title", title) if title else None
    chat_hash = store.index("chat", chat["id"]) if chat.get("id") else None
    if chat_hash is None:
        row = store.q1(
            _CONVERSATION + "WHERE c.title_hash=? AND c.owner_id=? ORDER BY c.updated_at DESC LIMIT 1",
            (title_hash, user_id),
        )
        return row or _create_conversation(store, chat, title, title_hash, None, user_id)
    guesses = _unverified(store, title_hash, user_id) if title_hash else []
    row = store.q1(_CONVERSATION + "WHERE c.chat_hash=?", (chat_hash,))
    if row is None and guesses:
        row = guesses.pop(0)
        _verify(store, row, chat, chat_hash)
    if row is None:
        return _create_conversation(store, chat, title, title_hash, chat_hash, user_id)
    for guess in guesses:
        _merge(store, guess, row, user_id)
    if guesses:
        row = store.q1(_CONVERSATION + "WHERE c.id=?", (row["id"],))
    return row


def _unverified(store: Store, title_hash: str | None, user_id: str) -> list[dict[str, Any]]:
    return store.q(
        _CONVERSATION + "WHERE c.title_hash=? AND c.owner_id=? AND c.verified=0 ORDER BY c.updated_at DESC",
        (title_hash, user_id),
    )


def _create_conversation(
    store: Store, chat: dict[str, Any], title: str, title_hash: str | None, chat_hash: str | None, user_id: str
) -> dict[str, Any]:
    contact = _find_or_create_contact(store, chat, title, title_hash)
    cid = new_id("c")
    now = time.time()
    verified = int(chat_hash is not None)
    store.conn.execute(
        "INSERT INTO conversations(id, contact_id, chat_hash, title_hash, title, is_group, status, owner_id,"
        " created_at, updated_at, message_count, verified) VALUES (?,?,?,?,?,?,?,?,?,?,0,?)",
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
            verified,
        ),
    )
    return {
        "id": cid,
        "contact_id": contact["id"],
        "chat_hash": chat_hash,
        "kid": contact["kid"],
        "message_count": 0,
        "owner_id": user_id,
        "verified": verified,
    }


def _find_or_create_contact(store: Store, chat: dict[str, Any], title: str, title_hash: str | None) -> dict[str, Any]:
    # Only a chat id finds an existing contact: a title alone gets a contact of its own.
    jid_hash = store.index("jid", chat["id"]) if chat.get("id") else None
    if jid_hash:
        row = store.q1("SELECT id, kid FROM contacts WHERE jid_hash=?", (jid_hash,))
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


def _verify(store: Store, conv: dict[str, Any], chat: dict[str, Any], chat_hash: str) -> None:
    """The first capture with the chat id adopts the attendant's unverified conversation."""
    store.conn.execute("UPDATE conversations SET chat_hash=?, verified=1 WHERE id=?", (chat_hash, conv["id"]))
    store.conn.execute("UPDATE messages SET ident=NULL WHERE conversation_id=?", (conv["id"],))
    conv["chat_hash"], conv["verified"] = chat_hash, 1
    jid_hash = store.index("jid", chat["id"])
    contact = store.q1("SELECT id, kid, jid_hash, phone FROM contacts WHERE id=?", (conv["contact_id"],))
    if contact["jid_hash"] or store.q1("SELECT 1 FROM contacts WHERE jid_hash=?", (jid_hash,)):
        return
    sets: dict[str, Any] = {"jid_hash": jid_hash}
    phone = chat.get("phone")
    if phone and contact["phone"] is None:
        sets |= {"phone": store.seal(contact["kid"], "contacts", "phone", contact["id"], phone)}
        sets |= {"phone_hash": store.index("phone", phone)}
    cols = ", ".join(f"{k}=?" for k in sets)
    store.conn.execute(f"UPDATE contacts SET {cols} WHERE id=?", (*sets.values(), contact["id"]))


def _merge(store: Store, src: dict[str, Any], dst: dict[str, Any], user_id: str) -> None:
    """Move an unverified conversation into the real chat: its messages re-sealed with the real
    contact's key and re-keyed for de-duplication (a message both hold is kept once), its label
    corrections moved; its insights are dropped (the real chat's analysis covers the messages)."""
    kid = dst["kid"]
    seq = store.q1("SELECT coalesce(max(seq), 0) AS n FROM messages WHERE conversation_id=?", (dst["id"],))["n"]
    moved = duplicates = 0
    for m in store.q("SELECT * FROM messages WHERE conversation_id=? ORDER BY sort_ts, seq", (src["id"],)):
        try:
            ident = store.unseal(m["ident"], "messages", "ident", m["id"])
            text = store.unseal(m["text"], "messages", "text", m["id"])
            author = store.unseal(m["author"], "messages", "author", m["id"])
        except KeyMissing:
            ident, text, author = None, None, None
        # Rows stored before identities were kept (no `ident`) keep their old hash.
        h = store.index("msg:" + dst["id"], ident) if ident is not None else m["msg_hash"]
        if store.conn.execute(
            "SELECT 1 FROM messages WHERE conversation_id=? AND msg_hash=?", (dst["id"], h)
        ).fetchone():
            store.conn.execute("DELETE FROM messages WHERE id=?", (m["id"],))
            duplicates += 1
            continue
        seq += 1
        store.conn.execute(
            "UPDATE messages SET conversation_id=?, msg_hash=?, text=?, author=?, ident=NULL, seq=? WHERE id=?",
            (
                dst["id"],
                h,
                _reseal_message(store, kid, "text", m["id"], text),
                _reseal_message(store, kid, "author", m["id"], author),
                seq,
                m["id"],
            ),
        )
        moved += 1
    for c in store.q("SELECT id, text, features FROM label_corrections WHERE conversation_id=?", (src["id"],)):
        text = store.unseal(c["text"], "label_corrections", "text", c["id"])
        feats = store.unseal(c["features"], "label_corrections", "features", c["id"])
        store.conn.execute(
            "UPDATE label_corrections SET conversation_id=?, text=?, features=? WHERE id=?",
            (
                dst["id"],
                store.seal(kid, "label_corrections", "text", c["id"], text),
                store.seal(kid, "label_corrections", "features", c["id"], feats),
                c["id"],
            ),
        )
    for table in ("suggestion_feedback", "insights"):
        store.conn.execute(f"DELETE FROM {table} WHERE conversation_id=?", (src["id"],))
    store.conn.execute("DELETE FROM conversations WHERE id=?", (src["id"],))
    if src["contact_id"] != dst["contact_id"]:
        _carry_over_contact(store, src["contact_id"], dst["contact_id"])
        if not store.q1("SELECT 1 FROM conversations WHERE contact_id=?", (src["contact_id"],)):
            store.conn.execute("DELETE FROM contacts WHERE id=?", (src["contact_id"],))
    store.conn.execute(
        "UPDATE conversations SET message_count=(SELECT count(*) FROM messages WHERE conversation_id=:id),"
        " last_message_at=max(coalesce(last_message_at, ''), :last), updated_at=:now WHERE id=:id",
        {"id": dst["id"], "last": src["last_message_at"] or "", "now": time.time()},
    )
    store.conn.execute(
        "INSERT INTO audit_log(at, user_id, action, target, detail) VALUES (?,?,?,?,?)",
        (time.time(), user_id, "conversation.merge", dst["id"], f"from {src['id']}: {moved} moved, {duplicates} dup"),
    )


def _carry_over_contact(store: Store, src_id: str, dst_id: str) -> None:
    """What the attendant wrote on the unverified contact's card fills what the real one lacks."""
    src = store.q1("SELECT * FROM contacts WHERE id=?", (src_id,))
    dst = store.q1("SELECT * FROM contacts WHERE id=?", (dst_id,))
    sets: dict[str, Any] = {}
    if dst["stage"] == FIRST_STAGE and src["stage"] != FIRST_STAGE:
        sets["stage"] = src["stage"]
    for key in ("value", "owner_id"):
        if dst[key] is None and src[key] is not None:
            sets[key] = src[key]
    if dst["notes"] is None and src["notes"] is not None:
        notes = store.unseal(src["notes"], "contacts", "notes", src_id)
        sets["notes"] = store.seal(dst["kid"], "contacts", "notes", dst_id, notes)
    tags = store.unseal_json(src["tags"], "contacts", "tags", src_id) or []
    if tags:
        have = store.unseal_json(dst["tags"], "contacts", "tags", dst_id) or []
        merged = have + [t for t in tags if t not in have]
        if merged != have:
            sets["tags"] = store.seal(dst["kid"], "contacts", "tags", dst_id, merged)
    if sets:
        sets["updated_at"] = time.time()
        cols = ", ".join(f"{k}=?" for k in sets)
        store.conn.execute(f"UPDATE contacts SET {cols} WHERE id=?", (*sets.values(), dst_id))


def _reseal_message(store: Store, kid: str, column: str, message_id: str, value: str | None) -> bytes | None:
    # Sealed exactly as store_capture seals a new message of the target conversation.
    return store.seal(kid, "messages", column, message_id, value)


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
        for table in (
            "messages",
            "suggestion_feedback",
            "insights",
            "label_corrections",
            "followups",
            "conversation_events",
        ):
            cur = store.conn.execute(f"DELETE FROM {table} WHERE conversation_id IN ({marks})", tuple(convs))
            removed[table] = cur.rowcount
        store.conn.execute("DELETE FROM conversation_events WHERE contact_id=?", (contact_id,))
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
        "company": store.unseal(row.get("company"), "contacts", "company", cid),
        "external_id": store.unseal(row.get("external_id"), "contacts", "external_id", cid),
        "lead_score": row.get("lead_score"),
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
