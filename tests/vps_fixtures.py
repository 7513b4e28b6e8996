"""The team server's session fixtures (see vps_support.py): ``installed`` runs the VPS installer
once, ``behind_caddy`` starts its server and Caddy once, whichever test modules ask for them.
A pytest plugin: a test module says ``pytest_plugins = ("vps_fixtures",)`` (imported as a plugin,
not by name, so its fixtures are defined once and pytest rewrites its asserts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest
from conftest import free_port
from vps_support import Https, install, service_env, wait_for


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("vps")
    port = free_port()
    r = install(prefix, port)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return {"prefix": prefix, "port": port, "out": r.stdout + r.stderr}


@pytest.fixture(scope="session")
def behind_caddy(installed, tmp_path_factory):
    """The installed server running, the installed Caddyfile in front of it. ``ca``: Caddy's
    internal root certificate (what an admin hands to the team's computers)."""
    prefix = installed["prefix"]
    caddy_dir = tmp_path_factory.mktemp("caddy")
    http_port, https_port = free_port(), free_port()
    # The installer's Caddyfile, with global options for loopback ports and a private storage.
    config = caddy_dir / "Caddyfile"
    config.write_text(
        f"{{\n\tadmin off\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tskip_install_trust\n"
        f"\tstorage file_system {{\n\t\troot {caddy_dir}/storage\n\t}}\n}}\n"
        + (prefix / "etc/caddy/Caddyfile").read_text()
    )
    server_log = open(caddy_dir / "server.log", "wb")
    server = subprocess.Popen(
        [str(prefix / "opt/conversa/venv/bin/conversa"), "serve"],
        env=service_env(prefix), cwd="/", stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    caddy_log = open(caddy_dir / "caddy.log", "wb")
    caddy = subprocess.Popen(
        ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
        env=dict(os.environ, XDG_CONFIG_HOME=str(caddy_dir), XDG_DATA_HOME=str(caddy_dir), HOME=str(caddy_dir)),
        stdout=caddy_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        ca = caddy_dir / "storage/pki/authorities/local/root.crt"
        wait_for(ca.exists, "Caddy's local CA")
        client = Https(https_port, ca)
        wait_for(lambda: client.request("GET", "/api/v1/health")[0] == 200, "the server behind Caddy", timeout=180)
        # The installed copy of the model prepares its label examples once (~30 s on idle cores).
        # Let it finish here, alone: left to run beside the next tests' models, both crawled
        # (llama.cpp's threads wait for each other) and unrelated tests took minutes.
        wait_for(
            lambda: json.loads(client.request("GET", "/api/v1/health")[2])["model"]["state"] == "ready",
            "the installed server's model",
            timeout=900,
        )
        yield {"client": client, "http_port": http_port, "https_port": https_port, "prefix": prefix, "ca": ca}
    finally:
        for p in (caddy, server):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        server_log.close()
        caddy_log.close()
