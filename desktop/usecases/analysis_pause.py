"""Pausing and resuming analysis (`GET/PUT /analysis`, admins): the desktop tray's switch for a
machine that needs its CPU back for a while. Captures keep being stored meanwhile."""

from __future__ import annotations

from typing import Any

from desktop.auth import Principal
from desktop.errors import InvalidInput
from desktop.usecases import audit
from desktop.usecases.access import require_admin
from desktop.usecases.analysis import Analyses
from desktop.usecases.runtime import Runtime


class AnalysisPause:
    def __init__(self, rt: Runtime, analyses: Analyses):
        self.rt = rt
        self.analyses = analyses

    def state(self, principal: Principal) -> dict[str, Any]:
        require_admin(principal)
        return {"paused": self.analyses.paused}

    async def set(self, principal: Principal, body: Any) -> dict[str, Any]:
        require_admin(principal)
        if not isinstance(body, dict) or not isinstance(body.get("paused"), bool):
            raise InvalidInput("paused must be true or false", field="paused")
        extra = set(body) - {"paused"}
        if extra:
            raise InvalidInput(f"unknown field {sorted(extra)[0]}", field=sorted(extra)[0])
        if body["paused"] != self.analyses.paused:
            self.analyses.paused = body["paused"]
            action = "analysis.pause" if body["paused"] else "analysis.resume"
            await self.rt.db(audit.entry, principal, action)
        return {"paused": self.analyses.paused}
