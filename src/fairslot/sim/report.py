"""The simulator's HTML report: one self-contained page, readable offline.

Plots are drawn with matplotlib's Agg renderer (``Figure`` objects, no pyplot state) and
embedded as base64 PNG data URIs; the page loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from matplotlib.figure import Figure

from fairslot.sim.accounting import STANDING
from fairslot.sim.modes import Mode
from fairslot.sim.scenario import Klass
from fairslot.sim.simulate import ModeResult, Simulation

COLOURS = {
    Klass.GENUINE: "#2a9d8f",
    Klass.GRAB_BOT: "#e63946",
    Klass.HUMAN_WAVE: "#f4a261",
    Klass.BROKER: "#6d597a",
    Klass.BUYER: "#b5838d",
}
UNBOOKED = "#d9d9d9"


def write_report(result: Simulation, *, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "index.html"
    page.write_text(render(result), encoding="utf-8")
    return page


def render(result: Simulation) -> str:
    data = result.as_json()
    modes = [m for m in Mode if m in result.results]
    sections = [
        "<h2>Figures</h2>",
        _figures_table(data, modes),
        "<h2>Expert-slot bookings over time, by actor class</h2>",
        _img(_timeline(result, modes), "confirmed expert bookings over simulated time"),
        "<h2>Who got the expert slots</h2>",
        _img(_holders(result, modes), "who holds each expert slot at the end of the day"),
        "<h2>Rings found</h2>",
        "<p>Not yet: the daily risk batch and the reviewer decisions are not connected to "
        "the simulator, so no ring has been looked for. Nothing is estimated in their place.</p>",
        "<h2>Notes</h2>",
        _notes(result, modes),
        "<h2>Scenario</h2>",
        f"<pre>{html.escape(_pretty(data['scenario']))}</pre>",
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>fairslot simulate</title><style>"
        "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem}"
        "td{text-align:right}td:first-child{text-align:left}img{max-width:100%}"
        "</style></head><body>"
        f"<h1>fairslot simulate — seed {data['seed']}</h1>" + "".join(sections) + "</body></html>"
    )


def _figures_table(data: dict[str, object], modes: list[Mode]) -> str:
    head = "".join(f"<th>{m.value}</th>" for m in modes)
    first = data[modes[0].value] if modes else {}
    assert isinstance(first, dict)
    rows = []
    for key in first:
        cells = []
        for mode in modes:
            figures = data[mode.value]
            assert isinstance(figures, dict)
            value = figures[key]
            cells.append(f"<td>{'null' if value is None else html.escape(str(value))}</td>")
        rows.append(f"<tr><td>{key}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>figure</th>{head}</tr>{''.join(rows)}</table>"


def _timeline(result: Simulation, modes: list[Mode]) -> Figure:
    figure = Figure(figsize=(9, 3.2 * len(modes)), layout="constrained")
    axes = figure.subplots(len(modes), 1, squeeze=False)[:, 0]
    day_end = result.scenario.params.day_minutes
    for ax, mode in zip(axes, modes, strict=True):
        run = result.results[mode]
        for klass in Klass:
            minutes = sorted(
                (b.booked_at - run.day.release_at).total_seconds() / 60
                for b in run.day.log.bookings
                if b.scarce and b.booked_at is not None and run.day.log.persons[b.person] == klass
            )
            if minutes:
                counts = list(range(len(minutes) + 1))
                ax.step(
                    [0.0, *minutes, day_end],
                    [*counts, counts[-1]],
                    where="post",
                    label=klass.value,
                    color=COLOURS[klass],
                )
        ax.set_title(f"{mode.value}: confirmed expert bookings (cumulative)")
        ax.set_xlabel("simulated minutes after the release")
        ax.set_ylabel("bookings")
        ax.set_xlim(0, day_end)
        ax.set_ylim(bottom=0)
        if ax.get_lines():
            ax.legend(loc="lower right", fontsize="small")
    return figure


def _holders(result: Simulation, modes: list[Mode]) -> Figure:
    figure = Figure(figsize=(9, 1 + 0.9 * len(modes)), layout="constrained")
    ax = figure.subplots()
    for row, mode in enumerate(modes):
        log = result.results[mode].day.log
        counts = {k: 0 for k in Klass}
        for booking in log.bookings:
            if booking.scarce and booking.status in STANDING:
                counts[log.persons[booking.person]] += 1
        left = 0
        for klass, count in counts.items():
            ax.barh(
                row, count, left=left, color=COLOURS[klass], label=klass.value if row == 0 else None
            )
            left += count
        ax.barh(
            row,
            max(0, log.scarce_slots - left),
            left=left,
            color=UNBOOKED,
            label="not booked" if row == 0 else None,
        )
    ax.set_yticks(range(len(modes)), [m.value for m in modes])
    ax.set_xlabel("expert slots at the end of the day")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=6, fontsize="small")
    return figure


def _notes(result: Simulation, modes: list[Mode]) -> str:
    items = [
        f"<li><b>{m.value}</b>: {html.escape(note)}</li>"
        for m in modes
        for note in result.results[m].notes
    ]
    return f"<ul>{''.join(items)}</ul>" if items else "<p>None.</p>"


def _img(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{encoded}'>"


def _pretty(value: object) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False)


__all__ = ["ModeResult", "render", "write_report"]
