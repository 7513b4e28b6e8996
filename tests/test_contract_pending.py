"""API.md behaviour that main does not have yet and other branches of issue 10 bring.

Written against the contract (API.md and the issue), not against today's code: on main these
tests fail, and each must pass once the branch named in its docstring is merged. Nothing here
is skipped or marked xfail, so a merge that forgets one shows up red.
"""

from __future__ import annotations

import pytest
from conftest import Server, cli, fixture_capture, free_port, make_server


def assert_error(r, status: int) -> dict:
    assert r.status == status, (r.status, r.body)
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """No model needed: captures are stored (analysis unavailable) and metrics read metadata."""
    server = make_server(tmp_path_factory.mktemp("pending"), None)
    server.start(wait_model=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(srv):
    return srv.login()


@pytest.fixture(scope="module")
def attendant(srv):
    r = cli(
        srv.data_dir, "users", "add", "att-pending", "--role", "attendant", "--password-stdin", stdin="att-pass-12\n"
    )
    assert r.returncode == 0, r.stderr
    return srv.login("att-pending", "att-pass-12")


@pytest.fixture(scope="module")
def captured(srv, admin):
    r = srv.request("POST", "/api/v1/captures", fixture_capture(), token=admin["access_token"])
    assert r.status == 202, r.body
    return r.json()["conversation_id"]


# -- issue 10 point 6 (metrics): `to` is an inclusive calendar day ------------------------------
# The fixture chat: 2026-03-10 has 4 customer and 4 attendant messages (09:14–09:32, UTC−3),
# 2026-03-11 has 4 customer and 2 attendant messages (14:02–14:15).


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?from=2026-03-10&to=2026-03-10", (4, 4, 4)),
        ("?to=2026-03-10", (4, 4, 4)),
        ("?from=2026-03-11&to=2026-03-11", (4, 2, 2)),
        ("?from=2026-03-10&to=2026-03-11", (8, 6, 6)),
    ],
)
def test_metrics_to_is_an_inclusive_day(srv, admin, captured, query, expected):
    r = srv.request("GET", "/api/v1/metrics" + query, token=admin["access_token"])
    assert r.status == 200, r.body
    m = r.json()
    got = (m["volumes"]["messages_in"], m["volumes"]["messages_out"], m["first_response_seconds"]["n"])
    assert got == expected, (query, m["volumes"], m["first_response_seconds"])
    assert m["volumes"]["conversations"] == 1


# -- issue 10 point 5 and the fuzzing findings (pairing codes): admin only, `user` checked ------


def test_attendants_cannot_create_pairing_codes(srv, attendant):
    for body in ({}, {"user": attendant["user"]["id"]}):
        r = srv.request("POST", "/api/v1/pairing-codes", body, token=attendant["access_token"])
        assert assert_error(r, 403)["code"] == "role_not_allowed"


@pytest.mark.parametrize("user", [{}, {"id": "u_x"}, [], ["u_x"], 10**30, 12, True])
def test_pairing_code_user_of_the_wrong_type_is_400(srv, admin, user):
    r = srv.request("POST", "/api/v1/pairing-codes", {"user": user}, token=admin["access_token"])
    assert assert_error(r, 400)["field"] == "user"


def test_pairing_code_for_an_unknown_user_is_404(srv, admin):
    assert_error(srv.request("POST", "/api/v1/pairing-codes", {"user": "u_nobody"}, token=admin["access_token"]), 404)


# -- issue 10 point 2 (proxy trust): /setup refused when the request was forwarded ----------------


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-For": "203.0.113.7"},
        {"Forwarded": "for=203.0.113.7;proto=https"},
        {"X-Forwarded-For": "127.0.0.1"},
    ],
)
def test_setup_is_refused_with_forwarding_headers(tmp_path, header):
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    server = Server(data, free_port())
    server.start(wait_model=False)
    try:
        body = {"username": "owner", "password": "owner-pass-1"}
        assert_error(server.request("POST", "/api/v1/setup", body, headers=header), 403)
        # Nobody was created: the same request straight from this machine still sets up.
        r = server.request("POST", "/api/v1/setup", body)
        assert r.status == 201, r.body
    finally:
        server.stop()
