"""``fairslot simulate``: the release-day red-team simulator."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from fairslot.cli.common import console, err_console
from fairslot.sim.generate import build_scenario
from fairslot.sim.many import run_many
from fairslot.sim.modes import Mode
from fairslot.sim.report import write_report
from fairslot.sim.runner import SimulationError
from fairslot.sim.scenario import HOSPITAL_ZONE, PRESETS, ScenarioParams
from fairslot.sim.seeds import parse_seeds, summary
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
    ("fast_vs_genuine", "expert slot won per identity: bots / genuine (p)"),
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
    release_speed: float | None = typer.Option(
        None,
        "--release-speed",
        help="simulated seconds per real second around the release (default: the "
        "scenario's); lower it on a loaded machine, where a request's real latency times "
        "the speed must stay small next to a person's 3-5 s per step",
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
    preset: list[str] = typer.Option(
        [],
        "--preset",
        help=f"scenario preset, repeatable: {', '.join(PRESETS)}, or 'every' (default: the "
        "scenario with every tactic)",
    ),
    seeds: str | None = typer.Option(
        None, "--seeds", help="several seeds, e.g. 1-5 or 1,3,8: every run, the mean and worst"
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        min=1,
        help="with several runs (--seeds, --preset): play this many at once, each in its own "
        "process on its own platform; keep it below the cores, or answer times grow",
    ),
) -> None:
    """Play a release day with genuine patients and scalpers, with and without the
    platform's protections, and report who got the scarce slots."""
    names = _presets(preset)
    try:
        seed_list = parse_seeds(seeds) if seeds else [seed]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--seeds") from exc
    if len(names) * len(seed_list) > 1:
        if url:
            raise typer.BadParameter("--url plays one scenario: no --seeds or several --preset")
        plays = [
            _release_speed(_params(name, quick=quick, speed=speed, url=None), release_speed)
            for name in names
        ]
        try:
            runs = run_many(
                [(params, one) for params in plays for one in seed_list],
                only=only,
                release_date=_release_date(release_date),
                db=db,
                pg_admin_url=pg_admin_url,
                jobs=jobs,
                show=_print_data,
            )
        except SimulationError as exc:
            err_console.print(f"[bold red]simulation failed[/]: {exc}")
            raise typer.Exit(1) from exc
        played = [run for run in runs if "error" not in run]
        failures = [run for run in runs if "error" in run]
        overall = summary(played)
        data = {
            "seeds": seed_list,
            "presets": names,
            "runs": played,
            "failed": failures,
            "summary": overall,
        }
        _print_summary(overall)
        if json_path is not None:
            json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            console.print(f"figures written to {json_path}")
        return
    if url and release_speed is not None:
        raise typer.BadParameter("a running platform (--url) keeps one speed: use --speed")
    params = _release_speed(_params(names[0], quick=quick, speed=speed, url=url), release_speed)
    scenario = build_scenario(params, seed=seed_list[0])
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


def _presets(given: list[str]) -> list[str]:
    if not given:
        return ["default"]
    names = list(PRESETS) if "every" in given else given
    for name in names:
        if name not in PRESETS:
            raise typer.BadParameter(f"unknown preset {name!r}", param_hint="--preset")
    return names


def _params(name: str, *, quick: bool, speed: float | None, url: str | None) -> ScenarioParams:
    if name == "default":
        params = ScenarioParams.quick() if quick else ScenarioParams()
    else:
        params = ScenarioParams.preset(name, quick=quick)
    if speed is not None:
        if speed <= 0:
            raise typer.BadParameter("--speed must be positive")
        # A running platform (--url) keeps one speed all day.
        params = replace(params, speed=speed, release_speed=speed if url else params.release_speed)
    return params


def _release_speed(params: ScenarioParams, release_speed: float | None) -> ScenarioParams:
    if release_speed is None:
        return params
    if release_speed <= 0:
        raise typer.BadParameter("--release-speed must be positive")
    return replace(params, release_speed=release_speed)


def _print_summary(found: dict[str, Any]) -> None:
    """The mean and the worst case of each preset's figures over its seeds."""
    for name, per_mode in found.items():
        table = Table(title=f"{name}: seeds {per_mode['seeds']} — mean / worst (seed)")
        table.add_column("figure")
        modes = [m for m in ("protected", "baseline") if m in per_mode]
        for mode in modes:
            table.add_column(mode, justify="right")
        pooled = "fast_vs_genuine_pooled"
        keys = [k for k in per_mode[modes[0]] if k not in ("per_tactic", pooled)] if modes else []
        for key in keys:
            table.add_row(key, *(_spread_cell(per_mode[m][key]) for m in modes))
        for day in ("day1", "day2") if modes else ():
            table.add_row(
                f"fast bots vs genuine, {day}, seeds pooled",
                *(_cell(per_mode[m][pooled][day]) for m in modes),
            )
        for tactic in per_mode[modes[0]]["per_tactic"] if modes else {}:
            for figure in ("scarce_share_day1", "scarce_share_day2", "recall", "precision"):
                table.add_row(
                    f"{tactic} {figure}",
                    *(
                        _spread_cell(per_mode[m]["per_tactic"].get(tactic, {}).get(figure))
                        for m in modes
                    ),
                )
        console.print(table)


def _spread_cell(spread: dict[str, Any] | None) -> str:
    if not spread or spread.get("runs", 0) == 0:
        return "null"
    return f"{_cell(spread['mean'])} / {_cell(spread['worst'])} ({spread['worst_seed']})"


def _print(result: Simulation) -> None:
    _print_data(result.as_json())


def _print_data(data: dict[str, Any]) -> None:
    if "error" in data:
        err_console.print(
            f"[bold red]run failed[/]: seed {data['seed']}, scenario {data['scenario']['name']}: "
            f"{data['error']}"
        )
        return
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
    _print_tactics(data)
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


def _print_tactics(data: dict[str, object]) -> None:
    """``per_tactic`` and ``judgement`` of each mode that has them."""
    tactics, judged = data.get("per_tactic"), data.get("judgement")
    assert isinstance(tactics, dict) and isinstance(judged, dict)
    for mode, found in tactics.items():
        if not found:
            continue
        first = next(iter(found.values()))
        table = Table(title=f"per tactic ({mode})")
        table.add_column("tactic")
        for key in first:
            table.add_column(key, justify="right")
        for name, figures in found.items():
            table.add_row(name, *(_cell(figures[key]) for key in first))
        console.print(table)
        if judged.get(mode):
            console.print(f"{mode}: genuine households and patients judged: {judged[mode]}")


def _cell(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict) and "p_value" in value:  # fast bots against genuine patients
        return (
            f"{value['bots_won']}/{value['bots_tried']} / "
            f"{value['genuine_won']}/{value['genuine_tried']} (p={_p_cell(value['p_value'])})"
        )
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def _p_cell(value: object) -> str:
    # p-values of large tables run far below 0.001: show their magnitude.
    return f"{value:.2g}" if isinstance(value, float | int) else "null"


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
