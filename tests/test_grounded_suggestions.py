"""End to end over HTTP with the real model (issue 13): a shop with a knowledge base and a
history of team replies.

The grounding is asserted on the real path: each insight's `timings.retrieval` names (by id
only) the knowledge passages and past team replies the service put into that analysis's request.
So a price question must carry the catalogue row, an order question the team's past answer to
one (masked), and an erased contact's replies must be gone from the next analysis. The price question's
answer is also asserted on the suggestion itself: the catalogue's price, source `knowledge`, and
the passage it cites.
"""

from __future__ import annotations

import os
import time

import pytest
from conftest import make_server

API = "/api/v1"
CATALOGUE = (
    "Produto;Preço;Estoque;SKU\n"
    "Vestido floral azul;199,90;12;VF-001\n"
    "Blusa de linho branca;89,90;0;BL-002\n"
    "Saia midi plissada;149,00;5;SM-003\n"
)
FAQ = (
    "# Trocas\n\nA primeira troca é grátis em até 30 dias após o recebimento, com a etiqueta.\n\n"
    "# Pagamento\n\nNo Pix há 5% de desconto. Parcelamos em até 6x sem juros no cartão.\n"
)
# Another customer's facts: none of these may reach a suggestion or a request for someone else.
SECRETS = ("48213", "Mariana", "Costa", "Rua das Flores", "mariana@exemplo.com")


def capture(chat_id: str, title: str, turns: list[tuple[str, str]], start: int = 0) -> dict:
    return {
        "chat": {"id": chat_id, "title": title},
        "messages": [
            {
                "id": f"{chat_id}-{start + i}",
                "direction": d,
                "text": t,
                "author": title if d == "in" else "Loja",
                "timestamp": f"2026-03-10T10:{start + i:02d}:00",
            }
            for i, (d, t) in enumerate(turns)
        ],
    }


HISTORY = [
    capture(
        "5511900000001@c.us",
        "Mariana Costa",
        [
            ("in", "Oi, meu pedido ainda não chegou, já faz uma semana"),
            ("out", "Oi Mariana! Seu pedido 48213 saiu ontem para a Rua das Flores, 120 e chega amanhã."),
            ("in", "Vocês fazem bordado personalizado com monograma?"),
            ("out", "Fazemos sim, Mariana! O bordado leva 3 dias úteis. Me confirma seu e-mail mariana@exemplo.com?"),
        ],
    ),
    capture(
        "5511900000002@c.us",
        "Joana",
        [
            ("in", "A blusa de linho voltou ao estoque?"),
            ("out", "Ainda não, Joana. Assim que chegar eu te aviso por aqui!"),
        ],
    ),
]


def wait_insight(srv, token: str, conv_id: str, timeout: float = 1800) -> dict:
    """The conversation's latest insight once it is done (a loaded machine may take minutes, past
    the 15-minute access token: then it signs in again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = srv.request("GET", f"{API}/conversations/{conv_id}/insights", token=token)
        if r.status == 401:
            token = srv.login()["access_token"]
            continue
        assert r.status == 200, r.body
        if r.json()["state"] in ("ready", "unavailable"):
            return r.json()
        time.sleep(0.5)
    raise AssertionError("no insight in time")


def _ids_of_replies(srv, token: str, conv_id: str) -> set[str]:
    msgs = srv.request("GET", f"{API}/conversations/{conv_id}", token=token).json()["messages"]
    return {m["id"] for m in msgs if m["direction"] == "out"}


@pytest.mark.slow
def test_grounded_suggestions_over_http(tmp_path, model_file):
    # The shop's history is stored first, without a model (no analyses to wait for) ...
    srv = make_server(tmp_path, None)
    srv.start()
    try:
        token = srv.login()["access_token"]
        cat = srv.request("POST", API + "/knowledge", {"title": "Catálogo", "csv": CATALOGUE}, token=token)
        faq = srv.request("POST", API + "/knowledge", {"title": "Política de trocas", "text": FAQ}, token=token)
        assert cat.status == 201 and faq.status == 201, (cat.body, faq.body)
        cat_id = cat.json()["id"]
        convs = [srv.request("POST", API + "/captures", c, token=token).json()["conversation_id"] for c in HISTORY]
        mariana_replies = _ids_of_replies(srv, token, convs[0])
        assert len(mariana_replies) == 2
    finally:
        srv.stop()
    # ... then the server restarts with the real model: both indexes are rebuilt from the store.
    os.symlink(model_file, srv.data_dir / "models" / model_file.name)
    srv.start()
    try:
        token = srv.login()["access_token"]
        assert srv.request("GET", API + "/health").json()["model"]["state"] == "ready"

        # One customer turn asks for a price and about a late order: the request carries the
        # catalogue row of that product first, and the team's past answer to a late order
        # (Mariana's, masked); none of her facts reaches this customer's suggestions or summary.
        paulo = capture(
            "5511900000004@c.us",
            "Paulo",
            [("in", "Oi, meu pedido ainda não chegou, o que houve? E quanto custa o vestido floral azul?")],
        )
        r = srv.request("POST", API + "/captures", paulo, token=token)
        assert r.status == 202 and r.json()["analysis"] == "queued", r.body
        paulo_conv = r.json()["conversation_id"]
        insight = wait_insight(srv, token, paulo_conv)
        assert insight["state"] == "ready", insight
        assert len(insight["suggestions"]) == 3
        retrieval = insight["timings"]["retrieval"]
        assert retrieval["passages"][0] == f"{cat_id}.1", retrieval  # Vestido floral azul;199,90;12;VF-001
        team = retrieval["team_replies"]
        assert team and team[0] in mariana_replies, (team, mariana_replies)
        # The price is answered by code from the catalogue row, with its source and citation.
        priced = [s for s in insight["suggestions"] if "R$ 199,90" in s["text"]]
        assert priced, insight["suggestions"]
        assert priced[0]["source"] == "knowledge", priced
        assert {"id": f"{cat_id}.1", "title": "Catálogo"} in priced[0]["citations"], priced
        shown = [s["text"] for s in insight["suggestions"]] + [insight["summary"] or ""]
        for text in shown:
            for secret in SECRETS:
                assert secret not in text, (secret, text)

        # Mariana is erased: her replies are no longer retrieved for the next analysis.
        token = srv.login()["access_token"]  # the analysis above may have outlived the last one
        contact = srv.request("GET", f"{API}/conversations/{convs[0]}", token=token).json()["contact"]["id"]
        assert srv.request("DELETE", f"{API}/contacts/{contact}", token=token).status == 204
        r = srv.request("POST", f"{API}/conversations/{paulo_conv}/analyze", token=token)
        assert r.status == 202, r.body
        insight = wait_insight(srv, token, paulo_conv)
        assert insight["state"] == "ready", insight
        retrieval = insight["timings"]["retrieval"]
        assert not set(retrieval["team_replies"]) & mariana_replies, retrieval
        assert retrieval["passages"][0] == f"{cat_id}.1"  # the knowledge base is untouched
        for text in [s["text"] for s in insight["suggestions"]] + [insight["summary"] or ""]:
            for secret in SECRETS:
                assert secret not in text, (secret, text)
    finally:
        srv.stop()
    assert "Traceback" not in srv.log.read_text(errors="replace")
