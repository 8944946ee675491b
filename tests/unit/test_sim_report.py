"""The simulator's HTML report: self-contained, drawn from what happened."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fairslot.sim.accounting import BookingFact, DayLog, Via, figures
from fairslot.sim.generate import build_scenario
from fairslot.sim.modes import Mode
from fairslot.sim.phases import CaseSeen
from fairslot.sim.report import write_report
from fairslot.sim.runner import Day
from fairslot.sim.scenario import ScenarioParams
from fairslot.sim.simulate import ModeResult, Simulation

RELEASE = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)


def result(mode: Mode, holders: dict[str, str]) -> ModeResult:
    scenario = build_scenario(ScenarioParams.quick(), seed=7)
    bookings = tuple(
        BookingFact(
            booking_id=f"b{n}",
            person=person,
            session_id=1,
            scarce=True,
            via=Via.HOLD,
            status=status,
            booked_at=RELEASE + timedelta(seconds=10 * n),
        )
        for n, (person, status) in enumerate(holders.items())
    )
    log = DayLog(
        persons={k: p.klass for k, p in scenario.persons.items()},
        scarce_slots=8,
        requests=(),
        bookings=bookings,
        wishes=(),
        transfers=(),
    )
    day = Day(log=log, session_date=date(2026, 11, 29), release_at=RELEASE, notes=[])
    return ModeResult(mode, figures(log, blocked=None), day, notes=(f"{mode.value} note <b>",))


def test_the_report_is_one_offline_page_with_the_figures_and_two_embedded_plots(
    tmp_path: Path,
) -> None:
    scenario = build_scenario(ScenarioParams.quick(), seed=7)
    simulation = Simulation(
        scenario=scenario,
        release_at=RELEASE,
        results={
            Mode.PROTECTED: result(Mode.PROTECTED, {"h000-0": "booked", "g0-000": "booked"}),
            Mode.BASELINE: result(Mode.BASELINE, {"g0-001": "booked", "g0-002": "cancelled"}),
        },
    )

    page = write_report(simulation, directory=tmp_path / "report")
    text = page.read_text()

    assert page.name == "index.html"
    assert text.count("<img") == text.count("src='data:image/png;base64,") == 2
    assert "http://" not in text and "https://" not in text
    assert "genuine_share" in text and "scalper_share" in text
    assert "baseline note &lt;b&gt;" in text  # notes are escaped
    assert "no ring was looked for" in text  # no batch ran: no ring is made up


def test_the_report_draws_the_flagged_rings_by_actor_class_and_day_two(tmp_path: Path) -> None:
    scenario = build_scenario(ScenarioParams.quick(), seed=7)
    protected = result(Mode.PROTECTED, {"h000-0": "booked", "g0-000": "booked"})
    ring = CaseSeen(
        case_id=3,
        subject_kind="ring",
        rules=("ring", "synchrony"),
        members=("g0-000", "g0-001", "w000"),
        confirmed=True,
        reason="simulated reviewer: confirmed: the batch flagged a ring",
    )
    single = replace(ring, case_id=4, subject_kind="patient", rules=("no_shows",), members=())
    second = protected.day
    protected = replace(
        protected,
        figures=figures(protected.day.log, blocked=frozenset(), second=second.log),
        day2=second,
        cases=(ring, single),
        batch_runs=1,
    )
    simulation = Simulation(
        scenario=scenario, release_at=RELEASE, results={Mode.PROTECTED: protected}
    )

    text = write_report(simulation, directory=tmp_path / "report").read_text()

    # timeline, holders, the ring plot, and day 1 against day 2
    assert text.count("src='data:image/png;base64,") == 4
    assert "grab_bot 2, human_wave 1" in text  # the ring's members by class
    assert "none known" in text and "simulated reviewer: confirmed" in text
    assert "blacklisted_got_scarce" in text
