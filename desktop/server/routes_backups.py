"""Backups (admin, audited): list the encrypted backups in the data folder, make one, restore one."""

from __future__ import annotations

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.api_schemas import INT, NUMBER, STR, nullable, obj
from desktop.server.keys import SERVICE, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()

BACKUP_ITEM = obj(
    ("id", "file", "size", "readable"),
    id=STR,
    file=STR,
    size=INT,
    created_at=nullable(NUMBER),
    kind=nullable({"enum": ["manual", "auto"]}),
    key_id=nullable(STR),
    readable={"type": "boolean", "description": "made with this server's keys (a restore here can read it)"},
    error=nullable(STR),
)
BACKUP_LIST = obj(("folder", "items"), folder=STR, items={"type": "array", "items": BACKUP_ITEM})


@routes.get("/api/v1/backups")
@describe(response=BACKUP_LIST)
async def list_backups(request: web.Request) -> web.Response:
    """The encrypted backups in the data folder's `backups` folder, newest first."""
    return web.json_response(await request.app[SERVICE].backups.list(principal(request)))


@routes.post("/api/v1/backups")
@describe(ok=202, response=schemas.JOB)
async def create_backup(request: web.Request) -> web.Response:
    """Make an encrypted, consistent backup as a job (snapshot, encrypt, then read back and check);
    the key store copy beside it is refreshed, never put inside."""
    return web.json_response(await request.app[SERVICE].backups.create(principal(request)), status=202)


@routes.post("/api/v1/backups/{id}/restore")
@describe(ok=202, response=schemas.JOB)
async def restore_backup(request: web.Request) -> web.Response:
    """Restore a backup as a job: it is decrypted and checked first and replaces the live data only
    then; a backup made with other keys is refused (restore it with the CLI, server stopped)."""
    return web.json_response(
        await request.app[SERVICE].backups.restore(principal(request), request.match_info["id"]), status=202
    )
