"""Model-written replies are offered only when they read like a reply to this customer."""

import pytest

from llm import tasks

PT_TURNS = [
    tasks.Turn("out", "Olá! Aqui é da loja, como posso ajudar?"),
    tasks.Turn("in", "oi, meu pedido ainda não chegou, já faz 10 dias"),
]
EN_TURNS = [
    tasks.Turn("out", "Hi! This is the store, how can I help?"),
    tasks.Turn("in", "my order has not arrived yet, it has been 10 days"),
]


def offered(reply: str, lang: str) -> bool:
    turns = PT_TURNS if lang == "pt" else EN_TURNS
    out = tasks.finalize_with_sources([reply], lang, "order_status", turns, "Ana")
    assert len(out) == 3  # our templates fill the places of rejected replies
    return any(source == "model" for _, source in out)


# Real outputs of the default model (SmolLM2-135M) on our bench conversations.
@pytest.mark.parametrize(
    "reply",
    [
        "Cadencem Cáceres",
        "Eu queria ajudar para a fúbremos ter carros alimentares, e estamos em uma útima cidade.",
        "todos em um cachir muito",
        "meu amigo no Brasil, me entrega a díxica.",
        "Exemplo de respostas diferentes que o atendente pode enviar agora",
        "Vamos verificar se o atendente também esteve apreciado para muitos casos",
        "em todas as informações de uma frase.",
        "Resumos da informação",
        "Olá! Aqui é da loja, como posso ajudar?",  # the attendant's own message again
        "Desculpe, mas não posso ajudar com essa solicitação do pedido.",  # Qwen2.5-Coder-0.5B
        "Desculpe, mas não posso te ajudar com o pedido.",
    ],
)
def test_nonsense_pt_is_not_offered(reply):
    assert not offered(reply, "pt")


@pytest.mark.parametrize(
    "reply",
    [
        "Sender's summary: Please add a few details about your trip to the store.",
        "This has to be more fun! Let's chat about what makes your vehicle special.",
        "not the answer you asked for",
        "We're sorry, but we can't help with that order. Please let us know if it's a problem at the store.",
        "Sorry, I can't assist with that order.",
    ],
)
def test_off_topic_en_is_not_offered(reply):
    assert not offered(reply, "en")


@pytest.mark.parametrize(
    ("reply", "lang"),
    [
        ("Oi! Sinto muito pela demora. Vou verificar o rastreio do seu pedido agora mesmo.", "pt"),
        ("Peço desculpas pelo atraso, pode me passar o número do pedido?", "pt"),
        ("Entendo sua preocupação, vamos resolver isso o quanto antes.", "pt"),
        ("I'm sorry your order hasn't arrived yet. Let me check the tracking for you.", "en"),
        ("We apologize for the delay, I'll contact the carrier right away.", "en"),
        ("Oi Ana, vou verificar seu pedido agora.", "pt"),  # the contact's name
        ("Ok, seu pedido será entregue na segunda-feira.", "pt"),
        ("I´m sorry, I´ll check your order.", "en"),  # other apostrophes
        ("Sorry, we haven't shipped your order yet. You'll get it on Monday.", "en"),
    ],
)
def test_sensible_replies_are_offered_first(reply, lang):
    assert offered(reply, lang)


def test_templates_follow_the_customers_mood():
    praise = [tasks.Turn("in", "adorei, chegou rapidinho")]
    out = tasks.finalize_suggestions([], "pt", "other", praise, "Ana Souza", sentiment="positive")
    assert out[0] == "Que bom que gostou, Ana! Obrigado pela preferência."
    gripe = [tasks.Turn("in", "that was awful")]
    out = tasks.finalize_suggestions([], "en", "other", gripe, None, sentiment="negative")
    assert out[0].startswith("I'm sorry about that.")
    # a complaint keeps its own apologies first
    out = tasks.finalize_suggestions([], "pt", "complaint", gripe, None, sentiment="negative")
    assert out[0] == tasks.FALLBACKS["pt"]["complaint"][0].replace("{nome}", "")

    # praise with a question about the order: one thanks, then the order's own replies
    happy = [tasks.Turn("in", "oba! quando chega meu pedido?")]
    out = tasks.finalize_suggestions([], "pt", "order_status", happy, None, sentiment="positive")
    assert out[0].startswith("Que bom que gostou") and out[1] == tasks.FALLBACKS["pt"]["order_status"][0].replace(
        "{nome}", ""
    )
