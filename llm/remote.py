"""Inference on OpenAI-compatible servers (llama.cpp's `llama-server`, `python -m
llama_cpp.server`, vLLM) instead of the built-in engine, behind the same interface as `Engine`:
`submit(key, fn)` runs `fn(model, cancelled)` on a worker thread, with the same coalescing
queue (a newer job of a chat replaces its queued one and cancels its running one).

`model` is a `RemoteModel`: `llm.analysis.analyze` sees it and streams the suggestions with a
chat completion constrained by the suggestion JSON schema, the prompt laid out exactly as for
the built-in engine (instructions, the conversation oldest first, then the task), so a server
with a prompt cache re-uses the chat's evaluated prefix (`cache_prompt`).

Several servers: one request in flight per server, the least busy healthy one first, in
turn among equals; a server that fails is skipped for `RETRY_AFTER` seconds (tried again
sooner only when every server is failing). When none answers, the job fails with the reason,
so the insight says `unavailable` and the capture itself is stored as always.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from llm.engine import Job, _fail
from llm.errors import Cancelled, GenerationFailed, LLMError

log = logging.getLogger(__name__)

RETRY_AFTER = 30.0  # seconds a failed server is skipped
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0  # between two streamed pieces: a busy CPU server can be slow to start


class RemoteUnavailable(LLMError):
    code = "inference_unavailable"


def parse_urls(text: str) -> list[str]:
    """`http://a:8080, http://b:8080/v1` → base URLs without a trailing `/v1` or slash."""
    out = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"inference_url: {item!r} is not an http(s) URL")
        base = item.rstrip("/")
        if base.endswith("/v1"):
            base = base[:-3]
        out.append(base)
    return out


@dataclass
class Endpoint:
    url: str
    in_flight: int = 0
    failed_until: float = 0.0
    last_error: str | None = None
    served: int = 0

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


class Pool:
    """Which server takes the next request; thread-safe."""

    def __init__(self, urls: list[str]):
        self.endpoints = [Endpoint(u) for u in urls]
        self._turn = 0
        self._lock = threading.Lock()

    def order(self) -> list[Endpoint]:
        """Healthy servers, least busy first (in turn among equals), then failing ones by retry time."""
        with self._lock:
            now = time.monotonic()
            n = len(self.endpoints)
            start = self._turn
            self._turn = (self._turn + 1) % n
            rotated = [self.endpoints[(start + i) % n] for i in range(n)]
            healthy = sorted((e for e in rotated if e.failed_until <= now), key=lambda e: e.in_flight)
            failing = sorted((e for e in rotated if e.failed_until > now), key=lambda e: e.failed_until)
            return healthy + failing

    def begin(self, ep: Endpoint) -> None:
        with self._lock:
            ep.in_flight += 1

    def end(self, ep: Endpoint, error: str | None) -> None:
        with self._lock:
            ep.in_flight -= 1
            if error is None:
                ep.failed_until, ep.last_error = 0.0, None
                ep.served += 1
            else:
                ep.failed_until, ep.last_error = time.monotonic() + RETRY_AFTER, error


class _Unreachable(Exception):
    """Nothing was generated: the next server may be tried."""


class RemoteModel:
    """What an analysis job gets instead of a `Llama`: a streaming chat completion on the pool."""

    remote = True

    def __init__(self, pool: Pool, n_ctx: int, model_name: str = "", api_key: str = ""):
        self.pool = pool
        self._n_ctx = n_ctx
        self.model_name = model_name
        self._headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def n_ctx(self) -> int:
        return self._n_ctx

    def stream_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        temperature: float,
        max_tokens: int,
        cancelled: Callable[[], bool],
        on_text: Callable[[str], None] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Stream a schema-constrained answer; returns (text, usage: tokens, server)."""
        body = {
            "messages": messages,
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "repeat_penalty": 1.15,  # as the built-in engine (llama.cpp servers; others ignore it)
            # The schema as each server family takes it: llama.cpp servers (`response_format`
            # with `schema`), vLLM (`guided_json`); a server ignores the fields it does not know.
            "response_format": {"type": "json_object", "schema": schema},
            "guided_json": schema,
            "cache_prompt": True,  # llama-server: re-use the chat's evaluated prefix
        }
        if self.model_name:
            body["model"] = self.model_name
        errors = []
        for ep in self.pool.order():
            if cancelled():
                raise Cancelled("cancelled by a newer request")
            self.pool.begin(ep)
            error: str | None = None
            try:
                return self._stream(ep, body, cancelled, on_text)
            except _Unreachable as e:
                error = str(e)
                errors.append(f"{ep.host}: {error}")
                log.warning("inference server %s failed (%s); trying the next one", ep.host, error)
            except GenerationFailed as e:
                error = e.message
                raise
            finally:
                self.pool.end(ep, error)
        raise RemoteUnavailable("no inference server answered (" + "; ".join(errors) + ")")

    def _stream(
        self,
        ep: Endpoint,
        body: dict[str, Any],
        cancelled: Callable[[], bool],
        on_text: Callable[[str], None] | None,
    ) -> tuple[str, dict[str, Any]]:
        out: list[str] = []
        pieces = 0
        usage: dict[str, Any] = {}
        conn = _connection(ep.url)
        try:
            try:
                path = urlsplit(ep.url).path + "/v1/chat/completions"
                payload = json.dumps(body).encode()
                conn.request("POST", path, payload, self._headers)
                conn.sock.settimeout(READ_TIMEOUT)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                raise _Unreachable(_reason(e)) from None
            if resp.status != 200:
                detail = resp.read(300).decode("utf-8", "replace").replace("\n", " ")
                raise _Unreachable(f"HTTP {resp.status} {detail[:120]}")
            try:
                for event in _events(resp):
                    if cancelled():
                        raise Cancelled("cancelled by a newer request")
                    if event.get("usage"):
                        usage = event["usage"]
                    for choice in event.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if piece:
                            pieces += 1
                            out.append(piece)
                            if on_text:
                                on_text("".join(out))
            except (OSError, http.client.HTTPException, ValueError) as e:
                if not out:
                    raise _Unreachable(_reason(e)) from None
                raise GenerationFailed(f"the inference server {ep.host} stopped mid-answer ({_reason(e)})") from None
        finally:
            conn.close()
        return "".join(out), {
            "generated_tokens": usage.get("completion_tokens") or pieces,
            "prompt_tokens": usage.get("prompt_tokens"),
            "server": ep.host,
        }


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname, parts.port, timeout=CONNECT_TIMEOUT)


def _reason(e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, TimeoutError):
        return "timed out"
    return getattr(e, "strerror", None) or type(e).__name__


def _events(resp: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    """The JSON objects of a Server-Sent Events stream, until `[DONE]` or its end."""
    data: list[str] = []
    while True:
        line = resp.readline()
        if not line:
            return
        text = line.decode("utf-8").rstrip("\r\n")
        if text.startswith("data:"):
            data.append(text[5:].strip())
        elif text == "" and data:
            chunk = "\n".join(data)
            data = []
            if chunk == "[DONE]":
                return
            yield json.loads(chunk)


class RemoteEngine:
    """`Engine`'s interface over a pool of servers: states ready (serving) or unavailable (stopped)."""

    def __init__(
        self,
        urls: list[str],
        model_id: str,
        n_ctx: int = 2048,
        queue_size: int = 64,
        model_name: str = "",
        api_key: str = "",
    ):
        self.pool = Pool(urls)
        self.model = RemoteModel(self.pool, n_ctx, model_name, api_key)
        self.settings = _Settings(model_id, n_ctx, queue_size)
        self.state = "unavailable"
        self.error: LLMError | None = None
        self._queue: OrderedDict[str, Job] = OrderedDict()
        self._running: dict[str, Job] = {}
        self._cv = threading.Condition()
        self._stop = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            return
        self.state = "ready"
        for i in range(len(self.pool.endpoints)):  # one request in flight per server
            t = threading.Thread(target=self._worker, name=f"inference-remote-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10) -> None:
        with self._cv:
            self._stop = True
            for job in self._queue.values():
                _fail(job.future, Cancelled("engine stopped"))
            self._queue.clear()
            for job in self._running.values():
                job.cancel_event.set()
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self.state = "unavailable"

    def wait_ready(self, timeout: float = 120) -> bool:
        return self.state == "ready"

    def status(self) -> dict[str, Any]:
        err = {"code": self.error.code, "message": self.error.message} if self.error else None
        return {"id": self.settings.model_id, "state": self.state, "error": err}

    def clear_state_cache(self) -> Job:
        """The servers keep their own prompt caches, keyed by the prompt text: nothing to drop here."""
        job = Job("clear-state-cache", lambda model, cancelled: None)
        job.future.set_result(None)
        return job

    def submit(self, key: str, fn: Callable[[Any, Callable[[], bool]], Any]) -> Job:
        job = Job(key, fn)
        with self._cv:
            if self._stop or self.state != "ready":
                _fail(job.future, RemoteUnavailable("the inference client is stopped"))
                return job
            old = self._queue.pop(key, None)
            if old:
                _fail(old.future, Cancelled("replaced by a newer request"))
            running = self._running.get(key)
            if running:
                running.cancel_event.set()
            while len(self._queue) >= self.settings.queue_size:
                _, dropped = self._queue.popitem(last=False)
                _fail(dropped.future, Cancelled("dropped: too many analyses waiting"))
            self._queue[key] = job
            self._cv.notify()
        return job

    def run(self, fn: Callable[[Any, Callable[[], bool]], Any], timeout: float | None = None) -> Any:
        key = f"sync-{id(fn)}-{time.monotonic_ns()}"
        return self.submit(key, fn).future.result(timeout)

    def queued(self) -> int:
        with self._cv:
            return len(self._queue) + len(self._running)

    def _worker(self) -> None:
        while True:
            with self._cv:
                # A chat already being analysed waits for that run to end: one run per chat at a time.
                while not self._stop and not any(k not in self._running for k in self._queue):
                    self._cv.wait()
                if self._stop:
                    return
                key = next(k for k in self._queue if k not in self._running)
                job = self._queue.pop(key)
                self._running[key] = job
            try:
                if not job.future.set_running_or_notify_cancel():
                    continue
                result = job.fn(self.model, job.cancelled)
                if job.cancelled():
                    raise Cancelled("cancelled by a newer request")
                if not job.future.done():
                    job.future.set_result(result)
            except LLMError as e:
                _fail(job.future, e)
            except Exception as e:  # noqa: BLE001 - report, keep the worker alive
                log.exception("remote inference job failed")
                _fail(job.future, GenerationFailed(f"generation failed: {type(e).__name__}"))
            finally:
                with self._cv:
                    if self._running.get(key) is job:
                        del self._running[key]
                    self._cv.notify_all()


@dataclass(frozen=True)
class _Settings:
    model_id: str
    n_ctx: int
    queue_size: int
