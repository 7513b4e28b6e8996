"""The data folder's lock: held by the running server, and by a command that rewrites what a
server keeps in memory (the keys, the label adapters), so neither writes behind the other's back.

`server.lock` carries an OS lock (flock, or msvcrt on Windows) for as long as its holder runs,
and the holder's pid, port and command as JSON. The OS drops the lock when the process ends,
however it ends: a file left behind by a crash is not a lock.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from desktop.errors import ConversaError

LOCK_FILE = "server.lock"

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    _INFO_AT = 1  # Windows locks are mandatory: the holder's details live after the locked byte
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    _INFO_AT = 0


class DataDirBusy(ConversaError):
    """Another process holds the data folder: the CLI prints this and exits 1."""

    status = 409
    code = "data_dir_busy"


def _describe(info: dict) -> str:
    pid = info.get("pid")
    if info.get("role") == "server":
        port = info.get("port")
        return f"a Conversa server (pid {pid}{f', port {port}' if port else ''})"
    if info.get("command"):
        return f"`{info['command']}` (pid {pid})"
    return "another Conversa process"


class DataDirLock:
    """Hold with `DataDirLock.acquire(...)`; `release()` (or leaving the `with`) frees it."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path, *, role: str, command: str, port: int | None = None, refusal: str) -> DataDirLock:
        """Take the lock or raise `DataDirBusy` naming its holder; `refusal` ends that message when
        the holder is a server (a command holding it is waited for)."""
        path = Path(data_dir) / LOCK_FILE
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            if not _try_lock(fd):
                info = _read_info(fd)
                os.close(fd)
                advice = refusal if info.get("role") == "server" else "try again when it has finished"
                raise DataDirBusy(f"{Path(data_dir)} is in use by {_describe(info)}: {advice}")
            # A releasing holder unlinks the file before it lets go: if the name now points at
            # another file (or none), this lock guards nothing; take the lock on the current file.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            _unlock(fd)
            os.close(fd)
        try:
            os.chmod(path, 0o600)
        except OSError:
            pass
        info = {"pid": os.getpid(), "role": role, "command": command, "port": port, "since": time.time()}
        os.ftruncate(fd, _INFO_AT)
        os.lseek(fd, _INFO_AT, os.SEEK_SET)
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if sys.platform == "win32":  # pragma: no cover - an open file cannot be unlinked there
            os.ftruncate(fd, _INFO_AT)
        else:
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    self.path.unlink()
            except FileNotFoundError:
                pass
        _unlock(fd)
        os.close(fd)

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_info(fd: int) -> dict:
    try:
        os.lseek(fd, _INFO_AT, os.SEEK_SET)
        data = os.read(fd, 4096)
        info = json.loads(data) if data else {}
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
