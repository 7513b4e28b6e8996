"""Team metrics of /metrics, each figure worked out by hand on a seeded dataset (real SQLite store,
real server without the model). Zone UTC, period 2026-03-01..2026-03-10 (inclusive); health is as
of now (2026-03-11T00:00Z where the test chooses it), its previous score as of the checkpoint 30
days back (2026-02-09T00:00Z).
SLA targets are the defaults: first response 15 min (900 s), resolution 24 h (86400 s); risk threshold 40.

Two attendants, six contacts (one conversation each; the capturing attendant is its attendant):

  ana  c1 Carla  proposal  5000   03-02 09:00 in, 09:10 out, 10:00 in, 10:30 out; 03-09 09:00 in, 09:05 out
                                  resolved after 4 h; analyses: 03-02 positive, 03-09 positive
  ana  c2 Diego  qualified 12000  03-03 14:00 in, 14:20 out; 03-10 20:00 in (unanswered)
                                  open; analyses: 03-03 neutral, 03-10 20:05 negative, 03-10 21:00 negative
  ana  c3 Elisa  lost       800   02-20 10:00 in, 10:05 out; 03-04 11:00 in, 11:50 out
                                  resolved after 48 h; analyses: 02-20 positive
  bia  c4 Fábio  won      30000   03-05 08:00 in, 08:03 out, 09:00 in, 09:02 out; 03-06 10:00 in, 10:14 out
                                  resolved after 12 h; analyses: 03-05 negative, 03-06 negative
  bia  c5 Gabi   lead      2000   02-27 10:00 in, 10:10 out; 03-02 12:00 in (unanswered)
                                  open; analyses: 02-27 positive, 03-02 negative, 03-03 negative
  bia  c6 Hugo   lead      (none) 01-20 10:00 in, 10:30 out; no analyses
  feedback in the period: ana inserted 3, edited 1, dismissed 2; bia inserted 1, dismissed 1;
  one more of ana's on 02-15 (outside the period).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import PASSPHRASE, cli, make_server

from desktop import health_score
from desktop import metrics as metrics_calc
from desktop.health_score import ContactState
from desktop.store import chats
from desktop.store.database import Store, new_id
from desktop.team_metrics import Targets

PERIOD = "?from=2026-03-01&to=2026-03-10"


def _t(s: str) -> float:
    return datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp()


def _seed(store: Store, ana: str, bia: str) -> dict[str, str]:
    """The dataset of the module docstring; returns contact ids by short name."""
    spec = {
        "c1": (ana, "Carla", "proposal", 5000, [("in", "03-02 09:00"), ("out", "03-02 09:10"), ("in", "03-02 10:00"),
                                                ("out", "03-02 10:30"), ("in", "03-09 09:00"), ("out", "03-09 09:05")],
               ("03-02 09:00", "03-02 13:00"), [("03-02 09:30", "positive"), ("03-09 09:30", "positive")]),
        "c2": (ana, "Diego", "qualified", 12000, [("in", "03-03 14:00"), ("out", "03-03 14:20"), ("in", "03-10 20:00")],
               ("03-03 14:00", None),
               [("03-03 14:30", "neutral"), ("03-10 20:05", "negative"), ("03-10 21:00", "negative")]),
        "c3": (ana, "Elisa", "lost", 800, [("in", "02-20 10:00"), ("out", "02-20 10:05"), ("in", "03-04 11:00"),
                                           ("out", "03-04 11:50")],
               ("03-04 11:00", "03-06 11:00"), [("02-20 10:30", "positive")]),
        "c4": (bia, "Fábio", "won", 30000, [("in", "03-05 08:00"), ("out", "03-05 08:03"), ("in", "03-05 09:00"),
                                            ("out", "03-05 09:02"), ("in", "03-06 10:00"), ("out", "03-06 10:14")],
               ("03-05 08:00", "03-05 20:00"), [("03-05 08:30", "negative"), ("03-06 10:30", "negative")]),
        "c5": (bia, "Gabi", "lead", 2000, [("in", "02-27 10:00"), ("out", "02-27 10:10"), ("in", "03-02 12:00")],
               ("02-27 10:00", None),
               [("02-27 10:20", "positive"), ("03-02 12:05", "negative"), ("03-03 09:00", "negative")]),
        "c6": (bia, "Hugo", "lead", None, [("in", "01-20 10:00"), ("out", "01-20 10:30")], ("01-20 10:00", None), []),
    }  # fmt: skip
    ids = {}
    for key, (owner, name, stage, value, msgs, (created, resolved), analyses) in spec.items():
        capture = {
            "chat": {"id": f"55119000000{key[1]}@c.us", "title": name, "is_group": False, "phone": None},
            "messages": [
                {"id": f"{key}-{i}", "direction": d, "kind": "text", "author": None,
                 "timestamp": f"2026-{ts.replace(' ', 'T')}:00", "text": "oi"}
                for i, (d, ts) in enumerate(msgs)
            ],
        }  # fmt: skip
        stored = chats.store_capture(store, capture, owner)
        ids[key] = stored.contact_id
        with store.transaction():
            store.conn.execute("UPDATE contacts SET stage=?, value=? WHERE id=?", (stage, value, stored.contact_id))
            store.conn.execute(
                "UPDATE conversations SET created_at=?, resolved_at=?, status=? WHERE id=?",
                (
                    _t(f"2026-{created}"),
                    _t(f"2026-{resolved}") if resolved else None,
                    "resolved" if resolved else "open",
                    stored.conversation_id,
                ),
            )
            for at, label in analyses:
                store.conn.execute(
                    "INSERT INTO insights(id, conversation_id, state, sentiment_label, sentiment_score, intent_label,"
                    " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                    (new_id("i"), stored.conversation_id, "done", label, 0.9, "other", _t(f"2026-{at}"), 0),
                )
    feedback = [(ana, "inserted", "03-02 09:10")] * 3 + [(ana, "edited", "03-03 14:20")]
    feedback += [(ana, "dismissed", "03-09 09:05")] * 2 + [(ana, "inserted", "02-15 10:00")]
    feedback += [(bia, "inserted", "03-05 08:03"), (bia, "dismissed", "03-06 10:14")]
    with store.transaction():
        for user, action, at in feedback:
            store.conn.execute(
                "INSERT INTO suggestion_feedback(id, suggestion_id, insight_id, conversation_id, user_id, action,"
                " created_at) VALUES (?,?,?,?,?,?,?)",
                (new_id("f"), "i_x.0", "i_x", None, user, action, _t(f"2026-{at}")),
            )
    return ids


# Per-day by hand from the docstring (in = customer messages; sentiment = analyses made that day).
DAILY = [
    ("2026-03-01", 0, 0, {}),
    ("2026-03-02", 2, 3, {"positive": 1, "negative": 1}),  # c1 (2 in) and c5 (1 in); c1 positive, c5 negative
    ("2026-03-03", 1, 1, {"neutral": 1, "negative": 1}),  # c2; c2 neutral, c5 negative
    ("2026-03-04", 1, 1, {}),  # c3
    ("2026-03-05", 1, 2, {"negative": 1}),  # c4
    ("2026-03-06", 1, 1, {"negative": 1}),  # c4
    ("2026-03-07", 0, 0, {}),
    ("2026-03-08", 0, 0, {}),
    ("2026-03-09", 1, 1, {"positive": 1}),  # c1
    ("2026-03-10", 1, 1, {"negative": 2}),  # c2
]


def _check_admin(m: dict, ids: dict[str, str], ana: str, bia: str) -> None:
    assert [(d["day"], d["conversations"], d["messages_in"], d["sentiment"]) for d in m["daily"]] == DAILY
    # Existing fields unchanged: 5 active conversations (c6 has none in the period), 10 in, 8 out.
    assert m["volumes"] == {"conversations": 5, "messages_in": 10, "messages_out": 8, "open": 2}
    # First responses: c1 600, 1800, 300; c2 1200; c3 3000; c4 180, 120, 840 (c2's and c5's last waits
    # have no reply). Sorted 120 180 300 600 840 1200 1800 3000: p50 = 4th = 600, p90 = 8th = 3000.
    assert m["first_response_seconds"] == {"p50": 600, "p90": 3000, "n": 8}
    # Funnel: lead c5+c6 (value 2000), qualified c2, proposal c1, won c4, lost c3; pipeline 2000+12000+5000.
    assert [(f["stage"], f["contacts"], f["value"]) for f in m["funnel"]] == [
        ("lead", 2, 2000),
        ("qualified", 1, 12000),
        ("proposal", 1, 5000),
        ("won", 1, 30000),
        ("lost", 1, 800),
    ]
    assert m["pipeline_value"] == 19000
    # SLA: 5 of 8 first responses within 900 s (120 180 300 600 840); resolutions 4 h, 48 h, 12 h: 2 of 3.
    assert m["sla"] == {
        "first_response_minutes": 15,
        "resolution_hours": 24,
        "first_response_met": 0.625,
        "first_response_n": 8,
        "resolution_met": 0.6667,
        "resolution_n": 3,
    }
    rows = {r["user"]: r for r in m["attendants"]}
    assert set(rows) == {ana, bia}
    # ana: c1 c2 c3; first responses 300 600 1200 1800 3000 -> p50 3rd = 1200, p90 5th = 3000; 2 of 5
    # within 900 s; resolutions 14400 (c1) and 172800 (c3) -> p50 1st = 14400; latest sentiments
    # c1 positive, c2 negative, c3 positive -> 1/3 negative; feedback 3 inserted, 1 edited, 2 dismissed.
    assert rows[ana] == {
        "user": ana,
        "username": "ana",
        "conversations": 3,
        "first_response_seconds": {"p50": 1200, "p90": 3000, "n": 5},
        "first_response_sla_met": 0.4,
        "resolution_seconds": {"p50": 14400, "n": 2},
        "negative_share": 0.3333,
        "suggestions": {"inserted": 3, "edited": 1, "dismissed": 2, "sent": 0},
    }
    # bia: c4 c5; first responses 120 180 840 -> p50 2nd = 180, p90 3rd = 840, all within 900 s;
    # resolution c4 43200; latest sentiments c4 negative, c5 negative -> 1.0.
    assert rows[bia] == {
        "user": bia,
        "username": "bia",
        "conversations": 2,
        "first_response_seconds": {"p50": 180, "p90": 840, "n": 3},
        "first_response_sla_met": 1.0,
        "resolution_seconds": {"p50": 43200, "n": 1},
        "negative_share": 1.0,
        "suggestions": {"inserted": 1, "edited": 0, "dismissed": 1, "sent": 0},
    }
    # Top by value, c6 has none: c4 30000, c2 12000, c1 5000, c5 2000, c3 800, with decrypted names.
    assert [(c["contact_id"], c["name"], c["value"]) for c in m["top_contacts"]] == [
        (ids["c4"], "Fábio", 30000),
        (ids["c2"], "Diego", 12000),
        (ids["c1"], "Carla", 5000),
        (ids["c5"], "Gabi", 2000),
        (ids["c3"], "Elisa", 800),
    ]


def _check_health(m: dict, ids: dict[str, str]) -> None:
    # Health as of now = 03-11 00:00, the previous score as of the checkpoint 30 days back, 02-09 00:00:
    #   c1 100: trend +1, no wait, last 1.6 days ago; no message before the checkpoint -> no previous.
    #   c2 45: trend (0-1-1)/3 < 0 (-30), waiting since 03-10 20:00 = 4 h > 15 min (-25).
    #   c3 10: nothing lowers it, but lost caps it at 10 -> at risk (< 40); first message 02-20: no previous.
    #   c4 70: trend -1 (-30).
    #   c5 45: trend (1-1-1)/3 < 0 (-30), waiting since 03-02 12:00 (-25); first message 02-27: no previous.
    #   c6 75: last message 01-20 10:30, 49.6 days before now (-25); at the checkpoint 19.6 days (-10) = 90:
    #          fell 15 >= 15: falling -> at risk.
    health = {h["contact_id"]: h for h in m["health"]["contacts"]}
    expected = {
        "c1": (100, None, []),
        "c2": (45, None, ["negative_trend", "waiting_unanswered"]),
        "c3": (10, None, ["stage_lost"]),
        "c4": (70, None, ["negative_trend"]),
        "c5": (45, None, ["negative_trend", "waiting_unanswered"]),
        "c6": (75, 90, ["inactive_30d", "falling"]),
    }
    assert {
        k: (health[ids[k]]["score"], health[ids[k]]["previous"], health[ids[k]]["reasons"]) for k in ids
    } == expected
    assert [h["score"] for h in m["health"]["contacts"]] == [10, 45, 45, 70, 75, 100]
    assert m["health"]["as_of"] == "2026-03-11T00:00:00Z"
    assert (m["health"]["threshold"], m["health"]["contacts_scored"]) == (40, 6)
    assert m["health"]["average"] == 57.5  # (100 + 45 + 10 + 70 + 45 + 75) / 6
    # At risk: c3 (10 < 40) and c6 (falling); c3 last wrote 03-04 11:50 = 6.5 days before now, c6 on
    # 01-20 10:30 = 49.6 days; neither has a customer waiting.
    assert [
        (r["contact_id"], r["name"], r["score"], r["previous"], r["waiting_seconds"], r["days_since_last_message"])
        for r in m["at_risk"]
    ] == [(ids["c3"], "Elisa", 10, None, None, 6.5), (ids["c6"], "Hugo", 75, 90, None, 49.6)]
    assert [x["code"] for x in m["at_risk"][1]["reasons"]] == ["inactive_30d", "falling"]
    assert all(x["text"] for r in m["at_risk"] for x in r["reasons"])


@pytest.fixture
def seeded(tmp_path):
    srv = make_server(tmp_path, None, conversa_timezone="UTC")
    for name in ("ana", "bia"):
        r = cli(srv.data_dir, "users", "add", name, "--role", "attendant", "--password-stdin", stdin="att-pass-123\n")
        assert r.returncode == 0, r.stderr
    store, _ = Store.open(srv.data_dir, PASSPHRASE)
    users = {r["username"]: r["id"] for r in store.q("SELECT id, username FROM users")}
    ids = _seed(store, users["ana"], users["bia"])
    store.close()  # the server owns the data dir while it runs
    yield srv, users, ids
    srv.stop()


def test_team_metrics_by_hand_through_the_store(seeded):
    srv, users, ids = seeded
    store, _ = Store.open(srv.data_dir, PASSPHRASE)
    m = metrics_calc.report(store, None, "2026-03-01", "2026-03-10", "UTC", Targets(), now=_t("2026-03-11T00:00"))
    _check_admin(m, ids, users["ana"], users["bia"])
    _check_health(m, ids)
    # Health is as of now whatever the period; on 12-01 everyone has been silent for 30 days or more
    # (-25): c1 75, c2 20, c3 10, c4 45, c5 20, c6 75, and nobody fell since 11-01. A stricter
    # threshold lists them all.
    m = metrics_calc.report(store, None, "2026-03-01", "2026-03-10", "UTC", Targets(15, 24, 80), now=_t("2026-12-01"))
    assert [r["score"] for r in m["at_risk"]] == [10, 20, 20, 45, 75, 75]
    assert all(r["previous"] == r["score"] for r in m["at_risk"])
    store.close()


def test_team_metrics_over_http_and_attendants_see_their_own(seeded):
    srv, users, ids = seeded
    srv.start(wait_model=False)
    admin = srv.login()["access_token"]
    r = srv.request("GET", "/api/v1/metrics" + PERIOD, token=admin)
    assert r.status == 200, r.body
    _check_admin(r.json(), ids, users["ana"], users["bia"])

    ana = srv.login("ana", "att-pass-123")["access_token"]
    r = srv.request("GET", "/api/v1/metrics" + PERIOD, token=ana)
    assert r.status == 200, r.body
    own = r.json()
    assert [a["user"] for a in own["attendants"]] == [users["ana"]]
    assert [c["contact_id"] for c in own["top_contacts"]] == [ids["c2"], ids["c1"], ids["c3"]]
    # Health as of the real now, months after the data: everyone silent 30 days or more (-25).
    assert [(h["contact_id"], h["score"]) for h in own["health"]["contacts"]] == [
        (ids["c3"], 10),
        (ids["c2"], 20),
        (ids["c1"], 75),
    ]
    assert [r["contact_id"] for r in own["at_risk"]] == [ids["c3"], ids["c2"]]
    # ana's days: c1 on 03-02 (2 in) and 03-09, c2 on 03-03 and 03-10, c3 on 03-04.
    assert [(d["day"], d["messages_in"]) for d in own["daily"] if d["conversations"]] == [
        ("2026-03-02", 2),
        ("2026-03-03", 1),
        ("2026-03-04", 1),
        ("2026-03-09", 1),
        ("2026-03-10", 1),
    ]
    assert own["sla"]["first_response_met"] == 0.4 and own["sla"]["resolution_met"] == 0.5  # 14400 ok, 172800 not
    # Asking for another attendant's numbers: 403 in the one error shape.
    r = srv.request("GET", "/api/v1/metrics" + PERIOD + "&user=" + users["bia"], token=ana)
    assert r.status == 403 and r.json()["error"]["code"] == "role_not_allowed"
    # An admin may ask for one attendant.
    r = srv.request("GET", "/api/v1/metrics" + PERIOD + "&user=" + users["bia"], token=admin)
    assert [a["user"] for a in r.json()["attendants"]] == [users["bia"]]
    assert [c["name"] for c in r.json()["top_contacts"]] == ["Fábio", "Gabi"]


def test_health_formula_edges():
    at = _t("2026-03-11T00:00")
    day = 86400
    # 15 days silent: -10 (inactive_14d); a wait shorter than the 900 s target does not count.
    h = health_score.score(ContactState(last_message_at=at - 15 * day, waiting_since=at - 600), "lead", at, 900)
    assert (h.score, h.reasons, h.waiting_seconds) == (90, ("inactive_14d",), 600)
    # Every penalty at once: 100 - 30 - 25 - 25 = 20, then lost caps it at 10.
    state = ContactState(last_message_at=at - 40 * day, waiting_since=at - 40 * day, sentiments=["negative"])
    assert health_score.score(state, "proposal", at, 900).score == 20
    h = health_score.score(state, "lost", at, 900)
    assert (h.score, h.reasons) == (10, ("negative_trend", "waiting_unanswered", "inactive_30d", "stage_lost"))
    # Only the last 3 analyses count: neg, pos, pos, neutral -> (1 + 1 + 0) / 3 > 0.
    assert health_score.trend(["negative", "positive", "positive", "neutral"]) == 2 / 3
    assert health_score.falling(45, 60) and not health_score.falling(46, 60) and not health_score.falling(10, None)
