"""Long-running work visible to clients (`/jobs`): progress, result, cancellation.

Work runs in steps and checks for a cancellation between them (`RunningJob.check`). Its effect
and its `done` state are written in one transaction that first checks the job was not
cancelled (`Jobs.finish`): a cancelled job never ends `done`, and nothing of it is half-written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from desktop.auth import Principal
from desktop.errors import NotFound
from desktop.store import jobs
from desktop.store.database import Store
from desktop.usecases.runtime import Runtime


class JobCancelled(Exception):
    """Raised between a job's steps once it was cancelled."""


class RunningJob:
    def __init__(self, job_id: str):
        self.id = job_id
        self._cancel = threading.Event()  # set from the loop, read from worker threads too

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self.cancelled():
            raise JobCancelled(self.id)


class Jobs:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self._running: dict[str, RunningJob] = {}

    async def startup(self) -> None:
        await self.rt.db(jobs.fail_interrupted)

    async def start(self, kind: str, user_id: str | None, total: int, message: str) -> RunningJob:
        def create(store: Store) -> str:
            jid = jobs.create(store, kind, user_id, total, message)
            jobs.update(store, jid, state="running")
            return jid

        run = RunningJob(await self.rt.db(create))
        self._running[run.id] = run
        return run

    async def progress(self, run: RunningJob, done: int) -> None:
        """Record a finished step; raises JobCancelled when the job was cancelled meanwhile."""
        run.check()
        if not await self.rt.db(jobs.update, run.id, done=done):
            run.cancel()
            run.check()

    async def finish(
        self, run: RunningJob, apply: Callable[[Store], Any], *, done: int, message: str, result: Any
    ) -> bool:
        """Apply the job's effect and mark it done in one transaction, unless it was cancelled
        first: then nothing is applied and False is returned."""

        def commit(store: Store) -> bool:
            if run.cancelled() or not jobs.active(store, run.id):
                return False
            apply(store)
            jobs.update(store, run.id, state="done", done=done, message=message, result=result)
            return True

        try:
            return await self.rt.db(commit)
        finally:
            self._running.pop(run.id, None)

    def release(self, run: RunningJob) -> None:
        """Forget a job whose end state its work wrote itself (a restore does, with the data)."""
        self._running.pop(run.id, None)

    async def fail(self, run: RunningJob, message: str) -> None:
        """The work failed or stopped at a cancellation: a cancelled job keeps its state."""
        self._running.pop(run.id, None)
        await self.rt.db(jobs.update, run.id, state="failed", message=message)

    async def get(self, principal: Principal, job_id: str) -> dict[str, Any]:
        row = await self.rt.db(jobs.get, job_id)
        if not principal.is_admin and row["created_by"] != principal.user_id:
            raise NotFound("job not found")
        return row

    async def cancel(self, principal: Principal, job_id: str) -> dict[str, Any]:
        row = await self.get(principal, job_id)
        if row["state"] in jobs.ACTIVE:
            await self.rt.db(jobs.cancel, job_id)
            run = self._running.get(job_id)
            if run:
                run.cancel()  # the work stops at its next step
        return await self.rt.db(jobs.get, job_id)

    async def recent(self, principal: Principal, limit: int) -> dict[str, Any]:
        """Newest first: attendants their own jobs, admins everyone's."""
        owner = None if principal.is_admin else principal.user_id
        return {"items": await self.rt.db(jobs.recent, owner, max(1, min(limit, 200)))}
