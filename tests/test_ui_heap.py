"""The window's process moves its start-up heap out of the garbage collector's reach once the
hosted model is ready (desktop/ui/heap.py): full collections then walk only newer objects."""

from __future__ import annotations

import gc

from desktop.ui.heap import SERVER, HeapSettler


def test_the_heap_is_frozen_once_per_ready_model():
    gc.unfreeze()
    try:
        settler = HeapSettler()
        assert not settler.settle("")  # no model reported: nothing to settle
        assert gc.get_freeze_count() == 0
        keep = [[i] for i in range(1000)]  # long-lived objects, tracked by the collector
        assert settler.settle("SmolLM2-135M-Instruct.Q4_1")
        frozen = gc.get_freeze_count()
        assert frozen >= len(keep)
        assert not settler.settle("SmolLM2-135M-Instruct.Q4_1")  # the next probes: no-op
        assert gc.get_freeze_count() == frozen
        assert settler.settle("Qwen2.5-Coder-1.5B-Instruct")  # a switch to another model
        assert settler.settle(SERVER) and not settler.settle(SERVER)
    finally:
        gc.unfreeze()
