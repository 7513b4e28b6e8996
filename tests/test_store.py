"""The encrypted store on real SQLite files: keys, envelopes, shredding, migrations."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.store import chats, crypto
from desktop.store.database import Store
from desktop.store.errors import KeyMissing, KeysUnavailable, TamperedValue
from desktop.store.keys import KEY_FILE, KeyStore, format_recovery_key, parse_recovery_key

CAPTURE = {
    "chat": {"id": "5511900000001@c.us", "title": "Joana Lima", "is_group": False, "phone": "+5511900000001"},
    "messages": [
        {
            "id": "false_5511900000001@c.us_AAA1",
            "direction": "in",
            "kind": "text",
            "author": "Joana Lima",
            "timestamp": "2026-03-10T09:00:00",
            "text": "Oi, quanto custa?",
        },
        {
            "id": "true_5511900000001@c.us_BBB2",
            "direction": "out",
            "kind": "text",
            "author": "Loja",
            "timestamp": "2026-03-10T09:01:00",
            "text": "R$ 50,00",
        },
    ],
}


def test_passphrase_store_reopens_and_refuses_wrong_passphrase(tmp_path):
    store, setup = Store.open(tmp_path, "correct horse")
    assert setup.method == "passphrase" and len(parse_recovery_key(setup.recovery_key)) == 32
    chats.store_capture(store, CAPTURE, "u1")
    store.close()
    with pytest.raises(KeysUnavailable, match="wrong passphrase"):
        Store.open(tmp_path, "wrong")
    with pytest.raises(KeysUnavailable, match="CONVERSA_PASSPHRASE"):
        Store.open(tmp_path, "")
    store, setup = Store.open(tmp_path, "correct horse")
    assert setup is None
    conv = store.q1("SELECT id, contact_id FROM conversations")
    kid = store.q1("SELECT kid FROM contacts")["kid"]
    assert [m["text"] for m in chats.messages(store, conv["id"], kid)] == ["Oi, quanto custa?", "R$ 50,00"]
    store.close()


def test_missing_key_store_never_recreates_the_database(tmp_path):
    store, _ = Store.open(tmp_path, "")  # key file protection (no keyring on a headless machine)
    chats.store_capture(store, CAPTURE, "u1")
    store.close()
    size = (tmp_path / "conversa.db").stat().st_size
    (tmp_path / KEY_FILE).rename(tmp_path / "moved.key")
    with pytest.raises(KeysUnavailable, match="missing"):
        Store.open(tmp_path, "")
    (tmp_path / "moved.key").rename(tmp_path / KEY_FILE)
    (tmp_path / "keys.db").rename(tmp_path / "keys.bak")
    with pytest.raises(KeysUnavailable, match="refusing"):
        Store.open(tmp_path, "")
    assert (tmp_path / "conversa.db").stat().st_size == size
    assert not (tmp_path / "keys.db").exists()


def test_recovery_key_unlocks_and_rotation_keeps_data(tmp_path):
    store, setup = Store.open(tmp_path, "pass-one")
    chats.store_capture(store, CAPTURE, "u1")
    store.close()
    ks = KeyStore.recover(tmp_path, setup.recovery_key, "pass-two")
    new_recovery = ks.rotate("pass-two")
    ks.close()
    assert new_recovery != setup.recovery_key
    store, _ = Store.open(tmp_path, "pass-two")
    conv = store.q1("SELECT id FROM conversations")
    kid = store.q1("SELECT kid FROM contacts")["kid"]
    assert chats.messages(store, conv["id"], kid)[0]["text"] == "Oi, quanto custa?"
    store.close()
    with pytest.raises(KeysUnavailable):
        KeyStore.recover(tmp_path, setup.recovery_key, "x")  # the old recovery key died with rotation
    with pytest.raises(KeysUnavailable):
        KeyStore.recover(tmp_path, format_recovery_key(b"\x00" * 32), "x")


def test_envelope_is_bound_to_its_row_and_column(tmp_path):
    store, _ = Store.open(tmp_path, "p")
    blob = store.seal(None, "messages", "text", "m_1", "segredo")
    assert store.unseal(blob, "messages", "text", "m_1") == "segredo"
    with pytest.raises(TamperedValue):
        store.unseal(blob, "messages", "text", "m_2")
    with pytest.raises(TamperedValue):
        store.unseal(blob, "messages", "author", "m_1")
    assert blob[0] == crypto.VERSION and b"segredo" not in blob
    store.close()


def test_erasing_a_contact_key_shreds_its_data_in_old_backups(tmp_path):
    store, _ = Store.open(tmp_path, "p")
    chats.store_capture(store, CAPTURE, "u1")
    backup = store.backup(tmp_path / "backups" / "before.db")
    kid = store.q1("SELECT kid FROM contacts")["kid"]
    store.keys.erase(crypto_kid(kid))
    old = sqlite3.connect(backup)
    row = old.execute("SELECT id, text FROM messages LIMIT 1").fetchone()
    old.close()
    with pytest.raises(KeyMissing):
        store.unseal(row[1], "messages", "text", row[0])
    store.close()


def crypto_kid(b64: str) -> bytes:
    import base64

    return base64.b64decode(b64)


def test_schema_migration_backs_up_first(tmp_path, monkeypatch):
    store, _ = Store.open(tmp_path, "p")
    chats.store_capture(store, CAPTURE, "u1")
    store.close()
    from desktop.store import migrations

    added = migrations.MIGRATIONS + [("0099_test", lambda db: db["extra"].create({"id": int}, pk="id"))]
    monkeypatch.setattr(migrations, "MIGRATIONS", added)
    monkeypatch.setattr("desktop.store.database.MIGRATIONS", added)
    store, _ = Store.open(tmp_path, "p")
    assert "extra" in store.db.table_names()
    store.close()
    backups = list((tmp_path / "backups").glob("pre-0099_test-*.db"))
    assert len(backups) == 1
    b = sqlite3.connect(backups[0])
    assert b.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
    b.close()


def test_capture_identity_packed_and_bare_ids(tmp_path):
    store, _ = Store.open(tmp_path, "p")
    first = chats.store_capture(store, CAPTURE, "u1")
    assert (first.new_messages, first.new_incoming) == (2, 1)
    bare = {
        "chat": {"id": None, "title": "Joana Lima", "is_group": False, "phone": None},
        "messages": [dict(m, id=m["id"].rsplit("_", 1)[1]) for m in CAPTURE["messages"]],
    }
    again = chats.store_capture(store, bare, "u1")
    assert again.conversation_id == first.conversation_id and again.new_messages == 0
    store.close()
