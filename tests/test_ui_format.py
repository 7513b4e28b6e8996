"""pt-BR/en formatting of the desktop window (no Tk)."""

import pytest

from desktop.ui import format as fmt


def test_money():
    assert fmt.money(1234.5) == "R$ 1.234,50"
    assert fmt.money(1234.5, "en") == "R$1,234.50"
    assert fmt.money(-3) == "-R$ 3,00"
    assert fmt.money(None) == "—"


@pytest.mark.parametrize("text, value", [("1.234,50", 1234.5), ("R$ 200", 200.0), ("1234,5", 1234.5), ("", None)])
def test_parse_money_pt(text, value):
    assert fmt.parse_money(text) == value


def test_parse_money_rejects_ambiguous():
    with pytest.raises(ValueError):
        fmt.parse_money("1,234.50")


def test_duration_and_plural():
    assert [fmt.duration(s) for s in (None, 42, 720, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "—", "42 s", "12 min", "3 h 05 min", "2 d 4 h"]
    assert fmt.plural(1, "mensagem", "mensagens") == "1 mensagem"
    assert fmt.plural(2, "mensagem", "mensagens") == "2 mensagens"


def test_day_and_percent():
    assert fmt.day("2026-12-01") == "01/12/2026"
    assert fmt.day("2026-12-01T10:00:00-03:00", "en") == "2026-12-01"
    assert fmt.percent(0.125, digits=1) == "12,5 %"
