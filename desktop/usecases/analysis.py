"""Scheduling analyses on the model and storing their results; live events go to the broker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from desktop.store import chats, insights, quick_replies
from desktop.store.database import Store
from desktop.usecases.grounding import customer_query
from desktop.usecases.knowledge import KnowledgeBase
from desktop.usecases.runtime import Runtime
from desktop.usecases.team_replies import TeamReplies
from llm.analysis import AnalysisRequest, analyze
from llm.errors import LLMError

log = logging.getLogger(__name__)
PASSAGES = 4  # knowledge passages handed to an analysis (best first)
TEAM_REPLIES = 5  # past team replies handed to an analysis (best first, other chats only)


class Analyses:
    def __init__(
        self,
        rt: Runtime,
        adapters: Callable[[], dict[str, Any]],
        knowledge: KnowledgeBase | None = None,
        team: TeamReplies | None = None,
    ):
        self.rt = rt
        self.knowledge = knowledge
        self.team = team
        self._adapters = adapters  # the team's label adapters as they are when an analysis is prepared
        # conversation id -> (insight id being produced, the engine job producing it)
        self._pending: dict[str, tuple[str, Any]] = {}
        # Paused from the desktop window or tray (not persisted: a restart resumes): captures are
        # still stored, their insight says why none was produced.
        self.paused = False
        self._retrieved: dict[str, dict[str, Any]] = {}  # insight id -> what its request carried

    def status(self) -> dict[str, Any]:
        """The model's state as analyses see it: unavailable while analysis is paused."""
        status = self.rt.model_status()
        if self.paused:
            return {**status, "state": "unavailable",
                    "error": {"code": "analysis_paused", "message": "analysis is paused in the desktop app"}}
        return status

    async def startup(self) -> None:
        n = await self.rt.db(insights.mark_abandoned)
        if n:
            log.info("marked %d interrupted analyses unavailable", n)

    async def schedule(self, conversation_id: str) -> str:
        """Queue an analysis of the conversation's current messages; returns queued|unavailable."""
        status = self.status()
        prepared = await self.rt.db(self.prepare, conversation_id, status)
        return self.submit(conversation_id, prepared, status)

    def prepare(self, store: Store, conversation_id: str, status: dict) -> tuple[str, AnalysisRequest | None, str]:
        """On the database thread: a pending insight and everything the model needs."""
        iid = insights.create(store, conversation_id, None, status["id"])
        if status["state"] == "unavailable":
            insights.save(store, iid, None, {"state": "unavailable", "error": status["error"]})
            return iid, None, ""
        req, kid = self._request(store, conversation_id, iid)
        return iid, req, kid

    def submit(self, conversation_id: str, prepared: tuple, status: dict) -> str:
        """On the loop, without awaiting: the pending map cannot change under us."""
        iid, req, kid = prepared
        if req is None:
            self.rt.broker.publish(conversation_id, "state", {"state": "unavailable", "error": status["error"]})
            return "unavailable"
        old = self._pending.get(conversation_id)
        if old and old[0] != iid:
            # The older job is replaced (queued) or cancelled (running): its insight never completes.
            self.rt.background(self.rt.db(insights.discard, old[0]))
            self._retrieved.pop(old[0], None)
        post, publish = self.rt.post, self.rt.broker.publish

        def on_labels(labels: dict) -> None:
            post(self._labels_ready, conversation_id, iid, kid, labels)

        def on_partial(index: int, text: str) -> None:
            post(publish, conversation_id, "suggestion", {"index": index, "text": text})

        queued_at = time.monotonic()

        def work(llama: Any, cancelled: Callable[[], bool]) -> dict:
            started = time.monotonic()
            result = analyze(llama, req, cancelled, on_labels, on_partial)
            result["timings"]["queued_ms"] = round((started - queued_at) * 1000)
            return result

        assert self.rt.engine is not None
        job = self.rt.engine.submit(conversation_id, work)
        self._pending[conversation_id] = (iid, job)
        job.future.add_done_callback(lambda _f: post(self._finish, conversation_id, kid, job))
        self.rt.broker.publish(conversation_id, "state", {"state": "pending"})
        return "queued"

    def pending_ids(self) -> list[str]:
        return list(self._pending)

    def cancel(self, conversation_ids: list[str]) -> None:
        """Stop the pending analyses of these conversations (their contact was erased)."""
        for conv_id in conversation_ids:
            pending = self._pending.pop(conv_id, None)
            if pending:
                pending[1].cancel_event.set()
                self._retrieved.pop(pending[0], None)

    def _request(self, store: Store, conversation_id: str, iid: str) -> tuple[AnalysisRequest, str]:
        row = chats.conversation_row(store, conversation_id)
        msgs = chats.messages(store, conversation_id, row["kid"], limit=60)
        contact = chats.contact(store, row["contact_id"])
        req = AnalysisRequest(
            messages=msgs,
            quick_replies=quick_replies.all_replies(store),
            contact_name=None if contact["is_group"] else contact["name"],
            temperature=self.rt.settings.temperature,
            max_tokens=self.rt.settings.max_suggestion_tokens,
            adapter=dict(self._adapters()) or None,
        )
        started = time.perf_counter()
        query = customer_query(msgs)
        team_ids: list[str] = []
        if query:
            if self.knowledge is not None:
                req.passages = self.knowledge.search(query, PASSAGES)
            if self.team is not None:
                found = self.team.search_ids(query, exclude_conversation=conversation_id, k=TEAM_REPLIES)
                team_ids = [mid for mid, _ in found]
                req.team_replies = [r for _, r in found]
        # What was retrieved, by id only (no text): shown in the insight's timings.
        self._retrieved[iid] = {
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "passages": [p.id for p in req.passages],
            "team_replies": team_ids,
        }
        if msgs:
            store.conn.execute("UPDATE insights SET analyzed_message_id=? WHERE id=?", (msgs[-1]["id"], iid))
        return req, row["kid"]

    def _labels_ready(self, conversation_id: str, iid: str, kid: str, labels: dict) -> None:
        if self._pending.get(conversation_id, ("",))[0] != iid:
            return
        self.rt.broker.publish(
            conversation_id, "labels", {"sentiment": labels["sentiment"], "intent": labels["intent"]}
        )
        self.rt.background(self.rt.db(insights.save, iid, kid, labels))

    def _finish(self, conversation_id: str, kid: str, job: Any) -> None:
        pending = self._pending.get(conversation_id)
        if pending is None or pending[1] is not job:
            return  # superseded by a newer capture of the same chat, which fills the same insight
        del self._pending[conversation_id]
        self.rt.background(self._store_result(conversation_id, pending[0], kid, job.future))

    async def _store_result(self, conversation_id: str, iid: str, kid: str, fut) -> None:
        exc = fut.exception()
        retrieved = self._retrieved.pop(iid, None)
        if exc is None:
            result = fut.result()
            if retrieved is not None:
                result["timings"]["retrieval"] = retrieved
            sources = result.get("suggestion_sources") or [None] * len(result["suggestions"])
            cites = result.pop("suggestion_citations", None) or [[] for _ in result["suggestions"]]
            result["suggestions"] = [
                {"id": f"{iid}.{i}", "text": t, "source": src, "citations": cite}
                for i, (t, src, cite) in enumerate(zip(result["suggestions"], sources, cites, strict=True))
            ]
            result["state"] = "ready"
            result["error"] = None
            result["model"] = self.rt.model_status()["id"]
        else:
            err = exc if isinstance(exc, LLMError) else LLMError(str(exc))
            result = {"state": "unavailable", "error": {"code": err.code, "message": err.message}}
        await self.rt.db(insights.save, iid, kid, result)
        if self.team is not None and result.get("intent"):
            await self.rt.db(self.team.refresh, conversation_id)  # its pairs now know their intent
        latest = await self.rt.db(insights.latest, conversation_id)
        if latest is not None:  # None when the chat was merged into its real conversation meanwhile
            self.rt.broker.publish(conversation_id, "insight", insight_out(latest))


def insight_out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id"}
