"""The browser extension as the Python package carries it: unpacked Chromium and Firefox folders.

A shop owner has no Node, so `npm run build` cannot be how they get the extension. The build
is a copy of the shipped files plus a Firefox manifest, simple enough to do here in stdlib
Python: `setup.py` runs `build_all` when the wheel is built (into the package's
`extension_build/`), and a checkout (editable install, tests) builds from `extension/` on
demand. tests/test_extension_bundle.py checks this output equals `extension/scripts/build.mjs`'s,
so the two builds cannot drift. Stdlib only: setup.py loads this file before anything is installed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

# Same lists as extension/scripts/build.mjs: what ships; everything else is development material.
SHIPPED = ["manifest.json", "_locales", "background", "content", "panel", "popup", "options", "shared", "icons"]
GECKO_ID = "conversa@conversa.app"
TARGETS = ("chromium", "firefox")
PACKAGED = Path(__file__).resolve().parent / "extension_build"
CHECKOUT_SOURCE = Path(__file__).resolve().parent.parent / "extension"


def source_files(root: Path) -> list[str]:
    """Shipped files, relative with '/', sorted the way build.mjs walks them; no dotfiles or maps."""
    out: list[str] = []

    def walk(path: Path) -> None:
        if path.is_file():
            out.append(path.relative_to(root).as_posix())
            return
        for name in sorted(os.listdir(path)):
            walk(path / name)

    for entry in SHIPPED:
        walk(root / entry)
    return [f for f in out if not any(p.startswith(".") for p in f.split("/")) and not f.endswith(".map")]


def firefox_manifest(manifest: dict) -> dict:
    m = json.loads(json.dumps(manifest))
    m.pop("key", None)  # the Chromium id pin; Firefox uses the gecko id
    m.pop("minimum_chrome_version", None)
    m["background"] = {"scripts": [manifest["background"]["service_worker"]], "type": "module"}
    m["browser_specific_settings"] = {
        "gecko": {
            "id": GECKO_ID,
            "strict_min_version": "140.0",
            "data_collection_permissions": {"required": ["none"]},
        },
        "gecko_android": {"strict_min_version": "142.0"},
    }
    return m


def build(source: Path, dest: Path, target: str) -> Path:
    """Write the unpacked `target` extension from the `source` folder into `dest` (replaced)."""
    if target not in TARGETS:
        raise ValueError(f"unknown browser target {target!r}")
    manifest = json.loads((source / "manifest.json").read_text("utf-8"))
    if target == "firefox":
        manifest = firefox_manifest(manifest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    for rel in source_files(source):
        if rel == "manifest.json":
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, dest / rel)
    return dest


def build_all(source: Path, dest: Path) -> None:
    for target in TARGETS:
        build(source, dest / target, target)


def available(target: str) -> Path | None:
    """Where the built `target` comes from: the copy inside the package, else the checkout's sources."""
    if (PACKAGED / target / "manifest.json").is_file():
        return PACKAGED / target
    if (CHECKOUT_SOURCE / "manifest.json").is_file():
        return CHECKOUT_SOURCE
    return None


def install(dest: Path, target: str = "chromium") -> Path:
    """Put the unpacked extension at `dest`, replacing an older copy only once the new one is complete."""
    origin = available(target)
    if origin is None:
        raise FileNotFoundError("this installation of Conversa carries no browser extension")
    dest = dest.expanduser().resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.new")
    if staging.exists():
        shutil.rmtree(staging)
    if origin == CHECKOUT_SOURCE:
        build(origin, staging, target)
    else:
        shutil.copytree(origin, staging)
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(staging, dest)
    return dest


def load_steps(folder: Path, target: str = "chromium") -> list[str]:
    """The clicks that load the unpacked folder (also for the desktop window to show)."""
    if target == "firefox":
        return [
            "Open about:debugging#/runtime/this-firefox in Firefox (140 or newer).",
            "Click 'Load Temporary Add-on…'.",
            f"Pick the file {folder / 'manifest.json'} (Firefox forgets it at restart: load it again).",
        ]
    return [
        "Open chrome://extensions (Edge: edge://extensions; Brave: brave://extensions).",
        "Turn on 'Developer mode' (the switch at the top right).",
        f"Click 'Load unpacked' and choose the folder {folder}",
    ]
