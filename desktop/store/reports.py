"""Read models: conversation and contact lists, visibility checks, rows for metrics."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from desktop.store import chats
from desktop.store.database import Store
from desktop.store.errors import KeyMissing

# Attendants see a conversation when its contact is theirs, or it has no owner and they captured it first.
_VISIBLE = "(coalesce(k.owner_id, c.owner_id) = :owner)"


def conversations_page(store: Store, owner: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
    limit = max(1, min(limit, 200))
    where = [_VISIBLE] if owner else []
    params: dict[str, Any] = {"owner": owner, "limit": limit + 1}
    if cursor:
        ts, cid = _decode_cursor(cursor)
        where.append("(c.updated_at < :ts OR (c.updated_at = :ts AND c.id < :cid))")
        params |= {"ts": ts, "cid": cid}
    sql = (
        "SELECT c.*, k.name AS contact_name, k.stage, k.value, k.owner_id AS contact_owner, "
        "(SELECT json_object('state', i.state, 'sentiment', i.sentiment_label, 'intent', i.intent_label, "
        " 'score', i.sentiment_score) FROM insights i WHERE i.conversation_id=c.id "
        " ORDER BY i.created_at DESC LIMIT 1) AS last_insight "
        "FROM conversations c JOIN contacts k ON k.id=c.contact_id "
        + ("WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit"
    )
    rows = store.q(sql, params)
    items = []
    for r in rows[:limit]:
        try:
            title = store.unseal(r["title"], "conversations", "title", r["id"])
        except KeyMissing:
            title = None
        ins = json.loads(r["last_insight"]) if r["last_insight"] else None
        items.append(
            {
                "id": r["id"],
                "title": title,
                "status": r["status"],
                "is_group": bool(r["is_group"]),
                "verified": bool(r["verified"]),
                "contact_id": r["contact_id"],
                "stage": r["stage"],
                "value": r["value"],
                "owner": chats.effective_owner(r),
                "message_count": r["message_count"],
                "last_message_at": r["last_message_at"],
                "insight": {
                    "state": ins["state"],
                    "sentiment": ins["sentiment"],
                    "score": ins["score"],
                    "intent": ins["intent"],
                }
                if ins
                else None,
            }
        )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = base64.urlsafe_b64encode(json.dumps([last["updated_at"], last["id"]]).encode()).decode()
    return {"items": items, "next_cursor": next_cursor}


def _decode_cursor(cursor: str) -> tuple[float, str]:
    """The (updated_at, id) a page ended at; anything but what conversations_page wrote is refused."""
    from desktop.errors import InvalidInput

    try:
        ts, cid = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8"))
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not isinstance(cid, str):
            raise TypeError
        cid.encode("utf-8")  # a lone surrogate cannot be bound: UnicodeEncodeError
        ts = float(ts)  # an integer too large for SQLite raises OverflowError here
        if not math.isfinite(ts):
            raise ValueError
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        raise InvalidInput("cursor is not valid", code="invalid_cursor", field="cursor") from None
    return ts, cid


def contacts(store: Store, owner: str | None) -> list[dict[str, Any]]:
    if owner:
        rows = store.q(
            "SELECT DISTINCT k.* FROM contacts k JOIN conversations c ON c.contact_id=k.id WHERE "
            + _VISIBLE
            + " ORDER BY k.updated_at DESC",
            {"owner": owner},
        )
    else:
        rows = store.q("SELECT * FROM contacts ORDER BY updated_at DESC")
    out = []
    for r in rows:
        try:
            out.append(chats.contact_public(store, r))
        except KeyMissing:
            continue
    return out


def waiting_since(store: Store, conversation_ids: list[str]) -> dict[str, str]:
    """Conversation id -> the stored time of the customer's first message after the last reply
    (only for conversations whose customer is waiting); the list's waiting time."""
    if not conversation_ids:
        return {}
    marks = ",".join("?" * len(conversation_ids))
    rows = store.q(
        "SELECT x.conversation_id, "
        " (SELECT min(m2.sort_ts) FROM messages m2 WHERE m2.conversation_id = x.conversation_id"
        "  AND m2.direction = 'in' AND m2.kind != 'system' AND m2.sort_ts > coalesce(x.last_out, '')) AS since "
        "FROM (SELECT m.conversation_id, max(CASE WHEN m.direction = 'out' THEN m.sort_ts END) AS last_out"
        f"  FROM messages m WHERE m.conversation_id IN ({marks}) AND m.kind != 'system' AND m.sort_ts != ''"
        "  GROUP BY m.conversation_id) x",
        tuple(conversation_ids),
    )
    return {r["conversation_id"]: r["since"] for r in rows if r["since"]}


def conversation_ids_of_contact(store: Store, contact_id: str) -> list[str]:
    return [r["id"] for r in store.q("SELECT id FROM conversations WHERE contact_id=?", (contact_id,))]


def contact_visible(store: Store, contact_id: str, owner: str) -> bool:
    return (
        store.q1(
            "SELECT 1 FROM contacts k JOIN conversations c ON c.contact_id=k.id WHERE k.id=:id AND " + _VISIBLE,
            {"id": contact_id, "owner": owner},
        )
        is not None
    )


def insight_owner(store: Store, insight_id: str) -> dict[str, Any] | None:
    return store.q1("SELECT conversation_id FROM insights WHERE id=?", (insight_id,))


def metric_rows(store: Store, owner: str | None, wall_until: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Clear metadata only (directions, times, labels, stages): nothing needs decrypting.
    Messages are read once, in conversation order, those stored before `wall_until` (a wall-clock
    string; None reads them all): the period's figures and the health score's activity come from
    the same rows, and the caller applies the exact windows."""
    where = "WHERE " + _VISIBLE if owner else ""
    params = {"owner": owner, "wall_until": wall_until}
    convs = store.q(
        "SELECT c.id, c.contact_id, c.status, c.created_at, c.resolved_at, c.owner_id, k.owner_id AS contact_owner, "
        "k.stage, k.value FROM conversations c JOIN contacts k ON k.id=c.contact_id " + where,
        params,
    )
    msg_where = " AND ".join(([_VISIBLE] if owner else []) + (["m.sort_ts < :wall_until"] if wall_until else []))
    # The joins only decide visibility: an admin's query reads the messages' own index alone.
    joins = "JOIN conversations c ON c.id=m.conversation_id JOIN contacts k ON k.id=c.contact_id " if owner else ""
    msgs = store.q(
        "SELECT m.conversation_id, m.direction, m.kind, m.ts, m.sort_ts FROM messages m "
        + joins
        + ("WHERE " + msg_where if msg_where else "")
        + " ORDER BY m.conversation_id, m.sort_ts, m.seq",
        params,
    )
    labels = store.q(
        "SELECT i.conversation_id, i.sentiment_label, i.intent_label, i.created_at FROM insights i "
        "JOIN conversations c ON c.id=i.conversation_id JOIN contacts k ON k.id=c.contact_id "
        "WHERE i.sentiment_label IS NOT NULL " + ("AND " + _VISIBLE if owner else "") + " ORDER BY i.created_at",
        params,
    )
    contacts_rows = store.q(
        "SELECT DISTINCT k.id, k.stage, k.value FROM contacts k JOIN conversations c ON c.contact_id=k.id " + where,
        params,
    )
    return {"conversations": convs, "messages": msgs, "labels": labels, "contacts": contacts_rows}
