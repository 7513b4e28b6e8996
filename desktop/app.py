"""Composition root: the only module that wires config → store → engine → service → server → ui."""

from __future__ import annotations

import contextlib
import getpass
import logging
import logging.handlers
import os
import sys
from pathlib import Path

from desktop.config import Settings
from desktop.service import Service
from desktop.store.data_dir_lock import DataDirLock
from desktop.store.database import Store
from desktop.store.errors import KeysUnavailable
from desktop.store.keys import KeyStore
from llm import catalog
from llm.engine import Engine, EngineSettings

log = logging.getLogger(__name__)


def setup_logging(settings: Settings, *, to_stderr: bool = True) -> None:
    root = logging.getLogger()
    if getattr(root, "_conversa", False):
        return
    root.setLevel(settings.log_level.upper())
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs = settings.data_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    fh = logging.handlers.RotatingFileHandler(logs / "conversa.log", maxBytes=5 << 20, backupCount=3, encoding="utf-8")
    fh.setFormatter(fmt)
    root.addHandler(fh)
    if to_stderr:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(fmt)
        root.addHandler(sh)
    root._conversa = True  # type: ignore[attr-defined]


def passphrase(settings: Settings) -> str:
    """The key passphrase: from the setting/env, else asked on a terminal when the keys need one."""
    if settings.passphrase:
        return settings.passphrase
    if KeyStore.method(settings.data_path) == "passphrase" and sys.stdin.isatty():
        return getpass.getpass("Conversa key passphrase: ")
    return ""


def command_lock(settings: Settings, command: str) -> contextlib.AbstractContextManager:
    """Hold the data folder for a command that rewrites what a running server keeps in memory
    (the keys, the label adapters): `DataDirBusy` (exit 1) while a server runs, and a server
    cannot start until the command is done."""
    if not settings.data_path.is_dir():
        return contextlib.nullcontext()  # no server holds a folder that does not exist
    return DataDirLock.acquire(
        settings.data_path,
        role="command",
        command=f"conversa {command}",
        refusal=f"stop the server first, then run `conversa {command}` again",
    )


def open_store(settings: Settings, *, create: bool = True, out=sys.stderr, upgrade_keys: bool = False) -> Store:
    """`upgrade_keys` only with the data folder's lock held (see `KeyStore.open`)."""
    if create:  # opening existing data must not leave an empty folder behind a typo
        settings.data_path.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(settings.data_path, 0o700)
        except OSError:
            pass
    store, setup = Store.open(settings.data_path, passphrase(settings), create=create, upgrade_keys=upgrade_keys)
    if setup:
        print(
            f"\n  Conversa created its encryption keys (protected by: {setup.method}).\n"
            "  RECOVERY KEY — write it down and keep it offline; it is shown only this once:\n\n"
            f"      {setup.recovery_key}\n\n"
            "  With it you can unlock your data if the key file, keyring entry or passphrase is lost.\n",
            file=out,
        )
    return store


def engine_settings(settings: Settings) -> EngineSettings:
    return EngineSettings(
        model_path=catalog.model_path(settings.models_path, settings.model, settings.catalog_path),
        model_id=settings.model,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        n_gpu_layers=settings.n_gpu_layers,
        state_cache_bytes=settings.state_cache_mb << 20,
        queue_size=settings.analysis_queue,
    )


def remote_engine(settings: Settings):
    """The OpenAI-compatible servers of `inference_url` in place of the built-in engine."""
    from llm.remote import RemoteEngine, parse_urls

    # Named by the model it asks for, never by the servers' addresses: /health is public.
    model_id = f"remote:{settings.inference_model}" if settings.inference_model else "remote"
    return RemoteEngine(
        parse_urls(settings.inference_url),
        model_id,
        settings.n_ctx,
        settings.analysis_queue,
        model_name=settings.inference_model,
        api_key=settings.inference_api_key,
    )


def start_model(settings: Settings, model_id: str | None = None):
    """Load a model (the active one by default) for a CLI command; ``InvalidInput`` if it fails."""
    from dataclasses import replace

    from desktop.errors import InvalidInput
    from llm.engine import Engine

    model_id = model_id or settings.model
    es = replace(
        engine_settings(settings),
        model_path=catalog.model_path(settings.models_path, model_id, settings.catalog_path),
        model_id=model_id,
    )
    engine = Engine(es)
    engine.start()
    if not engine.wait_ready(300):
        engine.stop()
        raise InvalidInput(engine.error.message if engine.error else "the model did not load")
    return engine


def build_service(settings: Settings, *, with_model: bool = True) -> Service:
    """The serving service: call it holding the data folder's lock (`serve_lock`)."""
    store = open_store(settings, upgrade_keys=True)
    engine = (
        (remote_engine(settings) if settings.inference_url else Engine(engine_settings(settings)))
        if with_model
        else None
    )
    if engine:
        engine.start()
    return Service(settings, store, engine, engine_factory=Engine)


def serve_lock(settings: Settings) -> DataDirLock:
    """One server per data folder: it keeps the keys and adapters in memory, so it holds the
    folder for as long as it runs (commands that rewrite them refuse meanwhile)."""
    settings.data_path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(settings.data_path, 0o700)
    except OSError:
        pass
    return DataDirLock.acquire(
        settings.data_path,
        role="server",
        command="conversa serve",
        port=settings.port,
        refusal="stop it first, or give this server another --data-dir",
    )


def run_headless(settings: Settings, *, with_model: bool = True) -> int:
    # Taken before logging starts: the log file in the data folder belongs to the holder.
    with serve_lock(settings):
        return _serve(settings, with_model=with_model)


def _serve(settings: Settings, *, with_model: bool) -> int:
    from desktop.server import serve_forever

    setup_logging(settings)
    try:
        service = build_service(settings, with_model=with_model)
    except KeysUnavailable as e:
        log.error("%s", e.message)
        print(f"conversa: {e.message}", file=sys.stderr)
        return 1
    print(f"Conversa is listening on http://{settings.host}:{settings.port}  (Ctrl+C stops it)", file=sys.stderr)
    if _no_users(service) and sys.stdin.isatty():
        _first_admin(service)
    if _no_users(service):
        print(
            "No user exists yet: create the first admin with\n"
            "    conversa users add NAME --role admin\n"
            "then pair the extension with `conversa pair`.",
            file=sys.stderr,
        )
    try:
        serve_forever(settings, service)
    finally:
        if service.engine:
            service.engine.stop()
        service.shutdown()
        service.store.close()
    return 0


def _first_admin(service: Service) -> None:
    """First run on a terminal: create the admin right away (there is no default password).
    Written by the database thread, like every other write."""
    from desktop import validation
    from desktop.auth import hash_password
    from desktop.errors import ConversaError
    from desktop.store import accounts

    print("First run: create the admin account (Ctrl+C to skip).", file=sys.stderr)
    try:
        name = validation.username(input("Admin username: ").strip())
        pw = getpass.getpass("Password (8+ characters): ")
        if pw != getpass.getpass("Repeat password: "):
            print("The passwords do not match; create the admin later with `conversa users add`.", file=sys.stderr)
            return
        service.db_wait(accounts.add_user, name, "admin", hash_password(validation.password(pw)))
        print(f"Admin {name} created. Pair the extension with `conversa pair`.", file=sys.stderr)
    except ConversaError as e:
        print(f"Not created: {e.message}", file=sys.stderr)
    except (KeyboardInterrupt, EOFError):
        print(file=sys.stderr)


def _no_users(service: Service) -> bool:
    from desktop.store import accounts

    return service.db_wait(accounts.count_users) == 0


def run_desktop(settings: Settings) -> int:
    """The tray app hosts the server; without a display it runs headless."""
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        print("No display found: running the server headless (same as `conversa serve`).", file=sys.stderr)
        return run_headless(settings)
    try:
        from desktop.ui import main as ui_main  # noqa: F401 - provided by the desktop issue
    except ImportError:
        print("The desktop window is not part of this build yet: running the server headless.", file=sys.stderr)
        return run_headless(settings)
    return ui_main.run(settings)


def data_dir_of(settings: Settings) -> Path:
    return settings.data_path
