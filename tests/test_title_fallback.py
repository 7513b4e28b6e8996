"""Captures without a chat id: keyed by title and capturing attendant, unverified, merged into the
real chat once a capture brings its id (a real server; the merged rows checked in the database)."""

from __future__ import annotations

import base64
import sqlite3

import sqlite_utils
from conftest import PASSPHRASE, cli, make_server

from desktop.store import crypto
from desktop.store.database import Store
from desktop.store.migrations import MIGRATIONS

JID = "5511987650000@c.us"


def _capture(chat_id: str | None, messages: list[tuple[str, str, str]], title: str = "Maria") -> dict:
    return {
        "chat": {"id": chat_id, "title": title, "is_group": False, "phone": "+5511987650000" if chat_id else None},
        "messages": [
            {
                "id": mid,
                "direction": d,
                "kind": "text",
                "author": title if d == "in" else None,
                "timestamp": f"2026-03-10T09:{i:02d}:00",
                "text": text,
            }
            for i, (mid, d, text) in enumerate(messages)
        ],
        "client": {"extension_version": "0.1.0", "locale": "pt-BR", "tz_offset_minutes": -180},
    }


def _post(srv, token: str, capture: dict) -> str:
    r = srv.request("POST", "/api/v1/captures", capture, token=token)
    assert r.status == 202, r.body
    return r.json()["conversation_id"]


def _attendant(srv, name: str) -> str:
    r = cli(srv.data_dir, "users", "add", name, "--role", "attendant", "--password-stdin", stdin="s3cret-pass-1\n")
    assert r.returncode == 0, r.stderr
    return srv.login(name, "s3cret-pass-1")["access_token"]


def test_same_title_is_one_chat_per_attendant_until_the_chat_id_merges_it(tmp_path):
    srv = make_server(tmp_path, None)
    srv.start(wait_model=False)
    try:
        ana, bia = _attendant(srv, "ana"), _attendant(srv, "bia")
        admin = srv.login()["access_token"]

        # The admin captured the real chat (with its id); Ana's WhatsApp hides the id.
        real = _post(srv, admin, _capture(JID, [(f"false_{JID}_A0", "in", "Oi, sou a Maria")]))
        ana_guess = _post(srv, ana, _capture(None, [("A1", "in", "Meu pedido 123?"), ("A2", "out", "Vou ver")]))
        assert ana_guess != real  # a title alone only joins what this attendant started
        # Another attendant's "Maria" is another customer until proven otherwise.
        bia_guess = _post(srv, bia, _capture(None, [("B1", "in", "Quero um orçamento")]))
        assert bia_guess not in (real, ana_guess)
        # The same attendant capturing the same title again joins her unverified chat.
        assert _post(srv, ana, _capture(None, [("A2", "out", "Vou ver"), ("A3", "in", "Obrigada")])) == ana_guess

        listed = {
            c["id"]: c["verified"] for c in srv.request("GET", "/api/v1/conversations", token=admin).json()["items"]
        }
        assert listed == {real: True, ana_guess: False, bia_guess: False}
        guess_conv = srv.request("GET", f"/api/v1/conversations/{ana_guess}", token=ana).json()
        assert guess_conv["verified"] is False
        # What Ana writes on the guess's card is not lost by the merge.
        card = {"stage": "proposal", "value": 250, "notes": "cliente VIP", "tags": ["vip"]}
        r = srv.request("PATCH", f"/api/v1/contacts/{guess_conv['contact']['id']}", card, token=ana)
        assert r.status == 200, r.body

        # Another capture of the real chat already holds A1 (the admin has no guess to merge).
        assert _post(srv, admin, _capture(JID, [(f"false_{JID}_A1", "in", "Meu pedido 123?")])) == real
        # A capture with the chat id (packed ids this time, one message already held) merges Ana's guess.
        merged = [(f"false_{JID}_A1", "in", "Meu pedido 123?"), (f"true_{JID}_A4", "out", "Chega amanhã")]
        r = srv.request("POST", "/api/v1/captures", _capture(JID, merged), token=ana)
        assert r.status == 202 and r.json()["conversation_id"] == real and r.json()["new_messages"] == 1
        assert srv.request("GET", f"/api/v1/conversations/{ana_guess}", token=admin).status == 404
        conv = srv.request("GET", f"/api/v1/conversations/{real}", token=admin).json()
        assert conv["verified"] is True
        assert {k: conv["contact"][k] for k in card} == card
        assert sorted(m["text"] for m in conv["messages"]) == sorted(
            ["Oi, sou a Maria", "Meu pedido 123?", "Vou ver", "Obrigada", "Chega amanhã"]
        )
        # Bia's "Maria" is untouched: still hers, still unverified.
        bia_conv = srv.request("GET", f"/api/v1/conversations/{bia_guess}", token=bia).json()
        assert bia_conv["verified"] is False and [m["text"] for m in bia_conv["messages"]] == ["Quero um orçamento"]
        items = srv.request("GET", "/api/v1/conversations", token=admin).json()["items"]
        assert sorted(c["id"] for c in items) == sorted([real, bia_guess])
        # Re-posting what was merged stores nothing twice.
        again = _capture(JID, [(f"false_{JID}_A3", "in", "Obrigada"), (f"true_{JID}_A2", "out", "Vou ver")])
        assert srv.request("POST", "/api/v1/captures", again, token=ana).json()["new_messages"] == 0
    finally:
        srv.stop()

    store, _ = Store.open(srv.data_dir, PASSPHRASE)
    try:
        kid = store.q1("SELECT k.kid FROM conversations c JOIN contacts k ON k.id=c.contact_id WHERE c.id=?", (real,))
        rows = store.q("SELECT text, author, ident FROM messages WHERE conversation_id=?", (real,))
        assert len(rows) == 5
        # Every moved field is sealed with the real contact's key, none with the merged-away one.
        assert {crypto.envelope_kid(r["text"]) for r in rows} == {base64.b64decode(kid["kid"])}
        assert all(r["ident"] is None for r in rows)
        assert store.q1("SELECT count(*) AS n FROM contacts")["n"] == 2  # the guess's own contact went with it
        audit = store.q1("SELECT detail FROM audit_log WHERE action='conversation.merge'")
        assert audit and "2 moved, 1 dup" in audit["detail"]
    finally:
        store.close()


def test_the_first_capture_with_the_chat_id_adopts_the_unverified_chat(tmp_path):
    srv = make_server(tmp_path, None)
    srv.start(wait_model=False)
    try:
        admin = srv.login()["access_token"]
        guess = _post(srv, admin, _capture(None, [("C1", "in", "Oi")]))
        assert _post(srv, admin, _capture(JID, [(f"false_{JID}_C1", "in", "Oi"), ("C2", "out", "Olá")])) == guess
        conv = srv.request("GET", f"/api/v1/conversations/{guess}", token=admin).json()
        assert conv["verified"] is True and [m["text"] for m in conv["messages"]] == ["Oi", "Olá"]
        assert conv["contact"]["phone"] == "+5511987650000"
        # Later title-only captures of the same attendant keep joining it.
        assert _post(srv, admin, _capture(None, [("C3", "in", "Oi de novo")])) == guess
    finally:
        srv.stop()


def test_conversations_stored_without_a_chat_id_before_the_rule_are_unverified(tmp_path):
    conn = sqlite3.connect(tmp_path / "old.db")
    db = sqlite_utils.Database(conn)
    at = next(i for i, (name, _) in enumerate(MIGRATIONS) if name.endswith("_unverified_conversations"))
    for _, fn in MIGRATIONS[:at]:
        fn(db)
    db["conversations"].insert_all([{"id": "c_title", "chat_hash": None}, {"id": "c_chat", "chat_hash": "h"}])
    MIGRATIONS[at][1](db)
    assert {r["id"]: r["verified"] for r in db["conversations"].rows} == {"c_title": 0, "c_chat": 1}
