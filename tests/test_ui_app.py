"""`conversa` as a process under Xvfb with a tray host: the tray icon docks, the window starts
hidden with --tray, a second `conversa` on the same data folder brings it to the front and exits
at once, quitting (SIGTERM, like a log-out) stops the hosted server with the port released and
nothing lost; without a display it serves headless."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import ADMIN_PASSWORD, PASSPHRASE, fixture_capture, make_server, model_file  # noqa: F401
from test_ui_first_run import port_free
from ui_support import display, screenshot  # noqa: F401 - fixture


def visible_windows(name: str) -> list[str]:
    """Mapped windows with that title and a window's size (the tray icon is named Conversa too)."""
    r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], capture_output=True, text=True,
                       env=os.environ)
    out = []
    for wid in r.stdout.split():
        geo = subprocess.run(["xdotool", "getwindowgeometry", wid], capture_output=True, text=True,
                             env=os.environ).stdout
        size = geo.split("Geometry:")[-1].strip().split("x")
        if len(size) == 2 and size[0].isdigit() and int(size[0]) >= 400:
            out.append(wid)
    return out


def app_env(data_dir, port: int, **extra: str) -> dict:
    return dict(os.environ, CONVERSA_DATA_DIR=str(data_dir), CONVERSA_PASSPHRASE=PASSPHRASE,
                CONVERSA_PORT=str(port), CONVERSA_LANG="pt_BR", **extra)


def wait(until, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.1)


def test_tray_second_instance_and_quit(display, tmp_path, model_file):  # noqa: F811
    display.start_tray_host()
    srv = make_server(tmp_path, model_file)  # data folder with keys and the admin; not started
    env = app_env(srv.data_dir, srv.port)
    log = open(tmp_path / "app.out", "wb")
    app = subprocess.Popen([sys.executable, "-m", "desktop", "--tray"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def ready() -> bool:
            assert app.poll() is None, (tmp_path / "app.out").read_text()
            try:
                return srv.request("GET", "/api/v1/health", timeout=2).status == 200
            except OSError:
                return False

        wait(ready, 120, "the hosted server")
        applog = srv.data_dir / "logs" / "conversa.log"
        wait(lambda: "tray icon shown" in applog.read_text(errors="replace"), 30, "the tray icon")
        assert visible_windows("^Conversa$") == []  # --tray: the window starts hidden

        token = srv.login()["access_token"]
        r = srv.request("POST", "/api/v1/captures", fixture_capture(), token=token)
        assert r.status == 202
        conv_id = r.json()["conversation_id"]

        t0 = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "desktop"], env=env, capture_output=True, text=True,
                                timeout=60)
        took = time.monotonic() - t0
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        assert took < 30, took
        wait(lambda: visible_windows("^Conversa$") != [], 10, "the window brought to the front")
        screenshot("app_raised_by_second_instance")
        assert srv.request("GET", "/api/v1/health").status == 200  # the first one still serves

        app.send_signal(signal.SIGTERM)
        assert app.wait(60) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        log.close()
    assert port_free(srv.port)
    assert not (srv.data_dir / "server.lock").exists()
    assert not (srv.data_dir / "window.json").exists()
    # Nothing lost: a server started on the same folder has the capture.
    srv.start(wait_model=False)
    try:
        token = srv.login()["access_token"]
        r = srv.request("GET", f"/api/v1/conversations/{conv_id}", token=token)
        assert r.status == 200 and len(r.json()["messages"]) == len(fixture_capture()["messages"])
    finally:
        srv.stop()


def test_without_a_display_it_serves_headless(tmp_path, model_file):  # noqa: F811
    srv = make_server(tmp_path, model_file)
    env = app_env(srv.data_dir, srv.port)
    env.pop("DISPLAY", None)
    app = subprocess.Popen([sys.executable, "-m", "desktop"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def up() -> bool:
            assert app.poll() is None
            try:
                return srv.request("GET", "/api/v1/health", timeout=2).status == 200
            except OSError:
                return False

        wait(up, 120, "the headless server")
        assert srv.login(password=ADMIN_PASSWORD)["user"]["role"] == "admin"
        app.send_signal(signal.SIGTERM)
        out = app.communicate(timeout=60)[0].decode()
        assert "No display found" in out
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
