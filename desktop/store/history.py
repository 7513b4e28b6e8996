"""The contact's history: every period of each of its conversations (from its start or a re-open
to its resolution), with the analyses, hand-overs, stage changes and follow-ups of that time."""

from __future__ import annotations

import bisect
import math
from typing import Any

from desktop.store.database import Store
from desktop.store.errors import KeyMissing

_REOPENING = ("open", "pending")


def periods(store: Store, contact_id: str) -> list[dict[str, Any]]:
    """Every period of the contact's conversations, newest first, without decrypted fields."""
    convs = store.q(
        "SELECT id, created_at, status, resolved_at FROM conversations WHERE contact_id=? ORDER BY created_at",
        (contact_id,),
    )
    events = store.q(
        "SELECT conversation_id, at, kind, value FROM conversation_events WHERE contact_id=?"
        " AND kind IN ('status', 'reopen') ORDER BY at, rowid",
        (contact_id,),
    )
    by_conv: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_conv.setdefault(e["conversation_id"], []).append(e)
    out: list[dict[str, Any]] = []
    for c in convs:
        start, end = c["created_at"], None
        for e in by_conv.get(c["id"], []):
            if e["value"] == "resolved" and end is None:
                end = e["at"]
                out.append({"conversation_id": c["id"], "start": start, "end": end})
            elif e["value"] in _REOPENING and end is not None:
                start, end = e["at"], None
        if end is None:
            # Resolved before events were recorded: its resolution time closes the one period.
            closed = c["resolved_at"] if c["status"] == "resolved" else None
            out.append({"conversation_id": c["id"], "start": start, "end": closed})
    out.sort(key=lambda p: (p["start"], p["conversation_id"]), reverse=True)
    return out


def fill(store: Store, contact_id: str, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What happened in each period of `page`, decrypted: analyses (oldest first), hand-overs,
    stage changes (the contact's, placed in the period they fall in) and follow-ups."""
    if not page:
        return []
    conv_ids = sorted({p["conversation_id"] for p in page})
    marks = ",".join("?" * len(conv_ids))
    insights = store.q(
        f"SELECT id, conversation_id, sentiment_label, sentiment_score, intent_label, summary, created_at"
        f" FROM insights WHERE conversation_id IN ({marks}) AND state='ready' ORDER BY created_at, rowid",
        tuple(conv_ids),
    )
    counts = store.q(
        f"SELECT conversation_id, created_at FROM messages WHERE conversation_id IN ({marks}) ORDER BY created_at",
        tuple(conv_ids),
    )
    transfers = store.q(
        f"SELECT id, conversation_id, at, user_id, value, note FROM conversation_events"
        f" WHERE conversation_id IN ({marks}) AND kind='transfer' ORDER BY at, rowid",
        tuple(conv_ids),
    )
    followups = store.q(
        f"SELECT id, conversation_id, due_at, note, done_at, created_at FROM followups"
        f" WHERE conversation_id IN ({marks}) ORDER BY created_at, id",
        tuple(conv_ids),
    )
    stages = store.q(
        "SELECT at, user_id, value FROM conversation_events WHERE contact_id=? AND kind='stage' ORDER BY at, rowid",
        (contact_id,),
    )
    msg_times: dict[str, list[float]] = {}
    for m in counts:
        msg_times.setdefault(m["conversation_id"], []).append(m["created_at"])
    out = []
    for p in page:
        lo, hi = p["start"], p["end"] if p["end"] is not None else math.inf
        cid = p["conversation_id"]

        def within(at: float, conv: str | None, own: str = cid, lo: float = lo, hi: float = hi) -> bool:
            return (conv is None or conv == own) and lo <= at < hi

        mine = [i for i in insights if within(i["created_at"], i["conversation_id"])]
        last = mine[-1] if mine else None
        summary = None
        for i in reversed(mine):
            if i["summary"] is not None:
                summary = _unseal(store, i["summary"], "insights", "summary", i["id"])
                break
        times = msg_times.get(cid, [])
        out.append(
            {
                "conversation_id": cid,
                "started_at": p["start"],
                "ended_at": p["end"],
                "messages": bisect.bisect_left(times, hi) - bisect.bisect_left(times, lo),
                "summary": summary,
                "sentiment": last["sentiment_label"] if last else None,
                "intent": last["intent_label"] if last else None,
                "sentiments": [
                    {"at": i["created_at"], "label": i["sentiment_label"], "score": i["sentiment_score"]}
                    for i in mine
                    if i["sentiment_label"]
                ],
                "transfers": [
                    {
                        "at": t["at"],
                        "by": t["user_id"],
                        "to": t["value"],
                        "note": _unseal(store, t["note"], "conversation_events", "note", t["id"]),
                    }
                    for t in transfers
                    if within(t["at"], t["conversation_id"])
                ],
                "stage_changes": [
                    {"at": s["at"], "by": s["user_id"], "stage": s["value"]} for s in stages if within(s["at"], None)
                ],
                "followups": [
                    {
                        "id": f["id"],
                        "due_at": f["due_at"],
                        "done": f["done_at"] is not None,
                        "note": _unseal(store, f["note"], "followups", "note", f["id"]) or "",
                    }
                    for f in followups
                    if within(f["created_at"], f["conversation_id"])
                ],
            }
        )
    return out


def _unseal(store: Store, blob: bytes | None, table: str, column: str, row_id: str) -> str | None:
    try:
        return store.unseal(blob, table, column, row_id)
    except KeyMissing:
        return None
