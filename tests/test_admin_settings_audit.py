"""`GET/PATCH /settings` and the audit rows of every change route, on a real server (no model)."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from conftest import PASSPHRASE, fixture_capture, make_server

from desktop import config

API = "/api/v1"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    # A setting the environment sets: saved to the file, but the environment keeps winning.
    s = make_server(tmp_path_factory.mktemp("settings"), None, conversa_temperature="0.5")
    s.start(wait_model=False)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(srv) -> str:
    return srv.login()["access_token"]


def _settings(srv, token) -> dict[str, dict]:
    r = srv.request("GET", API + "/settings", token=token)
    assert r.status == 200, r.body
    return {s["name"]: s for s in r.json()["items"]}


def _audit(srv, token, **query) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = srv.request("GET", f"{API}/audit?{qs}", token=token)
    assert r.status == 200, r.body
    return r.json()["items"]


def _file(srv) -> bytes | None:
    path = srv.data_dir / config.SETTINGS_FILE
    return path.read_bytes() if path.exists() else None


def test_every_setting_is_listed_with_its_facts_and_secrets_never_are(srv, admin):
    r = srv.request("GET", API + "/settings", token=admin)
    assert PASSPHRASE.encode() not in r.body
    items = _settings(srv, admin)
    assert set(items) == {f.name for f in dataclasses.fields(config.Settings)}
    port = items["port"]
    assert port["value"] == srv.port and port["default"] == 8765 and port["restart"] is True
    assert port["env"] == "CONVERSA_PORT" and port["help"] and port["editable"] is True
    assert items["temperature"]["restart"] is False and items["temperature"]["from_env"] is True
    secret = items["passphrase"]
    assert secret["secret"] is True and secret["value"] is None and secret["editable"] is False


def test_a_change_is_saved_applied_where_it_can_be_and_audited(srv, admin):
    r = srv.request(
        "PATCH", API + "/settings", {"max_suggestion_tokens": 120, "log_level": "debug", "n_ctx": 4096}, token=admin
    )
    assert r.status == 200, r.body
    out = r.json()
    assert out["saved"] == ["log_level", "max_suggestion_tokens", "n_ctx"]
    assert out["applied"] == ["log_level", "max_suggestion_tokens"]
    assert out["restart_required"] == ["n_ctx"] and out["overridden_by_env"] == []
    saved = tomllib.loads(_file(srv).decode())
    assert saved == {"log_level": "DEBUG", "max_suggestion_tokens": 120, "n_ctx": 4096}
    items = _settings(srv, admin)
    assert items["max_suggestion_tokens"]["value"] == 120  # live
    assert items["n_ctx"]["value"] == 2048 and items["n_ctx"]["saved"] == 4096  # after a restart
    loaded = config.load(env={"CONVERSA_DATA_DIR": str(srv.data_dir)})
    assert (loaded.n_ctx, loaded.max_suggestion_tokens) == (4096, 120)
    row = _audit(srv, admin, action="settings.update")[0]
    assert row["detail"] == "fields=log_level,max_suggestion_tokens,n_ctx" and row["device_id"]


def test_a_setting_the_environment_sets_is_saved_but_not_applied(srv, admin):
    out = srv.request("PATCH", API + "/settings", {"temperature": 0.2}, token=admin).json()
    assert out["overridden_by_env"] == ["temperature"] and out["applied"] == []
    assert _settings(srv, admin)["temperature"]["value"] == 0.5


@pytest.mark.parametrize(
    "body, field",
    [
        ({"port": 0}, "port"),
        ({"port": 8000, "n_ctx": -1}, "n_ctx"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 9.5}, "temperature"),
        ({"max_messages": True}, "max_messages"),
        ({"passphrase": "guess"}, "passphrase"),
        ({"data_dir": "/tmp/elsewhere"}, "data_dir"),
        ({"colour": "blue"}, "colour"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"public_hostname": "not a host"}, "public_hostname"),
        ({"trusted_proxies": "10.0.0.300"}, "trusted_proxies"),
        ({"log_level": "LOUD"}, "log_level"),
        ({"model": "../../etc/passwd"}, "model"),
        ({"allowed_origins": "javascript:alert(1)"}, "allowed_origins"),
        ({"host": "127.0.0.1\nport = 1"}, "host"),
        ({}, "body"),
    ],
)
def test_an_invalid_setting_is_refused_with_its_name_and_nothing_changes(srv, admin, body, field):
    before, listed, audit = _file(srv), _settings(srv, admin), _audit(srv, admin, limit=200)
    r = srv.request("PATCH", API + "/settings", body, token=admin)
    assert r.status == 400, r.body
    assert r.json()["error"]["field"] == field
    assert _file(srv) == before
    assert _settings(srv, admin) == listed
    assert _audit(srv, admin, limit=200) == audit


def test_every_change_route_writes_an_audit_row_without_personal_data(srv, admin):
    capture = fixture_capture()
    r = srv.request("POST", API + "/captures", capture, token=admin)
    assert r.status == 202, r.body
    conv_id = r.json()["conversation_id"]
    contact_id = srv.request("GET", f"{API}/conversations/{conv_id}", token=admin).json()["contact"]["id"]

    note = "cliente pediu desconto de 10% no CPF 123.456.789-00"
    steps = [
        ("PATCH", f"/conversations/{conv_id}", {"status": "pending"}, "conversation.status", conv_id),
        ("PATCH", f"/contacts/{contact_id}", {"stage": "qualified", "notes": note}, "contact.update", contact_id),
        ("POST", "/quick-replies", {"shortcut": "oi", "text": "Olá {nome}!"}, "quick_reply.create", None),
        ("PATCH", "/quick-replies/{qr}", {"text": "Oi, {nome}!"}, "quick_reply.update", None),
        ("DELETE", "/quick-replies/{qr}", None, "quick_reply.delete", None),
        ("GET", f"/contacts/{contact_id}/export", None, "contact.export", contact_id),
        ("DELETE", f"/contacts/{contact_id}", None, "contact.erase", contact_id),
    ]
    qr = None
    for method, path, body, action, target in steps:
        r = srv.request(method, API + path.format(qr=qr), body, token=admin)
        assert r.status < 300, (method, path, r.body)
        if action == "quick_reply.create":
            qr = r.json()["id"]
        row = _audit(srv, admin, limit=1)[0]
        assert row["action"] == action, (row, action)
        assert row["target"] == (target or qr) and row["username"] == "admin" and row["device_id"], row
    assert _audit(srv, admin, action="contact.update")[0]["detail"] == "fields=notes,stage"
    everything = srv.request("GET", API + "/audit?limit=200", token=admin).body.decode()
    for personal in (note, "CPF", capture["chat"]["title"], capture["chat"]["phone"], "Olá"):
        assert personal not in everything
