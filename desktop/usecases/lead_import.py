"""Batch lead import (`POST /contacts/import`): pasted text or CSV, structured by rules and
optionally the model, upserted one block per transaction as a cancellable job.

Each block's upsert and the job's progress are written in one transaction that first checks the
job is still running, so a cancellation stops before the next block and no block is half-written.
The job's result and the audit row hold row numbers, actions, changed field names and counts:
no personal data (both are stored in clear). A dry run is a job too (the model may take a while)
that writes no contact: the values it read are kept in memory only, for the last few dry runs,
and added to its rows when the job is read (`with_preview`); a restart forgets them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from typing import Any

from desktop import lead_parse
from desktop.auth import Principal
from desktop.errors import InvalidInput
from desktop.lead_parse import Block, Lead
from desktop.store import accounts, lead_import
from desktop.store import jobs as job_store
from desktop.store.database import Store
from desktop.usecases import access
from desktop.usecases.jobs import JobCancelled, Jobs, RunningJob
from desktop.usecases.runtime import Runtime

log = logging.getLogger(__name__)
KIND = "contacts.import"
PREVIEWS_KEPT = 20


def read_body(body: Any) -> tuple[str, str, bool, bool]:
    """(form 'text' or 'csv', its content, dry_run, use_model) from the JSON body."""
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    for key in body:
        if key not in ("text", "csv", "dry_run", "use_model"):
            raise InvalidInput(f"unknown field {key}", field=key)
    forms = [k for k in ("text", "csv") if k in body]
    if len(forms) != 1:
        raise InvalidInput("give either text or csv", field="text")
    form = forms[0]
    content = body[form]
    if not isinstance(content, str) or not content.strip():
        raise InvalidInput(f"{form} must be non-empty text", field=form)
    flags = []
    for key, default in (("dry_run", False), ("use_model", True)):
        value = body.get(key, default)
        if not isinstance(value, bool):
            raise InvalidInput(f"{key} must be true or false", field=key)
        flags.append(value)
    return form, content, flags[0], flags[1]


class LeadImport:
    def __init__(self, rt: Runtime, jobs: Jobs):
        self.rt = rt
        self.jobs = jobs
        self._previews: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    async def start(
        self, principal: Principal, form: str, content: str, *, dry_run: bool, use_model: bool
    ) -> dict[str, Any]:
        """Start the import (or dry run) job; answers the job."""
        access.require_admin(principal)
        items: list[Block | Lead] = []
        if form == "csv":
            items.extend(lead_parse.csv_leads(content))
        else:
            items.extend(lead_parse.split_blocks(content))
        if not items:
            raise InvalidInput(f"no customer found in the {form}", code="no_leads", field=form)
        what = "previewing" if dry_run else "importing"
        run = await self.jobs.start(KIND, principal.user_id, len(items), f"{what} {len(items)} leads")
        if dry_run:
            self._previews[run.id] = []
            while len(self._previews) > PREVIEWS_KEPT:
                self._previews.popitem(last=False)
        self.rt.background(self._run(run, principal.user_id, items, use_model, dry_run))
        return await self.rt.db(job_store.get, run.id)

    def with_preview(self, job: dict[str, Any]) -> dict[str, Any]:
        """A dry run's job with the values it read added to its rows (while they are kept)."""
        values = self._previews.get(job["id"])
        result = job.get("result")
        if values and isinstance(result, dict) and len(values) == len(result.get("rows", [])):
            result["rows"] = [row | {"preview": lead} for row, lead in zip(result["rows"], values, strict=True)]
        return job

    async def _structure(self, item: Block | Lead, use_model: bool, key: str) -> Lead:
        """The rules' lead; the model (when asked for and loaded) fills what they left empty."""
        if isinstance(item, Lead):
            return lead_parse.finish(item)
        lead = lead_parse.parse_block(item)
        engine = self.rt.engine
        if use_model and engine and engine.state == "ready" and lead.missing():
            from llm.lead_extract import extract

            fields = tuple(lead.missing())
            job = engine.submit(key, lambda llama, cancelled: extract(llama, item.text, cancelled, fields))
            try:
                lead_parse.fill_from_model(lead, item.text, await asyncio.wrap_future(job.future))
            except Exception as e:  # noqa: BLE001 - the model is optional: the rules' reading stands
                log.info("lead block %s: model not used (%s)", key, type(e).__name__)
        return lead_parse.finish(lead)

    async def _run(
        self, run: RunningJob, user_id: str, items: list[Block | Lead], use_model: bool, dry_run: bool
    ) -> None:
        rows: list[dict[str, Any]] = []
        preview = self._previews.get(run.id) if dry_run else None
        try:
            for i, item in enumerate(items, start=1):
                run.check()
                lead = await self._structure(item, use_model, f"lead-{run.id}-{i}")
                row: dict[str, Any] = {"row": i, "warnings": lead.warnings}
                if preview is not None:
                    preview.append(lead.fields())
                problem = lead.problem()
                if problem:
                    await self.jobs.progress(run, i)
                    rows.append(row | {"action": "rejected", "reason": problem})
                    continue

                def commit(store: Store, fields: dict[str, Any] = lead.fields(), done: int = i) -> dict | None:
                    with store.transaction():
                        if run.cancelled() or not job_store.active(store, run.id):
                            return None
                        out = lead_import.upsert(store, fields, write=not dry_run)
                        job_store.update(store, run.id, done=done)
                        return out

                out = await self.rt.db(commit)
                if out is None:
                    raise JobCancelled(run.id)
                rows.append(row | out)
            counts = _counts(rows)

            def audit(store: Store) -> None:
                if not dry_run:  # a dry run changes nothing
                    accounts.audit(store, user_id, "contacts.import", run.id, _detail(counts))

            await self.jobs.finish(
                run,
                audit,
                done=len(items),
                message=("dry run: " if dry_run else "") + _detail(counts),
                result={"dry_run": dry_run, "counts": counts, "rows": rows},
            )
        except JobCancelled:
            await self.jobs.fail(run, "cancelled")  # a cancelled job keeps its state
            if not dry_run:
                await self._audit_partial(user_id, run, rows, "cancelled")
        except Exception:
            log.exception("lead import %s failed", run.id)
            await self.jobs.fail(run, "import failed; see the server log")
            if not dry_run:
                await self._audit_partial(user_id, run, rows, "failed")

    async def _audit_partial(self, user_id: str, run: RunningJob, rows: list[dict[str, Any]], how: str) -> None:
        """What a stopped import wrote before it stopped is audited too."""
        detail = f"{how} after {len(rows)} rows: {_detail(_counts(rows))}"

        def write(store: Store) -> None:
            with store.transaction():
                accounts.audit(store, user_id, "contacts.import", run.id, detail)

        await self.rt.db(write)


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    c = Counter(r["action"] for r in rows)
    return {k: c.get(k, 0) for k in ("created", "updated", "unchanged", "rejected")}


def _detail(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())
