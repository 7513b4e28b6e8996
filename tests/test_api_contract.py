"""API.md routes that had no test: logout, /analyze, GET /contacts, pairing codes, /setup on
loopback, the per-address limit, CORS preflight, /metrics with from/to, jobs. Over HTTP against
a real server process; each test fails when the behaviour it names is broken."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest
from conftest import ADMIN_PASSWORD, Server, cli, fixture_capture, free_port, make_server

from desktop.config import DEFAULT_EXTENSION_ID

EXTENSION_ORIGIN = f"chrome-extension://{DEFAULT_EXTENSION_ID}"


def assert_error(r, status: int) -> dict:
    assert r.status == status, (r.status, r.body)
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


def add_user(server: Server, name: str, role: str = "attendant", password: str = "attendant-pass-1") -> dict:
    r = cli(server.data_dir, "users", "add", name, "--role", role, "--password-stdin", stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    return server.login(name, password)


def wait_for(predicate, timeout: float = 180, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


@pytest.fixture(scope="module")
def srv(tmp_path_factory, model_file):
    """One server with the default model for the tests that need no fresh state."""
    server = make_server(tmp_path_factory.mktemp("contract"), model_file)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(srv):
    return srv.login()


@pytest.fixture(scope="module")
def attendant(srv):
    return add_user(srv, "att-contract")


@pytest.fixture(scope="module")
def analysed(srv, admin):
    """The fixture chat, captured by the admin and analysed once."""
    token = admin["access_token"]
    r = srv.request("POST", "/api/v1/captures", fixture_capture(), token=token)
    assert r.status == 202 and r.json()["analysis"] == "queued", r.body
    cid = r.json()["conversation_id"]
    events = srv.sse(f"/api/v1/conversations/{cid}/insights/stream", token, until="insight")
    assert events[-1][1]["state"] == "ready", events[-1]
    return {"conversation_id": cid, "insight": events[-1][1]}


def _own_capture(chat_id: str, title: str) -> dict:
    return {
        "chat": {"id": chat_id, "title": title, "is_group": False, "phone": None},
        "messages": [
            {
                "id": f"false_{chat_id}_{uuid.uuid4().hex[:12].upper()}",
                "direction": "in",
                "kind": "text",
                "text": "Oi, vocês entregam no sábado?",
                "timestamp": "2026-03-12T10:00:00",
                "author": title,
            }
        ],
    }


# -- logout -------------------------------------------------------------------------------------


def test_logout_kills_the_devices_tokens_and_only_them(srv, admin):
    device = srv.login()  # a second device of the same user
    token = device["access_token"]
    assert srv.request("GET", "/api/v1/conversations", token=token).status == 200
    r = srv.request("POST", "/api/v1/auth/logout", token=token)
    assert r.status == 204 and r.body == b""
    # The access token of the signed-out device is dead at once, and so is its refresh token.
    assert_error(srv.request("GET", "/api/v1/conversations", token=token), 401)
    assert_error(srv.request("POST", "/api/v1/auth/refresh", {"refresh_token": device["refresh_token"]}), 401)
    # The user's other device is untouched.
    assert srv.request("GET", "/api/v1/conversations", token=admin["access_token"]).status == 200
    assert_error(srv.request("POST", "/api/v1/auth/logout"), 401)


# -- analyze ------------------------------------------------------------------------------------


def test_analyze_reruns_the_analysis_into_a_new_insight(srv, admin, attendant, analysed):
    token, cid = admin["access_token"], analysed["conversation_id"]
    first_iid = analysed["insight"]["suggestions"][0]["id"].rsplit(".", 1)[0]
    before = len(srv.request("GET", f"/api/v1/conversations/{cid}/insights/history", token=token).json()["items"])

    r = srv.request("POST", f"/api/v1/conversations/{cid}/analyze", token=token)
    assert r.status == 202, r.body
    assert r.json()["analysis"] == "queued" and r.json()["conversation_id"] == cid

    def new_ready_insight():
        latest = srv.request("GET", f"/api/v1/conversations/{cid}/insights", token=token).json()
        fresh = latest["state"] == "ready" and latest["suggestions"][0]["id"].rsplit(".", 1)[0] != first_iid
        return latest if fresh else None

    latest = wait_for(new_ready_insight)
    assert len(latest["suggestions"]) == 3 and latest["sentiment"]["label"]
    after = srv.request("GET", f"/api/v1/conversations/{cid}/insights/history", token=token).json()["items"]
    assert len(after) == before + 1

    # Someone else's conversation, or none at all: 404, and nothing is queued.
    assert_error(srv.request("POST", f"/api/v1/conversations/{cid}/analyze", token=attendant["access_token"]), 404)
    assert_error(srv.request("POST", "/api/v1/conversations/c_missing/analyze", token=token), 404)
    assert_error(srv.request("POST", f"/api/v1/conversations/{cid}/analyze"), 401)


# -- contacts -----------------------------------------------------------------------------------


def test_get_contacts_lists_cards_and_attendants_see_only_theirs(srv, admin, attendant, analysed):
    att = attendant["access_token"]
    r = srv.request("POST", "/api/v1/captures", _own_capture("5511944440000@c.us", "Cliente do Att"), token=att)
    assert r.status == 202, r.body
    att_contact = srv.request("GET", f"/api/v1/conversations/{r.json()['conversation_id']}", token=att).json()[
        "contact"
    ]
    admin_conv = srv.request(
        "GET", f"/api/v1/conversations/{analysed['conversation_id']}", token=admin["access_token"]
    ).json()
    mariana = admin_conv["contact"]

    r = srv.request("GET", "/api/v1/contacts", token=admin["access_token"])
    assert r.status == 200
    by_id = {c["id"]: c for c in r.json()["items"]}
    assert {mariana["id"], att_contact["id"]} <= by_id.keys()
    card = by_id[mariana["id"]]
    assert card["name"] == "Mariana Costa" and card["phone"] == "+5511987654321"
    assert card["stage"] in ("lead", "qualified", "proposal", "won", "lost")
    for key in ("value", "tags", "notes", "owner"):
        assert key in card, key

    mine = {c["id"] for c in srv.request("GET", "/api/v1/contacts", token=att).json()["items"]}
    assert att_contact["id"] in mine and mariana["id"] not in mine
    assert_error(srv.request("GET", "/api/v1/contacts"), 401)


# -- pairing codes ------------------------------------------------------------------------------


def test_admin_pairing_code_pairs_a_browser_once(srv, admin, attendant):
    r = srv.request("POST", "/api/v1/pairing-codes", {}, token=admin["access_token"])
    assert r.status == 201, r.body
    out = r.json()
    assert out["code"] and 0 < out["expires_in"] <= 300
    r = srv.request("POST", "/api/v1/auth/pair", {"code": out["code"], "device": "Firefox"})
    assert r.status == 200, r.body
    paired = r.json()
    assert paired["user"]["id"] == admin["user"]["id"] and paired["user"]["role"] == "admin"
    assert srv.request("GET", "/api/v1/conversations", token=paired["access_token"]).status == 200
    assert_error(srv.request("POST", "/api/v1/auth/pair", {"code": out["code"], "device": "Firefox"}), 401)

    # For an attendant: the code signs in that attendant, with the attendant's role.
    r = srv.request("POST", "/api/v1/pairing-codes", {"user": attendant["user"]["id"]}, token=admin["access_token"])
    assert r.status == 201, r.body
    paired = srv.request("POST", "/api/v1/auth/pair", {"code": r.json()["code"], "device": "Chrome"}).json()
    assert paired["user"]["id"] == attendant["user"]["id"] and paired["user"]["role"] == "attendant"
    assert_error(srv.request("POST", "/api/v1/pairing-codes", {}), 401)


# -- CORS preflight -----------------------------------------------------------------------------


def test_preflight_from_the_extension_gets_cors_headers(srv):
    r = srv.request(
        "OPTIONS",
        "/api/v1/captures",
        headers={
            "Origin": EXTENSION_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert 200 <= r.status < 300, (r.status, r.body)
    assert r.headers["access-control-allow-origin"] == EXTENSION_ORIGIN
    methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "origin" in r.headers.get("vary", "").lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"])
def test_preflight_from_another_origin_is_403_without_cors_headers(srv, origin):
    r = srv.request(
        "OPTIONS",
        "/api/v1/captures",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert_error(r, 403)
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-methods" not in r.headers


# -- metrics with from / to ---------------------------------------------------------------------
# The fixture chat: 2026-03-10 has 4 customer and 4 attendant messages (09:14–09:32, UTC−3),
# 2026-03-11 has 4 customer and 2 attendant messages (14:02–14:15).


def _volumes(srv, token, query: str) -> dict:
    r = srv.request("GET", "/api/v1/metrics" + query, token=token)
    assert r.status == 200, r.body
    return r.json()


def test_metrics_from_bounds_the_period(srv, admin, analysed):
    token = admin["access_token"]
    me = f"&user={admin['user']['id']}"  # the admin's own chats: other tests add chats of other users
    every = _volumes(srv, token, "?" + me[1:])["volumes"]
    assert (every["messages_in"], every["messages_out"], every["conversations"]) == (8, 6, 1)
    day2 = _volumes(srv, token, "?from=2026-03-11" + me)  # the chat's last day: the rest of the period is empty
    assert (day2["volumes"]["messages_in"], day2["volumes"]["messages_out"]) == (4, 2)
    assert day2["first_response_seconds"]["n"] == 2  # 14:02→14:05, 14:11→14:12
    assert day2["volumes"]["conversations"] == 1
    nothing = _volumes(srv, token, "?from=2026-03-13" + me)["volumes"]
    assert nothing["messages_in"] == 0 and nothing["messages_out"] == 0 and nothing["conversations"] == 0
    before = _volumes(srv, token, "?to=2026-03-09" + me)["volumes"]
    assert before["messages_in"] == 0 and before["conversations"] == 0
    # Everyone's numbers include the period's chats of other users too.
    assert _volumes(srv, token, "?from=2026-03-11")["volumes"]["messages_in"] >= 4


@pytest.mark.parametrize("query, field", [("?from=yesterday", "from"), ("?to=2026-13-45", "to")])
def test_metrics_bad_dates_are_400_naming_the_field(srv, admin, query, field):
    err = assert_error(srv.request("GET", "/api/v1/metrics" + query, token=admin["access_token"]), 400)
    assert err["field"] == field


# -- jobs ---------------------------------------------------------------------------------------


def _job_ids(srv, kind: str) -> list[str]:
    db = sqlite3.connect(srv.data_dir / "conversa.db")
    try:
        return [r[0] for r in db.execute("SELECT id FROM jobs WHERE kind=? ORDER BY created_at", (kind,))]
    finally:
        db.close()


def test_a_correction_retrains_in_a_job_clients_can_follow(srv, admin, attendant, analysed):
    token, cid = admin["access_token"], analysed["conversation_id"]
    known = set(_job_ids(srv, "retrain"))
    r = srv.request("POST", f"/api/v1/conversations/{cid}/labels", {"intent": "order_status"}, token=token)
    assert r.status == 204
    job_id = wait_for(lambda: next((j for j in _job_ids(srv, "retrain") if j not in known), None))

    def finished():
        got = srv.request("GET", f"/api/v1/jobs/{job_id}", token=token)
        assert got.status == 200, got.body
        job = got.json()
        return job if job["state"] in ("done", "failed", "cancelled") else None

    job = wait_for(finished)
    assert job["id"] == job_id and job["kind"] == "retrain" and job["state"] == "done", job
    assert job["done"] == job["total"] > 0 and isinstance(job["message"], str)
    assert job["result"]["examples"]["intent"] >= 1

    # Finished work cannot be cancelled: DELETE answers the job as it is.
    r = srv.request("DELETE", f"/api/v1/jobs/{job_id}", token=token)
    assert r.status == 200 and r.json()["state"] == "done"
    assert srv.request("GET", f"/api/v1/jobs/{job_id}", token=token).json()["state"] == "done"

    # Attendants see only their own jobs; unknown ids are 404; no token, 401.
    assert_error(srv.request("GET", f"/api/v1/jobs/{job_id}", token=attendant["access_token"]), 404)
    assert_error(srv.request("DELETE", f"/api/v1/jobs/{job_id}", token=attendant["access_token"]), 404)
    assert_error(srv.request("GET", "/api/v1/jobs/j_missing", token=token), 404)
    assert_error(srv.request("DELETE", "/api/v1/jobs/j_missing", token=token), 404)
    assert_error(srv.request("GET", f"/api/v1/jobs/{job_id}"), 401)


# -- first-run setup on loopback ----------------------------------------------------------------


def _server_without_users(tmp_path) -> Server:
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    return Server(data, free_port())


def test_setup_on_loopback_creates_the_first_admin_once(tmp_path):
    server = _server_without_users(tmp_path)
    server.start(wait_model=False)
    try:
        # Nobody can sign in yet.
        assert_error(
            server.request("POST", "/api/v1/auth/login", {"username": "owner", "password": "owner-pass-1"}), 401
        )
        r = server.request("POST", "/api/v1/setup", {"username": "owner", "password": "owner-pass-1"})
        assert r.status == 201, r.body
        tokens = r.json()
        assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
        assert tokens["user"]["username"] == "owner" and tokens["user"]["role"] == "admin"
        assert server.request("GET", "/api/v1/conversations", token=tokens["access_token"]).status == 200
        # The admin exists for good: a normal login works, and a second setup is refused.
        assert server.login("owner", "owner-pass-1")["user"]["role"] == "admin"
        r = server.request("POST", "/api/v1/setup", {"username": "intruder", "password": "intruder-pass"})
        assert assert_error(r, 409)["code"] == "setup_done"
        assert_error(
            server.request("POST", "/api/v1/auth/login", {"username": "intruder", "password": "intruder-pass"}), 401
        )
    finally:
        server.stop()


def test_setup_rejects_bad_credentials_and_creates_nobody(tmp_path):
    server = _server_without_users(tmp_path)
    server.start(wait_model=False)
    try:
        assert_error(server.request("POST", "/api/v1/setup", {"username": "owner", "password": "short"}), 400)
        assert_error(server.request("POST", "/api/v1/setup", {"username": "owner"}), 400)
        r = server.request("POST", "/api/v1/setup", {"username": "owner", "password": "owner-pass-1"})
        assert r.status == 201, r.body
    finally:
        server.stop()


# -- the per-address limit ------------------------------------------------------------------------


def test_fifty_failures_from_one_address_lock_it_out_with_retry_after(tmp_path):
    """API.md: fifty failed logins or pairings from one address within 5 minutes → 429."""
    server = make_server(tmp_path, None)
    server.start(wait_model=False)
    try:
        # Distinct usernames, so the per-username limit (10) never fires; logins and pairings share the bucket.
        for i in range(29):
            r = server.request("POST", "/api/v1/auth/login", {"username": f"nobody{i}", "password": "wrong-pass"})
            assert_error(r, 401)
        for _ in range(20):
            assert_error(server.request("POST", "/api/v1/auth/pair", {"code": "0000-0000", "device": "x"}), 401)
        # 49 failures: not locked yet.
        assert server.login()["user"]["role"] == "admin"
        assert_error(server.request("POST", "/api/v1/auth/pair", {"code": "0000-0001", "device": "x"}), 401)
        # The 50th failure locks the address out, even with the right password.
        r = server.request("POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
        assert_error(r, 429)
        assert 0 < int(r.headers["retry-after"]) <= 300
        r = server.request("POST", "/api/v1/auth/pair", {"code": "0000-0000", "device": "x"})
        assert_error(r, 429)
        assert 0 < int(r.headers["retry-after"]) <= 300
    finally:
        server.stop()
