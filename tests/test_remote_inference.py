"""Inference on OpenAI-compatible servers (`inference_url`): llama-cpp-python's own server
(`python -m llama_cpp.server`) running the default model on loopback ports serves the analyses;
two servers both serve; a failing one is skipped; with none answering the captures are still
stored and the insights say `unavailable` with the reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import fixture_capture, free_port, make_server

from desktop.errors import InvalidInput
from desktop.usecases.settings_admin import check
from llm.remote import Pool, parse_urls


class LlamaServer:
    def __init__(self, model: Path, log: Path, *extra: str):
        self.port = free_port()
        self.log = log
        out = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
            + ["--port", str(self.port), "--n_ctx", "2048", "--n_threads", "1", "--cache", "true", *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 300) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-2000:]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/v1/models")
                if conn.getresponse().status in (200, 401):  # 401: up, and wants its API key
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("llama_cpp.server did not start")

    def completions(self) -> int:
        return self.log.read_text(errors="replace").count("POST /v1/chat/completions")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _capture(n: int) -> dict:
    cap = fixture_capture()
    jid = f"55119000000{n:02d}@c.us"
    cap["chat"] = dict(cap["chat"], id=jid, title=f"Cliente {n}", phone=f"+55119000000{n:02d}")
    cap["messages"] = [dict(m, id=m["id"].replace("5511987654321@c.us", jid)) for m in cap["messages"]]
    return cap


def _insight(server, token: str, cid: str, timeout: float = 900) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = server.request("GET", f"/api/v1/conversations/{cid}/insights", token=token)
        if r.status == 200 and r.json().get("state") not in (None, "pending"):
            return r.json()
        time.sleep(0.5)
    raise AssertionError("no insight in time")


@pytest.fixture(scope="module")
def llama_servers(tmp_path_factory, model_file):
    tmp = tmp_path_factory.mktemp("llama")
    servers = [LlamaServer(model_file, tmp / f"llama{i}.log") for i in range(2)]
    try:
        for s in servers:
            s.wait()
        yield servers
    finally:
        for s in servers:
            s.stop()


def test_analyses_run_on_two_servers_fail_over_and_say_unavailable_without_them(llama_servers, tmp_path):
    a, b = llama_servers
    srv = make_server(tmp_path, None, conversa_inference_url=f"{a.url}, {b.url}/v1")
    srv.start()
    try:
        token = srv.login()["access_token"]
        health = srv.request("GET", "/api/v1/health").json()
        assert health["model"]["state"] == "ready", health

        # Four chats at once: both servers take some, and every capture gets its insight.
        cids = []
        for n in range(1, 5):
            r = srv.request("POST", "/api/v1/captures", _capture(n), token=token)
            assert r.status == 202, r.body
            assert r.json()["analysis"] == "queued"
            cids.append(r.json()["conversation_id"])
        for cid in cids:
            insight = _insight(srv, token, cid)
            assert insight["state"] == "ready", insight
            assert insight["model"] == "remote", insight
            assert insight["sentiment"]["label"] and insight["intent"]["label"]
            assert len(insight["suggestions"]) == 3 and insight["summary"]
        assert a.completions() >= 1 and b.completions() >= 1, (a.completions(), b.completions())

        # One server down: it is skipped, the other serves.
        b.stop()
        before = a.completions()
        r = srv.request("POST", "/api/v1/captures", _capture(5), token=token)
        insight = _insight(srv, token, r.json()["conversation_id"])
        assert insight["state"] == "ready", insight
        assert a.completions() == before + 1

        # None left: the capture is stored, the insight says why there is none.
        a.stop()
        r = srv.request("POST", "/api/v1/captures", _capture(6), token=token)
        assert r.status == 202, r.body
        cid = r.json()["conversation_id"]
        insight = _insight(srv, token, cid)
        assert insight["state"] == "unavailable", insight
        assert insight["error"]["code"] == "inference_unavailable"
        assert "connection refused" in insight["error"]["message"]
        conv = srv.request("GET", f"/api/v1/conversations/{cid}", token=token).json()
        assert [m["text"] for m in conv["messages"]] == [m["text"] for m in _capture(6)["messages"]]
    finally:
        srv.stop()


def test_pool_takes_servers_in_turn_and_skips_a_failed_one():
    pool = Pool(parse_urls("http://a:1/v1/, http://b:2"))
    assert [e.url for e in pool.endpoints] == ["http://a:1", "http://b:2"]
    first = [pool.order()[0].host for _ in range(4)]
    assert first == ["a:1", "b:2", "a:1", "b:2"]
    a = pool.endpoints[0]
    pool.begin(a)
    assert [pool.order()[0].host for _ in range(2)] == ["b:2", "b:2"]  # the busy one goes last
    pool.end(a, "connection refused")
    assert [pool.order()[0].host for _ in range(2)] == ["b:2", "b:2"]  # skipped while failing
    assert pool.order()[-1].host == "a:1"  # still tried when every other fails
    a.failed_until = 0  # its retry time has come
    assert {pool.order()[0].host for _ in range(2)} == {"a:1", "b:2"}
    with pytest.raises(ValueError):
        parse_urls("ftp://x")


def test_a_server_that_wants_an_api_key_gets_it(model_file, tmp_path):
    llama = LlamaServer(model_file, tmp_path / "llama.log", "--api_key", "team-secret-1")
    try:
        llama.wait()
        without = make_server(tmp_path / "without", None, conversa_inference_url=llama.url)
        without.start()
        try:
            token = without.login()["access_token"]
            r = without.request("POST", "/api/v1/captures", _capture(1), token=token)
            insight = _insight(without, token, r.json()["conversation_id"])
            assert insight["state"] == "unavailable" and "HTTP 401" in insight["error"]["message"], insight
        finally:
            without.stop()
        srv = make_server(
            tmp_path / "with", None, conversa_inference_url=llama.url, conversa_inference_api_key="team-secret-1"
        )
        srv.start()
        try:
            token = srv.login()["access_token"]
            r = srv.request("POST", "/api/v1/captures", _capture(1), token=token)
            insight = _insight(srv, token, r.json()["conversation_id"])
            assert insight["state"] == "ready", insight
            settings = srv.request("GET", "/api/v1/settings", token=token).json()["items"]
            key = next(s for s in settings if s["name"] == "inference_api_key")
            assert "team-secret-1" not in json.dumps(key)
        finally:
            srv.stop()
    finally:
        llama.stop()


def test_admins_set_inference_urls_but_never_the_api_key():
    assert (
        check("inference_url", "str", "http://10.0.0.5:8080, https://gpu.lan/v1")
        == "http://10.0.0.5:8080, https://gpu.lan/v1"
    )
    for bad in ("ftp://x", "10.0.0.5:8080"):
        with pytest.raises(InvalidInput):
            check("inference_url", "str", bad)
    with pytest.raises(InvalidInput):
        check("inference_api_key", "str", "anything")
    with pytest.raises(InvalidInput):
        check("auto_backup_dir", "str", "relative/folder")
