"""What every use case shares: settings, the database thread, the model engine, the event
broker, and the server's loop with the background tasks started on it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from desktop.config import Settings
from desktop.events import Broker
from desktop.store.database import Store
from desktop.store.writer import Writer
from llm.engine import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")


class Runtime:
    def __init__(self, settings: Settings, store: Store, engine: Engine | None):
        self.settings = settings
        self.store = store
        self.engine = engine
        self.broker = Broker()
        self._writer = Writer(store)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future] = set()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(store, …)` on the database thread (group-committed) and await it."""
        return await asyncio.wrap_future(self._writer.submit(fn, *args, **kwargs))

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
        if not task.cancelled() and task.exception():
            log.error("background task failed: %s", type(task.exception()).__name__)
