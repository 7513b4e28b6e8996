"""Reading conversations and their insights, the live stream, status changes, suggestion feedback."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from zoneinfo import ZoneInfo

from desktop import pipeline
from desktop.auth import Principal
from desktop.errors import InvalidInput, NotFound
from desktop.metrics import instant
from desktop.store import chats, insights, reports, timeline
from desktop.store.database import Store
from desktop.usecases import access, audit
from desktop.usecases.analysis import Analyses, insight_out
from desktop.usecases.runtime import Runtime


class Conversations:
    def __init__(self, rt: Runtime, analyses: Analyses):
        self.rt = rt
        self.analyses = analyses

    async def page(self, principal: Principal, cursor: str | None, limit: int) -> dict[str, Any]:
        owner = None if principal.is_admin else principal.user_id

        def read(store: Store) -> dict[str, Any]:
            page = reports.conversations_page(store, owner, cursor, limit)
            open_ids = [c["id"] for c in page["items"] if c["status"] != "resolved"]
            since = reports.waiting_since(store, open_ids)
            tz, now = ZoneInfo(self.rt.settings.timezone), time.time()
            for c in page["items"]:
                at = instant(since.get(c["id"]), tz)
                c["waiting_seconds"] = round(max(0.0, now - at)) if at is not None else None
            return page

        return await self.rt.db(read)

    async def get(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        row = await access.conversation(self.rt, principal, conversation_id)

        def read(store: Store) -> dict[str, Any]:
            return {
                "id": row["id"],
                "title": store.unseal(row["title"], "conversations", "title", row["id"]),
                "status": row["status"],
                "is_group": bool(row["is_group"]),
                "verified": bool(row["verified"]),
                "contact": chats.contact(store, row["contact_id"]),
                "messages": chats.messages(store, row["id"], row["kid"]),
            }

        return await self.rt.db(read)

    async def set_status(self, principal: Principal, conversation_id: str, body: Any) -> dict[str, Any]:
        row = await access.conversation(self.rt, principal, conversation_id)
        status = body.get("status") if isinstance(body, dict) else None
        if status not in pipeline.STATUSES:
            raise InvalidInput("status must be one of " + ", ".join(pipeline.STATUSES), field="status")

        def change(store: Store) -> None:
            chats.set_status(store, conversation_id, status)
            timeline.add_event(store, conversation_id, row["contact_id"], "status", status, principal.user_id)
            audit.entry(store, principal, "conversation.status", conversation_id, f"status={status}")

        await self.rt.db(change)
        return {"id": conversation_id, "status": status}

    async def analyze_now(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        await access.conversation(self.rt, principal, conversation_id)
        return {"conversation_id": conversation_id, "analysis": await self.analyses.schedule(conversation_id)}

    async def insight(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        await access.conversation(self.rt, principal, conversation_id)
        latest = await self.rt.db(insights.latest, conversation_id)
        if latest is None:
            raise NotFound("no analysis was ever requested for this conversation", code="no_insight")
        return insight_out(latest)

    async def insight_history(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        await access.conversation(self.rt, principal, conversation_id)
        return {"items": await self.rt.db(insights.history, conversation_id)}

    async def subscribe(self, principal: Principal, conversation_id: str) -> asyncio.Queue:
        await access.conversation(self.rt, principal, conversation_id)
        return self.rt.broker.subscribe(conversation_id)

    async def feedback(self, principal: Principal, suggestion_id: str, body: Any) -> None:
        action = body.get("action") if isinstance(body, dict) else None
        if action not in ("inserted", "sent", "edited", "dismissed"):
            raise InvalidInput("action must be inserted, sent, edited or dismissed", field="action")
        row = await self.rt.db(reports.insight_owner, suggestion_id.rsplit(".", 1)[0])
        if row is None:
            raise NotFound("suggestion not found")
        await access.conversation(self.rt, principal, row["conversation_id"])
        await self.rt.db(insights.add_feedback, suggestion_id, principal.user_id, action)
