"""Learning from the team: label corrections, their features, and retraining the label adapters."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from desktop import team_adapter
from desktop.auth import Principal
from desktop.errors import InvalidInput
from desktop.store import chats, corrections
from desktop.usecases import access
from desktop.usecases.jobs import JobCancelled, Jobs
from desktop.usecases.runtime import Runtime
from llm import tasks
from llm.analysis import customer_and_lang, turn_features
from llm.tasks import INTENTS, SENTIMENTS

log = logging.getLogger(__name__)


class Learning:
    def __init__(self, rt: Runtime, jobs: Jobs):
        self.rt = rt
        self.jobs = jobs
        self.adapters: dict[str, Any] = {}  # task -> the team's adapter, used by the next analyses
        self._training: asyncio.Future | None = None
        self._retrain_again = False

    async def startup(self) -> None:
        """Load the saved adapters; learn what a stop cut short, or retrain when they are out of date."""
        from llm.adapter import Adapter

        stale = False
        for task, blob in (await self.rt.db(corrections.load_adapters)).items():
            try:
                self.adapters[task] = Adapter.from_bytes(blob)
            except ValueError:  # saved by an older version: learn again from the corrections
                stale = True
        pending = await self.rt.db(corrections.pending_features)
        if pending:
            self.rt.background(self._learn_pending(pending))
        elif stale or await self.rt.db(corrections.needs_retrain):
            self.retrain()

    async def correct_labels(self, principal: Principal, conversation_id: str, body: Any) -> None:
        """Store a correction, compute what the adapter learns from, and retrain in the background."""
        row = await access.conversation(self.rt, principal, conversation_id)
        if not isinstance(body, dict) or not ({"sentiment", "intent"} & body.keys()):
            raise InvalidInput("give sentiment and/or intent", field="body")
        for task, allowed in (("sentiment", SENTIMENTS), ("intent", INTENTS)):
            if task in body and body[task] not in allowed:
                raise InvalidInput(f"{task} must be one of " + ", ".join(allowed), field=task)
        labels = {k: body[k] for k in ("sentiment", "intent") if k in body}
        msgs = await self.rt.db(chats.messages, conversation_id, row["kid"], 60)
        turns = tasks.turns_from_messages(msgs)
        if not any(t.direction == "in" for t in turns):
            raise InvalidInput("this conversation has no customer message to learn from", field="body")
        text, lang = customer_and_lang(turns)
        ids = await self.rt.db(corrections.add, row, principal.user_id, labels, text, lang)
        # Features need the model, which may be busy: the correction is stored now, learnt from soon.
        self.rt.background(self._learn(ids, row["kid"], turns))

    async def _learn(self, ids: list[str], kid: str, turns: list) -> None:
        engine = self.rt.engine
        if engine and engine.state == "ready":
            job = engine.submit(f"features-{ids[0]}", lambda llama, cancelled: turn_features(llama, turns))
            feats = await asyncio.wrap_future(job.future)
        else:
            feats = turn_features(None, turns)
        await self.rt.db(corrections.set_features, ids, kid, feats)
        self.retrain()

    async def _learn_pending(self, pending: list[tuple[str, str, str, str]]) -> None:
        """Features of corrections stored just before a stop: nothing a team taught is lost."""
        from llm.labels import features

        engine = self.rt.engine
        deadline = time.monotonic() + 300
        while engine and engine.state == "loading" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)  # on the loop, not a thread: a stop cancels the wait at once
        for cid, kid, text, lang in pending:
            if engine and engine.state == "ready":
                job = engine.submit(f"features-{cid}", lambda llama, c, t=text, lg=lang: features(t, lg, llama))
                feats = await asyncio.wrap_future(job.future)
            else:
                feats = features(text, lang, None)
            await self.rt.db(corrections.set_features, [cid], kid, feats)
        self.retrain()

    def retrain(self) -> None:
        """Retrain the adapters from every example; a request while training runs it once more after."""
        if self._training:
            self._retrain_again = True
            return
        self._training = self.rt.background(self._retrain())

    async def _retrain(self) -> None:
        try:
            while True:
                self._retrain_again = False
                await self._retrain_once()
                if not self._retrain_again:
                    return
        except Exception:  # noqa: BLE001 - a failed retrain keeps the previous adapters
            log.exception("adapter retraining failed")
        finally:
            self._training = None

    async def _retrain_once(self) -> None:
        """A `retrain` job in 4 steps (examples, sentiment, intent, save); a cancellation between steps
        keeps the previous adapters, in the store and in memory."""
        run = await self.jobs.start("retrain", None, 4, "training the label adapters")
        try:
            stored = await self.rt.db(team_adapter.examples)
            await self.jobs.progress(run, 1)
            t0 = time.monotonic()
            trained: dict[str, Any] = {}
            for step, (task, rows) in enumerate(stored.items(), start=2):
                trained |= await self.rt.off_loop(team_adapter.train_all, {task: rows})
                await self.jobs.progress(run, step)
            secs = time.monotonic() - t0
            counts = {t: len(e) for t, e in stored.items()}
            saved = await self.jobs.finish(
                run,
                lambda store: team_adapter.save(store, stored, trained),
                done=4,
                message=f"trained in {secs:.1f}s",
                result={"examples": counts, "seconds": secs},
            )
        except JobCancelled:
            saved = False
        except Exception:
            await self.jobs.fail(run, "training failed")
            raise
        if not saved:
            log.info("adapter retraining cancelled: the previous adapters stay")
            return
        self.adapters = trained
        log.info("adapters retrained in %.1fs on %s", secs, counts)

    async def adapter_status(self) -> dict[str, Any]:
        st = await self.rt.db(corrections.status)
        state = "training" if self._training else ("ready" if self.adapters else "none")
        return {"state": state, **st}
