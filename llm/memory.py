"""Whether this machine has the memory to run a model, before trying to load it.

The rule: a model needs its file size × 1.2 (the weights are mapped and read whole; llama.cpp's
compute buffers add roughly a tenth to a fifth), plus its KV cache for the context
(f16 K and V per layer: `GGUFInfo.kv_bytes_per_token()` × n_ctx), plus the per-chat state
cache, plus 256 MiB for the runtime. It fits when that is at most what the kernel says is
available now (`MemAvailable` of /proc/meminfo); `MemTotal` decides which catalogue models
are recommended for the machine. Where /proc/meminfo does not exist (not Linux) the check is
skipped (unknown = allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHT_FACTOR = 1.2
RUNTIME_BYTES = 256 << 20
KV_FALLBACK_PER_TOKEN = 128 << 10  # when the GGUF lacks the attention sizes: a 3B-class guess
MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class Machine:
    mem_total: int | None
    mem_available: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"mem_total": self.mem_total, "mem_available": self.mem_available}


def machine(meminfo: Path = MEMINFO) -> Machine:
    """Total and available RAM in bytes (None when unknown)."""
    try:
        text = meminfo.read_text("ascii")
    except OSError:
        return Machine(None, None)
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    return Machine(values.get("MemTotal"), values.get("MemAvailable"))


def needed_bytes(file_size: int, kv_bytes_per_token: int | None, n_ctx: int, state_cache_bytes: int = 0) -> int:
    kv = (kv_bytes_per_token or KV_FALLBACK_PER_TOKEN) * n_ctx
    return int(file_size * WEIGHT_FACTOR) + kv + state_cache_bytes + RUNTIME_BYTES


def fit(needed: int, m: Machine) -> dict[str, Any]:
    """{"fits", "needed", "available"}: fits is True when the memory is unknown."""
    ok = m.mem_available is None or needed <= m.mem_available
    return {"fits": ok, "needed": needed, "available": m.mem_available}
