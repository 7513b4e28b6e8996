"""The numbers of `/metrics`: attendants see only their own."""

from __future__ import annotations

from typing import Any

from desktop import metrics as metrics_calc
from desktop.auth import Principal
from desktop.errors import Forbidden
from desktop.team_metrics import Targets
from desktop.usecases.runtime import Runtime


class Metrics:
    def __init__(self, rt: Runtime):
        self.rt = rt

    async def metrics(self, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
        user = query.get("user")
        if not principal.is_admin:
            if user and user != principal.user_id:
                raise Forbidden("attendants see only their own numbers", code="role_not_allowed")
            user = principal.user_id
        # On the database thread: it reads every message in range, the loop must not wait for it.
        s = self.rt.settings
        targets = Targets(s.sla_first_response_minutes, s.sla_resolution_hours, s.health_risk_threshold)
        return await self.rt.db(metrics_calc.report, user, query.get("from"), query.get("to"), s.timezone, targets)
