"""A network bind needs TLS in front (trusted_proxies) or an explicit --insecure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import PASSPHRASE, free_port

from desktop.bind_policy import check_bind, is_loopback
from desktop.config import load
from desktop.errors import ConfigError


def test_loopback_names():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.0.10", "conversa.example.com"))


def test_check_bind_rules(tmp_path):
    env = {"CONVERSA_DATA_DIR": str(tmp_path)}
    check_bind(load(env=env))  # the default 127.0.0.1
    with pytest.raises(ConfigError, match="clear text.*--insecure"):
        check_bind(load({"host": "0.0.0.0"}, env=env))
    check_bind(load({"host": "0.0.0.0"}, env=env), insecure=True)
    check_bind(load({"host": "0.0.0.0"}, env=dict(env, CONVERSA_TRUSTED_PROXIES="10.0.0.2")))


def _serve(data, port, *extra, env=None):
    e = dict(os.environ, CONVERSA_DATA_DIR=str(data), CONVERSA_PASSPHRASE=PASSPHRASE, **(env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", "serve", "--no-model", "--host", "0.0.0.0", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=e,
        start_new_session=True,
    )


def _health(port: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/health", headers={"Host": f"127.0.0.1:{port}"}
            )
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not answer")


def test_serve_refuses_a_network_bind_without_tls_in_front(tmp_path):
    port = free_port()
    p = _serve(tmp_path / "data", port)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 1
    assert "refusing to listen on 0.0.0.0" in out and "clear text" in out and "--insecure" in out
    assert not (tmp_path / "data").exists()  # refused before anything was created


@pytest.mark.parametrize("how", ["insecure", "trusted_proxies"])
def test_serve_binds_the_network_when_allowed(tmp_path, how):
    port = free_port()
    if how == "insecure":
        p = _serve(tmp_path / "data", port, "--insecure")
    else:
        p = _serve(tmp_path / "data", port, env={"CONVERSA_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        assert _health(port) == 200
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(30)
