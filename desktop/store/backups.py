"""Encrypted backups of `conversa.db`: make (snapshot, encrypt, verify), check, restore, rotate.

A backup is a consistent snapshot taken with SQLite's online backup API from a read-only
connection (the server keeps writing meanwhile), encrypted into the container of
`backup_file`, then read back, decrypted and checked (integrity_check, known migrations, a
sealed value opened with the keys) before it gets its final name. Keys are never inside: the
key store copy beside the backups (`key_copies`) is refreshed instead.

A restore decrypts and checks the file into a work folder first; only a copy that passed
replaces the live data, through the backup API into the live connection (one transaction for
every other reader). Contacts whose key was erased since the backup are then deleted: their
rows could not be read anyway.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop.store import backup_file, key_copies, private_files
from desktop.store.backup_file import BackupRefused, Progress
from desktop.store.crypto import aad
from desktop.store.database import DB_FILE, Store
from desktop.store.errors import KeyMissing, KeysUnavailable, TamperedValue
from desktop.store.keys import KEY_FILE, KEYS_DB, KeyStore
from desktop.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

FOLDER = "backups"  # inside the data folder: what `/backups` lists
SUFFIX = ".cbak"
NAME = re.compile(r"^conversa-(\d{8}-\d{6})(?:-[a-z0-9]+)?\.cbak$")
KEEP_DAILY, KEEP_WEEKLY = 7, 4


def folder(data_dir: Path) -> Path:
    return Path(data_dir) / FOLDER


def new_name(now: float | None = None) -> str:
    stamp = datetime.fromtimestamp(now or time.time()).strftime("%Y%m%d-%H%M%S")
    return f"conversa-{stamp}-{secrets.token_hex(2)}{SUFFIX}"


def backup_key(keys: KeyStore) -> bytes:
    return backup_file.derive_key(keys.general_key)


def _work_dir(data_dir: Path, kind: str) -> Path:
    path = folder(data_dir) / f".{kind}-{secrets.token_hex(6)}"
    private_files.private_dir(path)
    return path


def clean_work_dirs(data_dir: Path) -> None:
    """Remove what an interrupted backup or restore left (plaintext snapshots included)."""
    base = folder(data_dir)
    if base.is_dir():
        for p in base.glob(".work-*"):
            shutil.rmtree(p, ignore_errors=True)
        for p in base.glob(".restore-*"):
            shutil.rmtree(p, ignore_errors=True)


# -- making a backup ----------------------------------------------------------------------
def snapshot(db: Path, dest: Path) -> None:
    """A consistent copy of a live database (the backup API, in one step, from a reader)."""
    private_files.create_private(dest)
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def create(
    data_dir: Path, keys: KeyStore, dest: Path, *, kind: str = "manual", progress: Progress | None = None
) -> dict[str, Any]:
    """Write an encrypted, verified backup of the data folder's database to `dest`, and the
    key store copy beside it. Returns what `/backups` lists for it."""
    data_dir, dest = Path(data_dir), Path(dest)
    private_files.private_dir(dest.parent)
    work = _work_dir(data_dir, "work")
    part = dest.with_name(f".{dest.name}.part")
    key = backup_key(keys)

    def step(share: float, offset: float) -> Progress:
        return lambda done, total: progress(int(offset + share * done / max(total, 1)), 100) if progress else None

    try:
        snap = work / "snapshot.db"
        snapshot(data_dir / DB_FILE, snap)
        if progress:
            progress(10, 100)
        header = {"created_at": time.time(), "kind": kind, "migrations": _migrations(snap)}
        header = backup_file.write(snap, part, key, header, step(40, 10))
        snap.unlink()
        # Verified as a restore would read it: decrypted, integrity-checked, a value opened.
        check = verify(part, keys, work / "verify.db", step(40, 50))
        # The key store copy first: a backup under its final name always has its keys beside it.
        copy = key_copies.write(keys.path, dest.parent / key_copies.copy_name(header["key_id"]))
        key_copies.register(data_dir, copy)
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    if progress:
        progress(100, 100)
    return describe(dest, header) | {"verified": check, "keys_copy": copy.name}


def verify(path: Path, keys: KeyStore, plain: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Decrypt `path` into `plain` and check it; `BackupRefused` says what is wrong."""
    backup_file.decrypt(path, backup_key(keys), plain, progress)
    out = check_database(plain)
    out.update(sample(plain, keys))
    return out


def _migrations(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def check_database(plain: Path) -> dict[str, Any]:
    """integrity_check, and a schema this version knows (not one written by a newer Conversa)."""
    try:
        conn = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            names = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise BackupRefused("the backup does not hold a Conversa database (it is damaged)") from None
    if result != "ok":
        raise BackupRefused("the backup's database is damaged (SQLite's integrity check failed)")
    known = {n for n, _ in MIGRATIONS}
    if names - known:
        raise BackupRefused("this backup was made by a newer version of Conversa: update Conversa first")
    return {"integrity": "ok", "migrations": len(names)}


def sample(plain: Path, keys: KeyStore, limit: int = 200) -> dict[str, Any]:
    """Open a sealed value with the keys (a contact's name): the keys and the data belong together."""
    conn = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT id, name FROM contacts WHERE name IS NOT NULL LIMIT ?", (limit,)).fetchall()
    finally:
        conn.close()
    erased = 0
    ring, keys_conn = keys.reader()  # this runs on a worker thread, beside the database thread
    try:
        for cid, name in rows:
            try:
                ring.decrypt(name, aad("contacts", "name", cid))
                return {"sample": "decrypted", "erased_contacts_seen": erased}
            except KeyMissing:
                erased += 1  # erased since: unreadable by design
            except TamperedValue:
                raise BackupRefused("the backup's values do not open with these keys") from None
    finally:
        keys_conn.close()
    return {"sample": "none" if not rows else "all erased", "erased_contacts_seen": erased}


# -- listing and rotation -----------------------------------------------------------------
def describe(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": path.name[: -len(SUFFIX)],
        "file": path.name,
        "size": path.stat().st_size,
        "created_at": header.get("created_at"),
        "kind": header.get("kind", "manual"),
        "key_id": header.get("key_id"),
    }


def listing(data_dir: Path, keys_key_id: str) -> list[dict[str, Any]]:
    out = []
    base = folder(data_dir)
    for path in sorted(base.glob(f"*{SUFFIX}"), reverse=True) if base.is_dir() else []:
        try:
            item = describe(path, backup_file.read_header(path))
            item["readable"] = item["key_id"] == keys_key_id
            item["error"] = None
        except BackupRefused as e:
            item = {"id": path.name[: -len(SUFFIX)], "file": path.name, "size": path.stat().st_size}
            item.update(created_at=None, kind=None, key_id=None, readable=False, error=e.message)
        out.append(item)
    return out


def _stamp(path: Path) -> datetime | None:
    m = NAME.match(path.name)
    return datetime.strptime(m.group(1), "%Y%m%d-%H%M%S") if m else None


def due(dest_dir: Path, now: float | None = None, every: float = 20 * 3600) -> bool:
    """A daily backup is due when the newest one in `dest_dir` is older than about a day."""
    stamps = [s for p in Path(dest_dir).glob(f"conversa-*{SUFFIX}") if (s := _stamp(p))]
    return not stamps or (now or time.time()) - max(stamps).timestamp() >= every


def rotate(dest_dir: Path, keep_daily: int = KEEP_DAILY, keep_weekly: int = KEEP_WEEKLY) -> list[Path]:
    """Keep the newest backup of each of the last `keep_daily` days that have one and of each of
    the last `keep_weekly` ISO weeks; delete the other `conversa-*.cbak` files. Returns those."""
    dated = sorted(((s, p) for p in Path(dest_dir).glob(f"conversa-*{SUFFIX}") if (s := _stamp(p))), reverse=True)
    keep: set[Path] = set()
    days: dict[Any, Path] = {}
    weeks: dict[Any, Path] = {}
    for stamp, path in dated:  # newest first: the first of a day or week is its newest
        days.setdefault(stamp.date(), path)
        weeks.setdefault(stamp.isocalendar()[:2], path)
    keep.update(list(days.values())[:keep_daily])
    keep.update(list(weeks.values())[:keep_weekly])
    removed = []
    for _, path in dated:
        if path not in keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


# -- restoring ------------------------------------------------------------------------------
@dataclass
class Prepared:
    """A decrypted, checked copy ready to replace the live data (and the keys it needs)."""

    work: Path
    plain: Path
    header: dict[str, Any]
    check: dict[str, Any]
    staged_keys: Path | None  # a folder with keys.db (and master.key) to install; None: the live keys
    keys: KeyStore

    def discard(self) -> None:
        if self.staged_keys is not None:
            self.keys.close()
        shutil.rmtree(self.work, ignore_errors=True)


def prepare_restore(
    data_dir: Path,
    path: Path,
    live_keys: KeyStore | None,
    *,
    passphrase: str = "",
    keys_copy: Path | None = None,
    recovery_key: str | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Decrypt and check a backup without touching the live data. With the live keys when the
    backup was made with them; else with a key store copy (`keys_copy`, default: the one beside
    the backup) unlocked by the passphrase or `recovery_key`."""
    data_dir, path = Path(data_dir), Path(path)
    header = backup_file.read_header(path)
    work = _work_dir(data_dir, "restore")
    staged: Path | None = None
    keys = live_keys
    try:
        if live_keys is None or header.get("key_id") != backup_file.key_id(backup_key(live_keys)):
            staged, keys = _stage_keys(data_dir, path, work, header, passphrase, keys_copy, recovery_key)
        plain = work / "restored.db"
        backup_file.decrypt(path, backup_key(keys), plain, progress)
        check = check_database(plain)
        check.update(sample(plain, keys))
    except BaseException:
        if staged is not None and keys is not None:
            keys.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Prepared(work, plain, header, check, staged, keys)


def _stage_keys(
    data_dir: Path, path: Path, work: Path, header: dict, passphrase: str, copy: Path | None, recovery: str | None
) -> tuple[Path, KeyStore]:
    name = key_copies.copy_name(str(header.get("key_id")))
    copy = copy or path.parent / name
    if not copy.is_file():
        raise BackupRefused(
            "this backup was made with another key than this data folder's: give the key store copy "
            f"that was beside it ({name}, --keys FILE) and its recovery key",
            code="backup_other_key",
        )
    staged = work / "keys"
    key_copies.write(copy, staged / KEYS_DB)
    if (Path(data_dir) / KEY_FILE).exists() and not recovery:
        shutil.copy2(Path(data_dir) / KEY_FILE, staged / KEY_FILE)
    try:
        if recovery:
            keys = KeyStore.recover(staged, recovery, passphrase, use_keyring=False)
        else:
            keys = KeyStore.open(staged, passphrase)
    except KeysUnavailable as e:
        raise BackupRefused(
            f"the key store copy does not open ({e.message}); give its recovery key (--recovery-key-stdin)",
            code="backup_other_key",
        ) from None
    if header.get("key_id") != backup_file.key_id(backup_key(keys)):
        keys.close()
        raise BackupRefused(
            "this backup was made with another key than the key store copy given: give the copy made with it",
            code="backup_other_key",
        )
    return staged, keys


def install_keys(prepared: Prepared, data_dir: Path) -> None:
    """Put the staged key store in place; the keys it replaces are kept aside, never deleted."""
    assert prepared.staged_keys is not None
    prepared.keys.close()
    data_dir = Path(data_dir)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (KEYS_DB, KEY_FILE):
        live = data_dir / name
        if live.exists():
            live.replace(data_dir / f"{name}.before-restore-{stamp}")
        for side in ("-wal", "-shm"):
            (data_dir / (name + side)).unlink(missing_ok=True)
        staged = prepared.staged_keys / name
        if staged.exists():
            staged.replace(live)
            private_files.restrict(live)


def restore_into(store: Store, prepared: Prepared) -> dict[str, Any]:
    """Replace the live database's content with the checked copy. Runs on the store's thread
    with no transaction open; then migrates an older copy and drops what cannot be read."""
    src = sqlite3.connect(f"file:{prepared.plain}?mode=ro", uri=True)
    try:
        src.backup(store.conn)
    finally:
        src.close()
    applied = store.migrate()
    dropped = drop_unreadable(store)
    return {"migrated": applied, "erased_contacts_dropped": dropped}


def drop_unreadable(store: Store) -> int:
    """Delete the contacts (and their conversations) whose key no longer exists: erased after
    the backup was made. Their key is gone, so nothing of them could be read anyway."""
    from desktop.store import chats

    gone = []
    for row in store.q("SELECT id, kid FROM contacts"):
        try:
            store.keys.key_for(_kid(row["kid"]))
        except KeyMissing:
            gone.append(row["id"])
    for contact_id in gone:
        chats.erase_contact(store, contact_id)
    return len(gone)


def _kid(b64: str) -> bytes:
    import base64

    return base64.b64decode(b64)
