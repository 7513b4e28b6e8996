"""The one model instance, owned by one thread, fed by a bounded coalescing queue.

`llama_cpp.Llama` is not thread-safe, so only the inference thread ever touches it. Jobs carry
a key (a chat): a newer job for the same key replaces a queued one, and cancels a running one
between tokens. Results and partial output go back through the callbacks the job carries;
the caller decides which loop or queue they land on.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm.errors import Cancelled, GenerationFailed, LLMError, ModelLoadFailed, ModelMissing

log = logging.getLogger(__name__)

LABEL_CTX = 512  # the label pass: fixed prefix + at most 160 message tokens + a question


def slim_scores(llama: Any) -> None:
    """Keep one row of llama-cpp-python's logits array instead of n_batch × n_vocab.

    Without ``logits_all`` the array is only read for logprobs and stopping criteria (we use
    neither), yet ``save_state`` copies it into every cached state (~100 MB with SmolLM2's
    49k vocabulary, not counted against the RAM cache's capacity) and ``load_state`` copies
    it back: most of the time a state switch costs."""
    import numpy as np

    scores = getattr(llama, "scores", None)
    if getattr(llama, "_logits_all", True) or not isinstance(scores, np.ndarray) or scores.ndim != 2:
        return
    llama.scores = np.zeros((1, scores.shape[1]), dtype=scores.dtype)


@dataclass(frozen=True)
class EngineSettings:
    model_path: Path
    model_id: str
    n_ctx: int = 2048
    n_threads: int = 0
    n_gpu_layers: int = 0
    state_cache_bytes: int = 256 << 20
    queue_size: int = 64


@dataclass
class Job:
    key: str
    fn: Callable[[Any, Callable[[], bool]], Any]
    future: Future = field(default_factory=Future)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    queued_at: float = field(default_factory=time.monotonic)

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


def _fail(fut: Future, exc: BaseException) -> None:
    """A waiter may have given up (cancelled its future); that is not an error here."""
    if not fut.done():
        fut.set_exception(exc)


def _lower_priority() -> None:
    """Let ingestion and the UI win the CPU over generation. On Linux niceness is per thread and
    llama.cpp's worker threads inherit it from this one; elsewhere this is a no-op. Nice 5, not
    more: at nice 10 a busy server (or machine) left the model about 1 % of a core, and the first
    start's preparation never finished under sustained load; at 5 the scheduler still gives it
    about a quarter of a core next to one busy thread."""
    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
        except OSError:
            pass


def open_model(settings: EngineSettings) -> Any:
    """The generation ``Llama`` as the inference thread uses it, with its label context attached
    and the RAM cache of per-chat states (benchmarks build theirs here too)."""
    path = settings.model_path
    try:
        from llama_cpp import Llama, LlamaRAMCache
    except ImportError as e:
        raise ModelLoadFailed(f"llama-cpp-python is not installed ({e})") from None
    threads = settings.n_threads or os.cpu_count() or 1
    try:
        llama = Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=settings.n_gpu_layers,
            verbose=False,
        )
        # The label pass gets its own small context on the same (memory-mapped) weights, so
        # it never evicts the conversation prefix the suggestions re-use, and its own fixed
        # prefix stays evaluated too (see label_features.model_pass).
        labels = Llama(
            model_path=str(path),
            n_ctx=min(LABEL_CTX, settings.n_ctx),
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=settings.n_gpu_layers,
            verbose=False,
        )
    except Exception as e:  # noqa: BLE001 - llama.cpp raises ValueError/RuntimeError alike
        raise ModelLoadFailed(f"could not load {path.name}: {e}") from None
    slim_scores(llama)
    slim_scores(labels)
    llama._conversa_label_llama = labels
    if settings.state_cache_bytes > 0:
        llama.set_cache(LlamaRAMCache(capacity_bytes=settings.state_cache_bytes))
    return llama


class Engine:
    """States: unavailable (no model / failed), loading, ready."""

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        self.state = "unavailable"
        self.error: LLMError | None = None
        self._queue: OrderedDict[str, Job] = OrderedDict()
        self._running: Job | None = None
        self._cv = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._llama = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        if self._thread:
            return
        self.state = "loading"
        self._thread = threading.Thread(target=self._main, name="inference", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        with self._cv:
            self._stop = True
            for job in self._queue.values():
                _fail(job.future, Cancelled("engine stopped"))
            self._queue.clear()
            if self._running:
                self._running.cancel_event.set()
            self._cv.notify_all()
        if self._thread:
            self._thread.join(timeout)
        llama, self._llama = self._llama, None
        # The model's memory is freed now, not whenever a garbage collection finds it: a process
        # may freeze its heap out of the collector (`gc.freeze`; the desktop window does), and a
        # reference cycle in there is then never collected. Not while the thread still runs.
        if llama is not None and not (self._thread and self._thread.is_alive()):
            for model in (getattr(llama, "_conversa_label_llama", None), llama):
                if hasattr(model, "close"):
                    model.close()

    def wait_ready(self, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while self.state == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.state == "ready"

    def status(self) -> dict[str, Any]:
        err = {"code": self.error.code, "message": self.error.message} if self.error else None
        return {"id": self.settings.model_id, "state": self.state, "error": err}

    def clear_state_cache(self) -> Job:
        """Drop every cached KV state (after a contact is erased); later analyses rebuild theirs."""

        def clear(llama: Any, cancelled: Callable[[], bool]) -> None:
            from llama_cpp import LlamaRAMCache

            if self.settings.state_cache_bytes > 0:
                llama.set_cache(LlamaRAMCache(capacity_bytes=self.settings.state_cache_bytes))
            llama.reset()
            labels = getattr(llama, "_conversa_label_llama", None)
            if labels is not None:
                labels.reset()

        return self.submit("clear-state-cache", clear)

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, key: str, fn: Callable[[Any, Callable[[], bool]], Any]) -> Job:
        """Queue `fn(llama, cancelled)`; replaces a queued job of the same key, cancels a running one."""
        job = Job(key, fn)
        with self._cv:
            if self.state == "unavailable" or self._stop:
                _fail(job.future, self.error or ModelMissing("no model is loaded"))
                return job
            old = self._queue.pop(key, None)
            if old:
                _fail(old.future, Cancelled("replaced by a newer request"))
            if self._running and self._running.key == key:
                self._running.cancel_event.set()
            while len(self._queue) >= self.settings.queue_size:
                _, dropped = self._queue.popitem(last=False)
                _fail(dropped.future, Cancelled("dropped: too many analyses waiting"))
            self._queue[key] = job
            self._cv.notify()
        return job

    def run(self, fn: Callable[[Any, Callable[[], bool]], Any], timeout: float | None = None) -> Any:
        """Run on the inference thread and wait (CLI, eval, model test)."""
        key = f"sync-{id(fn)}-{time.monotonic_ns()}"
        return self.submit(key, fn).future.result(timeout)

    def queued(self) -> int:
        with self._cv:
            return len(self._queue) + (1 if self._running else 0)

    # -- the inference thread ----------------------------------------------------------------
    def _load(self) -> None:
        path = self.settings.model_path
        if not path.exists():
            raise ModelMissing(
                f"model file {path.name} is not in the models folder; run `conversa models pull default`"
            )
        threads = self.settings.n_threads or os.cpu_count() or 1
        t0 = time.monotonic()
        llama = open_model(self.settings)
        log.info("model %s loaded in %.2fs (%d threads)", self.settings.model_id, time.monotonic() - t0, threads)
        try:
            from .seed_adapter import prepare

            prepare(llama, path, lambda: self._stop)
        except Exception:  # noqa: BLE001 - labels still work without the built-in adapter
            log.exception("built-in label adapter unavailable")
        self._llama = llama

    def _main(self) -> None:
        _lower_priority()
        try:
            self._load()
        except LLMError as e:
            self.error = e
            log.warning("model unavailable: %s", e.message)
            with self._cv:
                pending = list(self._queue.values())
                self._queue.clear()
            for job in pending:
                _fail(job.future, e)
            self.state = "unavailable"
            return
        self.state = "ready"
        while True:
            with self._cv:
                while not self._queue and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                _, job = self._queue.popitem(last=False)
                self._running = job
            try:
                if not job.future.set_running_or_notify_cancel():
                    continue
                result = job.fn(self._llama, job.cancelled)
                if job.cancelled():
                    raise Cancelled("cancelled by a newer request")
                if not job.future.done():
                    job.future.set_result(result)
            except LLMError as e:
                _fail(job.future, e)
            except Exception as e:  # noqa: BLE001 - report, keep the thread alive
                log.exception("inference job failed")
                _fail(job.future, GenerationFailed(f"generation failed: {type(e).__name__}"))
            finally:
                with self._cv:
                    self._running = None
