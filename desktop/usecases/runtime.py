"""What every use case shares: settings, the database thread, the model engine, the event
broker, and the server's loop with the background tasks started on it."""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from desktop.config import Settings
from desktop.events import Broker
from desktop.store.database import Store
from desktop.store.writer import Writer
from llm.engine import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")


class Runtime:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        engine: Engine | None,
        engine_factory: Callable[..., Engine] | None = None,
    ):
        self.settings = settings
        self.store = store
        self.engine = engine
        # Given by the composition root: loading another model (a switch, a test) needs one.
        self.engine_factory = engine_factory
        self.broker = Broker()
        self._writer = Writer(store)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future] = set()
        self._access_listeners: list[Callable[[], Awaitable[None]]] = []

    def on_access_change(self, listener: Callable[[], Awaitable[None]]) -> None:
        """`listener` is awaited after a device is revoked or a user's role or state changes
        (the sessions drop what they cached about devices)."""
        self._access_listeners.append(listener)

    async def access_changed(self) -> None:
        for listener in self._access_listeners:
            await listener()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(store, …)` on the database thread (group-committed) and await it."""
        return await asyncio.wrap_future(self._writer.submit(fn, *args, **kwargs))

    async def db_alone(self, fn: Callable[..., T], *args: Any) -> T:
        """`db` for a function that must run outside any transaction (see `Writer.submit_alone`)."""
        return await asyncio.wrap_future(self._writer.submit_alone(fn, *args))

    def db_wait(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The same from a thread that is not the loop's (e.g. a prompt before the server starts)."""
        return self._writer.submit(fn, *args, **kwargs).result()

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` on the loop, from any thread. Dropped once the loop is closed: a stop
        fails the queued model jobs after the loop has ended, and their callbacks land here."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # closed between the check and the call
            pass

    async def off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on a thread of its own and await it. Unlike `asyncio.to_thread`, whose
        threads the loop's shutdown waits for, a stop never waits for this one: what it computes
        is only written by the caller afterwards, so abandoning it loses nothing."""
        fut: asyncio.Future = asyncio.get_running_loop().create_future()

        def settle(ok: bool, value: Any) -> None:
            if not fut.done():
                fut.set_result(value) if ok else fut.set_exception(value)

        def run() -> None:
            try:
                value, ok = fn(*args), True
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
                value, ok = e, False
            self.post(settle, ok, value)

        threading.Thread(target=run, name="work", daemon=True).start()
        return await fut

    def close(self) -> None:
        self._writer.close()

    def model_status(self) -> dict[str, Any]:
        if self.engine is None:
            return {
                "id": self.settings.model,
                "state": "unavailable",
                "error": {"code": "model_disabled", "message": "the model is disabled"},
            }
        return self.engine.status()

    def background(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future:
        """Run `coro` on the loop without awaiting it: referenced until it ends, its failure logged."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            # Where it failed, without the exception's message: it may quote a customer's text.
            where = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
            log.error("background task failed: %s\n%s", type(exc).__name__, where)
