"""The simulator's HTML report: one self-contained page, readable offline.

Plots are drawn with matplotlib's Agg renderer (``Figure`` objects, no pyplot state) and
embedded as base64 PNG data URIs; the page loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from matplotlib.figure import Figure

from fairslot.sim.accounting import STANDING, DayLog
from fairslot.sim.modes import Mode
from fairslot.sim.phases import CaseSeen
from fairslot.sim.review import RING_RULE
from fairslot.sim.scenario import Klass
from fairslot.sim.simulate import ModeResult, Simulation

COLOURS = {
    Klass.GENUINE: "#2a9d8f",
    Klass.GRAB_BOT: "#e63946",
    Klass.HUMAN_WAVE: "#f4a261",
    Klass.BROKER: "#6d597a",
    Klass.BUYER: "#b5838d",
    Klass.ROTATION: "#9d0208",
    Klass.PROXY_BOOKED: "#457b9d",
    Klass.RADAR: "#ffb703",
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
        _img(_holders(_rows(result, modes)), "who holds each expert slot at the end of the day"),
        "<h2>Rings found by the daily batch</h2>",
        _rings_section(result, modes),
        "<h2>Cases the simulated reviewer decided</h2>",
        _cases_table(result, modes),
        "<h2>Day 2: the same people, the next release</h2>",
        _day_two_section(result, modes),
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
        if key == "day2":  # a section of its own
            continue
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


def _rows(result: Simulation, modes: list[Mode]) -> list[tuple[str, DayLog]]:
    return [(m.value, result.results[m].day.log) for m in modes]


def _holders(rows: list[tuple[str, DayLog]]) -> Figure:
    figure = Figure(figsize=(9, 1 + 0.9 * len(rows)), layout="constrained")
    ax = figure.subplots()
    for row, (_, log) in enumerate(rows):
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
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.set_xlabel("expert slots at the end of the day")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=6, fontsize="small")
    return figure


def _ring_cases(result: Simulation, modes: list[Mode]) -> list[tuple[Mode, CaseSeen]]:
    return [(m, c) for m in modes for c in result.results[m].cases if RING_RULE in c.rules]


def _rings_section(result: Simulation, modes: list[Mode]) -> str:
    runs = sum(result.results[m].batch_runs for m in modes)
    if not runs:
        return "<p>The batch did not run (the baseline has none), so no ring was looked for.</p>"
    rings = _ring_cases(result, modes)
    if not rings:
        return "<p>The batch ran and flagged no ring.</p>"
    return _img(_ring_plot(result, rings), "members of each flagged ring by actor class")


def _ring_plot(result: Simulation, rings: list[tuple[Mode, CaseSeen]]) -> Figure:
    """One bar per flagged ring: its members (the identities the case is about) by the
    class the simulator knows them to be — what the batch could not see."""
    persons = result.scenario.persons
    figure = Figure(figsize=(9, 1.2 + 0.45 * len(rings)), layout="constrained")
    ax = figure.subplots()
    for row, (_, case) in enumerate(rings):
        counts = Counter(persons[p].klass for p in case.members)
        left = 0
        for klass in Klass:
            if counts[klass]:
                ax.barh(row, counts[klass], left=left, color=COLOURS[klass], label=klass.value)
                left += counts[klass]
    labels = [f"case {c.case_id} ({'confirmed' if c.confirmed else 'dismissed'})" for _, c in rings]
    ax.set_yticks(range(len(rings)), labels)
    ax.set_xlabel("ring members (scenario identities)")
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize="small")
    return figure


def _cases_table(result: Simulation, modes: list[Mode]) -> str:
    persons = result.scenario.persons
    rows = []
    for mode in modes:
        for case in result.results[mode].cases:
            counts = Counter(persons[p].klass.value for p in case.members)
            members = ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "none known"
            rows.append(
                f"<tr><td>{mode.value}</td><td>{case.case_id}</td>"
                f"<td>{html.escape(case.subject_kind)}</td>"
                f"<td>{html.escape(', '.join(case.rules))}</td><td>{html.escape(members)}</td>"
                f"<td>{html.escape(case.reason)}</td></tr>"
            )
    if not rows:
        return "<p>No case was decided.</p>"
    head = "<tr><th>mode</th><th>case</th><th>subject</th><th>rules</th><th>members</th>"
    return f"<table>{head}<th>decision</th></tr>{''.join(rows)}</table>"


def _day_two_section(result: Simulation, modes: list[Mode]) -> str:
    played = [m for m in modes if result.results[m].day2 is not None]
    if not played:
        return "<p>Not played.</p>"
    tables = []
    for mode in played:
        second = result.results[mode].figures.day2
        assert second is not None
        cells = "".join(
            f"<tr><td>{k}</td><td>{'null' if v is None else html.escape(str(v))}</td></tr>"
            for k, v in asdict(second).items()
        )
        tables.append(f"<h3>{mode.value}</h3><table>{cells}</table>")
    rows: list[tuple[str, DayLog]] = []
    for mode in played:
        day2 = result.results[mode].day2
        assert day2 is not None
        rows += [
            (f"{mode.value} day 1", result.results[mode].day.log),
            (f"{mode.value} day 2", day2.log),
        ]
    return "".join(tables) + _img(_holders(rows), "who holds the expert slots, day 1 and day 2")


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
