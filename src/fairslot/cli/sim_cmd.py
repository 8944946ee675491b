"""``fairslot simulate``: the release-day red-team simulator."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from fairslot.cli.common import console, err_console
from fairslot.sim.generate import build_scenario
from fairslot.sim.modes import Mode
from fairslot.sim.report import write_report
from fairslot.sim.runner import SimulationError
from fairslot.sim.scenario import HOSPITAL_ZONE, ScenarioParams
from fairslot.sim.server import DEFAULT_PG_ADMIN_URL, remote_platform
from fairslot.sim.simulate import Simulation, simulate_local, simulate_remote

_ROWS = (
    ("scarce_slots", "expert slots"),
    ("genuine_share", "share booked by genuine patients"),
    ("scalper_share", "share booked by scalpers (incl. resold)"),
    ("transfer_attempts", "transfer attempts"),
    ("transfer_successes", "transfer successes"),
    ("detection_precision", "detection precision"),
    ("detection_recall", "detection recall"),
    ("genuine_blocked", "genuine patients blocked"),
    ("genuine_success_rate", "genuine success rate (expert wish)"),
    ("median_time_to_book_s", "median time to book (sim s)"),
    ("requests", "requests"),
    ("server_errors", "server errors (5xx)"),
)


def simulate(
    seed: int = typer.Option(7, "--seed", help="seed of the scenario and the actors"),
    quick: bool = typer.Option(False, "--quick", help="a small day (for tests): about a minute"),
    json_path: Path | None = typer.Option(None, "--json", help="write the figures here"),
    report_dir: Path | None = typer.Option(None, "--report", help="write an HTML report here"),
    db: str = typer.Option("sqlite", "--db", help="sqlite | postgresql (local platforms)"),
    pg_admin_url: str = typer.Option(
        DEFAULT_PG_ADMIN_URL, "--pg-admin-url", help="where to create the temporary database"
    ),
    speed: float | None = typer.Option(
        None, "--speed", help="simulated seconds per real second (default: the scenario's)"
    ),
    release_date: str | None = typer.Option(
        None, "--release-date", help="YYYY-MM-DD (default: tomorrow in the hospitals' zone)"
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help="play against this running platform instead (it must run on the simulation "
        "clock at --speed); only one mode is played: --only",
    ),
    hospital: list[str] = typer.Option(
        [], "--hospital", help="CODE=KEY of a hospital of the --url platform (two, in order)"
    ),
    channel_key: str | None = typer.Option(None, "--channel-key", help="channel key for --url"),
    only: Mode | None = typer.Option(None, "--only", help="play one mode only"),
) -> None:
    """Play a release day with genuine patients and scalpers, with and without the
    platform's protections, and report who got the scarce slots."""
    params = ScenarioParams.quick() if quick else ScenarioParams()
    if speed is not None:
        if speed <= 0:
            raise typer.BadParameter("--speed must be positive")
        # A running platform (--url) keeps one speed all day.
        params = replace(params, speed=speed, release_speed=speed if url else params.release_speed)
    scenario = build_scenario(params, seed=seed)
    modes = (only,) if only else (Mode.PROTECTED, Mode.BASELINE)
    try:
        if url:
            if not channel_key or len(hospital) != 2 or speed is None:
                raise SimulationError(
                    "--url needs --channel-key, two --hospital CODE=KEY and --speed"
                )
            target = remote_platform(
                url=url,
                hospitals_given=[_pair(h) for h in hospital],
                channel_key=channel_key,
                speed=speed,
            )
            result = simulate_remote(scenario, target=target, mode=only or Mode.PROTECTED)
        else:
            with tempfile.TemporaryDirectory(prefix="fairslot-sim-") as tmp:
                result = simulate_local(
                    scenario,
                    modes=modes,
                    release_date=_release_date(release_date),
                    workdir=Path(tmp),
                    db=db,
                    pg_admin_url=pg_admin_url,
                )
    except SimulationError as exc:
        err_console.print(f"[bold red]simulation failed[/]: {exc}")
        raise typer.Exit(1) from exc
    _print(result)
    if json_path is not None:
        json_path.write_text(json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n")
        console.print(f"figures written to {json_path}")
    if report_dir is not None:
        page = write_report(result, directory=report_dir)
        console.print(f"report written to {page}")


def _print(result: Simulation) -> None:
    data = result.as_json()
    scenario = data["scenario"]
    assert isinstance(scenario, dict)
    table = Table(
        title=(
            f"fairslot simulate — seed {data['seed']}, scenario {scenario['name']}: "
            f"{scenario['scarce_supply']} expert slots, {scenario['scarce_demand']} identities "
            f"after them"
        )
    )
    table.add_column("figure")
    modes = [mode for mode in Mode if data.get(mode.value) is not None]
    for mode in modes:
        table.add_column(mode.value, justify="right")
    for key, label in _ROWS:
        cells = []
        for mode in modes:
            figures = data[mode.value]
            assert isinstance(figures, dict)
            cells.append(_cell(figures[key]))
        table.add_row(label, *cells)
    console.print(table)
    _print_day_two(data, modes)
    notes = data["notes"]
    assert isinstance(notes, dict)
    for mode_name, lines in notes.items():
        for line in lines:
            console.print(f"[dim]{mode_name}: {line}[/]")


def _print_day_two(data: dict[str, object], modes: list[Mode]) -> None:
    """Day 2 (``day2`` in the JSON), for the modes that played it."""
    played = {}
    for mode in modes:
        figures = data[mode.value]
        assert isinstance(figures, dict)
        if isinstance(figures.get("day2"), dict):
            played[mode.value] = figures["day2"]
    if not played:
        return
    table = Table(title="day 2: the same people, the next release")
    table.add_column("figure")
    for name in played:
        table.add_column(name, justify="right")
    for key in next(iter(played.values())):
        table.add_row(key, *(_cell(second[key]) for second in played.values()))
    console.print(table)


def _cell(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def _pair(raw: str) -> tuple[str, str]:
    code, sep, key = raw.partition("=")
    if not sep or not code or not key:
        raise SimulationError(f"--hospital takes CODE=KEY, not {raw!r}")
    return code, key


def _release_date(raw: str | None) -> date:
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise typer.BadParameter("--release-date takes YYYY-MM-DD") from exc
    return datetime.now(UTC).astimezone(ZoneInfo(HOSPITAL_ZONE)).date() + timedelta(days=1)
