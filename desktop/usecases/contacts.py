"""The CRM cards: list, read, edit, and erase a contact with all its data (LGPD)."""

from __future__ import annotations

import logging
from typing import Any

from desktop import pipeline, validation
from desktop.auth import Principal
from desktop.errors import Forbidden, InvalidInput, PreconditionFailed
from desktop.store import accounts, chats, reports, timeline
from desktop.store.database import Store
from desktop.usecases import access, audit
from desktop.usecases.analysis import Analyses
from desktop.usecases.learning import Learning
from desktop.usecases.runtime import Runtime

log = logging.getLogger(__name__)


def etag(contact: dict[str, Any]) -> str:
    """The card's version for `ETag`/`If-Match`: every change to a contact sets updated_at."""
    return f'"{contact["updated_at"]:.6f}"'


class Contacts:
    def __init__(self, rt: Runtime, analyses: Analyses, learning: Learning):
        self.rt = rt
        self.analyses = analyses
        self.learning = learning

    async def page(self, principal: Principal) -> dict[str, Any]:
        owner = None if principal.is_admin else principal.user_id
        return {"items": await self.rt.db(reports.contacts, owner)}

    async def get(self, principal: Principal, contact_id: str) -> dict[str, Any]:
        await access.check_contact(self.rt, principal, contact_id)
        return await self.rt.db(chats.contact, contact_id)

    async def patch(
        self, principal: Principal, contact_id: str, body: Any, if_match: str | None = None
    ) -> dict[str, Any]:
        """`if_match`: the ETag the client read (None or "*": no check); a stale one → 412."""
        await access.check_contact(self.rt, principal, contact_id)
        changes = validation.contact_patch(body, pipeline.STAGES)
        if "owner_id" in changes and not principal.is_admin:
            raise Forbidden("only an admin can change the owner", code="role_not_allowed")
        if changes.get("owner_id") and not await self.rt.db(accounts.user_exists, changes["owner_id"]):
            raise InvalidInput("owner names no user", field="owner")

        def update(store: Store) -> dict[str, Any]:
            # On the one database thread: nothing can change the card between this check and the write.
            before = chats.contact(store, contact_id)
            if if_match not in (None, "*") and if_match != etag(before):
                raise PreconditionFailed(
                    "someone else changed this contact since you opened it", code="contact_changed"
                )
            out = chats.update_contact(store, contact_id, changes)
            if "stage" in changes and changes["stage"] != before["stage"]:
                timeline.add_event(store, None, contact_id, "stage", changes["stage"], principal.user_id)
            audit.entry(store, principal, "contact.update", contact_id, audit.fields_detail(changes))
            return out

        return await self.rt.db(update)

    async def erase(self, principal: Principal, contact_id: str) -> None:
        """Erase a contact and all its data (admins); the team adapters forget its corrections."""
        access.require_admin(principal)
        conv_ids = await self.rt.db(reports.conversation_ids_of_contact, contact_id)
        team = self.analyses.team

        def erase(store: Store) -> dict[str, int]:
            out = chats.erase_contact(store, contact_id)
            if team is not None:  # in the same database job: no analysis in between retrieves them
                team.forget(store, conv_ids)
            return out

        removed = await self.rt.db(erase)
        self.analyses.cancel(conv_ids)
        engine = self.rt.engine
        if engine and engine.state == "ready":
            engine.clear_state_cache()  # the model's cached reading of the chat goes too
        await self.rt.db(audit.entry, principal, "contact.erase", contact_id)
        log.info("contact erased: %s", removed)
        if removed["label_corrections"]:
            self.learning.retrain()
