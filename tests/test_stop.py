"""A stop (SIGTERM) ends the server within 2 s whatever runs, and leaves nothing half-written."""

from __future__ import annotations

import signal
import time

from conftest import copy_model, make_server

STOP_SECONDS = 2.0


def _stop_seconds(server) -> float:
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(30)
    finally:
        elapsed = time.monotonic() - t0
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        server.proc = None
    return elapsed


def _wait_for_log(server, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log.read_text(errors="replace"):
        assert server.proc.poll() is None, server.log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"{text!r} never logged"
        time.sleep(0.05)


def test_sigterm_while_the_first_start_prepares_the_label_examples(tmp_path, model_file):
    """The first start with a model computes the built-in label examples (~30 s); a stop cuts it short."""
    server = make_server(tmp_path, None)
    model = copy_model(model_file, server.data_dir / "models")  # a fresh copy: no cached examples beside it
    server.start(wait_model=False)
    try:
        _wait_for_log(server, "preparing the built-in label examples")
        time.sleep(1.0)  # well inside the preparation
        elapsed = _stop_seconds(server)
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert elapsed < STOP_SECONDS, f"stopping took {elapsed:.1f}s\n{log[-2000:]}"
    assert "Traceback" not in log, log[-3000:]
    assert not list(model.parent.glob("*.seed-*")) and not list(model.parent.glob(".seed-*")), "half-written cache"


def test_sigterm_with_analyses_queued(tmp_path, model_file):
    """Analyses wait for the model (one may run): the stop fails them after the server's loop has
    closed, and their callbacks must not try to post to it."""
    server = make_server(tmp_path, model_file)
    server.start(wait_model=False)
    try:
        # The model file is read (that step cannot be interrupted); then analyses queue behind the
        # preparation of the label examples, or behind one another when those are cached.
        _wait_for_log(server, "loaded in")
        token = server.login()["access_token"]
        for n in range(6):
            chat = f"55119876500{n:02d}@c.us"
            capture = {
                "chat": {"id": chat, "title": f"Cliente {n}", "is_group": False, "phone": None},
                "messages": [
                    {
                        "id": f"false_{chat}_M{n}x{i}",
                        "direction": "in",
                        "author": None,
                        "timestamp": f"2026-03-10T09:{i:02d}:00",
                        "text": f"Oi, cadê meu pedido {n}{i}? Já faz uma semana.",
                        "kind": "text",
                    }
                    for i in range(4)
                ],
            }
            r = server.request("POST", "/api/v1/captures", capture, token=token)
            assert r.status == 202 and r.json()["analysis"] == "queued", r.body
        elapsed = _stop_seconds(server)
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert elapsed < STOP_SECONDS, f"stopping took {elapsed:.1f}s\n{log[-2000:]}"
    assert "Event loop is closed" not in log and "Traceback" not in log, log[-3000:]


def test_sigterm_with_an_insight_stream_open(tmp_path):
    """An open event stream never ends by itself: the stop ends it rather than waiting it out."""
    import http.client

    from conftest import fixture_capture

    server = make_server(tmp_path, None)
    server.start()
    try:
        token = server.login()["access_token"]
        cid = server.request("POST", "/api/v1/captures", fixture_capture(), token=token).json()["conversation_id"]
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        path = f"/api/v1/conversations/{cid}/insights/stream"
        conn.request("GET", path, headers={"Host": server.host, "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.fp.readline()  # the stream is open and sending
        elapsed = _stop_seconds(server)
        conn.close()
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert elapsed < STOP_SECONDS, f"stopping took {elapsed:.1f}s\n{log[-2000:]}"
    assert "Traceback" not in log, log[-3000:]
