"""One window per data folder: the running app listens on a loopback port named in the data
folder's `window.json` (with a random token, file mode 0600); a second `conversa` on the same
folder asks it to show its window and exits instead of failing on the server's port.

TCP on 127.0.0.1 rather than a UNIX socket: the same code on Windows, and no socket-path
length limit for a long data folder path."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path

FILE = "window.json"
_TIMEOUT = 2.0


def ask_running_to_show(data_dir: Path) -> bool:
    """True when a running window in ``data_dir`` answered and came to the front."""
    try:
        info = json.loads((Path(data_dir) / FILE).read_text("utf-8"))
        port, token = int(info["port"]), str(info["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=_TIMEOUT) as s:
            s.sendall(f"show {token}\n".encode())
            return s.recv(16).startswith(b"ok")
    except OSError:
        return False  # a file left by a crash: nobody listens


class Beacon:
    """The running app's listener; ``on_show`` runs on its thread (post it to Tk's queue)."""

    def __init__(self, data_dir: Path, on_show: Callable[[], None]) -> None:
        self.path = Path(data_dir) / FILE
        self.on_show = on_show
        self._token = secrets.token_hex(16)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="conversa-beacon", daemon=True)

    def start(self) -> Beacon:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"port": self._sock.getsockname()[1], "token": self._token, "pid": os.getpid()}, f)
        os.replace(tmp, self.path)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(_TIMEOUT)
                try:
                    line = conn.recv(128).decode("ascii", "replace").strip()
                except OSError:
                    continue
                if secrets.compare_digest(line, f"show {self._token}"):
                    self.on_show()
                    with contextlib.suppress(OSError):
                        conn.sendall(b"ok\n")

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept on Linux
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.path.read_text("utf-8")).get("token") == self._token:
                self.path.unlink()
