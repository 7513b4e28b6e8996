"""Request checks in the order API.md fixes: errors wrap everything, then Host, Origin,
content type, authentication. The body is read (with its limits) by the handlers."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from desktop.errors import BodyTooLarge, ConversaError, Forbidden, RateLimited, UnsupportedMediaType
from desktop.server.keys import PRINCIPAL, SESSIONS, SETTINGS

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API = "/api/v1"
PUBLIC = {
    ("GET", API + "/health"),
    ("GET", API + "/openapi.json"),
    ("POST", API + "/setup"),
    ("POST", API + "/auth/login"),
    ("POST", API + "/auth/pair"),
    ("POST", API + "/auth/refresh"),
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message, "field": field}}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RateLimited as e:
        return error_response(429, e.code, e.message, headers={"Retry-After": str(e.retry_after)})
    except ConversaError as e:
        return error_response(e.status, e.code, e.message, e.field)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        code = HTTP_CODES.get(e.status, "http_error")
        allow = e.headers.get("Allow")  # a 405 names the methods the resource has (RFC 9110 15.5.6)
        return error_response(e.status, code, e.reason or code, headers={"Allow": allow} if allow else None)
    except ConnectionError as e:
        # The client hung up (mid-body, say): nobody reads an answer and there is no bug to trace.
        log.warning("client gone during %s %s: %s", request.method, request.path, type(e).__name__)
        return error_response(400, "client_gone", "the connection was closed before the request was complete")
    except Exception:  # noqa: BLE001 - the one place that turns crashes into the error shape
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error; see the server log")


def allowed_hosts(settings) -> set[str]:
    port = settings.port
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if settings.public_hostname:
        # A reverse proxy forwards Host as the client sent it, with or without a port.
        hosts.add(settings.public_hostname.lower())
        hosts.add(f"{settings.public_hostname.lower()}:443")
    return hosts


@web.middleware
async def host_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    host = (request.headers.get("Host") or "").strip().lower()
    if host not in request.app["allowed_hosts"]:
        raise Forbidden("Host not allowed", code="host_not_allowed")
    return await handler(request)


@web.middleware
async def origin_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is None:
        return await handler(request)
    sessions = request.app[SESSIONS]
    if not sessions.origin_allowed(origin, request.path):
        raise Forbidden("Origin not allowed", code="origin_not_allowed")
    if request.method == "OPTIONS":
        resp: web.StreamResponse = web.Response(status=204)
    else:
        resp = await handler(request)
    resp.headers["Access-Control-Allow-Origin"] = origin  # an allowed origin, compared whole
    resp.headers["Vary"] = "Origin"
    if request.method == "OPTIONS":
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, PUT, DELETE"
        resp.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        resp.headers["Access-Control-Max-Age"] = "600"
    return resp


# The routes that take a file upload besides JSON: a CSV of leads, a knowledge-base document.
MULTIPART_ROUTES = {("POST", API + "/contacts/import"), ("POST", API + "/knowledge")}
MULTIPART_PREFIXES = (("PUT", API + "/knowledge/"),)


def _multipart_allowed(request: web.Request) -> bool:
    if request.content_type != "multipart/form-data":
        return False
    route = (request.method, request.path)
    return route in MULTIPART_ROUTES or any(
        request.method == m and request.path.startswith(p) and "/" not in request.path[len(p) :]
        for m, p in MULTIPART_PREFIXES
    )


@web.middleware
async def content_type_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.body_exists):
        if request.content_type != "application/json" and not _multipart_allowed(request):
            raise UnsupportedMediaType("the body must be application/json")
        limit = request.app[SETTINGS].max_body_bytes
        if request.content_length and request.content_length > limit:
            raise BodyTooLarge(f"body is larger than {limit} bytes")
    return await handler(request)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (request.method, request.path) in PUBLIC or not request.path.startswith(API + "/"):
        return await handler(request)
    request[PRINCIPAL] = await request.app[SESSIONS].authenticate(request.headers.get("Authorization"))
    return await handler(request)


MIDDLEWARES = [errors, host_check, origin_check, content_type_check, authenticate]
