"""Sessions after sign-in (issue 10, point 5): the SSE stream ends with its device or token, the
public /health holds no user data, pairing codes are admin-only and checked at request time, and
a lost refresh answer can be retried once within a short grace window."""

from __future__ import annotations

import threading
import time

import jwt
import pytest
from conftest import PASSPHRASE, cli, fixture_capture, make_server

from desktop.auth import AUDIENCE, ISSUER
from desktop.store.keys import KeyStore

REFRESH = "/api/v1/auth/refresh"
GRACE = 30  # desktop.sessions.REFRESH_GRACE_SECONDS


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = make_server(tmp_path_factory.mktemp("sessions"), None)
    server.start()
    r = cli(server.data_dir, "users", "add", "att", "--role", "attendant", "--password-stdin", stdin="att-pass-123\n")
    assert r.returncode == 0, r.stderr
    yield server
    server.stop()


def _error(r, status: int) -> dict:
    assert r.status == status, (r.status, r.body)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]


# -- /health ----------------------------------------------------------------------------------
def test_public_health_shows_no_counts_of_user_data(srv):
    public = srv.request("GET", "/api/v1/health").json()
    assert set(public) == {"status", "version", "api_version", "model"}, public
    att = srv.login("att", "att-pass-123")["access_token"]
    assert "adapter" not in srv.request("GET", "/api/v1/health", token=att).json()
    assert "adapter" not in srv.request("GET", "/api/v1/health", token="not.a.token").json()
    admin = srv.login()["access_token"]
    adapter = srv.request("GET", "/api/v1/health", token=admin).json()["adapter"]
    assert adapter["state"] in ("none", "ready", "training") and "corrections" in adapter


# -- /pairing-codes ---------------------------------------------------------------------------
def test_attendants_cannot_create_pairing_codes(srv):
    att = srv.login("att", "att-pass-123")
    for body in (None, {}, {"user": att["user"]["id"]}):
        r = srv.request("POST", "/api/v1/pairing-codes", body, token=att["access_token"])
        assert _error(r, 403)["code"] == "role_not_allowed"


@pytest.mark.parametrize("user", [{"id": "u_x"}, ["u_x"], 10**30, 7, "", True])
def test_pairing_code_user_of_the_wrong_type_is_400(srv, user):
    admin = srv.login()["access_token"]
    r = srv.request("POST", "/api/v1/pairing-codes", {"user": user}, token=admin)
    assert _error(r, 400)["field"] == "user"


def test_pairing_code_for_an_unknown_user_is_404(srv):
    admin = srv.login()["access_token"]
    r = srv.request("POST", "/api/v1/pairing-codes", {"user": "u_nobody"}, token=admin)
    _error(r, 404)


def test_admin_pairs_a_browser_for_an_attendant(srv):
    admin = srv.login()["access_token"]
    att_id = srv.login("att", "att-pass-123")["user"]["id"]
    r = srv.request("POST", "/api/v1/pairing-codes", {"user": att_id}, token=admin)
    assert r.status == 201 and r.json()["expires_in"] == 300
    paired = srv.request("POST", "/api/v1/auth/pair", {"code": r.json()["code"], "device": "Chrome"})
    assert paired.status == 200 and paired.json()["user"]["id"] == att_id
    own = srv.request("POST", "/api/v1/pairing-codes", token=admin)  # no body: the caller
    assert own.status == 201
    assert srv.request("POST", "/api/v1/auth/pair", {"code": own.json()["code"]}).json()["user"]["role"] == "admin"


# -- refresh grace ----------------------------------------------------------------------------
def _refresh(srv, token: str):
    return srv.request("POST", REFRESH, {"refresh_token": token})


def test_refresh_retry_within_grace_gets_the_same_pair_once(srv):
    first = srv.login()
    r1 = _refresh(srv, first["refresh_token"])
    assert r1.status == 200
    # The answer was lost: the client presents the same token again.
    r2 = _refresh(srv, first["refresh_token"])
    assert r2.status == 200 and r2.json() == r1.json()
    pair = r1.json()
    assert srv.request("GET", "/api/v1/conversations", token=pair["access_token"]).status == 200
    # A second re-use is theft, as before: refused and the device signed out.
    assert _error(_refresh(srv, first["refresh_token"]), 401)["code"] == "refresh_reused"
    assert _error(srv.request("GET", "/api/v1/conversations", token=pair["access_token"]), 401)["code"] == (
        "device_revoked"
    )
    _error(_refresh(srv, pair["refresh_token"]), 401)


def test_refresh_retry_after_the_new_token_was_used_revokes(srv):
    first = srv.login()
    second = _refresh(srv, first["refresh_token"]).json()
    third = _refresh(srv, second["refresh_token"]).json()
    # The client got its answer (it used it), so the old token coming back is a replay.
    assert _error(_refresh(srv, first["refresh_token"]), 401)["code"] == "refresh_reused"
    _error(srv.request("GET", "/api/v1/conversations", token=third["access_token"]), 401)


def test_parallel_refreshes_with_one_token_get_one_pair(srv):
    first = srv.login()
    gate = threading.Barrier(2)
    out = []

    def go():
        gate.wait()
        out.append(_refresh(srv, first["refresh_token"]))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in out] == [200, 200] and out[0].json() == out[1].json()
    assert srv.request("GET", "/api/v1/conversations", token=out[0].json()["access_token"]).status == 200


def test_refresh_reuse_after_the_grace_window_revokes(srv):
    first = srv.login()
    pair = _refresh(srv, first["refresh_token"]).json()
    time.sleep(GRACE + 1)
    assert _error(_refresh(srv, first["refresh_token"]), 401)["code"] == "refresh_reused"
    assert _error(srv.request("GET", "/api/v1/conversations", token=pair["access_token"]), 401)["code"] == (
        "device_revoked"
    )


# -- SSE --------------------------------------------------------------------------------------
def _stream_in_background(srv, cid: str, token: str):
    result: dict = {}

    def read():
        t0 = time.monotonic()
        result["events"] = srv.sse(f"/api/v1/conversations/{cid}/insights/stream", token, until="end", timeout=60)
        result["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=read)
    t.start()
    return t, result


def _conversation(srv, token: str) -> str:
    r = srv.request("POST", "/api/v1/captures", fixture_capture(), token=token)
    assert r.status == 202, r.body
    return r.json()["conversation_id"]


def test_sse_stream_ends_when_its_device_is_revoked(srv):
    tokens = srv.login()
    cid = _conversation(srv, tokens["access_token"])
    t, result = _stream_in_background(srv, cid, tokens["access_token"])
    time.sleep(1.0)
    assert srv.request("POST", "/api/v1/auth/logout", token=tokens["access_token"]).status == 204
    t.join(30)
    assert not t.is_alive(), "the stream outlived its device"
    assert result["events"][-1] == ("end", {"reason": "device_revoked"}), result
    assert result["seconds"] < 15


def test_sse_stream_ends_when_its_token_expires(srv):
    tokens = srv.login()
    cid = _conversation(srv, tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    keys = KeyStore.open(srv.data_dir, PASSPHRASE)
    secret = keys.jwt_secret
    keys.close()
    short = jwt.encode(
        {**claims, "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 4, "jti": "short-lived"},
        secret,
        algorithm="HS256",
    )
    t, result = _stream_in_background(srv, cid, short)
    t.join(30)
    assert not t.is_alive(), "the stream outlived its token"
    assert result["events"][0][0] == "state"
    assert result["events"][-1] == ("end", {"reason": "token_expired"}), result
    assert 2 < result["seconds"] < 10
