"""The attendant's day: hand-over, the queue, follow-ups and the contact's history (issue 14)."""

from __future__ import annotations

from aiohttp import web

from desktop import workflow_schemas as schemas
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, principal
from desktop.server.openapi import describe

routes = web.RouteTableDef()


@routes.post("/api/v1/conversations/{id}/transfer")
@describe(body=schemas.TRANSFER, response=schemas.TRANSFER_RESULT)
async def transfer(request: web.Request) -> web.Response:
    """Hand a conversation to another attendant, with a note (audited); 404 unknown user, 403 not yours."""
    body = await read_json(request)
    out = await request.app[SERVICE].workflow.transfer(principal(request), request.match_info["id"], body)
    return web.json_response(out)


@routes.get("/api/v1/attendants")
@describe(response=schemas.ATTENDANTS)
async def attendants(request: web.Request) -> web.Response:
    """Who a chat can be handed to: id and username of every active user (any signed-in user)."""
    return web.json_response(await request.app[SERVICE].workflow.attendants(principal(request)))


@routes.get("/api/v1/queue")
@describe(response=schemas.QUEUE, query=schemas.QUEUE_QUERY)
async def queue(request: web.Request) -> web.Response:
    """The caller's chats waiting for a reply (SLA first, then by wait band and mood), then due follow-ups.

    A chat waits from its first customer message that neither a reply nor a resolution followed; a
    chat handed over and not yet answered waits from the hand-over and carries its note. Admins may
    pass ?user=."""
    out = await request.app[SERVICE].workflow.queue(principal(request), dict(request.query))
    return web.json_response(out)


@routes.get("/api/v1/followups")
@describe(response=schemas.FOLLOWUP_LIST, query=schemas.FOLLOWUP_QUERY)
async def list_followups(request: web.Request) -> web.Response:
    """The caller's follow-ups, soonest first; ?due=true: the not-done ones whose time has come."""
    out = await request.app[SERVICE].workflow.list_followups(principal(request), dict(request.query))
    return web.json_response(out)


@routes.post("/api/v1/followups")
@describe(ok=201, body=schemas.FOLLOWUP_CREATE, response=schemas.FOLLOWUP)
async def create_followup(request: web.Request) -> web.Response:
    """A reminder on a conversation the caller can see; the note is stored encrypted."""
    body = await read_json(request)
    out = await request.app[SERVICE].workflow.create_followup(principal(request), body)
    return web.json_response(out, status=201)


@routes.patch("/api/v1/followups/{id}")
@describe(body=schemas.FOLLOWUP_PATCH, response=schemas.FOLLOWUP)
async def patch_followup(request: web.Request) -> web.Response:
    """Snooze (due_at), edit the note, or mark done; only its author (or an admin)."""
    body = await read_json(request)
    out = await request.app[SERVICE].workflow.patch_followup(principal(request), request.match_info["id"], body)
    return web.json_response(out)


@routes.delete("/api/v1/followups/{id}")
@describe(ok=204)
async def delete_followup(request: web.Request) -> web.Response:
    """Delete a follow-up; only its author (or an admin)."""
    await request.app[SERVICE].workflow.delete_followup(principal(request), request.match_info["id"])
    return web.Response(status=204)


@routes.get("/api/v1/contacts/{id}/history")
@describe(response=schemas.CONTACT_HISTORY, query=schemas.HISTORY_QUERY)
async def contact_history(request: web.Request) -> web.Response:
    """The contact's past conversation periods, newest first and paged: summary, mood and intent over
    time, hand-overs with notes, stage changes, follow-ups (the panel's Histórico tab)."""
    out = await request.app[SERVICE].workflow.contact_history(
        principal(request), request.match_info["id"], dict(request.query)
    )
    return web.json_response(out)
