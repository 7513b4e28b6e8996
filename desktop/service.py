"""Use cases: ingest captures, schedule analyses, read conversations, contacts, metrics, jobs.

No HTTP and no Tk here. Every store call runs on the single database thread (`self.db`), so
the server's loop never blocks on SQLite; model work runs on the engine's thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from desktop import metrics as metrics_calc
from desktop import team_adapter, validation
from desktop.auth import Principal
from desktop.config import Settings
from desktop.errors import Forbidden, InvalidInput, NotFound
from desktop.events import Broker
from desktop.store import accounts, chats, corrections, insights, jobs, quick_replies, reports
from desktop.store.database import Store
from desktop.store.writer import Writer
from llm import tasks
from llm.analysis import AnalysisRequest, analyze, customer_and_lang, turn_features
from llm.engine import Engine
from llm.errors import LLMError
from llm.tasks import INTENTS, SENTIMENTS

log = logging.getLogger(__name__)
T = TypeVar("T")


class Service:
    def __init__(self, settings: Settings, store: Store, engine: Engine | None):
        self.settings = settings
        self.store = store
        self.engine = engine
        self.broker = Broker()
        self._writer = Writer(store)
        self._loop: asyncio.AbstractEventLoop | None = None
        # conversation id -> (insight id being produced, the engine job producing it)
        self._pending: dict[str, tuple[str, Any]] = {}
        self._labeler: Callable[..., dict] | None = None
        self._adapters: dict[str, Any] = {}
        self._training: asyncio.Future | None = None
        self._retrain_again = False
        self._tasks: set[asyncio.Future] = set()

    # -- plumbing ------------------------------------------------------------------------
    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(store, …)` on the database thread (group-committed) and await it."""
        return await asyncio.wrap_future(self._writer.submit(fn, *args, **kwargs))

    async def startup(self) -> None:
        self.bind_loop(asyncio.get_running_loop())
        from llm.adapter import Adapter

        stale = False
        for task, blob in (await self.db(corrections.load_adapters)).items():
            try:
                self._adapters[task] = Adapter.from_bytes(blob)
            except ValueError:  # saved by an older version: learn again from the corrections
                stale = True
        pending = await self.db(corrections.pending_features)
        if pending:
            self._background(self._learn_pending(pending))
        elif stale or await self.db(corrections.needs_retrain):
            self.retrain()
        n = await self.db(insights.mark_abandoned)
        await self.db(jobs.fail_interrupted)
        if n:
            log.info("marked %d interrupted analyses unavailable", n)

    def shutdown(self) -> None:
        self._writer.close()

    def model_status(self) -> dict[str, Any]:
        if self.engine is None:
            return {
                "id": self.settings.model,
                "state": "unavailable",
                "error": {"code": "model_disabled", "message": "the model is disabled"},
            }
        return self.engine.status()

    # -- captures --------------------------------------------------------------------------
    async def ingest(self, principal: Principal, body: Any) -> dict[str, Any]:
        capture = validation.capture(
            body, max_messages=self.settings.max_messages, max_text_chars=self.settings.max_text_chars
        )
        status = self.model_status()
        # One database job: the messages, and the queued insight when the customer wrote.
        stored, prepared = await self.db(self._ingest_tx, capture, principal.user_id, status)
        if stored.new_messages == 0:
            analysis = "unchanged"
        elif prepared is None:
            analysis = "skipped"
        else:
            analysis = self._submit(stored.conversation_id, prepared, status)
        log.info("capture conv=%s new=%d analysis=%s", stored.conversation_id, stored.new_messages, analysis)
        return {"conversation_id": stored.conversation_id, "new_messages": stored.new_messages, "analysis": analysis}

    def _ingest_tx(self, store: Store, capture: dict, user_id: str, status: dict) -> tuple[Any, tuple | None]:
        stored = chats.store_capture(store, capture, user_id)
        if stored.new_incoming == 0:
            return stored, None
        return stored, self._prepare(store, stored.conversation_id, status)

    # -- analysis -----------------------------------------------------------------------------
    async def schedule_analysis(self, conversation_id: str) -> str:
        """Queue an analysis of the conversation's current messages; returns queued|unavailable."""
        status = self.model_status()
        prepared = await self.db(self._prepare, conversation_id, status)
        return self._submit(conversation_id, prepared, status)

    def _prepare(self, store: Store, conversation_id: str, status: dict) -> tuple[str, AnalysisRequest | None, str]:
        """On the database thread: a pending insight and everything the model needs."""
        iid = insights.create(store, conversation_id, None, status["id"])
        if status["state"] == "unavailable":
            insights.save(store, iid, None, {"state": "unavailable", "error": status["error"]})
            return iid, None, ""
        req, kid = self._analysis_request(store, conversation_id, iid)
        return iid, req, kid

    def _submit(self, conversation_id: str, prepared: tuple, status: dict) -> str:
        """On the loop, without awaiting: the pending map cannot change under us."""
        iid, req, kid = prepared
        if req is None:
            self.broker.publish(conversation_id, "state", {"state": "unavailable", "error": status["error"]})
            return "unavailable"
        old = self._pending.get(conversation_id)
        if old and old[0] != iid:
            # The older job is replaced (queued) or cancelled (running): its insight never completes.
            asyncio.ensure_future(self.db(insights.discard, old[0]))
        loop = asyncio.get_running_loop()
        publish = self.broker.publish

        def on_labels(labels: dict) -> None:
            loop.call_soon_threadsafe(self._labels_ready, conversation_id, iid, kid, labels)

        def on_partial(index: int, text: str) -> None:
            loop.call_soon_threadsafe(publish, conversation_id, "suggestion", {"index": index, "text": text})

        queued_at = time.monotonic()

        def work(llama: Any, cancelled: Callable[[], bool]) -> dict:
            started = time.monotonic()
            result = analyze(llama, req, cancelled, on_labels, on_partial, self._labeler)
            result["timings"]["queued_ms"] = round((started - queued_at) * 1000)
            return result

        assert self.engine is not None
        job = self.engine.submit(conversation_id, work)
        self._pending[conversation_id] = (iid, job)
        job.future.add_done_callback(lambda _f: loop.call_soon_threadsafe(self._finish, conversation_id, kid, job))
        self.broker.publish(conversation_id, "state", {"state": "pending"})
        return "queued"

    def _analysis_request(self, store: Store, conversation_id: str, iid: str) -> tuple[AnalysisRequest, str]:
        row = chats.conversation_row(store, conversation_id)
        msgs = chats.messages(store, conversation_id, row["kid"], limit=60)
        contact = chats.contact(store, row["contact_id"])
        adapter = dict(self._adapters) or None
        req = AnalysisRequest(
            messages=msgs,
            quick_replies=quick_replies.all_replies(store),
            contact_name=None if contact["is_group"] else contact["name"],
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_suggestion_tokens,
            adapter=adapter,
        )
        if msgs:
            store.conn.execute("UPDATE insights SET analyzed_message_id=? WHERE id=?", (msgs[-1]["id"], iid))
        return req, row["kid"]

    def _labels_ready(self, conversation_id: str, iid: str, kid: str, labels: dict) -> None:
        if self._pending.get(conversation_id, ("",))[0] != iid:
            return
        self.broker.publish(conversation_id, "labels", {"sentiment": labels["sentiment"], "intent": labels["intent"]})
        asyncio.ensure_future(self.db(insights.save, iid, kid, labels))

    def _finish(self, conversation_id: str, kid: str, job: Any) -> None:
        pending = self._pending.get(conversation_id)
        if pending is None or pending[1] is not job:
            return  # superseded by a newer capture of the same chat, which fills the same insight
        del self._pending[conversation_id]
        asyncio.ensure_future(self._store_result(conversation_id, pending[0], kid, job.future))

    async def _store_result(self, conversation_id: str, iid: str, kid: str, fut) -> None:
        exc = fut.exception()
        if exc is None:
            result = fut.result()
            sources = result.get("suggestion_sources") or [None] * len(result["suggestions"])
            result["suggestions"] = [
                {"id": f"{iid}.{i}", "text": t, "source": src}
                for i, (t, src) in enumerate(zip(result["suggestions"], sources, strict=True))
            ]
            result["state"] = "ready"
            result["error"] = None
            result["model"] = self.model_status()["id"]
        else:
            err = exc if isinstance(exc, LLMError) else LLMError(str(exc))
            result = {"state": "unavailable", "error": {"code": err.code, "message": err.message}}
        await self.db(insights.save, iid, kid, result)
        latest = await self.db(insights.latest, conversation_id)
        if latest is not None:  # None when the chat was merged into its real conversation meanwhile
            self.broker.publish(conversation_id, "insight", _insight_out(latest))

    # -- conversations -------------------------------------------------------------------------
    async def _conversation(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        row = await self.db(chats.conversation_row, conversation_id)
        if not principal.is_admin and chats.effective_owner(row) != principal.user_id:
            raise NotFound("conversation not found")
        return row

    async def list_conversations(self, principal: Principal, cursor: str | None, limit: int) -> dict[str, Any]:
        owner = None if principal.is_admin else principal.user_id
        return await self.db(reports.conversations_page, owner, cursor, limit)

    async def get_conversation(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        row = await self._conversation(principal, conversation_id)

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

        return await self.db(read)

    async def set_status(self, principal: Principal, conversation_id: str, body: Any) -> dict[str, Any]:
        await self._conversation(principal, conversation_id)
        status = body.get("status") if isinstance(body, dict) else None
        if status not in chats.STATUSES:
            raise InvalidInput("status must be one of " + ", ".join(chats.STATUSES), field="status")
        await self.db(chats.set_status, conversation_id, status)
        return {"id": conversation_id, "status": status}

    async def analyze_now(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        await self._conversation(principal, conversation_id)
        return {"conversation_id": conversation_id, "analysis": await self.schedule_analysis(conversation_id)}

    async def insight(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        await self._conversation(principal, conversation_id)
        latest = await self.db(insights.latest, conversation_id)
        if latest is None:
            raise NotFound("no analysis was ever requested for this conversation", code="no_insight")
        return _insight_out(latest)

    async def insight_history(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        await self._conversation(principal, conversation_id)
        return {"items": await self.db(insights.history, conversation_id)}

    async def subscribe(self, principal: Principal, conversation_id: str) -> asyncio.Queue:
        await self._conversation(principal, conversation_id)
        return self.broker.subscribe(conversation_id)

    async def feedback(self, principal: Principal, suggestion_id: str, body: Any) -> None:
        action = body.get("action") if isinstance(body, dict) else None
        if action not in ("inserted", "sent", "edited", "dismissed"):
            raise InvalidInput("action must be inserted, sent, edited or dismissed", field="action")
        row = await self.db(reports.insight_owner, suggestion_id.rsplit(".", 1)[0])
        if row is None:
            raise NotFound("suggestion not found")
        await self._conversation(principal, row["conversation_id"])
        await self.db(insights.add_feedback, suggestion_id, principal.user_id, action)

    async def correct_labels(self, principal: Principal, conversation_id: str, body: Any) -> None:
        """Store a correction, compute what the adapter learns from, and retrain in the background."""
        row = await self._conversation(principal, conversation_id)
        if not isinstance(body, dict) or not ({"sentiment", "intent"} & body.keys()):
            raise InvalidInput("give sentiment and/or intent", field="body")
        for task, allowed in (("sentiment", SENTIMENTS), ("intent", INTENTS)):
            if task in body and body[task] not in allowed:
                raise InvalidInput(f"{task} must be one of " + ", ".join(allowed), field=task)
        labels = {k: body[k] for k in ("sentiment", "intent") if k in body}
        msgs = await self.db(chats.messages, conversation_id, row["kid"], 60)
        turns = tasks.turns_from_messages(msgs)
        if not any(t.direction == "in" for t in turns):
            raise InvalidInput("this conversation has no customer message to learn from", field="body")
        text, lang = customer_and_lang(turns)
        ids = await self.db(corrections.add, row, principal.user_id, labels, text, lang)
        # Features need the model, which may be busy: the correction is stored now, learnt from soon.
        self._background(self._learn(ids, row["kid"], turns))

    async def _learn(self, ids: list[str], kid: str, turns: list) -> None:
        if self.engine and self.engine.state == "ready":
            job = self.engine.submit(f"features-{ids[0]}", lambda llama, cancelled: turn_features(llama, turns))
            feats = await asyncio.wrap_future(job.future)
        else:
            feats = turn_features(None, turns)
        await self.db(corrections.set_features, ids, kid, feats)
        self.retrain()

    async def _learn_pending(self, pending: list[tuple[str, str, str, str]]) -> None:
        """Features of corrections stored just before a stop: nothing a team taught is lost."""
        from llm.labels import features

        if self.engine:
            await asyncio.to_thread(self.engine.wait_ready, 300)
        for cid, kid, text, lang in pending:
            if self.engine and self.engine.state == "ready":
                job = self.engine.submit(f"features-{cid}", lambda llama, c, t=text, lg=lang: features(t, lg, llama))
                feats = await asyncio.wrap_future(job.future)
            else:
                feats = features(text, lang, None)
            await self.db(corrections.set_features, [cid], kid, feats)
        self.retrain()

    def _background(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception():
            log.error("background task failed: %s", type(task.exception()).__name__)

    def retrain(self) -> None:
        """Retrain the adapters from every correction; a request while training runs it once more after."""
        if self._training:
            self._retrain_again = True
            return
        self._training = asyncio.ensure_future(self._retrain())

    async def _retrain(self) -> None:
        from llm.adapter import needs_refresh

        try:
            while True:
                self._retrain_again = False
                job = await self.db(jobs.create, "retrain", None, 2, "training the label adapter")
                await self.db(jobs.update, job, state="running")
                stored = await self.db(corrections.training_examples, needs_refresh)
                t0 = time.monotonic()
                trained = await asyncio.to_thread(team_adapter.train_all, stored)
                for task, adapter in trained.items():
                    await self.db(corrections.save_adapter, task, adapter.to_bytes(), len(stored[task]))
                await self.db(corrections.delete_adapters_except, list(trained))
                self._adapters = trained
                secs = time.monotonic() - t0
                counts = {t: len(e) for t, e in stored.items()}
                await self.db(
                    jobs.update,
                    job,
                    state="done",
                    done=2,
                    message=f"trained in {secs:.1f}s",
                    result={"examples": counts, "seconds": secs},
                )
                log.info("adapters retrained in %.1fs on %s", secs, counts)
                if not self._retrain_again:
                    return
        except Exception:  # noqa: BLE001 - a failed retrain keeps the previous adapters
            log.exception("adapter retraining failed")
        finally:
            self._training = None

    async def adapter_status(self) -> dict[str, Any]:
        st = await self.db(corrections.status)
        state = "training" if self._training else ("ready" if self._adapters else "none")
        return {"state": state, **st}

    # -- contacts ---------------------------------------------------------------------------------
    async def list_contacts(self, principal: Principal) -> dict[str, Any]:
        owner = None if principal.is_admin else principal.user_id
        return {"items": await self.db(reports.contacts, owner)}

    async def get_contact(self, principal: Principal, contact_id: str) -> dict[str, Any]:
        await self._check_contact(principal, contact_id)
        return await self.db(chats.contact, contact_id)

    async def patch_contact(self, principal: Principal, contact_id: str, body: Any) -> dict[str, Any]:
        await self._check_contact(principal, contact_id)
        changes = validation.contact_patch(body, chats.STAGES)
        if "owner_id" in changes and not principal.is_admin:
            raise Forbidden("only an admin can change the owner", code="role_not_allowed")
        return await self.db(chats.update_contact, contact_id, changes)

    async def erase_contact(self, principal: Principal, contact_id: str) -> None:
        """Erase a contact and all its data (admins); the team adapters forget its corrections."""
        _admin(principal)
        conv_ids = await self.db(reports.conversation_ids_of_contact, contact_id)
        removed = await self.db(chats.erase_contact, contact_id)
        for conv_id in conv_ids:
            pending = self._pending.pop(conv_id, None)
            if pending:
                pending[1].cancel_event.set()
        if self.engine and self.engine.state == "ready":
            self.engine.clear_state_cache()  # the model's cached reading of the chat goes too
        await self.db(accounts.audit, principal.user_id, "contact.erase", contact_id)
        log.info("contact erased: %s", removed)
        if removed["label_corrections"]:
            self.retrain()

    async def _check_contact(self, principal: Principal, contact_id: str) -> None:
        if principal.is_admin:
            return
        if not await self.db(reports.contact_visible, contact_id, principal.user_id):
            raise NotFound("contact not found")

    # -- quick replies ----------------------------------------------------------------------------
    async def quick_replies(self) -> dict[str, Any]:
        return {"items": await self.db(quick_replies.all_replies)}

    async def save_quick_reply(self, principal: Principal, body: Any, reply_id: str | None = None) -> dict:
        _admin(principal)
        data = validation.quick_reply(body, INTENTS, partial=reply_id is not None)
        if reply_id:
            current = next((q for q in await self.db(quick_replies.all_replies) if q["id"] == reply_id), None)
            if current is None:
                raise NotFound("quick reply not found")
            data = {**{k: current[k] for k in ("shortcut", "text", "intents")}, **data}
        return await self.db(
            quick_replies.upsert, data["shortcut"], data["text"], data["intents"], principal.user_id, reply_id
        )

    async def delete_quick_reply(self, principal: Principal, reply_id: str) -> None:
        _admin(principal)
        await self.db(quick_replies.delete, reply_id)

    # -- metrics and jobs -------------------------------------------------------------------------
    async def metrics(self, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
        user = query.get("user")
        if not principal.is_admin:
            if user and user != principal.user_id:
                raise Forbidden("attendants see only their own numbers", code="role_not_allowed")
            user = principal.user_id
        # On the database thread: it reads every message in range, the loop must not wait for it.
        return await self.db(metrics_calc.report, user, query.get("from"), query.get("to"), self.settings.timezone)

    async def job(self, principal: Principal, job_id: str) -> dict[str, Any]:
        row = await self.db(jobs.get, job_id)
        if not principal.is_admin and row["created_by"] != principal.user_id:
            raise NotFound("job not found")
        return row

    async def cancel_job(self, principal: Principal, job_id: str) -> dict[str, Any]:
        row = await self.job(principal, job_id)
        if row["state"] in ("queued", "running"):
            await self.db(jobs.update, job_id, state="cancelled", message="cancelled")
        return await self.db(jobs.get, job_id)


def _admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only an admin can do this", code="role_not_allowed")


def _insight_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "id"}
    return out
