"""In-process publish/subscribe of insight events per conversation, for the SSE stream."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class Broker:
    """Lives on the server's loop; publishers on other threads go through `call_soon_threadsafe`."""

    def __init__(self, max_backlog: int = 256):
        self._subs: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self._max = max_backlog

    def subscribe(self, key: str) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(self._max)
        self._subs[key].add(q)
        return q

    def unsubscribe(self, key: str, q: asyncio.Queue) -> None:
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
