"""Long-running work visible to clients: state, progress, result.

A job changes only while it is queued or running: once done, failed or cancelled it never
changes again, so a cancellation can never be overwritten by the work finishing after it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from desktop.store.database import Store, new_id
from desktop.store.errors import RecordNotFound

STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")


def create(store: Store, kind: str, user_id: str | None, total: int = 0, message: str = "") -> str:
    jid = new_id("j")
    now = time.time()
    with store.transaction():
        store.conn.execute(
            "INSERT INTO jobs(id, kind, state, done, total, message, created_by, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (jid, kind, "queued", 0, total, message, user_id, now, now),
        )
    return jid


def update(store: Store, job_id: str, **changes: Any) -> bool:
    """Change a queued or running job; False when it has already ended (e.g. was cancelled)."""
    if "result" in changes:
        changes["result"] = json.dumps(changes["result"])
    changes["updated_at"] = time.time()
    cols = ", ".join(f"{k}=?" for k in changes)
    with store.transaction():
        cur = store.conn.execute(
            f"UPDATE jobs SET {cols} WHERE id=? AND state IN ('queued','running')", (*changes.values(), job_id)
        )
    return cur.rowcount == 1


def cancel(store: Store, job_id: str) -> bool:
    return update(store, job_id, state="cancelled", message="cancelled")


def active(store: Store, job_id: str) -> bool:
    return store.q1("SELECT 1 FROM jobs WHERE id=? AND state IN ('queued','running')", (job_id,)) is not None


def get(store: Store, job_id: str) -> dict[str, Any]:
    row = store.q1("SELECT * FROM jobs WHERE id=?", (job_id,))
    if not row:
        raise RecordNotFound("job not found")
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return row


def fail_interrupted(store: Store) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE jobs SET state='failed', message='interrupted by a restart', updated_at=?"
            " WHERE state IN ('queued','running')",
            (time.time(),),
        )


def recent(store: Store, user_id: str | None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first; `user_id` limits them to the jobs that user started."""
    where = " WHERE created_by=?" if user_id else ""
    sql = "SELECT * FROM jobs" + where + " ORDER BY created_at DESC, rowid DESC LIMIT ?"
    rows = store.q(sql, (user_id, limit) if user_id else (limit,))
    for row in rows:
        row["result"] = json.loads(row["result"]) if row["result"] else None
    return rows
