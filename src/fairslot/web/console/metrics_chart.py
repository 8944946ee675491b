"""The quality metrics' 30-day trend as one SVG picture (``fairslot.plotting``): the rates
above (booking success, no-shows, scarce slots to blacklisted identities), the daily
counts below (active accounts, bookings). A day without data leaves a gap in its line,
never a fake zero. matplotlib is imported on the first picture (``fairslot.plotting``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from fairslot import plotting
from fairslot.metrics.schemas import DayFigures
from fairslot.web.i18n import Translator

SIZE = (11.0, 3.8)  # inches at 96 dpi: the width of the console's content at 1366×768
SIZE_PX = (round(SIZE[0] * 96), round(SIZE[1] * 96))
EMPTY_HEIGHT = 1.0


def _rate(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v * 100 for v in values]


def trend_svg(rows: Sequence[DayFigures], *, t: Translator) -> bytes:
    title = t("metrics.chart.title", days=len(rows))
    has_rates = any(
        v is not None for r in rows for v in (r.success_rate, r.no_show_rate, r.blacklisted_share)
    )
    if not rows or (not has_rates and not any(r.dau or r.bookings for r in rows)):
        fig = plotting.figure(width=SIZE[0], height=EMPTY_HEIGHT)
        fig.suptitle(title, x=0.01, ha="left", color=plotting.INK, fontweight="bold", fontsize=11)
        plotting.nothing_to_show(fig, t("metrics.chart.empty"))
        return plotting.to_svg(fig)
    from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter

    fig = plotting.figure(width=SIZE[0], height=SIZE[1])
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    xs = list(range(len(rows)))
    for values, colour, key in (
        ([r.success_rate for r in rows], plotting.ACCENT, "success_rate"),
        ([r.no_show_rate for r in rows], plotting.WARN, "no_show_rate"),
        ([r.blacklisted_share for r in rows], plotting.BAD, "blacklisted_share"),
    ):
        top.plot(
            xs,
            _rate(values),
            color=colour,
            linewidth=1.8,
            marker="o",
            markersize=3,
            label=t(f"metrics.chart.{key}"),
        )
    top.set_ylim(0, 105)
    top.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    top.yaxis.set_major_locator(FixedLocator([0, 25, 50, 75, 100]))
    top.set_title(title, loc="left")
    if not has_rates:
        top.text(
            0.5,
            0.5,
            t("metrics.chart.no_rates"),
            transform=top.transAxes,
            ha="center",
            va="center",
            color=plotting.MUTED,
            fontsize=9,
        )
    bottom.bar(
        [x - 0.2 for x in xs],
        [r.bookings for r in rows],
        width=0.4,
        color=plotting.OK,
        label=t("metrics.chart.bookings"),
    )
    bottom.bar(
        [x + 0.2 for x in xs],
        [r.dau for r in rows],
        width=0.4,
        color=plotting.LIGHT,
        label=t("metrics.chart.dau"),
    )
    bottom.set_ylim(bottom=0)
    bottom.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ticks = [x for x in xs if (len(xs) - 1 - x) % 5 == 0]  # the last day always labelled
    bottom.xaxis.set_major_locator(FixedLocator(ticks))
    bottom.set_xticklabels([rows[x].day.strftime("%m-%d") for x in ticks])
    bottom.set_xlim(-0.7, len(xs) - 0.3)
    fig.legend(loc="outside lower center", ncols=5)
    return plotting.to_svg(fig)
