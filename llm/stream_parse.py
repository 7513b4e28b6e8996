"""Reading the model's streamed JSON answer: suggestions as they arrive, the final object."""

from __future__ import annotations

import json
import re

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "r": "", "b": "", "f": ""}


def partial_suggestions(raw: str) -> list[str]:
    """Suggestion strings found so far in partial JSON output (the last may be incomplete)."""
    m = re.search(r'"suggestions"\s*:\s*\[', raw)
    if not m:
        return []
    out: list[str] = []
    i = m.end()
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == "]":
            break
        if c != '"':
            i += 1
            continue
        i += 1
        buf = []
        while i < n and raw[i] != '"':
            if raw[i] == "\\" and i + 1 < n:
                nxt = raw[i + 1]
                if nxt == "u" and i + 5 < n:
                    try:
                        buf.append(chr(int(raw[i + 2 : i + 6], 16)))
                    except ValueError:
                        pass
                    i += 6
                    continue
                buf.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if raw[i] == "\\":
                break
            buf.append(raw[i])
            i += 1
        out.append("".join(buf))
        i += 1
    return out


def parse_suggestions(raw: str) -> tuple[list[str], str]:
    """(suggestions, summary) of the finished answer; when cut off by max_tokens, the complete ones."""
    try:
        data = json.loads(raw)
        return [s for s in data.get("suggestions", []) if isinstance(s, str)], str(data.get("summary") or "")
    except (json.JSONDecodeError, AttributeError):
        return partial_suggestions(raw)[:-1], ""
