"""Pause and resume analysis (admin): the desktop tray's menu item."""

from __future__ import annotations

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()
ANALYSIS_STATE = schemas.obj(("paused",), paused={"type": "boolean"})
ANALYSIS_PUT = schemas.obj(("paused",), closed=True, paused={"type": "boolean"})


@routes.get("/api/v1/analysis")
@describe(response=ANALYSIS_STATE)
async def analysis_state(request: web.Request) -> web.Response:
    """Whether analysis is paused (admin)."""
    return web.json_response(request.app[SERVICE].analysis_pause.state(principal(request)))


@routes.put("/api/v1/analysis")
@describe(body=ANALYSIS_PUT, response=ANALYSIS_STATE)
async def set_analysis(request: web.Request) -> web.Response:
    """Pause or resume analysis (admin). While paused, captures are stored and their analysis
    answers `unavailable` with the error code `analysis_paused`; a restart resumes."""
    body = await read_json(request)
    return web.json_response(await request.app[SERVICE].analysis_pause.set(principal(request), body))
