"""The /metrics answer from the rows desktop/metric_totals.py keeps: a period of whole local
days is summed in SQL over indexed rows, and customer health is scored in SQL from each
contact's kept inputs. Same figures as the message-reading path (desktop/metrics.py and
team_metrics.py), which still answers periods bounded by a date-time.

A period [lo, hi] is a range of local-day strings; lo '' also takes messages with no time (only
an unbounded period counts them), '0' starts at the first dated day. A conversation is counted
once, on its first day in the period: the row whose previous day is before lo (or has none).
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from desktop import health_score
from desktop.metric_totals import UNDATED
from desktop.metrics import percentile
from desktop.pipeline import LOST, OPEN_STAGES, STAGES
from desktop.store import team_reports
from desktop.store.database import Store
from desktop.team_metrics import (
    AT_RISK_LIMIT,
    DAILY_FILL_LIMIT,
    FEEDBACK_COUNTED,
    HEALTH_LIST_LIMIT,
    TOP_CONTACTS,
    Targets,
    attendant_rows_for,
)

log = logging.getLogger(__name__)

_DATED = "0"  # sorts after metric_totals.UNDATED (' ') and before every 'YYYY-MM-DD'
_END = "9"
_FINITE = "typeof(value) IN ('integer', 'real') AND abs(value) < 9e999"


def period(
    store: Store, user: str | None, since: date | None, until: date | None, win_start: float | None,
    win_end: float | None, targets: Targets,
) -> dict[str, Any]:  # fmt: skip
    """Everything /metrics answers but health, for whole local days since..until (None: open)."""
    bounded = since is not None or until is not None
    hi = until.isoformat() if until else _END
    lo = since.isoformat() if since else (_DATED if bounded else UNDATED)
    owned = " AND att = :user" if user else ""
    p = {"lo": lo, "hi": hi, "user": user}
    dated = p | {"lo": max(lo, _DATED)}  # what has a time: the team figures never count undated rows

    def convs(params: dict[str, Any]) -> list[tuple]:
        """(attendant, open, sentiment, intent, conversations): each counted on its first day in the period."""
        rows = store.conn.execute(
            "SELECT att, open, sentiment, intent, sum(n) FROM metric_day_counts"
            f" WHERE day BETWEEN :lo AND :hi AND prev_day < :lo{owned} GROUP BY att, open, sentiment, intent",
            params,
        ).fetchall()
        return [(_none(a), o, _none(s), _none(i), n) for a, o, s, i, n in rows]

    def resolutions(params: dict[str, Any]) -> list[tuple]:
        return store.conn.execute(
            "SELECT att, resolution FROM metric_days INDEXED BY metric_days_resolved"
            f" WHERE day BETWEEN :lo AND :hi AND prev_day < :lo AND resolution IS NOT NULL{owned}",
            params,
        ).fetchall()

    active = convs(p)
    active_dated = active if lo == dated["lo"] else convs(dated)
    resolved = resolutions(p)
    resolved_dated = resolved if lo == dated["lo"] else resolutions(dated)
    days = store.conn.execute(
        "SELECT day, sum(n), sum(n_in), sum(n_out) FROM metric_day_counts"
        f" WHERE day BETWEEN :lo AND :hi{owned} GROUP BY day",
        p,
    ).fetchall()
    runs: dict[str | None, list[tuple[float, int]]] = defaultdict(list)
    for att, seconds, n in store.conn.execute(
        "SELECT att, seconds, sum(n) FROM metric_run_counts"
        f" WHERE day BETWEEN :lo AND :hi{owned} GROUP BY att, seconds ORDER BY att, seconds",
        dated if bounded else p,
    ).fetchall():
        runs[_none(att)].append((seconds, n))
    # The latest labels of the period's conversations; of every conversation for an unbounded one.
    if bounded:
        sentiment, intent = Counter(), Counter()
        for _att, _open, s, i, n in active:
            if s is not None:
                sentiment[s] += n
                intent[i] += n
        sentiment, intent = dict(sentiment), dict(intent)
    else:
        labelled = "FROM metric_convs WHERE sentiment IS NOT NULL" + owned
        sentiment = _mix(store, f"SELECT sentiment, count(*) {labelled} GROUP BY sentiment", p)
        intent = _mix(store, f"SELECT intent, count(*) {labelled} GROUP BY intent", p)
    all_runs: Counter = Counter()
    for counts in runs.values():
        all_runs.update(dict(counts))
    frt = sorted(all_runs.items())
    resolution = sorted(r for _, r in resolved)
    funnel, pipeline_value = _funnel(store, user)
    sla_frt = targets.first_response_minutes * 60
    sla_res = targets.resolution_hours * 3600
    n_frt = sum(n for _, n in frt)
    return {
        "volumes": {
            "conversations": sum(r[4] for r in active),
            "messages_in": sum(d[2] for d in days),
            "messages_out": sum(d[3] for d in days),
            "open": sum(r[4] for r in active if r[1]),
        },
        "sentiment": sentiment,
        "intent": intent,
        "first_response_seconds": {"p50": _percentile(frt, 50), "p90": _percentile(frt, 90), "n": n_frt},
        "resolution_seconds": {
            "p50": percentile(resolution, 50),
            "p90": percentile(resolution, 90),
            "n": len(resolution),
        },
        "funnel": funnel,
        "pipeline_value": pipeline_value,
        "daily": _daily(store, user, [d for d in days if d[0] >= _DATED], dated, since, until),
        "attendants": _attendants(store, user, active_dated, runs, resolved_dated, win_start, win_end, sla_frt),
        "sla": {
            "first_response_minutes": targets.first_response_minutes,
            "resolution_hours": targets.resolution_hours,
            "first_response_met": _share_counted(frt, sla_frt),
            "first_response_n": n_frt,
            "resolution_met": _share_sorted(sorted(r for _, r in resolved_dated), sla_res),
            "resolution_n": len(resolved_dated),
        },
        "top_contacts": _top_contacts(store, user),
    }


def _none(key: Any) -> Any:
    """A summed row's key back: '' stood for none."""
    return None if key == "" else key


def _percentile(counted: list[tuple[float, int]], p: float) -> float | None:
    """metrics.percentile over values given sorted with their counts."""
    total = sum(n for _, n in counted)
    if not total:
        return None
    rank = max(1, math.ceil(p / 100 * total - 1e-9))
    seen = 0
    for value, n in counted:
        seen += n
        if seen >= rank:
            return value
    return None


def _share_counted(counted: list[tuple[float, int]], target: float) -> float | None:
    """team_metrics._share over values given with their counts."""
    total = sum(n for _, n in counted)
    return round(sum(n for v, n in counted if v <= target) / total, 4) if total else None


def _share_sorted(values: list[float], target: float) -> float | None:
    """team_metrics._share over sorted values."""
    return round(bisect.bisect_right(values, target) / len(values), 4) if values else None


def _mix(store: Store, sql: str, params: dict[str, Any]) -> dict[Any, int]:
    return dict(store.conn.execute(sql, params).fetchall())


def _visible_contacts(user: str | None) -> str:
    return " AND contact_id IN (SELECT contact_id FROM metric_convs WHERE att = :user)" if user else ""


def _funnel(store: Store, user: str | None) -> tuple[list[dict[str, Any]], Any]:
    rows = store.conn.execute(
        f"SELECT stage, count(*), sum(CASE WHEN {_FINITE} THEN value END) FROM contact_health"
        f" WHERE 1=1{_visible_contacts(user)} GROUP BY stage",
        {"user": user},
    ).fetchall()
    count = {stage: n for stage, n, _ in rows}
    value = {stage: v for stage, _, v in rows if v is not None}
    funnel = [{"stage": s, "contacts": count.get(s, 0), "value": value.get(s, 0)} for s in STAGES]
    return funnel, sum(value.get(s, 0) for s in OPEN_STAGES)


def _top_contacts(store: Store, user: str | None) -> list[dict[str, Any]]:
    top = store.conn.execute(
        f"SELECT contact_id, stage, value FROM contact_health WHERE {_FINITE} AND value > 0{_visible_contacts(user)}"
        " ORDER BY value DESC, contact_id LIMIT :n",
        {"user": user, "n": TOP_CONTACTS},
    ).fetchall()
    names = team_reports.contact_names(store, [r[0] for r in top])
    return [{"contact_id": cid, "name": names.get(cid), "stage": stage, "value": value} for cid, stage, value in top]


def _daily(
    store: Store, user: str | None, days: list[tuple], p: dict[str, Any], since: date | None, until: date | None
) -> list[dict]:
    """Per local day: conversations with a message, customer messages, and the sentiments of the
    analyses made that day. `days` are the period's (day, conversations, in, out) rows."""
    owned = " AND att = :user" if user else ""
    convs = {d[0]: d[1] for d in days}
    incoming = {d[0]: d[2] for d in days}
    mix: dict[str, dict[str, int]] = defaultdict(dict)
    labels_p = p if since or until else p | {"lo": "", "hi": _END}  # an unbounded period: every analysis
    for day, label, n in store.conn.execute(
        f"SELECT day, sentiment, sum(n) FROM metric_label_counts WHERE day BETWEEN :lo AND :hi{owned}"
        " GROUP BY day, sentiment",
        labels_p,
    ).fetchall():
        mix[day][label] = n
    every = set(convs) | set(mix)
    if since is not None and until is not None and (until - since).days < DAILY_FILL_LIMIT:
        every |= {(since + timedelta(days=i)).isoformat() for i in range((until - since).days + 1)}
    return [
        {"day": d, "conversations": convs.get(d, 0), "messages_in": incoming.get(d, 0), "sentiment": mix.get(d, {})}
        for d in sorted(every)
    ]


def _attendants(
    store: Store,
    user: str | None,
    active: list[tuple],
    runs: dict[str | None, list[tuple[float, int]]],
    resolved: list[tuple],
    start: float | None,
    end: float | None,
    sla_frt: float,
) -> list[dict[str, Any]]:
    conversations: Counter = Counter()
    labelled: dict[str, Counter] = defaultdict(Counter)
    for att, _open, sentiment, _intent, n in active:
        conversations[att] += n
        if sentiment is not None:
            labelled[att][sentiment] += n
    res: dict[str, list[float]] = defaultdict(list)
    for att, r in resolved:
        res[att].append(r)
    feedback, names, ids = attendant_rows_for(store, user, start, end, conversations)
    out = []
    for uid in ids:
        f, r, mood = runs.get(uid, []), sorted(res.get(uid, [])), labelled.get(uid, Counter())
        n_f = sum(n for _, n in f)
        n_labelled = sum(mood.values())
        out.append(
            {
                "user": uid,
                "username": names.get(uid),
                "conversations": conversations.get(uid, 0),
                "first_response_seconds": {"p50": _percentile(f, 50), "p90": _percentile(f, 90), "n": n_f},
                "first_response_sla_met": _share_counted(f, sla_frt),
                "resolution_seconds": {"p50": percentile(r, 50), "n": len(r)},
                "negative_share": round(mood["negative"] / n_labelled, 4) if n_labelled else None,
                "suggestions": {a: feedback[uid].get(a, 0) for a in FEEDBACK_COUNTED},
            }
        )
    return out


# -- health ---------------------------------------------------------------------------------


def _score_sql(at: str, last: str, waiting: str, negative: str) -> str:
    """health_score.score in SQL (the same penalties, cap and clamp)."""
    p = health_score.PENALTY
    raw = (
        f"100 - {p['negative_trend']} * {negative}"
        f" - CASE WHEN {waiting} IS NOT NULL AND {waiting} < {at} AND {at} - {waiting} > :sla"
        f" THEN {p['waiting_unanswered']} ELSE 0 END"
        f" - CASE WHEN ({at} - {last}) / 86400.0 >= 30 THEN {p['inactive_30d']}"
        f" WHEN ({at} - {last}) / 86400.0 >= 14 THEN {p['inactive_14d']} ELSE 0 END"
    )
    return f"max(0, min(100, CASE WHEN stage = :lost_stage THEN min({raw}, {health_score.LOST_CAP}) ELSE {raw} END))"


# A score changes with time only when `now` crosses one of these instants: the next one is kept,
# and a read re-scores the rows it has passed (`valid_until`; -1 after the inputs changed).
_NEXT_CHANGE = (
    "min(CASE WHEN last_at >= :now THEN last_at ELSE 9e999 END,"
    " CASE WHEN waiting_since >= :now THEN waiting_since ELSE 9e999 END,"
    " CASE WHEN waiting_since + :sla >= :now THEN waiting_since + :sla ELSE 9e999 END,"
    " CASE WHEN last_at + 14 * 86400 > :now THEN last_at + 14 * 86400 ELSE 9e999 END,"
    " CASE WHEN last_at + 30 * 86400 > :now THEN last_at + 30 * 86400 ELSE 9e999 END)"
)
_RESCORE = (
    "UPDATE contact_health SET score = CASE WHEN last_at IS NOT NULL AND last_at < :now THEN "
    + _score_sql(":now", "last_at", "waiting_since", "negative")
    + " END, previous = CASE WHEN cp_last_at IS NOT NULL THEN "
    + _score_sql("cp_at", "cp_last_at", "cp_waiting_since", "cp_negative")
    + f" END, valid_until = {_NEXT_CHANGE} WHERE valid_until <= :now"
)
_ROW = "SELECT contact_id, stage, last_at, waiting_since, negative, score, previous FROM contact_health"


def rescore(store: Store, now: float, sla: float) -> None:
    """Bring the kept scores to `now` (all of them when the SLA target changed or `now` went back)."""
    meta = {r["key"]: r["value"] for r in store.q("SELECT key, value FROM metric_meta WHERE key LIKE 'health_%'")}
    p = {"now": now, "sla": sla, "lost_stage": LOST}
    with store.transaction() as conn:
        if meta.get("health_sla") != repr(sla) or float(meta.get("health_at", "inf")) > now:
            conn.execute("UPDATE contact_health SET valid_until = -1")
        conn.execute(_RESCORE, p)
        conn.executemany(
            "INSERT OR REPLACE INTO metric_meta VALUES (?, ?)", [("health_sla", repr(sla)), ("health_at", repr(now))]
        )


def health(store: Store, user: str | None, now: float, targets: Targets) -> dict[str, Any]:
    """Customer health as of `now`: each contact with a message scored from its kept inputs,
    the previous score as of the kept checkpoint; the lowest listed, the at-risk named."""
    p = {
        "user": user,
        "threshold": targets.risk_threshold,
        "falling": health_score.FALLING_POINTS,
    }
    rescore(store, now, targets.first_response_minutes * 60)
    visible = _visible_contacts(user)
    n, total = store.conn.execute(
        f"SELECT count(*), sum(score) FROM contact_health WHERE score IS NOT NULL{visible}", p
    ).fetchone()
    listed = store.conn.execute(
        f"{_ROW} WHERE score IS NOT NULL{visible} ORDER BY score, contact_id LIMIT :limit",
        p | {"limit": HEALTH_LIST_LIMIT},
    ).fetchall()
    risky = store.conn.execute(
        f"{_ROW} WHERE score IS NOT NULL AND (score < :threshold OR previous - score >= :falling){visible}"
        " ORDER BY score, contact_id LIMIT :limit",
        p | {"limit": AT_RISK_LIMIT},
    ).fetchall()
    sla = targets.first_response_minutes * 60

    def explained(row: tuple) -> tuple[health_score.Health, list[str]]:
        cid, stage, last, waiting, negative, score, previous = row
        waiting = waiting if waiting is not None and waiting < now else None
        h = health_score.score(health_score.ContactState.kept(last, waiting, bool(negative)), stage, now, sla)
        if h.score != score:  # one rule written twice (SQL orders, Python explains): a test pins them equal
            log.error("health: the SQL score and the explained score differ for a listed contact")
        reasons = list(h.reasons)
        if health_score.falling(h.score, previous):
            reasons.append("falling")
        return h, reasons

    names = team_reports.contact_names(store, [r[0] for r in risky])
    contacts = []
    for row in listed:
        _, reasons = explained(row)
        contacts.append({"contact_id": row[0], "score": row[5], "previous": row[6], "reasons": reasons})
    at_risk = []
    for row in risky:
        h, reasons = explained(row)
        at_risk.append(
            {
                "contact_id": row[0],
                "name": names.get(row[0]),
                "score": h.score,
                "previous": row[6],
                "stage": row[1],
                "waiting_seconds": round(h.waiting_seconds) if h.waiting_seconds is not None else None,
                "days_since_last_message": round(h.days_since_last_message, 1)
                if h.days_since_last_message is not None
                else None,
                "reasons": health_score.reasons_out(reasons),
            }
        )
    return {
        "health": {
            "as_of": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
            "threshold": targets.risk_threshold,
            "contacts_scored": n,
            "average": round(total / n, 1) if n else None,
            "contacts": contacts,
        },
        "at_risk": at_risk,
    }
