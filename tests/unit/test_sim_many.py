"""Several simulator runs: a failed run takes its place in the results and the others go on
(sim/many.py). The failure here is real: a database kind the simulator does not know."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from fairslot.sim.many import ERROR_HEAD, ERROR_TAIL, failed, run_many
from fairslot.sim.modes import Mode
from fairslot.sim.scenario import ScenarioParams


@pytest.mark.parametrize("jobs", [1, 2])
def test_failed_runs_keep_their_place_and_say_why(jobs: int) -> None:
    plays = [(replace(ScenarioParams.quick(), name=f"quick-{n}"), n) for n in (3, 1)]
    shown: list[dict[str, object]] = []
    runs = run_many(
        plays,
        only=Mode.PROTECTED,
        release_date=date(2026, 12, 7),
        db="no-such-database",
        pg_admin_url="",
        jobs=jobs,
        show=shown.append,
    )
    assert [(r["seed"], r["scenario"]) for r in runs] == [
        (3, {"name": "quick-3"}),
        (1, {"name": "quick-1"}),
    ]
    assert all("no-such-database" in str(r["error"]) for r in runs)
    assert sorted(r["seed"] for r in shown) == [1, 3]  # type: ignore[type-var]


def test_a_long_failure_keeps_what_failed_and_the_end_of_its_log() -> None:
    log = "".join(f"log line {n}\n" for n in range(2000))
    found = failed(
        ScenarioParams.quick(), 4, RuntimeError(f"the server did not answer within 90 s:\n{log}")
    )
    error = str(found["error"])
    assert error.startswith("RuntimeError: the server did not answer within 90 s:")
    assert error.endswith("log line 1999")
    assert len(error) < ERROR_HEAD + ERROR_TAIL + 10
