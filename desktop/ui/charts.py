"""matplotlib figures drawn from the dashboard model's plain series (no Tk here: the dashboard
embeds them with FigureCanvasTkAgg, the PDF report prints the same figures).

Each `draw_*` fills one Figure; a chart without data shows its empty-state text instead of axes.
Clickable artists (bars, dots) carry the id they open in `gid` and are pickable. `render` draws
a whole figure into pixels off the Tk thread (the window then only shows the finished image).
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from desktop.ui import format as fmt
from desktop.ui.dashboard_model import SENTIMENTS, Dashboard, named, sla_colour

Translate = Callable[..., str]

INK = "#1f2933"
MUTED = "#6b7785"
ACCENT = "#2f6fde"
SENTIMENT_COLOURS = {"positive": "#2e9e6a", "neutral": "#a3acb9", "negative": "#d64545"}
CHARTS = ("daily", "sentiment", "intents", "sla", "efficiency", "funnel")


def new_figure(width: float = 6.0, height: float = 2.7, dpi: int = 100) -> Figure:
    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    fig.set_layout_engine("constrained")
    return fig


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#c5ccd6")
    ax.tick_params(colors=MUTED, labelsize=8)
    ax.grid(axis="y", color="#edf0f4", linewidth=0.8)
    ax.set_axisbelow(True)


def empty(fig: Figure, text: str) -> None:
    """The empty state: what to do to see this chart, where the chart would be."""
    fig.clear()
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=9, color=MUTED)


def _day_labels(days: list[str], lang: str) -> list[str]:
    out = []
    for d in days:
        x = date.fromisoformat(d)
        out.append(x.strftime("%d/%m") if lang == "pt_BR" else x.strftime("%m-%d"))
    return out


def _day_ticks(ax: Axes, days: list[str], lang: str) -> None:
    labels = _day_labels(days, lang)
    step = max(1, len(days) // 10)
    ax.set_xticks(range(0, len(days), step), labels[::step], rotation=0)
    ax.set_xlim(-0.6, len(days) - 0.4)


def _day_bars(ax: Axes, heights: list[int], bottoms: list[int], colour: str, label: str) -> PolyCollection:
    """One bar per day (x = the day's index, 0.8 wide), as one artist: the same pixels as
    ``ax.bar(range(n), heights, bottom=bottoms, width=0.8, color=colour)``, without its cost of one
    Rectangle per bar (270 of them for 90 days of sentiment took most of that chart's drawing)."""
    bars = [[(i - 0.4, b), (i - 0.4, b + h), (i + 0.4, b + h), (i + 0.4, b)]
            for i, (h, b) in enumerate(zip(heights, bottoms, strict=True))]
    drawn = PolyCollection(bars, facecolors=colour, edgecolors="none", linewidths=0, label=label)
    drawn.sticky_edges.y.extend(bottoms)  # as bar(): no autoscale margin past a bar's base
    ax.add_collection(drawn)
    return drawn


def draw_daily(fig: Figure, d: Dashboard, t: Translate) -> None:
    if "daily" in d.empty:
        return empty(fig, t(d.empty["daily"]))
    fig.clear()
    ax = fig.add_subplot()
    _style(ax)
    _day_bars(ax, d.conversations, [0] * len(d.days), ACCENT, t("dash.series.conversations"))
    ax.autoscale_view()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _day_ticks(ax, d.days, t.lang)
    ax.set_ylabel(t("dash.axis.conversations"), fontsize=8, color=MUTED)


def draw_sentiment(fig: Figure, d: Dashboard, t: Translate) -> None:
    if "sentiment" in d.empty:
        return empty(fig, t(d.empty["sentiment"]))
    fig.clear()
    ax = fig.add_subplot()
    _style(ax)
    bottom = [0] * len(d.days)
    for label in SENTIMENTS:
        values = d.sentiment.get(label, [0] * len(d.days))
        _day_bars(ax, values, bottom, SENTIMENT_COLOURS[label], t(f"dash.sentiment.{label}"))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.autoscale_view()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _day_ticks(ax, d.days, t.lang)
    ax.set_ylabel(t("dash.axis.analyses"), fontsize=8, color=MUTED)
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=3)


def draw_intents(fig: Figure, d: Dashboard, t: Translate) -> None:
    if "intents" in d.empty:
        return empty(fig, t(d.empty["intents"]))
    fig.clear()
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#edf0f4", linewidth=0.8)
    bars = d.intents[:8][::-1]
    ax.barh([named(t, "dash.intent", b.label) for b in bars], [b.value for b in bars], color=ACCENT)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("dash.axis.conversations"), fontsize=8, color=MUTED)


def _target_bars(ax: Axes, bars, target: float | None, unit: str, title: str, empty_text: str) -> None:
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#edf0f4", linewidth=0.8)
    ax.set_title(title, fontsize=8, color=INK, loc="left")
    if not bars:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            textwrap.fill(empty_text, 40),
            ha="center",
            va="center",
            fontsize=8,
            color=MUTED,
            transform=ax.transAxes,
        )
        return
    names = [b.label for b in bars]
    drawn = ax.barh(names, [b.value for b in bars], color=[sla_colour(b.value, target) for b in bars])
    for rect, b in zip(drawn, bars, strict=True):
        rect.set_gid(b.ref)
        rect.set_picker(True)
    if target is not None:
        ax.axvline(target, color=INK, linestyle="--", linewidth=1)
        ax.annotate(
            f"SLA {target:g} {unit}",
            (target, 1),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color=INK,
            ha="left",
            va="bottom",
            xytext=(3, 0),
            textcoords="offset points",
        )
    ax.set_xlabel(unit, fontsize=8, color=MUTED)
    ax.invert_yaxis()


def draw_sla(fig: Figure, d: Dashboard, t: Translate) -> None:
    """Median first response (minutes) and resolution (hours) per attendant, against the targets."""
    if "sla" in d.empty:
        return empty(fig, t(d.empty["sla"]))
    fig.clear()
    left, right = fig.subplots(1, 2)
    _target_bars(
        left,
        d.first_response,
        d.sla_first_response_minutes,
        "min",
        t("dash.sla.first_response"),
        t("dash.empty.first_response"),
    )
    _target_bars(right, d.resolution, d.sla_resolution_hours, "h", t("dash.sla.resolution"), t("dash.empty.resolution"))


def draw_efficiency(fig: Figure, d: Dashboard, t: Translate) -> None:
    """One dot per attendant: conversations (x) against median first response (y, minutes)."""
    if "efficiency" in d.empty:
        return empty(fig, t(d.empty["efficiency"]))
    fig.clear()
    ax = fig.add_subplot()
    _style(ax)
    for dot in d.efficiency:
        colour = sla_colour(dot.y, d.sla_first_response_minutes)
        (point,) = ax.plot([dot.x], [dot.y], "o", markersize=9, color=colour, picker=6)
        point.set_gid(dot.ref)
        ax.annotate(dot.label, (dot.x, dot.y), fontsize=8, color=INK, xytext=(6, 4), textcoords="offset points")
    if d.sla_first_response_minutes is not None:
        ax.axhline(d.sla_first_response_minutes, color=INK, linestyle="--", linewidth=1)
    ax.set_xlabel(t("dash.axis.conversations"), fontsize=8, color=MUTED)
    ax.set_ylabel(t("dash.axis.first_response_min"), fontsize=8, color=MUTED)
    # Counts start at zero, with whole-number ticks (two attendants with 3 conversations each are
    # not a range from 2.8 to 3.2).
    ax.set_xlim(0, max(dot.x for dot in d.efficiency) * 1.25 + 1)
    ax.set_ylim(0, max(max(dot.y for dot in d.efficiency), d.sla_first_response_minutes or 0) * 1.25 + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def draw_funnel(fig: Figure, d: Dashboard, t: Translate) -> None:
    """Contacts per stage now, each bar labelled with the stage's value."""
    if "funnel" in d.empty:
        return empty(fig, t(d.empty["funnel"]))
    fig.clear()
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#edf0f4", linewidth=0.8)
    names = [named(t, "dash.stage", b.label) for b in d.funnel]
    drawn = ax.barh(names, [b.value for b in d.funnel], color=ACCENT)
    for rect, b in zip(drawn, d.funnel, strict=True):
        centre = (rect.get_width(), rect.get_y() + rect.get_height() / 2)
        ax.annotate(
            fmt.money(b.amount, t.lang, cents=False),
            centre,
            fontsize=7,
            color=INK,
            va="center",
            xytext=(4, 0),
            textcoords="offset points",
        )
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("dash.axis.contacts"), fontsize=8, color=MUTED)
    ax.margins(x=0.25)


DRAW = {
    "daily": draw_daily,
    "sentiment": draw_sentiment,
    "intents": draw_intents,
    "sla": draw_sla,
    "efficiency": draw_efficiency,
    "funnel": draw_funnel,
}


# matplotlib is not thread-safe as a whole: figures are rendered one at a time, by workers only.
_render_lock = threading.RLock()


def render_lock() -> threading.RLock:
    """Held while a worker draws with matplotlib (a chart, a report)."""
    return _render_lock


def render(key: str, d: Dashboard, t: Translate, width_px: int, height_px: int, dpi: float = 100) -> Figure:
    """A chart drawn into pixels (its FigureCanvasAgg's renderer), at a size in pixels."""
    with render_lock():
        fig = new_figure(max(width_px, 50) / dpi, max(height_px, 50) / dpi, dpi)
        FigureCanvasAgg(fig)
        DRAW[key](fig, d, t)
        fig.canvas.draw()
        return fig
