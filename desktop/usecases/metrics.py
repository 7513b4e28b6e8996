"""The numbers of `/metrics`: attendants see only their own."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from desktop import metric_totals
from desktop import metrics as metrics_calc
from desktop.auth import Principal
from desktop.errors import Forbidden
from desktop.team_metrics import Targets
from desktop.usecases.runtime import Runtime

log = logging.getLogger(__name__)

KEEP_UP_EVERY = 5.0  # seconds between background rounds


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
        await self.keep_up(time.time())
        return await self.rt.db(metrics_calc.report, user, query.get("from"), query.get("to"), s.timezone, targets)

    async def keep_up(self, now: float) -> None:
        """Rebuild the kept rows of what changed, a chunk per database job so captures interleave."""
        timezone = self.rt.settings.timezone
        left = await self.rt.db(metric_totals.pending, timezone, now)
        while left:
            left = await self.rt.db(metric_totals.refresh, timezone, now)

    async def startup(self) -> None:
        """Keep the rows up to date in the background, so /metrics seldom has anything to rebuild."""
        while True:
            try:
                await self.keep_up(time.time())
            except Exception as exc:  # retried next round; /metrics rebuilds what is left anyway
                # The type only: a message may quote data.
                log.error("metrics: keeping the totals failed (%s)", type(exc).__name__)
            await asyncio.sleep(KEEP_UP_EVERY)
