"""Batch lead import: pasted text or CSV (JSON body or a multipart file upload)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.errors import BodyTooLarge, InvalidInput
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, SETTINGS, principal
from desktop.server.openapi import describe
from desktop.usecases import access

routes = web.RouteTableDef()


@routes.post("/api/v1/contacts/import")
@describe(ok=202, body=schemas.CONTACT_IMPORT, response=schemas.JOB)
async def import_contacts(request: web.Request) -> web.Response:
    """Import leads (admin) as a job; with dry_run the job only previews (GET /jobs/{id}).

    Also takes multipart/form-data with a CSV `file` (UTF-8 or Windows-1252) and `dry_run`.
    """
    p = principal(request)
    access.require_admin(p)  # before the body is read
    svc = request.app[SERVICE]
    if request.content_type == "multipart/form-data":
        raw, dry_run = await _read_upload(request)
        out = await svc.import_contacts_file(p, raw, dry_run)
    else:
        out = await svc.import_contacts(p, await read_json(request))
    return web.json_response(out, status=202)


async def _read_upload(request: web.Request) -> tuple[bytes, bool]:
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
        raise InvalidInput("send the CSV as the form's file field", field="file")
    raw = upload.file.read()
    flag = str(form.get("dry_run", "false")).strip().lower()
    if flag not in ("true", "false", "1", "0"):
        raise InvalidInput("dry_run must be true or false", field="dry_run")
    return raw, flag in ("true", "1")
