"""Backups: encrypted, verified snapshots; restore after losing the data folder; refusals of a
damaged, truncated or foreign file that leave the live data untouched; crypto-shredding across
backups (the key store copy beside them); the API's backup and restore jobs; rotation."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ROOT, cli, fixture_capture, make_server
from test_remote_inference import LlamaServer

from desktop.store import backups


def _capture(n: int) -> dict:
    """The fixture chat as customer n: its own contact, so its own contact key."""
    cap = fixture_capture()
    jid = f"55119000000{n:02d}@c.us"
    cap["chat"] = dict(cap["chat"], id=jid, title=f"Cliente {n}", phone=f"+55119000000{n:02d}")
    cap["messages"] = [dict(m, id=m["id"].replace("5511987654321@c.us", jid)) for m in cap["messages"]]
    return cap


def _post(server, token: str, n: int) -> str:
    r = server.request("POST", "/api/v1/captures", _capture(n), token=token)
    assert r.status == 202, r.body
    return r.json()["conversation_id"]


def _insight(server, token: str, cid: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = server.request("GET", f"/api/v1/conversations/{cid}/insights", token=token)
        if r.status == 200 and r.json().get("state") not in (None, "pending"):
            return r.json()
        time.sleep(0.5)
    raise AssertionError("no insight in time")


def _titles(server, token: str) -> set[str]:
    r = server.request("GET", "/api/v1/conversations?limit=100", token=token)
    assert r.status == 200, r.body
    return {c["title"] for c in r.json()["items"]}


def _job(server, token: str, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = server.request("GET", f"/api/v1/jobs/{job_id}", token=token)
        assert r.status == 200, r.body
        if r.json()["state"] not in ("queued", "running"):
            return r.json()
        time.sleep(0.2)
    raise AssertionError("job did not end")


def _keys_copy(folder: Path) -> Path:
    (copy,) = folder.glob("conversa-keys-*.backup")
    return copy


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recovery_key(stderr: str) -> str:
    m = re.search(r"\n\s+([A-Z2-7]{4}(?:-[A-Z2-7]{1,4})+)\s*\n", stderr)
    assert m, stderr
    return m.group(1)


@pytest.fixture(scope="module")
def made(tmp_path_factory, model_file):
    """A server with two customers (one with the default model's insight), backed up by the CLI
    while it runs, then stopped: (server, backup file, the first conversation's insight). The
    model runs in llama-cpp-python's server (`inference_url`): unlike the built-in engine, which
    yields the CPU to everything else, it finishes in minutes on a machine busy with other work."""
    tmp = tmp_path_factory.mktemp("bk")
    llama = LlamaServer(model_file, tmp / "llama.log")
    srv = make_server(tmp, None, conversa_inference_url=llama.url)
    try:
        llama.wait()
        srv.start()
        token = srv.login()["access_token"]
        cid = _post(srv, token, 1)
        insight = _insight(srv, token, cid)
        assert insight["state"] == "ready", insight
        _post(srv, token, 2)
        dest = tmp / "offsite" / "first.cbak"
        r = cli(srv.data_dir, "backup", str(dest))  # a read: allowed beside the running server
        assert r.returncode == 0, r.stderr
        assert "verified" in r.stdout
    finally:
        srv.stop()
        llama.stop()
    yield srv, dest, cid, insight


def test_backup_wipe_restore_brings_back_the_conversation_and_its_insight(made):
    srv, dest, cid, insight = made
    raw = dest.read_bytes()
    assert raw.startswith(b"CONVERSA-BACKUP")
    assert b"Cliente" not in raw and b"SQLite format" not in raw  # encrypted as a whole
    assert _keys_copy(dest.parent).is_file()  # keys beside it, never inside
    assert oct(dest.stat().st_mode & 0o777) == "0o600"

    shutil.rmtree(srv.data_dir)  # the machine's data folder is lost, keys included
    (srv.data_dir / "models").mkdir(parents=True)
    r = cli(srv.data_dir, "restore", str(dest))
    assert r.returncode == 0, r.stderr
    assert "integrity ok" in r.stdout and "sample decrypted" in r.stdout

    srv.start(wait_model=False)
    try:
        token = srv.login()["access_token"]  # the accounts came back too
        assert {"Cliente 1", "Cliente 2"} <= _titles(srv, token)
        back = srv.request("GET", f"/api/v1/conversations/{cid}/insights", token=token).json()
        assert back["state"] == "ready"
        assert back["summary"] == insight["summary"]
        assert [s["text"] for s in back["suggestions"]] == [s["text"] for s in insight["suggestions"]]
        assert back["intent"] == insight["intent"]
    finally:
        srv.stop()


def _damaged_copies(dest: Path, tmp: Path) -> dict[str, Path]:
    raw = dest.read_bytes()
    out = {}
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0x40
    out["damaged"] = tmp / "flipped.cbak"
    out["truncated"] = tmp / "cut.cbak"
    out["not a Conversa backup"] = tmp / "other.cbak"
    out["damaged"].write_bytes(bytes(flipped))
    out["truncated"].write_bytes(raw[: len(raw) - 1000])
    out["not a Conversa backup"].write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    return out


def test_corrupt_truncated_or_foreign_files_are_refused_and_the_live_data_is_untouched(made, tmp_path):
    srv, dest, _, _ = made
    before = {p.name: _sha(p) for p in (srv.data_dir / "conversa.db", srv.data_dir / "keys.db")}
    for words, bad in _damaged_copies(dest, tmp_path).items():
        shutil.copy(_keys_copy(dest.parent), tmp_path)
        r = cli(srv.data_dir, "restore", str(bad))
        assert r.returncode == 1, r.stdout
        assert words in r.stderr, r.stderr
        assert {p.name: _sha(p) for p in (srv.data_dir / "conversa.db", srv.data_dir / "keys.db")} == before
        assert not list((srv.data_dir / "backups").glob(".restore-*"))  # no decrypted leftovers


def test_a_backup_of_another_install_needs_its_key_store_copy_and_recovery_key(made, tmp_path):
    srv, dest, _, _ = made
    other = tmp_path / "other"
    r = cli(other, "users", "add", "boss", "--role", "admin", "--password-stdin", stdin="boss-password-1\n")
    assert r.returncode == 0, r.stderr
    their_recovery = _recovery_key(r.stderr)
    their = tmp_path / "their" / "theirs.cbak"
    assert cli(other, "backup", str(their)).returncode == 0
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(their, alone / "theirs.cbak")
    before = _sha(srv.data_dir / "conversa.db")

    r = cli(srv.data_dir, "restore", str(alone / "theirs.cbak"))  # no key store copy beside it
    assert r.returncode == 1 and "made with another key" in r.stderr, r.stderr
    copy = str(_keys_copy(their.parent))
    wrong = {"CONVERSA_PASSPHRASE": "not-their-passphrase"}
    r = cli(srv.data_dir, "restore", str(alone / "theirs.cbak"), "--keys", copy, env=wrong)
    assert r.returncode == 1 and "recovery key" in r.stderr, r.stderr
    assert _sha(srv.data_dir / "conversa.db") == before

    # With their recovery key the restore goes through, and their keys now protect the data.
    target = tmp_path / "target"
    r = cli(target, "restore", str(alone / "theirs.cbak"), "--keys", copy, "--recovery-key-stdin", stdin=their_recovery)
    assert r.returncode == 0, r.stderr
    r = cli(target, "users", "list")
    assert r.returncode == 0 and "boss" in r.stdout, r.stderr


def test_restore_refuses_while_a_server_runs(made):
    srv, dest, _, _ = made
    srv.start(wait_model=False)
    try:
        r = cli(srv.data_dir, "restore", str(dest))
        assert r.returncode == 1
        assert "stop the server first" in r.stderr, r.stderr
    finally:
        srv.stop()


def test_an_erased_contact_stays_unreadable_in_older_backups(tmp_path):
    srv = make_server(tmp_path, None)
    srv.start()
    try:
        token = srv.login()["access_token"]
        _post(srv, token, 1)
        _post(srv, token, 2)
        old = tmp_path / "old" / "before-erase.cbak"
        assert cli(srv.data_dir, "backup", str(old)).returncode == 0
        copy_before = _keys_copy(old.parent).read_bytes()
        contacts = srv.request("GET", "/api/v1/contacts", token=token).json()["items"]
        gone = next(c for c in contacts if c["name"] == "Cliente 1")
        assert srv.request("DELETE", f"/api/v1/contacts/{gone['id']}", token=token).status == 204
    finally:
        srv.stop()
    # The erasure rewrote the key store copy beside the old backup: the key is gone there too.
    assert _keys_copy(old.parent).read_bytes() != copy_before
    kids = {r[0] for r in sqlite3.connect(_keys_copy(old.parent)).execute("SELECT kid FROM contact_keys")}
    assert len(kids) == 1

    shutil.rmtree(srv.data_dir)
    srv.data_dir.mkdir()
    r = cli(srv.data_dir, "restore", str(old))
    assert r.returncode == 0, r.stderr
    assert "1 contact(s) erased since the backup stay erased" in r.stdout
    srv.start(wait_model=False)
    try:
        token = srv.login()["access_token"]
        assert _titles(srv, token) == {"Cliente 2"}
    finally:
        srv.stop()


def test_api_backup_and_restore_jobs_on_a_running_server(tmp_path):
    srv = make_server(tmp_path, None)
    r = cli(srv.data_dir, "users", "add", "ana", "--role", "attendant", "--password-stdin", stdin="ana-password-1\n")
    assert r.returncode == 0, r.stderr
    srv.start()
    try:
        token = srv.login()["access_token"]
        _post(srv, token, 1)
        r = srv.request("POST", "/api/v1/backups", token=token)
        assert r.status == 202, r.body
        job = _job(srv, token, r.json()["id"])
        assert job["state"] == "done", job
        assert job["result"]["verified"]["integrity"] == "ok"
        listed = srv.request("GET", "/api/v1/backups", token=token).json()["items"]
        assert [b["id"] for b in listed] == [job["result"]["id"]] and listed[0]["readable"] is True

        _post(srv, token, 2)  # after the backup: gone once it is restored
        assert _titles(srv, token) == {"Cliente 1", "Cliente 2"}
        ana = srv.login("ana", "ana-password-1")["access_token"]
        assert srv.request("POST", f"/api/v1/backups/{listed[0]['id']}/restore", token=ana).status == 403
        assert srv.request("GET", "/api/v1/backups", token=ana).status == 403
        assert srv.request("POST", "/api/v1/backups/nope/restore", token=token).status == 404

        r = srv.request("POST", f"/api/v1/backups/{listed[0]['id']}/restore", token=token)
        assert r.status == 202, r.body
        job = _job(srv, token, r.json()["id"])
        assert job["state"] == "done", job
        assert _titles(srv, token) == {"Cliente 1"}
        _post(srv, token, 3)  # the server keeps working on the restored data
        assert _titles(srv, token) == {"Cliente 1", "Cliente 3"}
        actions = [a["action"] for a in srv.request("GET", "/api/v1/audit?limit=50", token=token).json()["items"]]
        assert "backup.restore" in actions

        # A damaged file in the folder: the job fails with the reason, the data stays.
        bad = srv.data_dir / "backups" / "broken.cbak"
        raw = bytearray((srv.data_dir / "backups" / listed[0]["file"]).read_bytes())
        raw[-100] ^= 1
        bad.write_bytes(bytes(raw))
        r = srv.request("POST", "/api/v1/backups/broken/restore", token=token)
        job = _job(srv, token, r.json()["id"])
        assert job["state"] == "failed" and "damaged" in job["message"], job
        assert _titles(srv, token) == {"Cliente 1", "Cliente 3"}

        # Made by another install: a running server never swaps its keys, so it refuses.
        other = tmp_path / "other"
        r = cli(other, "users", "add", "boss", "--role", "admin", "--password-stdin", stdin="boss-password-1\n")
        assert r.returncode == 0, r.stderr
        assert cli(other, "backup", str(srv.data_dir / "backups" / "foreign.cbak")).returncode == 0
        r = srv.request("POST", "/api/v1/backups/foreign/restore", token=token)
        job = _job(srv, token, r.json()["id"])
        assert job["state"] == "failed" and "other keys than this server's" in job["message"], job
        assert _titles(srv, token) == {"Cliente 1", "Cliente 3"}
    finally:
        srv.stop()


def test_rotation_keeps_seven_days_and_four_weeks(tmp_path):
    for day in range(40):  # two backups a day for 40 days
        for hour in (3, 15):
            stamp = time.strftime(
                "%Y%m%d-%H%M%S", time.localtime(time.mktime((2026, 1, 1 + day, hour, 0, 0, 0, 0, -1)))
            )
            (tmp_path / f"conversa-{stamp}-ab12.cbak").write_bytes(b"x")
    (tmp_path / "mine.cbak").write_bytes(b"x")  # not one of ours: never touched
    removed = backups.rotate(tmp_path)
    left = sorted(p.name for p in tmp_path.glob("conversa-*.cbak"))
    assert len(removed) == 80 - len(left)
    days = [n[9:17] for n in left]
    assert days[-7:] == [f"202602{d:02d}" for d in range(3, 10)]  # the last 7 days, each its 15:00 one
    assert all(n.endswith("150000-ab12.cbak") for n in left)
    assert 7 < len(left) <= 11  # plus up to 4 week-ends
    assert (tmp_path / "mine.cbak").exists()
    assert not backups.due(tmp_path, now=time.mktime((2026, 2, 9, 20, 0, 0, 0, 0, -1)))
    assert backups.due(tmp_path, now=time.mktime((2026, 2, 10, 16, 0, 0, 0, 0, -1)))


def test_systemd_timer_units_verify(tmp_path):
    units = ROOT / "scripts" / "systemd"
    for name in ("conversa-backup.service", "conversa-backup.timer"):
        shutil.copy(units / name, tmp_path / name)
    # The service names /opt/conversa's binary; point it at a file that exists here to verify.
    service = tmp_path / "conversa-backup.service"
    service.write_text(service.read_text().replace("/opt/conversa/venv/bin/conversa", "/bin/true"))
    r = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "conversa-backup.timer"), str(service)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


def test_the_server_makes_the_daily_backup_when_one_is_due(tmp_path):
    auto = tmp_path / "auto"
    auto.mkdir()
    srv = make_server(tmp_path, None, conversa_auto_backup_dir=str(auto))
    srv.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(auto.glob("conversa-*.cbak")):
            time.sleep(0.5)
        made = list(auto.glob("conversa-*.cbak"))
        assert len(made) == 1, list(auto.iterdir())
        assert _keys_copy(auto).is_file()
        token = srv.login()["access_token"]
        jobs = srv.request("GET", "/api/v1/jobs", token=token).json()["items"]
        assert any(j["kind"] == "backup" and j["state"] == "done" for j in jobs), jobs
    finally:
        srv.stop()
    # What it wrote restores like any other backup.
    r = cli(srv.data_dir, "restore", str(made[0]))
    assert r.returncode == 0, r.stderr
