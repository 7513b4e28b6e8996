"""Desktop window benchmarks (prints figures; targets from issue 12):

1. The longest Tk event-loop stall, measured with an ``after`` heartbeat every 10 ms, while the
   Models tab downloads a GGUF (from a local http server the catalogue points at, throttled so
   the download lasts a few seconds), switches the model (a reload with another n_ctx) and runs a
   Test — with the server hosted in the same process, as `conversa` does. Target ≤ 50 ms.
2. `conversa` (a new process) to window shown and server ready (health answers). Target ≤ 2 s;
   the model may still be loading.

Run: python tests/bench/bench_desktop.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tkinter as tk
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's desktop package
from conftest import ADMIN_PASSWORD, PASSPHRASE, _models_cache, cli, free_port  # noqa: E402
from ui_shell_support import FileServer  # noqa: E402
from ui_support import Display  # noqa: E402

from llm import catalog  # noqa: E402


def _catalogue(dest: Path, model_file: Path, url: str) -> Path:
    default_id, entries = catalog.load_catalog()
    base = next(e for e in entries if e.id == default_id)
    raw = json.loads(catalog.CATALOG.read_text("utf-8"))
    smol = next(m for m in raw["models"] if m["id"] == default_id)
    bench = {"id": "Bench-Download.Q4_1", "file": "Bench-Download.Q4_1.gguf", "name": "Bench download",
             "licence": base.licence, "size": model_file.stat().st_size, "sha256": base.sha256,
             "source": {"kind": "url", "url": url}}
    dest.write_text(json.dumps({"default": default_id, "models": [smol, bench]}), "utf-8")
    return dest


def _prepared_data(tmp: Path, model_file: Path) -> Path:
    data = tmp / "data"
    (data / "models").mkdir(parents=True)
    os.symlink(model_file, data / "models" / model_file.name)
    r = cli(data, "users", "add", "admin", "--role", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    return data


class Heartbeat:
    """Every 10 ms on the Tk loop; a gap beyond that is a stall."""

    def __init__(self, root: tk.Tk, every_ms: int = 10) -> None:
        self.root, self.every = root, every_ms
        self.gaps: list[float] = []
        self.last = time.perf_counter()
        root.after(every_ms, self.beat)

    def beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000 - self.every)
        self.last = now
        self.root.after(self.every, self.beat)

    def take(self) -> list[float]:
        out, self.gaps = self.gaps, []
        return out


def _loop(root: tk.Tk, until, timeout: float) -> None:
    # Only Tk's own loop runs here (the window's after(50) drains the bridge), like mainloop.
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        root.update()
        time.sleep(0.002)


def _summary(name: str, gaps: list[float]) -> None:
    gaps = sorted(max(0.0, g) for g in gaps)
    p99 = gaps[int(len(gaps) * 0.99) - 1] if len(gaps) > 100 else gaps[-1]
    print(f"  {name:<22} beats {len(gaps):>6}  longest stall {gaps[-1]:7.1f} ms  p99 {p99:6.1f} ms")


def bench_stall(model_file: Path) -> None:
    from desktop.app import LocalServer
    from desktop.config import load
    from desktop.ui.main import share_gil_with_tk
    from desktop.ui.window import Window

    share_gil_with_tk()  # as `conversa` does (desktop.ui.main.run)

    with tempfile.TemporaryDirectory(prefix="bench-desktop-") as tmp_name:
        tmp = Path(tmp_name)
        www = tmp / "www"
        www.mkdir()
        shutil.copy(model_file, www / "model.gguf")
        files = FileServer(www, rate=25e6)
        os.environ["CONVERSA_CATALOG"] = str(_catalogue(tmp / "catalog.json", model_file, files.url("model.gguf")))
        os.environ["CONVERSA_PASSPHRASE"] = PASSPHRASE
        data = _prepared_data(tmp, model_file)
        settings = load({"data_dir": str(data), "port": free_port()})
        host = LocalServer(settings)
        root = tk.Tk()
        w = Window(root, settings, host)
        try:
            w.start()
            _loop(root, lambda: w.page is not None and w.page.__class__.__name__ == "SignIn", 120)
            w.sign_in("admin", ADMIN_PASSWORD, lambda why: print("sign-in failed:", why))
            _loop(root, lambda: w.notebook is not None, 60)
            w.navigate("models")
            m = w.views["models"]
            _loop(root, lambda: m.tree.exists("Bench-Download.Q4_1"), 60)
            _loop(root, lambda: "pronto" in m.active_text.cget("text") or "ready" in m.active_text.cget("text"), 300)
            hb = Heartbeat(root)
            print("Tk event-loop stalls (heartbeat every 10 ms; server hosted in this process):")

            t0 = time.monotonic()
            m.tree.selection_set("Bench-Download.Q4_1")
            root.update()
            m.download()
            _loop(root, lambda: m.job.job is not None and m.job.job.get("state") in ("done", "failed"), 600)
            assert m.job.job["state"] == "done", m.job.job
            _summary(f"download ({time.monotonic() - t0:.1f} s)", hb.take())

            t0 = time.monotonic()
            active = next(i["id"] for i in m.data["items"] if i.get("active"))
            m.tree.selection_set(active)
            root.update()
            m.fields["n_ctx"].delete(0, "end")
            m.fields["n_ctx"].insert(0, "1024")
            m.activate()
            _loop(root, lambda: "ativo" in m.message.cget("text") or "active" in m.message.cget("text")
                  or "Não foi" in m.message.cget("text"), 900)
            _summary(f"switch ({time.monotonic() - t0:.1f} s)", hb.take())
            print("   ", m.message.cget("text"))

            t0 = time.monotonic()
            m.refresh()
            _loop(root, lambda: not m.test_button.instate(["disabled"]), 60)
            m.test()
            _loop(root, lambda: "tokens/s" in m.test_result.cget("text") or (
                m.job.job and m.job.job.get("state") == "failed"), 900)
            _summary(f"test ({time.monotonic() - t0:.1f} s)", hb.take())
            print("   ", m.test_result.cget("text"))
        finally:
            w.quit()
            root.destroy()
            host.stop()
            files.close()


def bench_start(model_file: Path, runs: int) -> None:
    print("`conversa` to window shown / server ready (fresh process, data folder set up, model cached):")
    shown, ready = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp_name:
            data = _prepared_data(Path(tmp_name), model_file)
            port = free_port()
            env = dict(os.environ, CONVERSA_DATA_DIR=str(data), CONVERSA_PASSPHRASE=PASSPHRASE,
                       CONVERSA_PORT=str(port))
            env.pop("CONVERSA_CATALOG", None)
            t0 = time.monotonic()
            app = subprocess.Popen([sys.executable, "-m", "desktop"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            t_shown = t_ready = None
            try:
                import http.client

                while (t_shown is None or t_ready is None) and time.monotonic() - t0 < 60:
                    if t_shown is None:
                        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Conversa$"],
                                           capture_output=True, text=True)
                        if r.stdout.strip():
                            t_shown = time.monotonic() - t0
                    if t_ready is None:
                        try:
                            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                            c.request("GET", "/api/v1/health", headers={"Host": f"127.0.0.1:{port}"})
                            if c.getresponse().status == 200:
                                t_ready = time.monotonic() - t0
                            c.close()
                        except OSError:
                            pass
                    time.sleep(0.02)
            finally:
                app.terminate()
                app.wait(60)
            shown.append(t_shown or float("nan"))
            ready.append(t_ready or float("nan"))
            print(f"  run: window shown {shown[-1]:.2f} s, server ready {ready[-1]:.2f} s")
    print(f"  median: window shown {statistics.median(shown):.2f} s, server ready {statistics.median(ready):.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-stall", action="store_true")
    args = ap.parse_args()
    model_file, _ = catalog.pull("default", _models_cache())
    d = Display().start()
    try:
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        bench_start(model_file, args.runs)
        if not args.skip_stall:
            bench_stall(model_file)
    finally:
        d.stop()


if __name__ == "__main__":
    main()
