"""pt-BR/en formatting for the window and reports: R$ values, durations, dates, plurals.

Pure functions (no Tk), unit-tested; ``lang`` is "pt_BR" or "en"."""

from __future__ import annotations

import re
from datetime import date, datetime


def money(value: float | None, lang: str = "pt_BR", *, cents: bool = True) -> str:
    """R$ 1.234,56 (pt-BR) or R$1,234.56 (en); "—" for no value."""
    if value is None:
        return "—"
    digits = 2 if cents else 0
    text = f"{abs(value):,.{digits}f}"
    if lang == "pt_BR":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return f"{'-' if value < 0 else ''}R$ {text}"
    return f"{'-' if value < 0 else ''}R${text}"


_MONEY_PT = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d{1,2})?$|^-?\d+(,\d{1,2})?$")


def parse_money(text: str, lang: str = "pt_BR") -> float | None:
    """What an attendant types in a value field → a number; None for empty; ValueError if unclear.
    pt-BR: "1.234,50", "1234,5", "R$ 200"; en: "1,234.50"."""
    t = text.strip().replace("R$", "").replace("\u00a0", "").strip()
    if not t:
        return None
    if lang == "pt_BR":
        if not _MONEY_PT.match(t):
            raise ValueError(text)
        return float(t.replace(".", "").replace(",", "."))
    return float(t.replace(",", ""))


def duration(seconds: float | None, lang: str = "pt_BR") -> str:
    """45 s, 12 min, 3 h 05 min, 2 d 4 h — "—" for none."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, h, d = s // 60, s // 3600, s // 86400
    if s < 3600:
        return f"{m} min"
    if s < 86400:
        return f"{h} h {m % 60:02d} min"
    return f"{d} d {h % 24} h"


def day(value: str | date | datetime, lang: str = "pt_BR") -> str:
    """01/12/2026 (pt-BR) or 2026-12-01 (en) from an ISO date/datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
    d = value.date() if isinstance(value, datetime) else value
    return d.strftime("%d/%m/%Y") if lang == "pt_BR" else d.isoformat()


def plural(n: int, one: str, many: str) -> str:
    """"1 mensagem", "2 mensagens" — the count and the right form."""
    return f"{n} {one if n == 1 else many}"


def percent(ratio: float | None, lang: str = "pt_BR", digits: int = 0) -> str:
    if ratio is None:
        return "—"
    text = f"{ratio * 100:.{digits}f}"
    return (text.replace(".", ",") if lang == "pt_BR" else text) + " %"
