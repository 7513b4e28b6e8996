"""/metrics from the kept rows (desktop/metrics_kept.py) answers exactly what reading the messages
answers, and the message path still answers what the computation before it answered
(tests/metrics_reference) wherever the meaning did not change: on a real SQLite store, the
benchmark's dataset plus rows that test the edges (system messages, missing, offset and impossible
times, a conversation spanning the period's ends, a DST change), for an admin and an attendant,
several periods, two zones and two "now"s. Two meanings changed on purpose: a first response
belongs to the period of its reply (measured from the run's start, even before the period), and
health is scored as of now with the previous score at a checkpoint 30 days back (not as of the
period's end): those fields are compared between the two current paths and checked on their own."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from bench import bench_metrics
from conftest import PASSPHRASE
from metrics_reference import metrics as reference

from desktop import health_score, metrics
from desktop.metrics import Instants, instant
from desktop.store import chats
from desktop.store.database import Store
from desktop.team_metrics import Targets

PERIODS = [
    ("2026-01-01", "2026-03-31"),
    ("2026-02-01", "2026-02-07"),
    ("2026-03-08", "2026-03-08"),
    (None, None),
    ("2026-03-20", None),
    (None, "2026-01-15"),
    ("2026-02-10T12:30:00", "2026-02-20T08:00:00"),
]


def _capture(chat_id: str, stamps: list[tuple[str, str, str]]) -> dict:
    return {
        "chat": {"id": chat_id, "title": "Cliente", "is_group": False, "phone": None},
        "messages": [
            {"id": f"{chat_id}-{i}", "direction": d, "kind": k, "author": None, "timestamp": ts, "text": "oi"}
            for i, (d, k, ts) in enumerate(stamps)
        ],
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store, _ = Store.open(tmp_path_factory.mktemp("eq"), PASSPHRASE)
    users = ["u_ana", "u_bia", "u_caio"]
    bench_metrics.seed(store, 1500, users)
    edges = {
        "spans@c.us": [("in", "text", "2026-01-31T23:50:00"), ("in", "text", "2026-02-01T00:10:00"),
                       ("out", "text", "2026-02-01T00:20:00"), ("in", "text", "2026-02-07T23:59:00"),
                       ("out", "text", "2026-02-08T00:05:00")],
        "system@c.us": [("in", "system", ""), ("in", "text", "2026-03-08T01:30:00"),
                        ("out", "text", "2026-03-08T03:10:00"), ("in", "text", "2026-03-08T09:00:00")],
        "offset@c.us": [("in", "text", "2026-02-15T10:00:00-03:00"), ("out", "text", "2026-02-15T13:30:00Z"),
                        ("in", "text", "2026-02-15T10:00:00.250")],
        "odd@c.us": [("in", "text", "2026-02-30T09:14:00"), ("out", "text", "2026-03-10T23:59:60"),
                     ("in", "text", "2026-03-10T09:14:00"), ("out", "text", "2026-03-10T24:00")],
    }  # fmt: skip
    for i, (chat, stamps) in enumerate(edges.items()):
        chats.store_capture(store, _capture(chat, stamps), users[i % len(users)])
    yield store, users
    store.close()


# Fields whose meaning changed since the reference (first responses, health): compared between paths only.
CHANGED = {"first_response_seconds", "health", "at_risk"}


def _unchanged(answer: dict) -> dict:
    out = {k: v for k, v in answer.items() if k not in CHANGED}
    out["sla"] = {k: v for k, v in answer["sla"].items() if not k.startswith("first_response")}
    out["attendants"] = [
        {k: v for k, v in a.items() if not k.startswith("first_response")} for a in answer["attendants"]
    ]
    return out


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_kept_rows_answer_what_the_messages_answer(seeded, zone):
    store, users = seeded
    compared = 0
    for now in (datetime(2026, 4, 10, tzinfo=UTC).timestamp(), datetime(2026, 2, 20, 15, tzinfo=UTC).timestamp()):
        for user in (None, users[1]):
            for since, until in PERIODS:
                kept = metrics.report(store, user, since, until, zone, Targets(), now=now)
                read = metrics.report(store, user, since, until, zone, Targets(), now=now, from_messages=True)
                assert json.dumps(kept, sort_keys=True) == json.dumps(read, sort_keys=True), (user, since, until)
                old = reference.report(store, user, since, until, zone, Targets(), now=now)
                assert json.dumps(_unchanged(read), sort_keys=True) == json.dumps(_unchanged(old), sort_keys=True)
                compared += 1
    # The comparison is over real figures, not two empty answers.
    april = datetime(2026, 4, 10, tzinfo=UTC).timestamp()
    whole = metrics.report(store, None, "2026-01-01", "2026-03-31", zone, Targets(), now=april)
    assert whole["volumes"]["conversations"] > 1000 and whole["health"]["contacts_scored"] > 1000
    assert whole["first_response_seconds"]["n"] > 2000 and len(whole["attendants"]) == 3
    assert compared == 2 * 2 * len(PERIODS)


def test_kept_rows_follow_later_writes(seeded):
    """A capture, a transfer and a status change after the rows were built show at once."""
    store, users = seeded
    now = datetime(2026, 4, 10, tzinfo=UTC).timestamp()
    before = metrics.report(store, None, "2026-03-31", "2026-03-31", "UTC", Targets(), now=now)
    stored = chats.store_capture(
        store,
        _capture("later@c.us", [("in", "text", "2026-03-31T10:00:00"), ("out", "text", "2026-03-31T10:07:00")]),
        users[0],
    )
    with store.transaction():
        store.conn.execute("UPDATE contacts SET owner_id=? WHERE id=?", (users[2], stored.contact_id))
        store.conn.execute("UPDATE conversations SET status='resolved' WHERE id=?", (stored.conversation_id,))
    after = metrics.report(store, None, "2026-03-31", "2026-03-31", "UTC", Targets(), now=now)
    read = metrics.report(store, None, "2026-03-31", "2026-03-31", "UTC", Targets(), now=now, from_messages=True)
    assert json.dumps(after, sort_keys=True) == json.dumps(read, sort_keys=True)
    assert after["volumes"]["conversations"] == before["volumes"]["conversations"] + 1
    assert after["volumes"]["open"] == before["volumes"]["open"]
    assert after["first_response_seconds"]["n"] == before["first_response_seconds"]["n"] + 1
    caio = {a["user"]: a for a in after["attendants"]}[users[2]]
    caio_before = {a["user"]: a for a in before["attendants"]}.get(users[2], {"conversations": 0})
    assert caio["conversations"] == caio_before["conversations"] + 1
    # Erasing the contact (LGPD) takes it out of every figure and of health.
    chats.erase_contact(store, stored.contact_id)
    erased = metrics.report(store, None, "2026-03-31", "2026-03-31", "UTC", Targets(), now=now)
    read = metrics.report(store, None, "2026-03-31", "2026-03-31", "UTC", Targets(), now=now, from_messages=True)
    assert json.dumps(erased, sort_keys=True) == json.dumps(read, sort_keys=True)
    assert json.dumps(erased, sort_keys=True) == json.dumps(before, sort_keys=True)
    assert store.q1("SELECT count(*) AS n FROM contact_health WHERE contact_id=?", (stored.contact_id,))["n"] == 0


def test_health_sql_scores_equal_the_python_rule(seeded):
    """The kept health is ordered and averaged in SQL and explained in Python: one rule."""
    store, _ = seeded
    for now in (datetime(2026, 4, 10, tzinfo=UTC).timestamp(), datetime(2026, 3, 1, tzinfo=UTC).timestamp()):
        h = metrics.report(store, None, None, None, "UTC", Targets(), now=now)["health"]
        listed = h["contacts"]
        assert listed and [c["score"] for c in listed] == sorted(c["score"] for c in listed)
        rows = {
            r["contact_id"]: r
            for r in store.q("SELECT * FROM contact_health WHERE last_at IS NOT NULL AND last_at < ?", (now,))
        }
        assert h["contacts_scored"] == len(rows)
        scores = []
        for cid, r in rows.items():
            waiting = r["waiting_since"] if r["waiting_since"] is not None and r["waiting_since"] < now else None
            state = health_score.ContactState.kept(r["last_at"], waiting, bool(r["negative"]))
            scores.append(health_score.score(state, r["stage"], now, 900).score)
            if cid in {c["contact_id"] for c in listed[:50]}:
                assert next(c for c in listed if c["contact_id"] == cid)["score"] == scores[-1]
        assert h["average"] == round(sum(scores) / len(scores), 1)


def test_hour_cached_times_equal_instant():
    rng = random.Random(3)
    for zone in ("UTC", "America/Sao_Paulo", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"):
        tz = metrics.ZoneInfo(zone)
        read = Instants(tz)
        samples = ["2026-03-08T02:30:00", "2026-11-01T01:30:00", "2026-04-05T01:45:00", "2026-10-04T02:10:00",
                   "2026-03-10T23:59:60", "2026-03-10T09:٠٥:00", "2026-02-30T09:14:00", "", None,
                   "2026-03-10T09:14:00Z", "2026-03-10 09:14:00", "2026-03-10T09:14:00.5"]  # fmt: skip
        for _ in range(3000):
            at = rng.uniform(1.7e9, 1.8e9)
            samples.append(datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        for ts in samples:
            assert read(ts) == instant(ts, tz), (zone, ts)
