"""Copies of the key store kept beside data backups, apart from them.

A data backup never contains keys. Each folder that holds backups also holds one copy of the
key store, `conversa-keys-<key id>.backup` (the backups' key id: two installs sharing a folder
keep theirs apart), which every backup refreshes and every erasure rewrites:
once a contact is erased its key is gone from every copy too, so the contact stays unreadable
in the older data backups (crypto-shredding). The copy is as protected as `keys.db` itself
(its keys are wrapped by the passphrase / key file / keyring and by the recovery key; a key
file is never copied). The copies are listed in `backups/key-copies.json` in the data folder.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

from desktop.store import private_files

log = logging.getLogger(__name__)

REGISTRY = Path("backups") / "key-copies.json"


def copy_name(key_id: str) -> str:
    return f"conversa-keys-{key_id}.backup"


def write(keys_db: Path, dest: Path) -> Path:
    """A consistent copy of `keys_db` as `dest`, replaced atomically."""
    dest = Path(dest)
    private_files.private_dir(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    private_files.create_private(tmp)
    src = sqlite3.connect(f"file:{keys_db}?mode=ro", uri=True)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no WAL beside it
    finally:
        dst.close()
        src.close()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    private_files.restrict(dest)
    return dest


def register(data_dir: Path, copy: Path) -> None:
    copies = registered(data_dir)
    resolved = str(Path(copy).resolve())
    if resolved in copies:
        return
    path = Path(data_dir) / REGISTRY
    private_files.private_dir(path.parent)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(sorted([*copies, resolved]), indent=1), "utf-8")
    os.replace(tmp, path)


def registered(data_dir: Path) -> list[str]:
    try:
        value = json.loads((Path(data_dir) / REGISTRY).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def refresh(data_dir: Path, keys_db: Path) -> int:
    """Rewrite every registered copy (after an erasure); one deleted since is left deleted."""
    n = 0
    for copy in registered(data_dir):
        if Path(copy).exists():
            try:
                write(keys_db, Path(copy))
                n += 1
            except (OSError, sqlite3.Error) as e:
                log.error("could not refresh the key store copy in a backup folder (%s)", type(e).__name__)
    return n
