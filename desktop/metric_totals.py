"""Rows kept for /metrics (migration 0012), so a request sums small indexed rows instead of
reading every message.

Triggers put a conversation in `metric_dirty` whatever wrote it; `refresh` rebuilds, per marked
conversation, its rows and its contact's health inputs, a chunk per call on the database thread
(the server's background loop and /metrics before it reads). Kept per conversation: its attendant,
status, latest labels and resolution time (`metric_convs`); per local day of its messages, the
counts /metrics shows plus the previous day it had messages (`metric_days`: a conversation is
counted once in a period, on its first day there); its answered runs by the day of the reply
(`metric_runs`); its analyses' sentiments by local day (`metric_labels`). Per contact
(`contact_health`): what the health score reads, now and at the checkpoint 30 days back.
Days are local days of the configured zone, recorded in `metric_meta`; a zone change rebuilds.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from desktop import health_score, metrics
from desktop.metrics import Instants
from desktop.store.database import Store

log = logging.getLogger(__name__)

CHUNK = 500
CHECKPOINT_DAYS = 30
UNDATED = " "  # the day of a message with no time at all (a system row): only unbounded periods count it
NO_PREV = ""  # the previous day of a conversation's first day; sorts before UNDATED and every date


def checkpoint(now: float, tz: tzinfo) -> float:
    """The instant health's previous score is taken at: local midnight CHECKPOINT_DAYS days before today."""
    day = datetime.fromtimestamp(now, tz).date() - timedelta(days=CHECKPOINT_DAYS)
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def pending(store: Store, timezone: str, now: float) -> int:
    """Mark what a zone change or a new checkpoint day made stale; return how much is left to rebuild."""
    meta = {r["key"]: r["value"] for r in store.q("SELECT key, value FROM metric_meta")}
    cp = checkpoint(now, ZoneInfo(timezone))
    if meta.get("timezone") != timezone or meta.get("checkpoint") != repr(cp):
        with store.transaction() as conn:
            if meta.get("timezone") != timezone:
                conn.execute("INSERT OR IGNORE INTO metric_dirty SELECT id FROM conversations")
            stale = "SELECT contact_id FROM contact_health WHERE cp_at IS NOT ?"
            conn.execute(f"INSERT OR IGNORE INTO health_dirty {stale}", (cp,))
            conn.executemany(
                "INSERT OR REPLACE INTO metric_meta VALUES (?, ?)", [("timezone", timezone), ("checkpoint", repr(cp))]
            )
    return _left(store)


def _left(store: Store) -> int:
    row = store.q1("SELECT (SELECT count(*) FROM metric_dirty) + (SELECT count(*) FROM health_dirty) AS n")
    return row["n"] if row else 0


def refresh(store: Store, timezone: str, now: float, limit: int = CHUNK) -> int:
    """Rebuild up to `limit` marked conversations, then up to `limit` marked contacts; returns
    how many are still marked. Meant for the database thread."""
    tz = ZoneInfo(timezone)
    ids = [r["conversation_id"] for r in store.q("SELECT conversation_id FROM metric_dirty LIMIT ?", (limit,))]
    if ids:
        _rebuild_conversations(store, ids, tz)
    contacts = [r["contact_id"] for r in store.q("SELECT contact_id FROM health_dirty LIMIT ?", (limit,))]
    if contacts:
        _rebuild_health(store, contacts, tz, checkpoint(now, tz))
    return _left(store)


def _grouped(rows: list[dict[str, Any]], key: str) -> defaultdict[str, list[dict[str, Any]]]:
    """Rows by one column's value, in their order (a missing key reads as no rows)."""
    out: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def _marks(ids: list[str]) -> str:
    return ",".join("?" * len(ids))


def _rebuild_conversations(store: Store, ids: list[str], tz: tzinfo) -> None:
    marks = _marks(ids)
    convs = {
        r["id"]: r
        for r in store.q(
            "SELECT c.id, c.contact_id, c.status, c.created_at, c.resolved_at, coalesce(k.owner_id, c.owner_id) AS att"
            f" FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id IN ({marks})",
            tuple(ids),
        )
    }
    msgs = _grouped(
        store.q(
            f"SELECT conversation_id, direction, kind, ts, sort_ts FROM messages WHERE conversation_id IN ({marks})"
            " ORDER BY conversation_id, sort_ts, seq",
            tuple(ids),
        ),
        "conversation_id",
    )
    labels = _grouped(
        store.q(
            "SELECT conversation_id, sentiment_label, intent_label, created_at FROM insights"
            f" WHERE conversation_id IN ({marks}) AND sentiment_label IS NOT NULL ORDER BY created_at, rowid",
            tuple(ids),
        ),
        "conversation_id",
    )
    before = {
        r["conversation_id"]: r["contact_id"]
        for r in store.q(
            f"SELECT conversation_id, contact_id FROM metric_convs WHERE conversation_id IN ({marks})", tuple(ids)
        )
    }
    read = Instants(tz)
    conv_rows, day_rows, run_rows, label_rows = [], [], [], []
    touched = {c for c in before.values() if c}
    unreadable = [0]
    for cid in ids:
        c = convs.get(cid)
        if c is None:
            continue  # deleted: its rows go below
        touched.add(c["contact_id"])
        latest = labels[cid][-1] if labels[cid] else None
        resolution = c["resolved_at"] - c["created_at"] if c["resolved_at"] and c["created_at"] else None
        open_ = int(c["status"] != "resolved")
        sentiment = latest["sentiment_label"] if latest else None
        intent = latest["intent_label"] if latest else None
        conv_rows.append((cid, c["contact_id"], c["att"], open_, sentiment, intent, resolution))
        days = _days(msgs[cid], read, tz, unreadable)
        prev = NO_PREV
        for day in sorted(days):
            n_in, n_out = days[day]
            day_rows.append((cid, day, prev, c["att"], open_, sentiment, intent, resolution, n_in, n_out))
            prev = day
        run_rows += [
            (cid, _day_of(reply, tz) or UNDATED, c["att"], seconds) for reply, seconds in metrics.runs(msgs[cid], read)
        ]
        for r in labels[cid]:
            at = r["created_at"]
            if isinstance(at, int | float) and math.isfinite(at):
                day = _day_of(at, tz)
                if day is not None:
                    label_rows.append((cid, day, c["att"], r["sentiment_label"]))
    if unreadable[0]:
        log.warning("metrics: %d messages with a stored time that is not a real time were left out", unreadable[0])
    keys = [(cid,) for cid in ids]
    with store.transaction() as conn:
        _recount(conn, marks, ids, day_rows, run_rows, label_rows)
        x = conn.executemany
        for table in ("metric_convs", "metric_days", "metric_runs", "metric_labels"):
            x(f"DELETE FROM {table} WHERE conversation_id=?", keys)
        x("INSERT INTO metric_convs VALUES (?,?,?,?,?,?,?)", conv_rows)
        x("INSERT INTO metric_days VALUES (?,?,?,?,?,?,?,?,?,?)", day_rows)
        x("INSERT INTO metric_runs VALUES (?,?,?,?)", run_rows)
        x("INSERT INTO metric_labels VALUES (?,?,?,?)", label_rows)
        x("INSERT OR IGNORE INTO health_dirty VALUES (?)", [(k,) for k in touched])
        x("DELETE FROM metric_dirty WHERE conversation_id=?", keys)


def _recount(conn: Any, marks: str, ids: list[str], days: list[tuple], runs: list[tuple], labels: list[tuple]) -> None:
    """Move the summed rows from these conversations' old rows to their new ones."""
    day_delta: Counter = Counter()
    run_delta: Counter = Counter()
    label_delta: Counter = Counter()

    def add_days(rows: list[tuple], sign: int) -> None:
        for _cid, day, prev, att, open_, sentiment, intent, _res, n_in, n_out in rows:
            key = (day, prev, _key(att), open_, _key(sentiment), _key(intent))
            day_delta[key + ("n",)] += sign
            day_delta[key + ("n_in",)] += sign * n_in
            day_delta[key + ("n_out",)] += sign * n_out

    def add(rows: list[tuple], delta: Counter, sign: int) -> None:
        for _cid, day, att, value in rows:
            delta[(day, _key(att), _key(value))] += sign

    add_days(conn.execute(f"SELECT * FROM metric_days WHERE conversation_id IN ({marks})", ids).fetchall(), -1)
    add_days(days, 1)
    add(conn.execute(f"SELECT * FROM metric_runs WHERE conversation_id IN ({marks})", ids).fetchall(), run_delta, -1)
    add(runs, run_delta, 1)
    add(
        conn.execute(f"SELECT * FROM metric_labels WHERE conversation_id IN ({marks})", ids).fetchall(), label_delta, -1
    )
    add(labels, label_delta, 1)
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (*key, field), n in day_delta.items():
        groups[tuple(key)][("n", "n_in", "n_out").index(field)] += n
    changed = [(*k, *v) for k, v in groups.items() if any(v)]
    conn.executemany(
        "INSERT INTO metric_day_counts VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE"
        " SET n = n + excluded.n, n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out",
        changed,
    )
    conn.executemany(
        "DELETE FROM metric_day_counts WHERE day=? AND prev_day=? AND att=? AND open=? AND sentiment=? AND intent=?"
        " AND n = 0",
        [k[:6] for k in changed],
    )
    for table, column, delta in (
        ("metric_run_counts", "seconds", run_delta),
        ("metric_label_counts", "sentiment", label_delta),
    ):
        rows = [(*k, n) for k, n in delta.items() if n]
        conn.executemany(f"INSERT INTO {table} VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n", rows)
        conn.executemany(f"DELETE FROM {table} WHERE day=? AND att=? AND {column}=? AND n = 0", [r[:3] for r in rows])


def _key(value: Any) -> Any:
    """A summed row's key: '' stands for none (NULLs would never meet in a primary key)."""
    return "" if value is None else value


def _day_of(at: float, tz: tzinfo) -> str | None:
    try:
        return datetime.fromtimestamp(at, tz).date().isoformat()
    except (OverflowError, ValueError, OSError):
        return None


def _days(msgs: list[dict[str, Any]], read: Instants, tz: tzinfo, unreadable: list[int]) -> dict[str, list[int]]:
    """Local day -> [customer messages, outgoing messages], as /metrics counts them; a message
    whose stored time is not a real time is left out (counted in `unreadable`), one with none at
    all is UNDATED."""
    days: dict[str, list[int]] = {}
    cache: dict[int, str] = {}
    for m in msgs:
        if not m["sort_ts"]:
            day = UNDATED
        else:
            at = read(m["sort_ts"])
            if at is None:
                unreadable[0] += 1
                continue
            slot = int(at // 900)  # zone offsets are whole quarter hours: a slot has one local day
            day = cache.get(slot)
            if day is None:
                day = cache[slot] = _day_of(slot * 900, tz) or UNDATED
        counts = days.setdefault(day, [0, 0])
        if m["direction"] == "in" and m["kind"] != "system":
            counts[0] += 1
        elif m["direction"] == "out":
            counts[1] += 1
    return days


# -- health ---------------------------------------------------------------------------------


def _rebuild_health(store: Store, contact_ids: list[str], tz: tzinfo, cp: float) -> None:
    marks = _marks(contact_ids)
    found = {
        r["id"]: r for r in store.q(f"SELECT id, stage, value FROM contacts WHERE id IN ({marks})", tuple(contact_ids))
    }
    msgs = _grouped(
        store.q(
            "SELECT c.contact_id, m.conversation_id, m.direction, m.sort_ts FROM messages m"
            f" JOIN conversations c ON c.id = m.conversation_id WHERE c.contact_id IN ({marks})"
            " AND m.kind != 'system' AND m.sort_ts != '' ORDER BY c.contact_id, m.conversation_id",
            tuple(contact_ids),
        ),
        "contact_id",
    )
    sentiments: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for r in store.q(
        "SELECT c.contact_id, i.sentiment_label, i.created_at FROM insights i"
        f" JOIN conversations c ON c.id = i.conversation_id WHERE c.contact_id IN ({marks})"
        " AND i.sentiment_label IS NOT NULL ORDER BY i.created_at, i.rowid",
        tuple(contact_ids),
    ):
        at = r["created_at"]
        if isinstance(at, int | float) and not isinstance(at, bool) and math.isfinite(at):
            sentiments[r["contact_id"]].append((at, r["sentiment_label"]))
    has_conv = {
        r["contact_id"]
        for r in store.q(
            f"SELECT DISTINCT contact_id FROM conversations WHERE contact_id IN ({marks})", tuple(contact_ids)
        )
    }
    read = Instants(tz)
    cp_wall = datetime.fromtimestamp(cp, tz).strftime("%Y-%m-%dT%H:%M:%S")
    rows = []
    for kid in contact_ids:
        k = found.get(kid)
        if k is None or kid not in has_conv:
            continue
        now_state = state(msgs[kid], sentiments[kid], read, None, None)
        cp_state = state(msgs[kid], sentiments[kid], read, cp_wall, cp)
        rows.append(
            (kid, k["stage"], k["value"], now_state.last_message_at, now_state.waiting_since,
             _negative(now_state), cp, cp_state.last_message_at, cp_state.waiting_since, _negative(cp_state))
        )  # fmt: skip
    keys = [(kid,) for kid in contact_ids]
    with store.transaction() as conn:
        conn.executemany("DELETE FROM contact_health WHERE contact_id=?", keys)
        # Scored by metrics_kept at its next read (valid_until -1: stale).
        conn.executemany("INSERT INTO contact_health VALUES (?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL,-1)", rows)
        conn.executemany("DELETE FROM health_dirty WHERE contact_id=?", keys)


def _negative(s: health_score.ContactState) -> int:
    t = health_score.trend(s.sentiments)
    return int(t is not None and t < 0)


def state(
    msgs: list[dict[str, Any]],
    sentiments: list[tuple[float, str]],
    read: Instants,
    wall: str | None,
    at: float | None,
) -> health_score.ContactState:
    """A contact's health inputs from its non-system dated messages (grouped by conversation)
    and its analyses (oldest first), counting only what is stored before `wall` / `at` (None: all).
    Per conversation: its last message, and the first customer message after its last reply
    (stored times compare as strings, as SQLite compares them); the contact takes the latest
    last message and the earliest wait."""
    s = health_score.ContactState()
    by_conv: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in msgs:
        if wall is None or m["sort_ts"] < wall:
            by_conv[m["conversation_id"]].append(m)
    for rows in by_conv.values():
        last_any = max(m["sort_ts"] for m in rows)
        last_out = max((m["sort_ts"] for m in rows if m["direction"] == "out"), default="")
        waiting = min((m["sort_ts"] for m in rows if m["direction"] == "in" and m["sort_ts"] > last_out), default=None)
        last = read(last_any)
        if last is None or (at is not None and last >= at):
            continue
        s.last_message_at = last if s.last_message_at is None else max(s.last_message_at, last)
        w = read(waiting)
        if w is not None and (at is None or w < at):
            s.waiting_since = w if s.waiting_since is None else min(s.waiting_since, w)
    labels = [label for t, label in sentiments if at is None or t < at]
    s.sentiments = labels[-health_score.TREND_WINDOW :]
    return s
