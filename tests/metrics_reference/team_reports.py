"""Read models for the team side of /metrics: feedback counts, attendants, per-conversation activity
as of an instant, contact sentiment history, and contact names (decrypted for the listed few)."""

from __future__ import annotations

from typing import Any

from desktop.store.database import Store
from desktop.store.errors import KeyMissing

# The same visibility rule as reports._VISIBLE: an attendant's contacts, or unowned chats they captured.
_VISIBLE = "(coalesce(k.owner_id, c.owner_id) = :owner)"


def feedback_counts(store: Store, owner: str | None, start: float | None, end: float | None) -> list[dict[str, Any]]:
    """(user_id, action, n) of suggestion feedback given in [start, end)."""
    where = ["1=1"]
    if owner:
        where.append("f.user_id = :owner")
    if start is not None:
        where.append("f.created_at >= :start")
    if end is not None:
        where.append("f.created_at < :end")
    return store.q(
        "SELECT f.user_id, f.action, count(*) AS n FROM suggestion_feedback f WHERE "
        + " AND ".join(where)
        + " GROUP BY f.user_id, f.action",
        {"owner": owner, "start": start, "end": end},
    )


def usernames(store: Store) -> dict[str, str]:
    return {r["id"]: r["username"] for r in store.q("SELECT id, username FROM users")}


def activity(store: Store, owner: str | None, wall_before: str) -> list[dict[str, Any]]:
    """Per conversation, from messages stored before `wall_before` (a wall-clock string): its contact,
    the last message, the last reply and the first customer message after that reply (a wait)."""
    visible = ("AND " + _VISIBLE) if owner else ""
    return store.q(
        "SELECT x.contact_id, x.conversation_id, x.last_any, x.last_out, "
        " (SELECT min(m2.sort_ts) FROM messages m2 WHERE m2.conversation_id = x.conversation_id"
        "  AND m2.direction = 'in' AND m2.kind != 'system' AND m2.sort_ts > coalesce(x.last_out, '')"
        "  AND m2.sort_ts < :before) AS waiting_since "
        "FROM (SELECT c.contact_id, m.conversation_id, max(m.sort_ts) AS last_any,"
        "  max(CASE WHEN m.direction = 'out' THEN m.sort_ts END) AS last_out"
        "  FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id"
        "  WHERE m.kind != 'system' AND m.sort_ts != '' AND m.sort_ts < :before "
        + visible
        + " GROUP BY m.conversation_id) x",
        {"owner": owner, "before": wall_before},
    )


def contact_sentiments(store: Store, owner: str | None) -> list[dict[str, Any]]:
    """Every labelled analysis as (contact_id, sentiment_label, created_at), oldest first."""
    visible = ("AND " + _VISIBLE) if owner else ""
    return store.q(
        "SELECT c.contact_id, i.sentiment_label, i.created_at FROM insights i "
        "JOIN conversations c ON c.id = i.conversation_id JOIN contacts k ON k.id = c.contact_id "
        "WHERE i.sentiment_label IS NOT NULL " + visible + " ORDER BY i.created_at, i.rowid",
        {"owner": owner},
    )


def contact_names(store: Store, ids: list[str]) -> dict[str, str | None]:
    """Decrypted names of these contacts; None for one whose key was erased."""
    out: dict[str, str | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for r in store.q(f"SELECT id, name FROM contacts WHERE id IN ({marks})", tuple(chunk)):
            try:
                out[r["id"]] = store.unseal(r["name"], "contacts", "name", r["id"])
            except KeyMissing:
                out[r["id"]] = None
    return out
