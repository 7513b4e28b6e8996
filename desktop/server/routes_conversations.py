"""Captures, conversations, insights (with the SSE stream), feedback, contacts, metrics, jobs."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from desktop import api_schemas as schemas
from desktop.errors import InvalidInput, NotFound
from desktop.server.body import read_json
from desktop.server.keys import SERVICE, SESSIONS, principal
from desktop.server.openapi import describe
from desktop.usecases.contacts import etag

routes = web.RouteTableDef()
SSE_HEARTBEAT = 15.0
SSE_AUTH_CHECK = 5.0  # how often an open stream re-checks its device; it ends when its token expires


@routes.post("/api/v1/captures")
@describe(ok=202, body=schemas.capture, response=schemas.CAPTURE_RESULT)
async def post_capture(request: web.Request) -> web.Response:
    """Store what the extension read from the open chat; queues an analysis when the customer wrote."""
    body = await read_json(request)
    out = await request.app[SERVICE].ingest(principal(request), body)
    return web.json_response(out, status=202)


@routes.get("/api/v1/conversations")
@describe(response=schemas.CONVERSATION_PAGE, query={"limit": schemas.LIMIT, "cursor": schemas.STR})
async def list_conversations(request: web.Request) -> web.Response:
    """Conversations, newest first, with their last labels (attendants: their own)."""
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        raise InvalidInput("limit must be a number", field="limit") from None
    out = await request.app[SERVICE].list_conversations(principal(request), request.query.get("cursor"), limit)
    return web.json_response(out)


@routes.get("/api/v1/conversations/{id}")
@describe(response=schemas.CONVERSATION)
async def get_conversation(request: web.Request) -> web.Response:
    """One conversation with its contact and decrypted messages, oldest first."""
    return web.json_response(await request.app[SERVICE].get_conversation(principal(request), request.match_info["id"]))


@routes.patch("/api/v1/conversations/{id}")
@describe(body=schemas.STATUS, response=schemas.STATUS_RESULT)
async def patch_conversation(request: web.Request) -> web.Response:
    """Set the status: open, pending or resolved."""
    body = await read_json(request)
    out = await request.app[SERVICE].set_status(principal(request), request.match_info["id"], body)
    return web.json_response(out)


@routes.post("/api/v1/conversations/{id}/analyze")
@describe(ok=202, response=schemas.ANALYSIS_RESULT)
async def analyze(request: web.Request) -> web.Response:
    """Run the analysis again."""
    out = await request.app[SERVICE].analyze_now(principal(request), request.match_info["id"])
    return web.json_response(out, status=202)


@routes.get("/api/v1/conversations/{id}/insights")
@describe(response=schemas.INSIGHT)
async def insight(request: web.Request) -> web.Response:
    """The latest insight; state pending while one is queued or running."""
    return web.json_response(await request.app[SERVICE].insight(principal(request), request.match_info["id"]))


@routes.get("/api/v1/conversations/{id}/insights/history")
@describe(response=schemas.INSIGHT_HISTORY)
async def insight_history(request: web.Request) -> web.Response:
    """Past labels and scores, oldest first, for the trend."""
    out = await request.app[SERVICE].insight_history(principal(request), request.match_info["id"])
    return web.json_response(out)


@routes.post("/api/v1/conversations/{id}/labels")
@describe(ok=204, body=schemas.LABELS)
async def correct_labels(request: web.Request) -> web.Response:
    """A correction of sentiment and/or intent by the attendant."""
    body = await read_json(request)
    await request.app[SERVICE].correct_labels(principal(request), request.match_info["id"], body)
    return web.Response(status=204)


@routes.get("/api/v1/conversations/{id}/insights/stream")
@describe(response=schemas.SSE, content_type="text/event-stream")
async def insight_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: state, labels, suggestion (partial text), insight (final); `end` (reason
    token_expired or device_revoked) before the server closes it."""
    svc = request.app[SERVICE]
    sessions = request.app[SESSIONS]
    conv_id = request.match_info["id"]
    p = principal(request)
    queue = await svc.subscribe(p, conv_id)
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    try:
        await resp.prepare(request)
        try:
            latest = await svc.insight(p, conv_id)
        except NotFound:  # no insight yet: only live events will follow
            latest = None
        await _send(resp, "state", {"state": latest["state"] if latest else "none"})
        if latest and latest["state"] in ("ready", "unavailable"):
            await _send(resp, "insight", latest)
        quiet_since = time.monotonic()
        while True:
            # The token was checked once, at the start: a long-lived stream must not outlive it.
            left = p.expires_at - time.time()
            if left <= 0:
                await _send(resp, "end", {"reason": "token_expired"})
                break
            if not await sessions.device_active(p.device_id):
                await _send(resp, "end", {"reason": "device_revoked"})
                break
            try:
                event, data = await asyncio.wait_for(queue.get(), min(SSE_AUTH_CHECK, left))
            except TimeoutError:
                if time.monotonic() - quiet_since >= SSE_HEARTBEAT:
                    await resp.write(b": ping\n\n")
                    quiet_since = time.monotonic()
                continue
            await _send(resp, event, data)
            quiet_since = time.monotonic()
    except ConnectionResetError:  # the client went away; a cancellation (server stop) propagates
        pass
    finally:
        svc.broker.unsubscribe(conv_id, queue)
    return resp


async def _send(resp: web.StreamResponse, event: str, data) -> None:
    payload = json.dumps(data, ensure_ascii=False)
    await resp.write(f"event: {event}\ndata: {payload}\n\n".encode())


@routes.post("/api/v1/suggestions/{id}/feedback")
@describe(ok=204, body=schemas.FEEDBACK)
async def feedback(request: web.Request) -> web.Response:
    """What the attendant did with a suggestion: inserted, sent, edited or dismissed."""
    body = await read_json(request)
    await request.app[SERVICE].feedback(principal(request), request.match_info["id"], body)
    return web.Response(status=204)


@routes.get("/api/v1/contacts")
@describe(response=schemas.CONTACT_LIST)
async def list_contacts(request: web.Request) -> web.Response:
    """CRM cards (attendants: of their conversations)."""
    return web.json_response(await request.app[SERVICE].list_contacts(principal(request)))


@routes.get("/api/v1/contacts/{id}")
@describe(response=schemas.CONTACT)
async def get_contact(request: web.Request) -> web.Response:
    """One CRM card: name, phone, stage, value, tags, notes, owner; its version in `ETag`."""
    out = await request.app[SERVICE].get_contact(principal(request), request.match_info["id"])
    return web.json_response(out, headers={"ETag": etag(out)})


@routes.patch("/api/v1/contacts/{id}")
@describe(body=schemas.CONTACT_PATCH, response=schemas.CONTACT)
async def patch_contact(request: web.Request) -> web.Response:
    """Edit stage, value, tags, notes, name, phone (owner: admins only); a stale `If-Match` → 412."""
    body = await read_json(request)
    svc = request.app[SERVICE]
    out = await svc.contacts.patch(principal(request), request.match_info["id"], body, request.headers.get("If-Match"))
    return web.json_response(out, headers={"ETag": etag(out)})


@routes.delete("/api/v1/contacts/{id}")
@describe(ok=204)
async def erase_contact(request: web.Request) -> web.Response:
    """Erase the contact and all its data (admins; LGPD): its key is destroyed first."""
    await request.app[SERVICE].erase_contact(principal(request), request.match_info["id"])
    return web.Response(status=204)


@routes.get("/api/v1/metrics")
@describe(response=schemas.METRICS, query={"from": schemas.DAY, "to": schemas.DAY, "user": schemas.STR})
async def metrics(request: web.Request) -> web.Response:
    """Volumes, labels, response times, funnel, daily series, attendants, SLA, health (attendants: own).

    Also the top contacts by value and the at-risk list; the health formula is in desktop/health_score.py."""
    out = await request.app[SERVICE].metrics(principal(request), dict(request.query))
    return web.json_response(out)


@routes.get("/api/v1/jobs/{id}")
@describe(response=schemas.JOB)
async def get_job(request: web.Request) -> web.Response:
    """Progress of long work: state, done, total, message."""
    return web.json_response(await request.app[SERVICE].job(principal(request), request.match_info["id"]))


@routes.delete("/api/v1/jobs/{id}")
@describe(response=schemas.JOB)
async def cancel_job(request: web.Request) -> web.Response:
    """Cancel long work."""
    return web.json_response(await request.app[SERVICE].cancel_job(principal(request), request.match_info["id"]))


@routes.get("/api/v1/quick-replies")
@describe(response=schemas.QUICK_REPLY_LIST)
async def list_quick_replies(request: web.Request) -> web.Response:
    """Quick replies: shortcut, text (with {nome}), intents."""
    return web.json_response(await request.app[SERVICE].quick_replies())


@routes.post("/api/v1/quick-replies")
@describe(ok=201, body=schemas.QUICK_REPLY_CREATE, response=schemas.QUICK_REPLY)
async def create_quick_reply(request: web.Request) -> web.Response:
    """Create a quick reply (admin)."""
    body = await read_json(request)
    return web.json_response(await request.app[SERVICE].save_quick_reply(principal(request), body), status=201)


@routes.patch("/api/v1/quick-replies/{id}")
@describe(body=schemas.QUICK_REPLY_PATCH, response=schemas.QUICK_REPLY)
async def patch_quick_reply(request: web.Request) -> web.Response:
    """Edit a quick reply (admin)."""
    body = await read_json(request)
    out = await request.app[SERVICE].save_quick_reply(principal(request), body, request.match_info["id"])
    return web.json_response(out)


@routes.delete("/api/v1/quick-replies/{id}")
@describe(ok=204)
async def delete_quick_reply(request: web.Request) -> web.Response:
    """Delete a quick reply (admin)."""
    await request.app[SERVICE].delete_quick_reply(principal(request), request.match_info["id"])
    return web.Response(status=204)
