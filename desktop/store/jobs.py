"""Long-running work visible to clients: state, progress, result."""

from __future__ import annotations

import json
import time
from typing import Any

from desktop.store.database import Store, new_id
from desktop.store.errors import RecordNotFound

STATES = ("queued", "running", "done", "failed", "cancelled")


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


def update(store: Store, job_id: str, **changes: Any) -> None:
    if "result" in changes:
        changes["result"] = json.dumps(changes["result"])
    changes["updated_at"] = time.time()
    cols = ", ".join(f"{k}=?" for k in changes)
    with store.transaction():
        store.conn.execute(f"UPDATE jobs SET {cols} WHERE id=?", (*changes.values(), job_id))


def get(store: Store, job_id: str) -> dict[str, Any]:
    row = store.q1("SELECT * FROM jobs WHERE id=?", (job_id,))
    if not row:
        raise RecordNotFound("job not found")
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return row


def fail_interrupted(store: Store) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE jobs SET state='failed', message='interrupted by a restart' WHERE state IN ('queued','running')"
        )
