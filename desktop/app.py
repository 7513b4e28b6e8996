"""Composition root: the only module that wires config → store → engine → service → server → ui."""

from __future__ import annotations

import contextlib
import getpass
import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.config import Settings
from desktop.store.data_dir_lock import DataDirLock
from desktop.store.errors import KeysUnavailable
from desktop.store.keys import KeyStore

if TYPE_CHECKING:
    from desktop.service import Service
    from desktop.store.database import Store
    from llm.engine import EngineSettings

# The service, the store and the model runtime are imported where they are used: `conversa`
# shows its window first and loads them while it starts the server (about 2 s on a busy PC).

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
    from desktop.store.database import Store

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
    from llm import catalog
    from llm.engine import EngineSettings

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
    from llm import catalog
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


def build_service(settings: Settings, *, with_model: bool = True, start_engine: bool = True) -> Service:
    """The serving service: call it holding the data folder's lock (`serve_lock`). With
    ``start_engine=False`` the caller starts the model loading itself (`service.engine.start()`)."""
    store = open_store(settings, upgrade_keys=True)  # first: see LocalServer.preload
    from desktop.service import Service
    from llm.engine import Engine

    engine = (
        (remote_engine(settings) if settings.inference_url else Engine(engine_settings(settings)))
        if with_model
        else None
    )
    if engine and start_engine:
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


class LocalServer:
    """The server the desktop app hosts on this PC: lifecycle only (keys, start, stop, state).
    The window never reads data through it, only over HTTP at `url`.

    It runs on a thread of its own with its own asyncio loop and is stopped with
    `call_soon_threadsafe`; it holds the data folder's lock from `claim()` to `stop()`."""

    def __init__(self, settings: Settings):
        import threading

        self.settings = settings
        self._lock: DataDirLock | None = None
        self._thread: threading.Thread | None = None
        self._loop = None
        self._stop_event = None
        self._service: Service | None = None
        self._started = threading.Event()
        self._preload: threading.Thread | None = None
        self.error: str | None = None

    @property
    def url(self) -> str:
        host = self.settings.host if self.settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.settings.port}/api/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def claim(self) -> None:
        """Take the data folder (DataDirBusy names who holds it); logging starts in it."""
        if self._lock is None:
            self._lock = serve_lock(self.settings)
            setup_logging(self.settings, to_stderr=False)

    def needs_keys(self) -> bool:
        """A fresh data folder: the first run chooses how the keys are protected."""
        data = self.settings.data_path
        return not KeyStore.exists(data) and not (data / "conversa.db").exists()

    def needs_passphrase(self) -> bool:
        return not self.settings.passphrase and KeyStore.method(self.settings.data_path) == "passphrase"

    @staticmethod
    def keyring_available() -> bool:
        from desktop.store.keys import _keyring_backend_ok

        return _keyring_backend_ok()

    def create_keys(self, method: str, passphrase: str = "") -> dict[str, str]:
        """Create the keys protected as chosen (keyring / keyfile / passphrase): {method, recovery_key}.
        The keyring falls back to a key file when no real OS keyring works (the answer says so)."""
        import dataclasses

        self.claim()
        if method == "passphrase" and not passphrase:
            raise ValueError("a passphrase is needed")
        keys, setup = KeyStore.create(self.settings.data_path, passphrase if method == "passphrase" else "",
                                      use_keyring=method == "keyring")
        keys.close()
        if method == "passphrase":
            self.settings = dataclasses.replace(self.settings, passphrase=passphrase)
        return {"method": setup.method, "recovery_key": setup.recovery_key}

    def preload(self) -> None:
        """Import the server's modules (the store's, aiohttp, routes, use cases) on a thread of
        their own while `start` derives the store's key (scrypt releases the GIL), so the two
        overlap. One thread, the store's modules first: `start` then only waits for module
        locks this thread holds, never in a cycle. (Started before the window is built, it took
        the GIL from Tk's thread: the window showed 0.15 s later for 0.08 s sooner serving.)"""
        import importlib
        import threading

        if self._preload is None:
            def work() -> None:
                importlib.import_module("desktop.store.database")
                importlib.import_module("desktop.server")

            self._preload = threading.Thread(target=work, name="conversa-imports", daemon=True)
            self._preload.start()

    def start(self, passphrase: str = "", timeout: float = 60) -> None:
        """Open the store, start the model loading and the HTTP server; returns once it listens
        (the model may still be loading). Raises KeysUnavailable, OSError (port) or RuntimeError."""
        import asyncio
        import dataclasses
        import threading

        if self.running:
            return
        self.claim()
        if passphrase:
            self.settings = dataclasses.replace(self.settings, passphrase=passphrase)
        self.preload()
        # The model starts loading once the server listens: its thread (llama_cpp's imports, the
        # file read) would otherwise compete for the GIL with the server's start.
        service = build_service(self.settings, start_engine=False)
        self._service = service
        self._started.clear()
        self.error = None

        def serve() -> None:
            from desktop.server import create_app, start_site

            async def main() -> None:
                self._loop = asyncio.get_running_loop()
                self._stop_event = asyncio.Event()
                try:
                    runner = await start_site(create_app(self.settings, service), self.settings)
                except Exception as e:  # noqa: BLE001 - reported to the starting thread
                    self.error = f"{type(e).__name__}: {e}"
                    self._started.set()
                    return
                if service.engine:  # before any request is handled: none sees it unstarted
                    service.engine.start()
                self._started.set()
                await self._stop_event.wait()
                await runner.cleanup()

            try:
                asyncio.run(main())
            finally:
                self._started.set()

        self._thread = threading.Thread(target=serve, name="conversa-server", daemon=True)
        self._thread.start()
        self._started.wait(timeout)
        if self.error or not self.running:
            err = self.error or "the server did not start"
            self._close_service()
            raise RuntimeError(err)

    def stop(self, timeout: float = 30) -> None:
        """Stop serving (open requests get the runner's grace time), close the store, free the port
        and the data folder."""
        loop, event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and event is not None and thread is not None and thread.is_alive():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop already ended
                pass
            thread.join(timeout)
        self._thread = self._loop = self._stop_event = None
        self._close_service()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _close_service(self) -> None:
        service, self._service = self._service, None
        if service is None:
            return
        if service.engine:
            service.engine.stop()
        service.shutdown()
        service.store.close()


def run_desktop(settings: Settings, *, hidden: bool = False) -> int:
    """The tray app hosts the server; without a display it runs headless."""
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        print("No display found: running the server headless (same as `conversa serve`).", file=sys.stderr)
        return run_headless(settings)
    from desktop.ui import main as ui_main

    return ui_main.run(settings, host=LocalServer(settings), hidden=hidden)


def data_dir_of(settings: Settings) -> Path:
    return settings.data_path
