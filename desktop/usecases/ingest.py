"""Captures from the extension: store what is new, and queue an analysis when the customer wrote."""

from __future__ import annotations

import logging
from typing import Any

from desktop import validation
from desktop.auth import Principal
from desktop.store import chats, timeline
from desktop.store.database import Store
from desktop.usecases.analysis import Analyses
from desktop.usecases.runtime import Runtime

log = logging.getLogger(__name__)


class Ingest:
    def __init__(self, rt: Runtime, analyses: Analyses):
        self.rt = rt
        self.analyses = analyses

    async def ingest(self, principal: Principal, body: Any) -> dict[str, Any]:
        s = self.rt.settings
        capture = validation.capture(body, max_messages=s.max_messages, max_text_chars=s.max_text_chars)
        status = self.analyses.status()
        # One database job: the messages, and the queued insight when the customer wrote.
        stored, prepared = await self.rt.db(self._store, capture, principal.user_id, status)
        if stored.new_messages == 0:
            analysis = "unchanged"
        elif prepared is None:
            analysis = "skipped"
        else:
            analysis = self.analyses.submit(stored.conversation_id, prepared, status)
        log.info("capture conv=%s new=%d analysis=%s", stored.conversation_id, stored.new_messages, analysis)
        return {"conversation_id": stored.conversation_id, "new_messages": stored.new_messages, "analysis": analysis}

    def _store(self, store: Store, capture: dict, user_id: str, status: dict) -> tuple[Any, tuple | None]:
        stored = chats.store_capture(store, capture, user_id)
        if stored.new_incoming:
            timeline.reopen_if_resolved(store, stored.conversation_id, user_id)
        # Only the attendant's messages make new pairs; a customer's own only waits for a reply.
        if stored.new_messages > stored.new_incoming and self.analyses.team is not None:
            self.analyses.team.refresh(store, stored.conversation_id)
        if stored.new_incoming == 0:
            return stored, None
        return stored, self.analyses.prepare(store, stored.conversation_id, status)
