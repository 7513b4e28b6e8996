"""installer/vps/install-server.sh, run for real with --prefix: the files it writes, the units
systemd accepts, the Caddyfile Caddy accepts, and the installed server behind the installed
Caddy (tls internal, loopback ports) serving the team over HTTPS with the public hostname."""

from __future__ import annotations

import http.client
import json
import os
import re
import stat
import subprocess

from conftest import ADMIN_PASSWORD, fixture_capture
from vps_support import DOMAIN, SCRIPT, conversa, install

pytest_plugins = ("vps_fixtures",)  # the session fixtures `installed` and `behind_caddy`

EXTENSION_ORIGIN = "chrome-extension://oehpgcfibfbepophcjgonemoamflplib"
UNITS = ("conversa.service", "conversa-backup.service", "conversa-backup.timer")
ADDRESS_LIMIT = 50  # failed sign-ins per client address in 5 minutes (desktop/auth.py)


def test_files_the_installer_writes(installed):
    prefix = installed["prefix"]
    venv = prefix / "opt/conversa/venv"
    data = prefix / "var/lib/conversa"
    assert os.access(venv / "bin/conversa", os.X_OK)
    env_file = prefix / "etc/conversa/conversa.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert env["CONVERSA_DATA_DIR"] == str(data) and len(env["CONVERSA_PASSPHRASE"]) >= 40
    assert env["CONVERSA_PASSPHRASE"] not in installed["out"]  # never printed
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert "RECOVERY KEY" in installed["out"]  # shown once, at key creation
    settings = conversa(prefix, "settings").stdout
    assert f"public_hostname = '{DOMAIN}'" in settings and "trusted_proxies = '127.0.0.1,::1'" in settings
    assert "host = '127.0.0.1'" in settings and f"port = {installed['port']}" in settings
    assert (data / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf").is_file()
    assert re.search(r"\sboss\s+admin\s+active$", conversa(prefix, "users", "list").stdout, re.M)
    # A server installs without the desktop extra.
    for dist in ("matplotlib", "pystray", "pillow", "sv-ttk"):
        r = subprocess.run([str(venv / "bin/python"), "-m", "pip", "show", dist], capture_output=True, text=True)
        assert r.returncode != 0, f"{dist} is installed on the server"
    # The installed wheel carries the extension: no checkout, no Node needed.
    r = conversa(prefix, "extension", "install", str(prefix / "ext"))
    assert r.returncode == 0, r.stderr
    site = next(venv.glob("lib/python3*/site-packages"))
    assert (site / "desktop/extension_build/chromium/manifest.json").is_file()
    assert (prefix / "ext/manifest.json").read_bytes() == (
        site / "desktop/extension_build/chromium/manifest.json"
    ).read_bytes()


def test_systemd_accepts_the_units(installed):
    units_dir = installed["prefix"] / "etc/systemd/system"
    unit = (units_dir / "conversa.service").read_text()
    for line in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        f"ReadWritePaths={installed['prefix']}/var/lib/conversa",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "Restart=on-failure",
        f"EnvironmentFile={installed['prefix']}/etc/conversa/conversa.env",
    ):
        assert line in unit.splitlines(), line
    backup = (units_dir / "conversa-backup.service").read_text()
    assert f"backup --rotate {installed['prefix']}/var/lib/conversa/backups" in backup
    r = subprocess.run(
        ["systemd-analyze", "verify", *(str(units_dir / u) for u in UNITS)], capture_output=True, text=True
    )
    # verify exits 0 on some bad settings ("…, ignoring"): any output at all is a failure here.
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr
    r = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(units_dir / "conversa.service")],
        capture_output=True,
        text=True,
    )
    level = float(re.search(r"Overall exposure level for conversa.service: ([\d.]+)", r.stdout).group(1))
    print(f"systemd-analyze security: exposure {level}")
    assert level < 5.0  # "OK" band; without the hardening block the unit scores 9.6 (UNSAFE)


def test_caddy_accepts_the_caddyfile(installed):
    caddyfile = installed["prefix"] / "etc/caddy/Caddyfile"
    text = caddyfile.read_text()
    assert f"{DOMAIN} {{" in text and f"reverse_proxy 127.0.0.1:{installed['port']}" in text
    r = subprocess.run(
        ["caddy", "validate", "--config", str(caddyfile), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=dict(os.environ, XDG_CONFIG_HOME=str(installed["prefix"]), XDG_DATA_HOME=str(installed["prefix"])),
    )
    assert r.returncode == 0 and "Valid configuration" in r.stdout + r.stderr, r.stderr[-2000:]
    assert subprocess.run(["caddy", "fmt", str(caddyfile)], capture_output=True, text=True).stdout == text


def test_refusals_before_anything_is_written(tmp_path):
    bad = subprocess.run(
        ["bash", str(SCRIPT), "--prefix", str(tmp_path / "b"), "--no-systemd", "--domain", "not a domain",
         "--admin", "boss"], input="pw-long-enough\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 1 and "not a domain name" in bad.stderr
    assert not (tmp_path / "b" / "opt").exists()
    bad = subprocess.run(
        ["bash", str(SCRIPT), "--prefix", str(tmp_path / "d"), "--no-systemd", "--domain", DOMAIN, "--admin", "boss"],
        input="short\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 1 and "at least 8 characters" in bad.stderr
    assert not (tmp_path / "d" / "opt").exists()  # refused before the long install
    bad = subprocess.run(["bash", str(SCRIPT), "--prefix", str(tmp_path / "c")], capture_output=True, text=True)
    assert bad.returncode == 1 and "--no-systemd" in bad.stderr


# ---- the installed server behind the installed Caddyfile (vps_support.behind_caddy) ---------------
def test_login_and_capture_over_https_with_the_public_hostname(behind_caddy):
    c = behind_caddy["client"]
    status, headers, body = c.login("boss", ADMIN_PASSWORD, headers={"Origin": EXTENSION_ORIGIN})
    assert status == 200, body
    assert headers["access-control-allow-origin"] == EXTENSION_ORIGIN  # the extension's origin is allowed
    token = json.loads(body)["access_token"]
    status, _, body = c.request("POST", "/api/v1/captures", fixture_capture(), token=token)
    assert status in (200, 201, 202), body
    conversation = json.loads(body)["conversation_id"]
    status, _, body = c.request("GET", "/api/v1/conversations", token=token)
    assert status == 200 and conversation in body.decode()
    # Firefox gives each install its own origin: accepted for sign-in, and from then on.
    firefox = "moz-extension://6f1c0e52-5c1e-4d0b-9a57-2b1c6c1d2e3f"
    status, headers, body = c.login("boss", ADMIN_PASSWORD, headers={"Origin": firefox})
    assert status == 200 and headers["access-control-allow-origin"] == firefox, body
    # Another page's origin is refused even with the right password.
    status, _, body = c.login("boss", ADMIN_PASSWORD, headers={"Origin": "https://evil.example"})
    assert status == 403 and b"origin_not_allowed" in body


def test_attendant_signs_in_through_the_proxy_and_sees_only_their_chats(behind_caddy):
    c, prefix = behind_caddy["client"], behind_caddy["prefix"]
    r = conversa(prefix, "users", "add", "ana", "--role", "attendant", "--password-stdin", stdin="ana-password-1\n")
    assert r.returncode == 0, r.stderr
    status, _, body = c.login("ana", "ana-password-1", headers={"Origin": EXTENSION_ORIGIN})
    assert status == 200, body
    ana = json.loads(body)["access_token"]
    status, _, body = c.request("POST", "/api/v1/captures", fixture_capture("chat_enus_1to1_lid"), token=ana)
    assert status in (200, 201, 202), body
    own = json.loads(body)["conversation_id"]
    boss = json.loads(c.login("boss", ADMIN_PASSWORD)[2])["access_token"]
    everything = json.loads(c.request("GET", "/api/v1/conversations", token=boss)[2])
    mine = json.loads(c.request("GET", "/api/v1/conversations", token=ana)[2])
    ids = lambda page: {item["id"] for item in page["items"]}  # noqa: E731
    assert ids(mine) == {own} and own in ids(everything) and len(ids(everything)) >= 2


def test_other_hosts_plain_http_and_setup_are_refused(behind_caddy):
    c = behind_caddy["client"]
    status, _, body = c.request("GET", "/api/v1/health", host="evil.example")
    assert status == 421 and body == b"unknown host", body  # Caddy's catch-all: never the app's answer
    # Past Caddy, the server checks Host itself (DNS rebinding): a port it does not serve is refused.
    status, _, body = c.request("GET", "/api/v1/health", host=f"{DOMAIN}:8443")
    assert status == 403 and b"host_not_allowed" in body
    conn = http.client.HTTPConnection("127.0.0.1", behind_caddy["http_port"], timeout=30)
    conn.request("GET", "/api/v1/health", headers={"Host": DOMAIN})
    resp = conn.getresponse()
    assert resp.status in (301, 308) and resp.getheader("Location").startswith(f"https://{DOMAIN}")
    conn.close()
    status, _, body = c.request("POST", "/api/v1/setup", {"username": "eve", "password": "eve-password-1"})
    assert status == 403 and b"setup_loopback_only" in body


def test_login_limit_counts_per_real_client(behind_caddy):
    c = behind_caddy["client"]
    attacker = "127.0.0.3"
    for i in range(ADDRESS_LIMIT):
        # distinct names: the per-user limit (10) must not be what stops this
        assert c.login(f"nobody{i}", "wrong-password", source=attacker)[0] == 401
    assert c.login("nobody-else", "wrong-password", source=attacker)[0] == 429
    # A forged X-Forwarded-For does not get the attacker a fresh count: Caddy replaces it.
    spoof = {"X-Forwarded-For": "198.51.100.77"}
    assert c.login("nobody-else", "wrong-password", source=attacker, headers=spoof)[0] == 429
    # Another client behind the same proxy is not locked out.
    assert c.login("boss", ADMIN_PASSWORD, source="127.0.0.4")[0] == 200


def test_running_it_again_keeps_the_passphrase_data_and_admin(installed, behind_caddy):
    prefix = installed["prefix"]
    before = (prefix / "etc/conversa/conversa.env").read_bytes()
    # behind_caddy ran first: the server holds the data folder; an upgrade re-run must still work
    r = install(prefix, installed["port"], password="ignored-on-rerun")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "user boss already exists: kept" in r.stdout
    assert "RECOVERY KEY" not in r.stdout + r.stderr  # the keys were not made anew
    assert (prefix / "etc/conversa/conversa.env").read_bytes() == before
    c = behind_caddy["client"]
    assert c.login("boss", ADMIN_PASSWORD, source="127.0.0.5")[0] == 200
