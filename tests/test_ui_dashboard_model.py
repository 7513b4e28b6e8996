"""The dashboard's presentation logic without Tk: periods, series from a /metrics answer, empty
states, SLA colours, translated labels; and the charts drawn from them on a plain Figure."""

from __future__ import annotations

from datetime import date

import pytest
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from desktop.ui import charts, report_pdf
from desktop.ui.dashboard_model import build, metrics_params, named, period, reason_text, sla_colour
from desktop.ui.i18n import Strings

METRICS = {
    "volumes": {"conversations": 5, "messages_in": 9, "messages_out": 8, "open": 2},
    "sentiment": {"negative": 2, "positive": 3},
    "intent": {"complaint": 1, "purchase_pricing": 3, "brand_new": 1, "other": 0},
    "first_response_seconds": {"p50": 600.0, "p90": 1800.0, "n": 7},
    "funnel": [{"stage": "lead", "contacts": 2, "value": 2000}, {"stage": "qualified", "contacts": 0, "value": 0},
               {"stage": "won", "contacts": 1, "value": 30000}],
    "pipeline_value": 2000,
    "daily": [
        {"day": "2026-03-01", "conversations": 2, "messages_in": 3, "sentiment": {"positive": 1}},
        {"day": "2026-03-02", "conversations": 0, "messages_in": 0, "sentiment": {}},
        {"day": "2026-03-03", "conversations": 3, "messages_in": 6, "sentiment": {"negative": 2, "neutral": 1}},
    ],
    "attendants": [
        {"user": "u_ana", "username": "ana", "conversations": 3,
         "first_response_seconds": {"p50": 300.0, "p90": 900.0, "n": 4}, "resolution_seconds": {"p50": 7200.0, "n": 2}},
        {"user": "u_bia", "username": "bia", "conversations": 2,
         "first_response_seconds": {"p50": 1800.0, "p90": 1800.0, "n": 3}, "resolution_seconds": {"p50": None, "n": 0}},
        {"user": "u_caio", "username": "caio", "conversations": 0,
         "first_response_seconds": {"p50": None, "p90": None, "n": 0}, "resolution_seconds": {"p50": None, "n": 0}},
    ],
    "sla": {"first_response_minutes": 15, "resolution_hours": 24, "first_response_met": 0.5714, "resolution_met": 1.0},
    "top_contacts": [{"contact_id": "k1", "name": "Fábio", "stage": "won", "value": 30000}],
    "health": {"contacts_scored": 4, "average": 61.5, "contacts": []},
    "at_risk": [{"contact_id": "k2", "name": "Gabi", "score": 25, "previous": 75, "stage": "lead",
                 "reasons": [{"code": "negative_trend", "text": "x"}, {"code": "new_code", "text": "texto novo"}]}],
}  # fmt: skip


def test_periods_are_inclusive_days_up_to_today():
    today = date(2026, 3, 15)
    assert period("7d", today) == (date(2026, 3, 9), today)
    assert period("30d", today) == (date(2026, 2, 14), today)
    assert period("month", today) == (date(2026, 3, 1), today)
    assert period("last_month", today) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period("last_month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert metrics_params(date(2026, 3, 1), date(2026, 3, 2), None) == {"from": "2026-03-01", "to": "2026-03-02"}
    assert metrics_params(date(2026, 3, 1), date(2026, 3, 2), "u1")["user"] == "u1"


def test_series_from_a_metrics_answer():
    d = build(METRICS, "2026-03-01", "2026-03-03")
    assert d.days == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert d.conversations == [2, 0, 3] and d.messages_in == [3, 0, 6]
    assert d.sentiment == {"positive": [1, 0, 0], "neutral": [0, 0, 1], "negative": [0, 0, 2]}
    assert [(b.label, b.value) for b in d.intents] == [("purchase_pricing", 3), ("brand_new", 1), ("complaint", 1)]
    # Minutes and hours per attendant; an attendant without a reply has no bar and no dot.
    assert [(b.label, b.value, b.ref) for b in d.first_response] == [("ana", 5.0, "u_ana"), ("bia", 30.0, "u_bia")]
    assert [(b.label, b.value) for b in d.resolution] == [("ana", 2.0)]
    assert [(p.label, p.x, p.y, p.ref) for p in d.efficiency] == [("ana", 3, 5.0, "u_ana"), ("bia", 2, 30.0, "u_bia")]
    assert [(b.label, b.value, b.amount) for b in d.funnel] == [("lead", 2, 2000), ("qualified", 0, 0),
                                                                ("won", 1, 30000)]
    assert d.kpis["pipeline_value"] == 2000 and d.kpis["at_risk"] == 1 and d.kpis["first_response_p50"] == 600.0
    assert d.sla_first_response_minutes == 15 and d.sla_resolution_hours == 24
    assert d.empty == {}


def test_each_empty_chart_says_what_to_do():
    d = build({"daily": [{"day": "2026-03-01", "conversations": 0, "messages_in": 0, "sentiment": {}}]},
              "2026-03-01", "2026-03-01")
    assert set(d.empty) == {"daily", "sentiment", "intents", "sla", "efficiency", "funnel", "top_contacts",
                            "at_risk"}
    assert d.empty["at_risk"] == "dash.empty.health"  # nothing scored is not "nobody at risk"
    t = Strings("pt_BR")
    for key in d.empty.values():
        assert t(key) != key and len(t(key)) > 20
    scored = build({"health": {"contacts_scored": 3}}, "2026-03-01", "2026-03-01")
    assert scored.empty["at_risk"] == "dash.empty.at_risk"


def test_labels_reasons_and_colours():
    pt, en = Strings("pt_BR"), Strings("en")
    assert named(pt, "dash.intent", "purchase_pricing") == "Compra / preço"
    assert named(en, "dash.stage", "won") == "Won"
    assert named(pt, "dash.intent", "brand_new") == "brand_new"
    reasons = METRICS["at_risk"][0]["reasons"]
    assert reason_text(reasons[0], en) == "negative sentiment in the latest analyses"
    assert reason_text(reasons[1], en) == "texto novo"  # a code the window does not know: the server's text
    assert sla_colour(10, 15) == "#2e9e6a" and sla_colour(16, 15) == "#d64545" and sla_colour(1, None) == "#8a94a6"


def test_charts_draw_the_series_and_empty_states():
    t = Strings("pt_BR")
    d = build(METRICS, "2026-03-01", "2026-03-03")
    fig = charts.new_figure()
    charts.draw_daily(fig, d, t)
    (bars,) = fig.axes[0].collections  # one artist for all the days' bars
    assert [(min(p.vertices[:, 0]), max(p.vertices[:, 1])) for p in bars.get_paths()] == [(-0.4, 2), (0.6, 0), (1.6, 3)]
    assert [x.get_text() for x in fig.axes[0].get_xticklabels()] == ["01/03", "02/03", "03/03"]

    charts.draw_sla(fig, d, t)
    left, right = fig.axes
    assert [(p.get_width(), p.get_gid()) for p in left.patches] == [(5.0, "u_ana"), (30.0, "u_bia")]
    assert [p.get_facecolor()[:3] for p in left.patches][1][0] > 0.8  # bia is past the 15-minute target: red
    assert any(isinstance(line, Line2D) and line.get_xdata()[0] == 15 for line in left.lines)

    charts.draw_efficiency(fig, d, t)
    dots = [line for line in fig.axes[0].lines if line.get_gid()]
    assert [(line.get_xdata()[0], line.get_ydata()[0], line.get_gid()) for line in dots] == [
        (3, 5.0, "u_ana"), (2, 30.0, "u_bia")]

    charts.draw_funnel(fig, d, t)
    labels = [x.get_text() for x in fig.axes[0].texts]
    assert labels == ["R$ 2.000", "R$ 0", "R$ 30.000"]

    empty = build({}, "2026-03-01", "2026-03-01")
    for key in charts.CHARTS:
        charts.DRAW[key](fig, empty, t)
        assert not fig.axes
        assert [x.get_text() for x in fig.texts] == [t(empty.empty[key])]


def test_report_tables_are_formatted_for_their_language():
    pt, en = Strings("pt_BR"), Strings("en")
    d = build(METRICS, "2026-03-01", "2026-03-03")
    assert dict(report_pdf.kpi_rows(d, pt))["Valor em negociação"] == "R$ 2.000,00"
    assert dict(report_pdf.kpi_rows(d, en))["Pipeline value"] == "R$2,000.00"
    assert dict(report_pdf.kpi_rows(d, pt))["1ª resposta no SLA"] == "57 %"
    rows = report_pdf.attendant_rows(d, pt)
    assert rows[0] == ("ana", "3", "5 min", "15 min", "—", "2 h 00 min ✓", "—")
    assert rows[2] == ("caio", "0", "—", "—", "—", "—", "—")
    assert report_pdf.top_rows(d, en) == [("Fábio", "Won", "R$30,000.00")]
    assert report_pdf.risk_rows(d, pt) == [("Gabi", "25", "75", "sentimento negativo nas últimas análises; texto novo")]
    assert report_pdf.period_text(d, "pt_BR") == "01/03/2026 – 03/03/2026"


def test_weekly_report_covers_the_last_complete_week():
    assert report_pdf.last_week(date(2026, 3, 16)) == (date(2026, 3, 9), date(2026, 3, 15))  # a Monday
    assert report_pdf.last_week(date(2026, 3, 22)) == (date(2026, 3, 9), date(2026, 3, 15))  # a Sunday
    assert report_pdf.weekly_name(date(2026, 3, 9)) == "conversa-semana-2026-W11.pdf"
    assert report_pdf.weekly_name(date(2025, 12, 29)) == "conversa-semana-2026-W01.pdf"


def test_a_cancelled_report_leaves_no_file(tmp_path):
    d = build(METRICS, "2026-03-01", "2026-03-03")
    seen = []
    with pytest.raises(report_pdf.Cancelled):
        report_pdf.write(tmp_path / "r.pdf", d, Strings(), "equipe", progress=lambda a, b: seen.append((a, b)),
                         cancelled=lambda: len(seen) >= 2)
    assert seen == [(1, 6), (2, 6)] and list(tmp_path.iterdir()) == []


def _bar_reference(fig, d, t) -> None:
    """The sentiment chart as it was drawn with ax.bar (one Rectangle per bar)."""
    fig.clear()
    ax = fig.add_subplot()
    charts._style(ax)
    bottom = [0] * len(d.days)
    for label in ("positive", "neutral", "negative"):
        values = d.sentiment.get(label, [0] * len(d.days))
        ax.bar(range(len(d.days)), values, bottom=bottom, width=0.8, color=charts.SENTIMENT_COLOURS[label],
               label=t(f"dash.sentiment.{label}"))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    charts._day_ticks(ax, d.days, t.lang)
    ax.set_ylabel(t("dash.axis.analyses"), fontsize=8, color=charts.MUTED)
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=3)


@pytest.mark.parametrize("daily", [
    METRICS["daily"],
    # Every day one neutral analysis: the zero-height negative bars sit at 1 (no margin above 1).
    [{"day": f"2026-03-0{i}", "conversations": 1, "sentiment": {"neutral": 1}} for i in range(1, 8)],
])
def test_day_bars_are_the_pixels_ax_bar_drew(monkeypatch, daily):
    """The day bars are one artist per series (fast) but exactly the pixels of one Rectangle per bar."""
    t = Strings("pt_BR")
    d = build(dict(METRICS, daily=daily), daily[0]["day"], daily[-1]["day"])
    fast = charts.render("sentiment", d, t, 640, 270, 104)
    monkeypatch.setitem(charts.DRAW, "sentiment", _bar_reference)
    slow = charts.render("sentiment", d, t, 640, 270, 104)
    assert len(slow.axes[0].patches) == 3 * len(daily) and not fast.axes[0].patches
    assert bytes(fast.canvas.buffer_rgba()) == bytes(slow.canvas.buffer_rgba())
