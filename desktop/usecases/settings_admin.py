"""`GET/PATCH /settings` (admins): every setting with its value, default, help, environment
variable and whether it needs a restart. A change is checked whole (the first bad field is named
and nothing is written), saved to settings.toml atomically, and applied at once when the
setting allows it; the rest waits for a restart. Secrets never leave the server."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop import config
from desktop.auth import Principal
from desktop.errors import ConfigError, InvalidInput
from desktop.usecases import access, audit
from desktop.usecases.runtime import Runtime

log = logging.getLogger(__name__)
NOT_EDITABLE = {
    "data_dir": "settings.toml lives in it: use --data-dir or CONVERSA_DATA_DIR",
    "passphrase": "a secret, read only from the environment",
    "inference_api_key": "a secret, read only from the environment",
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")
_ORIGIN = re.compile(r"(https?|chrome-extension|moz-extension)://[A-Za-z0-9.\-\[\]:]+")
_EXTENSION_ID = re.compile(r"[a-p]{32}")
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# Numeric ranges: what the server can run with (beyond them it fails to start or serves nobody).
RANGES: dict[str, tuple[float, float]] = {
    "port": (1, 65535),
    "n_ctx": (256, 131072),
    "n_threads": (0, 1024),
    "n_gpu_layers": (-1, 1000),
    "temperature": (0, 2),
    "max_suggestion_tokens": (16, 4096),
    "state_cache_mb": (0, 65536),
    "analysis_queue": (1, 100_000),
    "max_body_bytes": (64 * 1024, 64 * 1024 * 1024),
    "max_messages": (1, 100_000),
    "max_text_chars": (100, 1_000_000),
    "header_timeout": (1, 600),
    "body_timeout": (1, 3600),
    "access_token_minutes": (1, 1440),
    "refresh_token_days": (1, 3650),
}


def _bad(name: str, why: str) -> InvalidInput:
    return InvalidInput(f"{name} {why}", code="invalid_setting", field=name)


def _text_rule(name: str, value: str) -> str:
    value = value.strip()
    if name == "host":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if value != "localhost":
                raise _bad(name, "must be an IP address or localhost") from None
    elif name == "public_hostname":
        if value and not _HOSTNAME.fullmatch(value):
            raise _bad(name, "must be a host name like conversa.example.com.br, or empty")
    elif name == "trusted_proxies":
        try:
            config.parse_networks(value)
        except ConfigError as e:
            raise _bad(name, e.message.split(": ", 1)[-1]) from None
    elif name == "allowed_origins":
        bad = [o for o in (i.strip() for i in value.split(",")) if o and not _ORIGIN.fullmatch(o.rstrip("/"))]
        if bad:
            raise _bad(name, "must be origins like https://crm.example.com, comma-separated")
    elif name == "extension_ids":
        bad = [i for i in (i.strip() for i in value.split(",")) if i and not _EXTENSION_ID.fullmatch(i)]
        if bad:
            raise _bad(name, "must be Chromium extension ids (32 letters a-p), comma-separated")
    elif name == "model":
        if not _MODEL_ID.fullmatch(value):
            raise _bad(name, "must be a model id (letters, digits, . _ -), not a path")
    elif name == "inference_url":
        for url in (u.strip() for u in value.split(",")):
            parts = urlsplit(url)
            if url and (parts.scheme not in ("http", "https") or not parts.hostname):
                raise _bad(name, "must be http(s) URLs like http://10.0.0.5:8080, comma-separated, or empty")
    elif name == "auto_backup_dir":
        if value and not Path(value).expanduser().is_absolute():
            raise _bad(name, "must be an absolute folder path, or empty")
    elif name == "log_level":
        value = value.upper()
        if value not in LOG_LEVELS:
            raise _bad(name, "must be one of " + ", ".join(LOG_LEVELS))
    elif name == "timezone":
        if not config._valid_timezone(value):
            raise _bad(name, "must be an IANA zone name like America/Sao_Paulo")
    return value


def check(name: str, kind: str, value: Any) -> Any:
    """The value to store for `name`, or InvalidInput naming it."""
    if name in NOT_EDITABLE:
        raise _bad(name, f"cannot be changed here ({NOT_EDITABLE[name]})")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(name, "must be a whole number")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(name, "must be a number")
        value = float(value)
    elif kind == "str":
        if not isinstance(value, str):
            raise _bad(name, "must be a string")
        if len(value) > 2000 or not value.isprintable():
            raise _bad(name, "must be at most 2000 printable characters on one line")
        return _text_rule(name, value)
    else:
        raise _bad(name, "cannot be changed here")
    low, high = RANGES.get(name, (0, 2**31))
    if not low <= value <= high:  # also false for NaN
        raise _bad(name, f"must be from {low:g} to {high:g}")
    return value


def _live(settings: config.Settings, changes: dict[str, Any]) -> None:
    """Side effects of a setting applied at once (the rest read `rt.settings` when they run)."""
    if "log_level" in changes:
        logging.getLogger().setLevel(changes["log_level"])


class SettingsAdmin:
    def __init__(self, rt: Runtime, apply: Callable[[config.Settings, dict[str, Any]], None] = _live):
        self.rt = rt
        self._apply = apply
        self._lock = asyncio.Lock()  # one PATCH at a time: each rewrites settings.toml whole

    @property
    def _file(self) -> Path:
        return self.rt.settings.data_path / config.SETTINGS_FILE

    def _saved(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self._file.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except tomllib.TOMLDecodeError:
            return {}

    async def get(self, principal: Principal) -> dict[str, Any]:
        access.require_admin(principal)
        saved = await asyncio.to_thread(self._saved)
        current = self.rt.settings
        items = []
        for d in config.describe():
            name = d["name"]
            secret = d["secret"]
            meta = next(f for f in dataclasses.fields(config.Settings) if f.name == name).metadata
            items.append(
                {
                    "name": name,
                    "type": d["type"],
                    "value": None if secret else getattr(current, name),
                    "default": None if secret else d["default"],
                    "saved": None if secret else saved.get(name),
                    "help": d["help"],
                    "env": d["env"],
                    "from_env": bool(os.environ.get(d["env"])),
                    "restart": bool(meta["restart"]),
                    "secret": secret,
                    "editable": name not in NOT_EDITABLE,
                }
            )
        return {"items": items, "file": str(self._file)}

    async def patch(self, principal: Principal, body: Any) -> dict[str, Any]:
        access.require_admin(principal)
        if not isinstance(body, dict) or not body:
            raise InvalidInput("body must be an object of setting names and values", field="body")
        fields = {f.name: f for f in dataclasses.fields(config.Settings)}
        changes: dict[str, Any] = {}
        for name, value in body.items():
            if name not in fields:
                raise InvalidInput(f"unknown setting {name}", code="invalid_setting", field=name)
            f = fields[name]
            changes[name] = check(name, f.type if isinstance(f.type, str) else f.type.__name__, value)
        live = {k: v for k, v in changes.items() if not fields[k].metadata["restart"]}
        overridden = sorted(k for k in changes if os.environ.get(config.ENV_PREFIX + k.upper()))
        async with self._lock:
            await asyncio.to_thread(config.save, self.rt.settings.data_path, changes)
            applied = {k: v for k, v in live.items() if k not in overridden}
            if applied:
                self.rt.settings = dataclasses.replace(self.rt.settings, **applied)
                self._apply(self.rt.settings, applied)
            await self.rt.db(audit.entry, principal, "settings.update", "", audit.fields_detail(changes))
        log.info("settings changed: %s", ", ".join(sorted(changes)))
        return {
            "saved": sorted(changes),
            "applied": sorted(applied),
            "restart_required": sorted(k for k in changes if k not in live and k not in overridden),
            "overridden_by_env": overridden,
        }
