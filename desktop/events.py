"""In-process publish/subscribe of insight events per conversation, for the SSE stream."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class Broker:
    """Lives on the server's loop; publishers on other threads go through `Runtime.post`."""

    def __init__(self, max_backlog: int = 256):
        self._subs: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self._readers: dict[asyncio.Queue, asyncio.Task] = {}  # the task reading each queue
        self._max = max_backlog

    def subscribe(self, key: str) -> asyncio.Queue:
        """A queue of `(event, data)` for the calling task (a stream's handler) to read."""
        q: asyncio.Queue = asyncio.Queue(self._max)
        self._subs[key].add(q)
        task = asyncio.current_task()
        if task is not None:
            self._readers[q] = task
        return q

    def unsubscribe(self, key: str, q: asyncio.Queue) -> None:
        self._readers.pop(q, None)
        subs = self._subs.get(key)
        if subs:
            subs.discard(q)
            if not subs:
                del self._subs[key]

    def publish(self, key: str, event: str, data: Any) -> None:
        for q in list(self._subs.get(key, ())):
            if q.full():
                # A stalled reader loses old partial events, never the final one.
                q.get_nowait()
            q.put_nowait((event, data))

    def close(self) -> None:
        """The server is stopping: end every stream now (their readers are cancelled) instead of
        letting the server's shutdown wait its timeout for streams that never end by themselves."""
        for task in list(self._readers.values()):
            task.cancel()
