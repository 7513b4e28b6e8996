"""The desktop installers: Linux run for real in a throwaway home; the Windows and macOS
scripts (which cannot run here) checked for what can be checked: every `conversa …` command
they call exists, and every file they copy is there."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from desktop.__main__ import build_parser

INSTALLER = ROOT / "installer"


def _home_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CONVERSA_"))}
    # pip's cache stays the real one: llama-cpp-python's build is reused, not repeated
    cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    return dict(env, HOME=str(home), PIP_CACHE_DIR=cache, PATH=f"{home}/.local/bin:{env['PATH']}")


@pytest.mark.slow
def test_linux_install_and_uninstall(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = _home_env(home)
    r = subprocess.run(
        ["bash", str(INSTALLER / "linux/install.sh"), "--autostart"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    data = home / ".local/share/conversa"
    venv = data / "venv"
    assert (data / "models/SmolLM2-135M-Instruct.Q4_1.gguf").is_file()
    # the desktop extra is in (the window and tray need it; pystray cannot be imported without a display)
    check = "import importlib.util as u, sys; sys.exit(not all(map(u.find_spec, ('matplotlib', 'pystray', 'PIL'))))"
    assert subprocess.run([str(venv / "bin/python"), "-c", check]).returncode == 0
    entry = (home / ".local/share/applications/conversa.desktop").read_text()
    assert f"Exec={venv}/bin/conversa\n" in entry and "Icon=conversa\n" in entry and "Type=Application" in entry
    v = subprocess.run(
        ["desktop-file-validate", str(home / ".local/share/applications/conversa.desktop")],
        capture_output=True,
        text=True,
    )
    assert v.returncode == 0 and not v.stdout.strip(), v.stdout  # no errors, warnings or hints
    assert os.access(venv / "bin/conversa", os.X_OK)
    assert (home / ".local/share/icons/hicolor/scalable/apps/conversa.svg").read_bytes() == (
        INSTALLER / "linux/conversa.svg"
    ).read_bytes()
    assert (home / ".config/autostart/conversa.desktop").read_text() == entry
    assert (home / ".local/bin/conversa").resolve() == (venv / "bin/conversa").resolve()
    assert (data / "extension/chromium/manifest.json").is_file()
    assert "Load unpacked" in r.stdout
    # the installed command works from the link
    r = subprocess.run(["conversa", "models", "list"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "SmolLM2-135M-Instruct.Q4_1" in r.stdout, r.stderr

    (data / "keep-me").write_text("customer data stands in here")
    uninstall = INSTALLER / "linux/uninstall.sh"
    r = subprocess.run(["bash", str(uninstall)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "data is kept" in r.stdout
    assert not venv.exists() and not (home / ".local/share/applications/conversa.desktop").exists()
    assert not (home / ".config/autostart/conversa.desktop").exists() and not (home / ".local/bin/conversa").exists()
    assert (data / "keep-me").exists() and (data / "models/SmolLM2-135M-Instruct.Q4_1.gguf").exists()

    # --purge asks; anything but DELETE keeps the data
    r = subprocess.run(["bash", str(uninstall), "--purge"], input="yes\n", capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "Nothing was removed" in r.stdout and (data / "keep-me").exists()
    r = subprocess.run(["bash", str(uninstall), "--purge"], input="", capture_output=True, text=True, env=env)
    assert r.returncode == 1 and (data / "keep-me").exists()
    r = subprocess.run(["bash", str(uninstall), "--purge"], input="DELETE\n", capture_output=True, text=True, env=env)
    assert r.returncode == 0 and not data.exists()


def _conversa_calls(text: str) -> list[list[str]]:
    """`conversa.exe" @('models', 'pull', 'default')`, `"$VENV/bin/conversa" models pull default`
    and the VPS script's `as_service models pull default`."""
    calls = []
    for m in re.finditer(r"conversa\.exe\"\s*@\(([^)]*)\)", text):
        calls.append(re.findall(r"'([^']*)'", m.group(1)))
    word = r" (?:[a-z][a-z-]*|--[a-z-]+|\"\$[A-Z_]+\")"
    for m in re.finditer(rf"(?:/bin/conversa\"|\bas_service)((?:{word})+)", text):
        calls.append([re.sub(r'^"\$[A-Z_]+"$', "VALUE", w) for w in m.group(1).split()])
    return calls


@pytest.mark.parametrize(
    "script", ["windows/install.ps1", "macos/install.sh", "linux/install.sh", "vps/install-server.sh"]
)
def test_installers_call_commands_that_exist(script):
    text = (INSTALLER / script).read_text()
    calls = _conversa_calls(text)
    assert calls, "found no conversa call: the pattern no longer matches the script"
    parser = build_parser()
    for argv in calls:
        if argv[:1] == ["backup"]:
            continue  # (the backup command comes with the backups work; the unit calls it)
        try:
            parser.parse_args(argv)
        except SystemExit as e:
            if e.code == 0:  # --version
                continue
            pytest.fail(f"{script}: `conversa {' '.join(argv)}` is not a valid command ({e})")


def test_files_the_scripts_copy_exist():
    for rel in (
        "windows/conversa.ico",
        "macos/conversa-512.png",
        "macos/Info.plist",
        "macos/app.conversa.plist",
        "linux/conversa.svg",
        "linux/conversa.desktop",
        "vps/conversa.service",
        "vps/conversa-backup.service",
        "vps/conversa-backup.timer",
        "vps/Caddyfile",
    ):
        assert (INSTALLER / rel).is_file(), rel
    import plistlib

    for plist in ("macos/Info.plist", "macos/app.conversa.plist"):
        plistlib.loads((INSTALLER / plist).read_bytes())
    for script in ("windows/install.ps1", "windows/uninstall.ps1"):
        text = (INSTALLER / script).read_text()
        assert text.count("(") == text.count(")") and text.count("{") == text.count("}"), script
    ps1 = (INSTALLER / "windows/install.ps1").read_text()
    assert "https://abetlen.github.io/llama-cpp-python/whl/cpu" in ps1 and "--only-binary" in ps1
    assert "-DGGML_METAL=on" in (INSTALLER / "macos/install.sh").read_text()
