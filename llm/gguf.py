"""Read a GGUF file's header, metadata and tensor table in pure Python (no model load).

Enough to list a model before loading it — architecture, parameter count, quantisation,
context length, chat template — and to refuse a file that is not a GGUF or is cut short:
every tensor's data must lie inside the file. Large arrays (the tokenizer's vocabulary) are
skipped, not kept. Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from llm.errors import IntegrityError

MAGIC = b"GGUF"
VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
# Sanity bounds: a damaged or hostile header must not make us allocate or loop without end.
MAX_KV = 1 << 16
MAX_TENSORS = 1 << 20
MAX_STRING = 64 << 20
MAX_DIMS = 8
KEEP_ARRAY = 64  # arrays longer than this are skipped (only their length is kept)

# ggml tensor type -> (name, elements per block, bytes per block); checked against libggml's
# ggml_blck_size/ggml_type_size of llama-cpp-python 0.3.36.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
    42: ("Q2_0", 64, 18),
}
# general.file_type (llama.cpp's llama_ftype) -> the quantisation name people use.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
    41: "Q2_0",
}
# Metadata value types: id -> struct format of a scalar (8 string, 9 array are special).
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class Skipped:
    """A long array's place in the metadata: its element type and length, not its values."""

    type: int
    count: int


@dataclass(frozen=True)
class GGUFInfo:
    version: int
    metadata: dict[str, Any]
    tensor_count: int
    data_offset: int
    data_end: int  # where the last tensor's data ends
    parameters_from_tensors: int
    file_size: int
    tensor_types: dict[str, int] = field(default_factory=dict)

    @property
    def architecture(self) -> str | None:
        arch = self.metadata.get("general.architecture")
        return arch if isinstance(arch, str) else None

    def arch_value(self, key: str) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}") if self.architecture else None

    @property
    def parameters(self) -> int:
        declared = self.metadata.get("general.parameter_count")
        return int(declared) if isinstance(declared, int) and declared > 0 else self.parameters_from_tensors

    @property
    def quantization(self) -> str | None:
        ft = self.metadata.get("general.file_type")
        if isinstance(ft, int):
            return FILE_TYPES.get(ft, f"file_type {ft}")
        # No file_type: name it by the most common tensor type (by count).
        if self.tensor_types:
            return max(self.tensor_types.items(), key=lambda kv: kv[1])[0]
        return None

    @property
    def context_length(self) -> int | None:
        v = self.arch_value("context_length")
        return int(v) if isinstance(v, int) else None

    @property
    def has_chat_template(self) -> bool:
        return isinstance(self.metadata.get("tokenizer.chat_template"), str)

    def kv_bytes_per_token(self) -> int | None:
        """Bytes of KV cache one token of context takes (f16 K and V, every layer), or None."""
        layers = self.arch_value("block_count")
        embd = self.arch_value("embedding_length")
        heads = self.arch_value("attention.head_count")
        kv_heads = self.arch_value("attention.head_count_kv") or heads
        if not all(isinstance(x, int) and x > 0 for x in (layers, embd, heads, kv_heads)):
            return None
        k_len = self.arch_value("attention.key_length") or embd // heads
        v_len = self.arch_value("attention.value_length") or embd // heads
        return layers * kv_heads * (k_len + v_len) * 2

    def summary(self) -> dict[str, Any]:
        name = self.metadata.get("general.name")
        return {
            "gguf_version": self.version,
            "name": name if isinstance(name, str) else None,
            "architecture": self.architecture,
            "parameters": self.parameters,
            "quantization": self.quantization,
            "context_length": self.context_length,
            "chat_template": self.has_chat_template,
            "tensors": self.tensor_count,
        }


class _Reader:
    def __init__(self, f: BinaryIO, name: str):
        self.f = f
        self.name = name

    def bytes(self, n: int) -> bytes:
        b = self.f.read(n)
        if len(b) != n:
            raise IntegrityError(f"{self.name} is truncated: it ends inside the GGUF header")
        return b

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.bytes(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        if n > MAX_STRING:
            raise IntegrityError(f"{self.name}: a GGUF string of {n} bytes is not plausible; the file is damaged")
        return self.bytes(n).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        n = self.unpack("<Q")
        if n > MAX_STRING:
            raise IntegrityError(f"{self.name}: a GGUF string of {n} bytes is not plausible; the file is damaged")
        self.bytes(n)

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item = self.unpack("<I")
            count = self.unpack("<Q")
            if item == _ARRAY:
                raise IntegrityError(f"{self.name}: nested GGUF arrays are not supported")
            if count <= KEEP_ARRAY:
                return [self.value(item) for _ in range(count)]
            if item == _STRING:
                for _ in range(count):
                    self.skip_string()
            elif item in _SCALARS:
                self.bytes(struct.calcsize(_SCALARS[item]) * count)
            else:
                raise IntegrityError(f"{self.name}: unknown GGUF value type {item}")
            return Skipped(item, count)
        raise IntegrityError(f"{self.name}: unknown GGUF value type {kind}")


def read(path: Path) -> GGUFInfo:
    """Header, metadata and tensor table of `path`; IntegrityError when it is not a whole GGUF."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb", buffering=1 << 20) as f:
        r = _Reader(f, path.name)
        magic = f.read(4)
        if magic != MAGIC:
            raise IntegrityError(f"{path.name} is not a GGUF file (bad header)")
        version = r.unpack("<I")
        if version not in VERSIONS:
            raise IntegrityError(f"{path.name}: unsupported GGUF version {version}")
        n_tensors = r.unpack("<Q")
        n_kv = r.unpack("<Q")
        if n_kv > MAX_KV or n_tensors > MAX_TENSORS:
            raise IntegrityError(f"{path.name}: implausible GGUF counts ({n_kv} keys, {n_tensors} tensors)")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.unpack("<I"))
        tensors = []
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.unpack("<I")
            if n_dims > MAX_DIMS:
                raise IntegrityError(f"{path.name}: tensor {name} has {n_dims} dimensions; the file is damaged")
            dims = [r.unpack("<Q") for _ in range(n_dims)]
            ggml_type = r.unpack("<I")
            offset = r.unpack("<Q")
            tensors.append((name, dims, ggml_type, offset))
        header_end = r.f.tell()
    align = meta.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(align, int) or align <= 0:
        align = DEFAULT_ALIGNMENT
    data_offset = -(-header_end // align) * align
    params = 0
    data_end = data_offset
    types: dict[str, int] = {}
    for name, dims, ggml_type, offset in tensors:
        if ggml_type not in GGML_TYPES:
            raise IntegrityError(f"{path.name}: tensor {name} has an unknown type {ggml_type}")
        type_name, block, type_size = GGML_TYPES[ggml_type]
        n = 1
        for d in dims:
            n *= d
        params += n
        types[type_name] = types.get(type_name, 0) + 1
        data_end = max(data_end, data_offset + offset + n // block * type_size)
    if data_end > size:
        raise IntegrityError(
            f"{path.name} is truncated: its tensors need {data_end} bytes but the file has {size}; "
            "download or copy it again"
        )
    if not isinstance(meta.get("general.architecture"), str):
        raise IntegrityError(f"{path.name}: the GGUF metadata names no architecture (general.architecture)")
    return GGUFInfo(version, meta, n_tensors, data_offset, data_end, params, size, types)


_CACHE: OrderedDict[tuple, GGUFInfo] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def read_cached(path: Path) -> GGUFInfo:
    """`read`, remembered per version of the file (device, inode, size, modification time).
    The Models list describes every file on each refresh, and walking a 150,000-token
    vocabulary in Python holds the GIL for about 0.1 s each time: in the desktop window's
    process that is taken from Tk's thread. A failed read is not remembered."""
    st = Path(path).stat()
    key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    info = read(path)
    with _CACHE_LOCK:
        _CACHE[key] = info
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return info
