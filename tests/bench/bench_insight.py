"""Insight latency benchmark on a 30-message chat, with raw llama-cpp-python side by side.

Run: .venv/bin/python tests/bench/bench_insight.py
Measures in one process:
  1. cold: a fresh model state, our full analysis (labels + streamed suggestions), on a model
     instance built as the inference thread builds it (``engine.open_model``);
  2. after one new message: the same chat plus one customer message (prefix re-use);
  3. raw llama-cpp-python: the identical prompt tokens and grammar, no Conversa code around it,
     cold and after one new message, to get our overhead;
and then, against a real server, the time from a capture's 202 to the first suggestion text on
the SSE stream, after one new message. Sampling is greedy (temperature 0) so both sides
generate the same tokens. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import FIXTURES, make_server  # noqa: E402

from llm import catalog, prompts  # noqa: E402
from llm.analysis import AnalysisRequest, analyze, build_prompt  # noqa: E402
from llm.engine import EngineSettings, open_model  # noqa: E402
from llm.language import detect_language  # noqa: E402


def chat30() -> list[dict]:
    base = json.loads((FIXTURES / "whatsapp" / "chat_ptbr_1to1.expected.json").read_text("utf-8"))["messages"]
    out = []
    for i in range(30):
        m = dict(base[i % len(base)])
        m["id"] = f"{m['id']}_{i}"
        m["timestamp"] = f"2026-03-1{i // 14}T{9 + (i % 14) // 2:02d}:{(i * 7) % 60:02d}:00"
        out.append(m)
    return out


NEW = {
    "id": "false_new_1",
    "direction": "in",
    "author": "Mariana Costa",
    "timestamp": "2026-03-12T10:00:00",
    "text": "Oi! O pedido já saiu para entrega?",
    "kind": "text",
}


THREADS = 0  # 0: all cores; `--threads N` on a shared machine (spinning threads wait on each other)


def fresh_llama(path: Path):
    """Plain llama-cpp-python, as anyone would set it up: same context, threads and RAM cache."""
    import os

    from llama_cpp import Llama, LlamaRAMCache

    n = THREADS or os.cpu_count() or 1
    llama = Llama(model_path=str(path), n_ctx=2048, n_threads=n, n_threads_batch=n, verbose=False)
    llama.set_cache(LlamaRAMCache(capacity_bytes=256 << 20))
    return llama


def our_llama(path: Path):
    return open_model(EngineSettings(model_path=path, model_id="default", n_ctx=2048, n_threads=THREADS))


def ours(llama, messages) -> tuple[float, dict]:
    req = AnalysisRequest(messages=messages, temperature=0.0)
    t0 = time.perf_counter()
    r = analyze(llama, req, lambda: False)
    return time.perf_counter() - t0, r


def raw(llama, messages, max_tokens: int) -> tuple[float, float, int]:
    """llama-cpp-python alone: same tokens, same grammar. Returns (seconds, first-token s, tokens)."""
    from llama_cpp import LlamaGrammar

    turns = prompts.turns_from_messages(messages)
    lang = detect_language([t.text for t in turns if t.direction == "in"])
    tokens, stop, max_tokens, _ = build_prompt(llama, turns, lang, max_tokens)
    tokens = tokens + llama.tokenize(prompts.SUGGESTION_PREFIX.encode(), add_bos=False, special=False)
    grammar = LlamaGrammar.from_string(prompts.SUGGESTION_GRAMMAR, verbose=False)
    t0 = time.perf_counter()
    first = None
    n = 0
    for _ in llama.create_completion(
        tokens, max_tokens=max_tokens, temperature=0.0, stop=stop, grammar=grammar, stream=True, repeat_penalty=1.15
    ):
        first = first or time.perf_counter() - t0
        n += 1
    return time.perf_counter() - t0, first or 0.0, n


def first_suggestion_over_http(model: Path) -> tuple[float, float]:
    """Capture 202 → first `suggestion` event, and → `insight`, after one new message."""
    with tempfile.TemporaryDirectory() as tmp:
        server = make_server(Path(tmp), model, conversa_n_threads=str(THREADS))
        server.start()
        try:
            token = server.login()["access_token"]
            msgs = chat30()
            cap = {
                "chat": {
                    "id": "5511987654321@c.us",
                    "title": "Mariana Costa",
                    "is_group": False,
                    "phone": "+5511987654321",
                },
                "messages": msgs,
            }
            cid = server.request("POST", "/api/v1/captures", cap, token=token).json()["conversation_id"]
            server.sse(f"/api/v1/conversations/{cid}/insights/stream", token, until="insight")
            marks: dict[str, float] = {}
            ready = threading.Event()

            def listen() -> None:
                import http.client

                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
                conn.request(
                    "GET",
                    f"/api/v1/conversations/{cid}/insights/stream",
                    headers={"Host": server.host, "Authorization": f"Bearer {token}"},
                )
                resp = conn.getresponse()
                ready.set()
                seen_pending = False
                while True:
                    line = resp.fp.readline().decode()
                    if not line:
                        return
                    if line.startswith("data: ") and '"pending"' in line:
                        seen_pending = True
                    if seen_pending and line.startswith("event: suggestion") and "suggestion" not in marks:
                        marks["suggestion"] = time.perf_counter()
                    if seen_pending and line.startswith("event: insight"):
                        marks["insight"] = time.perf_counter()
                        conn.close()
                        return

            th = threading.Thread(target=listen)
            th.start()
            ready.wait(10)
            time.sleep(0.3)
            cap["messages"] = msgs + [NEW]
            t0 = time.perf_counter()
            r = server.request("POST", "/api/v1/captures", cap, token=token)
            t_202 = time.perf_counter()
            assert r.status == 202 and r.json()["analysis"] == "queued"
            th.join(300)
            return marks["suggestion"] - t_202, marks["insight"] - t0
        finally:
            server.stop()


def main() -> None:
    global THREADS
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for both sides (0: all cores)")
    THREADS = ap.parse_args().threads
    model = catalog.pull("default", Path.home() / ".local/share/conversa/models")[0]
    msgs = chat30()
    llama = our_llama(model)
    cold_s, cold = ours(llama, msgs)
    warm_s, warm = ours(llama, msgs + [NEW])
    max_tokens = AnalysisRequest(messages=[]).max_tokens

    llama_raw = fresh_llama(model)
    raw_cold_s, raw_cold_first, raw_cold_n = raw(llama_raw, msgs, max_tokens)
    raw_warm_s, raw_warm_first, raw_warm_n = raw(llama_raw, msgs + [NEW], max_tokens)

    ct, wt = cold["timings"], warm["timings"]
    gen_cold = cold_s - ct["labels_ms"] / 1000
    gen_warm = warm_s - wt["labels_ms"] / 1000
    print(
        f"30-message chat: prompt {ct['prompt_tokens']} tokens; after one new message {wt['prompt_tokens']} "
        f"tokens, {wt['cached_tokens']} cached ({wt['prompt_tokens'] - wt['cached_tokens']} evaluated, "
        f"{(wt['prompt_tokens'] - wt['cached_tokens']) / ct['prompt_tokens']:.1%} of cold)"
    )
    print(f"{'':34}{'total s':>9}{'labels s':>10}{'suggest s':>11}{'tokens':>8}")
    print(f"{'ours, cold':34}{cold_s:9.2f}{ct['labels_ms'] / 1000:10.2f}{gen_cold:11.2f}{ct['generated_tokens']:8d}")
    print(
        f"{'ours, after one new message':34}{warm_s:9.2f}{wt['labels_ms'] / 1000:10.2f}{gen_warm:11.2f}"
        f"{wt['generated_tokens']:8d}"
    )
    print(f"{'raw llama-cpp-python, cold':34}{raw_cold_s:9.2f}{'':10}{raw_cold_s:11.2f}{raw_cold_n:8d}")
    print(f"{'raw, after one new message':34}{raw_warm_s:9.2f}{'':10}{raw_warm_s:11.2f}{raw_warm_n:8d}")
    print(
        f"overhead of our suggestion step over raw: cold {gen_cold / raw_cold_s - 1:+.1%}, "
        f"after one new message {gen_warm / raw_warm_s - 1:+.1%}"
    )
    first_s, insight_s = first_suggestion_over_http(model)
    print(
        f"HTTP, after one new message: 202 → first suggestion text {first_s:.2f} s; → final insight {insight_s:.2f} s"
    )


if __name__ == "__main__":
    main()
