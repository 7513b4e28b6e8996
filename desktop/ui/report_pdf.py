"""The PDF report of a period: the dashboard's figures, charts and tables, the customers at risk
and the SLA per attendant, written with matplotlib's PDF backend (no Tk here).

`write` is a job: it reports progress per page and stops when asked, leaving nothing behind
(pages go to a temporary file that is renamed only when complete). `weekly` is what the window's
timer calls: the last complete week's report, once, into the reports folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from desktop.ui import charts
from desktop.ui import format as fmt
from desktop.ui.dashboard_model import Dashboard, build, metrics_params, named, reason_text

A4_LANDSCAPE = (11.69, 8.27)
ROWS_PER_PAGE = 22
Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """The report was cancelled; no file was written."""


def period_text(d: Dashboard, lang: str) -> str:
    return f"{fmt.day(d.first, lang)} – {fmt.day(d.last, lang)}"


def _number(n: int | float, lang: str) -> str:
    text = f"{n:,.0f}"
    return text.replace(",", ".") if lang == "pt_BR" else text


def kpi_rows(d: Dashboard, t) -> list[tuple[str, str]]:
    """(label, value) of the report's summary, formatted for its language."""
    k, lang = d.kpis, t.lang
    return [
        (t("dash.kpi.conversations"), _number(k["conversations"], lang)),
        (t("dash.kpi.messages_in"), _number(k["messages_in"], lang)),
        (t("dash.kpi.first_response_p50"), fmt.duration(k["first_response_p50"], lang)),
        (t("dash.kpi.first_response_met"), fmt.percent(k["first_response_met"], lang)),
        (t("dash.kpi.resolution_met"), fmt.percent(k["resolution_met"], lang)),
        (t("dash.kpi.pipeline_value"), fmt.money(k["pipeline_value"], lang)),
        (t("dash.kpi.health_average"), "—" if k["health_average"] is None else f"{k['health_average']:.0f}"),
        (t("dash.kpi.at_risk"), str(k["at_risk"])),
    ]


def attendant_rows(d: Dashboard, t) -> list[tuple[str, ...]]:
    """The per-attendant SLA table: conversations, first response p50/p90 and share within the
    target, median resolution against its target, share of negative conversations."""
    lang = t.lang
    target = d.sla_resolution_hours
    rows = []
    for a in d.attendants:
        res = a["resolution_p50"]
        within = "" if res is None or target is None else (" ✓" if res <= target * 3600 else " ✗")
        rows.append((
            a["name"],
            _number(a["conversations"], lang),
            fmt.duration(a["first_response_p50"], lang),
            fmt.duration(a["first_response_p90"], lang),
            fmt.percent(a["first_response_met"], lang),
            fmt.duration(res, lang) + within,
            fmt.percent(a["negative_share"], lang),
        ))  # fmt: skip
    return rows


def top_rows(d: Dashboard, t) -> list[tuple[str, ...]]:
    return [
        (
            r.get("name") or t("dash.unnamed"),
            named(t, "dash.stage", r.get("stage") or ""),
            fmt.money(r["value"], t.lang),
        )
        for r in d.top_contacts
    ]


def risk_rows(d: Dashboard, t) -> list[tuple[str, ...]]:
    return [
        (
            r.get("name") or t("dash.unnamed"),
            str(r.get("score")),
            "—" if r.get("previous") is None else str(r["previous"]),
            "; ".join(reason_text(x, t) for x in r.get("reasons") or []),
        )
        for r in d.at_risk
    ]


def _page(title: str, subtitle: str) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE, dpi=100, facecolor="white")
    fig.text(0.04, 0.95, title, fontsize=16, weight="bold", color=charts.INK, va="top")
    fig.text(0.04, 0.91, subtitle, fontsize=10, color=charts.MUTED, va="top")
    return fig


def _table(
    fig: Figure,
    rect: tuple[float, float, float, float],
    header: list[str],
    rows: list[tuple[str, ...]],
    widths: list[float] | None = None,
    empty: str = "",
    font: float = 8.5,
) -> None:
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    if not rows:
        ax.text(0, 1, empty, fontsize=10, color=charts.MUTED, va="top", wrap=True)
        return
    table = ax.table(
        cellText=[list(r) for r in rows],
        colLabels=header,
        loc="upper left",
        cellLoc="left",
        colWidths=widths,
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(font)
    table.scale(1, 1.5 if font > 9 else 1.35)
    for (row, _col), cell in table.get_celld().items():
        cell.set_edgecolor("#d5dae2")
        if row == 0:
            cell.set_text_props(weight="bold", color=charts.INK)


def pages(d: Dashboard, t, scope: str, generated: datetime) -> list[Callable[[], Figure]]:
    """The report's pages, each built only when its turn comes (so progress and cancel are per page)."""
    title = t("report.title")
    sub = f"{period_text(d, t.lang)} · {scope} · {t('report.generated', when=generated.strftime('%d/%m/%Y %H:%M'))}"

    def summary() -> Figure:
        fig = _page(title, sub)
        _table(
            fig,
            (0.04, 0.35, 0.5, 0.5),
            [t("report.col.figure"), t("report.col.value")],
            kpi_rows(d, t),
            [0.65, 0.35],
            font=12,
        )
        fig.text(
            0.58,
            0.84,
            t(
                "report.sla_targets",
                first=f"{d.sla_first_response_minutes or 0:g}",
                resolution=f"{d.sla_resolution_hours or 0:g}",
            ),
            fontsize=9,
            color=charts.INK,
            va="top",
            wrap=True,
        )
        fig.text(0.58, 0.78, t("report.notes"), fontsize=8, color=charts.MUTED, va="top", wrap=True)
        return fig

    def two_charts(first: str, second: str) -> Callable[[], Figure]:
        def build_page() -> Figure:
            fig = _page(title, sub)
            _header, top, bottom = fig.subfigures(3, 1, height_ratios=[0.24, 1, 1])
            for sf, key in ((top, first), (bottom, second)):
                charts.DRAW[key](sf, d, t)
                for ax in sf.axes:
                    ax.tick_params(labelsize=9)
                sf.subplots_adjust(left=0.17, right=0.96, top=0.84, bottom=0.16, wspace=0.4)
                sf.text(0.04, 0.97, t(f"dash.chart.{key}"), fontsize=11, weight="bold", color=charts.INK, va="top")
            return fig

        return build_page

    def sla_table() -> Figure:
        fig = _page(t("report.attendants"), sub)
        header = [
            t(f"report.col.{c}")
            for c in ("attendant", "conversations", "frt_p50", "frt_p90", "frt_met", "resolution_p50", "negative")
        ]
        _table(
            fig,
            (0.04, 0.1, 0.92, 0.76),
            header,
            attendant_rows(d, t),
            [0.2, 0.11, 0.13, 0.13, 0.13, 0.17, 0.13],
            t("dash.empty.sla"),
        )
        return fig

    def contacts(chunk: list[tuple[str, ...]], first_page: bool) -> Callable[[], Figure]:
        def build_page() -> Figure:
            fig = _page(t("dash.chart.at_risk") if not first_page else t("report.contacts"), sub)
            if first_page:
                fig.text(0.04, 0.86, t("dash.chart.top_contacts"), fontsize=11, weight="bold", color=charts.INK)
                _table(
                    fig,
                    (0.04, 0.5, 0.55, 0.35),
                    [t("dash.col.name"), t("dash.col.stage"), t("dash.col.value")],
                    top_rows(d, t),
                    [0.5, 0.25, 0.25],
                    t(d.empty.get("top_contacts", "")),
                )
                fig.text(0.04, 0.45, t("dash.chart.at_risk"), fontsize=11, weight="bold", color=charts.INK)
                rect = (0.04, 0.04, 0.92, 0.4)
            else:
                rect = (0.04, 0.04, 0.92, 0.82)
            header = [t("dash.col.name"), t("dash.col.score"), t("dash.col.previous"), t("dash.col.reasons")]
            _table(fig, rect, header, chunk, [0.25, 0.08, 0.08, 0.59], t(d.empty.get("at_risk", "")))
            return fig

        return build_page

    risks = risk_rows(d, t)
    out = [
        summary,
        two_charts("daily", "sentiment"),
        two_charts("intents", "funnel"),
        two_charts("sla", "efficiency"),
        sla_table,
        contacts(risks[:8], True),
    ]
    for start in range(8, len(risks), ROWS_PER_PAGE):
        out.append(contacts(risks[start : start + ROWS_PER_PAGE], False))
    return out


def write(
    path: Path,
    d: Dashboard,
    t,
    scope: str,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    now: datetime | None = None,
) -> Path:
    """Write the report to `path` (renamed into place when complete); Cancelled leaves no file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    todo = pages(d, t, scope, now or datetime.now())
    fd, tmp = tempfile.mkstemp(prefix=".conversa-report-", suffix=".pdf", dir=path.parent)
    os.close(fd)
    try:
        with matplotlib.rc_context({"pdf.fonttype": 42}), charts.render_lock():
            with PdfPages(
                tmp, metadata={"Title": f"{t('report.title')} {period_text(d, t.lang)}", "Creator": "Conversa"}
            ) as pdf:
                for i, make in enumerate(todo):
                    if cancelled and cancelled():
                        raise Cancelled
                    pdf.savefig(make())
                    if progress:
                        progress(i + 1, len(todo))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def fetch(client, first: date, last: date, user: str | None = None) -> Dashboard:
    """The report's data from the API (`GET /metrics`)."""
    return build(client.get("/metrics", **metrics_params(first, last, user)), first.isoformat(), last.isoformat(), user)


def last_week(today: date) -> tuple[date, date]:
    """Monday to Sunday of the last complete week before `today`."""
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def weekly_name(first: date) -> str:
    year, week, _ = first.isocalendar()
    return f"conversa-semana-{year}-W{week:02d}.pdf"


def weekly(client, folder: Path, t, today: date | None = None, scope: str = "") -> Path | None:
    """The last complete week's report into `folder`, unless it is there already; the path written
    or None. Called by the window's timer (off the Tk thread: it asks the API and draws pages)."""
    first, last = last_week(today or date.today())
    path = Path(folder) / weekly_name(first)
    if path.exists():
        return None
    d = fetch(client, first, last)
    return write(path, d, t, scope or (client.user or {}).get("username", ""))


def default_folder() -> Path:
    """Where weekly reports go unless the window is told otherwise: Documents/Conversa/relatorios."""
    import platformdirs

    return platformdirs.user_documents_path() / "Conversa" / "relatorios"
