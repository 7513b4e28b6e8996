"""The window's process keeps the garbage collector's full passes short.

The window's process also hosts the server and the model: after start-up its heap holds about
150,000 tracked objects (the server's modules, lexicons, the model's wrappers). A full
collection walks all of them while holding the GIL: 95-120 ms in tests/bench/bench_desktop.py,
during the first analysis after a model Test, and Tk's thread waited that long (measured with
`perf`: the collecting thread was in gc_collect_main for the whole stall). Most of those objects
live as long as the process, so they are moved out of the collector's reach (`gc.freeze`) once
the server answers and once per hosted model that becomes ready; later full passes walk only
what was allocated since.

The cost: a frozen object that later becomes part of an unreachable reference cycle is never
collected (objects without cycles are still freed by reference counting). Each freeze can
strand at most what was alive at that moment and dropped later (e.g. the sign-in page's
widgets), and freezes happen once plus once per model id; the model itself is closed
explicitly by `Engine.stop`, not left to the collector.
"""

from __future__ import annotations

import gc

SERVER = "server"  # the reason given once the hosted server answers


class HeapSettler:
    """Freezes the heap once per reason: the hosted server up, then each model it reports ready."""

    def __init__(self) -> None:
        self.frozen_for: set[str] = set()

    def settle(self, reason: str) -> bool:
        """Called with each health probe's ready model (and SERVER once); True when this call
        froze the heap."""
        if not reason or reason in self.frozen_for:
            return False
        self.frozen_for.add(reason)
        gc.freeze()
        return True
