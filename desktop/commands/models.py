"""`conversa models pull|list|use|recommend|test`."""

from __future__ import annotations

import argparse
import sys
import time

from desktop.app import engine_settings
from desktop.config import Settings, save
from desktop.errors import InvalidInput
from llm import catalog, memory
from llm.engine import Engine


class _Progress:
    """One updating line on a terminal, a line per 10 % otherwise."""

    def __init__(self) -> None:
        self.last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        pct = int(done * 100 / total) if total else 0
        if sys.stderr.isatty():
            print(f"\r{stage:<9} {pct:3d}%  {done / 1e6:7.1f} / {total / 1e6:.1f} MB", end="", file=sys.stderr)
            if done >= total:
                print(file=sys.stderr)
        elif (stage, pct // 10) != self.last:
            self.last = (stage, pct // 10)
            print(f"{stage} {pct}%", file=sys.stderr)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "pull":
        path, downloaded = catalog.pull(args.model_id, settings.models_path, _Progress())
        print(f"{'downloaded' if downloaded else 'already there'}: {path}")
        return 0
    if args.action == "list":
        for m in catalog.list_files(settings.models_path, settings.catalog_path):
            mark = "*" if m["id"] == settings.model else " "
            state = "present" if m["present"] else "not downloaded"
            size = f"{(m['size'] or 0) / 1e6:.0f} MB"
            print(f"{mark} {m['id']:<36} {state:<15} {size:>7}  {m['licence']}")
        return 0
    if args.action == "use":
        path = catalog.model_path(settings.models_path, args.model_id, settings.catalog_path)
        if not path.exists():
            raise InvalidInput(f"{path.name} is not in {settings.models_path}; pull or import it first")
        catalog.check_gguf_header(path)
        settings.data_path.mkdir(parents=True, exist_ok=True)
        save(settings.data_path, {"model": args.model_id})
        print(f"active model: {args.model_id} (restart the server to load it)")
        return 0
    if args.action == "recommend":
        return _recommend(settings)
    if args.action == "test":
        return _test(settings, args.model_id or settings.model)
    return 2


def _recommend(settings: Settings) -> int:
    """The catalogue's models by the machine size they need (`min_ram_gb`); the largest that fits
    this machine's total memory is the recommendation."""
    m = memory.machine()
    _, entries = catalog.load_catalog(settings.catalog_path)
    sized = sorted((e for e in entries if e.min_ram_gb), key=lambda e: e.min_ram_gb or 0)
    if m.mem_total is None:
        print("this machine's memory is unknown (no /proc/meminfo): pick by the table below")
    else:
        print(
            f"this machine: {m.mem_total / (1 << 30):.1f} GB of RAM, {(m.mem_available or 0) / (1 << 30):.1f} GB free"
        )
    fits = [e for e in sized if m.mem_total is None or (e.min_ram_gb or 0) * (1 << 30) <= m.mem_total]
    best = max(fits, key=lambda e: e.min_ram_gb or 0, default=None)
    for e in sized:
        mark = "*" if best is not None and e.min_ram_gb == best.min_ram_gb and e in fits else " "
        ok = "fits" if e in fits else "too big"
        print(f"{mark} {e.id:<36} needs {e.min_ram_gb:>4g} GB  {ok:<8} {e.licence}")
    if best is not None:
        print(
            f'recommended: the models marked * (download one with POST /api/v1/models/download {{"id": "{best.id}"}})'
        )
    return 0


def _test(settings: Settings, model_id: str) -> int:
    from dataclasses import replace

    from llm.analysis import AnalysisRequest, analyze

    es = replace(
        engine_settings(settings),
        model_path=catalog.model_path(settings.models_path, model_id, settings.catalog_path),
        model_id=model_id,
    )
    engine = Engine(es)
    t0 = time.monotonic()
    engine.start()
    if not engine.wait_ready(300):
        print(f"conversa: error: {engine.error.message if engine.error else 'model did not load'}", file=sys.stderr)
        return 1
    load_s = time.monotonic() - t0
    sample = AnalysisRequest(
        messages=[
            {"id": "1", "direction": "in", "kind": "text", "text": "Oi! Vocês têm esse tênis no tamanho 40?"},
            {"id": "2", "direction": "out", "kind": "text", "text": "Temos sim! Quer que eu separe?"},
            {"id": "3", "direction": "in", "kind": "text", "text": "Quero, qual o prazo de entrega para Curitiba?"},
        ],
        contact_name="Ana",
    )
    t1 = time.monotonic()
    result = engine.run(lambda llama, cancelled: analyze(llama, sample, cancelled), timeout=600)
    gen_s = time.monotonic() - t1
    engine.stop()
    t = result["timings"]
    print(f"model {model_id}: loaded in {load_s:.2f}s")
    print(f"sentiment {result['sentiment']['label']}, intent {result['intent']['label']}")
    for s in result["suggestions"]:
        print(f"  - {s}")
    print(
        f"prompt {t['prompt_tokens']} tokens, generated {t['generated_tokens']} tokens in {gen_s:.2f}s "
        f"({t['generated_tokens'] / gen_s:.1f} tokens/s)"
    )
    return 0
