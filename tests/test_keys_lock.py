"""The data folder's lock: a running server holds it, so commands that rewrite what it keeps
in memory (keys, label adapters) refuse, and a second server on the same folder does not start."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from conftest import PASSPHRASE, cli, fixture_capture, free_port, make_server

from desktop.store.data_dir_lock import LOCK_FILE, DataDirBusy, DataDirLock

NEW_PASS = {"CONVERSA_NEW_PASSPHRASE": PASSPHRASE}


@pytest.fixture
def server(tmp_path):
    """A real `conversa serve` process on its own data folder, without a model: the lock does
    not depend on one, and the test then runs in seconds on a busy machine."""
    srv = make_server(tmp_path, None)
    srv.start()
    yield srv
    srv.stop()


def _capture(n: int) -> dict:
    """The fixture chat as customer n: its own contact, so its own contact key."""
    cap = fixture_capture()
    jid = f"55119000000{n:02d}@c.us"
    cap["chat"] = dict(cap["chat"], id=jid, title=f"Cliente {n}", phone=f"+55119000000{n:02d}")
    cap["messages"] = [dict(m, id=m["id"].replace("5511987654321@c.us", jid)) for m in cap["messages"]]
    return cap


def _keys_rows(data_dir) -> list:
    db = sqlite3.connect(data_dir / "keys.db")
    try:
        meta = db.execute("SELECT name, value FROM meta ORDER BY name").fetchall()
        contacts = db.execute("SELECT kid, wrapped FROM contact_keys ORDER BY kid").fetchall()
    finally:
        db.close()
    return meta + contacts


def _post(server, token: str, n: int) -> str:
    r = server.request("POST", "/api/v1/captures", _capture(n), token=token)
    assert r.status == 202, r.body
    return r.json()["conversation_id"]


def _texts(server, token: str, cid: str) -> list[str]:
    r = server.request("GET", f"/api/v1/conversations/{cid}", token=token)
    assert r.status == 200, r.body
    return [m["text"] for m in r.json()["messages"]]


def _one_line_refusal(r: subprocess.CompletedProcess, server) -> None:
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("conversa: error: ") and "stop the server first" in lines[0], lines[0]
    assert f"pid {server.proc.pid}" in lines[0] and f"port {server.port}" in lines[0]


def test_key_and_adapter_commands_refuse_while_the_server_runs(server, tmp_path):
    token = server.login()["access_token"]
    before = _post(server, token, 1)
    keys_before = _keys_rows(server.data_dir)
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,text,stars\na,adorei chegou rapido,5\n", "utf-8")

    refused = [
        cli(server.data_dir, "keys", "rotate"),
        cli(server.data_dir, "keys", "passwd", env=NEW_PASS),
        cli(server.data_dir, "keys", "recover", "--recovery-key-stdin", stdin="AAAA-BBBB\n", env=NEW_PASS),
        cli(server.data_dir, "labels", "import", "sentiment", str(reviews), "--no-model"),
        cli(server.data_dir, "labels", "forget-imported"),
    ]
    for r in refused:
        _one_line_refusal(r, server)
    assert _keys_rows(server.data_dir) == keys_before
    # What reads, or writes rows the server reads afresh, still works beside it.
    assert cli(server.data_dir, "keys", "export").returncode == 0
    assert cli(server.data_dir, "labels", "status").returncode == 0
    assert cli(server.data_dir, "users", "list").returncode == 0

    # The server still reads old contacts and makes new ones with the key it holds.
    after = _post(server, token, 2)
    assert _texts(server, token, before) == [m["text"] for m in _capture(1)["messages"]]
    server.stop()

    rotated = cli(server.data_dir, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    recovery = rotated.stdout.strip()
    r = cli(server.data_dir, "keys", "passwd", env={"CONVERSA_NEW_PASSPHRASE": "second-pass"})
    assert r.returncode == 0, r.stderr
    r = cli(
        server.data_dir,
        "keys",
        "recover",
        "--recovery-key-stdin",
        stdin=recovery + "\n",
        env=NEW_PASS,
    )
    assert r.returncode == 0, r.stderr

    server.start()
    token = server.login()["access_token"]
    for n, cid in ((1, before), (2, after)):
        assert _texts(server, token, cid) == [m["text"] for m in _capture(n)["messages"]]


def test_a_second_server_on_the_same_data_dir_is_refused(server):
    other = free_port()
    env = dict(os.environ, CONVERSA_DATA_DIR=str(server.data_dir), CONVERSA_PASSPHRASE=PASSPHRASE)
    r = subprocess.run(
        [sys.executable, "-m", "desktop", "serve", "--port", str(other), "--no-model"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr
    assert "conversa: error: " in r.stderr and "in use by a Conversa server" in r.stderr, r.stderr
    assert f"pid {server.proc.pid}, port {server.port}" in r.stderr
    assert server.request("GET", "/api/v1/health").status == 200
    # A clean stop frees the folder; so does a crash (the OS drops the lock, the file stays).
    server.stop()
    assert not (server.data_dir / LOCK_FILE).exists()
    server.start()
    server.stop(signal.SIGKILL)
    assert (server.data_dir / LOCK_FILE).exists()
    r = cli(server.data_dir, "keys", "passwd", env=NEW_PASS)
    assert r.returncode == 0, r.stderr


def test_lock_is_exclusive_and_a_stale_file_is_not_a_lock(tmp_path):
    (tmp_path / LOCK_FILE).write_text('{"pid": 999999, "role": "server", "port": 1}')
    with DataDirLock.acquire(tmp_path, role="server", command="conversa serve", port=8765, refusal="stop it"):
        assert (tmp_path / LOCK_FILE).stat().st_mode & 0o777 == 0o600
        with pytest.raises(DataDirBusy, match=rf"a Conversa server \(pid {os.getpid()}, port 8765\): stop the server"):
            DataDirLock.acquire(tmp_path, role="command", command="conversa keys rotate", refusal="stop the server")
    assert not (tmp_path / LOCK_FILE).exists()
    with DataDirLock.acquire(tmp_path, role="command", command="conversa keys rotate", refusal="x"):
        with pytest.raises(DataDirBusy, match=r"`conversa keys rotate` \(pid \d+\): try again when it has finished"):
            DataDirLock.acquire(tmp_path, role="server", command="conversa serve", refusal="stop it")
