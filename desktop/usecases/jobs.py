"""Long-running work visible to clients (`/jobs`): progress, result, cancellation."""

from __future__ import annotations

from typing import Any

from desktop.auth import Principal
from desktop.errors import NotFound
from desktop.store import jobs
from desktop.usecases.runtime import Runtime


class Jobs:
    def __init__(self, rt: Runtime):
        self.rt = rt

    async def startup(self) -> None:
        await self.rt.db(jobs.fail_interrupted)

    async def get(self, principal: Principal, job_id: str) -> dict[str, Any]:
        row = await self.rt.db(jobs.get, job_id)
        if not principal.is_admin and row["created_by"] != principal.user_id:
            raise NotFound("job not found")
        return row

    async def cancel(self, principal: Principal, job_id: str) -> dict[str, Any]:
        row = await self.get(principal, job_id)
        if row["state"] in ("queued", "running"):
            await self.rt.db(jobs.update, job_id, state="cancelled", message="cancelled")
        return await self.rt.db(jobs.get, job_id)
