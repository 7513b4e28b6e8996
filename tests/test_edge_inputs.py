"""Inputs that once answered 500 (issue 10, found by fuzzing): each now gets a 400 naming what is
wrong, in the one error shape, and nothing is stored. A real server without a model."""

from __future__ import annotations

import base64
import json
import socket
import time

import pytest
from conftest import make_server

API = "/api/v1"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory.mktemp("edge"), None, conversa_body_timeout="3")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def token(srv) -> str:
    return srv.login()["access_token"]


def _capture(**msg) -> dict:
    m = {"id": "m-" + str(time.monotonic_ns()), "direction": "in", "text": "oi", "timestamp": "2026-03-10T09:14:00"}
    m.update(msg)
    return {"chat": {"id": "edge@c.us", "title": "Edge"}, "messages": [m]}


def _error(r, status: int = 400) -> dict:
    assert r.status == status, (r.status, r.body)
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert set(err) == {"code", "message", "field"}
    return err


def _contact_id(srv, token) -> str:
    r = srv.request("POST", API + "/captures", _capture(), token=token)
    assert r.status == 202, r.body
    conv = srv.request("GET", API + "/conversations/" + r.json()["conversation_id"], token=token).json()
    return conv["contact"]["id"]


@pytest.mark.parametrize(
    "ts",
    [
        "2026-13-01T09:14:00",  # month 13
        "2026-02-30T09:14:00",  # February 30
        "2026-03-10T24:00",  # hour 24
        "2026-03-10T23:59:60",  # leap second
        "0000-03-10T09:14:00",  # year 0
        "2026-03-10T09:14:00\n",  # trailing newline
        "٢٠٢٦-03-10T09:14:00",  # Arabic-Indic digits
        "２０２６-03-10T09:14:00",  # fullwidth digits
        "2026-03-10T09:14:00.1234567",  # more than microseconds
    ],
)
def test_impossible_timestamps_are_refused_naming_the_field(srv, token, ts):
    err = _error(srv.request("POST", API + "/captures", _capture(timestamp=ts), token=token))
    assert err["field"] == "messages[0].timestamp"
    # nothing stored that would break /metrics later
    assert srv.request("GET", API + "/metrics?from=2026-01-01", token=token).status == 200


@pytest.mark.parametrize("ts", ["2026-03-10T09:14", "2026-02-28T23:59:59", "2028-02-29T00:00:00.123", None])
def test_real_times_are_accepted(srv, token, ts):
    assert srv.request("POST", API + "/captures", _capture(timestamp=ts), token=token).status == 202


def test_a_lone_surrogate_is_refused_at_the_json_edge(srv, token):
    lone = b'"\\ud800"'
    # before authentication: the login username
    r = srv.request("POST", API + "/auth/login", raw=b'{"username": ' + lone + b', "password": "x"}')
    assert _error(r)["code"] == "invalid_json"
    # a capture field, a key, a contact field, a quick reply
    body = json.dumps(_capture(text="PLACEHOLDER")).encode().replace(b'"PLACEHOLDER"', lone)
    assert _error(srv.request("POST", API + "/captures", raw=body, token=token))["code"] == "invalid_json"
    body = b'{"chat": {"id": "x", ' + lone + b': 1}, "messages": []}'
    assert _error(srv.request("POST", API + "/captures", raw=body, token=token))["code"] == "invalid_json"
    contact = _contact_id(srv, token)
    r = srv.request("PATCH", f"{API}/contacts/{contact}", raw=b'{"notes": ' + lone + b"}", token=token)
    assert _error(r)["code"] == "invalid_json"
    r = srv.request("POST", API + "/quick-replies", raw=b'{"shortcut": "s1", "text": ' + lone + b"}", token=token)
    assert _error(r)["code"] == "invalid_json"
    assert all(q["shortcut"] != "s1" for q in srv.request("GET", API + "/quick-replies", token=token).json()["items"])


def _json_routes(srv) -> list[tuple[str, str]]:
    """Every served operation that takes a JSON body, path ids filled with a dummy."""
    doc = srv.request("GET", API + "/openapi.json").json()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if "requestBody" in op:
                out.append((method.upper(), API + path.replace("{id}", "x1")))
    assert len(out) >= 10
    return out


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,  # RecursionError in the parser
        b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}",  # parses, but deeper than any request needs
        b'{"value": ' + b"7" * 4301 + b"}",  # int() refuses more than 4,300 digits
        b'{"value": NaN}',
        b'{"value": Infinity}',
        b'{"value": -Infinity}',
        b'{"value": 1e309}',  # parses to inf
    ],
    ids=["deep-1000", "deep-100", "int-4301-digits", "nan", "inf", "-inf", "1e309"],
)
def test_unparsable_json_is_400_on_every_json_route(srv, token, body):
    for method, path in _json_routes(srv):
        r = srv.request(method, path, raw=body, token=token)
        assert _error(r)["code"] == "invalid_json", (method, path)
    # unauthenticated login too
    assert _error(srv.request("POST", API + "/auth/login", raw=body))["code"] == "invalid_json"


@pytest.mark.parametrize("value", [1e300, 10**30, -1, True, "12"])
def test_contact_value_out_of_range_is_refused(srv, token, value):
    contact = _contact_id(srv, token)
    assert _error(srv.request("PATCH", f"{API}/contacts/{contact}", {"value": value}, token=token))["field"] == "value"
    r = srv.request("GET", f"{API}/contacts/{contact}", token=token)
    json.loads(r.body, parse_constant=lambda c: pytest.fail(f"{c} in a response"))  # still strict JSON


def test_a_finite_contact_value_is_kept(srv, token):
    contact = _contact_id(srv, token)
    r = srv.request("PATCH", f"{API}/contacts/{contact}", {"value": 1234.5}, token=token)
    assert r.status == 200 and r.json()["value"] == 1234.5


@pytest.mark.parametrize(
    "payload",
    [
        b'{"ts": 1, "id": "x"}',  # an object
        b'[{"a": 1}, "c_1"]',  # an object where the time goes
        b'[1.5, {"a": 1}]',  # an object where the id goes
        b'[1e999, "c_1"]',  # infinite time
        b'[NaN, "c_1"]',
        b"[" + b"9" * 400 + b', "c_1"]',  # too large for SQLite
        b'[1.5, "\\ud800"]',  # a lone surrogate
        b'[1.5, "a", "b"]',
        b"[" * 2000 + b"]" * 2000,
        b"\xff\xfe",
    ],
)
def test_a_handmade_cursor_is_invalid_cursor(srv, token, payload):
    cursor = base64.urlsafe_b64encode(payload).decode()
    err = _error(srv.request("GET", f"{API}/conversations?cursor={cursor}", token=token))
    assert (err["code"], err["field"]) == ("invalid_cursor", "cursor")


def test_a_contact_owner_must_name_a_user(srv, token):
    contact = _contact_id(srv, token)
    for owner in ("u_nobody", ""):
        r = srv.request("PATCH", f"{API}/contacts/{contact}", {"owner": owner}, token=token)
        assert _error(r)["field"] == "owner"
    me = srv.login()["user"]["id"]
    r = srv.request("PATCH", f"{API}/contacts/{contact}", {"owner": me}, token=token)
    assert r.status == 200 and r.json()["owner"] == me
    r = srv.request("PATCH", f"{API}/contacts/{contact}", {"owner": None}, token=token)
    assert r.status == 200 and r.json()["owner"] is None


def test_405_names_the_allowed_methods(srv, token):
    r = srv.request("PUT", f"{API}/contacts/x1", {}, token=token)
    assert _error(r, 405)["code"] == "method_not_allowed"
    assert set(r.headers["allow"].split(",")) >= {"GET", "PATCH", "DELETE"}


def _raw(srv, data: bytes, wait: float = 3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out


def _log(srv) -> str:
    return srv.log.read_text(errors="replace")


SECRET = b"s3cr3t-token-bytes"
MALFORMED = {
    "bad-method": b"GE\x01T /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Secret: " + SECRET + b"\r\n\r\n",
    "bad-header": b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nAuthorization Bearer " + SECRET + b"\r\n\r\n",
    "header-too-long": b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-A: " + SECRET + b"a" * 9000 + b"\r\n\r\n",
    "bad-version": b"GET /api/v1/health?" + SECRET + b" HTTP/9.Z\r\nHost: x\r\n\r\n",
    "bad-chunk": b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    + SECRET
    + b"\r\n",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_parser_errors_answer_the_error_shape_and_echo_nothing(srv, name):
    before = _log(srv)
    out = _raw(srv, MALFORMED[name])
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0], out[:200]
    assert b"content-type: application/json" in head.lower()
    err = json.loads(body)["error"]
    assert err["code"] == "bad_request" and set(err) == {"code", "message", "field"}
    assert SECRET not in out and b"GE\x01T" not in out
    time.sleep(0.3)
    new = _log(srv)[len(before) :]
    warnings = [line for line in new.splitlines() if " WARNING " in line]
    assert len(warnings) == 1, new
    assert "Traceback" not in new and " ERROR " not in new, new
    assert SECRET.decode() not in new


def test_a_client_hanging_up_mid_body_logs_one_warning(srv, token):
    before = _log(srv)
    head = (
        f"POST /api/v1/captures HTTP/1.1\r\nHost: {srv.host}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(head.encode() + b'{"chat": {"id"')
        time.sleep(0.3)
    time.sleep(0.5)
    new = _log(srv)[len(before) :]
    assert [line for line in new.splitlines() if " WARNING " in line and "/captures" in line], new
    assert "Traceback" not in new and " ERROR " not in new, new
    assert srv.request("GET", API + "/health").status == 200


def test_a_broken_chunk_after_the_headers_ends_within_the_body_deadline(srv, token):
    # aiohttp's parser leaves the handler waiting for the rest of the body: the body deadline
    # (3 s for this server) ends it, quietly.
    before = _log(srv)
    head = (
        f"POST /api/v1/captures HTTP/1.1\r\nHost: {srv.host}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(head.encode())
        time.sleep(0.2)  # the headers are handled before the broken chunk arrives
        s.sendall(b"zz\r\n{}\r\n0\r\n\r\n")
        while s.recv(65536):
            pass
    assert time.monotonic() - t0 < 6
    time.sleep(0.3)
    new = _log(srv)[len(before) :]
    assert "Traceback" not in new and " ERROR " not in new, new
    assert srv.request("GET", API + "/health").status == 200


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        (b'["\\ud83d\\ude00"]', True),  # an escaped pair is an emoji
        (b'["\\\\ud800"]', True),  # an escaped backslash, then text
        (b'"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["', True),  # brackets inside a string
        (b"[" * 32 + b"]" * 32, True),
        (b"[" * 33 + b"]" * 33, False),
        (b'{"a": [{"b": "\\udc00"}]}', False),
        (b'{"\\ud800": 1}', False),
    ],
)
def test_parse_json_edges(raw, ok):
    from desktop.errors import InvalidInput
    from desktop.server.body import parse_json

    if ok:
        parse_json(raw)
    else:
        with pytest.raises(InvalidInput):
            parse_json(raw)
