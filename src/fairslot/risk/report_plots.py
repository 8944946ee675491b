"""The daily report's pictures as SVG (``fairslot.plotting``): the release hour and the
whole day, refusals by reason, who took the scarce slots. The figures come from
``risk/report_activity.py``; every word on a picture comes from the caller (the console
passes its catalogue's), so this module holds no language of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fairslot import plotting
from fairslot.risk.report_activity import HOUR, OTHER, Activity, Refusals, ScarceTakers, Taker

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Sizes in inches at 96 dpi: the size each is shown at in the console (1366×768 screen).
WIDE = (11.0, 3.6)
HALF = (5.5, 3.4)
EMPTY_HEIGHT = 1.0


@dataclass(frozen=True, kw_only=True)
class ActivityText:
    title: str
    lookups: str
    actions: str
    refused: str
    booked: str
    requests_axis: str
    booked_axis: str
    release: str  # "release {time}"
    empty: str  # nothing at all in the period
    no_requests: str  # the upper panel has nothing
    no_bookings: str  # the lower panel has nothing


@dataclass(frozen=True, kw_only=True)
class BarsText:
    title: str
    axis: str
    empty: str


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _ticks(data: Activity) -> list[int]:
    """Every 10 minutes, or every 3 hours, on the local clock."""
    every = 3 if data.buckets.step >= HOUR else 10
    return list(range(0, data.buckets.count + 1, every))


def _empty(size: tuple[float, float], title: str, message: str) -> bytes:
    """A short picture with its title and what is missing: nothing to draw takes little
    room (the page sizes the image by what comes back)."""
    fig = plotting.figure(width=size[0], height=EMPTY_HEIGHT)
    fig.suptitle(title, x=0.01, ha="left", color=plotting.INK, fontweight="bold", fontsize=11)
    plotting.nothing_to_show(fig, message)
    return plotting.to_svg(fig)


def _quiet(axes: Axes, message: str) -> None:
    """A panel without a single count: say so rather than draw a flat line on 0..0."""
    axes.set_ylim(0, 1)
    axes.set_yticks([0])
    axes.text(
        0.5,
        0.5,
        message,
        transform=axes.transAxes,
        ha="center",
        va="center",
        color=plotting.MUTED,
        fontsize=9,
    )


def activity_svg(
    data: Activity, *, zone: str, text: ActivityText, size: tuple[float, float]
) -> bytes:
    """Requests (look-ups, booking actions, the refused ones) above, bookings confirmed
    below, on one clock; a dashed line at each release."""
    if data.empty:
        return _empty(size, text.title, text.empty)
    from matplotlib.ticker import FixedLocator, MaxNLocator

    fig = plotting.figure(width=size[0], height=size[1])
    tz = ZoneInfo(zone)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    xs = [i + 0.5 for i in range(data.buckets.count)]
    top.plot(xs, data.lookups, color=plotting.LIGHT, linewidth=1.4, label=text.lookups)
    top.plot(xs, data.actions, color=plotting.ACCENT, linewidth=1.8, label=text.actions)
    top.plot(xs, data.refused, color=plotting.BAD, linewidth=1.4, label=text.refused)
    top.set_ylabel(text.requests_axis)
    top.set_title(text.title, loc="left")
    bottom.bar(xs, data.booked, width=0.8, color=plotting.OK, label=text.booked)
    bottom.set_ylabel(text.booked_axis)
    for axes, total, quiet in (
        (top, data.requests, text.no_requests),
        (bottom, sum(data.booked), text.no_bookings),
    ):
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        if total == 0:
            _quiet(axes, quiet)
        _mark_releases(axes, data)
    ticks = _ticks(data)
    bottom.xaxis.set_major_locator(FixedLocator(ticks))
    bottom.set_xticklabels([_local(data.buckets.start + i * data.buckets.step, tz) for i in ticks])
    bottom.set_xlim(0, data.buckets.count)
    for mark in data.marks:
        x = (mark - data.buckets.start) / data.buckets.step
        top.annotate(
            text.release.format(time=_local(mark, tz)),
            xy=(x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            va="top",
            color=plotting.BRAND,
            fontsize=9,
        )
    fig.legend(loc="outside lower center", ncols=4)
    return plotting.to_svg(fig)


def _mark_releases(axes: Axes, data: Activity) -> None:
    for mark in data.marks:
        x = (mark - data.buckets.start) / data.buckets.step
        axes.axvline(x, color=plotting.BRAND, linestyle="--", linewidth=1)


def refusals_svg(
    data: Refusals, *, names: Mapping[str, str], text: BarsText, size: tuple[float, float]
) -> bytes:
    """One bar per reason, most frequent on top, each with its count."""
    if not data.reasons:
        return _empty(size, text.title, text.empty)
    from matplotlib.ticker import MaxNLocator

    fig = plotting.figure(width=size[0], height=size[1])
    axes = fig.subplots()
    reasons = list(reversed(data.reasons))
    labels = [names.get(code, code) for code, _ in reasons]
    counts = [n for _, n in reasons]
    bars = axes.barh(labels, counts, color=plotting.BAD, height=0.6)
    axes.bar_label(bars, padding=3, color=plotting.INK, fontsize=9)
    axes.set_title(text.title, loc="left")
    axes.set_xlabel(text.axis)
    axes.grid(axis="y", visible=False)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes.margins(x=0.15)
    return plotting.to_svg(fig)


def scarce_svg(
    data: ScarceTakers,
    *,
    names: Mapping[Taker, str],
    other: str,
    text: BarsText,
    size: tuple[float, float],
) -> bytes:
    """Stacked bars per department: genuine, flagged, blacklisted takers; the legend
    carries the day's totals and shares."""
    if data.total == 0:
        return _empty(size, text.title, text.empty)
    from matplotlib.ticker import MaxNLocator

    fig = plotting.figure(width=size[0], height=size[1])
    axes = fig.subplots()
    places = list(reversed(data.places))
    labels = [other if p.place == OTHER else p.place for p in places]
    left = [0] * len(places)
    colours = {
        Taker.GENUINE: plotting.OK,
        Taker.FLAGGED: plotting.WARN,
        Taker.BLACKLISTED: plotting.BAD,
    }
    for taker in Taker:
        counts = [getattr(p, taker.value) for p in places]
        total = data.count(taker)
        share = total / data.total
        axes.barh(
            labels,
            counts,
            left=left,
            color=colours[taker],
            height=0.6,
            label=f"{names[taker]} {total} ({share:.0%})",
        )
        left = [a + b for a, b in zip(left, counts, strict=True)]
    for y, total in enumerate(left):
        axes.annotate(
            str(total),
            xy=(total, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color=plotting.INK,
        )
    axes.set_title(text.title, loc="left")
    axes.set_xlabel(text.axis)
    axes.grid(axis="y", visible=False)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes.margins(x=0.12)
    fig.legend(loc="outside lower center", ncols=3)
    return plotting.to_svg(fig)
