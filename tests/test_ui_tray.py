"""The tray under plain X11 (pystray's xorg backend draws no menu) with a real tray host (trayer)
under Xvfb and a server hosted in this process: a real click on the docked icon opens the tray's
menu as a Tk popup at the pointer (open window, server and model state, pause/resume, quit);
its open entry shows the hidden window, its pause entry pauses analysis on the server
(GET /analysis), its quit entry quits and the port is released. The open popup is written to
tests/artifacts/tray_menu_x11.png."""

from __future__ import annotations

import gc
import subprocess
import time
import tkinter as tk

from conftest import ADMIN_PASSWORD, PASSPHRASE, make_server, model_file  # noqa: F401 - fixture
from test_ui_first_run import port_free
from ui_support import display, pump, screenshot  # noqa: F401 - fixture


def xdotool(*args: str) -> str:
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, check=True, timeout=10).stdout


def tray_icon_window() -> str:
    """pystray's icon window, embedded in trayer (WM_CLASS conversaSystemTrayIcon)."""
    ids = subprocess.run(["xdotool", "search", "--classname", "conversaSystemTrayIcon"], capture_output=True,
                         text=True, timeout=10).stdout.split()
    return ids[0] if ids else ""


def click_at(x: int, y: int) -> None:
    xdotool("mousemove", "--sync", str(x), str(y))
    time.sleep(0.1)
    xdotool("click", "1")


def click_icon(wid: str) -> None:
    geo = dict(line.split("=", 1) for line in xdotool("getwindowgeometry", "--shell", wid).split())
    click_at(int(geo["X"]) + int(geo["WIDTH"]) // 2, int(geo["Y"]) + int(geo["HEIGHT"]) // 2)


def entries(menu: tk.Menu) -> list[tuple[str, str, str]]:
    """(type, label, state) per entry."""
    out = []
    for i in range(menu.index("end") + 1):
        kind = menu.type(i)
        if kind == "separator":
            out.append((kind, "", ""))
        else:
            out.append((kind, menu.entrycget(i, "label"), str(menu.entrycget(i, "state"))))
    return out


def click_entry(menu: tk.Menu, index: int) -> None:
    top = menu.yposition(index)
    bottom = menu.yposition(index + 1) if index < menu.index("end") else menu.winfo_height()
    click_at(menu.winfo_rootx() + 30, menu.winfo_rooty() + (top + bottom) // 2)


def test_x11_tray_click_opens_the_tk_menu(display, tmp_path, model_file, monkeypatch):  # noqa: F811
    from desktop.app import LocalServer
    from desktop.config import load
    from desktop.ui import pages
    from desktop.ui.tray import x11_tray_present
    from desktop.ui.window import Window

    if not x11_tray_present():  # another test of this session may have started one already
        display.start_tray_host()
    assert x11_tray_present()
    monkeypatch.setenv("CONVERSA_LANG", "pt_BR")
    monkeypatch.setenv("CONVERSA_PASSPHRASE", PASSPHRASE)
    srv = make_server(tmp_path, model_file)  # keys and the admin; the window hosts the server
    settings = load({"data_dir": str(srv.data_dir), "port": srv.port})
    host = LocalServer(settings)
    root = tk.Tk()
    w = Window(root, settings, host)
    try:
        w.start()
        pump(root, lambda: isinstance(w.page, pages.SignIn), timeout=120, bridge=w.bridge)
        w.sign_in("admin", ADMIN_PASSWORD, lambda why: None)
        pump(root, lambda: w.notebook is not None, timeout=60, bridge=w.bridge)
        pump(root, lambda: w.tray.ready.is_set(), timeout=30, bridge=w.bridge)
        assert w.tray.has_menu is False  # pystray's xorg backend: the case this covers
        pump(root, lambda: w.status_model.paused is False and "pronto" in w.tray_state.model,
             timeout=300, bridge=w.bridge)
        # The hosted model is ready: its start-up heap left the collector's reach (ui/heap.py).
        assert w.heap.frozen_for == {"server", w.status_model.model_id} and gc.get_freeze_count() > 100_000
        gc.unfreeze()  # the rest of this test session's process is not the window's
        w.root.withdraw()  # closed into the tray, as the close button does
        root.update()

        wid = tray_icon_window()
        assert wid, "the tray icon did not dock in trayer"
        click_icon(wid)
        pump(root, lambda: w.tray_menu is not None and w.tray_menu.winfo_ismapped(), bridge=w.bridge)
        menu = w.tray_menu
        rows = entries(menu)
        assert [r[0] for r in rows] == ["command", "command", "command", "separator", "command", "command"]
        assert rows[0] == ("command", "Abrir o Conversa", "normal")
        assert "Servidor" in rows[1][1] and rows[1][2] == "disabled"
        assert "pronto" in rows[2][1] and rows[2][2] == "disabled"
        assert rows[4] == ("command", "Pausar análise", "normal")
        assert rows[5] == ("command", "Sair", "normal")
        # At the pointer, next to the icon (Tk slides it left to keep it on the screen).
        px, py = root.winfo_pointerxy()
        assert menu.winfo_rootx() <= px <= menu.winfo_rootx() + menu.winfo_width()
        assert 0 <= menu.winfo_rooty() - py < 40
        root.update()
        screenshot("tray_menu_x11")

        # "Open Conversa" brings the hidden window back.
        click_entry(menu, 0)
        pump(root, lambda: root.state() == "normal" and root.winfo_ismapped(), bridge=w.bridge)
        w.close_window()  # back into the tray (there is one)
        pump(root, lambda: root.state() == "withdrawn", bridge=w.bridge)

        # Pause from the popup: the server says so.
        token = srv.login()["access_token"]
        click_icon(wid)
        pump(root, lambda: menu.winfo_ismapped(), bridge=w.bridge)
        click_entry(menu, 4)
        pump(root, lambda: srv.request("GET", "/api/v1/analysis", token=token).json() == {"paused": True},
             bridge=w.bridge)
        pump(root, lambda: w.tray_state.paused, bridge=w.bridge)
        assert not menu.winfo_ismapped()

        # Open again: it offers to resume now; then quit from it.
        click_icon(wid)
        pump(root, lambda: menu.winfo_ismapped(), bridge=w.bridge)
        assert entries(menu)[4][1] == "Retomar análise"
        click_entry(menu, 5)
        pump(root, lambda: w.closed, bridge=w.bridge)
    finally:
        w.quit()
        root.destroy()
        host.stop()  # what main.run does once the loop ends
    assert port_free(srv.port)
    assert not (srv.data_dir / "server.lock").exists()
