"""Suggestion usefulness on 30 conversations (fixture chats + eval dev data) and 20 factual
questions against the shop fixture (tests/fixtures/shop).

Run: .venv/bin/python tests/bench/bench_suggestions.py [--model ID] [--split tune|heldout|all] [--show]
Every final suggestion is graded against the rubric written before tuning
(suggestions_rubric.json, graded by rubric.py, not by the code that picks replies): meets it,
breaks it (a wrong move for the moment, or a number/link no source holds) or neutral; per
source (team, knowledge, quick_reply, model, template) and for the first suggestion. Summaries
are graded true (nothing invented, no symbols, no plural error) and useful (the rubric's
facts); the model-summary check is counted only over summaries the model wrote. Factual
questions: the right fact offered, or for a question no source answers no fact stated; any
fact no source holds counts as invented. Held-out rows (split "heldout") are reported apart.
`--show` prints every suggestion with its source and grade, every summary and citation.
`--sources` gives every conversation what the server would retrieve for it: the shop fixture's
knowledge passages and the team's past replies (tests/fixtures/shop/team_history.json, indexed
and masked as the server indexes captured chats). Without it the rubric conversations get only
the quick replies and the factual questions only the passages.
Not a pass/fail test."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's llm/, not an installed one
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import rubric  # noqa: E402
from conftest import FIXTURES  # noqa: E402
from shop_support import ShopIndex  # noqa: E402

from desktop.usecases.analysis import PASSAGES, TEAM_REPLIES  # noqa: E402
from desktop.usecases.grounding import customer_query  # noqa: E402
from desktop.usecases.team_replies import TeamReplies  # noqa: E402
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


def team_history() -> TeamReplies:
    """The shop's past replies, indexed as the server indexes captured chats (masked)."""
    team = TeamReplies(None)  # no runtime: filled and searched on this thread
    pairs = json.loads((FIXTURES / "shop" / "team_history.json").read_text("utf-8"))["pairs"]
    for i, p in enumerate(pairs):
        pair = {"message_id": f"h{i}", "reply": p["reply"], "customer_turn": p["turn"], "intent": p["intent"]}
        team.add_pair(f"history-{i}", {**pair, "names": [p["name"]]})
    return team


def _retrieve(req: AnalysisRequest, shop: ShopIndex, team: TeamReplies | None) -> AnalysisRequest:
    """The request as the server would fill it: passages and team replies for the customer's turn."""
    query = customer_query(req.messages)
    if team is not None and query:
        req.passages = shop.search(query, PASSAGES)
        req.team_replies = team.search(query, k=TEAM_REPLIES)
    return req


def _run(engine, req):
    return engine.run(lambda llama, c, req=req: analyze(llama, req, c), timeout=3600)


def _pct(n: int, d: int) -> str:
    return f"{n / d:6.1%} ({n}/{d})" if d else "     – (0)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=str(Path(__file__).resolve().parents[2].parent / "shared" / "eval"))
    ap.add_argument("--model", default="default", help="catalogue id, or a GGUF file in the models folder by id")
    ap.add_argument("--show", action="store_true", help="print every suggestion, its grade and every summary")
    ap.add_argument("--split", choices=("tune", "heldout", "all"), default="all", help="rubric split to run")
    ap.add_argument("--no-rules", action="store_true", help="skip the 30 rubric conversations")
    ap.add_argument("--no-facts", action="store_true", help="skip the 20 factual questions")
    ap.add_argument("--sources", action="store_true", help="retrieve knowledge and team replies per conversation")
    args = ap.parse_args()
    models_dir = Path.home() / ".local/share/conversa/models"
    if catalog.entry(args.model):
        model = catalog.pull(args.model, models_dir)[0]
    else:
        model = catalog.model_path(models_dir, args.model)
    engine = Engine(EngineSettings(model_path=model, model_id=args.model))
    engine.start()
    engine.wait_ready(120)
    rules = rubric.load_rubric()
    shop = ShopIndex()
    shop_text = rubric.shop_text()
    splits = ("tune", "heldout") if args.split == "all" else (args.split,)
    # per split: counters
    holds: dict[str, Counter] = {sp: Counter() for sp in splits}
    grades: dict[str, Counter] = {sp: Counter() for sp in splits}  # (source, grade)
    convs = [] if args.no_rules else conversations(Path(args.eval_dir))
    n_conv: Counter = Counter()
    facts: dict[str, Counter] = {sp: Counter() for sp in splits}
    try:
        team = team_history() if args.sources else None
        _grade_all(args, engine, convs, rules, shop, team, shop_text, splits, holds, grades, n_conv, facts)
    except KeyboardInterrupt:
        print("\n(interrupted: figures so far)")
    engine.stop()
    _report(splits, holds, grades, n_conv, facts)


def _grade_all(args, engine, convs, rules, shop, team, shop_text, splits, holds, grades, n_conv, facts) -> None:
    for name, lang, msgs in convs:
        rule = rules[name]
        sp = rule["split"]
        if sp not in splits:
            continue
        n_conv[sp] += 1
        h, g = holds[sp], grades[sp]
        quick = [q for q in QUICK_REPLIES if q["lang"] == lang]
        req = _retrieve(AnalysisRequest(messages=msgs, contact_name="Ana", quick_replies=quick), shop, team)
        r = _run(engine, req)
        turns = prompts.turns_from_messages(msgs)
        customer = [t.text for t in turns if t.direction == "in"]
        chat = "\n".join(t.text for t in turns)
        # With --sources the shop's knowledge was a source the replies could draw on, as for the
        # factual questions; the team history is not (its numbers were another customer's).
        allowed = "\n".join([chat] + [q["text"] for q in quick] + ([shop_text] if team is not None else []))
        sugg = r["suggestions"]
        src = r["summary_source"]
        h[f"summary {src}"] += 1
        if src == "model":  # the check applies to what the model wrote, not to ours (issue 10, 17)
            h["model summary passes the check"] += summary.summary_ok(r["summary"], lang, turns)
        true, useful = rubric.summary_grade(r["summary"], rule, chat, len(customer))
        h["summary true"] += true
        h["summary true and useful"] += useful
        h["three distinct"] += len(sugg) == 3 and len({x.lower() for x in sugg}) == 3
        h["detected language right"] += r["lang"] == lang
        if args.show:
            print(f"== {name} [{lang}, {sp}] intent={r['intent']['label']} sentiment={r['sentiment']['label']}")
            print(f"   summary ({src}, true={true}, useful={useful}): {r['summary']}")
        for i, (x, s_src) in enumerate(zip(sugg, r["suggestion_sources"], strict=True)):
            grade = rubric.grade(x, rule, allowed)
            g[(s_src, grade)] += 1
            g[("all", grade)] += 1
            if i == 0:
                g[("first", grade)] += 1
            h["language"] += language_of(x) in (lang, "?")
            h["length ≤ 280"] += len(x) <= prompts.MAX_SUGGESTION_CHARS
            h["no echo"] += not echoes(x, customer)
            h["no {variable} left"] += "{" not in x
            if args.show:
                print(f"   {i + 1}. [{s_src}, {grade}] {x}")
    for q in [] if args.no_facts else rubric.load_questions():
        sp = q["split"]
        if sp not in splits:
            continue
        passages = shop.for_turns(q["messages"])
        req = AnalysisRequest(messages=q["messages"], contact_name="Ana", passages=passages)
        if team is not None:
            req.team_replies = team.search(customer_query(q["messages"]), k=TEAM_REPLIES)
        r = _run(engine, req)
        chat = "\n".join(m.get("text") or "" for m in q["messages"])
        right, invented_fact = rubric.factual_grade(r["suggestions"], q, chat + "\n" + shop_text)
        first_right, _ = rubric.factual_grade(r["suggestions"][:1], q, chat + "\n" + shop_text)
        f = facts[sp]
        key = "unanswerable" if q["answer"] is None else "answerable"
        f[key] += 1
        f[f"{key} right"] += right
        f[f"{key} first right"] += first_right
        f["invented"] += invented_fact
        f["n"] += 1
        cited = [c for cs in r.get("suggestion_citations", []) for c in cs]
        f["with a citation"] += bool(cited)
        for s_src in r["suggestion_sources"]:
            f[f"source {s_src}"] += 1
        if args.show:
            print(f"== {q['id']} [{q['topic']}, {sp}] right={right} invented={invented_fact}")
            for i, (x, s_src, cs) in enumerate(
                zip(r["suggestions"], r["suggestion_sources"], r["suggestion_citations"], strict=True)
            ):
                print(f"   {i + 1}. [{s_src}] {x}" + (f"  (fonte: {', '.join(c['title'] for c in cs)})" if cs else ""))


def _report(splits, holds, grades, n_conv, facts) -> None:
    for sp in splits:
        h, g, n = holds[sp], grades[sp], n_conv[sp]
        total_all = sum(g[("all", x)] for x in ("meets", "breaks", "neutral"))
        print(f"\n### split {sp}: {n} rubric conversations, {total_all} suggestions")
        if n:
            first = sum(g[("first", x)] for x in ("meets", "breaks", "neutral"))
            print(f"  first suggestion meets the rubric   {_pct(g[('first', 'meets')], first)}")
            for source in ("all", "team", "knowledge", "quick_reply", "model", "template"):
                total = sum(g[(source, x)] for x in ("meets", "breaks", "neutral"))
                if total:
                    print(
                        f"  {source:<12} n={total:<3} meets {_pct(g[(source, 'meets')], total)}"
                        f"  breaks {_pct(g[(source, 'breaks')], total)}"
                    )
            for rule in ("three distinct", "detected language right", "summary true", "summary true and useful"):
                print(f"  {rule:<36} {_pct(h[rule], n)}")
            print(f"  summaries shown: model {h['summary model']}, extractive {h['summary extractive']}; "
                  f"model summaries passing the check {_pct(h['model summary passes the check'], h['summary model'])}")
            per = 3 * n
            for rule in ("language", "length ≤ 280", "no echo", "no {variable} left"):
                print(f"  {rule:<36} {_pct(h[rule], per)}  (per suggestion)")
        f = facts[sp]
        if f["n"]:
            print(f"  factual questions: {f['n']}")
            print(f"    answerable, right fact offered     {_pct(f['answerable right'], f['answerable'])}"
                  f"  (first suggestion {_pct(f['answerable first right'], f['answerable'])})")
            print(f"    no source holds it, no fact stated {_pct(f['unanswerable right'], f['unanswerable'])}")
            print(f"    a fact no source holds (invented)  {_pct(f['invented'], f['n'])}")
            print(f"    with a citation                    {_pct(f['with a citation'], f['n'])}")
            print("    sources: " + ", ".join(f"{k[7:]} {v}" for k, v in sorted(f.items()) if k.startswith("source ")))


if __name__ == "__main__":
    main()
