"""The team's past replies as (customer turn → attendant reply) pairs, read from the stored
conversations (decrypted with each contact's key, never written anywhere else).

An erased contact's key is gone, so its pairs cannot be read again; the service's in-memory
index drops them at the erase itself.
"""

from __future__ import annotations

from typing import Any

from desktop.store import chats
from desktop.store.database import Store
from desktop.store.errors import KeyMissing, RecordNotFound

MAX_TURN_MESSAGES = 3  # the customer's last messages before the reply make their turn
MAX_REPLY_CHARS = 400  # the attendant's consecutive messages are joined up to this length
MAX_MESSAGES = 400  # a chat's latest messages are read for pairs: re-reading one stays cheap


def conversation_ids(store: Store, after: str = "", limit: int = 200) -> list[str]:
    """One-to-one conversations with messages, by id, in pages (groups mix several customers)."""
    rows = store.q(
        "SELECT id FROM conversations WHERE is_group=0 AND message_count>0 AND id>? ORDER BY id LIMIT ?",
        (after, limit),
    )
    return [r["id"] for r in rows]


def pairs(store: Store, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's (customer turn, reply) pairs, oldest first, each with the intent the
    analysis gave the customer's turn (None when none was stored) and the names to mask."""
    try:
        row = chats.conversation_row(store, conversation_id)
        if row["is_group"]:
            return []
        msgs = chats.messages(store, conversation_id, row["kid"], limit=MAX_MESSAGES)
        contact = chats.contact(store, row["contact_id"])
    except (RecordNotFound, KeyMissing):
        return []
    intents = {
        r["analyzed_message_id"]: r["intent_label"]
        for r in store.q(
            "SELECT analyzed_message_id, intent_label FROM insights"
            " WHERE conversation_id=? AND intent_label IS NOT NULL"
            " ORDER BY created_at",
            (conversation_id,),
        )
    }
    names = [contact["name"], *{m["author"] for m in msgs if m["direction"] == "in" and m["author"]}]
    out: list[dict[str, Any]] = []
    turn: list[dict[str, Any]] = []
    reply: list[str] = []

    def close() -> None:
        if turn and reply:
            text = reply[0]
            for more in reply[1:]:
                if len(text) + 1 + len(more) > MAX_REPLY_CHARS:
                    break
                text = f"{text} {more}"
            last = turn[-MAX_TURN_MESSAGES:]
            intent = next((intents[m["id"]] for m in reversed(turn) if m["id"] in intents), None)
            out.append(
                {
                    "customer_turn": " ".join(m["text"] for m in last),
                    "reply": text,
                    "intent": intent,
                    "message_id": reply_ids[0],
                }
            )

    reply_ids: list[str] = []
    for m in msgs:
        if m["kind"] != "text" or not (m["text"] or "").strip():
            continue
        if m["direction"] == "in":
            if reply:
                close()
                turn, reply, reply_ids = [], [], []
            turn.append(m)
        elif turn:
            reply.append(m["text"].strip())
            reply_ids.append(m["id"])
    close()
    for p in out:
        p["names"] = names
    return out
