"""Backups (admins): list, make, restore — as jobs with progress — and the daily backups.

Files are encrypted, read and checked on worker threads (`Runtime.off_loop`). The restore
replaces the live data only from the database thread, with nothing else running there
(`Runtime.db_alone`), after the decrypted copy passed its checks; it never touches the keys a
running server holds, so a backup made with other keys is refused here (the CLI, with the
server stopped, restores those). Automatic daily backups go to `auto_backup_dir`, rotated.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from desktop.auth import Principal
from desktop.errors import InvalidInput, NotFound
from desktop.store import accounts, backup_file, backups, insights
from desktop.store import jobs as job_store
from desktop.store.backup_file import BackupRefused
from desktop.store.database import Store
from desktop.usecases import audit
from desktop.usecases.access import require_admin
from desktop.usecases.jobs import JobCancelled, Jobs, RunningJob
from desktop.usecases.runtime import Runtime

log = logging.getLogger(__name__)
BACKUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
PROGRESS_EVERY = 0.5
SCHEDULE_EVERY = 3600.0  # seconds between checks whether the daily backup is due


class Backups:
    def __init__(self, rt: Runtime, jobs: Jobs, after_restore: Callable[[], Awaitable[None]]):
        self.rt = rt
        self.jobs = jobs
        self._after_restore = after_restore  # the service drops what it kept of the old data
        self._busy = asyncio.Lock()  # one backup or restore at a time

    @property
    def folder(self) -> Path:
        return backups.folder(self.rt.settings.data_path)

    async def startup(self) -> None:
        await self.rt.off_loop(backups.clean_work_dirs, self.rt.settings.data_path)
        if self.rt.settings.auto_backup_dir:
            self.rt.background(self._schedule())

    # -- GET /backups --------------------------------------------------------------------------
    async def list(self, principal: Principal) -> dict[str, Any]:
        require_admin(principal)
        own = backup_file.key_id(backups.backup_key(self.rt.store.keys))
        items = await self.rt.off_loop(backups.listing, self.rt.settings.data_path, own)
        return {"folder": str(self.folder), "items": items}

    # -- POST /backups -----------------------------------------------------------------------
    async def create(self, principal: Principal) -> dict[str, Any]:
        require_admin(principal)
        dest = self.folder / backups.new_name()
        run = await self.jobs.start("backup", principal.user_id, 100, "making a backup")
        await self.rt.db(audit.entry, principal, "backup.create", dest.name[: -len(backups.SUFFIX)])
        self.rt.background(self._create(run, dest, "manual"))
        return await self.rt.db(job_store.get, run.id)

    async def _create(self, run: RunningJob, dest: Path, kind: str) -> dict[str, Any] | None:
        async with self._busy:
            done = [0]

            def work() -> dict[str, Any]:
                run.check()
                return backups.create(
                    self.rt.settings.data_path, self.rt.store.keys, dest, kind=kind, progress=_tracker(done, run)
                )

            try:
                info = await self._with_progress(run, done, work)
            except JobCancelled:
                await self.jobs.fail(run, "cancelled")
                return None
            except (BackupRefused, OSError) as e:
                message = e.message if isinstance(e, BackupRefused) else f"could not write the backup ({e.strerror})"
                log.error("backup failed: %s", message)
                await self.jobs.fail(run, message)
                return None
            except Exception:
                log.exception("backup failed")
                await self.jobs.fail(run, "internal error; see the server log")
                return None
            await self.jobs.finish(
                run, lambda store: None, done=100, message="backup written and verified", result=info
            )
            return info

    async def _with_progress(self, run: RunningJob, done: list[int], work: Callable[[], Any]) -> Any:
        """Run `work` on a thread; its progress (percent in `done[0]`) is written meanwhile."""
        task = self.rt.background(self.rt.off_loop(work))
        written = 0
        while not task.done():
            await asyncio.wait([task], timeout=PROGRESS_EVERY)
            if done[0] != written and not task.done():
                written = done[0]
                try:
                    await self.jobs.progress(run, written)
                except JobCancelled:
                    pass  # the thread stops at its next step (the tracker checks)
        return task.result()

    # -- POST /backups/{id}/restore ----------------------------------------------------------
    async def restore(self, principal: Principal, backup_id: str) -> dict[str, Any]:
        require_admin(principal)
        if not BACKUP_ID.match(backup_id):
            raise InvalidInput("not a backup id", field="id")
        path = self.folder / f"{backup_id}{backups.SUFFIX}"
        if not path.is_file():
            raise NotFound("backup not found")
        run = await self.jobs.start("restore", principal.user_id, 100, f"restoring {backup_id}")
        self.rt.background(self._restore(run, principal, path))
        return await self.rt.db(job_store.get, run.id)

    async def _restore(self, run: RunningJob, principal: Principal, path: Path) -> None:
        async with self._busy:
            done = [0]
            live = self.rt.store.keys

            def work() -> backups.Prepared:
                run.check()
                return backups.prepare_restore(
                    self.rt.settings.data_path, path, live, progress=_tracker(done, run, scale=80)
                )

            prepared = None
            try:
                try:
                    prepared = await self._with_progress(run, done, work)
                except BackupRefused as e:
                    if e.code == "backup_other_key":
                        e.message = (
                            "this backup was made with other keys than this server's; stop the server and run "
                            f"`conversa restore {path}` with its key store copy and recovery key"
                        )
                    raise
                if prepared.staged_keys is not None:  # never here: the live keys are always tried first
                    raise BackupRefused("a running server only restores backups made with its own keys")
                await self.jobs.progress(run, 90)
                result = await self.rt.db_alone(_apply_restore, run.id, prepared, principal, path.stem)
            except JobCancelled:
                await self.jobs.fail(run, "cancelled")
                return
            except BackupRefused as e:
                await self.jobs.fail(run, e.message)
                return
            except Exception:
                log.exception("restore failed")
                await self.jobs.fail(run, "internal error; see the server log (the live data was not changed)")
                return
            finally:
                if prepared is not None:
                    await self.rt.off_loop(prepared.discard)
                self.jobs.release(run)
            if result is None:
                return  # cancelled before the data was replaced
            await self._after_restore()
            log.info("restored a backup (%s)", result)

    # -- automatic daily backups -----------------------------------------------------------------
    async def _schedule(self) -> None:
        dest_dir = Path(self.rt.settings.auto_backup_dir).expanduser()
        while True:
            try:
                if await self.rt.off_loop(backups.due, dest_dir):
                    await self.daily(dest_dir)
            except Exception:  # noqa: BLE001 - try again at the next check
                log.exception("automatic backup failed")
            await asyncio.sleep(SCHEDULE_EVERY)

    async def daily(self, dest_dir: Path) -> dict[str, Any] | None:
        """One automatic backup into `dest_dir`, then rotation (7 daily, 4 weekly kept)."""
        dest = dest_dir / backups.new_name()
        run = await self.jobs.start("backup", None, 100, "automatic daily backup")
        await self.rt.db(accounts.audit, None, "backup.auto", dest.name[: -len(backups.SUFFIX)])
        info = await self._create(run, dest, "auto")
        if info is not None:
            removed = await self.rt.off_loop(backups.rotate, dest_dir)
            log.info("automatic backup written; %d old ones rotated out", len(removed))
        return info


def _tracker(done: list[int], run: RunningJob, scale: int = 100) -> Callable[[int, int], None]:
    def progress(value: int, total: int) -> None:
        run.check()
        done[0] = int(scale * value / max(total, 1))

    return progress


def _apply_restore(
    store: Store, job_id: str, prepared: backups.Prepared, principal: Principal, backup_id: str
) -> dict | None:
    """On the database thread, alone: replace the data, keep this job's row, close what the
    backup had left running, write the audit entry. None when the job was cancelled first."""
    if not job_store.active(store, job_id):
        return None
    job = store.q1("SELECT * FROM jobs WHERE id=?", (job_id,))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    store.backup(backups.folder(store.data_dir) / "pre-restore" / f"conversa-{stamp}.db")  # like a migration does
    outcome = backups.restore_into(store, prepared)
    with store.transaction():
        store.conn.execute(
            "UPDATE jobs SET state='failed', message='interrupted by a restore', updated_at=?"
            " WHERE state IN ('queued','running')",
            (time.time(),),
        )
        cols = ", ".join(job)
        store.conn.execute(
            f"INSERT OR REPLACE INTO jobs({cols}) VALUES ({','.join('?' * len(job))})", tuple(job.values())
        )
        audit.entry(store, principal, "backup.restore", backup_id)
    insights.mark_abandoned(store)
    result = {**outcome, **prepared.check, "backup_created_at": prepared.header.get("created_at")}
    job_store.update(store, job_id, state="done", done=100, message="restored", result=result)
    return result
