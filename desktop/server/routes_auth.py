"""Health, first-run setup, sign-in and token routes."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from desktop import __version__
from desktop import api_schemas as schemas
from desktop.errors import InvalidInput
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, SESSIONS, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()


def _address(request: web.Request) -> str:
    return request.remote or "unknown"


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


@routes.get("/api/v1/health")
@describe(response=schemas.HEALTH)
async def health(request: web.Request) -> web.Response:
    """Server and model state. Public."""
    svc = request.app[SERVICE]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "api_version": 1,
            "model": svc.model_status(),
            "adapter": await svc.adapter_status(),
        }
    )


@routes.post("/api/v1/setup")
@describe(ok=201, body=schemas.SETUP, response=schemas.TOKENS)
async def setup(request: web.Request) -> web.Response:
    """Create the first admin (loopback only, only while no user exists) and sign it in."""
    body = await read_json(request)
    return web.json_response(await request.app[SESSIONS].setup(body, _loopback(request)), status=201)


@routes.post("/api/v1/auth/login")
@describe(body=schemas.LOGIN, response=schemas.TOKENS)
async def login(request: web.Request) -> web.Response:
    """Sign in with username and password; returns access and refresh tokens."""
    body = await read_json(request)
    out = await request.app[SESSIONS].login(body, _address(request), request.headers.get("Origin"))
    return web.json_response(out)


@routes.post("/api/v1/auth/pair")
@describe(body=schemas.PAIR, response=schemas.TOKENS)
async def pair(request: web.Request) -> web.Response:
    """Sign in a browser with a one-time pairing code."""
    body = await read_json(request)
    out = await request.app[SESSIONS].pair(body, _address(request), request.headers.get("Origin"))
    return web.json_response(out)


@routes.post("/api/v1/auth/refresh")
@describe(body=schemas.REFRESH, response=schemas.TOKENS)
async def refresh(request: web.Request) -> web.Response:
    """Swap a refresh token for new tokens; a re-used refresh token signs the device out."""
    body = await read_json(request)
    return web.json_response(await request.app[SESSIONS].refresh(body))


@routes.post("/api/v1/auth/logout")
@describe(ok=204)
async def logout(request: web.Request) -> web.Response:
    """Sign this device out."""
    await request.app[SESSIONS].logout(principal(request))
    return web.Response(status=204)


@routes.post("/api/v1/pairing-codes")
@describe(ok=201, body=schemas.PAIRING_CODE_REQUEST, body_required=False, response=schemas.PAIRING_CODE)
async def pairing_code(request: web.Request) -> web.Response:
    """A new pairing code (admin), valid 5 minutes; `user` defaults to the caller."""
    p = principal(request)
    body = await read_json(request, required=False)
    user_id = body.get("user", p.user_id) if isinstance(body, dict) else p.user_id
    if not isinstance(user_id, str) or not user_id:
        raise InvalidInput("user must be a user id", field="user")
    if user_id != p.user_id and not p.is_admin:
        from desktop.errors import Forbidden

        raise Forbidden("only an admin can pair devices for others", code="role_not_allowed")
    return web.json_response(await request.app[SESSIONS].new_pairing_code(user_id), status=201)
