"""The team side of /metrics: a daily series, per-attendant rows, SLA share met, the top contacts
by value and customer health (desktop/health_score.py) with its at-risk list.

Called by metrics.report on the database thread with the rows it already read; an attendant's
rows are their own (the store queries apply the same visibility rule as the rest of /metrics).
A conversation's attendant is its contact's owner, else whoever captured it first.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from desktop.metrics import Window, percentile
from desktop.store import team_reports
from desktop.store.database import Store

TOP_CONTACTS = 10
AT_RISK_LIMIT = 100
HEALTH_LIST_LIMIT = 1000  # the lowest scores first; `health.contacts_scored` counts them all
DAILY_FILL_LIMIT = 400  # a longer period lists only the days with data, not every empty one
OPEN_ENDED_PERIOD = timedelta(days=30).total_seconds()
FEEDBACK_COUNTED = ("inserted", "edited", "dismissed", "sent")


@dataclass(frozen=True)
class Targets:
    first_response_minutes: float = 15
    resolution_hours: float = 24
    risk_threshold: int = 40


def extend(
    store: Store,
    rows: dict[str, list[dict[str, Any]]],
    user: str | None,
    win: Window,
    targets: Targets,
    responses: dict[str, list[float]],
) -> dict[str, Any]:
    """The team fields but health (metrics_kept scores it). `rows["period"]` carry `at` when
    compute() kept them in the window; `responses` are metrics.first_responses()."""
    msgs = [m for m in rows["period"] if "at" in m]
    attendant = {c["id"]: c["contact_owner"] or c["owner_id"] for c in rows["conversations"]}
    active = {m["conversation_id"] for m in msgs}
    latest: dict[str, str] = {}
    for r in rows["labels"]:  # oldest first: the last one seen is the conversation's latest
        if r["conversation_id"] in active or not win.bounded:
            latest[r["conversation_id"]] = r["sentiment_label"]
    resolution = {
        c["id"]: c["resolved_at"] - c["created_at"]
        for c in rows["conversations"]
        if c["resolved_at"] and c["created_at"] and c["id"] in active
    }
    frt_by_conv = responses
    frt = [x for xs in frt_by_conv.values() for x in xs]
    sla_frt = targets.first_response_minutes * 60
    sla_res = targets.resolution_hours * 3600
    return {
        "daily": _daily(msgs, rows["labels"], win),
        "attendants": _attendants(store, user, win, frt_by_conv, attendant, active, latest, resolution, sla_frt),
        "sla": {
            "first_response_minutes": targets.first_response_minutes,
            "resolution_hours": targets.resolution_hours,
            "first_response_met": _share(frt, sla_frt),
            "first_response_n": len(frt),
            "resolution_met": _share(list(resolution.values()), sla_res),
            "resolution_n": len(resolution),
        },
        "top_contacts": _top_contacts(store, rows["contacts"]),
    }


def _share(values: list[float], target: float) -> float | None:
    """Fraction of values within the target, rounded to 4 places; None without data."""
    return round(sum(1 for v in values if v <= target) / len(values), 4) if values else None


def _day(at: float, win: Window, cache: dict[int, date] | None = None) -> date:
    """The local day of an instant; zone offsets are whole quarter hours, so a 15-minute slot has one day."""
    if cache is None:
        return datetime.fromtimestamp(at, win.tz).date()
    slot = int(at // 900)
    day = cache.get(slot)
    if day is None:
        day = cache[slot] = datetime.fromtimestamp(slot * 900, win.tz).date()
    return day


def _daily(msgs: list[dict[str, Any]], labels: list[dict[str, Any]], win: Window) -> list[dict[str, Any]]:
    """Per local day: conversations with a message, customer messages, and the sentiments of the
    analyses made that day."""
    convs: dict[date, set[str]] = defaultdict(set)
    incoming: Counter = Counter()
    mix: dict[date, Counter] = defaultdict(Counter)
    cache: dict[int, date] = {}
    for m in msgs:
        d = _day(m["at"], win, cache)
        convs[d].add(m["conversation_id"])
        if m["direction"] == "in" and m["kind"] != "system":
            incoming[d] += 1
    for r in labels:
        at = r["created_at"]
        if isinstance(at, int | float) and math.isfinite(at) and win.contains(at):
            mix[_day(at, win, cache)][r["sentiment_label"]] += 1
    days = set(convs) | set(mix)
    if win.start is not None and win.end is not None:
        first, last = _day(win.start, win), _day(win.end - 1e-3, win)
        if (last - first).days < DAILY_FILL_LIMIT:
            days |= {first + timedelta(days=i) for i in range((last - first).days + 1)}
    return [
        {
            "day": d.isoformat(),
            "conversations": len(convs.get(d, ())),
            "messages_in": incoming.get(d, 0),
            "sentiment": dict(mix.get(d, {})),
        }
        for d in sorted(days)
    ]


def _attendants(
    store: Store,
    user: str | None,
    win: Window,
    frt_by_conv: dict[str, list[float]],
    attendant: dict[str, str | None],
    active: set[str],
    latest: dict[str, str],
    resolution: dict[str, float],
    sla_frt: float,
) -> list[dict[str, Any]]:
    by_user: dict[str | None, list[str]] = defaultdict(list)
    for c in active:
        by_user[attendant.get(c)].append(c)
    feedback, names, ids = attendant_rows_for(store, user, win.start, win.end, by_user)
    out = []
    for uid in ids:
        convs = by_user.get(uid, [])
        frt = [x for c in convs for x in frt_by_conv.get(c, ())]
        res = [resolution[c] for c in convs if c in resolution]
        labelled = [latest[c] for c in convs if c in latest]
        out.append(
            {
                "user": uid,
                "username": names.get(uid),
                "conversations": len(convs),
                "first_response_seconds": {"p50": percentile(frt, 50), "p90": percentile(frt, 90), "n": len(frt)},
                "first_response_sla_met": _share(frt, sla_frt),
                "resolution_seconds": {"p50": percentile(res, 50), "n": len(res)},
                "negative_share": round(labelled.count("negative") / len(labelled), 4) if labelled else None,
                "suggestions": {a: feedback[uid].get(a, 0) for a in FEEDBACK_COUNTED},
            }
        )
    return out


def attendant_rows_for(
    store: Store, user: str | None, start: float | None, end: float | None, attendants: Iterable[str | None]
) -> tuple[dict[str, Counter], dict[str, str], list[str]]:
    """Suggestion feedback per user in [start, end), usernames, and the users who get a row: those
    with a conversation or feedback in the period (only `user` when one is asked for), sorted."""
    feedback: dict[str, Counter] = defaultdict(Counter)
    for r in team_reports.feedback_counts(store, user, start, end):
        feedback[r["user_id"]][r["action"]] += r["n"]
    ids = {u for u in attendants if u} | set(feedback)
    if user:
        ids &= {user}
    return feedback, team_reports.usernames(store), sorted(ids)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _top_contacts(store: Store, contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    valued = [c for c in contacts if _finite(c["value"]) and c["value"] > 0]
    valued.sort(key=lambda c: (-c["value"], c["id"]))
    top = valued[:TOP_CONTACTS]
    names = team_reports.contact_names(store, [c["id"] for c in top])
    return [{"contact_id": c["id"], "name": names.get(c["id"]), "stage": c["stage"], "value": c["value"]} for c in top]
