"""The knowledge base (admin): FAQ, policies and catalogues the suggestions draw on."""

from __future__ import annotations

import asyncio

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.errors import BodyTooLarge, InvalidInput
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, SETTINGS, principal
from desktop.server.openapi import describe
from desktop.usecases import access
from desktop.usecases.knowledge import read_body, read_file

routes = web.RouteTableDef()


async def _read_upload(request: web.Request) -> tuple[str, str, str, str | None]:
    settings = request.app[SETTINGS]
    try:
        form = await asyncio.wait_for(request.post(), settings.body_timeout)
    except TimeoutError:
        raise InvalidInput("request body not received in time", code="body_timeout") from None
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLarge(f"body is larger than {settings.max_body_bytes} bytes") from None
    except ValueError as e:  # a malformed multipart body
        raise InvalidInput(f"malformed form: {str(e)[:80]}", code="invalid_body", field="file") from None
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise InvalidInput("send the document as the form's file field", field="file")
    title = form.get("title")
    filename = upload.filename or ""
    out = read_file(filename, upload.content_type, upload.file.read(), title if isinstance(title, str) else None)
    return (*out, filename or None)


@routes.get("/api/v1/knowledge")
@describe(response=schemas.KNOWLEDGE_LIST)
async def list_knowledge(request: web.Request) -> web.Response:
    """The knowledge base's documents: title, kind, passages (admin)."""
    return web.json_response(await request.app[SERVICE].knowledge.list(principal(request)))


@routes.post("/api/v1/knowledge")
@describe(ok=201, body=schemas.KNOWLEDGE_BODY, response=schemas.KNOWLEDGE_DOC)
async def create_knowledge(request: web.Request) -> web.Response:
    """Add a document (admin): {"title","text"} or {"title","csv"} (a catalogue with a header row).

    Also takes multipart/form-data with a `file` (.txt, .md, .pdf, .csv) and an optional `title`
    (default: the file's name)."""
    p = principal(request)
    access.require_admin(p)  # before the body is read
    if request.content_type == "multipart/form-data":
        title, kind, source, filename = await _read_upload(request)
    else:
        (title, kind, source), filename = read_body(await read_json(request)), None
    out = await request.app[SERVICE].knowledge.save(p, title, kind, source, filename=filename)
    return web.json_response(out, status=201)


@routes.get("/api/v1/knowledge/search")
@describe(response=schemas.KNOWLEDGE_HITS, query={"q": schemas.TEXT, "limit": schemas.LIMIT})
async def search_knowledge(request: web.Request) -> web.Response:
    """The passages an analysis would retrieve for a customer's words (admin preview)."""
    raw = request.query.get("limit", "5")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 2 and 1 <= int(raw) <= 20):
        raise InvalidInput("limit must be a whole number from 1 to 20", field="limit")
    kb = request.app[SERVICE].knowledge
    return web.json_response(await kb.preview(principal(request), request.query.get("q"), int(raw)))


@routes.get("/api/v1/knowledge/{id}")
@describe(response=schemas.KNOWLEDGE_DOC_FULL)
async def get_knowledge(request: web.Request) -> web.Response:
    """A document with its text (or CSV) and its passages (admin)."""
    return web.json_response(await request.app[SERVICE].knowledge.get(principal(request), request.match_info["id"]))


@routes.put("/api/v1/knowledge/{id}")
@describe(body=schemas.KNOWLEDGE_BODY, response=schemas.KNOWLEDGE_DOC)
async def replace_knowledge(request: web.Request) -> web.Response:
    """Replace a document's title and content (admin; JSON or a multipart `file`, as for POST)."""
    p = principal(request)
    access.require_admin(p)
    if request.content_type == "multipart/form-data":
        title, kind, source, filename = await _read_upload(request)
    else:
        (title, kind, source), filename = read_body(await read_json(request)), None
    doc_id = request.match_info["id"]
    out = await request.app[SERVICE].knowledge.save(p, title, kind, source, filename=filename, doc_id=doc_id)
    return web.json_response(out)


@routes.delete("/api/v1/knowledge/{id}")
@describe(ok=204)
async def delete_knowledge(request: web.Request) -> web.Response:
    """Remove a document and its passages (admin)."""
    await request.app[SERVICE].knowledge.delete(principal(request), request.match_info["id"])
    return web.Response(status=204)
