"""The OpenAPI description, built from the served routes and what each handler declares.

A handler declares its request body, query parameters and success answer next to itself:

    @routes.post("/api/v1/captures")
    @describe(ok=202, body=schemas.capture, response=schemas.CAPTURE_RESULT)
    async def post_capture(request): ...

Its docstring is the summary, path parameters come from the route, security from the
PUBLIC table, and every operation may answer 4XX in the one error shape. A served route
without `describe` is listed in `undocumented(app)` (tests/test_openapi.py fails on it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from desktop import __version__
from desktop.api_schemas import ERROR_BODY, OPENAPI, Schema
from desktop.server.keys import SETTINGS
from desktop.server.middlewares import API, PUBLIC

H = TypeVar("H", bound=Callable[..., Any])
ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": ERROR_BODY}}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ATTR = "__openapi__"
JSON = "application/json"


@dataclass(frozen=True)
class Operation:
    ok: int = 200
    response: Schema | None = None  # None: the success answer has no body (204)
    body: Schema | Callable[[Any], Schema] | None = None  # a callable gets the Settings
    body_required: bool = True
    query: dict[str, Schema] = field(default_factory=dict)
    content_type: str = JSON


def describe(
    *,
    ok: int = 200,
    response: Schema | None = None,
    body: Schema | Callable[[Any], Schema] | None = None,
    body_required: bool = True,
    query: dict[str, Schema] | None = None,
    content_type: str = JSON,
) -> Callable[[H], H]:
    """Declare a handler's OpenAPI operation (see the module docstring)."""
    op = Operation(ok, response, body, body_required, query or {}, content_type)

    def mark(handler: H) -> H:
        setattr(handler, _ATTR, op)
        return handler

    return mark


def served(app: web.Application) -> list[tuple[str, str, Any]]:
    """(method, path, handler) of every API route the app serves (HEAD, added by aiohttp for GET, left out)."""
    out = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith(API + "/") and route.method != "HEAD":
            out.append((route.method, path, route.handler))
    return out


def undocumented(app: web.Application) -> list[str]:
    return [f"{m} {p}" for m, p, h in served(app) if getattr(h, _ATTR, None) is None]


def build(app: web.Application) -> dict[str, Any]:
    settings = app[SETTINGS]
    paths: dict[str, dict] = {}
    for method, path, handler in served(app):
        op: Operation = getattr(handler, _ATTR, None) or Operation()
        doc = (handler.__doc__ or "").strip().splitlines()
        ok: dict[str, Any] = {"description": doc[0] if doc else "success"}
        if op.response is not None:
            ok["content"] = {op.content_type: {"schema": op.response}}
        out: dict[str, Any] = {
            "summary": doc[0] if doc else handler.__name__,
            "operationId": handler.__name__,
            "responses": {
                str(op.ok): ok,
                "4XX": {"description": "refused", "content": {JSON: {"schema": _ERROR_REF}}},
            },
        }
        params = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for p in re.findall(r"{(\w+)}", path)
        ]
        params += [{"name": name, "in": "query", "required": False, "schema": s} for name, s in op.query.items()]
        if params:
            out["parameters"] = params
        if op.body is not None:
            schema = op.body(settings) if callable(op.body) else op.body
            out["requestBody"] = {"required": op.body_required, "content": {JSON: {"schema": schema}}}
        if (method, path) in PUBLIC:
            out["security"] = []
        paths.setdefault(path[len(API) :], {})[method.lower()] = out
    return {
        "openapi": "3.1.0",
        "info": {"title": "Conversa API", "version": __version__},
        "servers": [{"url": API}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
    }


@describe(response=OPENAPI)
async def openapi(request: web.Request) -> web.Response:
    """This description."""
    return web.json_response(build(request.app))


def openapi_route() -> web.RouteDef:
    return web.get(API + "/openapi.json", openapi)
