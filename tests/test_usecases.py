"""The use-case modules behind the Service facade: one stage list, errors that never vanish."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from desktop import pipeline

ROOT = Path(__file__).resolve().parent.parent


def test_the_stage_list_is_defined_once():
    """Python code names the stages through desktop.pipeline; the extension's copy matches it."""
    copies = []
    for f in sorted((ROOT / "desktop").rglob("*.py")):
        if f.name == "pipeline.py":
            continue
        for node in ast.walk(ast.parse(f.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and node.value in pipeline.STAGES:
                copies.append(f"{f.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not copies, "stage names written outside desktop/pipeline.py:\n" + "\n".join(copies)
    js = (ROOT / "extension" / "panel" / "model.js").read_text("utf-8")
    m = re.search(r"export const STAGES = (\[[^\]]*\]);", js)
    assert m and tuple(json.loads(m.group(1).replace("'", '"'))) == pipeline.STAGES
