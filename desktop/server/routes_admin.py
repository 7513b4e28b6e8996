"""Admin routes: users, devices, jobs list, settings, audit (role checks live in the use cases)."""

from __future__ import annotations

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.errors import InvalidInput
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()


@routes.get("/api/v1/users")
@describe(response=schemas.USER_LIST)
async def list_users(request: web.Request) -> web.Response:
    """Users: attendants and admins (admin)."""
    return web.json_response(await request.app[SERVICE].list_users(principal(request)))


@routes.post("/api/v1/users")
@describe(ok=201, body=schemas.USER_CREATE, response=schemas.USER)
async def create_user(request: web.Request) -> web.Response:
    """Create a user (admin); the password follows the CLI's rules (8+ characters)."""
    body = await read_json(request)
    return web.json_response(await request.app[SERVICE].create_user(principal(request), body), status=201)


@routes.patch("/api/v1/users/{id}")
@describe(body=schemas.USER_PATCH, response=schemas.USER_CHANGED)
async def patch_user(request: web.Request) -> web.Response:
    """Change a user's role, reset their password, disable or enable them (admin); 409 for the last
    active admin."""
    body = await read_json(request)
    out = await request.app[SERVICE].patch_user(principal(request), request.match_info["id"], body)
    return web.json_response(out)


@routes.delete("/api/v1/users/{id}")
@describe(ok=204)
async def delete_user(request: web.Request) -> web.Response:
    """Remove a user and sign their devices out (admin); what they owned becomes unowned; 409 for
    the last active admin."""
    await request.app[SERVICE].delete_user(principal(request), request.match_info["id"])
    return web.Response(status=204)


@routes.get("/api/v1/devices")
@describe(response=schemas.DEVICE_LIST, query={"user": schemas.STR})
async def list_devices(request: web.Request) -> web.Response:
    """Paired devices, newest first: user, name, paired at, last seen (admin); `user` filters."""
    out = await request.app[SERVICE].list_devices(principal(request), request.query.get("user"))
    return web.json_response(out)


@routes.delete("/api/v1/devices/{id}")
@describe(ok=204)
async def revoke_device(request: web.Request) -> web.Response:
    """Sign a device out (admin): its tokens stop working at once."""
    await request.app[SERVICE].revoke_device(principal(request), request.match_info["id"])
    return web.Response(status=204)


@routes.get("/api/v1/jobs")
@describe(response=schemas.JOB_LIST, query={"limit": schemas.LIMIT})
async def list_jobs(request: web.Request) -> web.Response:
    """Long work, newest first (attendants: their own)."""
    raw = request.query.get("limit", "50")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= 200):
        raise InvalidInput("limit must be a whole number from 1 to 200", field="limit")
    return web.json_response(await request.app[SERVICE].jobs_list(principal(request), int(raw)))


@routes.get("/api/v1/settings")
@describe(response=schemas.SETTINGS_LIST)
async def get_settings(request: web.Request) -> web.Response:
    """Every setting: value, default, help, environment variable, restart needed (admin; secrets
    are never shown)."""
    return web.json_response(await request.app[SERVICE].get_settings(principal(request)))


@routes.patch("/api/v1/settings")
@describe(body=schemas.settings_patch, response=schemas.SETTINGS_CHANGED)
async def patch_settings(request: web.Request) -> web.Response:
    """Change settings (admin): saved to settings.toml; the answer says which apply now and which
    after a restart."""
    body = await read_json(request)
    return web.json_response(await request.app[SERVICE].patch_settings(principal(request), body))


@routes.get("/api/v1/audit")
@describe(
    response=schemas.AUDIT_PAGE,
    query={
        "from": schemas.MOMENT,
        "to": schemas.MOMENT,
        "actor": {**schemas.STR, "description": "a user id or username"},
        "action": {**schemas.STR, "description": "an action, or a prefix ending in `.` (e.g. `user.`)"},
        "cursor": schemas.STR,
        "limit": schemas.LIMIT,
    },
)
async def audit(request: web.Request) -> web.Response:
    """Who changed what, when, from which device; newest first, paged (admin)."""
    return web.json_response(await request.app[SERVICE].audit_page(principal(request), dict(request.query)))
