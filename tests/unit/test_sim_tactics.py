"""Per-tactic figures, the households the review touched, and several seeds summed up:
hand-built day logs and runs, exact figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from fairslot.cli.main import app
from fairslot.sim.accounting import BookingFact, DayLog, RequestEvent, Via
from fairslot.sim.scenario import Klass
from fairslot.sim.seeds import parse_seeds, summary
from fairslot.sim.tactics import judgement, per_tactic

T0 = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)
PERSONS = {
    "g1": Klass.GENUINE,
    "g2": Klass.GENUINE,
    "g3": Klass.GENUINE,
    "bot1": Klass.GRAB_BOT,
    "bot2": Klass.GRAB_BOT,
    "rot1": Klass.ROTATION,
    "rot2": Klass.ROTATION,
    "pb1": Klass.PROXY_BOOKED,
    "tw1": Klass.BROKER,
    "buyer1": Klass.BUYER,
}


def held(booking_id: str, person: str, *, status: str = "booked") -> BookingFact:
    return BookingFact(
        booking_id=booking_id,
        person=person,
        session_id=1,
        scarce=True,
        via=Via.HOLD,
        status=status,
        booked_at=T0 + timedelta(seconds=5),
    )


def request(person: str, *, code: str | None = None) -> RequestEvent:
    return RequestEvent(
        at=T0, actor="x", person=person, action="hold", status=403 if code else 201, code=code
    )


def log(
    bookings: list[BookingFact],
    requests: list[RequestEvent] | None = None,
    persons: dict[str, Klass] | None = None,
) -> DayLog:
    return DayLog(
        persons=persons or PERSONS,
        scarce_slots=4,
        requests=tuple(requests or ()),
        bookings=tuple(bookings),
        wishes=(),
        transfers=(),
    )


def test_each_tactic_gets_its_share_of_the_slots_and_a_broker_owns_what_its_buyer_holds() -> None:
    day = log(
        [
            held("a", "bot1"),
            held("b", "buyer1"),
            held("c", "g1"),
            held("d", "rot1", status="cancelled"),  # not standing
        ]
    )
    found = per_tactic(day, blocked=frozenset(), confirmed=[])
    assert set(found) == {"grab_bots", "brokers", "identity_rotation", "proxy_booking"}
    assert found["grab_bots"].scarce_share_day1 == 0.25
    assert found["brokers"].scarce_share_day1 == 0.25
    assert found["identity_rotation"].scarce_share_day1 == 0.0
    assert found["grab_bots"].scarce_share_day2 is None  # no day 2 played


def test_recall_counts_the_tactics_own_identities_and_precision_the_cases_that_touch_it() -> None:
    day = log([])
    found = per_tactic(
        day,
        blocked=frozenset({"bot1", "rot1", "rot2", "g2"}),
        # one clean case on the rotation operator; one on a bot that swept in a genuine patient
        confirmed=[("rot1", "rot2"), ("bot1", "g2", "buyer1")],
    )
    assert found["identity_rotation"].recall == 1.0
    assert found["identity_rotation"].precision == 1.0
    assert found["grab_bots"].recall == 0.5
    assert found["grab_bots"].precision == 0.5  # buyer1 counts for neither side
    assert found["proxy_booking"].recall == 0.0 and found["proxy_booking"].precision is None


def test_without_the_after_day_phases_recall_is_unknown_not_zero() -> None:
    found = per_tactic(log([]), blocked=None, confirmed=[])
    assert found["grab_bots"].recall is None


def test_day_two_counts_the_rotations_new_people_who_acted_and_those_the_gate_refused() -> None:
    persons = PERSONS | {"rot1-r": Klass.ROTATION, "rot2-r": Klass.ROTATION}
    second = log(
        [held("e", "g3")],
        [request("rot1-r", code="request_blocked"), request("rot2-r"), request("g3")],
        persons=persons,
    )
    found = per_tactic(log([]), blocked=frozenset(), confirmed=[], day2=second)
    assert found["identity_rotation"].day2_identities == 2
    assert found["identity_rotation"].day2_refused == 1
    assert found["identity_rotation"].scarce_share_day2 == 0.0


def test_entries_held_out_of_a_draw_are_counted_per_tactic_and_for_genuine_patients() -> None:
    day = log([])
    day = DayLog(
        persons=day.persons,
        scarce_slots=4,
        requests=(),
        bookings=(),
        wishes=(),
        transfers=(),
        held=frozenset({"bot1", "bot2", "rot1", "g3"}),
    )
    found = per_tactic(day, blocked=frozenset(), confirmed=[])
    assert found["grab_bots"].held_day1 == 2
    assert found["identity_rotation"].held_day1 == 1
    assert found["proxy_booking"].held_day1 == 0
    judged = judgement(day, households={"g1": "h1", "g3": "h2"}, named=[], genuine_blocked=0)
    assert judged.genuine_held == 1


def test_a_household_counts_once_however_many_of_its_members_a_case_names() -> None:
    households = {"g1": "h1", "g2": "h1", "g3": "h2"}
    found = judgement(
        log([]), households=households, named=[("g1", "g2"), ("g1",), ("bot1",)], genuine_blocked=0
    )
    assert (found.genuine_households, found.genuine_households_flagged) == (2, 1)
    assert found.flagged_share == 0.5


@pytest.mark.parametrize(
    ("raw", "seeds"),
    [("1-5", [1, 2, 3, 4, 5]), ("7", [7]), ("1,3,8", [1, 3, 8]), ("2-4,3,9", [2, 3, 4, 9])],
)
def test_seeds_are_read_as_ranges_and_lists(raw: str, seeds: list[int]) -> None:
    assert parse_seeds(raw) == seeds


@pytest.mark.parametrize("raw", ["", "5-1", "a-b", "-3", "1,,2"])
def test_unreadable_seeds_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_seeds(raw)


def _run(seed: int, share: float, recall: float, tactic_recall: float) -> dict[str, object]:
    return {
        "seed": seed,
        "scenario": {"name": "quick-all"},
        "protected": {"scalper_share": share, "detection_recall": recall, "day2": None},
        "baseline": {"scalper_share": 0.5, "detection_recall": 0.0, "day2": None},
        "per_tactic": {"protected": {"grab_bots": {"recall": tactic_recall}}},
        "judgement": {"protected": {"flagged_share": 0.0}, "baseline": None},
    }


def test_the_summary_gives_the_mean_and_the_worst_seed_in_the_direction_that_hurts() -> None:
    found = summary([_run(1, 0.0, 1.0, 1.0), _run(2, 0.25, 0.5, 0.8), _run(3, 0.125, 0.9, 0.9)])
    protected = found["quick-all"]["protected"]
    assert found["quick-all"]["seeds"] == [1, 2, 3]
    assert protected["scalper_share"] == {
        "mean": 0.125,
        "worst": 0.25,
        "worst_seed": 2,
        "runs": 3,
    }
    assert protected["detection_recall"]["worst"] == 0.5  # the lowest recall is the worst
    assert protected["per_tactic"]["grab_bots"]["recall"]["worst_seed"] == 2
    assert protected["day2.scalper_share"]["runs"] == 0  # no day 2 in these runs
    assert found["quick-all"]["baseline"]["genuine_households_flagged_share"]["runs"] == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [(["--seeds", "5-1"], "--seeds"), (["--preset", "everything"], "--preset")],
)
def test_the_command_refuses_unreadable_seeds_and_unknown_presets_before_playing(
    args: list[str], said: str
) -> None:
    result = CliRunner().invoke(app, ["simulate", "--quick", *args])
    assert result.exit_code == 2
    assert said in result.output
