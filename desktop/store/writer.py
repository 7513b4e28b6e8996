"""The database thread: every store call runs here, and writes are group-committed.

Acknowledged writes must survive a crash (synchronous=FULL: one fsync per COMMIT, ~3 ms on a
small VPS disk). Jobs that are waiting when the thread gets to them run inside one shared
transaction, each in its own savepoint so a failing job rolls back alone, and a single COMMIT
makes all of them durable before any of their callers is answered.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from desktop.store.database import Store

log = logging.getLogger(__name__)
MAX_BATCH = 64


class Writer:
    def __init__(self, store: Store):
        self.store = store
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="db", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        self._q.put((fn, args, kwargs, fut, False))
        return fut

    def submit_alone(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run `fn(store, …)` by itself, outside any transaction (it manages its own): a restore
        replaces the whole database through the backup API, which needs the connection idle."""
        fut: Future = Future()
        self._q.put((fn, args, {}, fut, True))
        return fut

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(30)

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            batch, alone = [first], None
            stop = False
            while len(batch) < MAX_BATCH and not batch[0][4]:
                try:
                    item = self._q.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                if item[4]:
                    alone = item
                    break
                batch.append(item)
            if batch[0][4]:
                batch, alone = [], batch[0]
            if batch:
                self._run_batch(batch)
            if alone:
                self._run_alone(alone)
            if stop:
                return

    def _run_alone(self, item: tuple) -> None:
        fn, args, _, fut, _ = item
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn(self.store, *args))
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            if self.store.conn.in_transaction:
                self.store.conn.execute("ROLLBACK")
            fut.set_exception(e)

    def _run_batch(self, batch: list) -> None:
        conn = self.store.conn
        results: list[tuple[Future, bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
        except Exception as e:  # noqa: BLE001 - e.g. the database is locked by another process for too long
            for _, _, _, fut, _ in batch:
                fut.set_exception(e)
            return
        for fn, args, kwargs, fut, _ in batch:
            if not fut.set_running_or_notify_cancel():
                continue
            conn.execute("SAVEPOINT job")
            try:
                value = fn(self.store, *args, **kwargs)
                conn.execute("RELEASE job")
                results.append((fut, True, value))
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                results.append((fut, False, e))
        try:
            conn.execute("COMMIT")
        except Exception as e:  # noqa: BLE001 - nothing of this batch is durable: fail every job
            log.exception("group commit failed")
            try:
                conn.execute("ROLLBACK")
            except Exception:  # noqa: BLE001
                pass
            results = [(fut, False, e) for fut, _, _ in results]
        for fut, ok, value in results:
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
