"""The built-in label adapter: the same adapter as a team's, trained on our own examples.

``llm/data/seed_pt.tsv`` and ``seed_en.tsv`` are short customer messages written by the
Conversa team (text, sentiment, intent). Trained with the model's features, they teach the
adapter what the model's reading of a message means for our labels, which the lexicon alone
cannot: English sentiment goes from 0.69 to 0.77 macro-F1 (README, Quality). One adapter per
language, so adding Portuguese examples never moves English labels.

Features need one model pass per example (~230 passes, about 30 s on 2 cores), so the trained
adapters are cached next to the model file, keyed by the model file, the seed files and the
feature/adapter versions; later starts load them in milliseconds. Without a model they are
trained from the text features alone (a fraction of a second, kept in memory).
"""

from __future__ import annotations

import functools
import glob
import hashlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import adapter as adapter_mod
from .label_features import FEATURE_VERSION, features, text_features

log = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
TASKS = ("sentiment", "intent")
LANGS = ("pt", "en")
_ATTR = "_conversa_seed_adapters"


def seed_rows() -> list[tuple[str, str, str, str]]:
    """``(text, lang, sentiment, intent)`` for every seed example."""
    rows = []
    for lang in LANGS:
        for line in (DATA / f"seed_{lang}.tsv").read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                text, sentiment, intent = line.split("\t")
                rows.append((text, lang, sentiment, intent))
    return rows


def train_from(feats: list[dict]) -> dict[str, dict[str, adapter_mod.Adapter]]:
    """One adapter per language and task: each language's examples only shape its own labels."""
    rows = seed_rows()
    out: dict[str, dict[str, adapter_mod.Adapter]] = {}
    for lang in LANGS:
        mine = [(f, r) for f, r in zip(feats, rows, strict=True) if r[1] == lang]
        out[lang] = {
            "sentiment": adapter_mod.train([(f, r[2]) for f, r in mine], "sentiment", adapter_mod.SEED_C),
            "intent": adapter_mod.train([(f, r[3]) for f, r in mine], "intent", adapter_mod.SEED_C),
        }
    return out


@functools.cache
def _text_only() -> dict[str, dict[str, adapter_mod.Adapter]]:
    return train_from([text_features(text, lang) for text, lang, _, _ in seed_rows()])


def _cache_key(model_path: Path) -> str:
    h = hashlib.sha256(f"{FEATURE_VERSION}/{adapter_mod.FORMAT}".encode())
    st = model_path.stat()
    h.update(f"{model_path.name}/{st.st_size}/{int(st.st_mtime)}".encode())
    for lang in LANGS:
        h.update((DATA / f"seed_{lang}.tsv").read_bytes())
    return h.hexdigest()[:16]


def _read(paths: dict[tuple[str, str], Path]) -> dict[str, dict[str, adapter_mod.Adapter]] | None:
    try:
        out: dict[str, dict[str, adapter_mod.Adapter]] = {}
        for (lang, task), p in paths.items():
            out.setdefault(lang, {})[task] = adapter_mod.Adapter.from_bytes(p.read_bytes())
        return out
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # missing or damaged: rebuild
        return None


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".seed-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # atomic: concurrent starts never read half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _seed_features(llama: Any, stopping: Callable[[], bool]) -> list[dict] | None:
    """The model's features of every seed example; None as soon as ``stopping()``.

    Checked between examples and, through llama.cpp's abort callback, inside a model pass too:
    on a busy machine one pass of this low-priority thread can take seconds.
    """
    import llama_cpp

    abort = llama_cpp.ggml_abort_callback(lambda _data: bool(stopping()))
    ctx = getattr(llama, "ctx", None)
    if ctx is not None:
        llama_cpp.llama_set_abort_callback(ctx, abort, None)
    try:
        feats = []
        for text, lang, _, _ in seed_rows():
            if stopping():
                return None
            feats.append(features(text, lang, llama))
        return feats
    except RuntimeError:  # llama_decode gave up: it was asked to stop
        if stopping():
            return None
        raise
    finally:
        if ctx is not None:  # analyses never pay for a Python call per graph node
            llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(), None)


def prepare(
    llama: Any, model_path: Path, stopping: Callable[[], bool] = lambda: False
) -> dict[str, dict[str, adapter_mod.Adapter]] | None:
    """Load or build the seed adapters for this model and attach them to ``llama``.

    Runs on the inference thread, right after the model loads. Building stops as soon as
    ``stopping()``: None is returned, nothing is cached, and the next start builds again.
    """
    real = model_path.resolve()  # test and user folders may hold a symlink: cache by the real file
    key = _cache_key(real)
    paths = {
        (lang, task): real.parent / f"{real.stem}.seed-{lang}-{task}-{key}.npz" for lang in LANGS for task in TASKS
    }
    adapters = _read(paths)
    if adapters is None:
        log.info("preparing the built-in label examples for this model (once, about 30 s)")
        feats = _seed_features(llama, stopping)
        if feats is None:
            log.info("stopped before the built-in label examples were ready")
            return None
        adapters = train_from(feats)
        try:
            for (lang, task), p in paths.items():
                _write(p, adapters[lang][task].to_bytes())
            for old in real.parent.glob(f"{glob.escape(real.stem)}.seed-*.npz"):  # earlier seeds or versions
                if old not in paths.values():
                    old.unlink(missing_ok=True)
        except OSError as e:  # a read-only models folder: rebuild next start, still work now
            log.warning("could not cache the built-in label adapters: %s", e.strerror)
    try:
        setattr(llama, _ATTR, adapters)
    except AttributeError:  # pragma: no cover - a Llama without a __dict__
        pass
    return adapters


def for_model(llama: Any) -> dict[str, dict[str, adapter_mod.Adapter]] | None:
    """The seed adapters for this model instance by language and task (text-only ones without a model)."""
    if llama is None:
        return _text_only()
    return getattr(llama, _ATTR, None)
