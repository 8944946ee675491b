"""Several simulator runs (presets x seeds), one after the other or a few at once.

Each run plays on its own fresh platform (its own server process, database and port), so
runs in parallel share nothing but the machine. ``jobs`` runs play at once, each in a
process of its own; the figures come back as the run's JSON, in the order asked, whatever
order they finish in. A run that fails (the server would not start, an actor crashed)
comes back as ``{"seed", "scenario": {"name"}, "error"}`` and the others go on: one
failure does not throw away an hour of runs.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path
from typing import Any

from fairslot.sim.generate import build_scenario
from fairslot.sim.modes import Mode
from fairslot.sim.scenario import ScenarioParams
from fairslot.sim.simulate import simulate_local


def run_one(
    params: ScenarioParams,
    seed: int,
    *,
    only: Mode | None,
    release_date: date,
    db: str,
    pg_admin_url: str,
) -> dict[str, Any]:
    """One scenario on a fresh local platform per mode; its JSON figures, or what failed."""
    modes = (only,) if only else (Mode.PROTECTED, Mode.BASELINE)
    try:
        with tempfile.TemporaryDirectory(prefix="fairslot-sim-") as tmp:
            result = simulate_local(
                build_scenario(params, seed=seed),
                modes=modes,
                release_date=release_date,
                workdir=Path(tmp),
                db=db,
                pg_admin_url=pg_admin_url,
            )
    except Exception as exc:  # reported in its place; the others go on
        return failed(params, seed, exc)
    return result.as_json()


ERROR_HEAD = 600  # characters of a failure's message kept from its start
ERROR_TAIL = 1400  # and from its end (a server's log tail often follows the reason)


def failed(params: ScenarioParams, seed: int, exc: BaseException) -> dict[str, Any]:
    """A failed run's place in the JSON: its seed, its preset and what went wrong (the
    message's start, which says what failed, and its end, where a log tail ends)."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if len(text) > ERROR_HEAD + ERROR_TAIL:
        text = f"{text[:ERROR_HEAD]}\n[…]\n{text[-ERROR_TAIL:]}"
    return {"seed": seed, "scenario": {"name": params.name}, "error": text}


def run_many(
    plays: Sequence[tuple[ScenarioParams, int]],
    *,
    only: Mode | None,
    release_date: date,
    db: str,
    pg_admin_url: str,
    jobs: int = 1,
    show: Callable[[dict[str, Any]], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Every (params, seed) run's JSON, in the order given; ``show`` is called with each
    as soon as it is known (in the order they finish)."""
    common = {"only": only, "release_date": release_date, "db": db, "pg_admin_url": pg_admin_url}
    if jobs <= 1 or len(plays) <= 1:
        runs = []
        for params, seed in plays:
            runs.append(run_one(params, seed, **common))  # type: ignore[arg-type]
            show(runs[-1])
        return runs
    # A fresh interpreter per worker: nothing of this process (threads, open files) is
    # copied into the runs.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {
            pool.submit(run_one, params, seed, **common): n  # type: ignore[arg-type]
            for n, (params, seed) in enumerate(plays)
        }
        found: dict[int, dict[str, Any]] = {}
        for future in as_completed(futures):
            n = futures[future]
            try:
                found[n] = future.result()
            except Exception as exc:  # the worker process itself died
                found[n] = failed(plays[n][0], plays[n][1], exc)
            show(found[n])
    return [found[n] for n in range(len(plays))]
