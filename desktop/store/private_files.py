"""Database files hold customer data or keys: readable by their owner only (mode 0600),
the WAL, shared-memory and journal files SQLite keeps beside them included."""

from __future__ import annotations

import os
from pathlib import Path

_SIDE_FILES = ("-wal", "-shm", "-journal")


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists. SQLite gives the WAL, shared-memory
    and journal files it creates later the mode of their database, so they are born 0600 too."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def restrict(path: Path) -> None:
    """Mode 0600 on a database and the side files it has now (older versions left them 0644)."""
    for p in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
        try:
            os.chmod(p, 0o600)
        except OSError:  # absent, or a file system without modes
            pass


def private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
