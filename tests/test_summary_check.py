"""The summary shown to the attendant: the model's only when it reads well, else built from the chat."""

from __future__ import annotations

from conftest import fixture_capture

from llm import prompts, summary
from llm.summary import choose_summary, extractive_summary, summary_ok

PT = prompts.turns_from_messages(fixture_capture()["messages"])
EN = prompts.turns_from_messages(fixture_capture("chat_enus_1to1_lid")["messages"])
# Seen in the panel with the default model (issue 10, point 17).
NONSENSE = "Esteja lado de te outra entrega no pago! Parabéis o ameus e os dúvidores do Brasil!!"


def test_check_accepts_a_summary_that_reads_well():
    assert summary_ok("A cliente decidiu levar o vestido floral e vai pagar no Pix.", "pt", PT)
    assert summary_ok("The customer wants the olive jacket held until Monday.", "en", EN)


def test_check_refuses_nonsense_invented_facts_symbols_and_the_task():
    assert not summary_ok(NONSENSE, "pt", PT)
    assert not summary_ok("A cliente pagou R$ 99,00 pelo vestido.", "pt", PT)  # no such amount
    assert not summary_ok("A cliente pediu o link https://example.com/promo.", "pt", PT)
    assert not summary_ok("{cliente} [vestido] <pix> | ### ||| ***", "pt", PT)
    assert not summary_ok("The customer wants to pay with Pix for the dress.", "pt", PT)  # wrong language
    assert not summary_ok("Resumo: tarefa concluída com sucesso.", "pt", PT)
    assert not summary_ok("The customer asked about the weather in Paris.", "en", EN)  # not this chat


def test_extractive_summary_ptbr_quotes_the_request_facts_and_promise():
    s = extractive_summary(PT, "pt")
    assert "Cliente pede: “Vou pagar no Pix então. Pode me mandar a chave?”" in s
    assert "Pedido: #4821." in s and "R$ 195,41" in s and "R$ 180,41" in s
    assert "Atendente prometeu: “Seu pedido #4821 já foi separado e sai amanhã.”" in s
    assert s.endswith("(8 mensagens do cliente)")
    assert summary_ok(s, "pt", PT)


def test_extractive_summary_en():
    s = extractive_summary(EN, "en")
    assert "Customer asks: “Sorry for the late reply — can you hold the olive one for me until Monday?”" in s
    assert "Amount: $150." in s and "Dates: Monday and 3/16." in s
    assert "Attendant promised: “Got it — the olive jacket is set aside.”" in s
    assert s.endswith("(5 customer messages)")
    assert summary_ok(s, "en", EN)


def test_extractive_summary_counts_without_plural_errors():
    one = [prompts.Turn("in", "Quero trocar o tamanho do vestido, pode ser?")]
    two = one + [prompts.Turn("in", "Meu pedido é o 55213, de 12/03")]
    assert extractive_summary(one, "pt").endswith("(1 mensagem do cliente)")
    s = extractive_summary(two, "pt")
    assert s.endswith("(2 mensagens do cliente)") and "Pedido: 55213." in s and "Data: 12/03." in s
    en = [prompts.Turn("in", "Can I change the size of my order 55213?")]
    assert extractive_summary(en, "en").endswith("(1 customer message)")
    assert extractive_summary(en + en, "en").endswith("(2 customer messages)")
    assert "Order: 55213." in extractive_summary(en, "en")


def test_choose_summary_says_where_the_summary_came_from():
    good = "A cliente decidiu levar o vestido floral e vai pagar no Pix."
    assert choose_summary(good, PT, "pt") == (good, "model")
    text, source = choose_summary(NONSENSE, PT, "pt")
    assert source == "extractive" and text == summary.extractive_summary(PT, "pt")
    assert choose_summary("", EN, "en")[1] == "extractive"


def test_the_summary_shown_in_the_panel_passes_the_check(shared_server):
    """End to end with the default model: whatever the model writes, what is shown reads well."""
    token = shared_server.login()["access_token"]
    capture = fixture_capture()
    r = shared_server.request("POST", "/api/v1/captures", capture, token=token)
    assert r.status == 202, r.body
    cid = r.json()["conversation_id"]
    events = shared_server.sse(f"/api/v1/conversations/{cid}/insights/stream", token, until="insight", timeout=300)
    insight = events[-1][1]
    assert insight["state"] == "ready", insight
    assert insight["summary_source"] in ("model", "extractive")
    assert summary_ok(insight["summary"], "pt", PT), insight["summary"]
    again = shared_server.request("GET", f"/api/v1/conversations/{cid}/insights", token=token).json()
    assert again["summary"] == insight["summary"] and again["summary_source"] == insight["summary_source"]


def test_a_greeting_is_not_quoted_as_the_request():
    turns = [prompts.Turn("in", "Quero saber o prazo de entrega para Campinas."), prompts.Turn("in", "Oi, tudo bem?")]
    assert "Cliente pede: “Quero saber o prazo de entrega para Campinas.”" in extractive_summary(turns, "pt")


def test_praise_is_quoted_as_what_the_customer_wrote_not_as_a_request():
    pt = extractive_summary([prompts.Turn("in", "foi tudo muito bom")], "pt")
    assert pt.startswith("Cliente escreveu: “foi tudo muito bom”") and "pede" not in pt, pt
    en = extractive_summary([prompts.Turn("in", "Great service, thanks")], "en")
    assert en.startswith("Customer wrote: ") and "asks" not in en, en
