"""A team server as the VPS installer leaves it, for tests: installer/vps/install-server.sh run
for real with --prefix, its `conversa serve`, and the installed Caddyfile in front of it (Caddy's
`tls internal`, loopback ports, the public hostname DOMAIN). The helpers; the fixtures that use
them are in vps_fixtures.py."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import subprocess
import time
from pathlib import Path

from conftest import ADMIN_PASSWORD, ROOT

SCRIPT = ROOT / "installer" / "vps" / "install-server.sh"
DOMAIN = "conversa.test"
ADMIN = "boss"


def install(prefix: Path, port: int, *extra: str, password: str = ADMIN_PASSWORD) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), "--prefix", str(prefix), "--no-systemd", "--domain", DOMAIN, "--admin", ADMIN,
         "--port", str(port), "--tls-internal", *extra],
        input=password + "\n", capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


def service_env(prefix: Path) -> dict[str, str]:
    """The environment the systemd unit gives the service (the installer's env file)."""
    pairs = (prefix / "etc/conversa/conversa.env").read_text().splitlines()
    return dict(os.environ, HOME=str(prefix / "var/lib/conversa"), **dict(p.split("=", 1) for p in pairs))


def conversa(prefix: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    exe = prefix / "opt/conversa/venv/bin/conversa"  # the installed package, not this checkout
    return subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, env=service_env(prefix), cwd="/",
        timeout=300,
    )  # fmt: skip


class Https:
    """HTTPS to Caddy on a loopback port as a browser on the internet would: SNI and Host are the
    public hostname; `source` picks the client's address (127.0.0.x) so clients can differ."""

    def __init__(self, port: int, ca: Path):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=str(ca))

    def request(self, method, path, body=None, *, token=None, host=DOMAIN, source="127.0.0.2", headers=None):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=60, source_address=(source, 0))
        conn = http.client.HTTPSConnection(DOMAIN, self.port, timeout=120)
        conn.sock = self.ctx.wrap_socket(raw, server_hostname=DOMAIN)
        h = {"Host": host, **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        conn.close()
        return out

    def login(self, username, password, **kw):
        return self.request("POST", "/api/v1/auth/login", {"username": username, "password": password}, **kw)


def wait_for(check, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up")
