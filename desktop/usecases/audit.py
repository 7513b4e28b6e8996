"""The audit log: every change writes a row (who, from which device, what: ids and field names,
never message text or personal data); admins read it (`GET /audit`)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from desktop.auth import Principal
from desktop.errors import InvalidInput
from desktop.store import accounts, audit_log
from desktop.store.database import Store
from desktop.usecases import access
from desktop.usecases.runtime import Runtime

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def entry(store: Store, principal: Principal, action: str, target: str = "", detail: str = "") -> None:
    """Write an audit row on the database thread, inside the change's own transaction."""
    accounts.audit(store, principal.user_id, action, target, detail, principal.device_id)


def fields_detail(names: Any) -> str:
    """`fields=a,b`: which fields changed, never their values."""
    return "fields=" + ",".join(sorted(names))


class AuditLog:
    def __init__(self, rt: Runtime):
        self.rt = rt

    async def record(self, principal: Principal, action: str, target: str = "", detail: str = "") -> None:
        await self.rt.db(entry, principal, action, target, detail)

    async def page(self, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
        access.require_admin(principal)
        unknown = set(query) - {"from", "to", "actor", "action", "cursor", "limit"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown parameter {name}", field=name)
        tz = zoneinfo.ZoneInfo(self.rt.settings.timezone)
        since = _instant(query.get("from"), "from", tz, end=False)
        until = _instant(query.get("to"), "to", tz, end=True)
        limit = _int(query.get("limit", "50"), "limit", 1, 200)
        cursor = query.get("cursor")
        before = _int(cursor, "cursor", 1, 2**62) if cursor else None
        actor = query.get("actor") or None
        action = query.get("action") or None
        for name, value in (("actor", actor), ("action", action)):
            if value is not None and (len(value) > 100 or not value.isprintable()):
                raise InvalidInput(f"{name} must be at most 100 printable characters", field=name)
        out = await self.rt.db(
            audit_log.page, since=since, until=until, actor=actor, action=action, before_id=before, limit=limit
        )
        for row in out["items"]:
            row["at"] = datetime.fromtimestamp(row["at"], tz).isoformat(timespec="seconds")
        return out


def _instant(value: str | None, name: str, tz: zoneinfo.ZoneInfo, *, end: bool) -> float | None:
    """A day (YYYY-MM-DD, in the business's time zone; `to` includes it) or an ISO 8601 time."""
    if not value:
        return None
    try:
        if _DAY.fullmatch(value):
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or not value.isascii():
        raise InvalidInput(f"{name} must be a day (YYYY-MM-DD) or an ISO 8601 time", field=name)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def _int(value: str, name: str, low: int, high: int) -> int:
    if not (0 < len(value) <= 19 and value.isascii() and value.isdigit() and low <= int(value) <= high):
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(value)
