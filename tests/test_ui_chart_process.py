"""The dashboard's charts drawn in chart processes: the click regions against matplotlib's own
picking (no Tk), the real processes (PNG of the asked size, a dead or hung process replaced, none
left behind, not even when the window's process is killed), and a real Tk card whose click on a
region opens that attendant."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import tkinter as tk
from pathlib import Path

import pytest
from matplotlib.backend_bases import MouseEvent
from PIL import Image
from test_ui_dashboard_model import METRICS
from ui_support import display, pump  # noqa: F401 - the display fixture

from desktop.ui import chart_pool, charts
from desktop.ui.chart_process import draw, regions_of
from desktop.ui.chart_regions import Region, hit
from desktop.ui.dashboard_model import build, sla_colour
from desktop.ui.i18n import Strings

ROOT = Path(__file__).resolve().parents[1]
SIZE = (640, 280)


def _model():
    return build(METRICS, "2026-03-01", "2026-03-03")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is gone for our purpose (its parent reaps it)
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _on_edge(regions, ref: str, x: int, y: int) -> bool:
    """(x, y) is within a pixel of the edge of ``ref``'s region: of its neighbours, some in, some out."""
    return any(
        {r.contains(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)} == {True, False}
        for r in regions
        if r.ref == ref
    )


# -- regions, without Tk --------------------------------------------------------------------------


def test_hit_finds_the_region_under_a_click():
    bar = Region(10, 10, 110, 30, "u_bar")
    dot = Region(200, 50, 220, 70, "u_dot", round=True)
    near = Region(205, 50, 225, 70, "u_near", round=True)
    assert hit([bar], 10, 10) == hit([bar], 110, 30) == hit([bar], 60, 20) == "u_bar"
    assert hit([bar], 9, 20) is None and hit([bar], 60, 31) is None
    assert hit([dot], 210, 60) == "u_dot"
    assert hit([dot], 201, 51) is None  # the box's corner is outside the dot's circle
    # Two dots overlapping: the one whose centre is nearest the click, either way round.
    assert hit([dot, near], 208, 60) == hit([near, dot], 208, 60) == "u_dot"
    assert hit([dot, near], 217, 60) == "u_near"
    assert hit([], 0, 0) is None


@pytest.mark.parametrize("key", ["sla", "efficiency"])
def test_regions_click_where_matplotlib_picks(key):
    """On a grid over the whole image, the region lookup opens what matplotlib's pick event on the
    same figure would (what the dashboard did before), and the bars and dots are all there."""
    t, d = Strings("pt_BR"), _model()
    fig = charts.render(key, d, t, *SIZE)
    regions = regions_of(fig)
    bars_and_dots = d.first_response + d.resolution if key == "sla" else d.efficiency
    assert sorted(r.ref for r in regions) == sorted(x.ref for x in bars_and_dots)
    pickable = [a for a in fig.findobj(lambda a: bool(a.get_gid()) and a.pickable())]
    width, height = SIZE
    hits = 0
    for x in range(0, width, 5):
        for y in range(0, height, 5):
            event = MouseEvent("button_press_event", fig.canvas, x, height - y, button=1)
            picked = [a.get_gid() for a in pickable if a.contains(event)[0]]
            got = hit(regions, x, y)
            if picked:
                hits += 1
                assert got in picked, (x, y, got, picked)
            else:  # outside every artist, but for a pixel on an edge (inside or out: a rounding)
                assert got is None or _on_edge(regions, got, x, y), (x, y, got)
    assert hits > 10, hits  # the grid did land on the bars and dots
    for r in regions:  # and the middle of each region is its own artist for matplotlib too
        x, y = r.centre
        event = MouseEvent("button_press_event", fig.canvas, x, height - y, button=1)
        assert r.ref in [a.get_gid() for a in pickable if a.contains(event)[0]], r


def test_a_chart_image_is_the_figure_drawn_at_the_asked_size():
    t, d = Strings("en"), _model()
    image = draw("efficiency", d, "en", *SIZE)
    assert image.key == "efficiency" and image.size == SIZE
    png = Image.open(io.BytesIO(image.png))
    assert png.format == "PNG" and png.size == SIZE
    fig = charts.render("efficiency", d, t, *SIZE)
    same = Image.frombuffer("RGBA", SIZE, fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    assert png.convert("RGB").tobytes() == same.tobytes()
    # The dot's centre pixel has the dot's SLA colour (bia: 30 min, past the 15-minute target).
    bia = next(r for r in image.regions if r.ref == "u_bia")
    cx, cy = bia.centre
    colour = sla_colour(30.0, d.sla_first_response_minutes).lstrip("#")
    assert png.convert("RGB").getpixel((round(cx), round(cy))) == tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


# -- the processes --------------------------------------------------------------------------------


@pytest.fixture
def pool():
    p = chart_pool.ChartPool(processes=2, timeout=30).start()
    assert p.wait_ready(60)
    yield p
    pids = p.pids
    p.stop()
    assert all(_gone(pid, 10) for pid in pids), pids


def test_the_pool_draws_every_chart_in_other_processes(pool):
    assert len(pool.pids) == 2 and os.getpid() not in pool.pids
    d = _model()
    sizes = {key: (600 + i, 250 + i) for i, key in enumerate(charts.CHARTS)}
    images = pool.render(d, "pt_BR", sizes)
    assert sorted(images) == sorted(charts.CHARTS)
    for key, image in images.items():
        assert image.size == sizes[key] and Image.open(io.BytesIO(image.png)).size == sizes[key]
    assert {r.ref for r in images["sla"].regions} == {"u_ana", "u_bia"}
    assert images["daily"].regions == ()
    # Empty states too, in the other language.
    empty = pool.render(build({}, "2026-03-01", "2026-03-01"), "en", {"funnel": SIZE})
    assert empty["funnel"].regions == ()


def test_a_dead_chart_process_is_replaced_and_said(pool):
    d = _model()
    victim = pool.pids[0]
    os.kill(victim, signal.SIGKILL)
    assert _gone(victim)
    images = pool.render(d, "pt_BR", dict.fromkeys(charts.CHARTS, SIZE))
    assert sorted(images) == sorted(charts.CHARTS)
    assert pool.restarts == 1 and victim not in pool.pids and len(pool.pids) == 2


def test_a_hung_chart_process_fails_the_refresh_instead_of_hanging(pool):
    pool.timeout = 3
    frozen = pool.pids[0]
    os.kill(frozen, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        with pytest.raises(chart_pool.ChartsUnavailable, match="not drawn in 3 s"):
            pool.render(_model(), "pt_BR", dict.fromkeys(charts.CHARTS, SIZE))
        assert time.monotonic() - t0 < 10
        assert _gone(frozen) and frozen not in pool.pids  # killed, and a new one in its place
        pool.timeout = 30
        assert sorted(pool.render(_model(), "pt_BR", {"daily": SIZE})) == ["daily"]
    finally:
        if _alive(frozen):
            os.kill(frozen, signal.SIGKILL)


def test_no_chart_process_outlives_a_killed_window_process(tmp_path):
    """The window's process killed outright (no atexit, no quit): its chart processes see their
    stdin close and end by themselves."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from desktop.ui import chart_pool
        pool = chart_pool.shared().start()
        pool.wait_ready(60)
        print(*pool.pids, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(x) for x in parent.stdout.readline().split()]
        assert len(pids) >= 1 and all(_alive(pid) for pid in pids)
    finally:
        parent.kill()
        parent.wait()
    assert all(_gone(pid, 10) for pid in pids), pids


# -- a real Tk card -------------------------------------------------------------------------------


@pytest.mark.usefixtures("display")
def test_a_click_on_a_card_opens_the_attendant_under_it(pool):
    from desktop.ui.tabs.dashboard import Card

    root = tk.Tk()
    try:
        opened: list[str] = []
        card = Card(root, "Eficiência", on_open=opened.append)
        card.pack(fill="both", expand=True)
        root.update()
        image = pool.render(_model(), "pt_BR", {"efficiency": card.size()})["efficiency"]
        card.show(image)
        root.update()
        assert card.image is image and card._photo.width() == image.size[0] == card.size()[0]
        bia = next(r for r in image.regions if r.ref == "u_bia")
        x, y = (round(v) for v in bia.centre)
        # What Tk shows there is the dot (its SLA colour), and a real click there opens bia.
        assert "#{:02x}{:02x}{:02x}".format(*card._photo.get(x, y)) == sla_colour(30.0, 15)
        card.canvas.event_generate("<Motion>", x=x, y=y, warp=True)
        card.canvas.event_generate("<ButtonPress-1>", x=x, y=y)
        card.canvas.event_generate("<ButtonRelease-1>", x=x, y=y)
        pump(root, lambda: opened, 5)
        assert opened == ["u_bia"] and card.canvas.cget("cursor") == "hand2"
        # A click on no dot opens nothing.
        card.canvas.event_generate("<ButtonPress-1>", x=5, y=5)
        root.update()
        assert opened == ["u_bia"]
    finally:
        root.destroy()
