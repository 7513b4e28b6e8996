"""Every bad input answers its documented status, in the one error shape, and stores nothing."""

from __future__ import annotations

import socket
import sqlite3
import time

import jwt
import pytest
from conftest import PASSPHRASE, fixture_capture

from desktop.auth import AUDIENCE, ISSUER
from desktop.config import DEFAULT_EXTENSION_ID
from desktop.store.keys import KeyStore


def counts(server) -> tuple[int, int, int]:
    db = sqlite3.connect(server.data_dir / "conversa.db")
    try:
        return tuple(
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("messages", "conversations", "contacts")
        )
    finally:
        db.close()


def assert_error(r, status: int) -> dict:
    assert r.status == status, (r.status, r.body)
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    return body["error"]


@pytest.fixture(scope="module")
def auth(shared_server):
    return shared_server.login()


def _token(server, **claims) -> str:
    keys = KeyStore.open(server.data_dir, PASSPHRASE)
    secret = keys.jwt_secret
    keys.close()
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u_x",
        "role": "admin",
        "did": "d_x",
        "exp": int(time.time()) + 600,
        "jti": "abc",
    }
    base.update(claims)
    return jwt.encode(base, secret, algorithm="HS256")


def _capture_with(**changes):
    cap = fixture_capture()
    msg = dict(cap["messages"][0])
    msg.update(changes)
    cap["messages"] = [msg]
    return cap


BAD_CAPTURES = {
    "wrong chat type": ({"chat": "x", "messages": []}, "chat"),
    "messages not a list": ({"chat": {"id": "1@c.us", "title": "t"}, "messages": {}}, "messages"),
    "unknown direction": (_capture_with(direction="sideways"), "messages[0].direction"),
    "unknown kind": (_capture_with(kind="hologram"), "messages[0].kind"),
    "text not a string": (_capture_with(text=12), "messages[0].text"),
    "text too long": (_capture_with(text="a" * 10_001), "messages[0].text"),
    "bad timestamp": (_capture_with(timestamp="yesterday"), "messages[0].timestamp"),
    "501 messages": (
        {
            "chat": {"id": "1@c.us", "title": "t"},
            "messages": [
                {"id": f"m{i}", "direction": "in", "kind": "text", "text": "oi", "timestamp": None} for i in range(501)
            ],
        },
        "messages",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CAPTURES))
def test_invalid_capture_is_400_with_field_and_stores_nothing(shared_server, auth, case):
    body, field = BAD_CAPTURES[case]
    before = counts(shared_server)
    err = assert_error(shared_server.request("POST", "/api/v1/captures", body, token=auth["access_token"]), 400)
    assert err["field"] == field
    assert counts(shared_server) == before


def test_malformed_json_and_media_type_and_size(shared_server, auth):
    t = auth["access_token"]
    before = counts(shared_server)
    err = assert_error(shared_server.request("POST", "/api/v1/captures", raw=b'{"chat": ', token=t), 400)
    assert err["code"] == "invalid_json"
    assert_error(
        shared_server.request("POST", "/api/v1/captures", raw=b'{"chat": {}}', token=t, content_type="text/plain"), 415
    )
    big = b'{"pad": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    assert_error(shared_server.request("POST", "/api/v1/captures", raw=big, token=t), 413)
    assert counts(shared_server) == before


@pytest.mark.parametrize("kind", ["none", "expired", "alg_none", "other_key", "wrong_aud", "garbage"])
def test_bad_tokens_are_401(shared_server, kind):
    now = int(time.time())
    tokens = {
        "none": None,
        "expired": lambda: _token(shared_server, exp=now - 5),
        "alg_none": lambda: jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "role": "admin", "did": "d", "exp": now + 600, "jti": "x"},
            None,
            algorithm="none",
        ),
        "other_key": lambda: jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "role": "admin", "did": "d", "exp": now + 600, "jti": "x"},
            "another-secret-key-of-32-bytes!!",
            "HS256",
        ),
        "wrong_aud": lambda: _token(shared_server, aud="someone-else"),
        "garbage": lambda: "not.a.token",
    }
    tok = tokens[kind]() if tokens[kind] else None
    before = counts(shared_server)
    assert_error(shared_server.request("POST", "/api/v1/captures", fixture_capture(), token=tok), 401)
    assert_error(shared_server.request("GET", "/api/v1/conversations", token=tok), 401)
    assert counts(shared_server) == before


def test_refresh_rotation_and_reuse_revokes_device(shared_server):
    tokens = shared_server.login()
    r = shared_server.request("POST", "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert r.status == 200
    new = r.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert shared_server.request("GET", "/api/v1/conversations", token=new["access_token"]).status == 200
    # The old one again, once within the grace window: a lost answer, so the same pair comes back.
    again = shared_server.request("POST", "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert again.status == 200 and again.json() == new
    # And once more: refused, and the device is signed out.
    err = assert_error(
        shared_server.request("POST", "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}), 401
    )
    assert err["code"] == "refresh_reused"
    assert_error(shared_server.request("POST", "/api/v1/auth/refresh", {"refresh_token": new["refresh_token"]}), 401)
    time.sleep(2.2)  # past the server's short device cache
    assert_error(shared_server.request("GET", "/api/v1/conversations", token=new["access_token"]), 401)


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "", "127.0.0.1:1", "localhost.evil.example:{port}", "127.0.0.1"]
)
def test_host_not_allowed_is_403_before_anything(shared_server, auth, host):
    before = counts(shared_server)
    h = host.format(port=shared_server.port)
    r = shared_server.request(
        "POST", "/api/v1/captures", fixture_capture(), token=auth["access_token"], headers={"Host": h}
    )
    assert_error(r, 403)
    assert_error(shared_server.request("GET", "/api/v1/health", headers={"Host": h}), 403)
    assert counts(shared_server) == before


def test_missing_host_header_is_403(shared_server):
    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=10) as s:
        s.sendall(b"GET /api/v1/health HTTP/1.0\r\n\r\n")
        data = s.recv(4096)
    assert data.split(b" ")[1] == b"403"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        f"chrome-extension://{DEFAULT_EXTENSION_ID}.evil.example",
        "http://127.0.0.1:{port}.evil.example",
        "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "null",
    ],
)
def test_foreign_origin_is_403(shared_server, auth, origin):
    before = counts(shared_server)
    o = origin.format(port=shared_server.port)
    r = shared_server.request(
        "POST", "/api/v1/captures", fixture_capture(), token=auth["access_token"], headers={"Origin": o}
    )
    assert_error(r, 403)
    assert "access-control-allow-origin" not in r.headers
    assert counts(shared_server) == before


def test_extension_origin_is_allowed_and_echoed_exactly(shared_server, auth):
    origin = f"chrome-extension://{DEFAULT_EXTENSION_ID}"
    r = shared_server.request("GET", "/api/v1/conversations", token=auth["access_token"], headers={"Origin": origin})
    assert r.status == 200
    assert r.headers["access-control-allow-origin"] == origin


def test_unknown_route_and_wrong_role_shapes(shared_server, auth):
    from conftest import cli

    assert_error(shared_server.request("GET", "/api/v1/nothing-here", token=auth["access_token"]), 404)
    assert_error(shared_server.request("GET", "/api/v1/conversations/c_missing", token=auth["access_token"]), 404)
    err = assert_error(
        shared_server.request("GET", "/api/v1/conversations/c_missing/insights", token=auth["access_token"]), 404
    )
    assert err["code"] == "not_found"
    # An admin route: an attendant gets 403 role_not_allowed and nothing changes; the admin 2xx.
    r = cli(
        shared_server.data_dir,
        "users",
        "add",
        "att-role",
        "--role",
        "attendant",
        "--password-stdin",
        stdin="att-role-pass\n",
    )
    assert r.returncode == 0, r.stderr
    att = shared_server.login("att-role", "att-role-pass")
    assert att["user"]["role"] == "attendant"
    reply = {"shortcut": "/role-check", "text": "Obrigado pelo contato!", "intents": ["greeting_smalltalk"]}
    err = assert_error(shared_server.request("POST", "/api/v1/quick-replies", reply, token=att["access_token"]), 403)
    assert err["code"] == "role_not_allowed"
    listed = shared_server.request("GET", "/api/v1/quick-replies", token=att["access_token"]).json()["items"]
    assert "/role-check" not in {q["shortcut"] for q in listed}
    r = shared_server.request("POST", "/api/v1/quick-replies", reply, token=auth["access_token"])
    assert r.status == 201, r.body
    rid = r.json()["id"]
    assert_error(shared_server.request("DELETE", f"/api/v1/quick-replies/{rid}", token=att["access_token"]), 403)
    assert shared_server.request("DELETE", f"/api/v1/quick-replies/{rid}", token=auth["access_token"]).status == 204


def test_login_rate_limit_429_with_retry_after(shared_server):
    for _ in range(10):
        r = shared_server.request("POST", "/api/v1/auth/login", {"username": "victim", "password": "wrong-password"})
        assert_error(r, 401)
    r = shared_server.request("POST", "/api/v1/auth/login", {"username": "victim", "password": "wrong-password"})
    assert_error(r, 429)
    assert int(r.headers["retry-after"]) > 0


def test_pairing_code_is_one_time(shared_server):
    from conftest import cli

    code = cli(shared_server.data_dir, "pair").stdout.strip()
    assert code
    r = shared_server.request("POST", "/api/v1/auth/pair", {"code": code, "device": "Chrome"})
    assert r.status == 200 and r.json()["user"]["role"] == "admin"
    assert_error(shared_server.request("POST", "/api/v1/auth/pair", {"code": code, "device": "Chrome"}), 401)


def test_setup_refused_once_users_exist(shared_server):
    r = shared_server.request("POST", "/api/v1/setup", {"username": "second", "password": "password-123"})
    assert assert_error(r, 409)["code"] == "setup_done"


def test_header_and_body_deadlines_disconnect_slow_clients(shared_server):
    # The shared server runs with 2 s deadlines (CONVERSA_HEADER_TIMEOUT/BODY_TIMEOUT); defaults are 10 s / 30 s.
    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=15) as s:
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % shared_server.port)
        t0 = time.monotonic()
        assert s.recv(4096) == b""  # closed without an answer
        assert 1.5 < time.monotonic() - t0 < 8
    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=15) as s:
        s.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"user' % shared_server.port
        )
        t0 = time.monotonic()
        data = s.recv(4096)
        while data:
            data = s.recv(4096)
        assert 1.5 < time.monotonic() - t0 < 8


def test_openapi_lists_the_contract(shared_server):
    r = shared_server.request("GET", "/api/v1/openapi.json")
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/health",
        "/captures",
        "/conversations/{id}/insights/stream",
        "/contacts/{id}",
        "/metrics",
        "/jobs/{id}",
        "/auth/refresh",
    ):
        assert path in spec["paths"], path


def test_attendants_see_only_their_own_conversations(shared_server, auth):
    from conftest import cli

    r = cli(
        shared_server.data_dir,
        "users",
        "add",
        "att2",
        "--role",
        "attendant",
        "--password-stdin",
        stdin="attendant-pass-2\n",
    )
    assert r.returncode == 0, r.stderr
    att = shared_server.login("att2", "attendant-pass-2")["access_token"]
    mine = {
        "chat": {"id": "5511955550000@c.us", "title": "Cliente da Att2", "is_group": False, "phone": None},
        "messages": [
            {
                "id": "true_x_OUT1",
                "direction": "out",
                "kind": "text",
                "text": "Olá!",
                "timestamp": "2026-03-10T09:00:00",
                "author": None,
            }
        ],
    }
    cid = shared_server.request("POST", "/api/v1/captures", mine, token=att).json()["conversation_id"]
    theirs = dict(mine, chat=dict(mine["chat"], id="5511955550001@c.us", title="Cliente do Admin"))
    other = shared_server.request("POST", "/api/v1/captures", theirs, token=auth["access_token"]).json()
    listed = {c["id"] for c in shared_server.request("GET", "/api/v1/conversations", token=att).json()["items"]}
    assert cid in listed and other["conversation_id"] not in listed
    assert_error(shared_server.request("GET", f"/api/v1/conversations/{other['conversation_id']}", token=att), 404)
    admin_list = shared_server.request("GET", "/api/v1/conversations", token=auth["access_token"]).json()["items"]
    assert {cid, other["conversation_id"]} <= {c["id"] for c in admin_list}
    assert_error(shared_server.request("GET", "/api/v1/metrics?user=u_someone", token=att), 403)
    assert shared_server.request("GET", "/api/v1/metrics", token=att).json()["volumes"]["messages_out"] == 1
