"""Support metrics from clear metadata: volumes, label mixes, response and resolution times, funnel.

Times: a stored message time without an offset is read as wall-clock time in the configured
zone (`timezone`), one with an offset is converted to it; `from`/`to` dates are inclusive
calendar days of that zone. A stored value that is not a real time (kept from before the capture
edge refused them) leaves its message out and is counted in one WARNING, never shown.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from desktop.errors import InvalidInput
from desktop.pipeline import OPEN_STAGES, STAGES
from desktop.store.database import Store
from metrics_reference import reports

if TYPE_CHECKING:
    from metrics_reference import team_metrics

log = logging.getLogger(__name__)

# Stored times carry offsets of -12:00..+14:00: a margin this wide keeps every candidate row
# of the SQL pre-filter, which compares wall-clock strings.
_PREFILTER_MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) of POSIX seconds; None is unbounded."""

    start: float | None
    end: float | None
    tz: tzinfo

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def contains(self, at: float) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)

    def wall_clock_range(self) -> tuple[str | None, str | None]:
        """Loose `YYYY-MM-DD` bounds on stored strings, for the SQL pre-filter."""
        return self._wall(self.start, -_PREFILTER_MARGIN), self._wall(self.end, _PREFILTER_MARGIN)

    def _wall(self, at: float | None, margin: timedelta) -> str | None:
        if at is None:
            return None
        try:
            return (datetime.fromtimestamp(at, self.tz) + margin).date().isoformat()
        except (OverflowError, ValueError, OSError):
            return None  # near year 1 or 9999: no pre-filter on that side


def window(since: str | None, until: str | None, tz: tzinfo) -> Window:
    """`from`/`to` as given to /metrics: a date is a whole local day (both inclusive); a date-time
    is that instant (also inclusive)."""
    start = _bound(since, "from", tz, end=False)
    end = _bound(until, "to", tz, end=True)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to must not be before from", field="to")
    return Window(start, end, tz)


def _bound(value: str | None, field: str, tz: tzinfo, *, end: bool) -> float | None:
    if not value:
        return None
    bad = InvalidInput(f"{field} must be an ISO date like 2026-03-10", field=field)
    if len(value) > 40 or not value.isascii():
        raise bad
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    try:
        if day is not None:
            if end:
                if day == date.max:
                    return None
                day += timedelta(days=1)  # the end of an inclusive day is the next local midnight
            return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        at = datetime.fromisoformat(value)
        at = at if at.tzinfo else at.replace(tzinfo=tz)
        return at.timestamp() + (1e-6 if end else 0)
    except (ValueError, OverflowError, OSError):
        raise bad from None


def instant(ts: str | None, tz: tzinfo) -> float | None:
    """POSIX seconds of a stored message time, or None when it is not a real time."""
    if not ts or not ts.isascii():
        return None
    try:
        at = datetime.fromisoformat(ts)
        return (at if at.tzinfo else at.replace(tzinfo=tz)).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered) - 1e-9))
    return ordered[rank - 1]


def first_response_seconds(messages: list[dict[str, Any]], tz: tzinfo = UTC) -> list[float]:
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
            t = m["at"] if "at" in m else instant(m["ts"], tz)  # `compute` has read it already
            if t is None:
                continue
            if m["direction"] == "in":
                start = start if start is not None else t
            elif start is not None:
                out.append(t - start)
                start = None
    return out


def report(
    store: Store,
    user: str | None,
    since: str | None,
    until: str | None,
    timezone: str,
    targets: team_metrics.Targets | None = None,
    now: float | None = None,
) -> dict:
    """The whole /metrics answer; meant for the database thread (it reads every message in range).
    The team fields (daily series, attendants, SLA, top contacts, health) come from team_metrics."""
    from metrics_reference import team_metrics  # it builds on this module's helpers

    win = window(since, until, ZoneInfo(timezone))
    rows = reports.metric_rows(store, user, *win.wall_clock_range())
    out = compute(rows, since, until, user, win)
    return out | team_metrics.extend(store, rows, user, win, targets or team_metrics.Targets(), now)


def compute(
    rows: dict[str, list[dict[str, Any]]],
    since: str | None,
    until: str | None,
    user: str | None,
    win: Window | None = None,
) -> dict:
    win = win or window(since, until, UTC)
    msgs = []
    unreadable = 0
    for m in rows["messages"]:
        if not m["sort_ts"]:
            if not win.bounded:  # a system row before any dated message: no time to place it by
                msgs.append(m)
            continue
        at = instant(m["sort_ts"], win.tz)
        if at is None:
            unreadable += 1
        elif win.contains(at):
            m["at"] = at
            msgs.append(m)
    if unreadable:
        log.warning("metrics: %d messages with a stored time that is not a real time were left out", unreadable)
    convs_active = {m["conversation_id"] for m in msgs}
    frt = first_response_seconds(msgs, win.tz)
    latest: dict[str, dict[str, Any]] = {}
    for r in rows["labels"]:
        if r["conversation_id"] in convs_active or not win.bounded:
            latest[r["conversation_id"]] = r
    resolution = [
        c["resolved_at"] - c["created_at"]
        for c in rows["conversations"]
        if c["resolved_at"] and c["created_at"] and c["id"] in convs_active
    ]
    stage_count = Counter(c["stage"] for c in rows["contacts"])
    stage_value: Counter = Counter()
    for c in rows["contacts"]:
        value = c["value"]
        if isinstance(value, int | float) and math.isfinite(value):  # a stored Infinity would break the JSON
            stage_value[c["stage"]] += value
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
