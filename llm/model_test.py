"""A sample analysis that measures a model: prompt and generation speed in tokens/s.

The counts and times come from llama.cpp's own performance counters (reset before the run):
prompt tokens are those evaluated in batches, generated ones those decoded one at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from llm.analysis import AnalysisRequest, analyze

SAMPLE = AnalysisRequest(
    messages=[
        {"id": "1", "direction": "in", "kind": "text", "text": "Oi! Vocês têm esse tênis no tamanho 40?"},
        {"id": "2", "direction": "out", "kind": "text", "text": "Temos sim! Quer que eu separe?"},
        {"id": "3", "direction": "in", "kind": "text", "text": "Quero, qual o prazo de entrega para Curitiba?"},
    ],
    contact_name="Ana",
)


def _rate(tokens: int, ms: float) -> float | None:
    return round(tokens * 1000 / ms, 1) if ms > 0 else None


def run_sample(llama: Any, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """On the inference thread: analyse SAMPLE and report labels and speeds."""
    import llama_cpp

    ctx = getattr(llama, "ctx", None)
    llama.reset()  # measure a cold prompt, not a cached one
    if ctx is not None:
        llama_cpp.llama_perf_context_reset(ctx)
    t0 = time.monotonic()
    result = analyze(llama, SAMPLE, cancelled)
    seconds = time.monotonic() - t0
    out: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "sentiment": result["sentiment"]["label"],
        "intent": result["intent"]["label"],
        "suggestions": len(result["suggestions"]),
    }
    if ctx is not None:
        perf = llama_cpp.llama_perf_context(ctx)
        out |= {
            "prompt_tokens": perf.n_p_eval,
            "prompt_ms": round(perf.t_p_eval_ms, 1),
            "prompt_tokens_per_s": _rate(perf.n_p_eval, perf.t_p_eval_ms),
            "generated_tokens": perf.n_eval,
            "generation_ms": round(perf.t_eval_ms, 1),
            "generation_tokens_per_s": _rate(perf.n_eval, perf.t_eval_ms),
        }
    return out


def smoke(llama: Any, cancelled: Callable[[], bool]) -> str:
    """A tiny generation: proves a freshly loaded model can run before it takes over."""
    out = llama.create_completion("Hello", max_tokens=4, temperature=0.0)
    return out["choices"][0]["text"]
