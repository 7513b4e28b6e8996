"""The desktop window administering a team server, end to end under Xvfb: the server installed by
installer/vps/install-server.sh, behind the installed Caddyfile (Caddy's `tls internal` on
loopback ports, the public hostname), reached only over HTTPS.

A fresh PC's first run chooses "connect to a team server", types the address and an admin's
login; without the team's CA certificate the connection is refused with a message that says what
to do, with it the window signs in. Then the Conversations tab lists a conversation captured
through the proxy, and the Models tab changes the active model's context and temperature, which
the server then reports; the next start signs in again by itself. A screenshot of each step goes
under tests/artifacts/."""

from __future__ import annotations

import json
import socket
import tkinter as tk

import pytest
from conftest import ADMIN_PASSWORD, fixture_capture
from ui_shell_support import settings_for
from ui_support import display, pump, screenshot  # noqa: F401 - fixture
from vps_support import ADMIN, DOMAIN

pytest_plugins = ("vps_fixtures",)  # the session fixtures `installed` and `behind_caddy`


@pytest.fixture
def team_dns(behind_caddy, monkeypatch):
    """This process's stand-in for the team's DNS and router: DOMAIN resolves to this machine and
    its port 443 reaches Caddy's loopback HTTPS port. The window's requests still cross real
    sockets, TLS (SNI and certificate checked for DOMAIN) and Caddy."""
    real = socket.getaddrinfo
    https_port = behind_caddy["https_port"]

    def resolve(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.lower() == DOMAIN:
            return real("127.0.0.1", https_port if port in (443, "443", "https") else port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def shot(root: tk.Tk, name: str) -> None:
    root.update()
    screenshot(name)


def test_window_administers_the_team_server_behind_caddy(display, behind_caddy, team_dns, tmp_path,  # noqa: F811
                                                         monkeypatch):
    from desktop.app import LocalServer
    from desktop.ui import session_file
    from desktop.ui.tabs.first_run import FirstRun
    from desktop.ui.window import Window

    proxy = behind_caddy["client"]
    token = json.loads(proxy.login(ADMIN, ADMIN_PASSWORD)[2])["access_token"]
    status, _, body = proxy.request("POST", "/api/v1/captures", fixture_capture(), token=token)
    assert status in (200, 201, 202), body
    conversation = json.loads(body)["conversation_id"]
    listed = json.loads(proxy.request("GET", "/api/v1/conversations", token=token)[2])["items"]
    title = next(c for c in listed if c["id"] == conversation)["title"]
    before = json.loads(proxy.request("GET", "/api/v1/models", token=token)[2])["active"]
    new_ctx = 4096 if before["n_ctx"] != 4096 else 3072
    new_temperature = 0.4 if before["temperature"] != 0.4 else 0.5

    monkeypatch.setenv("CONVERSA_LANG", "pt_BR")
    monkeypatch.delenv("CONVERSA_PASSPHRASE", raising=False)
    data = tmp_path / "pc"  # a PC where Conversa was just installed: nothing in its data folder
    settings = settings_for(data)
    host = LocalServer(settings)
    root = tk.Tk()
    w = Window(root, settings, host)
    try:
        w.start()
        pump(root, lambda: isinstance(w.page, FirstRun), bridge=w.bridge)
        fr: FirstRun = w.page
        shot(root, "remote_1_choice")

        # (a) first run: connect to a team server, as a user types it.
        fr.remote_button.invoke()
        assert fr.step_name == "remote"
        fr.remote_url.insert(0, DOMAIN)
        fr.remote_user.insert(0, ADMIN)
        fr.remote_password.insert(0, ADMIN_PASSWORD)
        fr.remote_button.invoke()
        # Caddy's internal CA is not one this PC trusts: refused, and the page says what to give.
        pump(root, lambda: "não confia" in fr.remote_error.cget("text"), timeout=60, bridge=w.bridge)
        assert "unable to get local issuer certificate" in fr.remote_error.cget("text")  # OpenSSL's reason
        assert w.notebook is None and "server_url" not in session_file.load(data)
        shot(root, "remote_2_untrusted")

        fr.remote_ca.insert(0, str(tmp_path / "missing.crt"))
        fr.remote_button.invoke()
        assert "missing.crt" in fr.remote_error.cget("text")  # a file that is not there: said at once
        shot(root, "remote_3_ca_missing")
        fr.remote_ca.delete(0, "end")
        fr.remote_ca.insert(0, str(behind_caddy["ca"]))  # root.crt, as the admin hands it out
        fr.remote_button.invoke()
        pump(root, lambda: w.notebook is not None, timeout=120, bridge=w.bridge)
        assert w.client.base_url == f"https://{DOMAIN}/api/v1"
        assert w.client.user["username"] == ADMIN and w.client.is_admin
        saved = session_file.load(data)
        assert saved["server_url"] == f"https://{DOMAIN}/api/v1" and saved["server_ca"] == str(behind_caddy["ca"])
        assert not host.running  # this PC hosts nothing
        pump(root, lambda: "no ar" in w.status_server.cget("text"), timeout=60, bridge=w.bridge)
        dash = w.views["dashboard"]  # the first tab, read from the team server
        pump(root, lambda: not dash.busy and "Carregando" not in dash.message.cget("text"), timeout=120,
             bridge=w.bridge)
        assert "Não foi possível" not in dash.message.cget("text"), dash.message.cget("text")
        shot(root, "remote_4_signed_in")

        # (b) the conversation captured through the proxy, in the Conversations tab.
        w.navigate("conversations")
        conv = w.views["conversations"]
        pump(root, lambda: conv.table.exists(conversation), timeout=60, bridge=w.bridge)
        assert conv.table.item(conversation, "values")[0] == title
        conv.table.selection_set(conversation)
        pump(root, lambda: conv.current is not None and conv.current["id"] == conversation, timeout=60,
             bridge=w.bridge)
        shot(root, "remote_5_conversations")

        # (c) the active model's settings changed from the Models tab, seen on the server.
        w.navigate("models")
        models = w.views["models"]
        pump(root, lambda: models.tree.exists(before["id"]) and models.fields["n_ctx"].get() != "",
             timeout=60, bridge=w.bridge)
        assert models.fields["n_ctx"].get() == str(before["n_ctx"])
        models.tree.selection_set(before["id"])
        root.update()
        for name, value in (("n_ctx", new_ctx), ("temperature", str(new_temperature).replace(".", ","))):
            models.fields[name].delete(0, "end")
            models.fields[name].insert(0, str(value))
        models.activate_button.invoke()
        pump(root, lambda: "está ativo" in models.message.cget("text") or "ativar" in models.message.cget("text"),
             timeout=600, bridge=w.bridge)
        assert models.message.cget("text") == f"{before['id']} está ativo."
        active = json.loads(proxy.request("GET", "/api/v1/models", token=token)[2])["active"]
        assert (active["id"], active["n_ctx"], active["temperature"]) == (before["id"], new_ctx, new_temperature), \
            models.message.cget("text")
        assert active["state"] == "ready"
        pump(root, lambda: models.active_text.cget("text") != "" and models.fields["n_ctx"].get() == str(new_ctx),
             timeout=30, bridge=w.bridge)
        shot(root, "remote_6_models_changed")
    finally:
        w.quit()
        root.destroy()
        host.stop()

    # The next start remembers the server and its CA: signed in again without a password.
    host = LocalServer(settings)
    root = tk.Tk()
    w = Window(root, settings, host)
    try:
        w.start()
        pump(root, lambda: w.notebook is not None, timeout=60, bridge=w.bridge)
        assert w.client.base_url == f"https://{DOMAIN}/api/v1" and w.client.ca_file == str(behind_caddy["ca"])
        assert w.client.user["username"] == ADMIN and not host.running
    finally:
        w.quit()
        root.destroy()
        host.stop()
