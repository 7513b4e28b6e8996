"""The inference thread with the real model: coalescing, cancellation, unavailable states."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError

import pytest
from conftest import fixture_capture, make_server

from llm import prompts
from llm.analysis import AnalysisRequest, analyze, label_turns
from llm.engine import Engine, EngineSettings
from llm.errors import Cancelled, ModelMissing


@pytest.fixture(scope="module")
def engine(model_file):
    e = Engine(EngineSettings(model_path=model_file, model_id="default", n_ctx=2048))
    e.start()
    assert e.wait_ready(120), e.error
    yield e
    e.stop()


def test_newer_job_replaces_queued_and_cancels_running(engine):
    started = threading.Event()

    def slow(llama, cancelled):
        started.set()
        for _ in range(400):
            if cancelled():
                raise Cancelled("stop")
            time.sleep(0.01)
        return "slow done"

    running = engine.submit("chat-a", slow)
    started.wait(10)
    queued = engine.submit("chat-b", lambda llama, c: "first b")
    newer_b = engine.submit("chat-b", lambda llama, c: "second b")
    newer_a = engine.submit("chat-a", lambda llama, c: llama.n_ctx())
    with pytest.raises(Cancelled):
        running.future.result(10)
    with pytest.raises((Cancelled, CancelledError)):
        queued.future.result(10)
    assert newer_b.future.result(30) == "second b"
    assert newer_a.future.result(30) == 2048


def test_analysis_reuses_the_prefix_after_one_new_message(engine):
    msgs = fixture_capture()["messages"]
    first = engine.run(lambda llama, c: analyze(llama, AnalysisRequest(messages=msgs[:-1]), c), timeout=300)
    second = engine.run(lambda llama, c: analyze(llama, AnalysisRequest(messages=msgs), c), timeout=300)
    t = second["timings"]
    assert len(first["suggestions"]) == 3 and len(second["suggestions"]) == 3
    # Only the new message and the task suffix need evaluating.
    assert t["cached_tokens"] >= 0.8 * t["prompt_tokens"], t


def test_label_pass_keeps_the_conversation_prefix_and_saved_states_stay_small(engine):
    """The label pass runs on its own context, so the next analysis of the chat continues from
    the live state (no state restore), and a saved state carries no n_batch × n_vocab logits."""
    msgs = fixture_capture()["messages"]

    def check(llama, cancelled):
        from llama_cpp import Llama

        analyze(llama, AnalysisRequest(messages=msgs), cancelled)
        live = llama._input_ids.tolist()
        label_turns(llama, prompts.turns_from_messages(msgs[:-3]))  # another text through the label pass
        kept = Llama.longest_token_prefix(llama._input_ids.tolist(), live)
        state = llama.save_state()
        return len(live), kept, state.scores.nbytes, state.llama_state_size

    n, kept, scores_bytes, kv_bytes = engine.run(check, timeout=1800)
    assert n > 100 and kept == n
    assert scores_bytes < kv_bytes / 10, (scores_bytes, kv_bytes)


def test_missing_model_stores_captures_and_reports_unavailable(tmp_path):
    e = Engine(EngineSettings(model_path=tmp_path / "nope.gguf", model_id="nope"))
    e.start()
    assert not e.wait_ready(10)
    assert e.status()["state"] == "unavailable" and e.status()["error"]["code"] == "model_missing"
    with pytest.raises(ModelMissing):
        e.submit("x", lambda llama, c: 1).future.result(1)

    server = make_server(tmp_path, None)
    server.start()
    try:
        health = server.request("GET", "/api/v1/health").json()
        assert health["model"]["state"] == "unavailable" and "pull" in health["model"]["error"]["message"]
        token = server.login()["access_token"]
        r = server.request("POST", "/api/v1/captures", fixture_capture(), token=token)
        assert r.status == 202 and r.json()["analysis"] == "unavailable" and r.json()["new_messages"] == 14
        insight = server.request("GET", f"/api/v1/conversations/{r.json()['conversation_id']}/insights", token=token)
        body = insight.json()
        assert body["state"] == "unavailable" and body["error"]["code"] == "model_missing"
    finally:
        server.stop()


def test_stop_frees_the_models_native_memory_at_once(model_file):
    """Not left to a garbage collection: the desktop window's process freezes its heap."""
    e = Engine(EngineSettings(model_path=model_file, model_id="default", n_ctx=512))
    e.start()
    assert e.wait_ready(120), e.error
    llama = e._llama
    labels = llama._conversa_label_llama
    assert llama._ctx.ctx is not None and labels._ctx.ctx is not None
    e.stop()
    assert llama._ctx.ctx is None and labels._ctx.ctx is None
