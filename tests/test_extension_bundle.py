"""The extension without npm: the Python build equals build.mjs's, the wheel carries it (and the
model catalogue), and `conversa extension install` writes a folder real Chromium loads."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, cli

from desktop import extension_bundle

EXTENSION = ROOT / "extension"
EXTENSION_ID = "oehpgcfibfbepophcjgonemoamflplib"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_python_build_equals_the_node_build(tmp_path):
    node = shutil.which("node")
    assert node, "node is required to compare with extension/scripts/build.mjs"
    script = "const m = await import(process.argv[1]);m.build({dist: process.argv[2], log: () => {}});"
    r = subprocess.run(
        [
            node,
            "--input-type=module",
            "-e",
            script,
            (EXTENSION / "scripts" / "build.mjs").as_uri(),
            str(tmp_path / "node"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    extension_bundle.build_all(EXTENSION, tmp_path / "py")
    for target in extension_bundle.TARGETS:
        node_tree, py_tree = _tree(tmp_path / "node" / target), _tree(tmp_path / "py" / target)
        assert sorted(node_tree) == sorted(py_tree), target
        assert node_tree == py_tree, target
    assert b'"key"' not in (tmp_path / "py" / "firefox" / "manifest.json").read_bytes()


def test_the_wheel_carries_both_builds(tmp_path):
    # Built with pip as an installer would (build isolation: setuptools from the index/cache).
    scratch = [d for d in (ROOT / "build", ROOT / "conversa.egg-info") if not d.exists()]
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "w"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    for d in scratch:  # setuptools' scratch folders in the checkout, if this test made them
        shutil.rmtree(d, ignore_errors=True)
    (wheel,) = (tmp_path / "w").glob("conversa-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        extension_bundle.build_all(EXTENSION, tmp_path / "py")
        for target in extension_bundle.TARGETS:
            for rel, data in _tree(tmp_path / "py" / target).items():
                name = f"desktop/extension_build/{target}/{rel}"
                assert name in names, name
                assert z.read(name) == data, name
        # the model catalogue lives outside the packages in a checkout: the wheel has its copy
        assert z.read("llm/data/catalog.json") == (ROOT / "models" / "catalog.json").read_bytes()


def test_extension_install_writes_the_folder_and_prints_the_clicks(tmp_path):
    dest = tmp_path / "ext"
    r = cli(tmp_path / "data", "extension", "install", str(dest))
    assert r.returncode == 0, r.stderr
    assert "chrome://extensions" in r.stdout and "Developer mode" in r.stdout and "Load unpacked" in r.stdout
    assert str(dest) in r.stdout
    assert _tree(dest) == _tree(extension_bundle.build(EXTENSION, tmp_path / "ref", "chromium"))
    (dest / "stale.js").write_text("old")  # an upgrade replaces the folder whole
    assert cli(tmp_path / "data", "extension", "install", str(dest)).returncode == 0
    assert not (dest / "stale.js").exists()
    # default place: the data folder, one per browser
    r = cli(tmp_path / "data", "extension", "install", "--browser", "firefox")
    assert r.returncode == 0, r.stderr
    ff = tmp_path / "data" / "extension" / "firefox"
    assert "about:debugging" in r.stdout and str(ff / "manifest.json") in r.stdout
    assert "gecko" in (ff / "manifest.json").read_text()


@pytest.mark.slow
def test_chromium_loads_the_installed_folder(tmp_path):
    from playwright.sync_api import sync_playwright

    dest = tmp_path / "ext"
    assert cli(tmp_path / "data", "extension", "install", str(dest)).returncode == 0
    chromium = shutil.which("chromium")
    assert chromium, "Debian chromium is required"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium,
            headless=False,  # --headless=new below: the mode that runs extensions
            ignore_default_args=["--disable-extensions"],
            args=[
                "--headless=new",
                f"--disable-extensions-except={dest}",
                f"--load-extension={dest}",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ],
        )
        try:
            worker = (
                context.service_workers[0]
                if context.service_workers
                else context.wait_for_event("serviceworker", timeout=30_000)
            )
            assert worker.url == f"chrome-extension://{EXTENSION_ID}/background/service-worker.js"
        finally:
            context.close()
