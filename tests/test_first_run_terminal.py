"""`conversa serve` on a real terminal (a pty) asks for the first admin and writes it: no mock."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from conftest import PASSPHRASE, Server, free_port


def _read_until(fd: int, text: bytes, seen: bytearray, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {text!r}; got {bytes(seen)[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 4096)


def test_serve_on_a_terminal_creates_the_first_admin(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    env = dict(os.environ, CONVERSA_DATA_DIR=str(data), CONVERSA_PASSPHRASE=PASSPHRASE)
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop", "serve", "--no-model", "--port", str(port)],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        start_new_session=True,
    )
    os.close(child)
    seen = bytearray()
    try:
        _read_until(main, b"Admin username:", seen)
        os.write(main, b"dona\n")
        _read_until(main, b"Password", seen)
        os.write(main, b"senha-forte-1\n")
        _read_until(main, b"Repeat password", seen)
        os.write(main, b"senha-forte-1\n")
        _read_until(main, b"Admin dona created", seen)
        srv = Server(data, port)
        deadline = time.monotonic() + 60
        while True:
            try:
                if srv.request("GET", "/api/v1/health").status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        out = srv.login("dona", "senha-forte-1")
        assert out["user"]["role"] == "admin"
        assert b"senha-forte-1" not in bytes(seen)  # typed at a password prompt: never echoed
    finally:
        proc.terminate()
        proc.wait(20)
        os.close(main)
