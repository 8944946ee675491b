"""Fast bots against genuine patients: the win rate per identity over the expert sessions,
and the two-sided Fisher exact test of the difference, checked against known values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fairslot.sim.accounting import (
    BookingFact,
    DayLog,
    RequestEvent,
    Via,
    WinRates,
    WishFact,
    fast_vs_genuine,
    figures,
    fisher_exact_two_sided,
    significant,
)
from fairslot.sim.scenario import Klass
from fairslot.sim.seeds import summary

T0 = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("table", "p_value"),
    [
        # Fisher's lady tasting tea: 3 of 4 cups right each way, 34/70.
        ((3, 1, 1, 3), 34 / 70),
        # Worked by hand (and scipy.stats.fisher_exact's own example): 132/1287.
        ((6, 2, 1, 4), 132 / 1287),
        # The most extreme table of its margins, on either side: 2/C(8, 4).
        ((4, 0, 0, 4), 2 / 70),
        ((0, 4, 4, 0), 2 / 70),
        # Equal proportions: every table is at least as extreme as none, p = 1.
        ((5, 5, 5, 5), 1.0),
        ((0, 0, 0, 0), 1.0),
    ],
)
def test_fishers_exact_test_gives_the_known_two_sided_p_values(
    table: tuple[int, int, int, int], p_value: float
) -> None:
    assert fisher_exact_two_sided(*table) == pytest.approx(p_value, rel=1e-12)


def test_fishers_exact_test_does_not_care_which_group_is_written_first() -> None:
    assert fisher_exact_two_sided(9, 1, 2, 8) == pytest.approx(fisher_exact_two_sided(2, 8, 9, 1))
    assert fisher_exact_two_sided(9, 1, 2, 8) == pytest.approx(fisher_exact_two_sided(9, 2, 1, 8))


def test_fishers_exact_test_finds_a_large_gap_between_many_identities_significant() -> None:
    # 180 of 200 bots won against 30 of 300 patients: p far below 0.01.
    assert fisher_exact_two_sided(180, 20, 30, 270) < 1e-50
    # 20 of 200 against 30 of 300: the same rate, no difference.
    assert fisher_exact_two_sided(20, 180, 30, 270) > 0.99


def test_a_table_with_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        fisher_exact_two_sided(1, -1, 0, 0)


PERSONS = {
    "g1": Klass.GENUINE,
    "g2": Klass.GENUINE,
    "g3": Klass.GENUINE,
    "g4": Klass.GENUINE,
    "g5": Klass.GENUINE,
    "bot1": Klass.GRAB_BOT,
    "bot2": Klass.GRAB_BOT,
    "bot3": Klass.GRAB_BOT,
    "bot4": Klass.GRAB_BOT,
    "wave1": Klass.HUMAN_WAVE,
}


def _ask(person: str, action: str = "hold") -> RequestEvent:
    return RequestEvent(at=T0, actor="a", person=person, action=action, status=200)


def _booking(person: str, *, scarce: bool = True, status: str = "booked") -> BookingFact:
    return BookingFact(
        booking_id=f"b-{person}",
        person=person,
        session_id=1,
        scarce=scarce,
        via=Via.HOLD,
        status=status,
        booked_at=T0,
    )


def _wish(person: str, *, scarce: bool = True) -> WishFact:
    return WishFact(person=person, scarce=scarce, started_at=T0)


def test_the_win_rates_count_who_asked_for_an_expert_slot_and_who_holds_one_at_the_end() -> None:
    log = DayLog(
        persons=PERSONS,
        scarce_slots=4,
        requests=(
            _ask("bot1"),
            _ask("bot2", "intent"),
            _ask("bot3", "waitlist_join"),
            _ask("bot4", "availability"),  # looked, never asked: not counted
            _ask("wave1"),  # a hired person is not grab software
            _ask("g1"),
        ),
        bookings=(
            _booking("bot1"),
            _booking("bot2", status="no_show"),  # a slot taken and missed is still won
            _booking("bot3", status="cancelled"),  # given back: not won
            _booking("wave1"),
            _booking("g1"),
            _booking("g2", scarce=False),  # an ordinary slot is not an expert one
        ),
        wishes=(_wish("g1"), _wish("g2"), _wish("g3"), _wish("g4", scarce=False)),
        transfers=(),
    )
    rates = fast_vs_genuine(log)
    assert rates == WinRates(
        bots_tried=3,
        bots_won=2,
        genuine_tried=3,
        genuine_won=1,
        p_value=significant(fisher_exact_two_sided(2, 1, 1, 2)),
    )
    assert rates.p_value == 1.0  # 2 of 3 against 1 of 3: no evidence either way
    assert figures(log, blocked=None).as_json()["fast_vs_genuine"] == {
        "bots_tried": 3,
        "bots_won": 2,
        "genuine_tried": 3,
        "genuine_won": 1,
        "p_value": 1.0,
    }


def test_the_test_is_null_when_no_bot_or_no_genuine_patient_asked() -> None:
    log = DayLog(
        persons=PERSONS,
        scarce_slots=1,
        requests=(),
        bookings=(),
        wishes=(_wish("g1"),),
        transfers=(),
    )
    assert fast_vs_genuine(log) == WinRates(0, 0, 1, 0, None)


def _run(seed: int, p_value: float | None) -> dict[str, object]:
    rates = {"p_value": p_value}
    return {
        "seed": seed,
        "scenario": {"name": "quick-first_come"},
        "protected": {"fast_vs_genuine": rates, "day2": {"fast_vs_genuine": rates}},
    }


def test_the_summary_reports_the_lowest_p_value_over_the_seeds_as_the_worst() -> None:
    found = summary([_run(1, 0.8), _run(2, 0.004), _run(3, None)])
    protected = found["quick-first_come"]["protected"]
    assert protected["fast_vs_genuine.p_value"] == {
        "mean": 0.402,
        "worst": 0.004,
        "worst_seed": 2,
        "runs": 2,
    }
    assert protected["day2.fast_vs_genuine.p_value"]["worst_seed"] == 2


def _race(bots: tuple[int, int], genuine: tuple[int, int]) -> dict[str, object]:
    return {
        "bots_won": bots[0],
        "bots_tried": bots[1],
        "genuine_won": genuine[0],
        "genuine_tried": genuine[1],
        "p_value": fisher_exact_two_sided(
            bots[0], bots[1] - bots[0], genuine[0], genuine[1] - genuine[0]
        ),
    }


def test_the_summary_pools_the_counts_over_the_seeds_and_tests_the_sum() -> None:
    # Alone, 3 of 8 bots against 3 of 35 patients is no proof (p = 0.067, the baseline's
    # seed 2); three such seeds together, 9 of 24 against 9 of 105, are (p = 0.001).
    runs = [
        {
            "seed": seed,
            "scenario": {"name": "quick"},
            "protected": {"fast_vs_genuine": _race((3, 8), (3, 35)), "day2": None},
        }
        for seed in (1, 2, 3)
    ]
    found = summary(runs)["quick"]["protected"]
    assert found["fast_vs_genuine.p_value"]["worst"] > 0.01
    pooled = found["fast_vs_genuine_pooled"]
    assert pooled["day1"] == {
        "bots_tried": 24,
        "bots_won": 9,
        "genuine_tried": 105,
        "genuine_won": 9,
        "p_value": significant(fisher_exact_two_sided(9, 15, 9, 96)),
        "runs": 3,
    }
    assert pooled["day1"]["p_value"] < 0.01
    assert pooled["day2"] == {
        "bots_tried": 0,
        "bots_won": 0,
        "genuine_tried": 0,
        "genuine_won": 0,
        "p_value": None,
        "runs": 0,
    }


def test_a_tiny_p_value_keeps_its_magnitude() -> None:
    assert significant(fisher_exact_two_sided(180, 20, 30, 270)) > 0.0
    assert significant(0.0026033) == 0.002603
