"""Ingestion benchmark: 8 concurrent clients post 20-message captures for 20 s.

Run: .venv/bin/python tests/bench/bench_ingest.py [--seconds 20] [--clients 8]
Prints captures/s and p50/p99 latency, once with the model idle (captures bring only the
attendant's messages, so nothing is analysed) and once while it generates (every capture brings
a new customer message, so analyses queue continuously). Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import make_server  # noqa: E402

from llm import catalog  # noqa: E402


def capture(client: int, n: int, customer: bool) -> dict:
    chat = f"55119{client:04d}0000@c.us"
    msgs = []
    for i in range(n, n + 20):
        incoming = customer and i == n + 19
        msgs.append(
            {
                "id": f"{'false' if incoming else 'true'}_{chat}_M{i:06d}",
                "direction": "in" if incoming else "out",
                "author": None,
                "timestamp": f"2026-03-10T{9 + i // 60 % 12:02d}:{i % 60:02d}:00",
                "text": f"mensagem número {i} do atendimento",
                "kind": "text",
            }
        )
    return {"chat": {"id": chat, "title": f"Cliente {client}", "is_group": False, "phone": None}, "messages": msgs}


async def run_load(base: str, host: str, token: str, clients: int, seconds: float, customer: bool) -> dict:
    lat: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Host": host, "Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + seconds

    async def client(c: int) -> None:
        async with aiohttp.ClientSession(headers=headers) as s:
            n = 0
            while time.monotonic() < deadline:
                body = capture(c, n, customer)
                t0 = time.perf_counter()
                async with s.post(base + "/api/v1/captures", json=body) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                lat.append(time.perf_counter() - t0)
                n += 1

    t0 = time.monotonic()
    await asyncio.gather(*(client(c + (1000 if customer else 0)) for c in range(clients)))
    elapsed = time.monotonic() - t0
    lat.sort()
    return {
        "captures": len(lat),
        "per_second": len(lat) / elapsed,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[int(0.99 * (len(lat) - 1))] * 1000,
        "statuses": statuses,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    model = catalog.pull("default", Path.home() / ".local/share/conversa/models")[0]
    with tempfile.TemporaryDirectory() as tmp:
        server = make_server(Path(tmp), model)
        server.start()
        try:
            token = server.login()["access_token"]
            base = f"http://127.0.0.1:{server.port}"
            results = {}
            for label, customer in (("model idle", False), ("model generating", True)):
                r = asyncio.run(run_load(base, server.host, token, args.clients, args.seconds, customer))
                health = server.request("GET", "/api/v1/health").json()
                results[label] = r
                print(
                    f"{label:17} {r['captures']:6d} captures  {r['per_second']:7.1f}/s  "
                    f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  statuses {r['statuses']}  "
                    f"model {health['model']['state']}"
                )
            idle, busy = results["model idle"], results["model generating"]
            print(
                f"ratio generating/idle: throughput {busy['per_second'] / idle['per_second']:.2f}, "
                f"p99 {busy['p99_ms'] / idle['p99_ms']:.2f}"
            )
            print(json.dumps({"clients": args.clients, "seconds": args.seconds, **results}))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
