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
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 60},
        "company": {"type": "string", "maxLength": 60},
        "stage": {"enum": list(STAGES)},
        "value": {"type": "string", "maxLength": 20},
    },
    "required": ["name", "company", "stage", "value"],
}
PROMPT = (
    '<|im_start|>system\nExtract the customer\'s data from the CRM note as JSON. Use "" when a field'
    " is not in the note.<|im_end|>\n<|im_start|>user\n{block}<|im_end|>\n<|im_start|>assistant\n"
)
MAX_BLOCK_CHARS = 1200
MAX_TOKENS = 80
_grammar: Any = None


def extract(llama: Any, block: str, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """The model's fields for `block` ({} when its answer is not JSON): unchecked, see the module doc."""
    global _grammar
    from llama_cpp import LlamaGrammar

    if _grammar is None:
        _grammar = LlamaGrammar.from_json_schema(json.dumps(SCHEMA), verbose=False)
    if cancelled():
        raise Cancelled("cancelled")
    out = llama.create_completion(
        PROMPT.format(block=block[:MAX_BLOCK_CHARS]),
        max_tokens=MAX_TOKENS,
        temperature=0.0,
        grammar=_grammar,
    )
    try:
        data = json.loads(out["choices"][0]["text"])
    except (json.JSONDecodeError, KeyError, IndexError):
        return {}
    return data if isinstance(data, dict) else {}
