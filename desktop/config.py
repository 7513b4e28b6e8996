"""Settings: typed, documented, layered as defaults < settings.toml < CONVERSA_* env < flags.

Every field carries its help text; `conversa settings` and the README table are made from it.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop.errors import ConfigError

ENV_PREFIX = "CONVERSA_"
SETTINGS_FILE = "settings.toml"
# The Chromium id that follows from the `key` pinned in extension/manifest.json.
DEFAULT_EXTENSION_ID = "oehpgcfibfbepophcjgonemoamflplib"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def default_data_dir() -> str:
    from platformdirs import user_data_dir

    return user_data_dir("conversa", appauthor=False)


def local_timezone() -> str:
    """The machine's IANA zone name (TZ, /etc/timezone or the /etc/localtime link), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text("utf-8").strip())
    except OSError:
        pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in link:
            candidates.append(link.split("/zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name and _valid_timezone(name):
            return name
    return "UTC"


def _valid_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _setting(default: Any, help: str, *, secret: bool = False, restart: bool = True) -> Any:
    meta = {"help": help, "secret": secret, "restart": restart}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    data_dir: str = _setting(default_data_dir, "Folder holding the database, keys, models and logs.")
    host: str = _setting("127.0.0.1", "Address the server binds. Keep 127.0.0.1 unless a reverse proxy fronts it.")
    port: int = _setting(8765, "TCP port of the server.")
    public_hostname: str = _setting(
        "", "Public host name of a VPS install (e.g. conversa.example.com.br); allowed in the Host header."
    )
    trusted_proxies: str = _setting(
        "",
        "Reverse proxies (IPs or CIDRs, comma-separated) allowed to name the client in X-Forwarded-For; "
        "empty: the socket's peer is the client. Behind a proxy on this machine: 127.0.0.1.",
    )
    allowed_origins: str = _setting("", "Extra allowed Origins, comma-separated, compared as whole strings.")
    extension_ids: str = _setting(DEFAULT_EXTENSION_ID, "Chromium extension ids allowed as Origin, comma-separated.")
    model: str = _setting("SmolLM2-135M-Instruct.Q4_1", "Id of the active model (a GGUF in the models folder).")
    catalog: str = _setting(
        "", "Model catalogue JSON file (format of models/catalog.json); empty: the built-in catalogue."
    )
    inference_url: str = _setting(
        "",
        "OpenAI-compatible inference servers (llama-server, `python -m llama_cpp.server`, vLLM) that run the"
        " analyses instead of the built-in engine, e.g. http://10.0.0.5:8080; several comma-separated are used"
        " in turn, a failing one skipped for 30 s. Empty: the built-in llama.cpp engine.",
    )
    inference_model: str = _setting(
        "", "Model name sent to the inference servers (vLLM needs the served name); empty: the server's own."
    )
    inference_api_key: str = _setting(
        "",
        "API key the inference servers require (llama-server/vLLM `--api-key`, llama_cpp.server `--api_key`),"
        " sent as a Bearer token. Env only.",
        secret=True,
    )
    n_ctx: int = _setting(2048, "Model context size in tokens.")
    n_threads: int = _setting(0, "CPU threads for inference; 0 means all cores.")
    n_gpu_layers: int = _setting(0, "Layers offloaded to a GPU (0 = CPU only).")
    temperature: float = _setting(0.7, "Sampling temperature for reply suggestions.", restart=False)
    max_suggestion_tokens: int = _setting(200, "Token budget for the summary and suggestions.", restart=False)
    state_cache_mb: int = _setting(256, "Memory for saved per-chat model states (switching chats stays warm).")
    analysis_queue: int = _setting(64, "Analyses that may wait; the oldest chat's job is dropped past it.")
    max_body_bytes: int = _setting(1024 * 1024, "Largest accepted request body in bytes.")
    max_messages: int = _setting(500, "Most messages accepted in one capture.")
    max_text_chars: int = _setting(10_000, "Longest accepted message text in characters.")
    header_timeout: float = _setting(10.0, "Seconds a client has to send its request headers.")
    body_timeout: float = _setting(30.0, "Seconds a client has to send its request body.")
    access_token_minutes: int = _setting(15, "Lifetime of access tokens.")
    refresh_token_days: int = _setting(30, "Lifetime of an unused refresh token.")
    passphrase: str = _setting(
        "", "Passphrase wrapping the data key (for machines without an OS keyring). Env only.", secret=True
    )
    auto_backup_dir: str = _setting(
        "",
        "Folder for automatic daily backups (encrypted; the newest of each of the last 7 days and 4 weeks are"
        " kept, with the key store copy beside them); empty: off. Best on another disk. The server checks hourly.",
    )
    reports_dir: str = _setting(
        "",
        "Desktop window: folder where the weekly PDF report is written while the app runs (last Monday to"
        " Sunday, once per week); empty: Documents/Conversa/relatorios in the user's home.",
    )
    log_level: str = _setting("INFO", "Logging level (DEBUG, INFO, WARNING).", restart=False)
    timezone: str = _setting(
        local_timezone,
        "IANA time zone whose calendar days `/metrics?from&to` count, and in which captured times without an"
        " offset are read (a VPS install sets America/Sao_Paulo).",
    )
    sla_first_response_minutes: int = _setting(
        15,
        "SLA target: minutes from a customer's first unanswered message to the reply (`/metrics` share met).",
        restart=False,
    )
    sla_resolution_hours: int = _setting(
        24, "SLA target: hours from a conversation's start to its resolution (`/metrics` share met).", restart=False
    )
    health_risk_threshold: int = _setting(
        40, "A contact whose health score (0-100) is below this is listed as at risk by `/metrics`.", restart=False
    )

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def models_path(self) -> Path:
        return self.data_path / "models"

    @property
    def catalog_path(self) -> Path | None:
        return Path(self.catalog).expanduser() if self.catalog else None

    def origins(self) -> set[str]:
        own = {f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}", f"http://[::1]:{self.port}"}
        if self.public_hostname:
            own.add(f"https://{self.public_hostname}")
        ext = {f"chrome-extension://{i.strip()}" for i in self.extension_ids.split(",") if i.strip()}
        extra = {o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()}
        return own | ext | extra

    def proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)


@functools.lru_cache(maxsize=8)
def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.1, 192.168.0.0/16, ::1` → networks; a wrong entry is a ConfigError."""
    out = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"trusted_proxies: {item!r} is not an IP address or network") from None
    return tuple(out)


def describe() -> list[dict[str, Any]]:
    """Each setting with its env name, default and help, for docs and `GET /settings`."""
    out = []
    for f in fields(Settings):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if f.name == "data_dir":
            default = "(platform user data dir)"
        elif f.name == "timezone":
            default = "(the machine's zone)"
        out.append(
            {
                "name": f.name,
                "env": ENV_PREFIX + f.name.upper(),
                "type": f.type if isinstance(f.type, str) else f.type.__name__,
                "default": default,
                "help": f.metadata["help"],
                "secret": f.metadata["secret"],
            }
        )
    return out


def settings_table() -> str:
    """The README's settings table, generated so it cannot drift from the code."""
    rows = ["| setting | environment variable | default | what it does |", "|---|---|---|---|"]
    for s in describe():
        default = "" if s["secret"] else (f"`{s['default']}`" if s["default"] != "" else "(empty)")
        rows.append(f"| `{s['name']}` | `{s['env']}` | {default} | {s['help']} |")
    return "\n".join(rows)


def _coerce(name: str, kind: str, raw: Any) -> Any:
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} must be {kind}, got {raw!r}") from None


def load(overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Layer the sources; `overrides` are CLI flags (None values are ignored)."""
    env = dict(os.environ if env is None else env)
    kinds = {f.name: f.type if isinstance(f.type, str) else f.type.__name__ for f in fields(Settings)}
    values: dict[str, Any] = {}
    data_dir = (overrides or {}).get("data_dir") or env.get(ENV_PREFIX + "DATA_DIR") or default_data_dir()
    toml_path = Path(data_dir).expanduser() / SETTINGS_FILE
    if toml_path.exists():
        try:
            from_file = tomllib.loads(toml_path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{toml_path}: {e}") from None
        for k, v in from_file.items():
            if k not in kinds or k in ("passphrase", "inference_api_key"):
                raise ConfigError(f"{toml_path}: unknown setting {k!r}")
            values[k] = _coerce(k, kinds[k], v)
    for name, kind in kinds.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(name, kind, raw)
    for k, v in (overrides or {}).items():
        if v is not None:
            values[k] = _coerce(k, kinds[k], v)
    values["data_dir"] = data_dir
    s = Settings(**values)
    if not (0 < s.port < 65536):
        raise ConfigError(f"port must be 1-65535, got {s.port}")
    s.proxy_networks()
    for name in ("sla_first_response_minutes", "sla_resolution_hours"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"{name} must be a positive number, got {getattr(s, name)}")
    if not (0 <= s.health_risk_threshold <= 100):
        raise ConfigError(f"health_risk_threshold must be 0-100, got {s.health_risk_threshold}")
    for url in (u.strip() for u in s.inference_url.split(",")):
        parts = urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ConfigError(f"inference_url: {url!r} is not an http(s) URL")
    if not _valid_timezone(s.timezone):
        raise ConfigError(f"timezone must be an IANA zone name like America/Sao_Paulo, got {s.timezone!r}")
    return s


def save(data_dir: Path, changes: dict[str, Any]) -> None:
    """Write changed settings to settings.toml (secrets never go to disk)."""
    path = Path(data_dir) / SETTINGS_FILE
    current: dict[str, Any] = {}
    if path.exists():
        current = tomllib.loads(path.read_text("utf-8"))
    current.update({k: v for k, v in changes.items() if k not in ("passphrase", "inference_api_key")})
    lines = []
    for k, v in sorted(current.items()):
        if isinstance(v, str):
            lines.append(f"{k} = {_toml_str(v)}")
        else:
            lines.append(f"{k} = {v}")
    # Atomically: a crash mid-write must not leave a half file that stops the next start.
    tmp = path.with_name(f".{SETTINGS_FILE}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _toml_str(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
