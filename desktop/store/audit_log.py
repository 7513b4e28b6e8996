"""Reading the audit log (`GET /audit`): newest first, filtered, paged by row id."""

from __future__ import annotations

from typing import Any

from desktop.store.database import Store


def page(
    store: Store,
    *,
    since: float | None = None,
    until: float | None = None,
    actor: str | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Rows with `since <= at < until`; `actor` is a user id or username; `action` is exact, or a
    prefix when it ends with `.` (e.g. `user.`). `next_cursor` is the id to pass as `before_id`."""
    where, params = [], []
    if since is not None:
        where.append("a.at >= ?")
        params.append(since)
    if until is not None:
        where.append("a.at < ?")
        params.append(until)
    if actor:
        where.append("(a.user_id = ? OR a.user_id IN (SELECT id FROM users WHERE username = ?))")
        params += [actor, actor]
    if action:
        if action.endswith("."):
            where.append("substr(a.action, 1, ?) = ?")
            params += [len(action), action]
        else:
            where.append("a.action = ?")
            params.append(action)
    if before_id is not None:
        where.append("a.id < ?")
        params.append(before_id)
    rows = store.q(
        "SELECT a.id, a.at, a.user_id, u.username, a.device_id, d.name AS device_name, a.action, a.target, a.detail"
        " FROM audit_log a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN devices d ON d.id = a.device_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY a.id DESC LIMIT ?",
        (*params, limit + 1),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1]["id"]) if more else None}
