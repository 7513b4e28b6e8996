"""Quick replies: every user reads them, admins write them."""

from __future__ import annotations

from typing import Any

from desktop import validation
from desktop.auth import Principal
from desktop.errors import NotFound
from desktop.store import quick_replies
from desktop.store.database import Store
from desktop.usecases import access, audit
from desktop.usecases.runtime import Runtime
from llm.tasks import INTENTS


class QuickReplies:
    def __init__(self, rt: Runtime):
        self.rt = rt

    async def all(self) -> dict[str, Any]:
        return {"items": await self.rt.db(quick_replies.all_replies)}

    async def save(self, principal: Principal, body: Any, reply_id: str | None = None) -> dict[str, Any]:
        access.require_admin(principal)
        data = validation.quick_reply(body, INTENTS, partial=reply_id is not None)
        if reply_id:
            current = next((q for q in await self.rt.db(quick_replies.all_replies) if q["id"] == reply_id), None)
            if current is None:
                raise NotFound("quick reply not found")
            data = {**{k: current[k] for k in ("shortcut", "text", "intents")}, **data}

            def update(store: Store) -> dict[str, Any]:
                out = quick_replies.upsert(
                    store, data["shortcut"], data["text"], data["intents"], principal.user_id, reply_id
                )
                audit.entry(store, principal, "quick_reply.update", reply_id)
                return out

            return await self.rt.db(update)

        def create(store: Store) -> dict[str, Any]:
            out = quick_replies.create(store, data["shortcut"], data["text"], data["intents"], principal.user_id)
            audit.entry(store, principal, "quick_reply.create", out["id"])
            return out

        return await self.rt.db(create)

    async def delete(self, principal: Principal, reply_id: str) -> None:
        access.require_admin(principal)

        def delete(store: Store) -> None:
            quick_replies.delete(store, reply_id)
            audit.entry(store, principal, "quick_reply.delete", reply_id)

        await self.rt.db(delete)
