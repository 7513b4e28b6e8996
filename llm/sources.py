"""What a business already knows, handed to the analysis for grounded suggestions.

Filled by the service (retrieval over the knowledge base and the team's past replies) and
consumed by the reply ranking; plain data so llm/ stays free of storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Passage:
    """A retrieved piece of the shop's knowledge: a FAQ/policy paragraph or a catalogue row.
    ``fields`` holds a catalogue row's columns (e.g. product, price, stock, sku)."""

    id: str
    title: str
    text: str
    score: float = 0.0
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TeamReply:
    """What an attendant of this team answered to a similar customer turn (another chat)."""

    text: str
    customer_turn: str
    intent: str | None = None
    score: float = 0.0
