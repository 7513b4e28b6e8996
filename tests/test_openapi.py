"""The served OpenAPI description is complete: every served route is documented with its body,
path and query parameters, success answer and security, and nothing else is documented."""

from __future__ import annotations

import inspect
import re

import pytest
from aiohttp import web
from conftest import PASSPHRASE, make_server

from desktop import config
from desktop.server import create_app, openapi
from desktop.server.middlewares import PUBLIC
from desktop.service import Service
from desktop.store.database import Store

API = "/api/v1"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("openapi")
    settings = config.load({"data_dir": str(data)}, env={"CONVERSA_PASSPHRASE": PASSPHRASE})
    store, _ = Store.open(data, PASSPHRASE)
    service = Service(settings, store, None)
    yield create_app(settings, service)
    service.shutdown()


@pytest.fixture(scope="module")
def doc(app) -> dict:
    return openapi.build(app)


def _operations(doc: dict) -> dict[tuple[str, str], dict]:
    return {(m.upper(), API + p): op for p, ops in doc["paths"].items() for m, op in ops.items()}


def test_every_served_route_is_documented(app):
    assert openapi.undocumented(app) == []


def test_the_document_lists_exactly_the_served_routes(app, doc):
    served = {(m, p) for m, p, _ in openapi.served(app)}
    assert len(served) >= 25
    assert set(_operations(doc)) == served


def test_an_undocumented_route_is_caught():
    async def plain(request: web.Request) -> web.Response:
        return web.json_response({})

    @openapi.describe(response={"type": "object"})
    async def described(request: web.Request) -> web.Response:
        return web.json_response({})

    bare = web.Application()
    bare.router.add_get(API + "/new-thing", plain)
    bare.router.add_post(API + "/documented", described)
    assert openapi.undocumented(bare) == [f"GET {API}/new-thing"]


def test_bodies_and_parameters_match_what_the_handlers_read(app, doc):
    ops = _operations(doc)
    for method, path, handler in openapi.served(app):
        op = ops[(method, path)]
        source = inspect.getsource(handler)
        where = f"{method} {path}"
        assert ("read_json(" in source) == ("requestBody" in op), where
        documented = {(p["in"], p["name"]) for p in op.get("parameters", [])}
        for name in re.findall(r"{(\w+)}", path):
            assert ("path", name) in documented, where
        for name in re.findall(r"request\.query\.get\(\"(\w+)\"", source):
            assert ("query", name) in documented, where
        if "request.query" in source:
            assert any(where_ == "query" for where_, _ in documented), where


def test_every_operation_has_its_success_shape_errors_and_security(doc):
    for (method, path), op in _operations(doc).items():
        where = f"{method} {path}"
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert len(ok) == 1, where
        if ok[0] != "204":
            content = op["responses"][ok[0]]["content"]
            (schema,) = (c["schema"] for c in content.values())
            assert schema.get("type") in ("object", "string"), where
        assert op["responses"]["4XX"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        if (method, path) in PUBLIC:
            assert op["security"] == [], where
        else:
            assert "security" not in op, where  # the document's default: a bearer token
        body = op.get("requestBody")
        if body:
            assert body["content"]["application/json"]["schema"]["type"] == "object", where
    assert doc["security"] == [{"bearer": []}]


def test_request_schemas_follow_the_settings(tmp_path):
    data = tmp_path / "d"
    settings = config.load({"data_dir": str(data)}, env={"CONVERSA_MAX_MESSAGES": "7"})
    from desktop import api_schemas

    assert api_schemas.capture(settings)["properties"]["messages"]["maxItems"] == 7


def test_the_served_document_is_valid_openapi(tmp_path):
    import schemathesis
    srv = make_server(tmp_path, None)
    srv.start()
    try:
        r = srv.request("GET", API + "/openapi.json")
        assert r.status == 200
        served = r.json()
    finally:
        srv.stop()
    schema = schemathesis.openapi.from_dict(served)
    results = list(schema.get_all_operations())
    problems = [str(r.err()) for r in results if not hasattr(r, "ok")]
    assert not problems
    assert len(results) == sum(len(ops) for ops in served["paths"].values())
