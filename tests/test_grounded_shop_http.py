"""End to end over HTTP with the real default model (issue 13): a shop whose knowledge base was
loaded through POST /knowledge (the FAQ, exchange policy and catalogue of tests/fixtures/shop)
and whose team answered customers before (earlier captures). A price question gets the
catalogue's price with its source; another customer's reply is offered with none of that
customer's facts; an erased contact's replies are no longer retrieved."""

from __future__ import annotations

import pytest
from conftest import make_server
from shop_support import SHOP
from test_grounded_http import GREETING, _capture, _insight

# Joana's earlier chat: what the team answered her is suggestion material for others, her order
# number, address and name are not.
JOANA = [
    ("in", "Meu pedido ainda não chegou, já faz uma semana"),
    ("out", "Oi Joana! Seu pedido 48213 saiu ontem para a Rua das Flores, 120 e chega amanhã."),
    ("in", "Vocês entregam no sábado?"),
    ("out", "Entregamos sim, Joana! De segunda a sábado até as 18h."),
]
SATURDAY = "Entregamos sim, {name}! De segunda a sábado até as 18h."  # her reply, for another customer
JOANAS_FACTS = ("48213", "Joana", "Rua das Flores")


@pytest.fixture(scope="module")
def shop(tmp_path_factory, model_file):
    srv = make_server(tmp_path_factory.mktemp("shop-http"), model_file)
    srv.start()
    token = srv.login()["access_token"]
    for title, field, name in (
        ("Perguntas frequentes", "text", "faq.md"),
        ("Política de trocas", "text", "politica_de_trocas.md"),
        ("Catálogo", "csv", "catalogo.csv"),
    ):
        r = srv.request(
            "POST", "/api/v1/knowledge", {"title": title, field: (SHOP / name).read_text("utf-8")}, token=token
        )
        assert r.status == 201, r.body
    r = srv.request("POST", "/api/v1/captures", _capture("5511900000201", "Joana Prado", JOANA), token=token)
    assert r.status == 202, r.body
    yield srv, token, r.json()["conversation_id"]
    srv.stop()


def _texts(insight: dict) -> list[str]:
    return [s["text"] for s in insight["suggestions"]] + [insight["summary"] or ""]


def test_a_price_question_gets_the_catalogue_price_with_its_source(shop):
    srv, token, _ = shop
    insight = _insight(
        srv,
        token,
        _capture("5511900000202", "Rita Alves", [("out", GREETING), ("in", "Oi! Quanto custa o tênis preto?")]),
    )
    first = insight["suggestions"][0]
    assert "R$ 249,90" in first["text"] and "Tênis preto" in first["text"], insight["suggestions"]
    assert first["source"] == "knowledge" and [c["title"] for c in first["citations"]] == ["Catálogo"]
    # The citation names a passage the analysis really retrieved.
    assert first["citations"][0]["id"] in insight["timings"]["retrieval"]["passages"]


def test_the_teams_reply_is_offered_without_another_customers_facts(shop):
    srv, token, _ = shop
    late = _insight(
        srv,
        token,
        _capture(
            "5511900000203", "Beto Souza", [("out", GREETING), ("in", "Meu pedido não chegou ainda, já faz uma semana")]
        ),
    )
    assert late["timings"]["retrieval"]["team_replies"], "Joana's similar turn was not retrieved"
    for text in _texts(late):
        for fact in JOANAS_FACTS:
            assert fact not in text, (fact, text)
    saturday = _insight(
        srv,
        token,
        _capture("5511900000204", "Carla Dias", [("out", GREETING), ("in", "Vocês entregam no sábado também?")]),
    )
    team = [s for s in saturday["suggestions"] if s["source"] == "team"]
    assert [s["text"] for s in team] == [SATURDAY.format(name="Carla")], saturday["suggestions"]


def test_an_erased_contacts_replies_are_no_longer_retrieved(shop):
    srv, token, joana = shop
    ask = [("out", GREETING), ("in", "Vocês entregam no sábado?")]
    before = _insight(srv, token, _capture("5511900000205", "Davi Reis", ask))
    found = set(before["timings"]["retrieval"]["team_replies"])
    offered = [s["text"] for s in before["suggestions"]]
    assert found and SATURDAY.format(name="Davi") in offered, offered
    conv = srv.request("GET", f"/api/v1/conversations/{joana}", token=token).json()
    r = srv.request("DELETE", f"/api/v1/contacts/{conv['contact']['id']}", token=token)
    assert r.status == 204, r.body
    after = _insight(srv, token, _capture("5511900000206", "Elis Matos", ask))
    assert not found & set(after["timings"]["retrieval"]["team_replies"]), after["timings"]["retrieval"]
    assert all(s["source"] != "team" for s in after["suggestions"]), after["suggestions"]
