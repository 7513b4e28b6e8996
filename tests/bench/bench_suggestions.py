"""Suggestion rules on 30 conversations: the fixture chats plus chats built from the eval dev data.

Run: .venv/bin/python tests/bench/bench_suggestions.py [--eval-dir ../shared/eval]
For each conversation the real analysis runs (default model); every final suggestion is checked
against the rules (3 distinct, conversation language, non-empty, ≤ 280 characters, not a copy
of the customer's text, no number or link absent from the conversation and quick replies).
It also prints where the replies came from (model, quick reply, our templates), so the rate
of model replies that survive the rules is visible, and where the shown summary came from:
the model's (it passed the summary check) or built from the conversation (extractive).
`--show` prints every model-written reply and every shown summary. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import FIXTURES  # noqa: E402

from llm import catalog, prompts, summary  # noqa: E402
from llm.analysis import AnalysisRequest, analyze  # noqa: E402
from llm.engine import Engine, EngineSettings  # noqa: E402

GREETING = {"pt": "Olá! Aqui é da loja, como posso ajudar?", "en": "Hi! This is the store, how can I help?"}
# A team's quick replies (written by us), offered when the conversation's intent matches.
QUICK_REPLIES = [
    {
        "text": "Oi {nome}! Vou verificar o rastreio do seu pedido e já te aviso.",
        "intents": ["order_status"],
        "lang": "pt",
    },
    {
        "text": "{nome}, sinto muito pelo problema. Vou resolver isso com prioridade.",
        "intents": ["complaint"],
        "lang": "pt",
    },
    {
        "text": "Hi {nome}! Let me check your order's tracking and get back to you.",
        "intents": ["order_status"],
        "lang": "en",
    },
    {"text": "{nome}, I'm sorry about this. I'll sort it out right away.", "intents": ["complaint"], "lang": "en"},
]
_URL_OR_NUMBER = re.compile(r"https?://\S+|www\.\S+|\d[\d.,:/-]*")
_STOP = {
    "pt": {
        "de",
        "que",
        "o",
        "a",
        "e",
        "do",
        "da",
        "em",
        "um",
        "para",
        "com",
        "não",
        "uma",
        "os",
        "no",
        "se",
        "na",
        "por",
        "mais",
        "as",
        "seu",
        "sua",
        "você",
        "vou",
        "já",
        "está",
        "pedido",
        "obrigado",
        "olá",
        "posso",
    },
    "en": {
        "the",
        "to",
        "and",
        "a",
        "of",
        "i",
        "you",
        "is",
        "for",
        "your",
        "it",
        "in",
        "we",
        "will",
        "can",
        "my",
        "me",
        "this",
        "that",
        "with",
        "be",
        "on",
        "please",
        "thanks",
        "hi",
        "let",
        "our",
        "us",
        "order",
    },
}


# Independent checks (not the functions that enforce the rules, so the bench can catch them out).
def _words(text: str) -> list[str]:
    return re.findall(r"[\wà-ú]+", text.lower())


def language_of(text: str) -> str:
    words = _words(text)
    pt, en = (sum(w in _STOP[lang] for w in words) for lang in ("pt", "en"))
    return "pt" if pt > en else "en" if en > pt else "?"


def echoes(suggestion: str, customer: list[str]) -> bool:
    s = " ".join(_words(suggestion))
    return any(s and (s == " ".join(_words(c)) or (len(s) > 20 and s in " ".join(_words(c)))) for c in customer)


def invented(suggestion: str, allowed: str) -> list[str]:
    allowed_digits = {re.sub(r"\D", "", m) for m in _URL_OR_NUMBER.findall(allowed)}
    out = []
    for m in _URL_OR_NUMBER.findall(suggestion):
        if m.startswith(("http", "www")):
            if m.rstrip(".,!?)") not in allowed:
                out.append(m)
        elif re.sub(r"\D", "", m) not in allowed_digits:
            out.append(m)
    return out


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
    ap.add_argument("--model", default="default", help="catalogue id, or a GGUF file in the models folder by id")
    ap.add_argument("--show", action="store_true", help="print every model-written reply and shown summary")
    args = ap.parse_args()
    models_dir = Path.home() / ".local/share/conversa/models"
    if catalog.entry(args.model):
        model = catalog.pull(args.model, models_dir)[0]
    else:
        model = catalog.model_path(models_dir, args.model)
    engine = Engine(EngineSettings(model_path=model, model_id=args.model))
    engine.start()
    engine.wait_ready(120)
    holds: Counter = Counter()
    sources: Counter = Counter()
    summaries: Counter = Counter()
    convs = conversations(Path(args.eval_dir))
    n_sugg = quick_expected = 0
    for _name, lang, msgs in convs:
        quick = [q for q in QUICK_REPLIES if q["lang"] == lang]
        req = AnalysisRequest(messages=msgs, contact_name="Ana", quick_replies=quick)
        r = engine.run(lambda llama, c, req=req: analyze(llama, req, c), timeout=600)
        turns = prompts.turns_from_messages(msgs)
        customer = [t.text for t in turns if t.direction == "in"]
        allowed = "\n".join([t.text for t in turns] + [q["text"] for q in quick])
        sugg = r["suggestions"]
        summaries[r["summary_source"]] += 1
        holds["summary passes the check"] += summary.summary_ok(r["summary"], lang, turns)
        if args.show:
            print(f"[{lang}] summary ({r['summary_source']}): {r['summary']}")
        holds["three distinct"] += len(sugg) == 3 and len({s.lower() for s in sugg}) == 3
        holds["detected language right"] += r["lang"] == lang
        matching = [q for q in quick if r["intent"]["label"] in q["intents"]]
        if matching:
            quick_expected += 1
            filled = matching[0]["text"].replace("{nome}", "Ana")
            holds["matching quick reply offered, filled"] += filled in sugg
        for s, src in zip(sugg, r["suggestion_sources"], strict=True):
            n_sugg += 1
            sources[src] += 1
            if args.show and src == "model":
                print(f"[{lang}] {s}")
            holds["non-empty"] += bool(s.strip())
            holds["language"] += language_of(s) in (lang, "?")
            holds["length ≤ 280"] += len(s) <= prompts.MAX_SUGGESTION_CHARS
            holds["no echo"] += not echoes(s, customer)
            holds["no invented numbers/links"] += not invented(s, allowed)
            holds["no {variable} left"] += "{" not in s
    engine.stop()
    print(f"{len(convs)} conversations, {n_sugg} suggestions")
    for rule in ("three distinct", "detected language right", "summary passes the check"):
        print(f"  {rule:<38} {holds[rule] / len(convs):7.1%}  (per conversation)")
    rule = "matching quick reply offered, filled"
    print(f"  {rule:<38} {holds[rule] / max(1, quick_expected):7.1%}  ({quick_expected} conversations with a match)")
    for rule in ("non-empty", "language", "length ≤ 280", "no echo", "no invented numbers/links", "no {variable} left"):
        print(f"  {rule:<38} {holds[rule] / max(1, n_sugg):7.1%}  (per suggestion)")
    print("  sources: " + ", ".join(f"{k} {v / max(1, n_sugg):.0%}" for k, v in sources.most_common()))
    print(
        "  summaries shown: "
        + ", ".join(f"{k} {v} ({v / len(convs):.0%})" for k in ("model", "extractive") for v in [summaries[k]])
    )


if __name__ == "__main__":
    main()
