"""Dashboard refresh over 100,000 conversations: refresh time (target <= 1 s) and the longest Tk
event-loop stall while it refreshes (an `after` heartbeat; target <= 50 ms).

Run: .venv/bin/python tests/bench/bench_dashboard.py [--conversations 100000] [--refreshes 3]
Seeds the store as bench_metrics.py does (10 attendants, 90 days from 2026-01-01), starts a real
server without the model, then under Xvfb opens the dashboard tab (real Tk, the HTTP API through
the bridge) for the 90 days and refreshes it. "refresh" runs from the click to the last chart
drawn; "api" is the part until the /metrics answer (and its model) reached the Tk thread.
The first refresh is reported apart ("cold": it rebuilds the kept metric rows of a store the
server has not seen); then the bench waits until the server is idle (start-up work: team replies
indexed, metric rows rebuilt) before the timed refreshes, unless --no-settle.
Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tkinter as tk
from datetime import date
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]  # this checkout
from bench_metrics import seed  # noqa: E402
from conftest import ADMIN_PASSWORD, PASSPHRASE, make_server  # noqa: E402
from ui_support import Display  # noqa: E402

from desktop.store.database import Store  # noqa: E402
from desktop.ui.api_client import ApiClient  # noqa: E402
from desktop.ui.bridge import Bridge  # noqa: E402
from desktop.ui.heap import SERVER, HeapSettler  # noqa: E402
from desktop.ui.i18n import Strings  # noqa: E402
from desktop.ui.main import share_gil_with_tk  # noqa: E402
from desktop.ui.tabs import TabContext  # noqa: E402
from desktop.ui.tabs.dashboard import View  # noqa: E402

HEARTBEAT_MS = 10
LAST_DAY = date(2026, 3, 31)


def idle_stall(root: tk.Tk, seconds: float = 3.0) -> float:
    """The longest heartbeat gap with nothing to do: what the machine itself adds (load, scheduling)."""
    gaps: list[float] = []
    last = [time.perf_counter()]
    end = last[0] + seconds

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
        if now < end:
            root.after(HEARTBEAT_MS, beat)

    root.after(HEARTBEAT_MS, beat)
    while time.perf_counter() < end + 0.1:
        root.update()
        time.sleep(0.001)
    return round(max(gaps) * 1000 - HEARTBEAT_MS, 1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, limit: float = 300) -> float:
    """Wait until the server is idle (under 10 % of a core over a second): a server started on a
    store it has not seen indexes its team replies and rebuilds its metric rows first, which is
    start-up work, not the refresh. Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.1:
            break
    return round(time.monotonic() - t0, 1)


def measure(root: tk.Tk, view: View, bridge: Bridge, timeout: float = 600) -> dict:
    gaps: list[float] = []
    at: list[float] = []
    last = [time.perf_counter()]
    running = [True]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        at.append(now)
        last[0] = now
        if running[0]:
            root.after(HEARTBEAT_MS, beat)

    def drain() -> None:  # the window's own loop: results of API calls come back through it
        bridge.drain()
        if running[0]:
            root.after(20, drain)

    loaded: list[float] = []
    original = view._loaded

    def stamped(*args) -> None:
        loaded.append(time.perf_counter())
        original(*args)

    view._loaded = stamped  # type: ignore[method-assign]
    root.after(HEARTBEAT_MS, beat)
    root.after(20, drain)
    t0 = time.perf_counter()
    last[0] = t0
    view.refresh(today=LAST_DAY)
    deadline = t0 + timeout
    while (view.busy or not loaded) and time.perf_counter() < deadline:
        root.update()
        time.sleep(0.001)
    done = time.perf_counter()
    running[0] = False
    view._loaded = original  # type: ignore[method-assign]
    split = loaded[0] if loaded else done
    before = [g for g, a in zip(gaps, at, strict=True) if a <= split] or [0.0]
    after = [g for g, a in zip(gaps, at, strict=True) if a > split] or [0.0]
    return {
        "refresh_s": round(done - t0, 3),
        # Where the longest stall fell: while the worker fetched and rendered, or while Tk showed the result.
        "stall_while_worker_ms": round(max(before) * 1000 - HEARTBEAT_MS, 1),
        "stall_while_showing_ms": round(max(after) * 1000 - HEARTBEAT_MS, 1),
        "api_s": round(loaded[0] - t0, 3) if loaded else None,
        "longest_stall_ms": round((max(gaps) * 1000) - HEARTBEAT_MS, 1) if gaps else None,
        "conversations_shown": view.model.kpis["conversations"] if view.model else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--refreshes", type=int, default=3)
    ap.add_argument(
        "--no-settle", dest="settle", action="store_false",
        help="measure right after the cold refresh, while the server still does its start-up work",
    )
    args = ap.parse_args()
    display = Display().start()
    with tempfile.TemporaryDirectory() as tmp:
        server = make_server(Path(tmp), None, conversa_timezone="UTC")
        store, _ = Store.open(server.data_dir, PASSPHRASE)
        seed(store, args.conversations, [f"u_att{i}" for i in range(10)])
        store.close()
        server.start(wait_model=False)
        try:
            client = ApiClient(f"http://{server.host}/api/v1", timeout=600)
            client.login("admin", ADMIN_PASSWORD)
            share_gil_with_tk()  # as `conversa` does (desktop.ui.main.run)
            root = tk.Tk()
            root.geometry("1366x800+0+0")
            bridge = Bridge()
            view = View(root, TabContext(client=client, bridge=bridge, t=Strings("pt_BR")))
            view.pack(fill="both", expand=True)
            view.preset.set("90d")
            root.update()
            HeapSettler().settle(SERVER)  # as the window does once its server answers (desktop/ui/heap.py)
            idle = idle_stall(root)
            cold = measure(root, view, bridge)  # the first /metrics rebuilds every kept row
            waited = settle(server.proc.pid) if args.settle else 0.0
            runs = [measure(root, view, bridge) for _ in range(args.refreshes)]
            print(json.dumps({
                "conversations": args.conversations,
                "days": 90,
                "cold_first_refresh": cold,
                "server_settled_after_s": waited,
                "runs": runs,
                "refresh_s_median": statistics.median(r["refresh_s"] for r in runs),
                "longest_stall_ms_max": max(r["longest_stall_ms"] for r in runs),
                "idle_longest_gap_ms": idle,
            }))
            bridge.close()
            root.destroy()
        finally:
            server.stop()
            display.stop()


if __name__ == "__main__":
    main()
