"""Support metrics from clear metadata: volumes, label mixes, response and resolution times, funnel.

Times: a stored message time without an offset is read as wall-clock time in the configured
zone (`timezone`), one with an offset is converted to it; `from`/`to` dates are inclusive
calendar days of that zone. A stored value that is not a real time (kept from before the capture
edge refused them) leaves its message out and is counted in one WARNING, never shown.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from desktop.errors import InvalidInput
from desktop.pipeline import OPEN_STAGES, STAGES
from desktop.store import reports
from desktop.store.database import Store

if TYPE_CHECKING:
    from desktop import team_metrics

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


class Instants:
    """instant() for many stored times in one zone, with the same results: the common shape
    `YYYY-MM-DDTHH:MM:SS` is read as its local hour's start plus minutes and seconds, each hour's
    start worked out once (an hour whose offset changes within it, and any other shape, goes
    through instant())."""

    def __init__(self, tz: tzinfo):
        self.tz = tz
        self._hours: dict[str, float | None] = {}

    def __call__(self, ts: str | None) -> float | None:
        if not ts or len(ts) != 19 or ts[13] != ":" or ts[16] != ":":
            return instant(ts, self.tz)
        hour = ts[:13]
        try:
            base = self._hours[hour]
        except KeyError:
            base = self._hours[hour] = self._hour_start(hour)
        mm, ss = ts[14:16], ts[17:19]
        if base is None or not (mm.isdigit() and ss.isdigit() and mm.isascii() and ss.isascii()):
            return instant(ts, self.tz)
        minutes, seconds = int(mm), int(ss)
        if minutes > 59 or seconds > 59:
            return instant(ts, self.tz)
        return base + (minutes * 60 + seconds)

    def _hour_start(self, hour: str) -> float | None:
        start, end = instant(hour + ":00:00", self.tz), instant(hour + ":59:59", self.tz)
        if start is None or end is None or end - start != 3599:
            return None  # not a plain hour here: each time in it is read on its own
        return start


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered) - 1e-9))
    return ordered[rank - 1]


def runs(messages: list[dict[str, Any]], read: Callable[[str | None], float | None]) -> list[tuple[float, float]]:
    """(reply instant, seconds) of each answered run of one conversation: from the first customer
    message no reply followed yet to the next outgoing one. System rows and messages without a
    time of their own are not part of a run. `messages` in conversation order. A first response
    belongs to the period of its reply, measured from the run's start even before the period."""
    out = []
    start = None
    for m in messages:
        if m["kind"] == "system" or not m["ts"]:
            continue
        at = read(m["sort_ts"])
        if at is None:
            continue
        if m["direction"] == "in":
            start = start if start is not None else at
        elif start is not None:
            out.append((at, at - start))
            start = None
    return out


def first_responses(messages: list[dict[str, Any]], win: Window) -> dict[str, list[float]]:
    """Conversation id -> seconds of the runs answered inside the window (`messages` in conversation order)."""
    out: dict[str, list[float]] = {}
    read = Instants(win.tz)
    start = 0
    for end in range(1, len(messages) + 1):
        if end == len(messages) or messages[end]["conversation_id"] != messages[start]["conversation_id"]:
            answered = [s for at, s in runs(messages[start:end], read) if win.contains(at)]
            if answered:
                out[messages[start]["conversation_id"]] = answered
            start = end
    return out


def whole_days(since: str | None, until: str | None) -> tuple[date | None, date | None] | None:
    """The period as local days when each bound given is a plain date (the kept rows answer it);
    None when a bound is a date-time or not a date this module can place."""
    out = []
    for value in (since, until):
        if not value:
            out.append(None)
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        if len(value) != 10 or day in (date.min, date.max):
            return None  # 20260310 and the extremes: the message path handles them as it always did
        out.append(day)
    return out[0], out[1]


def report(
    store: Store,
    user: str | None,
    since: str | None,
    until: str | None,
    timezone: str,
    targets: team_metrics.Targets | None = None,
    now: float | None = None,
    *,
    from_messages: bool = False,
) -> dict:
    """The whole /metrics answer; meant for the database thread. A period of whole days is summed
    from the kept rows (desktop/metrics_kept.py); one bounded by a date-time reads its messages.
    Health is scored from the kept rows, as of `now`. `from_messages` takes the message path
    for whole days too (a test compares the two)."""
    from desktop import metric_totals, metrics_kept, team_metrics  # they build on this module's helpers

    win = window(since, until, ZoneInfo(timezone))
    now = time.time() if now is None else now
    targets = targets or team_metrics.Targets()
    metric_totals.pending(store, timezone, now)
    while metric_totals.refresh(store, timezone, now):
        pass
    days = whole_days(since, until)
    head = {"user": user, "from": since, "to": until}
    if days is not None and not from_messages:
        out = head | metrics_kept.period(store, user, days[0], days[1], win.start, win.end, targets)
    else:
        wall_from, wall_to = win.wall_clock_range()
        rows = reports.metric_rows(store, user, wall_to)
        period = rows | {"messages": _prefiltered(rows["messages"], wall_from, wall_to)}
        responses = first_responses(rows["messages"], win)
        out = compute(period, since, until, user, win, responses)
        out |= team_metrics.extend(store, rows | {"period": period["messages"]}, user, win, targets, responses)
    return out | metrics_kept.health(store, user, now, targets)


def _prefiltered(msgs: list[dict[str, Any]], wall_from: str | None, wall_to: str | None) -> list[dict[str, Any]]:
    """The loose pre-filter on stored time strings, as SQL compared them (a missing time is out
    as soon as either side is bounded)."""
    if wall_from is None and wall_to is None:
        return msgs
    lo, hi = wall_from or "", wall_to
    return [m for m in msgs if m["sort_ts"] is not None and m["sort_ts"] >= lo and (hi is None or m["sort_ts"] < hi)]


def compute(
    rows: dict[str, list[dict[str, Any]]],
    since: str | None,
    until: str | None,
    user: str | None,
    win: Window | None = None,
    responses: dict[str, list[float]] | None = None,
) -> dict:
    """The period's figures from its messages; `responses` as first_responses() gives them
    (when None, from the period's own messages)."""
    win = win or window(since, until, UTC)
    msgs = []
    unreadable = 0
    read = Instants(win.tz)
    for m in rows["messages"]:
        if not m["sort_ts"]:
            if not win.bounded:  # a system row before any dated message: no time to place it by
                msgs.append(m)
            continue
        at = read(m["sort_ts"])
        if at is None:
            unreadable += 1
        elif win.contains(at):
            m["at"] = at
            msgs.append(m)
    if unreadable:
        log.warning("metrics: %d messages with a stored time that is not a real time were left out", unreadable)
    convs_active = {m["conversation_id"] for m in msgs}
    if responses is None:
        responses = first_responses(rows["messages"], win)
    frt = [x for xs in responses.values() for x in xs]
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
