"""Facts a conversation states in so many words: order numbers, amounts, dates.

Found with patterns, never guessed: what they return is text copied from the chat, so it can
be shown to the attendant (extractive summary) or kept in the prompt when old turns are cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_AMOUNT = re.compile(
    r"(?:R\$|US\$|\$|€|£)\s?\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?"
    r"|\b\d+(?:[.,]\d{1,2})?\s?(?:reais|real|dólares|dolares|dollars|bucks|euros)\b",
    re.I,
)
_ORDER = re.compile(
    r"(?:#\s?|\b(?:pedido|encomenda|protocolo|rastreio|rastreamento|c[oó]digo|order|tracking|ticket|case)"
    r"(?:\s+(?:é|e|is)(?:\s+(?:o|do))?)?(?:\s*(?:n[ºo°.]|number|n[uú]mero|de\s+n[uú]mero))?\s*[:#]?\s*)"
    r"([A-Z]{0,3}\d[\d-]{2,}[A-Z]{0,2})\b",
    re.I,
)
_MONTHS = (
    "janeiro|fevereiro|março|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro|"
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|fev|mar|apr|abr|jun|jul|aug|ago|sep|set|oct|out|nov|dec|dez"
)
_DATE = re.compile(
    r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    r"|\b\d{4}-\d{2}-\d{2}\b"
    rf"|\b\d{{1,2}}\s+de\s+(?:{_MONTHS})\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b"
    r"|\bdia\s+\d{1,2}\b"
    r"|\b(?:segunda|terça|terca|quarta|quinta|sexta)-feira\b|\b(?:sábado|sabado|domingo)\b"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.I,
)


def _unique(found: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for f in found:
        f = f.strip().rstrip(".,")
        key = re.sub(r"\s+", "", f.lower())
        if f and key not in seen:
            seen.add(key)
            out.append(f)
    return out


def amounts(texts: Iterable[str]) -> list[str]:
    """Money amounts as written ("R$ 180,41", "$25"), first mention first."""
    return _unique(m.group(0) for t in texts for m in _AMOUNT.finditer(t or ""))


def order_numbers(texts: Iterable[str]) -> list[str]:
    """Order, tracking or ticket numbers: digits after "#" or after a word such as "pedido"."""
    out = []
    for t in texts:
        for m in _ORDER.finditer(t or ""):
            number = m.group(1)
            if sum(c.isdigit() for c in number) >= 3:
                hashed = m.group(0)[: m.start(1) - m.start(0)].rstrip().endswith("#")
                out.append(("#" if hashed else "") + number)
    return _unique(out)


def dates(texts: Iterable[str]) -> list[str]:
    """Calendar dates and weekdays as written ("12/03", "15 de março", "Friday")."""
    return _unique(m.group(0) for t in texts for m in _DATE.finditer(t or ""))


def all_facts(texts: Iterable[str], limit: int = 3) -> list[str]:
    """Order numbers, then amounts, then dates; at most ``limit`` of them."""
    texts = list(texts)
    return (order_numbers(texts) + amounts(texts) + dates(texts))[:limit]
