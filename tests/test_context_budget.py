"""Long conversations fit the model's context, and the prompt prefix survives new messages."""

from __future__ import annotations

import pytest
from conftest import make_server

from llm import context_budget, prompts
from llm.analysis import AnalysisRequest, analyze
from llm.engine import Engine, EngineSettings

_SENTENCES = [
    "Oi, tudo bem? Comprei o vestido floral midi na semana passada e ainda não recebi nenhuma notícia da entrega.",
    "O rastreio mostra que o pacote saiu de São Paulo, mas está parado há quatro dias na mesma cidade.",
    "Preciso muito dele para o casamento da minha irmã, então fico preocupada com o prazo que vocês passaram.",
    "Já tentei ligar no número da loja duas vezes e ninguém atendeu, por isso estou escrevendo aqui agora.",
    "Se não chegar até sexta-feira, quero saber se dá para cancelar e receber o valor de volta pelo Pix.",
]
_REPLIES = [
    "Sinto muito pela demora! Vou verificar com a transportadora o que aconteceu com o seu pacote agora mesmo.",
    "Obrigada pela paciência. Assim que eu tiver uma resposta da transportadora eu te aviso por aqui, combinado?",
    "Entendo a sua preocupação com o casamento, vamos fazer o possível para que o vestido chegue antes.",
]


def long_chat(n: int, start: int = 0) -> list[dict]:
    """`n` messages of ~450-500 characters, alternating customer and attendant."""
    out = []
    for i in range(start, start + n):
        inbound = i % 3 != 2
        pool = _SENTENCES if inbound else _REPLIES
        text = f"({i}) " + " ".join(pool[(i + k) % len(pool)] for k in range(4))
        out.append(
            {
                "id": f"false_5511987654321@c.us_3EB0{i:06d}",
                "direction": "in" if inbound else "out",
                "author": "Mariana Costa" if inbound else "Loja",
                "timestamp": f"2026-03-{1 + i // 100:02d}T{8 + (i % 100) // 10:02d}:{(i % 10) * 5:02d}:00",
                "text": text[:500],
                "kind": "text",
            }
        )
    return out


def _tokens(turn: prompts.Turn) -> int:
    return len(prompts.transcript_line(turn, "pt")) // 4 + 1


# -- the window, without the model --------------------------------------------------------------
def test_short_chat_is_kept_whole():
    turns = prompts.turns_from_messages(long_chat(3))
    w = context_budget.fit(turns, "pt", _tokens, 2000)
    assert w.turns == turns and w.dropped == 0 and w.note == "" and w.cut_key == ""


def test_long_chat_keeps_the_newest_turns_that_fit_with_a_note():
    turns = prompts.turns_from_messages(long_chat(300))
    w = context_budget.fit(turns, "pt", _tokens, 1600)
    assert w.dropped > 0 and w.turns == turns[w.dropped :] and w.turns[-1] == turns[-1]
    assert sum(_tokens(t) for t in w.turns) + context_budget.NOTE_TOKENS <= 1600
    assert w.note.startswith("(Mensagens anteriores omitidas")
    assert len(w.turns) >= 4  # most of the budget is used


def test_the_cut_moves_in_coarse_steps_as_messages_arrive():
    """Like the server: each analysis sees the newest 60 messages; the cut is remembered."""
    chat = long_chat(300)
    remembered: dict[str, None] = {}
    prev = None
    kept_prefix = moved = 0
    for k in range(240, 300):
        turns = prompts.turns_from_messages(chat[k - 60 : k])
        w = context_budget.fit(turns, "pt", _tokens, 1600, preferred=remembered)
        assert sum(_tokens(t) for t in w.turns) + context_budget.NOTE_TOKENS <= 1600
        if w.cut_key:
            remembered[w.cut_key] = None
        if prev is not None:
            same_start = prev.cut_key == w.cut_key
            if same_start:
                # Same first turn: the old prompt is a prefix of the new one (note included).
                assert w.note == prev.note and w.turns[: len(prev.turns)] == prev.turns
                kept_prefix += 1
            else:
                moved += 1
        prev = w
    assert kept_prefix >= 2 * moved, (kept_prefix, moved)


def test_the_turn_cap_applies_to_many_short_messages():
    chat = [{**m, "text": f"ok {i}"} for i, m in enumerate(long_chat(100))]
    w = context_budget.fit(prompts.turns_from_messages(chat), "pt", _tokens, 1600)
    assert 0 < len(w.turns) <= prompts.MAX_TRANSCRIPT_MESSAGES


def test_the_note_names_facts_from_before_the_cut():
    filler = [prompts.Turn("in", "mais uma mensagem longa " * 10, key=str(i)) for i in range(20)]
    turns = filler[:10] + [prompts.Turn("in", "Meu pedido #48213 de R$ 180,41 não chegou", key="a")] + filler[10:]
    w = context_budget.fit(turns, "pt", _tokens, 300)
    assert 10 < w.dropped < 10 + context_budget.NOTE_CONTEXT_TURNS, w.dropped
    assert "#48213" in w.note and "R$ 180,41" in w.note


# -- with the real default model -----------------------------------------------------------------
@pytest.fixture(scope="module")
def engine(model_file):
    e = Engine(EngineSettings(model_path=model_file, model_id="default", n_ctx=2048))
    e.start()
    assert e.wait_ready(120), e.error
    yield e
    e.stop()


def test_300_long_messages_fit_2048_tokens_and_one_more_reuses_the_cache(engine):
    chat = long_chat(301)
    first = engine.run(lambda llama, c: analyze(llama, AnalysisRequest(messages=chat[:300]), c), timeout=1800)
    t = first["timings"]
    assert len(first["suggestions"]) == 3 and first["summary"]
    assert t["dropped_turns"] > 0 and t["prompt_tokens"] + 200 <= 2048, t
    second = engine.run(lambda llama, c: analyze(llama, AnalysisRequest(messages=chat), c), timeout=1800)
    t = second["timings"]
    assert t["prompt_tokens"] + 200 <= 2048, t
    assert t["cached_tokens"] >= 0.8 * t["prompt_tokens"], t


def test_server_analyses_a_300_message_capture_and_reuses_the_cache_after_one_more(tmp_path, model_file):
    server = make_server(tmp_path, model_file, conversa_n_ctx="2048")
    server.start()
    try:
        token = server.login()["access_token"]
        chat = {"id": "5511987654321@c.us", "title": "Mariana Costa", "is_group": False, "phone": "+5511987654321"}
        msgs = long_chat(301)
        r = server.request("POST", "/api/v1/captures", {"chat": chat, "messages": msgs[:300]}, token=token)
        assert r.status == 202 and r.json()["new_messages"] == 300, r.body
        cid = r.json()["conversation_id"]
        path = f"/api/v1/conversations/{cid}/insights/stream"
        first = server.sse(path, token, until="insight", timeout=1800)[-1][1]
        assert first["state"] == "ready", first
        r = server.request("POST", "/api/v1/captures", {"chat": chat, "messages": msgs}, token=token)
        assert r.status == 202 and r.json()["new_messages"] == 1, r.body
        events = server.sse(path, token, until="insight", timeout=1800)
        insight = events[-1][1]
        assert insight["state"] == "ready" and insight["analyzed_message_id"] != first["analyzed_message_id"], insight
        t = insight["timings"]
        assert t["dropped_turns"] > 0 and t["cached_tokens"] >= 0.8 * t["prompt_tokens"], t
    finally:
        server.stop()
