"""Users, devices, pairing codes and jobs over the API (admin side): a real server on real SQLite,
no model. Each route: the happy path, 403 for an attendant, 400 for bad input with nothing
changed, and its audit row."""

from __future__ import annotations

import pytest
from conftest import ADMIN_PASSWORD, PASSPHRASE, make_server

API = "/api/v1"
ATT_PASSWORD = "attendant-pass-1"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory.mktemp("admin"), None)
    s.start(wait_model=False)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(srv) -> str:
    return srv.login()["access_token"]


def _create(srv, token, username, role="attendant", password=ATT_PASSWORD):
    r = srv.request("POST", API + "/users", {"username": username, "password": password, "role": role}, token=token)
    assert r.status == 201, r.body
    return r.json()


def _audit(srv, token, **query) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = srv.request("GET", f"{API}/audit?{qs}", token=token)
    assert r.status == 200, r.body
    return r.json()["items"]


def _users(srv, token) -> dict[str, dict]:
    r = srv.request("GET", API + "/users", token=token)
    assert r.status == 200, r.body
    return {u["username"]: u for u in r.json()["items"]}


def _error(r, status, field=None, code=None):
    assert r.status == status, (r.status, r.body)
    err = r.json()["error"]
    if field is not None:
        assert err["field"] == field, err
    if code is not None:
        assert err["code"] == code, err
    return err


def test_create_list_change_and_remove_a_user_with_audit_rows(srv, admin):
    me = srv.login()
    made = _create(srv, admin, "carla")
    assert made["role"] == "attendant" and made["disabled"] is False
    assert "carla" in _users(srv, admin)
    assert srv.login("carla", ATT_PASSWORD)["user"]["role"] == "attendant"  # the CLI's hashing: login works

    r = srv.request("PATCH", f"{API}/users/{made['id']}", {"role": "admin"}, token=admin)
    assert r.status == 200, r.body
    assert r.json()["role"] == "admin"
    r = srv.request("PATCH", f"{API}/users/{made['id']}", {"disabled": True}, token=admin)
    assert r.json()["disabled"] is True
    r = srv.request("POST", API + "/auth/login", {"username": "carla", "password": ATT_PASSWORD})
    assert r.status == 401  # disabled: cannot sign in
    assert srv.request("DELETE", f"{API}/users/{made['id']}", token=admin).status == 204
    assert "carla" not in _users(srv, admin)
    assert srv.request("DELETE", f"{API}/users/{made['id']}", token=admin).status == 404

    rows = _audit(srv, admin, action="user.")
    mine = [r for r in rows if r["target"] == made["id"]]
    assert [r["action"] for r in mine] == ["user.delete", "user.update", "user.update", "user.create"]
    assert all(r["user_id"] == me["user"]["id"] and r["device_id"] for r in mine)
    assert mine[2]["detail"] == "fields=role role=admin"
    assert all(ATT_PASSWORD not in (r["detail"] or "") for r in rows)


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        ("POST", "/users", {"username": "x", "password": "long-enough-1"}, "username"),
        ("POST", "/users", {"username": "dora", "password": "short"}, "password"),
        ("POST", "/users", {"username": "dora", "password": "long-enough-1", "role": "boss"}, "role"),
        ("POST", "/users", {"username": "dora", "password": "long-enough-1", "extra": 1}, "extra"),
        ("POST", "/users", ["dora"], "body"),
        ("PATCH", "/users/{att}", {"role": "owner"}, "role"),
        ("PATCH", "/users/{att}", {"password": "short"}, "password"),
        ("PATCH", "/users/{att}", {"disabled": "yes"}, "disabled"),
        ("PATCH", "/users/{att}", {"role": "admin", "colour": "red"}, "colour"),
        ("PATCH", "/users/{att}", {}, "body"),
        ("GET", "/jobs?limit=0", None, "limit"),
        ("GET", "/audit?from=yesterday", None, "from"),
        ("GET", "/audit?limit=500", None, "limit"),
        ("GET", "/audit?cursor=abc", None, "cursor"),
        ("POST", "/pairing-codes", {"user": 5}, "user"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_changes_nothing(srv, admin, method, path, body, field):
    users = _users(srv, admin)
    if "eve" not in users:
        _create(srv, admin, "eve")
        users = _users(srv, admin)
    audit_before = _audit(srv, admin, limit=200)
    r = srv.request(method, API + path.format(att=users["eve"]["id"]), body, token=admin)
    _error(r, 400, field=field)
    assert _users(srv, admin) == users
    assert _audit(srv, admin, limit=200) == audit_before
    assert srv.login("eve", ATT_PASSWORD)  # the password is unchanged


def test_a_taken_username_is_a_conflict(srv, admin):
    _create(srv, admin, "fred")
    _error(srv.request("POST", API + "/users", {"username": "fred", "password": "other-pass-1"}, token=admin), 409)


ADMIN_ROUTES = [
    ("GET", "/users", None),
    ("POST", "/users", {"username": "mallory", "password": "mallory-pass-1", "role": "admin"}),
    ("PATCH", "/users/{admin}", {"role": "attendant"}),
    ("DELETE", "/users/{admin}", None),
    ("GET", "/devices", None),
    ("DELETE", "/devices/{device}", None),
    ("POST", "/pairing-codes", {"user": "{self}"}),
    ("GET", "/settings", None),
    ("PATCH", "/settings", {"temperature": 0.1}),
    ("GET", "/audit", None),
    ("GET", "/contacts/{contact}/export", None),
    ("GET", "/export/contacts.csv", None),
    ("GET", "/export/conversations.csv", None),
    ("GET", "/export/insights.csv", None),
]


def test_an_attendant_gets_403_on_every_admin_route_and_nothing_changes(srv, admin):
    me = srv.login()
    if "gil" not in _users(srv, admin):
        _create(srv, admin, "gil")
    att = srv.login("gil", ATT_PASSWORD)
    token = att["access_token"]
    ids = {"admin": me["user"]["id"], "device": me["access_token"] and _devices(srv, admin)[0]["id"]}
    ids |= {"self": att["user"]["id"], "contact": "k_whatever"}
    users, devices, audit = _users(srv, admin), _devices(srv, admin), _audit(srv, admin, limit=200)
    for method, path, body in ADMIN_ROUTES:
        if isinstance(body, dict):
            body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
        r = srv.request(method, API + path.format(**ids), body, token=token)
        err = _error(r, 403, code="role_not_allowed")
        assert set(r.json()) == {"error"} and err["message"], (method, path)
    assert _users(srv, admin) == users
    assert _devices(srv, admin) == devices
    assert _audit(srv, admin, limit=200) == audit
    assert srv.request("GET", API + "/jobs", token=token).status == 200  # a user route: allowed


def _devices(srv, token, user=None) -> list[dict]:
    r = srv.request("GET", API + "/devices" + (f"?user={user}" if user else ""), token=token)
    assert r.status == 200, r.body
    return r.json()["items"]


def test_a_revoked_device_is_refused_at_once_and_audited(srv, admin):
    if "hana" not in _users(srv, admin):
        _create(srv, admin, "hana")
    att = srv.login("hana", ATT_PASSWORD)
    token = att["access_token"]
    assert srv.request("GET", API + "/conversations", token=token).status == 200  # now cached as active
    (dev,) = [d for d in _devices(srv, admin, att["user"]["id"]) if d["active"]]
    assert dev["username"] == "hana" and dev["name"] == "pytest" and dev["paired_at"] and dev["last_seen"]
    assert srv.request("DELETE", f"{API}/devices/{dev['id']}", token=admin).status == 204
    # Within the sessions' cache time: the revocation must still count.
    _error(srv.request("GET", API + "/conversations", token=token), 401, code="device_revoked")
    _error(srv.request("POST", API + "/auth/refresh", {"refresh_token": att["refresh_token"]}), 401)
    (after,) = [d for d in _devices(srv, admin, att["user"]["id"]) if d["id"] == dev["id"]]
    assert after["active"] is False and after["revoked_at"]
    assert _audit(srv, admin, action="device.revoke")[0]["target"] == dev["id"]
    _error(srv.request("DELETE", f"{API}/devices/d_nope", token=admin), 404)


def test_a_demoted_admin_loses_admin_rights_at_once(srv, admin):
    boss = _create(srv, admin, "ivo", role="admin")
    session = srv.login("ivo", ATT_PASSWORD)
    assert srv.request("GET", API + "/users", token=session["access_token"]).status == 200
    assert srv.request("PATCH", f"{API}/users/{boss['id']}", {"role": "attendant"}, token=admin).status == 200
    _error(srv.request("GET", API + "/users", token=session["access_token"]), 401, code="role_changed")
    r = srv.request("POST", API + "/auth/refresh", {"refresh_token": session["refresh_token"]})
    assert r.status == 200 and r.json()["user"]["role"] == "attendant"
    _error(srv.request("GET", API + "/users", token=r.json()["access_token"]), 403)


def test_a_password_reset_signs_the_user_out_and_the_new_password_works(srv, admin):
    user = _create(srv, admin, "jane")
    old = srv.login("jane", ATT_PASSWORD)
    r = srv.request("PATCH", f"{API}/users/{user['id']}", {"password": "brand-new-pass"}, token=admin)
    assert r.status == 200 and r.json()["devices_signed_out"] == 1
    _error(srv.request("GET", API + "/conversations", token=old["access_token"]), 401, code="device_revoked")
    _error(srv.request("POST", API + "/auth/login", {"username": "jane", "password": ATT_PASSWORD}), 401)
    assert srv.login("jane", "brand-new-pass")
    row = [a for a in _audit(srv, admin, action="user.update") if a["target"] == user["id"]][0]
    assert row["detail"] == "fields=password" and "brand-new" not in row["detail"]


def test_the_last_active_admin_cannot_be_demoted_disabled_or_removed(tmp_path):
    s = make_server(tmp_path, None)
    s.start(wait_model=False)
    try:
        me = s.login()
        token, uid = me["access_token"], me["user"]["id"]
        for method, body in (("PATCH", {"role": "attendant"}), ("PATCH", {"disabled": True}), ("DELETE", None)):
            _error(s.request(method, f"{API}/users/{uid}", body, token=token), 409, code="last_admin")
        assert _users(s, token)["admin"] == {**_users(s, token)["admin"], "role": "admin", "disabled": False}
        assert s.request("GET", API + "/users", token=token).status == 200  # still signed in
        # A disabled second admin does not count as one.
        other = _create(s, token, "backup", role="admin")
        assert s.request("PATCH", f"{API}/users/{other['id']}", {"disabled": True}, token=token).status == 200
        _error(s.request("PATCH", f"{API}/users/{uid}", {"role": "attendant"}, token=token), 409, code="last_admin")
        assert s.request("PATCH", f"{API}/users/{other['id']}", {"disabled": False}, token=token).status == 200
        assert s.request("PATCH", f"{API}/users/{uid}", {"role": "attendant"}, token=token).status == 200
    finally:
        s.stop()


def test_a_pairing_code_for_a_chosen_user_signs_that_user_in(srv, admin):
    user = _create(srv, admin, "kiko")
    r = srv.request("POST", API + "/pairing-codes", {"user": user["id"]}, token=admin)
    assert r.status == 201, r.body
    paired = srv.request("POST", API + "/auth/pair", {"code": r.json()["code"], "device": "kiko's browser"})
    assert paired.status == 200 and paired.json()["user"]["id"] == user["id"]
    assert any(d["name"] == "kiko's browser" for d in _devices(srv, admin, user["id"]))
    assert _audit(srv, admin, action="pairing_code.create")[0]["target"] == user["id"]
    _error(srv.request("POST", API + "/pairing-codes", {"user": "u_nobody"}, token=admin), 404)


def test_the_audit_log_filters_by_actor_action_and_time_and_pages(srv, admin):
    for name in ("lia", "leo", "lua"):
        _create(srv, admin, name)
    rows = _audit(srv, admin, action="user.create", actor="admin")
    assert len(rows) >= 3 and all(r["action"] == "user.create" and r["username"] == "admin" for r in rows)
    assert _audit(srv, admin, actor="nobody-at-all") == []
    assert _audit(srv, admin, to="2000-01-01") == []
    assert _audit(srv, admin, **{"from": "2000-01-01"})
    r = srv.request("GET", f"{API}/audit?limit=2", token=admin).json()
    assert len(r["items"]) == 2 and r["next_cursor"]
    nxt = srv.request("GET", f"{API}/audit?limit=2&cursor={r['next_cursor']}", token=admin).json()
    assert nxt["items"][0]["id"] < r["items"][-1]["id"]
    assert r["items"][0]["at"][:4].isdigit() and r["items"][0]["device_name"] == "pytest"


def test_jobs_are_listed_newest_first_admins_all_attendants_their_own(tmp_path):
    from desktop.store import jobs
    from desktop.store.database import Store

    s = make_server(tmp_path, None)
    store, _ = Store.open(s.data_dir, PASSPHRASE)
    try:
        from desktop.auth import hash_password
        from desktop.store import accounts

        att = accounts.add_user(store, "mia", "attendant", hash_password(ATT_PASSWORD))
        admin_id = accounts.user_by_name(store, "admin")["id"]
        first = jobs.create(store, "backup", admin_id, 3, "first")
        second = jobs.create(store, "import", att["id"], 5, "second")
    finally:
        store.close()
    s.start(wait_model=False)
    try:
        admin = s.login("admin", ADMIN_PASSWORD)["access_token"]
        mine = s.login("mia", ATT_PASSWORD)["access_token"]
        items = s.request("GET", API + "/jobs", token=admin).json()["items"]
        assert [j["id"] for j in items] == [second, first]
        assert {"state", "done", "total", "message"} <= set(items[0])
        assert [j["id"] for j in s.request("GET", API + "/jobs", token=mine).json()["items"]] == [second]
        assert [j["id"] for j in s.request("GET", API + "/jobs?limit=1", token=admin).json()["items"]] == [second]
        _error(s.request("GET", f"{API}/jobs/{first}", token=mine), 404)
    finally:
        s.stop()
