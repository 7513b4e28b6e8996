"""What a click on a chart image opens: the clickable regions of a rendered chart, in the image's
pixels, and the lookup from a click to one of them.

The chart process computes the regions from the figure's artists (desktop/ui/chart_process.py);
the Tk thread only keeps the image and these rectangles, so this module needs no matplotlib.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Region:
    """A clickable artist's box in image pixels (origin top-left, y down, as Tk's event.x/y).
    ``round``: a dot, clickable within the circle inscribed in the box (as matplotlib picks a
    marker: within its pick radius of the point), else the whole rectangle (a bar)."""

    left: float
    top: float
    right: float
    bottom: float
    ref: str  # what the click opens: the artist's gid (an attendant's id)
    round: bool = False

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2

    def contains(self, x: float, y: float) -> bool:
        if not (self.left <= x <= self.right and self.top <= y <= self.bottom):
            return False
        if not self.round:
            return True
        cx, cy = self.centre
        rx, ry = (self.right - self.left) / 2, (self.bottom - self.top) / 2
        return rx > 0 and ry > 0 and ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1


@dataclass(frozen=True)
class ChartImage:
    """One chart as the chart process drew it: PNG bytes of ``size`` pixels and its regions."""

    key: str
    size: tuple[int, int]
    png: bytes
    dpi: float = 100
    regions: tuple[Region, ...] = field(default_factory=tuple)


def hit(regions: Iterable[Region], x: float, y: float) -> str | None:
    """The ref under a click at (x, y): among the regions holding it, the one whose centre is
    nearest (two dots overlapping: the one aimed at); on a tie the one drawn last (on top)."""
    best: tuple[float, int, str] | None = None
    for order, region in enumerate(regions):
        if region.contains(x, y):
            cx, cy = region.centre
            key = ((x - cx) ** 2 + (y - cy) ** 2, -order, region.ref)
            if best is None or key < best:
                best = key
    return best[2] if best else None
