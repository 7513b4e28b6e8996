"""The team's past replies as suggestion material: pairs read from the encrypted chats, another
customer's facts masked, this chat excluded, an erased contact's pairs gone; and what the
analysis request of a new customer turn carries (passages and team replies)."""

from __future__ import annotations

import asyncio

import pytest

from desktop import config
from desktop.auth import Principal
from desktop.contact_facts import mask, name_tokens
from desktop.service import Service
from desktop.store import insights
from desktop.store.database import Store

ADMIN = Principal("u_admin", "admin", "d_test")
CATALOGUE = "produto;preço;estoque;sku\nVestido floral azul;199,90;12;VF-001\nBlusa de linho;89,90;0;BL-002\n"
SECRETS = ("48213", "Mariana", "Costa", "Rua das Flores", "mariana@exemplo.com", "98765-4321", "189,90", "Joana")


def capture(chat_id: str, title: str, turns: list[tuple[str, str]], start: int = 0) -> dict:
    msgs = [
        {
            "id": f"{chat_id}-{start + i}",
            "direction": d,
            "text": t,
            "author": title if d == "in" else "Loja",
            "timestamp": f"2026-03-10T09:{start + i:02d}:00",
        }
        for i, (d, t) in enumerate(turns)
    ]
    return {"chat": {"id": chat_id, "title": title}, "messages": msgs}


MARIANA = capture(
    "5511900000001@c.us",
    "Mariana Costa",
    [
        ("in", "Oi, meu pedido ainda não chegou, já faz uma semana"),
        ("out", "Oi Mariana! Seu pedido 48213 saiu ontem para a Rua das Flores, 120 e chega amanhã."),
        ("in", "Posso trocar o vestido por outro tamanho?"),
        ("out", "Pode sim, Mariana! A troca é grátis em até 30 dias. Me confirma seu e-mail mariana@exemplo.com?"),
        ("in", "Quero o reembolso, o produto veio com defeito"),
        ("out", "Sinto muito, Mariana Costa. O reembolso de R$ 189,90 cai em até 5 dias úteis no seu cartão."),
    ],
)
JOANA = capture(
    "5511900000002@c.us",
    "Joana",
    [
        ("in", "Bom dia, meu pedido não chegou ainda"),
        ("out", "Bom dia Joana! Vou verificar com a transportadora e te retorno em até 1 hora."),
        ("in", "Vocês trocam peça com defeito?"),
        ("out", "Trocamos sim! Pode nos chamar no (11) 98765-4321 que resolvemos."),
    ],
)


def run(svc: Service, coro):
    async def main():
        svc.rt.bind_loop(asyncio.get_running_loop())
        return await coro

    return asyncio.run(main())


@pytest.fixture
def svc(tmp_path):
    store, _ = Store.open(tmp_path, "")
    s = Service(config.load(env={"CONVERSA_DATA_DIR": str(tmp_path)}), store, None)
    yield s
    s.shutdown()
    store.close()


def _request(svc: Service, conversation_id: str):
    """The analysis request the service would hand the model for this conversation now."""

    async def go():
        return await svc.db(lambda store: svc.analyses._request(store, conversation_id, "i_none")[0])

    return run(svc, go())


def _ingest(svc: Service, cap: dict) -> str:
    return run(svc, svc.ingest(ADMIN, cap))["conversation_id"]


def _no_secret(texts: list[str]) -> None:
    for t in texts:
        for s in SECRETS:
            assert s not in t, (s, t)


def test_masking_keeps_the_move_and_drops_the_customer():
    names = name_tokens("Mariana Costa")
    assert mask(MARIANA["messages"][1]["text"], names) == (
        "Oi {nome}! Seu pedido {pedido} saiu ontem para a {endereco} e chega amanhã."
    )
    assert mask("Sinto muito, Mariana Costa. O reembolso de R$ 189,90 cai em até 5 dias úteis.", names) == (
        "Sinto muito, {nome}. O reembolso de {valor} cai em até 5 dias úteis."
    )
    out = mask("Rastreio BR123456789BR, CPF 123.456.789-00, CEP 01310-100, dia 12/03, (11) 98765-4321, a@b.com.br")
    assert out == "Rastreio {pedido}, CPF {cpf}, CEP {cep}, dia {data}, {telefone}, {email}"
    kept = "A troca é grátis em até 30 dias; parcelamos em 3x sem juros, das 9h às 18h."
    assert mask(kept, names) == kept  # the shop's own terms stay
    # A greeting masks the capitalised name after it, never the sentence that follows it.
    assert mask("Bom dia, Priscila! Obrigada Helena Duarte.") == "Bom dia, {nome}! Obrigada {nome}."
    for plain in ("Oi tudo bem? Obrigada pela confiança!", "Boa tarde! Decidi levar o vestido."):
        assert mask(plain) == plain
    # A surname that is also a word: capitalised it is the name, lower case the word; a name
    # written in lower case is still masked, with a placeholder nothing fills.
    dias = name_tokens("Roberto Dias")
    assert mask("Roberto Dias, chega em 3 dias úteis.", dias) == "{nome}, chega em 3 dias úteis."
    assert mask("oi roberto, tudo certo", dias) == "oi {cliente}, tudo certo"


def test_team_replies_are_masked_exclude_this_chat_and_go_with_an_erased_contact(svc):
    mariana = _ingest(svc, MARIANA)
    joana = _ingest(svc, JOANA)
    new = _ingest(svc, capture("5511900000003@c.us", "Paulo", [("in", "Olá, meu pedido não chegou, o que houve?")]))
    # The analysis of Joana's first turn said order_status: the pair carries it.
    first_in = run(svc, svc.db(lambda s: s.q1("SELECT id FROM messages WHERE conversation_id=? AND seq=1", (joana,))))
    iid = run(svc, svc.db(insights.create, joana, first_in["id"], "m"))
    run(svc, svc.db(insights.save, iid, None, {"intent": {"label": "order_status", "confidence": 0.9}}))
    run(
        svc,
        svc.ingest(
            ADMIN, capture(JOANA["chat"]["id"], "Joana", [("out", "Qualquer coisa, estou por aqui!")], start=10)
        ),
    )

    req = _request(svc, new)
    texts = [r.text for r in req.team_replies]
    assert texts[:2] == [
        "Bom dia {nome}! Vou verificar com a transportadora e te retorno em até 1 hora.",
        "Oi {nome}! Seu pedido {pedido} saiu ontem para a {endereco} e chega amanhã.",
    ], texts
    assert req.team_replies[0].intent == "order_status" and req.team_replies[1].intent is None
    assert req.team_replies[0].score >= req.team_replies[1].score > 0
    _no_secret(texts + [r.customer_turn for r in req.team_replies])

    # A chat's own replies are not offered back to it.
    own = _request(svc, mariana)
    assert not any("saiu ontem" in r.text for r in own.team_replies)

    # Erasing Mariana takes her replies out at once, and after a restart too.
    contact = run(svc, svc.db(lambda s: s.q1("SELECT contact_id FROM conversations WHERE id=?", (mariana,))))
    run(svc, svc.erase_contact(ADMIN, contact["contact_id"]))
    after = [r.text for r in _request(svc, new).team_replies]
    assert not any("saiu ontem" in t or "reembolso" in t or "30 dias" in t for t in after), after
    assert any("transportadora" in t for t in after)

    # A conversation deleted by a merge (its id is not the erased contact's) does not outlive an erase.
    run(svc, svc.db(lambda s: s.conn.execute("DELETE FROM conversations WHERE id=?", (joana,))))
    run(svc, svc.db(svc.team_replies.forget, []))
    assert not _request(svc, new).team_replies


def test_startup_indexes_stored_chats_and_request_carries_catalogue_passage(tmp_path):
    store, _ = Store.open(tmp_path, "")
    settings = config.load(env={"CONVERSA_DATA_DIR": str(tmp_path)})
    first = Service(settings, store, None)
    _ingest(first, MARIANA)
    _ingest(first, JOANA)
    run(first, first.knowledge.save(ADMIN, "Catálogo", "csv", CATALOGUE))
    first.shutdown()

    svc = Service(settings, store, None)  # a restart: nothing but the store
    try:

        async def start():
            await svc.startup()
            while not svc.team_replies.ready:
                await asyncio.sleep(0.01)

        run(svc, start())
        assert len(svc.team_replies) == 5 and len(svc.knowledge) == 2
        conv = _ingest(svc, capture("5511900000004@c.us", "Rita", [("in", "Quanto custa o vestido floral?")]))
        req = _request(svc, conv)
        assert req.passages and req.passages[0].title == "Catálogo"
        assert req.passages[0].fields == {
            "product": "Vestido floral azul",
            "price": "R$ 199,90",
            "stock": "12",
            "sku": "VF-001",
        }
        assert req.passages[0].id.endswith(".1")
        # A later exchange is indexed from its capture (no restart).
        _ingest(
            svc,
            capture(
                "5511900000005@c.us",
                "Carla",
                [("in", "Vocês entregam no sábado?"), ("out", "Entregamos sim, de segunda a sábado até as 18h.")],
            ),
        )
        ask = _ingest(svc, capture("5511900000006@c.us", "Beto", [("in", "Entregam no sábado também?")]))
        assert _request(svc, ask).team_replies[0].text == "Entregamos sim, de segunda a sábado até as 18h."
    finally:
        svc.shutdown()
        store.close()
