"""Client addresses behind a reverse proxy: X-Forwarded-For counts only when a trusted proxy sent
it, and first-run setup is never reachable through a proxy (issue 10, point 2)."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import Server, free_port, make_server

from desktop.config import ConfigError, load

PAIR = "/api/v1/auth/pair"
LOGIN = "/api/v1/auth/login"
ADDRESS_LIMIT = 50  # failed logins or pairings per client address in 5 minutes (API.md)


def _wrong_pair(server: Server, headers: dict | None = None) -> int:
    # A wrong pairing code is a cheap failure (no scrypt) counted against the client address.
    return server.request("POST", PAIR, {"code": "0000-0000", "device": "x"}, headers=headers).status


def _wrong_login(server: Server, headers: dict | None = None) -> int:
    body = {"username": "nobody-here", "password": "wrong-password"}
    return server.request("POST", LOGIN, body, headers=headers).status


def _users(server: Server) -> int:
    db = sqlite3.connect(server.data_dir / "conversa.db")
    try:
        return db.execute("SELECT count(*) FROM users").fetchone()[0]
    finally:
        db.close()


def _server_without_users(tmp_path, **env: str) -> Server:
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    return Server(data, free_port(), env={k.upper(): v for k, v in env.items()})


def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path):
    server = make_server(tmp_path, None)  # trusted_proxies empty: the default
    server.start()
    try:
        # Each request claims another client; all of them are the socket's 127.0.0.1.
        for i in range(ADDRESS_LIMIT):
            assert _wrong_pair(server, {"X-Forwarded-For": f"203.0.113.{i}"}) == 401
        r = server.request("POST", PAIR, {"code": "0000-0000"}, headers={"X-Forwarded-For": "198.51.100.99"})
        assert r.status == 429 and int(r.headers["retry-after"]) > 0
        assert _wrong_login(server, {"X-Real-IP": "198.51.100.98"}) == 429
    finally:
        server.stop()


def test_behind_a_trusted_proxy_limits_count_by_forwarded_client(tmp_path):
    server = make_server(tmp_path, None, conversa_trusted_proxies="127.0.0.1, 10.0.0.0/8")
    server.start()
    try:
        victim = {"X-Forwarded-For": "198.51.100.7"}
        for _ in range(ADDRESS_LIMIT):
            assert _wrong_pair(server, victim) == 401
        assert _wrong_pair(server, victim) == 429
        assert _wrong_login(server, victim) == 429  # logins and pairings share the address's count
        # The client's own prepended entries change nothing: the proxy appended the real address.
        assert _wrong_pair(server, {"X-Forwarded-For": "203.0.113.1, 198.51.100.7"}) == 429
        # Trusted hops at the right are skipped to reach the client.
        assert _wrong_pair(server, {"X-Forwarded-For": "198.51.100.7, 10.1.2.3"}) == 429
        # Other clients behind the same proxy are not locked out (one bucket for all was the bug).
        assert _wrong_pair(server, {"X-Forwarded-For": "198.51.100.8"}) == 401
        assert _wrong_login(server, {"X-Forwarded-For": "198.51.100.8"}) == 401
        assert server.login()["user"]["username"] == "admin"  # the proxy's own address: its own bucket
    finally:
        server.stop()


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-For": "127.0.0.1"},
        {"X-Forwarded-Host": "127.0.0.1"},
        {"X-Forwarded-Proto": "http"},
        {"X-Real-IP": "127.0.0.1"},
        {"Forwarded": "for=127.0.0.1"},
    ],
)
def test_setup_is_refused_with_forwarding_headers(tmp_path, header):
    server = _server_without_users(tmp_path)
    server.start()
    try:
        body = {"username": "boss", "password": "first-admin-pw"}
        r = server.request("POST", "/api/v1/setup", body, headers=header)
        assert r.status == 403, r.body
        assert r.json() == {
            "error": {
                "code": "setup_loopback_only",
                "message": "setup is only allowed from this computer, not through a proxy",
                "field": None,
            }
        }
        assert _users(server) == 0
    finally:
        server.stop()


def test_setup_is_refused_through_a_trusted_proxy(tmp_path):
    # The documented VPS install: the proxy on 127.0.0.1 — its requests are not "this computer".
    server = _server_without_users(tmp_path, conversa_trusted_proxies="127.0.0.1")
    server.start()
    try:
        r = server.request("POST", "/api/v1/setup", {"username": "boss", "password": "first-admin-pw"})
        assert r.status == 403 and r.json()["error"]["code"] == "setup_loopback_only", r.body
        assert _users(server) == 0
    finally:
        server.stop()


def test_setup_succeeds_on_plain_loopback_while_no_user_exists(tmp_path):
    server = _server_without_users(tmp_path)
    server.start()
    try:
        r = server.request("POST", "/api/v1/setup", {"username": "boss", "password": "first-admin-pw", "device": "d"})
        assert r.status == 201, r.body
        out = r.json()
        assert out["user"]["username"] == "boss" and out["user"]["role"] == "admin"
        assert server.request("GET", "/api/v1/conversations", token=out["access_token"]).status == 200
        assert server.login("boss", "first-admin-pw")["user"]["role"] == "admin"
        again = server.request("POST", "/api/v1/setup", {"username": "other", "password": "other-admin-pw"})
        assert again.status == 409 and again.json()["error"]["code"] == "setup_done"
        assert _users(server) == 1
    finally:
        server.stop()


def test_trusted_proxies_setting_is_checked(tmp_path):
    env = {"CONVERSA_DATA_DIR": str(tmp_path)}
    assert load(env=env).trusted_proxies == ""
    nets = load(env=dict(env, CONVERSA_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8,::1")).proxy_networks()
    assert [str(n) for n in nets] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load(env=dict(env, CONVERSA_TRUSTED_PROXIES="127.0.0.1, proxy.example"))


@pytest.mark.parametrize(
    "peer, xff, expected",
    [
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),  # not a proxy: its header is not read
        ("127.0.0.1", None, "127.0.0.1"),  # the proxy itself, forwarding nothing
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("::ffff:127.0.0.1", "198.51.100.7", "198.51.100.7"),  # a dual-stack socket's IPv4 peer
        ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("127.0.0.1", "198.51.100.7:5123", "198.51.100.7"),
        ("127.0.0.1", "forged, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        ("127.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # only proxies: the farthest one
        ("127.0.0.1", "198.51.100.7, garbage", "127.0.0.1"),  # unreadable: the last hop we trust
    ],
)
def test_client_address_reads_forwarded_for_only_from_trusted_proxies(peer, xff, expected, tmp_path):
    from unittest import mock

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from desktop.server.client_address import client_address, direct_from_this_computer
    from desktop.server.keys import SETTINGS

    app = web.Application()
    app[SETTINGS] = load(env={"CONVERSA_DATA_DIR": str(tmp_path), "CONVERSA_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8"})
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (peer, 1234) if name == "peername" else default
    headers = {"X-Forwarded-For": xff} if xff else {}
    request = make_mocked_request("POST", "/api/v1/auth/login", headers=headers, app=app, transport=transport)
    assert client_address(request) == expected
    assert not direct_from_this_computer(request)  # a proxy, or a peer that is not loopback
