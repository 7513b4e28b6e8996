"""Models (admin): the list with GGUF metadata, download, import, switch, test."""

from __future__ import annotations

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()


@routes.get("/api/v1/models")
@describe(response=schemas.MODEL_LIST)
async def list_models(request: web.Request) -> web.Response:
    """The catalogue and every GGUF in the models folder, with metadata read from each file, the
    active model and whether this machine has the memory to run each."""
    return web.json_response(await request.app[SERVICE].models.list(principal(request)))


@routes.post("/api/v1/models/download")
@describe(ok=202, body=schemas.MODEL_DOWNLOAD, response=schemas.JOB)
async def download_model(request: web.Request) -> web.Response:
    """Download a catalogue model (or a GGUF at an https URL) as a job: resumable, space-checked,
    hash- and GGUF-checked before it is listed."""
    body = await read_json(request)
    return web.json_response(await request.app[SERVICE].models.download(principal(request), body), status=202)


@routes.post("/api/v1/models/import")
@describe(ok=202, body=schemas.MODEL_IMPORT, response=schemas.JOB)
async def import_model(request: web.Request) -> web.Response:
    """Copy a GGUF from a path on the server's machine into the models folder, as a job."""
    body = await read_json(request)
    return web.json_response(await request.app[SERVICE].models.import_file(principal(request), body), status=202)


@routes.put("/api/v1/models/active")
@describe(body=schemas.MODEL_ACTIVE_REQUEST, response=schemas.ACTIVE_MODEL)
async def set_active_model(request: web.Request) -> web.Response:
    """Switch model and its settings: the new one is loaded and tried first while the old one serves;
    if it fails (422, the reason in the error) the old one keeps serving."""
    body = await read_json(request)
    return web.json_response(await request.app[SERVICE].models.set_active(principal(request), body))


@routes.post("/api/v1/models/test")
@describe(ok=202, body=schemas.MODEL_TEST_REQUEST, body_required=False, response=schemas.JOB)
async def test_model(request: web.Request) -> web.Response:
    """Run a sample analysis as a job; its result gives prompt and generation tokens/s."""
    body = await read_json(request, required=False)
    return web.json_response(await request.app[SERVICE].models.test(principal(request), body), status=202)
