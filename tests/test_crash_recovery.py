"""kill -9 during a burst of concurrent captures: every capture answered 202 survives."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

from conftest import make_server


def _capture(worker: int, n: int) -> dict:
    chat = f"55119{worker:02d}{n:05d}@c.us"
    return {
        "chat": {"id": chat, "title": f"Cliente {worker}-{n}", "is_group": False, "phone": None},
        "messages": [
            {
                "id": f"false_{chat}_MSG{worker}x{n}x{i}",
                "direction": "in" if i % 2 == 0 else "out",
                "author": None,
                "timestamp": f"2026-03-10T09:{i:02d}:00",
                "text": f"mensagem {i}",
                "kind": "text",
            }
            for i in range(5)
        ],
    }


def test_kill9_during_burst_keeps_every_acknowledged_capture(tmp_path, model_file):
    server = make_server(tmp_path, model_file)
    server.start()
    token = server.login()["access_token"]
    acked: list[dict] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(w: int) -> None:
        n = 0
        while not stop.is_set():
            cap = _capture(w, n)
            try:
                r = server.request("POST", "/api/v1/captures", cap, token=token, timeout=5)
            except OSError:
                return
            if r.status == 202:
                with lock:
                    acked.append(cap)
            n += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) > 20, "the burst did not get going"

    db = sqlite3.connect(server.data_dir / "conversa.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

    server.start()
    token = server.login()["access_token"]
    titles: dict[str, int] = {}
    cursor = None
    while True:
        path = "/api/v1/conversations?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = server.request("GET", path, token=token).json()
        titles.update({c["title"]: c["message_count"] for c in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            break
    missing = [c["chat"]["title"] for c in acked if titles.get(c["chat"]["title"]) != 5]
    assert not missing, f"{len(missing)} acknowledged captures lost, e.g. {missing[:3]}"
    server.stop()
