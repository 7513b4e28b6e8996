"""The model's reading of one customer block, constrained to a small JSON schema.

Only a fallback for what the rules of desktop/lead_parse.py could not read: the caller keeps
the rules' values and accepts from here only what it can check (a name or company that occurs
in the block, a stage of the pipeline, a value the money rules read).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from llm.errors import Cancelled

STAGES = ("lead", "qualified", "proposal", "won", "lost")
PROPERTIES = {
    "name": {"type": "string", "maxLength": 60},
    "company": {"type": "string", "maxLength": 60},
    "stage": {"enum": list(STAGES)},
    "value": {"type": "string", "maxLength": 20},
}
PROMPT = (
    '<|im_start|>system\nExtract the customer\'s data from the CRM note as JSON. Use "" when a field'
    " is not in the note.<|im_end|>\n<|im_start|>user\n{block}<|im_end|>\n<|im_start|>assistant\n"
)
MAX_BLOCK_CHARS = 1200
MAX_TOKENS = 80
_grammars: dict[tuple[str, ...], Any] = {}


def schema(fields: tuple[str, ...]) -> dict[str, Any]:
    """Only the fields asked for: every token generated costs time on a small CPU."""
    return {"type": "object", "properties": {f: PROPERTIES[f] for f in fields}, "required": list(fields)}


def extract(llama: Any, block: str, cancelled: Callable[[], bool], fields: tuple[str, ...]) -> dict[str, Any]:
    """The model's `fields` for `block` ({} when its answer is not JSON): unchecked, see the module doc."""
    from llama_cpp import LlamaGrammar

    fields = tuple(f for f in PROPERTIES if f in fields)
    if not fields:
        return {}
    if fields not in _grammars:
        _grammars[fields] = LlamaGrammar.from_json_schema(json.dumps(schema(fields)), verbose=False)
    if cancelled():
        raise Cancelled("cancelled")
    out = llama.create_completion(
        PROMPT.format(block=block[:MAX_BLOCK_CHARS]),
        max_tokens=MAX_TOKENS,
        temperature=0.0,
        grammar=_grammars[fields],
    )
    try:
        data = json.loads(out["choices"][0]["text"])
    except (json.JSONDecodeError, KeyError, IndexError):
        return {}
    return data if isinstance(data, dict) else {}
