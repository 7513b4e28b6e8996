"""The encrypted store against tampering and prying, on real SQLite files: wrapped keys bound
to their slots (with the upgrade of older key stores), messages bound to their conversation's
contact key, and database side files readable by their owner only."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat

import pytest

from desktop.store import chats, crypto
from desktop.store.database import Store
from desktop.store.errors import KeysUnavailable, TamperedValue
from desktop.store.keys import KeyStore, _scrypt, parse_recovery_key

PASS = "slot-test-pass"


def _capture(n: int) -> dict:
    jid = f"55119000000{n:02d}@c.us"
    return {
        "chat": {"id": jid, "title": f"Cliente {n}", "is_group": False, "phone": f"+55119000000{n:02d}"},
        "messages": [
            {
                "id": f"false_{jid}_A{n}",
                "direction": "in",
                "kind": "text",
                "author": f"Cliente {n}",
                "timestamp": "2026-03-10T09:00:00",
                "text": f"pedido {n}: quanto custa?",
            },
            {
                "id": f"true_{jid}_B{n}",
                "direction": "out",
                "kind": "text",
                "author": "Loja",
                "timestamp": "2026-03-10T09:01:00",
                "text": f"resposta {n}",
            },
        ],
    }


def _texts(store: Store, conversation_id: str) -> list[str | None]:
    kid = chats.conversation_row(store, conversation_id)["kid"]
    return [m["text"] for m in chats.messages(store, conversation_id, kid)]


def _keys_db(data_dir) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "keys.db", isolation_level=None)


def _meta(db: sqlite3.Connection, name: str) -> dict:
    return json.loads(db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()[0])


def _put(db: sqlite3.Connection, name: str, item: dict) -> None:
    db.execute("UPDATE meta SET value=? WHERE name=?", (json.dumps(item), name))


# -- wrapped keys bound to their slots --------------------------------------------------------
def test_a_wrapped_key_moved_to_another_slot_does_not_unwrap(tmp_path):
    store, _ = Store.open(tmp_path, PASS)
    one = chats.store_capture(store, _capture(1), "u1")
    two = chats.store_capture(store, _capture(2), "u1")
    store.close()

    # The index key's wrapped value put in the JWT secret's slot: refused, not a swapped secret.
    db = _keys_db(tmp_path)
    original_jwt = _meta(db, "jwt")
    _put(db, "jwt", _meta(db, "index"))
    db.close()
    with pytest.raises(TamperedValue):
        Store.open(tmp_path, PASS)
    db = _keys_db(tmp_path)
    _put(db, "jwt", original_jwt)
    # Contact 1's wrapped key copied over contact 2's: contact 2's data stays unreadable.
    kid1 = store_kid(tmp_path, one.contact_id)
    kid2 = store_kid(tmp_path, two.contact_id)
    wrapped1 = db.execute("SELECT wrapped FROM contact_keys WHERE kid=?", (kid1,)).fetchone()[0]
    db.execute("UPDATE contact_keys SET wrapped=? WHERE kid=?", (wrapped1, kid2))
    db.close()
    store, _ = Store.open(tmp_path, PASS)
    assert _texts(store, one.conversation_id) == ["pedido 1: quanto custa?", "resposta 1"]
    with pytest.raises(TamperedValue):
        store.keys.key_for(base64.b64decode(kid2))  # not contact 1's key under contact 2's name
    with pytest.raises(TamperedValue):
        _texts(store, two.conversation_id)
    store.close()


def store_kid(data_dir, contact_id: str) -> str:
    db = sqlite3.connect(data_dir / "conversa.db")
    try:
        return db.execute("SELECT kid FROM contacts WHERE id=?", (contact_id,)).fetchone()[0]
    finally:
        db.close()


_LEGACY_AAD = b"conversa/data-key"


def _legacy(kek: bytes, key: bytes) -> str:
    """A wrapped key exactly as key stores before slot binding wrote it."""
    return base64.b64encode(crypto.seal(kek, b"\x00" * crypto.KID_LEN, key, _LEGACY_AAD)).decode()


def _make_legacy(data_dir, recovery_key: str) -> None:
    """Rewrite a key store in the format of the code before slot binding: every slot wrapped
    with the same associated data, no "v" field, no slot_format row. The raw keys stay the same."""
    ks = KeyStore.open(data_dir, PASS)
    dk = ks._dk
    index, jwt, general = ks._named_key("index"), ks.jwt_secret, ks.general_key
    contacts = {kid: ks._load_kid(base64.b64decode(kid)) for (kid,) in ks._conn.execute("SELECT kid FROM contact_keys")}
    ks.close()
    db = _keys_db(data_dir)
    wrap = _meta(db, "wrap")
    kek = _scrypt(PASS, base64.b64decode(wrap["salt"]), wrap["n"])
    _put(db, "wrap", {"method": "passphrase", "salt": wrap["salt"], "n": wrap["n"], "ct": _legacy(kek, dk)})
    _put(db, "recovery", {"ct": _legacy(parse_recovery_key(recovery_key), dk)})
    _put(db, "index", {"ct": _legacy(dk, index)})
    _put(db, "jwt", {"ct": _legacy(dk, jwt)})
    _put(db, "general", {"kid": _meta(db, "general")["kid"], "ct": _legacy(dk, general)})
    for kid, key in contacts.items():
        db.execute("UPDATE contact_keys SET wrapped=? WHERE kid=?", (json.dumps({"ct": _legacy(dk, key)}), kid))
    db.execute("DELETE FROM meta WHERE name='slot_format'")
    db.close()


def _slot_versions(data_dir) -> dict[str, object]:
    db = _keys_db(data_dir)
    out: dict[str, object] = {}
    for name, value in db.execute("SELECT name, value FROM meta"):
        item = json.loads(value)
        out[name] = item.get("v") if isinstance(item, dict) else item
    out["contacts"] = {json.loads(w).get("v") for (w,) in db.execute("SELECT wrapped FROM contact_keys")}
    db.close()
    return out


def test_a_key_store_of_the_old_format_opens_and_is_rewrapped(tmp_path):
    store, setup = Store.open(tmp_path, PASS)
    one = chats.store_capture(store, _capture(1), "u1")
    general_blob = store.seal(None, "quick", "text", "q1", "texto geral")
    store.close()
    _make_legacy(tmp_path, setup.recovery_key)
    assert _slot_versions(tmp_path) == {
        "wrap": None,
        "recovery": None,
        "index": None,
        "jwt": None,
        "general": None,
        "contacts": {None},
    }

    # Opened as any command opens it: readable, and left as it was.
    store, _ = Store.open(tmp_path, PASS)
    assert _texts(store, one.conversation_id) == ["pedido 1: quanto custa?", "resposta 1"]
    two = chats.store_capture(store, _capture(2), "u1")  # a new contact key, in the new format
    store.close()
    assert _slot_versions(tmp_path)["contacts"] == {None, 2} and "slot_format" not in _slot_versions(tmp_path)

    # Opened by the lock holder (a server, a key command): every slot it can rewrap is.
    store, _ = Store.open(tmp_path, PASS, upgrade_keys=True)
    assert store.unseal(general_blob, "quick", "text", "q1") == "texto geral"
    for conv, n in ((one.conversation_id, 1), (two.conversation_id, 2)):
        assert _texts(store, conv) == [f"pedido {n}: quanto custa?", f"resposta {n}"]
    store.close()
    versions = _slot_versions(tmp_path)
    assert versions["slot_format"] == 2
    assert {versions[s] for s in ("wrap", "index", "jwt", "general")} == {2} and versions["contacts"] == {2}
    assert versions["recovery"] is None  # wrapped by the recovery key, which only the user holds

    # From now on an old-format slot is refused: no way back to the shared associated data.
    db = _keys_db(tmp_path)
    upgraded_jwt = _meta(db, "jwt")
    ks = KeyStore.open(tmp_path, PASS)
    _put(db, "jwt", {"ct": _legacy(ks._dk, ks.jwt_secret)})
    ks.close()
    with pytest.raises(TamperedValue):
        Store.open(tmp_path, PASS)
    _put(db, "jwt", upgraded_jwt)
    db.close()

    # The recovery key written down before the upgrade still works, and its slot is then rewrapped.
    KeyStore.recover(tmp_path, setup.recovery_key, "after-recovery").close()
    assert _slot_versions(tmp_path)["recovery"] == 2
    store, _ = Store.open(tmp_path, "after-recovery")
    assert _texts(store, one.conversation_id) == ["pedido 1: quanto custa?", "resposta 1"]
    store.close()


def test_an_old_format_store_is_recovered_and_rotated(tmp_path):
    store, setup = Store.open(tmp_path, PASS)
    one = chats.store_capture(store, _capture(1), "u1")
    store.close()
    _make_legacy(tmp_path, setup.recovery_key)
    KeyStore.recover(tmp_path, setup.recovery_key, PASS).close()
    versions = _slot_versions(tmp_path)
    assert versions["slot_format"] == 2 and versions["recovery"] == 2 and versions["contacts"] == {2}
    _make_legacy(tmp_path, setup.recovery_key)
    ks = KeyStore.open(tmp_path, PASS)
    new_recovery = ks.rotate(PASS)
    ks.close()
    versions = _slot_versions(tmp_path)
    assert versions.pop("contacts") == {2} and set(versions.values()) == {2}
    with pytest.raises(KeysUnavailable):
        KeyStore.recover(tmp_path, setup.recovery_key, PASS)
    KeyStore.recover(tmp_path, new_recovery, PASS).close()
    store, _ = Store.open(tmp_path, PASS)
    assert _texts(store, one.conversation_id) == ["pedido 1: quanto custa?", "resposta 1"]
    store.close()


# -- messages bound to their conversation's contact ---------------------------------------------
def test_a_message_moved_to_another_conversation_does_not_decrypt(tmp_path):
    store, _ = Store.open(tmp_path, PASS)
    one = chats.store_capture(store, _capture(1), "u1")
    two = chats.store_capture(store, _capture(2), "u1")
    store.close()
    db = sqlite3.connect(tmp_path / "conversa.db")
    mid = db.execute(
        "SELECT id FROM messages WHERE conversation_id=? ORDER BY seq LIMIT 1", (one.conversation_id,)
    ).fetchone()[0]
    db.execute("UPDATE messages SET conversation_id=? WHERE id=?", (two.conversation_id, mid))
    db.commit()
    db.close()

    store, _ = Store.open(tmp_path, PASS)
    assert _texts(store, one.conversation_id) == ["resposta 1"]
    with pytest.raises(TamperedValue, match="another contact's key"):
        _texts(store, two.conversation_id)  # customer 1's message must not show in customer 2's chat
    store.close()


# -- file modes ------------------------------------------------------------------------------
def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_side_files_and_backups_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        data = tmp_path / "data"
        store, _ = Store.open(data, PASS)
        chats.store_capture(store, _capture(1), "u1")
        store.keys.new_owner_key()
        sides = [data / n for n in ("conversa.db-wal", "conversa.db-shm", "keys.db-wal", "keys.db-shm")]
        assert all(p.exists() for p in sides)  # WAL mode, both connections open
        for p in [data / "conversa.db", data / "keys.db", *sides]:
            assert _mode(p) == 0o600, p.name
        backup = store.backup(data / "backups" / "manual.db")
        assert _mode(backup) == 0o600 and _mode(backup.parent) == 0o700
        store.close()

        # Side files an older version left readable by others are put right at the next open.
        first, _ = Store.open(data, PASS)
        for p in [data / "conversa.db", data / "keys.db", *sides]:
            os.chmod(p, 0o644)
        second, _ = Store.open(data, PASS)
        for p in [data / "conversa.db", data / "keys.db", *sides]:
            assert _mode(p) == 0o600, p.name
        second.close()
        first.close()
    finally:
        os.umask(old)
