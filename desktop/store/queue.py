"""Read model of the attendant's queue: per open conversation, the last reply, the first customer
message no reply followed yet, the latest mood, the hand-over; and the due follow-ups.
Only clear metadata is read here, except the titles and notes of the rows the caller keeps."""

from __future__ import annotations

from typing import Any

from desktop.store.database import Store
from desktop.store.errors import KeyMissing

# Visibility is reports._VISIBLE's rule, coalesce(k.owner_id, c.owner_id) = owner, written below
# as two halves that each use an index.
_CANDIDATES = (
    # The owner's open chats first (two indexed halves of the visibility rule), then per chat only.
    "WITH mine(id) AS MATERIALIZED ("
    " SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id"
    "  WHERE c.owner_id = :owner AND c.status IN ('open', 'pending') AND k.owner_id IS NULL"
    " UNION ALL SELECT c.id FROM contacts k CROSS JOIN conversations c ON c.contact_id = k.id"
    "  WHERE k.owner_id = :owner AND c.status IN ('open', 'pending')) "
    "SELECT c.id, c.status, c.contact_id, c.transferred_at, c.transferred_by,"
    " (SELECT min(m.sort_ts) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in'"
    "   AND m.kind != 'system' AND m.sort_ts > coalesce((SELECT max(o.sort_ts) FROM messages o"
    "   WHERE o.conversation_id = c.id AND o.direction = 'out'), '')"
    # A resolution closes the wait too: what the customer wrote before it no longer waits.
    "   AND m.created_at > coalesce((SELECT max(e.at) FROM conversation_events e WHERE e.conversation_id = c.id"
    "   AND e.kind = 'status' AND e.value = 'resolved'), 0)) AS waiting_since,"
    " (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'out'"
    "   AND m.created_at > c.transferred_at LIMIT 1) AS answered_since_transfer,"
    " (SELECT i.sentiment_label || ' ' || i.created_at FROM insights i WHERE i.conversation_id = c.id"
    "   AND i.sentiment_label IS NOT NULL ORDER BY i.created_at DESC LIMIT 1) AS model_mood,"
    " (SELECT l.label || ' ' || l.created_at FROM label_corrections l WHERE l.conversation_id = c.id"
    "   AND l.task = 'sentiment' ORDER BY l.created_at DESC LIMIT 1) AS corrected_mood "
    "FROM mine CROSS JOIN conversations c ON c.id = mine.id"
)


def candidates(store: Store, owner: str) -> list[dict[str, Any]]:
    """Every open or pending conversation of `owner` with what the queue is computed from."""
    rows = store.q(_CANDIDATES, {"owner": owner})
    for r in rows:
        r["sentiment"] = _latest_mood(r.pop("model_mood"), r.pop("corrected_mood"))
    return rows


def _latest_mood(model: str | None, corrected: str | None) -> str | None:
    """The newer of the model's label and the attendant's correction ("label created_at")."""
    best = None
    for value in (model, corrected):
        if value:
            label, _, at = value.partition(" ")
            if best is None or float(at) >= best[1]:
                best = (label, float(at))
    return best[0] if best else None


def due_followups(store: Store, user_id: str, now: float) -> list[dict[str, Any]]:
    return store.q(
        "SELECT f.id, f.conversation_id, f.due_at, f.note, c.status, c.contact_id FROM followups f"
        " JOIN conversations c ON c.id = f.conversation_id"
        " WHERE f.user_id = ? AND f.done_at IS NULL AND f.due_at <= ? ORDER BY f.due_at, f.id",
        (user_id, now),
    )


def sealed_fields(store: Store, conversation_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Decrypted title and transfer note of these conversations (None where a key was erased)."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for r in store.q(f"SELECT id, title, transfer_note FROM conversations WHERE id IN ({marks})", tuple(chunk)):
            try:
                title = store.unseal(r["title"], "conversations", "title", r["id"])
                note = store.unseal(r["transfer_note"], "conversations", "transfer_note", r["id"])
            except KeyMissing:
                title = note = None
            out[r["id"]] = {"title": title, "transfer_note": note}
    return out
