"""`conversa extension install [DIR]`: the unpacked browser extension, without Node or npm."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop import extension_bundle
from desktop.config import Settings
from desktop.errors import ConfigError


def default_folder(settings: Settings, target: str) -> Path:
    """A stable place: Chromium remembers the folder it loaded, so upgrades reuse it."""
    return settings.data_path / "extension" / target


def run(settings: Settings, args: argparse.Namespace) -> int:
    target = args.browser
    dest = Path(args.dir) if args.dir else default_folder(settings, target)
    try:
        folder = extension_bundle.install(dest, target)
    except (FileNotFoundError, OSError) as e:
        raise ConfigError(f"could not write the extension to {dest}: {e}") from None
    print(f"The Conversa extension for {target} is in {folder}\n")
    for n, step in enumerate(extension_bundle.load_steps(folder, target), start=1):
        print(f"  {n}. {step}")
    print(
        "\nAfter upgrading Conversa, run this command again and click the extension's reload arrow"
        " (or restart the browser)."
    )
    return 0
