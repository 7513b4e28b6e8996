"""Opening the encrypted database: pragmas, migrations (with a backup first), field crypto."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlite_utils

from desktop.store import crypto, private_files
from desktop.store.errors import KeysUnavailable
from desktop.store.keys import KeyStore, SetupResult
from desktop.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

DB_FILE = "conversa.db"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class Store:
    """One connection plus the keys; use it from one thread at a time (the server's DB thread)."""

    def __init__(self, data_dir: Path, keys: KeyStore, conn: sqlite3.Connection):
        self.data_dir = Path(data_dir)
        self.keys = keys
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.index = keys.index

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(
        cls, data_dir: Path, passphrase: str = "", *, create: bool = True, upgrade_keys: bool = False
    ) -> tuple[Store, SetupResult | None]:
        """Open (or, on a new data dir, create) the store. Returns the setup result once, at creation,
        so the caller can show the recovery key. `upgrade_keys`: see `KeyStore.open`'s `upgrade`."""
        data_dir = Path(data_dir)
        setup = None
        if KeyStore.exists(data_dir):
            keys = KeyStore.open(data_dir, passphrase, upgrade=upgrade_keys)
        elif (data_dir / DB_FILE).exists():
            raise KeysUnavailable(
                f"{data_dir / DB_FILE} exists but its key store is missing: refusing to start. "
                "Restore keys.db (and master.key) from your backup, or run `conversa keys recover`."
            )
        elif create:
            keys, setup = KeyStore.create(data_dir, passphrase)
        else:
            raise KeysUnavailable(f"no Conversa data in {data_dir}")
        private_files.create_private(data_dir / DB_FILE)
        conn = sqlite3.connect(data_dir / DB_FILE, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA foreign_keys=ON")
        store = cls(data_dir, keys, conn)
        private_files.restrict(data_dir / DB_FILE)
        store.migrate()
        return store, setup

    def migrate(self) -> list[str]:
        db = self.db
        if "_migrations" not in db.table_names():
            db["_migrations"].create({"name": str, "applied_at": float}, pk="name")
        done = {r["name"] for r in db["_migrations"].rows}
        pending = [(n, f) for n, f in MIGRATIONS if n not in done]
        if pending and done:
            self.backup(self.data_dir / "backups" / f"pre-{pending[0][0]}-{int(time.time())}.db")
        for name, fn in pending:
            with self.transaction():
                fn(db)
                self.conn.execute("INSERT INTO _migrations(name, applied_at) VALUES (?, ?)", (name, time.time()))
            log.info("applied migration %s", name)
        return [n for n, _ in pending]

    def backup(self, dest: Path) -> Path:
        private_files.private_dir(dest.parent)
        private_files.create_private(dest)
        target = sqlite3.connect(dest)
        with target:
            self.conn.backup(target)
        target.close()
        private_files.restrict(dest)
        return dest

    def close(self) -> None:
        self.conn.close()
        self.keys.close()

    # -- transactions ------------------------------------------------------------------
    def transaction(self):
        return _Tx(self.conn)

    def q(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description] if cur.description else []
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def q1(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        rows = self.q(sql, params)
        return rows[0] if rows else None

    # -- field crypto --------------------------------------------------------------------
    def seal(self, kid_b64: str | None, table: str, column: str, row_id: str, value: Any) -> bytes | None:
        """Encrypt a value with a contact's key (kid) or the general key (kid None)."""
        if value is None:
            return None
        raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if kid_b64 is None:
            kid, key = self.keys.general_kid, self.keys.general_key
        else:
            kid = _kid(kid_b64)
            key = self.keys.key_for(kid)
        return crypto.seal(key, kid, raw.encode(), crypto.aad(table, column, row_id))

    def unseal(
        self, blob: bytes | None, table: str, column: str, row_id: str, *, kid_b64: str | None = None
    ) -> str | None:
        """Decrypt a value; with `kid_b64`, only if it is sealed with that key (its owner's)."""
        if blob is None:
            return None
        expected = _kid(kid_b64) if kid_b64 is not None else None
        raw = self.keys.ring.decrypt(blob, crypto.aad(table, column, row_id), expected)
        return raw.decode() if raw is not None else None

    def unseal_json(self, blob: bytes | None, table: str, column: str, row_id: str) -> Any:
        text = self.unseal(blob, table, column, row_id)
        return json.loads(text) if text is not None else None

    def new_contact_key(self) -> str:
        kid, _ = self.keys.new_owner_key()
        return crypto_b64(kid)

    def erase_contact_key(self, kid_b64: str) -> None:
        """Destroy a contact's key: what it sealed is unreadable from now on, backups included."""
        self.keys.erase(_kid(kid_b64))


def crypto_b64(kid: bytes) -> str:
    return base64.b64encode(kid).decode()


def _kid(b64: str) -> bytes:
    return base64.b64decode(b64)


class _Tx:
    """BEGIN IMMEDIATE … COMMIT, or a savepoint inside an open transaction (the writer's
    group commit); rolled back on any error."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.nested = False

    def __enter__(self):
        self.nested = self.conn.in_transaction
        self.conn.execute("SAVEPOINT tx" if self.nested else "BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if self.nested:
            if exc_type is not None:
                self.conn.execute("ROLLBACK TO tx")
            self.conn.execute("RELEASE tx")
        elif exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False
