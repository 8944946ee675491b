"""The simulator's accounting counts what it says: hand-built day logs, exact figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fairslot.sim.accounting import (
    BookingFact,
    DayLog,
    RequestEvent,
    TransferFact,
    Via,
    WishFact,
    blocked_identities,
    figures,
)
from fairslot.sim.scenario import Klass

T0 = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)  # a release at 00:30 in Shanghai

PERSONS = {
    "g1": Klass.GENUINE,
    "g2": Klass.GENUINE,
    "g3": Klass.GENUINE,
    "g4": Klass.GENUINE,
    "g5": Klass.GENUINE,
    "bot1": Klass.GRAB_BOT,
    "bot2": Klass.GRAB_BOT,
    "wave1": Klass.HUMAN_WAVE,
    "tw1": Klass.BROKER,
    "tw2": Klass.BROKER,
    "buyer1": Klass.BUYER,
    "buyer2": Klass.BUYER,
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def booking(
    booking_id: str,
    person: str,
    *,
    session: int = 1,
    scarce: bool = True,
    via: Via = Via.HOLD,
    status: str = "booked",
    booked: float | None = 10.0,
) -> BookingFact:
    return BookingFact(
        booking_id=booking_id,
        person=person,
        session_id=session,
        scarce=scarce,
        via=via,
        status=status,
        booked_at=at(booked) if booked is not None else None,
    )


def request(status: int, *, person: str | None = "g1", code: str | None = None) -> RequestEvent:
    return RequestEvent(at=T0, actor="a", person=person, action="hold", status=status, code=code)


def day(
    *,
    scarce_slots: int = 10,
    bookings: tuple[BookingFact, ...] = (),
    wishes: tuple[WishFact, ...] = (),
    transfers: tuple[TransferFact, ...] = (),
    requests: tuple[RequestEvent, ...] = (),
) -> DayLog:
    return DayLog(
        persons=PERSONS,
        scarce_slots=scarce_slots,
        requests=requests,
        bookings=bookings,
        wishes=wishes,
        transfers=transfers,
    )


def test_shares_count_the_expert_slots_standing_booked_at_the_end_over_all_expert_slots() -> None:
    log = day(
        bookings=(
            booking("b1", "g1"),
            booking("b2", "g2", via=Via.DRAW),
            booking("b3", "g3", status="checked_in", via=Via.WAITLIST),
            booking("b4", "g4", status="cancelled"),  # returned: nobody's slot now
            booking("b5", "g5", scarce=False),  # an ordinary clinic
            booking("b6", "bot1"),
            booking("b7", "wave1", status="no_show"),
            booking("b8", "buyer1", via=Via.TRANSFER),  # resold: the scalpers' slot
            booking("b9", "tw1", status="cancelled"),
            booking("b10", "bot2", status="held", booked=None),  # never paid
        )
    )

    result = figures(log, blocked=None)

    assert result.scarce_slots == 10
    assert result.genuine_share == 0.3
    assert result.scalper_share == 0.3


def test_shares_are_null_when_there_are_no_expert_slots() -> None:
    result = figures(day(scarce_slots=0), blocked=None)
    assert result.genuine_share is None
    assert result.scalper_share is None


def test_a_transfer_succeeds_only_if_the_buyer_got_that_session_confirmed_after_the_cancel() -> (
    None
):
    cancel = at(600)
    transfers = (
        TransferFact("b0", "tb1", "buyer1", session_id=1, cancelled_at=cancel),
        TransferFact("b0", "tb2", "buyer2", session_id=2, cancelled_at=cancel),
        TransferFact("b1", "tb3", "buyer2", session_id=3, cancelled_at=cancel),
        TransferFact("b1", "tb4", "buyer1", session_id=4, cancelled_at=cancel),
    )
    log = day(
        transfers=transfers,
        bookings=(
            booking("x1", "buyer1", session=1, via=Via.TRANSFER, booked=603),  # success
            booking("x2", "buyer2", session=9, via=Via.TRANSFER, booked=605),  # other session
            booking("x3", "buyer2", session=3, via=Via.TRANSFER, booked=None, status="expired"),
            booking("x4", "buyer1", session=4, booked=100),  # before the cancellation
        ),
    )

    result = figures(log, blocked=None)

    assert result.transfer_attempts == 4
    assert result.transfer_successes == 1


def test_success_counts_an_expert_slot_or_an_accepted_alternative_for_genuine_wishes_only() -> None:
    wishes = tuple(WishFact(p, scarce=True, started_at=at(0)) for p in ("g1", "g2", "g3", "g4"))
    wishes += (
        WishFact("g5", scarce=False, started_at=at(0)),  # wanted an ordinary clinic
        WishFact("bot1", scarce=True, started_at=at(0)),  # not a genuine patient
    )
    log = day(
        wishes=wishes,
        bookings=(
            booking("b1", "g1", status="cancelled"),  # got one, cancelled later: still got it
            booking("b2", "g2", scarce=False, via=Via.ALTERNATIVE),
            booking("b3", "g3", scarce=False, via=Via.HOLD),  # not an offered alternative
            booking("b4", "g5", scarce=False),
            booking("b5", "bot1"),
        ),
    )

    assert figures(log, blocked=None).genuine_success_rate == 0.5


def test_success_rate_is_null_when_nobody_genuine_wanted_an_expert_slot() -> None:
    log = day(wishes=(WishFact("g5", scarce=False, started_at=at(0)),))
    assert figures(log, blocked=None).genuine_success_rate is None


def test_median_time_to_book_runs_from_the_wish_to_its_first_confirmed_booking() -> None:
    log = day(
        wishes=(
            WishFact("g1", scarce=True, started_at=at(0)),
            WishFact("g2", scarce=False, started_at=at(100)),
            WishFact("g3", scarce=True, started_at=at(-50)),
            WishFact("g4", scarce=True, started_at=at(0)),  # never booked
            WishFact("bot1", scarce=True, started_at=at(0)),  # not counted
        ),
        bookings=(
            booking("b1", "g1", booked=30),
            booking("b2", "g1", booked=900, scarce=False),  # a later one does not count
            booking("b3", "g2", booked=190, scarce=False),
            booking("b4", "g3", booked=550, via=Via.WAITLIST),
            booking("b5", "g4", booked=None, status="expired"),
            booking("b6", "bot1", booked=1),
        ),
    )

    assert figures(log, blocked=None).median_time_to_book_s == 90.0


def test_requests_count_everything_sent_and_server_errors_only_the_5xx_answers() -> None:
    log = day(
        requests=(
            request(200),
            request(201),
            request(409, code="slot_taken"),
            request(429, code="rate_limited"),
            request(0, code="transport_error"),
            request(500),
            request(503, code="busy"),
        )
    )

    result = figures(log, blocked=None)

    assert result.requests == 7
    assert result.server_errors == 2


def test_detection_figures_are_null_until_the_blocked_identities_are_known() -> None:
    result = figures(day(requests=(request(403, code="request_blocked"),)), blocked=None)
    assert (result.detection_precision, result.detection_recall, result.genuine_blocked) == (
        None,
        None,
        None,
    )


def test_detection_counts_flagged_identities_against_scalper_controlled_ones() -> None:
    # Five scalper-controlled identities (bot1, bot2, wave1, tw1, tw2); buyers are neither.
    blocked = frozenset({"bot1", "bot2", "tw1", "g1", "buyer1"})
    log = day(
        requests=(
            request(403, person="g2", code="request_blocked"),  # refused by the gate
            request(403, person="g1", code="request_blocked"),  # also flagged: counted once
            request(403, person="bot2", code="request_blocked"),
        )
    )

    result = figures(log, blocked=blocked)

    assert result.detection_precision == 0.75  # 3 of the 4 genuine-or-scalper flags
    assert result.detection_recall == 0.6  # 3 of 5
    assert result.genuine_blocked == 2  # g1 flagged, g2 refused


def test_precision_is_null_when_nothing_was_flagged() -> None:
    result = figures(day(), blocked=frozenset())
    assert result.detection_precision is None
    assert result.detection_recall == 0.0
    assert result.genuine_blocked == 0


def test_the_figures_have_exactly_the_keys_the_json_promises() -> None:
    assert set(figures(day(), blocked=None).as_json()) == {
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
        "day2",  # the second release day, nested (null when not played)
        "fast_vs_genuine",  # fast bots' win rate against genuine patients', with its p-value
    }


@pytest.mark.parametrize("status", ["booked", "checked_in", "no_show"])
def test_a_slot_counts_as_taken_whether_booked_attended_or_missed(status: str) -> None:
    log = day(scarce_slots=4, bookings=(booking("b1", "bot1", status=status),))
    assert figures(log, blocked=None).scalper_share == 0.25


def test_blocked_means_a_confirmed_case_or_a_gate_refusal_on_either_day() -> None:
    first = day(requests=(request(403, person="bot2", code="request_blocked"),))
    second = day(
        requests=(
            request(403, person="wave1", code="request_blocked"),
            request(409, person="g3", code="slot_taken"),  # refused, but not by the gate
            request(403, person=None, code="request_blocked"),  # nobody to count
        )
    )

    blocked = blocked_identities(blacklisted=frozenset({"bot1"}), days=[first, second])

    assert blocked == {"bot1", "bot2", "wave1"}


def test_day_two_counts_which_blacklisted_scalpers_came_back_and_which_got_an_expert_slot() -> None:
    blacklisted = frozenset({"bot1", "bot2", "tw1", "g1"})  # g1: genuine, not a scalper
    second = day(
        scarce_slots=4,
        bookings=(
            booking("b1", "bot1"),  # came back with rotated identifiers and got through
            booking("b2", "bot2", status="cancelled"),  # got one, then let it go
            booking("b3", "wave1"),  # never blacklisted
            booking("b4", "g2"),
        ),
        requests=(
            request(200, person="bot1"),
            request(403, person="bot2", code="request_blocked"),
            request(403, person="g1", code="request_blocked"),
        ),
    )

    result = figures(day(), blocked=frozenset(), second=second, blacklisted=blacklisted).day2

    assert result is not None
    assert result.blacklisted_scalpers == 3  # bot1, bot2, tw1
    assert result.blacklisted_came_back == 2  # tw1 sent nothing on day 2
    assert result.blacklisted_got_scarce == 1  # bot1's standing booking
    assert result.scalpers_refused_by_gate == 1 and result.genuine_refused_by_gate == 1
    assert (result.genuine_share, result.scalper_share) == (0.25, 0.5)
    assert result.requests == 3


def test_day_two_is_null_when_it_was_not_played() -> None:
    assert figures(day(), blocked=frozenset()).day2 is None
