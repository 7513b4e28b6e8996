"""Support metrics from clear metadata: volumes, label mixes, response and resolution times, funnel."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from typing import Any

from desktop.errors import InvalidInput
from desktop.pipeline import OPEN_STAGES, STAGES


def _parse_day(value: str | None, field: str) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO date like 2026-03-10", field=field) from None


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered) - 1e-9))
    return ordered[rank - 1]


def first_response_seconds(messages: list[dict[str, Any]]) -> list[float]:
    """From the first customer message of an unanswered run to the next outgoing message."""
    out: list[float] = []
    by_conv: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        by_conv.setdefault(m["conversation_id"], []).append(m)
    for rows in by_conv.values():
        start = None
        for m in rows:
            if m["kind"] == "system" or not m["ts"]:
                continue
            t = datetime.fromisoformat(m["ts"])
            if m["direction"] == "in":
                start = start or t
            elif start is not None:
                out.append((t - start).total_seconds())
                start = None
    return out


def compute(rows: dict[str, list[dict[str, Any]]], since: str | None, until: str | None, user: str | None) -> dict:
    lo = _parse_day(since, "from")
    hi = _parse_day(until, "to")

    def in_range(ts: str | None) -> bool:
        if not ts:
            return lo is None and hi is None
        return (lo is None or ts >= lo) and (hi is None or ts[: len(hi)] <= hi)

    msgs = [m for m in rows["messages"] if in_range(m["sort_ts"])]
    convs_active = {m["conversation_id"] for m in msgs}
    frt = first_response_seconds(msgs)
    latest: dict[str, dict[str, Any]] = {}
    for r in rows["labels"]:
        if r["conversation_id"] in convs_active or (lo is None and hi is None):
            latest[r["conversation_id"]] = r
    resolution = [
        c["resolved_at"] - c["created_at"]
        for c in rows["conversations"]
        if c["resolved_at"] and c["id"] in convs_active
    ]
    stage_count = Counter(c["stage"] for c in rows["contacts"])
    stage_value: Counter = Counter()
    for c in rows["contacts"]:
        stage_value[c["stage"]] += c["value"] or 0
    return {
        "user": user,
        "from": since,
        "to": until,
        "volumes": {
            "conversations": len(convs_active),
            "messages_in": sum(1 for m in msgs if m["direction"] == "in" and m["kind"] != "system"),
            "messages_out": sum(1 for m in msgs if m["direction"] == "out"),
            "open": sum(1 for c in rows["conversations"] if c["id"] in convs_active and c["status"] != "resolved"),
        },
        "sentiment": dict(Counter(r["sentiment_label"] for r in latest.values())),
        "intent": dict(Counter(r["intent_label"] for r in latest.values())),
        "first_response_seconds": {"p50": percentile(frt, 50), "p90": percentile(frt, 90), "n": len(frt)},
        "resolution_seconds": {
            "p50": percentile(resolution, 50),
            "p90": percentile(resolution, 90),
            "n": len(resolution),
        },
        "funnel": [{"stage": s, "contacts": stage_count.get(s, 0), "value": stage_value.get(s, 0)} for s in STAGES],
        "pipeline_value": sum(stage_value[s] for s in OPEN_STAGES),
    }
