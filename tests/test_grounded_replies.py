"""Suggestions built from what the shop knows, ranked for the moment (issue 13): fast unit tests
of the pure parts (no model) and, at the end, the real default model through llm.analysis."""

import re

import pytest
from shop_support import ShopIndex

from llm import prompts, shop_answers
from llm.analysis import AnalysisRequest, analyze, grounded_answers
from llm.reply_select import Suggestion, adapt_names, rank_replies, read_moment, wrong_for_moment
from llm.sources import Passage
from llm.summary import choose_summary

SHOP = ShopIndex()
POLICY_BODY = (
    "A troca pode ser pedida em até 30 dias corridos depois do recebimento, com a peça sem uso e com a "
    "etiqueta. A primeira troca tem frete grátis."
)


def chat(*turns: tuple[str, str]) -> list[dict]:
    return [
        {"id": f"m{i}", "direction": d, "kind": "text", "text": t, "timestamp": None} for i, (d, t) in enumerate(turns)
    ]


GREETING = ("out", "Olá! Aqui é da loja, como posso ajudar?")


def answers_for(messages: list[dict]) -> list[shop_answers.Answer]:
    return shop_answers.answers(prompts.turns_from_messages(messages), SHOP.for_turns(messages), "pt")


def test_a_price_question_gets_the_catalogue_row_price_stock_and_citation():
    (a, *_) = answers_for(chat(GREETING, ("in", "Oi! Quanto custa o tênis preto?")))
    assert "Tênis preto" in a.text and "R$ 249,90" in a.text and "unidades em estoque" in a.text
    assert a.source == "knowledge" and a.citations[0].id == "catalogo.csv#CV-1001"


def test_a_price_asked_beside_another_question_is_still_answered():
    msg = "Oi, meu pedido ainda não chegou, o que houve? E quanto custa o tênis preto?"
    found = answers_for(chat(GREETING, ("in", msg)))
    assert any("R$ 249,90" in a.text and a.source == "knowledge" for a in found), found


def test_an_out_of_stock_row_says_so():
    (a, *_) = answers_for(chat(GREETING, ("in", "Tem a blusa vermelha?")))
    assert "sem estoque" in a.text


def test_a_faq_question_gets_the_passage_sentence():
    (a, *_) = answers_for(chat(GREETING, ("in", "Dá pra parcelar no cartão?")))
    assert "3x sem juros" in a.text and a.citations[0].title == "Perguntas frequentes: Parcelamento"


def test_a_section_heading_of_a_stored_passage_is_not_quoted():
    # The knowledge base stores a section as "heading\nbody" (desktop.knowledge_parse.split_text).
    policy = Passage(id="k1.1", title="Política de trocas", text="Política de trocas\n" + POLICY_BODY)
    turns = prompts.turns_from_messages(chat(GREETING, ("in", "Se não servir eu posso trocar?")))
    (a, *_) = shop_answers.answers(turns, [policy], "pt")
    assert "30 dias" in a.text and "Política de trocas" not in a.text, a.text
    assert a.citations[0].title == "Política de trocas"


def test_pix_discount_stated_in_the_chat_is_applied_by_code():
    msgs = chat(
        GREETING,
        ("in", "Vocês aceitam Pix?"),
        ("out", "Aceitamos sim! No Pix tem 5% de desconto."),
        ("in", "o vestido de R$ 200 no pix fica quanto?"),
    )
    (a, *_) = answers_for(msgs)
    assert "R$ 190,00" in a.text and "5%" in a.text


def test_pix_discount_from_the_faq_on_a_catalogue_price():
    (a, *_) = answers_for(chat(GREETING, ("in", "O short azul no pix sai por quanto?")))
    # Short azul: R$ 89,90 in the catalogue; 5 % off in the FAQ → 85,405 → R$ 85,41
    assert "R$ 85,41" in a.text and {c.id for c in a.citations} >= {"catalogo.csv#CV-0503", "faq.md#2"}


def test_a_question_answered_earlier_in_the_chat_reuses_that_answer():
    msgs = chat(
        GREETING,
        ("in", "Quanto fica o frete pra Recife?"),
        ("out", "Para Recife o frete fica R$ 18,00."),
        ("in", "Voltei! Quanto era o frete mesmo?"),
    )
    turns = prompts.turns_from_messages(msgs)
    assert shop_answers.answers(turns, [], "pt")[0].text == "Como te passei: para Recife o frete fica R$ 18,00."
    answers = grounded_answers(turns, [], "pt")
    out = rank_replies([], "pt", "purchase_pricing", turns, "Ana", [], "neutral", answers=answers)
    assert out[0].text == "Como te passei: para Recife o frete fica R$ 18,00."


@pytest.mark.parametrize("question", ["Vocês entregam em Portugal?", "Tem o vestido preto no tamanho GG?"])
def test_nothing_is_answered_when_no_source_covers_the_question(question):
    assert answers_for(chat(GREETING, ("in", question))) == []


def test_team_reply_names_are_adapted():
    adapted = adapt_names("Oi Mariana! Já separei seu pedido, Mariana.", "Ana Souza")
    assert adapted == "Oi Ana! Já separei seu pedido, Ana."
    assert adapt_names("Oi tudo bem, Carlos?", None) == "Oi tudo bem?"
    # A team reply as stored, the other customer's name masked.
    adapted = adapt_names("Entregamos sim, {nome}! De segunda a sábado.", "Ana Souza")
    assert adapted == "Entregamos sim, Ana! De segunda a sábado."
    assert adapt_names("Oi {nome}! Tudo certo, {nome}?", None) == "Oi! Tudo certo?"


def _rank(text: str, sentiment: str, intent: str = "other", **kw) -> list[Suggestion]:
    turns = prompts.turns_from_messages(chat(GREETING, ("in", text)))
    return rank_replies(kw.pop("candidates", []), "pt", intent, turns, "Ana", kw.pop("extra", []), sentiment, **kw)


def test_praise_gets_no_vou_verificar():
    out = _rank("amei o produto, chegou super rápido", "positive", "order_status")
    assert len(out) == 3 and not any(re.search(r"verific|número do pedido", s.text, re.I) for s in out)
    assert out[0].text.startswith("Que bom que gostou")


def test_a_refund_request_gets_no_retention_pitch_nor_vou_verificar_alone():
    text = "pediram minha conta para devolver o dinheiro e até hoje não depositaram nada"
    out = _rank(text, "negative", "cancellation", candidates=["Vou verificar e já te respondo."])
    assert "reembolso" in out[0].text and "número do pedido" in out[0].text
    for s in out:
        assert not re.search(r"outra opção|antes de cancelar|nova compra", s.text, re.I)
        assert s.text != "Vou verificar e já te respondo."


def test_a_wrong_item_complaint_gets_no_sales_pitch():
    out = _rank("veio o produto errado, pedi a capa de travesseiro", "negative", "purchase_pricing")
    assert out[0].text.startswith("Sinto muito pelo erro")
    assert not any("opções de pagamento" in s.text for s in out)


def test_low_intent_confidence_asks_rather_than_assumes():
    out = _rank("e aquilo lá", "neutral", "order_status", confidence=0.2)
    assert "?" in out[0].text and "pedido" not in out[0].text


def test_the_three_offered_differ_in_purpose_and_answers_come_first():
    answer = Suggestion("O frete é fixo de R$ 15,00 para todo o Brasil.", "knowledge", (("faq.md#1", "Frete"),))
    out = _rank("qual o valor do frete?", "neutral", "purchase_pricing", answers=[answer])
    assert out[0] == answer
    assert not any("Vou confirmar o valor" in s.text for s in out)  # the fact is known
    assert len({s.text for s in out}) == 3 and sum("?" in s.text for s in out) <= 2


def test_what_the_attendant_just_sent_is_not_offered_again():
    turns = prompts.turns_from_messages(
        chat(("in", "oi"), ("out", "Oi, Ana! Tudo bem? Como posso te ajudar hoje?"), ("in", "tudo"))
    )
    moment = read_moment(turns, "neutral", 0.9)
    assert wrong_for_moment("Oi, Ana! Tudo bem? Como posso te ajudar hoje?", moment)
    out = rank_replies([], "pt", "greeting_smalltalk", turns, "Ana", [], "neutral")
    assert all(s.text != "Oi, Ana! Tudo bem? Como posso te ajudar hoje?" for s in out)


def test_another_customers_facts_in_a_team_reply_never_leak():
    team = [
        ("Oi Carla! Seu pedido #7781 sai amanhã.", "order_status", "Cadê meu pedido?"),
        ("Vou olhar o rastreio agora mesmo!", "order_status", "cadê o meu pedido, já faz uma semana"),
    ]
    out = _rank("cadê meu pedido?", "neutral", "order_status", team=team)
    assert not any("7781" in s.text for s in out)
    assert [s.text for s in out if s.source == "team"] == ["Vou olhar o rastreio agora mesmo!"]


def test_a_team_reply_is_offered_only_for_a_turn_like_the_one_it_answered():
    reply = "Dá sim! Você escolhe retirada na loja no pagamento."
    # One shared word ("receber") is not the same question; nor is the same question of another intent.
    for past, intent in (("Dá pra retirar na loja em vez de receber em casa?", "other"),
                         ("Tudo recebido, dá pra retirar na loja?", "scheduling")):
        out = _rank("tudo recebido como combinado", "positive", "other", team=[(reply, intent, past)])
        assert all(s.source != "team" for s in out), (past, out)
    out = _rank("dá pra retirar na loja?", "neutral", "scheduling",
                team=[(reply, "scheduling", "Dá pra retirar na loja em vez de receber em casa?")])
    assert out[0].source == "team" and out[0].text == reply


def test_a_number_is_allowed_when_a_retrieved_passage_holds_it():
    candidate = "Claro! O frete é grátis acima de R$ 299,00."
    assert candidate not in [s.text for s in _rank("tem frete grátis?", "neutral", candidates=[candidate])]
    passages = "O frete é grátis nas compras acima de R$ 299,00."
    out = _rank("tem frete grátis?", "neutral", candidates=[candidate], allowed=passages)
    assert any(s.text == candidate and s.source == "model" for s in out)


def test_a_symbol_soup_summary_from_the_model_gives_way_to_the_extractive_one():
    turns = prompts.turns_from_messages(chat(GREETING, ("in", "meu pedido 55213 não chegou, podem ver?")))
    text, source = choose_summary("}]}) [link](https://youtube.com/x) ###", turns, "pt")
    assert source == "extractive" and "55213" in text and "Em aberto" in text and "1 mensagem do cliente" in text


# --- the real default model, through llm.analysis (no fake of the model) ---


@pytest.fixture(scope="module")
def engine(model_file):
    from llm.engine import Engine, EngineSettings

    e = Engine(EngineSettings(model_path=model_file, model_id="default"))
    e.start()
    e.wait_ready(300)
    yield e
    e.stop()


def _analyze(engine, messages, **kw):
    req = AnalysisRequest(messages=messages, contact_name="Ana", **kw)
    return engine.run(lambda llama, c: analyze(llama, req, c), timeout=900)


def test_model_a_price_question_with_a_catalogue_passage_gets_the_price_and_its_citation(engine):
    msgs = chat(GREETING, ("in", "Oi! Quanto custa o vestido azul?"))
    r = _analyze(engine, msgs, passages=SHOP.for_turns(msgs))
    assert "R$ 169,90" in r["suggestions"][0] and r["suggestion_sources"][0] == "knowledge"
    assert r["suggestion_citations"][0] == [{"id": "catalogo.csv#CV-0103", "title": "Catálogo"}]
    assert len(r["suggestions"]) == 3 and len(r["suggestion_citations"]) == 3


def test_model_refund_complaint_and_praise_and_reuse(engine):
    refund = chat(
        GREETING,
        ("in", "chegou um produto incompatível e pediram minha conta para devolver o dinheiro mas até hoje não "
         "depositaram nada"),
    )
    r = _analyze(engine, refund)
    for s in r["suggestions"]:
        assert not re.search(r"outra opção|antes de cancelar|nova compra|considere", s, re.I)
        assert not re.fullmatch(r"[^?]*\b(vou|vamos) verificar\b[^?]*", s, re.I) or re.search(
            r"desculp|sinto muito|reembolso", s, re.I
        )
    praise = _analyze(engine, chat(GREETING, ("in", "entrega super rápida produto de ótima qualidade, amei")))
    assert not any(re.search(r"verific", s, re.I) for s in praise["suggestions"])
    earlier = chat(
        GREETING,
        ("in", "Quanto fica o frete pra Curitiba?"),
        ("out", "Para Curitiba o frete fica R$ 15,00."),
        ("in", "Voltei! Quanto era o frete mesmo?"),
    )
    again = _analyze(engine, earlier)
    assert any("R$ 15,00" in s for s in again["suggestions"])
    soup = _analyze(engine, chat(GREETING, ("in", "}]}) ### <<< >>> ||| ***"), ("in", "meu pedido 55213 ???")))
    assert soup["summary_source"] == "extractive" and "55213" in soup["summary"]
