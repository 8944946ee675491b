"""``fairslot simulate --quick`` end to end: two real servers on temporary SQLite
databases, the actors over HTTP, the figures and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairslot.cli import common
from fairslot.cli.main import app

KEYS = {
    "scarce_slots",
    "genuine_share",
    "scalper_share",
    "transfer_attempts",
    "transfer_successes",
    "detection_precision",
    "detection_recall",
    "genuine_blocked",
    "genuine_success_rate",
    "median_time_to_book_s",
    "requests",
    "server_errors",
}


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
        # not connected yet: reported as null, never estimated
        assert figures["detection_precision"] is None and figures["genuine_blocked"] is None
    assert protected["scalper_share"] < baseline["scalper_share"]
    assert any("not connected" in note for note in data["notes"]["protected"])
    assert "genuine success rate" in result.output

    page = (report_dir / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page  # nothing to fetch: offline
