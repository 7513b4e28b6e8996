"""The attendant's day over HTTP (issue 14), against a real server process and SQLite file:
the queue's order (SLA, wait band, mood), re-opening, hand-over, follow-ups and their roles,
If-Match on contacts, and the contact's history periods. No model: moods come from corrections."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import make_server

SLA_MINUTES = 10
PW = "password-attendant-1"


def _capture(chat: str, title: str, messages: list[tuple[str, float, str]]) -> dict:
    """messages: (direction, minutes ago, text); times are wall-clock UTC (the server's zone here)."""
    now = datetime.now(UTC)
    rows = []
    for n, (direction, ago, text) in enumerate(messages):
        at = (now - timedelta(minutes=ago)).strftime("%Y-%m-%dT%H:%M:%S")
        rows.append(
            {
                "id": f"{chat}-{n}-{ago}",
                "direction": direction,
                "timestamp": at,
                "text": text,
                "author": title if direction == "in" else "Loja",
                "kind": "text",
            }
        )
    return {
        "chat": {"id": f"55119{abs(hash(chat)) % 10**8:08d}@c.us", "title": title, "is_group": False},
        "messages": rows,
        "captured_at": now.isoformat(),
        "client": {"extension_version": "0.1.0", "locale": "pt-BR", "tz_offset_minutes": 0},
    }


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    srv = make_server(
        tmp_path_factory.mktemp("workflow"),
        None,
        conversa_timezone="UTC",
        conversa_sla_first_response_minutes=str(SLA_MINUTES),
    )
    srv.start(wait_model=False)
    admin = srv.login()["access_token"]
    tokens = {"admin": admin}
    for name in ("ana", "bia"):
        r = srv.request("POST", "/api/v1/users", {"username": name, "password": PW, "role": "attendant"}, token=admin)
        assert r.status == 201, r.body
        tokens[name] = srv.login(name, PW)["access_token"]
    users = {
        u["username"]: u["id"] for u in srv.request("GET", "/api/v1/attendants", token=tokens["bia"]).json()["items"]
    }
    yield srv, tokens, users
    srv.stop()


def _call(srv, token, method, path, body=None, headers=None):
    return srv.request(method, "/api/v1" + path, body, token=token, headers=headers)


def _post(srv, token, capture) -> str:
    r = _call(srv, token, "POST", "/captures", capture)
    assert r.status == 202, r.body
    return r.json()["conversation_id"]


def _mood(srv, token, conv, label):
    r = _call(srv, token, "POST", f"/conversations/{conv}/labels", {"sentiment": label})
    assert r.status == 204, r.body


def test_queue_order_reopen_transfer(team):
    srv, tok, users = team
    ana = tok["ana"]
    overdue = _post(srv, ana, _capture("a", "Alice", [("out", 60, "Olá"), ("in", 40, "Cadê meu pedido?")]))
    neutral_7 = _post(srv, ana, _capture("b", "Bruno", [("in", 7.5, "Oi"), ("in", 7, "Tem tamanho M?")]))
    negative_6 = _post(srv, ana, _capture("c", "Carla", [("in", 6, "Péssimo atendimento")]))
    positive_2 = _post(srv, ana, _capture("d", "Davi", [("in", 2, "Obrigado!")]))
    answered = _post(srv, ana, _capture("e", "Elisa", [("in", 30, "Oi"), ("out", 29, "Olá Elisa")]))
    _mood(srv, ana, negative_6, "negative")
    _mood(srv, ana, neutral_7, "neutral")
    _mood(srv, ana, positive_2, "positive")

    q = _call(srv, ana, "GET", "/queue").json()
    order = [i["conversation_id"] for i in q["items"]]
    # SLA first; then the 5-10 min band with the upset customer before the longer neutral wait.
    assert order == [overdue, negative_6, neutral_7, positive_2], q
    by = {i["conversation_id"]: i for i in q["items"]}
    assert answered not in by
    assert [by[c]["overdue"] for c in order] == [True, False, False, False]
    assert by[overdue]["sla_first_response_seconds"] == SLA_MINUTES * 60
    assert 39 * 60 <= by[overdue]["waiting_seconds"] <= 41 * 60
    # The wait runs from the first unanswered customer message, not the last.
    assert 7.4 * 60 <= by[neutral_7]["waiting_seconds"] <= 8 * 60
    assert (by[negative_6]["sentiment"], by[negative_6]["title"]) == ("negative", "Carla")
    assert q["count"] == 4

    # Others' queues: bia's is empty; an admin may read ana's; bia may not.
    assert _call(srv, tok["bia"], "GET", "/queue").json()["items"] == []
    assert [i["conversation_id"] for i in _call(srv, tok["admin"], "GET", "/queue?user=ana").json()["items"]] == order
    r = _call(srv, tok["bia"], "GET", "/queue?user=ana")
    assert r.status == 403 and r.json()["error"]["code"] == "role_not_allowed"

    # Resolved leaves the queue; a new customer message re-opens it.
    assert _call(srv, ana, "PATCH", f"/conversations/{positive_2}", {"status": "resolved"}).status == 200
    assert positive_2 not in [i["conversation_id"] for i in _call(srv, ana, "GET", "/queue").json()["items"]]
    _post(srv, ana, _capture("d", "Davi", [("in", 2, "Obrigado!"), ("in", 0.5, "Mais uma dúvida")]))
    assert _call(srv, ana, "GET", f"/conversations/{positive_2}").json()["status"] == "open"
    again = {i["conversation_id"]: i for i in _call(srv, ana, "GET", "/queue").json()["items"]}
    # The resolution closed the wait for "Obrigado!": it starts again at the new message.
    assert 20 <= again[positive_2]["waiting_seconds"] <= 60

    # Hand-over: ana gives the overdue chat to bia with a note.
    r = _call(
        srv, ana, "POST", f"/conversations/{overdue}/transfer", {"to_user": "bia", "note": "Cliente VIP, pedido 123"}
    )
    assert r.status == 200, r.body
    assert r.json()["owner"] == users["bia"]
    bia_q = _call(srv, tok["bia"], "GET", "/queue").json()["items"]
    assert [i["conversation_id"] for i in bia_q] == [overdue]
    assert bia_q[0]["transfer_note"] == "Cliente VIP, pedido 123" and bia_q[0]["overdue"] is True
    assert overdue not in [i["conversation_id"] for i in _call(srv, ana, "GET", "/queue").json()["items"]]
    audit = _call(srv, tok["admin"], "GET", "/audit?action=conversation.transfer").json()["items"]
    assert audit and audit[0]["target"] == overdue and "Cliente" not in str(audit)
    # Unknown user 404; a chat the caller cannot see 403 (ana no longer owns it); unknown chat 404.
    r = _call(srv, tok["bia"], "POST", f"/conversations/{overdue}/transfer", {"to_user": "nobody"})
    assert r.status == 404 and r.json()["error"]["code"] == "user_not_found"
    r = _call(srv, ana, "POST", f"/conversations/{overdue}/transfer", {"to_user": "ana"})
    assert r.status == 403 and set(r.json()) == {"error"}
    assert _call(srv, ana, "POST", "/conversations/c_nope/transfer", {"to_user": "bia"}).status == 404
    # Bia answers: the hand-over note leaves her queue with the wait.
    _post(srv, tok["bia"], _capture("a", "Alice", [("out", 0.1, "Oi Alice, já vejo")]))
    assert _call(srv, tok["bia"], "GET", "/queue").json()["items"] == []


def test_followups_crud_and_roles(team):
    srv, tok, users = team
    ana, bia = tok["ana"], tok["bia"]
    conv = _post(srv, ana, _capture("f", "Fabi", [("in", 50, "Vou pensar"), ("out", 49, "Claro!")]))
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    later = (datetime.now(UTC) + timedelta(hours=1)).astimezone().isoformat()
    r = _call(
        srv, ana, "POST", "/followups", {"conversation_id": conv, "due_at": past, "note": "Ligar sobre o orçamento"}
    )
    assert r.status == 201, r.body
    f = r.json()
    assert f["note"] == "Ligar sobre o orçamento" and f["due"] is True and f["user"] == users["ana"]
    r2 = _call(srv, ana, "POST", "/followups", {"conversation_id": conv, "due_at": later})
    assert r2.status == 201

    due = _call(srv, ana, "GET", "/followups?due=true").json()["items"]
    assert [x["id"] for x in due] == [f["id"]]
    assert len(_call(srv, ana, "GET", f"/followups?conversation_id={conv}").json()["items"]) == 2
    # In the queue after the waiting chats (this chat waits for nobody).
    q = _call(srv, ana, "GET", "/queue").json()["items"]
    assert q[-1]["conversation_id"] == conv and q[-1]["followup"]["note"] == "Ligar sobre o orçamento"
    assert q[-1]["waiting_seconds"] is None and all(i["waiting_seconds"] is not None for i in q[:-1])

    # Stored encrypted: the note's text is nowhere in the database file.
    db = sqlite3.connect(f"file:{srv.data_dir / 'conversa.db'}?mode=ro", uri=True)
    blob = db.execute("SELECT note FROM followups WHERE id=?", (f["id"],)).fetchone()[0]
    db.close()
    assert blob and "orçamento".encode() not in blob and b"Ligar" not in blob

    # Roles: another attendant can neither see the chat nor touch the follow-up.
    assert _call(srv, bia, "POST", "/followups", {"conversation_id": conv, "due_at": past}).status == 404
    assert _call(srv, bia, "PATCH", f"/followups/{f['id']}", {"done": True}).status == 404
    assert _call(srv, bia, "DELETE", f"/followups/{f['id']}").status == 404
    assert _call(srv, bia, "GET", "/followups").json()["items"] == []
    assert _call(srv, bia, "GET", "/followups?user=all").status == 403
    assert len(_call(srv, tok["admin"], "GET", "/followups?user=all").json()["items"]) >= 2

    # Validation: an offset is required; unknown fields are refused.
    r = _call(srv, ana, "POST", "/followups", {"conversation_id": conv, "due_at": "2026-03-10T09:00:00"})
    assert r.status == 400 and r.json()["error"]["field"] == "due_at"
    assert _call(srv, ana, "PATCH", f"/followups/{f['id']}", {"colour": "red"}).status == 400

    # Snooze, then done: out of the due list and the queue.
    r = _call(srv, ana, "PATCH", f"/followups/{f['id']}", {"due_at": later, "note": "Depois do almoço"})
    assert r.status == 200 and r.json()["due"] is False and r.json()["note"] == "Depois do almoço"
    assert _call(srv, ana, "GET", "/followups?due=true").json()["items"] == []
    r = _call(srv, ana, "PATCH", f"/followups/{f['id']}", {"done": True, "due_at": past})
    assert r.status == 200 and r.json()["done"] is True and r.json()["due"] is False
    assert conv not in [i["conversation_id"] for i in _call(srv, ana, "GET", "/queue").json()["items"]]
    assert _call(srv, ana, "DELETE", f"/followups/{f['id']}").status == 204
    assert _call(srv, ana, "PATCH", f"/followups/{f['id']}", {"done": False}).status == 404
    actions = [a["action"] for a in _call(srv, tok["admin"], "GET", "/audit?limit=200").json()["items"]]
    assert {"followup.create", "followup.update", "followup.delete"} <= set(actions)


def test_contact_if_match_and_history(team):
    srv, tok, _ = team
    ana = tok["ana"]
    conv = _post(srv, ana, _capture("h", "Helena", [("in", 20, "Quero um orçamento")]))
    contact_id = _call(srv, ana, "GET", f"/conversations/{conv}").json()["contact"]["id"]
    r = _call(srv, ana, "GET", f"/contacts/{contact_id}")
    etag = r.headers["etag"]
    assert etag.startswith('"')
    r = _call(
        srv, ana, "PATCH", f"/contacts/{contact_id}", {"stage": "proposal", "value": 1234.5}, headers={"If-Match": etag}
    )
    assert r.status == 200 and r.headers["etag"] != etag
    # A second editor still holding the old version is refused, and nothing is stored.
    r = _call(srv, ana, "PATCH", f"/contacts/{contact_id}", {"value": 1}, headers={"If-Match": etag})
    assert r.status == 412
    assert r.json()["error"]["code"] == "contact_changed" and set(r.json()) == {"error"}
    assert _call(srv, ana, "GET", f"/contacts/{contact_id}").json()["value"] == 1234.5
    # Without If-Match (older clients) the edit goes through.
    assert _call(srv, ana, "PATCH", f"/contacts/{contact_id}", {"tags": ["vip"]}).status == 200

    # Two periods: resolved, then re-opened by a new customer message.
    assert _call(srv, ana, "PATCH", f"/conversations/{conv}", {"status": "resolved"}).status == 200
    _post(srv, ana, _capture("h", "Helena", [("in", 20, "Quero um orçamento"), ("in", 0, "Voltei!")]))
    h = _call(srv, ana, "GET", f"/contacts/{contact_id}/history").json()
    assert h["total"] == 2 and len(h["items"]) == 2 and h["next_cursor"] is None
    newest, oldest = h["items"]
    assert newest["ended_at"] is None and oldest["ended_at"] is not None
    assert newest["started_at"] >= oldest["ended_at"]
    assert [s["stage"] for s in oldest["stage_changes"]] == ["proposal"]
    assert newest["messages"] == 1 and oldest["messages"] == 1
    page = _call(srv, ana, "GET", f"/contacts/{contact_id}/history?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"] == "1"
    older = _call(srv, ana, "GET", f"/contacts/{contact_id}/history?limit=1&cursor=1").json()
    assert older["items"][0]["ended_at"] == oldest["ended_at"]
    assert _call(srv, tok["bia"], "GET", f"/contacts/{contact_id}/history").status == 404
    assert _call(srv, ana, "GET", f"/contacts/{contact_id}/history?limit=0").status == 400
