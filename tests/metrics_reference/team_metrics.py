"""The team side of /metrics: a daily series, per-attendant rows, SLA share met, the top contacts
by value and customer health (desktop/health_score.py) with its at-risk list.

Called by metrics.report on the database thread with the rows it already read; an attendant's
rows are their own (the store queries apply the same visibility rule as the rest of /metrics).
A conversation's attendant is its contact's owner, else whoever captured it first.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from desktop import health_score
from desktop.health_score import ContactState
from desktop.store.database import Store
from metrics_reference import team_reports
from metrics_reference.metrics import Window, instant, percentile

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
    now: float | None = None,
) -> dict[str, Any]:
    """The new /metrics fields. `rows["messages"]` carry `at` when compute() kept them in the window."""
    msgs = [m for m in rows["messages"] if "at" in m]
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
    frt_by_conv = _first_responses(msgs)
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
        **_health(store, user, rows["contacts"], win, targets, now),
    }


def _first_responses(msgs: list[dict[str, Any]]) -> dict[str, list[float]]:
    """metrics.first_response_seconds, kept per conversation (msgs are in conversation order)."""
    out: dict[str, list[float]] = defaultdict(list)
    start: float | None = None
    current = None
    for m in msgs:
        if m["conversation_id"] != current:
            current, start = m["conversation_id"], None
        if m["kind"] == "system":
            continue
        if m["direction"] == "in":
            start = start if start is not None else m["at"]
        elif start is not None:
            out[current].append(m["at"] - start)
            start = None
    return out


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
    feedback: dict[str, Counter] = defaultdict(Counter)
    for r in team_reports.feedback_counts(store, user, win.start, win.end):
        feedback[r["user_id"]][r["action"]] += r["n"]
    names = team_reports.usernames(store)
    ids = {u for u in by_user if u} | set(feedback)
    if user:
        ids &= {user}
    out = []
    for uid in sorted(ids):
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


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _top_contacts(store: Store, contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    valued = [c for c in contacts if _finite(c["value"]) and c["value"] > 0]
    valued.sort(key=lambda c: (-c["value"], c["id"]))
    top = valued[:TOP_CONTACTS]
    names = team_reports.contact_names(store, [c["id"] for c in top])
    return [{"contact_id": c["id"], "name": names.get(c["id"]), "stage": c["stage"], "value": c["value"]} for c in top]


def _states(
    store: Store, user: str | None, at: float, win: Window, sentiments: dict[str, list[tuple[float, str]]]
) -> dict:
    """Each contact's ContactState as of `at`; a contact with no message before it has none."""
    # Stored times are wall-clock strings (offset-less ones compare exactly; the rare one with an
    # offset is placed by instant() below).
    wall = datetime.fromtimestamp(at, win.tz).strftime("%Y-%m-%dT%H:%M:%S")
    states: dict[str, ContactState] = {}
    for r in team_reports.activity(store, user, wall):
        last = instant(r["last_any"], win.tz)
        if last is None or last >= at:
            continue
        s = states.setdefault(r["contact_id"], ContactState())
        s.last_message_at = max(s.last_message_at or last, last)
        waiting = instant(r["waiting_since"], win.tz)
        if waiting is not None and waiting < at:
            s.waiting_since = min(s.waiting_since or waiting, waiting)
    for cid, state in states.items():
        labelled = sentiments.get(cid, ())
        # Oldest first: the analyses before `at` end where bisect says; the trend reads only the last few.
        end = bisect.bisect_left(labelled, (at, ""))
        state.sentiments = [label for _, label in labelled[max(0, end - health_score.TREND_WINDOW) : end]]
    return states


def _health(
    store: Store, user: str | None, contacts: list[dict[str, Any]], win: Window, targets: Targets, now: float | None
) -> dict[str, Any]:
    now = time.time() if now is None else now
    at = now if win.end is None else min(now, win.end)
    span = win.end - win.start if win.start is not None and win.end is not None else OPEN_ENDED_PERIOD
    sentiments: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for r in team_reports.contact_sentiments(store, user):  # oldest first
        if _finite(r["created_at"]):
            sentiments[r["contact_id"]].append((r["created_at"], r["sentiment_label"]))
    current = _states(store, user, at, win, sentiments)
    previous = _states(store, user, at - span, win, sentiments)
    sla = targets.first_response_minutes * 60
    stage = {c["id"]: c["stage"] for c in contacts}
    scored = []
    for cid, state in current.items():
        if cid not in stage:
            continue
        h = health_score.score(state, stage[cid], at, sla)
        before = previous.get(cid)
        prev = health_score.score(before, stage[cid], at - span, sla).score if before else None
        reasons = list(h.reasons)
        if health_score.falling(h.score, prev):
            reasons.append("falling")
        scored.append((h, prev, reasons, cid))
    scored.sort(key=lambda x: (x[0].score, x[3]))
    risky = [x for x in scored if x[0].score < targets.risk_threshold or "falling" in x[2]][:AT_RISK_LIMIT]
    names = team_reports.contact_names(store, [x[3] for x in risky])
    return {
        "health": {
            "as_of": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
            "threshold": targets.risk_threshold,
            "contacts_scored": len(scored),
            "average": round(sum(x[0].score for x in scored) / len(scored), 1) if scored else None,
            "contacts": [
                {"contact_id": cid, "score": h.score, "previous": prev, "reasons": reasons}
                for h, prev, reasons, cid in scored[:HEALTH_LIST_LIMIT]
            ],
        },
        "at_risk": [
            {
                "contact_id": cid,
                "name": names.get(cid),
                "score": h.score,
                "previous": prev,
                "stage": stage[cid],
                "waiting_seconds": round(h.waiting_seconds) if h.waiting_seconds is not None else None,
                "days_since_last_message": round(h.days_since_last_message, 1)
                if h.days_since_last_message is not None
                else None,
                "reasons": health_score.reasons_out(reasons),
            }
            for h, prev, reasons, cid in risky
        ],
    }
