"""A real X display for Tk tests: Xvfb on a free display number, a tray host (trayer) for
pystray's X11 backend, and screenshots of the whole screen with ImageMagick's `import`.

Use: ``from ui_support import display`` (a session fixture) in a test module, then create Tk
windows as usual; ``screenshot(path)`` writes a PNG under tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


class Display:
    def __init__(self, size: str = "1366x800x24") -> None:
        self.size = size
        self.procs: list[subprocess.Popen] = []
        self.name = ""

    def start(self) -> Display:
        xvfb = shutil.which("Xvfb")
        assert xvfb, "Xvfb is missing: scripts/test.sh installs the xvfb package"
        n = _free_display()
        self.name = f":{n}"
        self.procs.append(subprocess.Popen([xvfb, self.name, "-screen", "0", self.size, "-nolisten", "tcp"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            assert time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        os.environ["DISPLAY"] = self.name
        return self

    def start_tray_host(self) -> None:
        """pystray's X11 backend needs a system tray (the _NET_SYSTEM_TRAY selection owner)."""
        trayer = shutil.which("trayer")
        assert trayer, "trayer is missing: scripts/test.sh installs it"
        self.procs.append(subprocess.Popen([trayer, "--edge", "top", "--align", "right", "--widthtype", "pixel",
                                            "--width", "120", "--height", "24"],
                                           env={**os.environ, "DISPLAY": self.name},
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()


def screenshot(name: str) -> Path:
    """The whole screen as tests/artifacts/NAME.png (look at it before calling a screen done)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (name if name.endswith(".png") else f"{name}.png")
    subprocess.run(["import", "-window", "root", str(path)], check=True, env=os.environ, timeout=30)
    return path


@pytest.fixture(scope="session")
def display(tmp_path_factory):
    # The window writes a weekly PDF report when it opens: never into the real Documents folder.
    os.environ["CONVERSA_REPORTS_DIR"] = str(tmp_path_factory.mktemp("reports"))
    d = Display().start()
    yield d
    d.stop()


def pump(root, until, timeout: float = 30.0, bridge=None) -> None:
    """Run Tk's loop (and drain a bridge's results, as the window's ``after`` does) until
    ``until()`` is true; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out waiting for the window"
        if bridge is not None:
            bridge.drain()
        root.update()
        time.sleep(0.02)
