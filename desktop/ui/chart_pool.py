"""The window's side of the chart processes (desktop/ui/chart_process.py): started early and
reused, handed a dashboard's series, answering one PNG and its click regions per chart.

Two processes on a machine with two cores or more (the six charts are drawn about twice as fast,
each process taking the next chart as soon as it is free), one otherwise. `start()` only spawns
them (a few milliseconds); they warm up (import matplotlib, draw once) on their own meanwhile.
A process that dies is replaced and its charts asked again once; one that does not answer within
``timeout`` is killed and replaced, and the refresh fails with a message instead of hanging. A
process ends when the window quits (`stop`), at the interpreter's exit, or by itself when the
window's process is gone (its stdin closes), so none is left behind.
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from desktop.ui.chart_process import read_frame, write_frame
from desktop.ui.chart_regions import ChartImage

log = logging.getLogger(__name__)

# The slowest first, so the last chart to finish is a quick one (sizes measured with 100,000 conversations).
ORDER = ("sentiment", "sla", "daily", "funnel", "efficiency", "intents")


class ChartsUnavailable(RuntimeError):
    """The charts could not be drawn: ``message`` says why (shown on the dashboard)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def chart_series(dashboard):
    """The dashboard without its tables: what the charts draw, and no contact's name or notes
    copied into another process."""
    return dataclasses.replace(dashboard, top_contacts=[], at_risk=[], attendants=[], kpis={})


class _Child:
    """One chart process and the thread that hands its replies to the pool's queue."""

    def __init__(self, replies: queue.SimpleQueue) -> None:
        # This install's `desktop` package first on the path, whatever the working folder holds
        # (-I: no current folder, no PYTHON* variables, no user site).
        package_root = str(Path(__file__).resolve().parents[2])
        code = (f"import sys; sys.path.insert(0, {package_root!r}); "
                "from desktop.ui.chart_process import main; sys.exit(main())")
        flags = subprocess.CREATE_NO_WINDOW if sys.platform == "win32" else 0
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(os.environ, MPLBACKEND="Agg"),
            creationflags=flags,
        )
        self.pid = self.proc.pid
        self.ready = threading.Event()
        self._replies = replies
        threading.Thread(target=self._read, name=f"conversa-charts-{self.pid}", daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                message = read_frame(self.proc.stdout)
                if message[0] == "ready":
                    self.ready.set()
                else:
                    self._replies.put((self, message))
        except Exception:  # noqa: BLE001 - EOF, a broken pipe, a torn frame: the process is gone
            self._replies.put((self, ("died",)))

    def send(self, message) -> bool:
        try:
            write_frame(self.proc.stdin, message)
            return True
        except (OSError, ValueError):  # broken pipe, or stdin already closed
            return False

    def stop(self, wait: float = 2.0) -> None:
        try:
            self.proc.stdin.close()  # the process ends at EOF, after the chart it is drawing
        except OSError:
            pass
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class ChartPool:
    def __init__(self, processes: int | None = None, timeout: float = 60.0) -> None:
        self.size = processes or (2 if (os.cpu_count() or 1) >= 2 else 1)
        self.timeout = timeout
        self.restarts = 0  # processes replaced after dying or hanging (the dashboard says so)
        self._children: list[_Child] = []
        self._replies: queue.SimpleQueue = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._lock = threading.RLock()  # one batch at a time; start/stop in between
        self._closed = False

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self._children]

    def start(self) -> ChartPool:
        """Spawn the processes that are not running (returns at once; they warm up by themselves)."""
        with self._lock:
            self._closed = False
            for child in list(self._children):
                if child.proc.poll() is not None:
                    self._replace(child, why=f"exit code {child.proc.returncode}")
            while len(self._children) < self.size:
                self._children.append(_Child(self._replies))
        return self

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Until every process has warmed up (tests, benchmarks); False after ``timeout``."""
        deadline = time.monotonic() + timeout
        return all(c.ready.wait(max(0.0, deadline - time.monotonic())) for c in list(self._children))

    def stop(self) -> None:
        """End the processes (the window quits); `start` brings them back. Does not wait for a
        batch under way: that one fails at once (the wake-up below) instead of holding the quit."""
        self._closed = True
        children, self._children = self._children, []
        self._replies.put((None, ("stopped",)))
        for child in children:
            child.stop()

    def _replace(self, child: _Child, why: str) -> _Child:
        if self._closed or child not in self._children:
            raise ChartsUnavailable("the chart processes were stopped")
        self.restarts += 1
        log.warning("chart process %s stopped (%s); starting a new one", child.pid, why)
        if child.proc.poll() is None:
            child.proc.kill()
        child.stop(wait=5)
        new = _Child(self._replies)
        self._children[self._children.index(child)] = new
        return new

    def render(
        self, dashboard, lang: str, sizes: dict[str, tuple[int, int]], dpi: float = 100
    ) -> dict[str, ChartImage]:
        """The charts named in ``sizes`` (key -> width, height in pixels), drawn from
        ``dashboard``'s series in the chart processes at ``dpi``. Blocks (off the Tk thread) until
        all are back; raises ChartsUnavailable when they cannot be drawn."""
        series = chart_series(dashboard)
        with self._lock:
            if self._closed:
                raise ChartsUnavailable("the chart processes were stopped")
            self.start()
            todo = [k for k in ORDER if k in sizes] + [k for k in sizes if k not in ORDER]
            tries = dict.fromkeys(todo, 0)
            idle = list(self._children)
            pending: dict[int, tuple[str, _Child]] = {}
            out: dict[str, ChartImage] = {}
            deadline = time.monotonic() + self.timeout

            def lost(child: _Child, why: str) -> None:
                new = self._replace(child, why)
                for request, (key, c) in list(pending.items()):
                    if c is child:
                        del pending[request]
                        if tries[key] >= 2:
                            raise ChartsUnavailable(f"the chart process stopped twice while drawing {key}")
                        todo.insert(0, key)
                if child in idle:
                    idle.remove(child)
                idle.append(new)

            while todo or pending:
                while todo and idle:
                    child, key = idle.pop(0), todo.pop(0)
                    request = next(self._ids)
                    tries[key] += 1
                    pending[request] = (key, child)
                    width, height = sizes[key]
                    if not child.send(("draw", request, key, series, lang, int(width), int(height), dpi)):
                        lost(child, "its input pipe is closed")
                left = deadline - time.monotonic()
                try:
                    child, message = self._replies.get(timeout=max(0.0, left))
                except queue.Empty:
                    for _, c in set(pending.values()):
                        self._replace(c, why=f"no answer in {self.timeout:g} s")
                    raise ChartsUnavailable(f"the charts were not drawn in {self.timeout:g} s") from None
                if self._closed:
                    raise ChartsUnavailable("the chart processes were stopped")
                if child not in self._children:
                    continue  # a reply of a process already replaced (or a stale wake-up)
                if message[0] == "died":
                    lost(child, f"exit code {child.proc.wait()}")
                    continue
                kind, request, body = message
                if request not in pending:
                    continue  # an answer to an abandoned batch
                key, _ = pending.pop(request)
                idle.append(child)
                if kind == "error":
                    raise ChartsUnavailable(f"the {key} chart could not be drawn: {body}")
                out[key] = body
            return out


_shared: ChartPool | None = None
_shared_lock = threading.Lock()


def shared() -> ChartPool:
    """The window's pool (one per process), created on first use; stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ChartPool()
            atexit.register(_shared.stop)
        return _shared


def stop_shared() -> None:
    """The window quits: its chart processes end now (not at the interpreter's exit)."""
    with _shared_lock:
        pool = _shared
    if pool is not None:
        pool.stop()
