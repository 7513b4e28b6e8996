"""Suggestion rules on 30 conversations: the fixture chats plus chats built from the eval dev data.

Run: .venv/bin/python tests/bench/bench_suggestions.py [--eval-dir ../shared/eval]
For each conversation the real analysis runs (default model); every final suggestion is checked
against the rules (3 distinct, conversation language, non-empty, ≤ 280 characters, not a copy
of the customer's text, no number or link absent from the conversation and quick replies).
It also prints where the replies came from (model, quick reply, our templates), so the rate
of model replies that survive the rules is visible. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import FIXTURES  # noqa: E402

from llm import catalog, tasks  # noqa: E402
from llm.analysis import AnalysisRequest, analyze  # noqa: E402
from llm.engine import Engine, EngineSettings  # noqa: E402

GREETING = {"pt": "Olá! Aqui é da loja, como posso ajudar?", "en": "Hi! This is the store, how can I help?"}


def conversations(eval_dir: Path) -> list[tuple[str, str, list[dict]]]:
    out = []
    for path in sorted((FIXTURES / "whatsapp").glob("*.expected.json")):
        data = json.loads(path.read_text("utf-8"))
        lang = "en" if data.get("locale", "pt-BR").startswith("en") else "pt"
        out.append((path.stem.split(".")[0], lang, data["messages"]))
    sources = [
        ("sentiment_ptbr_dev.csv", "pt", 9),
        ("intent_ptbr_olist_dev.csv", "pt", 9),
        ("sentiment_en_dev.csv", "en", 4),
        ("intent_en_clinc150_dev.csv", "en", 4),
    ]
    for name, lang, n in sources:
        rows = list(csv.DictReader((eval_dir / name).open(encoding="utf-8")))
        step = max(1, len(rows) // n)
        for r in rows[::step][:n]:
            msgs = [
                {"id": "o1", "direction": "out", "kind": "text", "text": GREETING[lang], "timestamp": None},
                {"id": "i1", "direction": "in", "kind": "text", "text": r["text"], "timestamp": None},
            ]
            out.append((f"{name}:{r['id']}", lang, msgs))
    return out[:30]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=str(Path(__file__).resolve().parents[2].parent / "shared" / "eval"))
    args = ap.parse_args()
    model = catalog.pull("default", Path.home() / ".local/share/conversa/models")[0]
    engine = Engine(EngineSettings(model_path=model, model_id="default"))
    engine.start()
    engine.wait_ready(120)
    holds: Counter = Counter()
    sources: Counter = Counter()
    convs = conversations(Path(args.eval_dir))
    n_sugg = 0
    for _name, lang, msgs in convs:
        req = AnalysisRequest(messages=msgs)
        r = engine.run(lambda llama, c, req=req: analyze(llama, req, c), timeout=600)
        turns = tasks.turns_from_messages(msgs)
        customer = [t.text for t in turns if t.direction == "in"]
        allowed = "\n".join(t.text for t in turns)
        sugg = r["suggestions"]
        holds["three distinct"] += len(sugg) == 3 and len({s.lower() for s in sugg}) == 3
        holds["detected language right"] += r["lang"] == lang
        for s, src in zip(sugg, r["suggestion_sources"], strict=True):
            n_sugg += 1
            sources[src] += 1
            holds["non-empty"] += bool(s.strip())
            holds["language"] += tasks.detect_language([s]) == lang or len(s.split()) <= 3
            holds["length ≤ 280"] += len(s) <= tasks.MAX_SUGGESTION_CHARS
            holds["no echo"] += not tasks.is_echo(s, customer)
            holds["no invented numbers/links"] += not tasks.invented_facts(s, allowed)
    engine.stop()
    print(f"{len(convs)} conversations, {n_sugg} suggestions")
    for rule in ("three distinct", "detected language right"):
        print(f"  {rule:<28} {holds[rule] / len(convs):7.1%}  (per conversation)")
    for rule in ("non-empty", "language", "length ≤ 280", "no echo", "no invented numbers/links"):
        print(f"  {rule:<28} {holds[rule] / max(1, n_sugg):7.1%}  (per suggestion)")
    print("  sources: " + ", ".join(f"{k} {v / max(1, n_sugg):.0%}" for k, v in sources.most_common()))


if __name__ == "__main__":
    main()
