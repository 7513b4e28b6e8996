"""The OpenAPI description, built from the routes themselves (their docstrings are the summaries)."""

from __future__ import annotations

import re

from aiohttp import web

from desktop import __version__
from desktop.server.middlewares import PUBLIC

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}


def build(app: web.Application) -> dict:
    paths: dict[str, dict] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/api/v1") or route.method == "HEAD":
            continue
        doc = (route.handler.__doc__ or "").strip().splitlines()
        op = {
            "summary": doc[0] if doc else route.handler.__name__,
            "operationId": route.handler.__name__,
            "responses": {
                "default": {
                    "description": "error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        }
        params = re.findall(r"{(\w+)}", path)
        if params:
            op["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
            ]
        if (route.method, path) in PUBLIC:
            op["security"] = []
        paths.setdefault(path[len("/api/v1") :] or "/", {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Conversa API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
    }


async def openapi(request: web.Request) -> web.Response:
    """This description."""
    return web.json_response(build(request.app))


def openapi_route() -> web.RouteDef:
    return web.get("/api/v1/openapi.json", openapi)
