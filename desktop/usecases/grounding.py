"""The retrieval query of a moment: what the customer said since the attendant last wrote."""

from __future__ import annotations

from typing import Any

MAX_MESSAGES = 3
MIN_CHARS = 25  # a turn shorter than this ("e o preço?") is read with the customer's turn before it


def customer_query(messages: list[dict[str, Any]]) -> str:
    """The customer's last turn (their last messages after the attendant's last one), joined;
    with the turn before it when it is too short to retrieve on. Empty: nothing to answer."""
    turns: list[list[str]] = [[]]
    for m in messages:
        if m.get("kind", "text") != "text" or not (m.get("text") or "").strip():
            continue
        if m["direction"] == "in":
            turns[-1].append(m["text"].strip())
        elif turns[-1]:
            turns.append([])
    turns = [t for t in turns if t]
    if not turns:
        return ""
    last = turns[-1][-MAX_MESSAGES:]
    query = " ".join(last)
    if len(query) < MIN_CHARS and len(turns) > 1:
        query = " ".join(turns[-2][-MAX_MESSAGES:]) + " " + query
    return query
