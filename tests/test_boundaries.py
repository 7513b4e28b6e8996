"""The import table of DESIGN.md "Boundaries", enforced by parsing every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# package path -> forbidden import prefixes
RULES = {
    "llm": ["desktop", "aiohttp", "tkinter", "pystray", "sqlite_utils", "sqlite3"],
    "desktop/store": [
        "aiohttp",
        "tkinter",
        "pystray",
        "llm",
        "llama_cpp",
        "desktop.server",
        "desktop.ui",
        "desktop.service",
        "desktop.usecases",
    ],
    "desktop/service.py": ["aiohttp", "tkinter", "pystray", "llama_cpp"],
    "desktop/usecases": ["aiohttp", "tkinter", "pystray", "llama_cpp", "desktop.server", "desktop.ui"],
    "desktop/server": ["tkinter", "pystray", "llama_cpp", "sqlite_utils", "sqlite3", "desktop.store", "llm"],
    "desktop/ui": [
        "desktop.store",
        "desktop.service",
        "desktop.usecases",
        "llm",
        "llama_cpp",
        "desktop.server",
        "sqlite_utils",
    ],
}
# Modules that must import these only inside functions (lazily).
LAZY = {"llm": ["llama_cpp"], "desktop": ["pystray"]}


def _imports(path: Path, top_level_only: bool = False) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _files(rel: str) -> list[Path]:
    p = ROOT / rel
    return [p] if p.is_file() else sorted(p.rglob("*.py")) if p.exists() else []


def _hits(names: list[str], forbidden: list[str]) -> list[str]:
    return [n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)]


def test_import_boundaries():
    problems = []
    for rel, forbidden in RULES.items():
        for f in _files(rel):
            for bad in _hits(_imports(f), forbidden):
                problems.append(f"{f.relative_to(ROOT)} imports {bad}")
    assert not problems, "\n".join(problems)


def test_heavy_or_display_imports_are_lazy():
    problems = []
    for rel, names in LAZY.items():
        for f in _files(rel):
            for bad in _hits(_imports(f, top_level_only=True), names):
                problems.append(f"{f.relative_to(ROOT)} imports {bad} at module level")
    assert not problems, "\n".join(problems)


def test_rules_catch_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import aiohttp\nfrom desktop.store import chats\n")
    assert _hits(_imports(bad), RULES["desktop/server"]) == ["desktop.store"]
