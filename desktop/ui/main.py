"""`conversa` with a display: the window, the tray and (through app.py's host) the local server."""

from __future__ import annotations

import signal
import sys
from typing import Any

from desktop.config import Settings
from desktop.ui.single_instance import ask_running_to_show

# Tk's thread shares the GIL with the hosted server, the model's threads and the tray; it gives
# the GIL up around every Tcl call and may then wait a whole switch interval to get it back while
# another thread runs Python (tokenising, a model load). With Python's 5 ms default the loop
# stalled 66-83 ms during a model Test in tests/bench/bench_desktop.py, with 1 ms 22-32 ms.
GIL_SWITCH_INTERVAL_S = 0.001


def share_gil_with_tk() -> None:
    """Called once by the process that runs the window (and by the benchmark that imitates it)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def run(settings: Settings, host: Any = None, *, hidden: bool = False) -> int:
    """Until the user quits. ``host`` (app.LocalServer) starts and stops this PC's server; the
    window reads and writes only over HTTP. A second `conversa` on the same data folder brings
    the running window to the front and returns at once."""
    if ask_running_to_show(settings.data_path):
        print("Conversa is already running: its window was brought to the front.", file=sys.stderr)
        return 0
    import tkinter as tk

    from desktop.ui.window import Window

    share_gil_with_tk()

    root = tk.Tk(className="Conversa")
    window = Window(root, settings, host, hidden=hidden)
    # A log-out or `kill` quits like the menu does (the handler runs between Tk's after callbacks).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: window.bridge.post(lambda _v: window.quit()))
    try:
        window.start()
        root.mainloop()
    finally:
        window.quit()
        try:
            root.destroy()
        except tk.TclError:
            pass
        if host is not None:
            host.stop()  # the store closes, the port and the data folder are released
    return 0
