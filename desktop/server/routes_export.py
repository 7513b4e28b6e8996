"""Exports (admin, audited): CSV streamed for Power BI / Excel, and a contact's dossier (LGPD)."""

from __future__ import annotations

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.server.keys import SERVICE, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()
CSV_TYPE = "text/csv"


@routes.get("/api/v1/contacts/{id}/export")
@describe(response=schemas.CONTACT_EXPORT)
async def export_contact(request: web.Request) -> web.Response:
    """Everything held about a contact, decrypted, as JSON (admin; LGPD access request)."""
    out = await request.app[SERVICE].export_contact(principal(request), request.match_info["id"])
    return web.json_response(
        out, headers={"Content-Disposition": f'attachment; filename="contact-{out["contact"]["id"]}.json"'}
    )


async def _csv(request: web.Request, kind: str) -> web.StreamResponse:
    # Checked and audited before the first byte: a refusal is still a JSON error.
    chunks = await request.app[SERVICE].export_csv(principal(request), kind, dict(request.query))
    resp = web.StreamResponse(
        headers={
            "Content-Type": f"{CSV_TYPE}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{kind}.csv"',
            "Cache-Control": "no-store",
        }
    )
    await resp.prepare(request)
    async for chunk in chunks:
        await resp.write(chunk)
    await resp.write_eof()
    return resp


_CSV_QUERY = {"sep": schemas.SEP}


@routes.get("/api/v1/export/contacts.csv")
@describe(response=schemas.CSV, content_type=CSV_TYPE, query=_CSV_QUERY)
async def export_contacts(request: web.Request) -> web.StreamResponse:
    """Contacts as CSV (admin): one row per contact."""
    return await _csv(request, "contacts")


@routes.get("/api/v1/export/conversations.csv")
@describe(response=schemas.CSV, content_type=CSV_TYPE, query=_CSV_QUERY)
async def export_conversations(request: web.Request) -> web.StreamResponse:
    """Conversations as CSV (admin): one row per conversation, with its last labels."""
    return await _csv(request, "conversations")


@routes.get("/api/v1/export/insights.csv")
@describe(response=schemas.CSV, content_type=CSV_TYPE, query=_CSV_QUERY)
async def export_insights(request: web.Request) -> web.StreamResponse:
    """Insights as CSV (admin): one row per analysis, labels and scores only."""
    return await _csv(request, "insights")
