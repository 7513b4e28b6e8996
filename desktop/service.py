"""The facade the server and the sessions call; each use-case area lives in `desktop/usecases/`.

No HTTP and no Tk here. Every store call runs on the single database thread (`db`), so the
server's loop never blocks on SQLite; model work runs on the engine's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from desktop.auth import Principal
from desktop.config import Settings
from desktop.events import Broker
from desktop.store.database import Store
from desktop.usecases.analysis import Analyses
from desktop.usecases.analysis_pause import AnalysisPause
from desktop.usecases.audit import AuditLog
from desktop.usecases.backups import Backups
from desktop.usecases.contacts import Contacts
from desktop.usecases.conversations import Conversations
from desktop.usecases.export import Exports
from desktop.usecases.ingest import Ingest
from desktop.usecases.jobs import Jobs
from desktop.usecases.knowledge import KnowledgeBase
from desktop.usecases.lead_import import LeadImport, read_body
from desktop.usecases.learning import Learning
from desktop.usecases.metrics import Metrics
from desktop.usecases.models import Models
from desktop.usecases.quick_replies import QuickReplies
from desktop.usecases.runtime import Runtime
from desktop.usecases.settings_admin import SettingsAdmin
from desktop.usecases.team_replies import TeamReplies
from desktop.usecases.users import Users
from desktop.usecases.workflow import Workflow
from llm.engine import Engine

T = TypeVar("T")


class Service:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        engine: Engine | None,
        engine_factory: Callable[..., Engine] | None = None,
    ):
        self.rt = Runtime(settings, store, engine, engine_factory)
        self.jobs = Jobs(self.rt)
        self.learning = Learning(self.rt, self.jobs)
        self.knowledge = KnowledgeBase(self.rt)
        self.team_replies = TeamReplies(self.rt)
        self.analyses = Analyses(self.rt, lambda: self.learning.adapters, self.knowledge, self.team_replies)
        self.analysis_pause = AnalysisPause(self.rt, self.analyses)
        self._ingest = Ingest(self.rt, self.analyses)
        self.conversations = Conversations(self.rt, self.analyses)
        self.contacts = Contacts(self.rt, self.analyses, self.learning)
        self.lead_import = LeadImport(self.rt, self.jobs)
        self.replies = QuickReplies(self.rt)
        self._metrics = Metrics(self.rt)
        self.models = Models(self.rt, self.jobs)
        self.users = Users(self.rt)
        self.settings_admin = SettingsAdmin(self.rt)
        self.audit = AuditLog(self.rt)
        self.exports = Exports(self.rt)
        self.workflow = Workflow(self.rt)
        self.backups = Backups(self.rt, self.jobs, self._after_restore)

    # -- plumbing ------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.rt.settings

    @property
    def store(self) -> Store:
        return self.rt.store

    @property
    def engine(self) -> Engine | None:
        return self.rt.engine

    @property
    def broker(self) -> Broker:
        return self.rt.broker

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(store, …)` on the database thread (group-committed) and await it."""
        return await self.rt.db(fn, *args, **kwargs)

    def db_wait(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`db` for callers outside the loop (the first-run prompt): blocks until done."""
        return self.rt.db_wait(fn, *args, **kwargs)

    async def startup(self) -> None:
        self.rt.bind_loop(asyncio.get_running_loop())
        # What a stop interrupted is closed first, so the work started below is never taken for it.
        await self.analyses.startup()
        await self.jobs.startup()
        await self.learning.startup()
        await self.backups.startup()
        await self.knowledge.startup()
        # Indexing every past conversation can take a while: suggestions use what is indexed so far.
        self.rt.background(self.team_replies.startup())
        self.rt.background(self._metrics.startup())

    async def _after_restore(self) -> None:
        """The data was replaced: drop what was kept in memory about the old data."""
        self.analyses.cancel(self.analyses.pending_ids())
        engine = self.rt.engine
        if engine and engine.state == "ready":
            engine.clear_state_cache()
        self.learning.adapters.clear()
        await self.learning.startup()
        await self.rt.access_changed()
        # The indexes are read and written on the database thread: emptied there too.
        await self.rt.db(self.knowledge.reset)
        await self.knowledge.startup()
        await self.rt.db(self.team_replies.reset)
        self.rt.background(self.team_replies.startup())

    def shutdown(self) -> None:
        self.rt.close()

    def on_access_change(self, listener: Callable[[], Awaitable[None]]) -> None:
        """`listener` is awaited after a device is revoked or a user changed (role, disabled, removed)."""
        self.rt.on_access_change(listener)

    def model_status(self) -> dict[str, Any]:
        return self.rt.model_status()

    # -- captures and analyses -----------------------------------------------------------
    async def ingest(self, principal: Principal, body: Any) -> dict[str, Any]:
        return await self._ingest.ingest(principal, body)

    async def schedule_analysis(self, conversation_id: str) -> str:
        return await self.analyses.schedule(conversation_id)

    # -- conversations -------------------------------------------------------------------
    async def list_conversations(self, principal: Principal, cursor: str | None, limit: int) -> dict[str, Any]:
        return await self.conversations.page(principal, cursor, limit)

    async def get_conversation(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        return await self.conversations.get(principal, conversation_id)

    async def set_status(self, principal: Principal, conversation_id: str, body: Any) -> dict[str, Any]:
        return await self.conversations.set_status(principal, conversation_id, body)

    async def analyze_now(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        return await self.conversations.analyze_now(principal, conversation_id)

    async def insight(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        return await self.conversations.insight(principal, conversation_id)

    async def insight_history(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        return await self.conversations.insight_history(principal, conversation_id)

    async def subscribe(self, principal: Principal, conversation_id: str) -> asyncio.Queue:
        return await self.conversations.subscribe(principal, conversation_id)

    async def feedback(self, principal: Principal, suggestion_id: str, body: Any) -> None:
        await self.conversations.feedback(principal, suggestion_id, body)

    # -- learning ------------------------------------------------------------------------
    async def correct_labels(self, principal: Principal, conversation_id: str, body: Any) -> None:
        await self.learning.correct_labels(principal, conversation_id, body)

    async def adapter_status(self) -> dict[str, Any]:
        return await self.learning.adapter_status()

    # -- contacts ------------------------------------------------------------------------
    async def list_contacts(self, principal: Principal) -> dict[str, Any]:
        return await self.contacts.page(principal)

    async def get_contact(self, principal: Principal, contact_id: str) -> dict[str, Any]:
        return await self.contacts.get(principal, contact_id)

    async def patch_contact(self, principal: Principal, contact_id: str, body: Any) -> dict[str, Any]:
        return await self.contacts.patch(principal, contact_id, body)

    async def erase_contact(self, principal: Principal, contact_id: str) -> None:
        await self.contacts.erase(principal, contact_id)

    async def import_contacts(self, principal: Principal, body: Any) -> dict[str, Any]:
        """A JSON body {"text"|"csv", "dry_run", "use_model"}: the import job."""
        form, content, dry_run, use_model = read_body(body)
        return await self.lead_import.start(principal, form, content, dry_run=dry_run, use_model=use_model)

    async def import_contacts_file(self, principal: Principal, raw: bytes, dry_run: bool) -> dict[str, Any]:
        """An uploaded CSV file: UTF-8, else Windows-1252."""
        from desktop.lead_parse import decode

        return await self.lead_import.start(principal, "csv", decode(raw), dry_run=dry_run, use_model=False)

    # -- quick replies -------------------------------------------------------------------
    async def quick_replies(self) -> dict[str, Any]:
        return await self.replies.all()

    async def save_quick_reply(self, principal: Principal, body: Any, reply_id: str | None = None) -> dict:
        return await self.replies.save(principal, body, reply_id)

    async def delete_quick_reply(self, principal: Principal, reply_id: str) -> None:
        await self.replies.delete(principal, reply_id)

    # -- metrics and jobs ----------------------------------------------------------------
    async def metrics(self, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
        return await self._metrics.metrics(principal, query)

    async def job(self, principal: Principal, job_id: str) -> dict[str, Any]:
        return self.lead_import.with_preview(await self.jobs.get(principal, job_id))

    async def cancel_job(self, principal: Principal, job_id: str) -> dict[str, Any]:
        return await self.jobs.cancel(principal, job_id)

    async def jobs_list(self, principal: Principal, limit: int) -> dict[str, Any]:
        return await self.jobs.recent(principal, limit)

    # -- users and devices (admins) ------------------------------------------------------
    async def list_users(self, principal: Principal) -> dict[str, Any]:
        return await self.users.all(principal)

    async def create_user(self, principal: Principal, body: Any) -> dict[str, Any]:
        return await self.users.create(principal, body)

    async def patch_user(self, principal: Principal, user_id: str, body: Any) -> dict[str, Any]:
        return await self.users.patch(principal, user_id, body)

    async def delete_user(self, principal: Principal, user_id: str) -> None:
        await self.users.delete(principal, user_id)

    async def list_devices(self, principal: Principal, user_id: str | None) -> dict[str, Any]:
        return await self.users.devices(principal, user_id)

    async def revoke_device(self, principal: Principal, device_id: str) -> None:
        await self.users.revoke_device(principal, device_id)

    # -- settings and audit (admins) -----------------------------------------------------
    async def get_settings(self, principal: Principal) -> dict[str, Any]:
        return await self.settings_admin.get(principal)

    async def patch_settings(self, principal: Principal, body: Any) -> dict[str, Any]:
        return await self.settings_admin.patch(principal, body)

    async def audit_page(self, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
        return await self.audit.page(principal, query)

    # -- exports (admins, audited) -------------------------------------------------------
    async def export_contact(self, principal: Principal, contact_id: str) -> dict[str, Any]:
        return await self.exports.contact(principal, contact_id)

    async def export_csv(self, principal: Principal, kind: str, query: dict[str, str]) -> AsyncIterator[bytes]:
        """Checks and audits the request, then gives the CSV in chunks."""
        return await self.exports.start_csv(principal, kind, query)
