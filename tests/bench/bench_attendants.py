"""Attendants served: simulated attendants, each posting a capture of their own chat every 20 s
(one new customer message each time), against a real server — with the built-in engine, then
with two remote OpenAI-compatible servers (`python -m llama_cpp.server`, the default model).

Run from the checkout: .venv/bin/python tests/bench/bench_attendants.py [--attendants 6] [--minutes 2]
Prints, per setup: captures posted, insights completed per minute, analyses superseded by the
chat's next capture, and the p50/p90 time from a capture's 202 to its first suggestion text on
the SSE stream; then the ratio remote/built-in. Both setups share this machine's cores, so the
ratio here shows the scheduling, not what separate machines would add. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's code, not an installed copy
from conftest import _models_cache, fixture_capture, make_server  # noqa: E402
from test_remote_inference import LlamaServer  # noqa: E402

from llm import catalog  # noqa: E402

CUSTOMER_LINES = [
    "Oi! O pedido já saiu para entrega?",
    "Vocês têm esse modelo em azul?",
    "Quanto fica o frete para Campinas?",
    "Posso trocar o tamanho depois?",
    "Obrigada pela ajuda!",
    "Consegue me mandar a chave Pix de novo?",
]


class Attendant(threading.Thread):
    """Posts a capture every `interval` s; reads its chat's event stream for suggestions."""

    def __init__(self, server, token: str, n: int, interval: float, until: float):
        super().__init__(daemon=True)
        self.server, self.token, self.n, self.interval, self.until = server, token, n, interval, until
        self.posts: list[float] = []
        self.first_suggestion: list[float] = []  # one per post that got a suggestion before the next post
        self.insights = 0
        self.superseded = 0
        self._cap = fixture_capture()
        jid = f"55119100000{n:02d}@c.us"
        self._cap["chat"] = dict(self._cap["chat"], id=jid, title=f"Atendimento {n}", phone=f"+55119100000{n:02d}")
        self._cap["messages"] = [dict(m, id=m["id"].replace("5511987654321@c.us", jid)) for m in self._cap["messages"]]
        self._lock = threading.Lock()
        self._waiting: float | None = None

    def _post(self, i: int) -> str:
        if i:
            self._cap["messages"].append(
                {
                    "id": f"false_{self.n}_{i}",
                    "direction": "in",
                    "author": "Cliente",
                    "timestamp": f"2026-03-12T10:{i % 60:02d}:00",
                    "text": CUSTOMER_LINES[i % len(CUSTOMER_LINES)],
                    "kind": "text",
                }
            )
        with self._lock:
            if self._waiting is not None:
                self.superseded += 1
            self._waiting = time.monotonic()
            self.posts.append(self._waiting)
        r = self.server.request("POST", "/api/v1/captures", self._cap, token=self.token)
        assert r.status == 202, r.body
        return r.json()["conversation_id"]

    def _listen(self, cid: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=600)
        conn.request(
            "GET",
            f"/api/v1/conversations/{cid}/insights/stream",
            headers={"Host": self.server.host, "Authorization": f"Bearer {self.token}"},
        )
        resp = conn.getresponse()
        name, data = None, []
        while time.monotonic() < self.until + 120:
            line = resp.fp.readline().decode()
            if not line:
                return
            line = line.rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and name:
                payload = json.loads("\n".join(data))
                with self._lock:
                    if name == "suggestion" and self._waiting is not None:
                        self.first_suggestion.append(time.monotonic() - self._waiting)
                        self._waiting = None
                    elif name == "insight" and payload.get("state") == "ready":
                        self.insights += 1
                        self._waiting = None
                name, data = None, []

    def run(self) -> None:
        cid = self._post(0)
        threading.Thread(target=self._listen, args=(cid,), daemon=True).start()
        i = 1
        while True:
            next_at = self.posts[0] + i * self.interval
            if next_at >= self.until:
                break
            time.sleep(max(0.0, next_at - time.monotonic()))
            self._post(i)
            i += 1


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run_load(server, attendants: int, minutes: float, interval: float) -> dict:
    token = server.login()["access_token"]
    start = time.monotonic()
    until = start + minutes * 60
    crowd = [Attendant(server, token, n, interval, until) for n in range(attendants)]
    for a in crowd:
        a.start()
        time.sleep(interval / attendants)  # staggered, as real attendants are
    for a in crowd:
        a.join()
    time.sleep(min(60.0, interval * 2))  # let the last analyses end
    elapsed = (time.monotonic() - start) / 60
    ttfs = [t for a in crowd for t in a.first_suggestion]
    return {
        "captures": sum(len(a.posts) for a in crowd),
        "insights": sum(a.insights for a in crowd),
        "insights_per_minute": round(sum(a.insights for a in crowd) / elapsed, 2),
        "superseded": sum(a.superseded for a in crowd),
        "ttfs_p50_s": round(pct(ttfs, 0.5), 2) if ttfs else None,
        "ttfs_p90_s": round(pct(ttfs, 0.9), 2) if ttfs else None,
        "with_suggestion": len(ttfs),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attendants", type=int, default=6)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--interval", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=0, help="built-in engine threads (0: all cores)")
    args = ap.parse_args()
    model, _ = catalog.pull("default", _models_cache())
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        srv = make_server(Path(tmp) / "builtin", model, conversa_n_threads=str(args.threads))
        srv.start(timeout=900)
        try:
            results["built-in engine"] = run_load(srv, args.attendants, args.minutes, args.interval)
        finally:
            srv.stop()
        print("built-in engine:", results["built-in engine"], flush=True)
        remotes = [LlamaServer(model, Path(tmp) / f"llama{i}.log") for i in range(2)]
        try:
            for r in remotes:
                r.wait()
            urls = ",".join(r.url for r in remotes)
            srv = make_server(Path(tmp) / "remote", None, conversa_inference_url=urls)
            srv.start()
            try:
                results["two remote servers"] = run_load(srv, args.attendants, args.minutes, args.interval)
            finally:
                srv.stop()
            served = [r.completions() for r in remotes]
        finally:
            for r in remotes:
                r.stop()
        print("two remote servers:", results["two remote servers"], "requests per server:", served, flush=True)
    b, r = results["built-in engine"], results["two remote servers"]
    print(f"\n{args.attendants} attendants, a capture every {args.interval:.0f} s, {args.minutes} min each:")
    print(f"{'setup':<20} {'captures':>8} {'insights/min':>12} {'superseded':>10} {'TTFS p50':>9} {'TTFS p90':>9}")
    for name, x in results.items():
        print(
            f"{name:<20} {x['captures']:>8} {x['insights_per_minute']:>12} {x['superseded']:>10}"
            f" {x['ttfs_p50_s']!s:>9} {x['ttfs_p90_s']!s:>9}"
        )
    if b["insights_per_minute"]:
        print(f"ratio remote/built-in, insights per minute: {r['insights_per_minute'] / b['insights_per_minute']:.2f}")
    if b["ttfs_p90_s"] and r["ttfs_p90_s"]:
        print(f"ratio remote/built-in, p90 time to first suggestion: {r['ttfs_p90_s'] / b['ttfs_p90_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
