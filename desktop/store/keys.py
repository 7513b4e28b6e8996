"""The data key and the per-contact keys, kept in `keys.db` apart from the data.

Hierarchy: a key-encryption key (passphrase via scrypt, else an OS keyring secret, else a
0600 key file) wraps the random data key; a recovery key shown once wraps it too. The data
key wraps the index key (blind indexes), the JWT secret, the general field key and one key
per contact. Erasing a contact deletes its wrapped key: its data then cannot be read in any
backup of `conversa.db` (crypto-shredding). Rotation re-wraps; field values never change.

Each wrapped key is bound to its slot by its associated data (`wrap`, `recovery`, `index`,
`jwt`, `general/<kid>`, `contact/<kid>`), so a wrapped key copied into another slot does not
unwrap. Key stores written before that (slot format 1: one associated data for all) still
open, and are rewrapped by `KeyStore.open(..., upgrade=True)`, which only a holder of the data
folder's lock asks for: a running server must never see its keys rewritten underneath it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from desktop.store import crypto, key_copies, private_files
from desktop.store.errors import KeysUnavailable, TamperedValue

log = logging.getLogger(__name__)

KEYS_DB = "keys.db"
KEY_FILE = "master.key"
KEYRING_SERVICE = "conversa"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SLOT_FORMAT = 2
_LEGACY_AAD = b"conversa/data-key"  # slot format 1: the same associated data for every slot


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: str) -> bytes:
    return base64.b64decode(s)


def format_recovery_key(raw: bytes) -> str:
    text = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_key(text: str) -> bytes:
    clean = text.replace("-", "").replace(" ", "").strip().upper()
    clean += "=" * (-len(clean) % 8)
    try:
        raw = base64.b32decode(clean)
    except ValueError:
        raise KeysUnavailable("that is not a recovery key (expected groups of letters and digits)") from None
    if len(raw) != 32:
        raise KeysUnavailable("that is not a recovery key (wrong length)")
    return raw


def _scrypt(passphrase: str, salt: bytes, n: int = SCRYPT_N) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())


def _keyring_backend_ok() -> bool:
    """A real OS keyring only: the plain-text and null backends do not protect anything."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - any keyring failure means "not available"
        return False
    name = type(backend).__module__ + "." + type(backend).__name__
    if isinstance(backend, fail.Keyring) or "plaintext" in name.lower() or "null" in name.lower():
        return False
    return getattr(backend, "priority", 0) > 0


@dataclass
class SetupResult:
    method: str
    recovery_key: str


class KeyStore:
    """Open with `KeyStore.open(data_dir, passphrase)`; never creates keys over existing data."""

    def __init__(self, path: Path, data_key: bytes, conn: sqlite3.Connection):
        self.path = path
        self._dk = data_key
        self._conn = conn
        self._legacy = _slot_format(conn) < SLOT_FORMAT
        self.index = crypto.BlindIndex(self._named_key("index"))
        self.general_kid, self.general_key = self._kid_key("general")
        self.jwt_secret = self._named_key("jwt")
        self.ring = crypto.KeyRing(self._load_kid)
        self.ring.add(self.general_kid, self.general_key)

    # -- opening -------------------------------------------------------------------
    @staticmethod
    def exists(data_dir: Path) -> bool:
        return (Path(data_dir) / KEYS_DB).exists()

    @classmethod
    def create(cls, data_dir: Path, passphrase: str = "", use_keyring: bool = True) -> tuple[KeyStore, SetupResult]:
        data_dir = Path(data_dir)
        path = data_dir / KEYS_DB
        if path.exists():
            raise KeysUnavailable(f"{path} already exists; refusing to create new keys over it")
        if (data_dir / "conversa.db").exists():
            raise KeysUnavailable(
                f"{data_dir / 'conversa.db'} exists but its key store {path} is missing. "
                "Restore keys.db (and master.key) from your backup, or run `conversa keys recover`."
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        dk = crypto.new_key()
        recovery = os.urandom(32)
        tmp = path.with_suffix(f".db.new-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        conn = _connect(tmp)
        method = cls._wrap_new(conn, data_dir, dk, passphrase, use_keyring)
        _put(conn, "recovery", json.dumps(_wrap(recovery, dk, "recovery")))
        for name in ("index", "jwt"):
            _put(conn, name, json.dumps(_wrap(dk, crypto.new_key(), name)))
        kid = _b64(crypto.new_kid())
        _put(conn, "general", json.dumps({"kid": kid, **_wrap(dk, crypto.new_key(), f"general/{kid}")}))
        _put(conn, "slot_format", str(SLOT_FORMAT))
        conn.commit()
        conn.close()
        try:
            os.link(tmp, path)  # unlike a rename, never replaces keys another process just created
        except FileExistsError:
            raise KeysUnavailable(f"{path} already exists; refusing to create new keys over it") from None
        except OSError:  # no hard links on this file system
            if path.exists():
                raise KeysUnavailable(f"{path} already exists; refusing to create new keys over it") from None
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        store = cls(path, dk, _connect(path))
        log.info("created key store (%s)", method)
        return store, SetupResult(method, format_recovery_key(recovery))

    @staticmethod
    def _wrap_new(conn, data_dir: Path, dk: bytes, passphrase: str, use_keyring: bool) -> str:
        if passphrase:
            salt = os.urandom(16)
            kek = _scrypt(passphrase, salt)
            _put(
                conn,
                "wrap",
                json.dumps({"method": "passphrase", "salt": _b64(salt), "n": SCRYPT_N, **_wrap(kek, dk, "wrap")}),
            )
            return "passphrase"
        if use_keyring and _keyring_backend_ok():
            import keyring

            kek = crypto.new_key()
            account = f"data-key:{data_dir.resolve()}"
            try:
                keyring.set_password(KEYRING_SERVICE, account, _b64(kek))
                if keyring.get_password(KEYRING_SERVICE, account) == _b64(kek):
                    _put(conn, "wrap", json.dumps({"method": "keyring", "account": account, **_wrap(kek, dk, "wrap")}))
                    return "keyring"
            except Exception:  # noqa: BLE001 - fall through to the key file
                log.warning("OS keyring refused the key; using a key file instead")
        kek = crypto.new_key()
        key_file = data_dir / KEY_FILE
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(_b64(kek))
            f.flush()
            os.fsync(f.fileno())
        _put(conn, "wrap", json.dumps({"method": "keyfile", **_wrap(kek, dk, "wrap")}))
        return "keyfile"

    @classmethod
    def open(cls, data_dir: Path, passphrase: str = "", *, upgrade: bool = False) -> KeyStore:
        """Unlock the key store; `upgrade` rewraps a slot-format-1 store (hold the data folder's lock)."""
        data_dir = Path(data_dir)
        path = data_dir / KEYS_DB
        if not path.exists():
            raise KeysUnavailable(
                f"no key store at {path}. If this is a new install run `conversa serve` or "
                "`conversa users add` to set up; if you have data, restore keys.db from your backup "
                "or run `conversa keys recover`."
            )
        conn = _connect(path)
        wrap = json.loads(_get(conn, "wrap"))
        kek = cls._kek(data_dir, wrap, passphrase)
        legacy = _slot_format(conn) < SLOT_FORMAT
        try:
            dk = _unwrap(kek, wrap, "wrap", legacy_ok=legacy)
        except TamperedValue:
            hint = "wrong passphrase" if wrap["method"] == "passphrase" else "the key does not match"
            raise KeysUnavailable(f"cannot unlock the data key: {hint}") from None
        if upgrade and legacy:
            _upgrade_slots(conn, dk, kek=kek)
        return cls(path, dk, conn)

    @staticmethod
    def method(data_dir: Path) -> str | None:
        path = Path(data_dir) / KEYS_DB
        if not path.exists():
            return None
        conn = _connect(path)
        try:
            return json.loads(_get(conn, "wrap"))["method"]
        finally:
            conn.close()

    @staticmethod
    def _kek(data_dir: Path, wrap: dict, passphrase: str) -> bytes:
        method = wrap["method"]
        if method == "passphrase":
            if not passphrase:
                raise KeysUnavailable("the data key is protected by a passphrase: set CONVERSA_PASSPHRASE")
            return _scrypt(passphrase, _unb64(wrap["salt"]), wrap.get("n", SCRYPT_N))
        if method == "keyring":
            import keyring

            try:
                secret = keyring.get_password(KEYRING_SERVICE, wrap["account"])
            except Exception as e:  # noqa: BLE001
                raise KeysUnavailable(f"the OS keyring is not available ({type(e).__name__})") from None
            if not secret:
                raise KeysUnavailable(
                    "the data key's entry is missing from the OS keyring; use `conversa keys recover`"
                )
            return _unb64(secret)
        key_file = data_dir / KEY_FILE
        if not key_file.exists():
            raise KeysUnavailable(f"key file {key_file} is missing; restore it or use `conversa keys recover`")
        return _unb64(key_file.read_text().strip())

    @classmethod
    def recover(cls, data_dir: Path, recovery_key: str, passphrase: str = "", *, use_keyring: bool = True) -> KeyStore:
        """Unwrap the data key with the recovery key and re-protect it (passphrase or key file)."""
        data_dir = Path(data_dir)
        conn = _connect(data_dir / KEYS_DB)
        raw = parse_recovery_key(recovery_key)
        try:
            # Only the data key is wrapped by the recovery key, so a format-1 slot cannot be confused.
            dk = _unwrap(raw, json.loads(_get(conn, "recovery")), "recovery", legacy_ok=True)
        except TamperedValue:
            raise KeysUnavailable("the recovery key does not match this key store") from None
        store = cls(data_dir / KEYS_DB, dk, conn)
        store.rewrap(passphrase, use_keyring=use_keyring)
        _upgrade_slots(conn, dk, recovery=raw)
        store._legacy = False
        return store

    # -- changing protection ---------------------------------------------------------
    def rewrap(self, passphrase: str = "", *, use_keyring: bool = True) -> str:
        """Protect the same data key anew (new passphrase, or keyring/key file)."""
        data_dir = self.path.parent
        key_file = data_dir / KEY_FILE
        old_file = None
        if key_file.exists():
            old_file = key_file.with_suffix(".key.old")
            os.replace(key_file, old_file)
        try:
            method = self._wrap_new(self._conn, data_dir, self._dk, passphrase, use_keyring=use_keyring)
            self._conn.commit()
        except Exception:
            if old_file:
                os.replace(old_file, key_file)
            raise
        if old_file:
            old_file.unlink()
        return method

    def rotate(self, passphrase: str = "") -> str:
        """New data key: every wrapped key is re-wrapped in one transaction. Returns the new recovery key."""
        conn = self._conn
        wrap = json.loads(_get(conn, "wrap"))
        kek = self._kek(self.path.parent, wrap, passphrase)
        try:
            _unwrap(kek, wrap, "wrap", legacy_ok=self._legacy)
        except TamperedValue:
            raise KeysUnavailable("wrong passphrase") from None
        new_dk = crypto.new_key()
        recovery = os.urandom(32)
        with conn:
            for name in ("index", "jwt", "general"):
                item = json.loads(_get(conn, name))
                slot = _named_slot(name, item)
                raw = _unwrap(self._dk, item, slot, legacy_ok=self._legacy)
                keep = {"kid": item["kid"]} if "kid" in item else {}
                _put(conn, name, json.dumps(keep | _wrap(new_dk, raw, slot)))
            for kid, wrapped in conn.execute("SELECT kid, wrapped FROM contact_keys").fetchall():
                raw = _unwrap(self._dk, json.loads(wrapped), f"contact/{kid}", legacy_ok=self._legacy)
                new = json.dumps(_wrap(new_dk, raw, f"contact/{kid}"))
                conn.execute("UPDATE contact_keys SET wrapped=? WHERE kid=?", (new, kid))
            _put(conn, "wrap", json.dumps(_slot_fields(wrap) | _wrap(kek, new_dk, "wrap")))
            _put(conn, "recovery", json.dumps(_wrap(recovery, new_dk, "recovery")))
            _put(conn, "slot_format", str(SLOT_FORMAT))
        self._dk = new_dk
        self._legacy = False
        return format_recovery_key(recovery)

    def export_data_key(self) -> str:
        return format_recovery_key(self._dk)

    # -- keys for fields -----------------------------------------------------------
    def _named_key(self, name: str) -> bytes:
        return _unwrap(self._dk, json.loads(_get(self._conn, name)), name, legacy_ok=self._legacy)

    def _kid_key(self, name: str) -> tuple[bytes, bytes]:
        item = json.loads(_get(self._conn, name))
        return _unb64(item["kid"]), _unwrap(self._dk, item, _named_slot(name, item), legacy_ok=self._legacy)

    def _load_kid(self, kid: bytes) -> bytes | None:
        row = self._conn.execute("SELECT wrapped FROM contact_keys WHERE kid=?", (_b64(kid),)).fetchone()
        if not row:
            return None
        return _unwrap(self._dk, json.loads(row[0]), f"contact/{_b64(kid)}", legacy_ok=self._legacy)

    def new_owner_key(self) -> tuple[bytes, bytes]:
        """A fresh key for a contact; returns (kid, key). Committed before any data uses it."""
        kid, key = crypto.new_kid(), crypto.new_key()
        with self._conn:
            self._conn.execute(
                "INSERT INTO contact_keys(kid, wrapped, created_at) VALUES (?,?,?)",
                (_b64(kid), json.dumps(_wrap(self._dk, key, f"contact/{_b64(kid)}")), time.time()),
            )
        self.ring.add(kid, key)
        return kid, key

    def reader(self) -> tuple[crypto.KeyRing, sqlite3.Connection]:
        """A key ring for another thread (a backup's check): its own read-only connection, which
        the caller closes; the server's connection stays with the database thread."""
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

        def load(kid: bytes) -> bytes | None:
            row = conn.execute("SELECT wrapped FROM contact_keys WHERE kid=?", (_b64(kid),)).fetchone()
            if not row:
                return None
            return _unwrap(self._dk, json.loads(row[0]), f"contact/{_b64(kid)}", legacy_ok=self._legacy)

        ring = crypto.KeyRing(load)
        ring.add(self.general_kid, self.general_key)
        return ring, conn

    def key_for(self, kid: bytes) -> bytes:
        return self.ring.get(kid)

    def erase(self, kid: bytes) -> None:
        with self._conn:
            cur = self._conn.execute("DELETE FROM contact_keys WHERE kid=?", (_b64(kid),))
        self.ring.forget(kid)
        # Make the deleted key unrecoverable from the key store's free pages and WAL.
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if cur.rowcount:  # and from the key store copies beside the data backups
            key_copies.refresh(self.path.parent, self.path)

    def close(self) -> None:
        self._conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    private_files.create_private(path)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level="DEFERRED")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS contact_keys(kid TEXT PRIMARY KEY, wrapped TEXT NOT NULL, created_at REAL)"
    )
    conn.commit()
    private_files.restrict(path)
    return conn


def _put(conn: sqlite3.Connection, name: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(name, value) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value", (name, value)
    )


def _get(conn: sqlite3.Connection, name: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
    if not row:
        raise KeysUnavailable(f"key store is incomplete (no {name!r}); restore it from a backup")
    return row[0]


def _slot_format(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE name='slot_format'").fetchone()
    return int(row[0]) if row else 1


def _named_slot(name: str, item: dict) -> str:
    return f"general/{item['kid']}" if name == "general" else name


def _slot_fields(item: dict) -> dict:
    """What a slot says besides its wrapped key (method, salt, kid…)."""
    return {k: v for k, v in item.items() if k not in ("ct", "v")}


def _wrap(kek: bytes, key: bytes, slot: str) -> dict:
    blob = crypto.seal(kek, b"\x00" * crypto.KID_LEN, key, f"conversa/key-slot/{slot}".encode())
    return {"v": SLOT_FORMAT, "ct": _b64(blob)}


def _unwrap(kek: bytes, item: dict, slot: str, *, legacy_ok: bool) -> bytes:
    """A slot-format-1 item (no "v") is accepted only while the store has not been upgraded."""
    if item.get("v") == SLOT_FORMAT:
        associated = f"conversa/key-slot/{slot}".encode()
    elif legacy_ok:
        associated = _LEGACY_AAD
    else:
        raise TamperedValue(f"key slot {slot.split('/')[0]} is not bound to its slot")
    return crypto.open_sealed(kek, _unb64(item["ct"]), associated)


def _upgrade_slots(conn: sqlite3.Connection, dk: bytes, *, kek: bytes | None = None, recovery: bytes | None = None):
    """Rewrap every slot-format-1 item to its own associated data, in one transaction. The raw keys
    do not change, so a process that read them before keeps working. Without `kek` the wrap slot,
    without `recovery` the recovery slot, stays as it is: each wraps a single value, so no other
    wrapped value can be swapped in, and the user's written-down recovery key keeps working."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Once upgraded, a format-1 item under the data key is an intruder: never rewrap it.
        legacy = _slot_format(conn) < SLOT_FORMAT
        for name in ("index", "jwt", "general") if legacy else ():
            item = json.loads(_get(conn, name))
            if item.get("v") != SLOT_FORMAT:
                slot = _named_slot(name, item)
                raw = _unwrap(dk, item, slot, legacy_ok=True)
                _put(conn, name, json.dumps(_slot_fields(item) | _wrap(dk, raw, slot)))
        rows = conn.execute("SELECT kid, wrapped FROM contact_keys").fetchall() if legacy else []
        for kid, wrapped in rows:
            item = json.loads(wrapped)
            if item.get("v") != SLOT_FORMAT:
                raw = _unwrap(dk, item, f"contact/{kid}", legacy_ok=True)
                new = json.dumps(_wrap(dk, raw, f"contact/{kid}"))
                conn.execute("UPDATE contact_keys SET wrapped=? WHERE kid=?", (new, kid))
        wrap = json.loads(_get(conn, "wrap"))
        if wrap.get("v") != SLOT_FORMAT and kek is not None:
            _unwrap(kek, wrap, "wrap", legacy_ok=True)  # still the key that opened the store
            wrap = _slot_fields(wrap) | _wrap(kek, dk, "wrap")
            _put(conn, "wrap", json.dumps(wrap))
        item = json.loads(_get(conn, "recovery"))
        if item.get("v") != SLOT_FORMAT and recovery is not None:
            _unwrap(recovery, item, "recovery", legacy_ok=True)
            _put(conn, "recovery", json.dumps(_wrap(recovery, dk, "recovery")))
        if wrap.get("v") == SLOT_FORMAT:  # the recovery slot may stay format 1 (see `recover`)
            _put(conn, "slot_format", str(SLOT_FORMAT))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("key store rewrapped to slot format %d", SLOT_FORMAT)
