"""The chart process: draws the dashboard's charts with matplotlib (charts.py, unchanged) into PNG
images and the clickable regions of each, for the window's process (desktop/ui/chart_pool.py).

Why a process: matplotlib's drawing is pure Python and holds the GIL for tens of milliseconds at a
time; drawn on a thread of the window's process it kept Tk's thread waiting (heartbeat gaps of
68-132 ms during a 100,000-conversation refresh). Here it holds only this process's GIL.

Run by the pool (`main`) or as ``python -m desktop.ui.chart_process``. Wire: stdin and stdout carry frames (a 4-byte
big-endian length, then a pickle) between two processes of the same install; anything else
printed goes to stderr. Requests: ``("draw", id, key, dashboard, lang, width, height, dpi)``;
replies: ``("ready", pid)`` once warm, then ``("chart", id, ChartImage)`` or ``("error", id, text)``.
The process ends when its stdin closes (the window quit, or its process died).

The window's process imports this module only for the wire (`read_frame`, `write_frame`):
matplotlib is imported by the functions that draw, so it is loaded in the chart process only.
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import struct
import sys
from typing import Any, BinaryIO

from desktop.ui.chart_regions import ChartImage, Region

_LENGTH = struct.Struct(">I")


def write_frame(stream: BinaryIO, message: Any) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Any:
    (n,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    return pickle.loads(_read_exactly(stream, n))  # noqa: S301 - our own child/parent over a private pipe


def regions_of(fig) -> tuple[Region, ...]:
    """The clickable artists of a drawn figure (a gid and a picker: charts.py marks them) as
    boxes in image pixels, from their display coordinates (origin bottom-left in matplotlib)."""
    from matplotlib.lines import Line2D

    height = fig.canvas.get_width_height(physical=True)[1]
    out: list[Region] = []
    for artist in fig.findobj(lambda a: bool(a.get_gid()) and a.pickable()):
        ref = str(artist.get_gid())
        if isinstance(artist, Line2D):
            # A marker is picked within its pick radius (points) of the point, or within the marker.
            radius = max(artist.get_pickradius(), artist.get_markersize() / 2) * fig.dpi / 72
            for x, y in artist.get_transform().transform(artist.get_xydata()).tolist():
                out.append(Region(x - radius, height - y - radius, x + radius, height - y + radius, ref, round=True))
        else:
            x0, y0, x1, y1 = artist.get_window_extent().extents.tolist()
            out.append(Region(x0, height - y1, x1, height - y0, ref))
    return tuple(out)


def png_of(fig) -> bytes:
    """The pixels already drawn on the figure's Agg canvas as a PNG (no second draw)."""
    from PIL import Image

    width, height = fig.canvas.get_width_height(physical=True)
    rgba = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    # Opaque white background: RGB is enough; level 1 is several times faster than the default
    # for a few KB more on a local pipe.
    rgba.convert("RGB").save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def draw(key: str, dashboard, lang: str, width: int, height: int, dpi: float = 100) -> ChartImage:
    """One chart of the dashboard at a size in pixels: its PNG and its clickable regions."""
    from desktop.ui import charts
    from desktop.ui.i18n import Strings

    fig = charts.render(key, dashboard, Strings(lang), width, height, dpi)
    size = fig.canvas.get_width_height(physical=True)
    return ChartImage(key=key, size=(int(size[0]), int(size[1])), png=png_of(fig), dpi=dpi, regions=regions_of(fig))


def warm_up() -> None:
    """Import matplotlib and draw every chart once (fonts, tick and layout code loaded), so the
    first real refresh pays none of it."""
    from desktop.pipeline import FIRST_STAGE
    from desktop.ui import charts
    from desktop.ui.dashboard_model import build

    days = [{"day": f"2026-01-0{i}", "conversations": i, "messages_in": i, "sentiment": {"positive": i}}
            for i in (1, 2)]
    sample = build({"daily": days, "intent": {"other": 2},
                    "attendants": [{"user": "u", "username": "u", "conversations": 2,
                                    "first_response_seconds": {"p50": 60}, "resolution_seconds": {"p50": 3600}}],
                    "funnel": [{"stage": FIRST_STAGE, "contacts": 1, "value": 10}],
                    "sla": {"first_response_minutes": 15, "resolution_hours": 24}},
                   "2026-01-01", "2026-01-02")
    for key in charts.CHARTS:
        draw(key, sample, "pt_BR", 300, 150)
    draw("daily", build({}, "2026-01-01", "2026-01-02"), "pt_BR", 300, 150)  # an empty state


def main() -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print never corrupts the wire
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    warm_up()
    # Everything loaded so far lives as long as the process: out of the collector's way, so its
    # full passes (triggered by the many objects a drawing makes) stay short.
    gc.collect()
    gc.freeze()
    write_frame(replies, ("ready", os.getpid()))
    while True:
        try:
            message = read_frame(requests)
        except EOFError:
            return 0
        if message[0] != "draw":
            return 0  # ("stop",) or anything unknown: end
        _, request, key, dashboard, lang, width, height, dpi = message
        try:
            reply = ("chart", request, draw(key, dashboard, lang, width, height, dpi))
        except Exception as e:  # noqa: BLE001 - said to the window, which shows it; this process goes on
            reply = ("error", request, f"{type(e).__name__}: {e}")
        write_frame(replies, reply)


if __name__ == "__main__":
    sys.exit(main())
