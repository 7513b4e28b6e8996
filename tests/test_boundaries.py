"""The import table of DESIGN.md "Boundaries", enforced by parsing every module's imports.

Every .py under desktop/ and llm/ belongs to exactly one layer below; a module no layer names
fails the test, so a new module has to be classified when it is added. Relative imports are
resolved to absolute names, and `from desktop import service` counts as importing
`desktop.service`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("desktop", "llm")

# Layer -> the modules in it: a path relative to the repository (a file, or a folder ending in
# "/" for everything under it). To classify a new module, add its path to its layer's list.
LAYERS: dict[str, list[str]] = {
    # Model runtime and tasks: knows nothing of HTTP, Tk or SQLite.
    "llm": ["llm/"],
    # Pure building blocks every layer may use: no store, no model, no HTTP, no Tk.
    "foundation": [
        "desktop/__init__.py",
        "desktop/config.py",
        "desktop/errors.py",
        "desktop/validation.py",
        "desktop/events.py",
        "desktop/pipeline.py",
        "desktop/lead_parse.py",
        "desktop/knowledge_parse.py",
        "desktop/auth.py",
        "desktop/bind_policy.py",
        "desktop/extension_bundle.py",
    ],
    # Repositories over SQLite, crypto, keys.
    "store": ["desktop/store/"],
    # Use cases: may use llm and the store; no HTTP, no Tk.
    "service": [
        "desktop/service.py",
        "desktop/usecases/",
        "desktop/metrics.py",
        "desktop/team_metrics.py",
        "desktop/metric_totals.py",
        "desktop/metrics_kept.py",
        "desktop/health_score.py",
        "desktop/api_schemas.py",
        "desktop/workflow_schemas.py",
        "desktop/sessions.py",
        "desktop/team_adapter.py",
        "desktop/evaluation.py",
        "desktop/contact_facts.py",  # masks team replies with the reply check's common words
    ],
    # aiohttp: routes and middlewares over the use cases.
    "server": ["desktop/server/"],
    # Tk window and tray: only through the HTTP API client.
    "ui": ["desktop/ui/"],
    # Composition root: the only modules that wire config, store, engine, server and ui.
    "root": ["desktop/app.py", "desktop/__main__.py"],
    # CLI commands: may open the store and load a model through app.py, never the server or ui.
    "commands": ["desktop/commands/"],
}

_GUI = ["tkinter", "pystray"]

# Layer -> the layers it must not import (with everything under their modules) ...
FORBIDDEN_LAYERS: dict[str, list[str]] = {
    "llm": [],  # all of desktop is forbidden below
    "foundation": ["store", "service", "server", "ui", "root", "commands", "llm"],
    "store": ["service", "server", "ui", "root", "commands", "llm"],
    "service": ["server", "ui", "root", "commands"],
    "server": ["store", "llm", "ui", "root", "commands"],
    "ui": ["store", "service", "server", "commands", "llm"],
    "root": [],
    "commands": ["server", "ui"],
}
# ... and the outside packages it must not import.
FORBIDDEN_PACKAGES: dict[str, list[str]] = {
    "llm": ["desktop", "aiohttp", *_GUI, "sqlite_utils", "sqlite3"],
    "foundation": ["llama_cpp", "aiohttp", *_GUI, "sqlite_utils", "sqlite3"],
    "store": ["llama_cpp", "aiohttp", *_GUI],
    "service": ["llama_cpp", "aiohttp", *_GUI],
    "server": ["llama_cpp", "sqlite_utils", "sqlite3", *_GUI],
    "ui": ["llama_cpp", "aiohttp.web", "sqlite_utils", "sqlite3"],
    "root": [],
    "commands": ["desktop.__main__", "aiohttp", *_GUI],
}


def dotted(rel: str) -> str:
    """`desktop/store/` -> desktop.store, `desktop/app.py` -> desktop.app."""
    rel = rel.rstrip("/").removesuffix(".py").removesuffix("/__init__")
    return rel.replace("/", ".")


def forbidden(layer: str) -> list[str]:
    """Import prefixes a module of `layer` must not use."""
    mods = [dotted(p) for other in FORBIDDEN_LAYERS[layer] for p in LAYERS[other]]
    return FORBIDDEN_PACKAGES[layer] + mods


# Imports that must happen inside functions (lazily): the model runtime is heavy, and pystray
# fails at import time without a display while `conversa serve` runs on headless machines.
LAZY = {"llm/": ["llama_cpp"], "desktop/": ["pystray"]}
# Constructors that wire the application together, and the layers allowed to call them.
WIRING = {
    "Store.open": {"root"},
    "KeyStore.open": {"store", "root", "commands"},
    "Engine": {"root", "commands"},
    "Service": {"root"},
}


def module_name(rel: str) -> str:
    """`desktop/server/__init__.py` -> desktop.server, `llm/tasks.py` -> llm.tasks."""
    return dotted(rel)


def _resolve(rel: str, node: ast.ImportFrom) -> str:
    """The absolute module a `from … import` reads from, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    package = module_name(rel).split(".")
    if not rel.endswith("__init__.py"):
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(source: str, rel: str, top_level_only: bool = False) -> list[str]:
    """Every module name the module at `rel` imports; `from a import b` yields `a.b` (b may be a module)."""
    tree = ast.parse(source, filename=rel)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(rel, node)
            out += [base if a.name == "*" else f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and not top_level_only:
            # importlib.import_module("x") / __import__("x") with a literal name.
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                out.append(str(node.args[0].value))
    return out


def layer_of(rel: str) -> str | None:
    """The layer of a module (path relative to the repository), or None if no layer lists it.
    A file listed by name wins over a folder holding it; else the longest folder wins."""
    exact = [layer for layer, paths in LAYERS.items() if rel in paths]
    assert len(exact) <= 1, f"{rel} is listed in several layers: {exact}"
    if exact:
        return exact[0]
    folders = [
        (len(p), layer) for layer, paths in LAYERS.items() for p in paths if p.endswith("/") and rel.startswith(p)
    ]
    return max(folders)[1] if folders else None


def hits(names: list[str], prefixes: list[str]) -> list[str]:
    return [n for n in names if any(n == f or n.startswith(f + ".") for f in prefixes)]


def all_modules() -> dict[str, str]:
    """Every .py under desktop/ and llm/: relative path -> source."""
    files = sorted(p for top in CHECKED for p in (ROOT / top).rglob("*.py"))
    return {p.relative_to(ROOT).as_posix(): p.read_text("utf-8") for p in files}


def calls(source: str) -> list[str]:
    """Names of the functions called: `f(...)` -> f, `A.f(...)` -> A.f."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Name):
                out.append(fn.id)
            elif isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name):
                out.append(f"{fn.value.id}.{fn.attr}")
    return out


def test_every_module_belongs_to_a_layer():
    modules = all_modules()
    assert len(modules) > 30, "the walk found too few modules"
    for must in ("desktop/sessions.py", "desktop/auth.py", "desktop/team_adapter.py", "desktop/commands/keys.py"):
        assert must in modules, must
    unclassified = [rel for rel in modules if layer_of(rel) is None]
    assert not unclassified, "add these modules to a layer in LAYERS (tests/test_boundaries.py):\n" + "\n".join(
        unclassified
    )
    # Every file a layer names exists: a stale entry would silently cover nothing.
    missing = [p for paths in LAYERS.values() for p in paths if not p.endswith("/") and not (ROOT / p).exists()]
    assert not missing, f"LAYERS names modules that do not exist: {missing}"


def test_import_boundaries():
    problems = []
    for rel, source in all_modules().items():
        layer = layer_of(rel)
        if layer is None:
            continue  # reported by test_every_module_belongs_to_a_layer
        for bad in hits(imports(source, rel), forbidden(layer)):
            problems.append(f"{rel} ({layer}) imports {bad}")
    assert not problems, "\n".join(problems)


def test_heavy_or_display_imports_are_lazy():
    problems = []
    for rel, source in all_modules().items():
        for prefix, names in LAZY.items():
            if rel.startswith(prefix):
                for bad in hits(imports(source, rel, top_level_only=True), names):
                    problems.append(f"{rel} imports {bad} at module level")
    assert not problems, "\n".join(problems)


def test_only_the_composition_root_wires_store_engine_and_service():
    problems = []
    for rel, source in all_modules().items():
        layer = layer_of(rel)
        for call in calls(source):
            if call in WIRING and layer not in WIRING[call]:
                problems.append(f"{rel} ({layer}) calls {call}(…)")
    assert not problems, "\n".join(problems)


# -- the checker itself catches what it is for ---------------------------------------------------


def test_relative_and_from_package_imports_are_resolved():
    src = "from ..store import chats\nfrom .. import service\nfrom . import body\n"
    names = imports(src, "desktop/server/routes_x.py")
    assert names == ["desktop.store.chats", "desktop.service", "desktop.server.body"]
    assert hits(names, forbidden("server")) == ["desktop.store.chats"]
    assert imports("from . import routes_x\n", "desktop/server/__init__.py") == ["desktop.server.routes_x"]
    assert imports("from .engine import Engine\n", "llm/x.py") == ["llm.engine.Engine"]
    assert imports("from desktop import service\n", "desktop/auth.py") == ["desktop.service"]
    lazy = "import importlib\ndef f():\n    importlib.import_module('llm.engine')\n"
    assert hits(imports(lazy, "desktop/server/x.py"), forbidden("server")) == ["llm.engine"]
    assert hits(imports(lazy, "desktop/server/x.py", top_level_only=True), ["llm"]) == []


@pytest.mark.parametrize(
    "rel, line",
    [
        ("desktop/sessions.py", "from desktop import server"),
        ("desktop/sessions.py", "from .server import routes_auth"),
        ("desktop/auth.py", "from desktop.store import accounts"),
        ("desktop/auth.py", "from . import service"),
        ("desktop/team_adapter.py", "from aiohttp import web"),
        ("desktop/commands/keys.py", "from desktop.server import create_app"),
        ("desktop/commands/keys.py", "from ..ui import window"),
        ("desktop/config.py", "from llm import catalog"),
        ("desktop/errors.py", "from desktop import sessions"),
        ("desktop/server/routes_auth.py", "from ..store import accounts"),
        ("desktop/server/routes_auth.py", "from llm.tasks import INTENTS"),
        ("desktop/server/routes_auth.py", "from desktop import app"),
        ("desktop/store/chats.py", "from desktop import team_adapter"),
        ("desktop/store/chats.py", "from ..commands import keys"),
        ("desktop/ui/window.py", "from desktop import service"),
        ("desktop/ui/window.py", "from desktop.store import chats"),
        ("llm/tasks.py", "import sqlite3"),
        ("llm/tasks.py", "from desktop import errors"),
    ],
)
def test_a_violation_in_any_layer_is_caught(rel, line):
    layer = layer_of(rel)
    assert layer is not None
    assert hits(imports(line, rel), forbidden(layer)), (rel, line)


def test_allowed_imports_pass():
    for rel, line in [
        ("desktop/server/routes_auth.py", "from desktop.service import Service"),
        ("desktop/sessions.py", "from desktop.store import accounts"),
        ("desktop/commands/keys.py", "from desktop.app import open_store"),
        ("desktop/app.py", "from desktop.server import serve_forever"),
        ("desktop/ui/window.py", "from desktop import app"),
    ]:
        assert not hits(imports(line, rel), forbidden(layer_of(rel))), (rel, line)


def test_an_unclassified_module_is_reported_and_wiring_is_found():
    assert layer_of("desktop/brand_new_concern.py") is None
    assert layer_of("desktop/service.py") == "service"
    assert layer_of("desktop/commands/anything.py") == "commands"
    assert layer_of("desktop/store/new_repo.py") == "store"
    assert "Store.open" in calls("store, setup = Store.open(path, pw)\n")
