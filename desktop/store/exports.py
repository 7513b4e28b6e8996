"""Rows for the CSV exports (read in keyset-paged batches, so an export of any size holds one
batch at a time) and a contact's full dossier for an LGPD access request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from desktop.store import chats, insights
from desktop.store.database import Store
from desktop.store.errors import KeyMissing

# Column names are part of the API (Power BI reports bind to them): only ever add at the end.
CONTACT_COLUMNS = (
    "id", "name", "phone", "is_group", "stage", "value", "tags", "notes", "owner_id", "owner",
    "created_at", "updated_at",
)  # fmt: skip
CONVERSATION_COLUMNS = (
    "id", "contact_id", "owner_id", "owner", "status", "is_group", "verified", "message_count", "stage", "value",
    "sentiment", "sentiment_score", "intent", "created_at", "updated_at", "last_message_at", "resolved_at",
)  # fmt: skip
INSIGHT_COLUMNS = (
    "id", "conversation_id", "contact_id", "state", "sentiment", "sentiment_score", "intent", "intent_confidence",
    "model", "created_at", "updated_at",
)  # fmt: skip
TEXT_COLUMNS = {"name", "phone", "tags", "notes", "owner"}  # what a user typed or WhatsApp showed


def iso(ts: float | None) -> str | None:
    """A stored epoch time as ISO 8601 in UTC (`2026-03-10T12:14:00Z`)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def contacts_batch(store: Store, after: str, limit: int) -> list[dict[str, Any]]:
    rows = store.q(
        "SELECT k.*, u.username FROM contacts k LEFT JOIN users u ON u.id = k.owner_id"
        " WHERE k.id > ? ORDER BY k.id LIMIT ?",
        (after, limit),
    )
    out = []
    for r in rows:
        try:
            card = chats.contact_public(store, r)
        except KeyMissing:  # erased while the export runs
            continue
        out.append(
            {
                **card,
                "tags": "|".join(card["tags"]),
                "owner_id": r["owner_id"],
                "owner": r["username"],
                "created_at": iso(r["created_at"]),
                "updated_at": iso(r["updated_at"]),
            }
        )
    return out


def conversations_batch(store: Store, after: str, limit: int) -> list[dict[str, Any]]:
    rows = store.q(
        "SELECT c.*, k.stage, k.value, coalesce(k.owner_id, c.owner_id) AS eff_owner, u.username,"
        " i.sentiment_label, i.sentiment_score, i.intent_label"
        " FROM conversations c JOIN contacts k ON k.id = c.contact_id"
        " LEFT JOIN users u ON u.id = coalesce(k.owner_id, c.owner_id)"
        " LEFT JOIN insights i ON i.id = (SELECT id FROM insights WHERE conversation_id = c.id"
        "   ORDER BY created_at DESC, rowid DESC LIMIT 1)"
        " WHERE c.id > ? ORDER BY c.id LIMIT ?",
        (after, limit),
    )
    return [
        {
            "id": r["id"],
            "contact_id": r["contact_id"],
            "owner_id": r["eff_owner"],
            "owner": r["username"],
            "status": r["status"],
            "is_group": bool(r["is_group"]),
            "verified": bool(r["verified"]),
            "message_count": r["message_count"] or 0,
            "stage": r["stage"],
            "value": r["value"],
            "sentiment": r["sentiment_label"],
            "sentiment_score": r["sentiment_score"],
            "intent": r["intent_label"],
            "created_at": iso(r["created_at"]),
            "updated_at": iso(r["updated_at"]),
            "last_message_at": r["last_message_at"] or None,  # the chat's own local time, as captured
            "resolved_at": iso(r["resolved_at"]),
        }
        for r in rows
    ]


def insights_batch(store: Store, after: str, limit: int) -> list[dict[str, Any]]:
    rows = store.q(
        "SELECT i.id, i.conversation_id, c.contact_id, i.state, i.sentiment_label, i.sentiment_score,"
        " i.intent_label, i.intent_confidence, i.model, i.created_at, i.updated_at"
        " FROM insights i JOIN conversations c ON c.id = i.conversation_id WHERE i.id > ? ORDER BY i.id LIMIT ?",
        (after, limit),
    )
    return [
        {
            "id": r["id"],
            "conversation_id": r["conversation_id"],
            "contact_id": r["contact_id"],
            "state": r["state"],
            "sentiment": r["sentiment_label"],
            "sentiment_score": r["sentiment_score"],
            "intent": r["intent_label"],
            "intent_confidence": r["intent_confidence"],
            "model": r["model"],
            "created_at": iso(r["created_at"]),
            "updated_at": iso(r["updated_at"]),
        }
        for r in rows
    ]


BATCHES = {
    "contacts": (CONTACT_COLUMNS, contacts_batch),
    "conversations": (CONVERSATION_COLUMNS, conversations_batch),
    "insights": (INSIGHT_COLUMNS, insights_batch),
}


def next_batch(store: Store, kind: str, after: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The rows after id `after`, and the id to continue from (None: that was the last batch).
    The key is the last id read, not the last returned: a contact erased meanwhile is skipped."""
    last = store.q1(
        f"SELECT max(id) AS id FROM (SELECT id FROM {kind} WHERE id > ? ORDER BY id LIMIT ?)", (after, limit)
    )
    if not last or last["id"] is None:
        return [], None
    rows = BATCHES[kind][1](store, after, limit)
    rows = [r for r in rows if r["id"] <= last["id"]]
    return rows, last["id"]


def contact_dossier(store: Store, contact_id: str) -> dict[str, Any]:
    """Everything held about a contact, decrypted: card, conversations with their messages,
    insights, label corrections and suggestion feedback."""
    card = chats.contact(store, contact_id)  # RecordNotFound
    card["created_at"], card["updated_at"] = iso(card["created_at"]), iso(card["updated_at"])
    convs = []
    for c in store.q("SELECT id FROM conversations WHERE contact_id=? ORDER BY created_at", (contact_id,)):
        row = chats.conversation_row(store, c["id"])
        cid = row["id"]
        convs.append(
            {
                "id": cid,
                "title": store.unseal(row["title"], "conversations", "title", cid),
                "status": row["status"],
                "is_group": bool(row["is_group"]),
                "owner_id": row["owner_id"],
                "created_at": iso(row["created_at"]),
                "updated_at": iso(row["updated_at"]),
                "resolved_at": iso(row["resolved_at"]),
                "messages": chats.messages(store, cid, row["kid"]),
                "insights": [
                    insights.public(store, i)
                    for i in store.q("SELECT * FROM insights WHERE conversation_id=? ORDER BY created_at", (cid,))
                ],
                "corrections": [
                    {
                        "id": r["id"],
                        "user_id": r["user_id"],
                        "task": r["task"],
                        "label": r["label"],
                        "lang": r["lang"],
                        "text": store.unseal(r["text"], "label_corrections", "text", r["id"]),
                        "created_at": iso(r["created_at"]),
                    }
                    for r in store.q(
                        "SELECT * FROM label_corrections WHERE conversation_id=? ORDER BY created_at", (cid,)
                    )
                ],
                "feedback": [
                    {**r, "created_at": iso(r["created_at"])}
                    for r in store.q(
                        "SELECT suggestion_id, insight_id, user_id, action, created_at FROM suggestion_feedback"
                        " WHERE conversation_id=? ORDER BY created_at",
                        (cid,),
                    )
                ],
            }
        )
    return {"exported_at": iso(datetime.now(UTC).timestamp()), "contact": card, "conversations": convs}
