"""Health, first-run setup, sign-in and token routes."""

from __future__ import annotations

from aiohttp import web

from desktop import __version__
from desktop import api_schemas as schemas
from desktop.errors import ConversaError
from desktop.server.body import read_json
from desktop.server.client_address import client_address, direct_from_this_computer
from desktop.server.keys import SERVICE, SESSIONS, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()


@routes.get("/api/v1/health")
@describe(response=schemas.HEALTH)
async def health(request: web.Request) -> web.Response:
    """Server and model state. Public; an admin's token adds the team adapter's state and counts."""
    svc = request.app[SERVICE]
    out = {"status": "ok", "version": __version__, "api_version": 1, "model": svc.model_status()}
    if request.headers.get("Authorization"):
        try:
            caller = await request.app[SESSIONS].authenticate(request.headers["Authorization"])
        except ConversaError:
            caller = None  # a stale token still gets the public answer
        if caller and caller.is_admin:
            out["adapter"] = await svc.adapter_status()
    return web.json_response(out)


@routes.post("/api/v1/setup")
@describe(ok=201, body=schemas.SETUP, response=schemas.TOKENS)
async def setup(request: web.Request) -> web.Response:
    """Create the first admin (only from this computer, never through a proxy, only while no user
    exists) and sign it in."""
    body = await read_json(request)
    return web.json_response(await request.app[SESSIONS].setup(body, direct_from_this_computer(request)), status=201)


@routes.post("/api/v1/auth/login")
@describe(body=schemas.LOGIN, response=schemas.TOKENS)
async def login(request: web.Request) -> web.Response:
    """Sign in with username and password; returns access and refresh tokens."""
    body = await read_json(request)
    out = await request.app[SESSIONS].login(body, client_address(request), request.headers.get("Origin"))
    return web.json_response(out)


@routes.post("/api/v1/auth/pair")
@describe(body=schemas.PAIR, response=schemas.TOKENS)
async def pair(request: web.Request) -> web.Response:
    """Sign in a browser with a one-time pairing code."""
    body = await read_json(request)
    out = await request.app[SESSIONS].pair(body, client_address(request), request.headers.get("Origin"))
    return web.json_response(out)


@routes.post("/api/v1/auth/refresh")
@describe(body=schemas.REFRESH, response=schemas.TOKENS)
async def refresh(request: web.Request) -> web.Response:
    """Swap a refresh token for new tokens; a re-used refresh token signs the device out, except one
    retry within 30 s of the rotation (a lost answer), which gets the same new tokens."""
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
    """A new pairing code (admin), valid 5 minutes; `user` (a user id) defaults to the caller."""
    body = await read_json(request, required=False)
    return web.json_response(await request.app[SESSIONS].new_pairing_code(principal(request), body), status=201)
