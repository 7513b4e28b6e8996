"""API calls off the Tk thread: a worker pool runs them, results come back on a queue that
the Tk thread drains with ``after`` (the only thread that touches widgets, as in thonny)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Bridge:
    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conversa-ui-api")
        self._results: queue.SimpleQueue[tuple[Callable, Any]] = queue.SimpleQueue()
        self._closed = threading.Event()
        self.on_error: Failed | None = None  # default handler (status bar) when a call has none

    def call(self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None) -> None:
        """Run ``fn()`` on a worker; ``on_done(result)`` or ``on_error(exc)`` later on the Tk thread."""
        if self._closed.is_set():
            return

        def work() -> None:
            try:
                result = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the Tk thread, shown there
                handler = on_error or self.on_error
                if handler:
                    self._results.put((handler, e))
                return
            if on_done:
                self._results.put((on_done, result))

        self._pool.submit(work)

    def post(self, fn: Callable[[Any], None], value: Any = None) -> None:
        """From any thread (tray, server): run ``fn(value)`` on the Tk thread."""
        self._results.put((fn, value))

    def drain(self, limit: int = 100) -> None:
        """Called on the Tk thread by a periodic ``after``: runs the callbacks that are ready."""
        for _ in range(limit):
            try:
                fn, value = self._results.get_nowait()
            except queue.Empty:
                return
            fn(value)

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
