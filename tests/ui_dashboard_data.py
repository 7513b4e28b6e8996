"""Seeded data for the dashboard and report tests, written only through the HTTP API: two
attendants capture their customers' chats (the real model analyses them), the admin sets stages,
values and owners. Times are relative to today (the dashboard's periods end today), zone UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from conftest import cli

ATTENDANT_PASSWORD = "att-pass-123"

# (attendant, chat, name, stage, value, [(direction, minutes after the chat's start, text)], days ago)
CHATS = [
    ("ana", "5511900000001", "Carla Menezes", "proposal", 5200.0, [
        ("in", 0, "Oi! Quanto custa o plano anual para 5 usuários?"),
        ("out", 6, "Olá Carla! O anual sai por R$ 5.200, com 10% de desconto no Pix."),
        ("in", 30, "Ótimo, gostei muito. Pode mandar a proposta?"),
        ("out", 41, "Claro, envio ainda hoje.")], 2),
    ("ana", "5511900000002", "Diego Prado", "qualified", 12000.0, [
        ("in", 0, "O sistema caiu de novo e ninguém me responde, estou muito insatisfeito."),
        ("out", 48, "Diego, sinto muito. Já abri um chamado com prioridade."),
        ("in", 60, "Isso é inaceitável, vou cancelar se acontecer de novo.")], 5),
    ("ana", "5511900000003", "Elisa Rocha", "won", 800.0, [
        ("in", 0, "Bom dia, queria agendar a instalação para sexta."),
        ("out", 3, "Bom dia Elisa! Sexta às 10h está livre, confirmo?"),
        ("in", 10, "Perfeito, obrigada!")], 9),
    ("bia", "5511900000004", "Fábio Lima", "proposal", 30000.0, [
        ("in", 0, "Vocês têm desconto para 50 licenças?"),
        ("out", 25, "Temos sim, Fábio: 15% acima de 30 licenças."),
        ("in", 40, "Manda o orçamento, por favor.")], 1),
    ("bia", "5511900000005", "Gabi Souza", "lead", 2000.0, [
        ("in", 0, "Meu pedido ainda não chegou, já faz duas semanas. Péssimo atendimento."),
        ("out", 90, "Gabi, vou verificar com a transportadora agora.")], 3),
    ("bia", "5511900000006", "Hugo Alves", "lost", 4500.0, [
        ("in", 0, "Desisti da compra, achei outro fornecedor mais barato."),
        ("out", 12, "Entendo, Hugo. Se mudar de ideia estamos aqui.")], 12),
]  # fmt: skip


def seed(server, admin_token: str, today: datetime | None = None) -> dict[str, str]:
    """Users ana and bia, their captures, stages and values; waits for every analysis. Returns
    {username: user id} and {name: contact id}."""
    ids: dict[str, str] = {}
    for user in ("ana", "bia"):
        r = cli(server.data_dir, "users", "add", user, "--role", "attendant", "--password-stdin",
                stdin=ATTENDANT_PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
    tokens = {u: server.login(u, ATTENDANT_PASSWORD) for u in ("ana", "bia")}
    for u, tok in tokens.items():
        ids[u] = tok["user"]["id"]
    today = today or datetime.now(UTC).replace(tzinfo=None)
    conversations = {}
    for user, chat, name, _stage, _value, msgs, days_ago in CHATS:
        start = (today - timedelta(days=days_ago)).replace(hour=9, minute=0, second=0, microsecond=0)
        capture = {
            "chat": {"id": f"{chat}@c.us", "title": name, "is_group": False, "phone": "+" + chat},
            "messages": [
                {"id": f"{chat}-{i}", "direction": d, "kind": "text", "author": None if d == "out" else name,
                 "timestamp": (start + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S"), "text": text}
                for i, (d, m, text) in enumerate(msgs)
            ],
            "captured_at": today.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "client": {"extension_version": "0.1.0", "locale": "pt-BR", "tz_offset_minutes": 0},
        }  # fmt: skip
        r = server.request("POST", "/api/v1/captures", capture, token=tokens[user]["access_token"])
        assert r.status == 202, r.body
        conversations[name] = r.json()["conversation_id"]
    contacts = {}
    for _user, _chat, name, stage, value, _msgs, _days in CHATS:
        r = server.request("GET", f"/api/v1/conversations/{conversations[name]}", token=admin_token)
        assert r.status == 200, r.body
        contact_id = r.json()["contact"]["id"]
        contacts[name] = contact_id
        r = server.request("PATCH", f"/api/v1/contacts/{contact_id}", {"stage": stage, "value": value},
                           token=admin_token)
        assert r.status == 200, r.body
    _wait_for_analyses(server, admin_token, set(conversations.values()))
    return ids | contacts


def _wait_for_analyses(server, token: str, ids: set[str], timeout: float = 2400) -> None:
    deadline = time.monotonic() + timeout
    while True:
        r = server.request("GET", "/api/v1/conversations?limit=200", token=token)
        states = {c["id"]: (c["insight"] or {}).get("state") for c in r.json()["items"] if c["id"] in ids}
        if all(s not in (None, "pending") for s in states.values()) and len(states) == len(ids):
            assert all(s == "ready" for s in states.values()), states
            return
        assert time.monotonic() < deadline, f"analyses not done: {states}"
        time.sleep(1)
