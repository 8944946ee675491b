"""Server-drawn pictures: matplotlib figures as SVG, with Chinese labels.

Drawn without pyplot (one ``Figure`` per picture, the SVG canvas): pyplot keeps global
state that two requests in two threads would share. Text is written as paths
(``svg.fonttype = "path"``), so a browser needs no font to show it; the labels need a CJK
font on the server: "Noto Sans CJK SC" (Debian's fonts-noto-cjk) is found even when
matplotlib's font cache was built before it was installed. Without one, :func:`has_cjk`
says so and callers label their pictures in English instead of drawing empty boxes.
"""

from __future__ import annotations

import io
import logging
from functools import cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

CJK_FAMILIES: Final = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
)
LATIN_FAMILY: Final = "DejaVu Sans"
SVG_MEDIA_TYPE: Final = "image/svg+xml"

# The console's palette (``web/static/css/console.css``), readable on white.
INK: Final = "#1d2327"
MUTED: Final = "#545f66"
GRID: Final = "#d5dbdf"
BRAND: Final = "#0f5e63"
ACCENT: Final = "#0b5cad"
OK: Final = "#1b6b2f"
WARN: Final = "#b36b00"
BAD: Final = "#a4161a"
LIGHT: Final = "#9aa6ad"


def _installed_families() -> set[str]:
    from matplotlib import font_manager

    return {entry.name for entry in font_manager.fontManager.ttflist}


@cache
def cjk_family() -> str | None:
    """The CJK family matplotlib draws Chinese with, registering the system's Noto CJK
    files if its cache predates them; None when the machine has none."""
    from matplotlib import font_manager

    for family in CJK_FAMILIES:
        if family in _installed_families():
            return family
    for path in font_manager.findSystemFonts():
        name = path.rsplit("/", 1)[-1]
        if "CJK" in name and "Sans" in name and "Mono" not in name:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable file: try the next
                continue
    found = next((f for f in CJK_FAMILIES if f in _installed_families()), None)
    if found is None:
        log.warning("no CJK font found: pictures are labelled in English")
    return found


def has_cjk() -> bool:
    return cjk_family() is not None


@cache
def _configure() -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server; SVGs are drawn by their own canvas
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": "fairslot",  # the same picture gives the same file
            "font.family": [f for f in (cjk_family(), LATIN_FAMILY) if f],
            "font.size": 10,
            "axes.edgecolor": GRID,
            "axes.labelcolor": INK,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.titlecolor": INK,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.axisbelow": True,
            "grid.color": GRID,
            "grid.linewidth": 0.6,
            "xtick.color": MUTED,
            "ytick.color": MUTED,
            "legend.frameon": False,
            "legend.fontsize": 9,
        }
    )


def figure(*, width: float, height: float) -> Figure:
    """A new figure, ``width`` × ``height`` inches at 96 dpi (the size it is shown at)."""
    from matplotlib.figure import Figure

    _configure()
    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def nothing_to_show(fig: Figure, message: str) -> None:
    """A picture with no data says so in its middle instead of drawing empty axes."""
    fig.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, fontsize=11)


def to_svg(fig: Figure) -> bytes:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.BytesIO()
    canvas = FigureCanvasSVG(fig)
    canvas.print_svg(  # type: ignore[no-untyped-call]  # matplotlib leaves it untyped
        buffer, metadata={"Date": None, "Creator": "fairslot"}
    )
    return buffer.getvalue()
