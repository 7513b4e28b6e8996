"""The contact's history: every period of each of its conversations (from its start or a re-open
to its resolution), with the analyses, hand-overs, stage changes and follow-ups of that time."""

from __future__ import annotations

import bisect
from typing import Any

from desktop.store.database import Store
from desktop.store.errors import KeyMissing

_REOPENING = ("open", "pending")
_END = 1e18  # an open period runs until now and beyond


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
    stage changes (the contact's, placed in the period they fall in) and follow-ups. Only rows in
    the page's time span are read; each period takes its slice by bisection."""
    if not page:
        return []
    conv_ids = sorted({p["conversation_id"] for p in page})
    marks = ",".join("?" * len(conv_ids))
    lo_all = min(p["start"] for p in page)
    hi_all = max(_END if p["end"] is None else p["end"] for p in page)
    span = (*conv_ids, lo_all, hi_all)
    insights = _by_conv(
        store.q(
            f"SELECT id, conversation_id, sentiment_label, sentiment_score, intent_label, summary, created_at AS at"
            f" FROM insights WHERE conversation_id IN ({marks}) AND created_at >= ? AND created_at < ?"
            f" AND state='ready' ORDER BY created_at, rowid",
            span,
        )
    )
    messages = _by_conv(
        store.q(
            f"SELECT conversation_id, created_at AS at FROM messages WHERE conversation_id IN ({marks})"
            f" AND created_at >= ? AND created_at < ? ORDER BY created_at",
            span,
        )
    )
    transfers = _by_conv(
        store.q(
            f"SELECT id, conversation_id, at, user_id, value, note FROM conversation_events"
            f" WHERE conversation_id IN ({marks}) AND at >= ? AND at < ? AND kind='transfer' ORDER BY at, rowid",
            span,
        )
    )
    followups = _by_conv(
        store.q(
            f"SELECT id, conversation_id, due_at, note, done_at, created_at AS at FROM followups"
            f" WHERE conversation_id IN ({marks}) AND created_at >= ? AND created_at < ? ORDER BY created_at, id",
            span,
        )
    )
    stages = store.q(
        "SELECT at, user_id, value FROM conversation_events WHERE contact_id=? AND kind='stage'"
        " AND at >= ? AND at < ? ORDER BY at, rowid",
        (contact_id, lo_all, hi_all),
    )
    stage_times = [s["at"] for s in stages]
    out = []
    for p in page:
        lo, hi = p["start"], _END if p["end"] is None else p["end"]
        cid = p["conversation_id"]

        def part(groups: dict[str, tuple[list[float], list[dict[str, Any]]]], cid: str = cid, lo=lo, hi=hi) -> list:
            times, rows = groups.get(cid, ([], []))
            return rows[bisect.bisect_left(times, lo) : bisect.bisect_left(times, hi)]

        mine = part(insights)
        last = mine[-1] if mine else None
        summary = None
        for i in reversed(mine):
            if i["summary"] is not None:
                summary = _unseal(store, i["summary"], "insights", "summary", i["id"])
                break
        out.append(
            {
                "conversation_id": cid,
                "started_at": p["start"],
                "ended_at": p["end"],
                "messages": len(part(messages)),
                "summary": summary,
                "sentiment": last["sentiment_label"] if last else None,
                "intent": last["intent_label"] if last else None,
                "sentiments": [
                    {"at": i["at"], "label": i["sentiment_label"], "score": i["sentiment_score"]}
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
                    for t in part(transfers)
                ],
                "stage_changes": [
                    {"at": s["at"], "by": s["user_id"], "stage": s["value"]}
                    for s in stages[bisect.bisect_left(stage_times, lo) : bisect.bisect_left(stage_times, hi)]
                ],
                "followups": [
                    {
                        "id": f["id"],
                        "due_at": f["due_at"],
                        "done": f["done_at"] is not None,
                        "note": _unseal(store, f["note"], "followups", "note", f["id"]) or "",
                    }
                    for f in part(followups)
                ],
            }
        )
    return out


def _by_conv(rows: list[dict[str, Any]]) -> dict[str, tuple[list[float], list[dict[str, Any]]]]:
    """Rows (already ordered by `at`) grouped by conversation, with their times for bisection."""
    out: dict[str, tuple[list[float], list[dict[str, Any]]]] = {}
    for r in rows:
        times, items = out.setdefault(r["conversation_id"], ([], []))
        times.append(r["at"])
        items.append(r)
    return out


def _unseal(store: Store, blob: bytes | None, table: str, column: str, row_id: str) -> str | None:
    try:
        return store.unseal(blob, table, column, row_id)
    except KeyMissing:
        return None
