"""``fairslot simulate --quick`` end to end: two real servers on temporary SQLite
databases, the actors over HTTP, the after-the-day phases (attendance, the daily batch,
the simulated reviewer, day 2) on the protected one, the figures and the report."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.sim.accounting import Figures

# The exact keys are pinned in tests/unit/test_sim_accounting.py; here the command's
# JSON must carry every figure, the nested second day included.
KEYS = {field.name for field in fields(Figures)}


@pytest.mark.slow
def test_a_quick_simulation_plays_both_platforms_and_the_protections_cut_the_scalpers_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.console, "_width", 200)
    figures_path = tmp_path / "figures.json"
    report_dir = tmp_path / "report"

    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--quick",
            "--seed",
            "7",
            "--json",
            str(figures_path),
            "--report",
            str(report_dir),
        ],
    )

    assert result.exit_code == 0, (result.output, result.exception)
    data = json.loads(figures_path.read_text())
    assert {"seed", "scenario", "protected", "baseline"} <= set(data)
    assert data["seed"] == 7 and data["scenario"]["name"] == "quick"
    protected, baseline = data["protected"], data["baseline"]
    for figures in (protected, baseline):
        assert set(figures) == KEYS
        assert figures["server_errors"] == 0
        assert figures["requests"] > 100
        assert figures["scarce_slots"] == data["scenario"]["scarce_supply"] == 8
    assert protected["scalper_share"] < baseline["scalper_share"]
    assert "genuine success rate" in result.output

    # after the day: the batch ran and the reviewer worked the queue (protected only)
    after = data["after_day"]
    assert after["protected"]["batch_runs"] == 2 and after["protected"]["day2_played"]
    # The review ran to an empty queue. How many cases there were depends on what the
    # scalpers managed to book (the batch reads bookings, and the draw leaves them few).
    decided = after["protected"]["cases_decided"]
    assert isinstance(decided, int) and 0 <= after["protected"]["cases_confirmed"] <= decided
    assert any(
        n == f"simulated reviewer: {decided} cases decided, "
        f"{after['protected']['cases_confirmed']} confirmed"
        for n in data["notes"]["protected"]
    )
    assert after["baseline"] == {
        "batch_runs": 0,
        "cases_decided": 0,
        "cases_confirmed": 0,
        "day2_played": False,
    }
    for key in ("detection_precision", "detection_recall"):
        assert protected[key] is None or 0.0 <= protected[key] <= 1.0
    assert protected["detection_recall"] is not None
    assert isinstance(protected["genuine_blocked"], int)
    # the baseline blocks nobody: recall 0, precision undefined, nobody genuine blocked
    assert (baseline["detection_recall"], baseline["detection_precision"]) == (0.0, None)
    assert baseline["genuine_blocked"] == 0
    second = protected["day2"]
    assert second["server_errors"] == 0 and second["requests"] > 100
    assert 0 <= second["blacklisted_got_scarce"] <= second["blacklisted_scalpers"]
    assert baseline["day2"] is None
    assert not any("not connected" in n for notes in data["notes"].values() for n in notes)

    page = (report_dir / "index.html").read_text()
    assert "Rings found by the daily batch" in page and "Day 2" in page
    assert page.count("data:image/png;base64,") >= 3  # timeline, holders, day 1 vs day 2
    assert "http://" not in page and "https://" not in page  # nothing to fetch: offline
