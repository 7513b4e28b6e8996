"""The window's remembered sign-in and server choice, in the data folder (file mode 0600):
which server it administers (this PC's, or a team server's URL) and the refresh token of its
device, so the next start signs in without a password. Logging out forgets the token."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

FILE = "desktop.json"


def load(data_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(data_dir) / FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(data_dir: Path, **changes: Any) -> None:
    """Merge ``changes`` (None removes a key) and write atomically, readable by this user only."""
    path = Path(data_dir) / FILE
    data = load(data_dir)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
