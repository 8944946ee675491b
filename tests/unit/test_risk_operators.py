"""The operator rules over hand-built traces: each links the operator who lost, and none
flags a family, a couple with two accounts, a shared home Wi-Fi or a patient refreshing
the page at the release."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.kinds import SexRestriction
from fairslot.patients.identity import Sex
from fairslot.risk.alerts import Labels, hit_alert
from fairslot.risk.facts import BookingFact, RiskSettings
from fairslot.risk.linking import RequestFact
from fairslot.risk.operators import (
    PollFact,
    Trace,
    availability_polling,
    blacklist_reappearance,
    device_across_accounts,
    operator_groups,
    payment_across_accounts,
    run_operator_rules,
    traces,
)
from fairslot.risk.rules import EntityKind, RuleName, window_ending

DAY = date(2026, 11, 22)
SETTINGS = RiskSettings()
WINDOW = window_ending(DAY, settings=SETTINGS)
T0 = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)
_ids = itertools.count(1)


def trace(patient: str, account: int, **overrides: Any) -> Trace:
    fields: dict[str, Any] = {
        "patient_key": patient,
        "account_id": account,
        "device_key": f"dev-{account}",
        "wifi_key": f"wifi-{account}",
        "payment_account_hash": f"pay-{account}",
        "booking_id": None,
    }
    return Trace(**(fields | overrides))


def family(account: int, size: int = 4, **overrides: Any) -> list[Trace]:
    """A family: several patients in one account, on one device, Wi-Fi and card."""
    return [trace(f"fam{account}-{n}", account, **overrides) for n in range(size)]


# payment across accounts ------------------------------------------------------------------


def test_one_payment_account_paying_for_strangers_in_three_accounts_is_an_operator() -> None:
    wave = [trace(f"worker{n}", 10 + n, payment_account_hash="pay-org") for n in range(4)]
    (hit,) = payment_across_accounts(wave, settings=SETTINGS)
    assert (hit.rule, hit.entity_kind, hit.entity_key) == (
        RuleName.PAYMENT_ACROSS_ACCOUNTS,
        EntityKind.PAYMENT_ACCOUNT,
        "pay-org",
    )
    assert (hit.figure, hit.threshold, hit.score) == (4, 3, 1.33)
    assert {key for kind, key in hit.members if kind is EntityKind.PATIENT} == {
        f"worker{n}" for n in range(4)
    }
    assert {key for kind, key in hit.members if kind is EntityKind.ACCOUNT} == {
        "10",
        "11",
        "12",
        "13",
    }


def test_a_family_paying_for_everyone_from_one_account_is_not_flagged() -> None:
    assert payment_across_accounts(family(1, size=4), settings=SETTINGS) == []


def test_a_couple_with_two_accounts_on_one_card_is_not_flagged() -> None:
    couple = family(1, size=2, payment_account_hash="pay-home") + family(
        2, size=2, payment_account_hash="pay-home"
    )
    assert payment_across_accounts(couple, settings=SETTINGS) == []


# device across accounts (代挂) ----------------------------------------------------------


def test_a_device_booking_six_buyers_in_their_own_accounts_is_a_proxy_operator() -> None:
    buyers = [
        trace(f"buyer{n}", 20 + n, device_key="pc-operator", payment_account_hash=f"pay-b{n}")
        for n in range(6)
    ]
    (hit,) = device_across_accounts(buyers, settings=SETTINGS)
    assert (hit.entity_kind, hit.entity_key, hit.score) == (EntityKind.DEVICE, "pc-operator", 2.0)
    # each buyer pays for themself: the payment rule sees nothing
    assert payment_across_accounts(buyers, settings=SETTINGS) == []


def test_a_family_tablet_used_by_two_accounts_is_not_flagged() -> None:
    tablet = family(1, size=3, device_key="tablet") + family(2, size=1, device_key="tablet")
    assert device_across_accounts(tablet, settings=SETTINGS) == []


# availability polling (slot radar) ---------------------------------------------------------


def poll(device: str, polls: int, minutes: float) -> PollFact:
    return PollFact(
        device_key=device,
        polls=polls,
        first_at=T0,
        last_at=T0 + timedelta(minutes=minutes),
    )


def test_a_device_polling_every_five_seconds_for_hours_is_a_radar_and_names_its_accounts() -> None:
    acted = [trace("radar-1", 30, device_key="radar-dev"), trace("radar-2", 30, device_key="x")]
    (hit,) = availability_polling([poll("radar-dev", 1800, 150)], acted, settings=SETTINGS)
    assert (hit.rule, hit.entity_key, hit.figure) == (
        RuleName.AVAILABILITY_POLLING,
        "radar-dev",
        1800,
    )
    assert set(hit.members) == {(EntityKind.ACCOUNT, "30"), (EntityKind.PATIENT, "radar-1")}
    assert "5.0 s apart" in hit.explanation


def test_a_patient_refreshing_at_the_release_and_a_slow_all_day_poller_are_not_radars() -> None:
    refreshing = poll("phone-a", 40, 3)  # 40 polls in three minutes: too few
    slow = poll("phone-b", 200, 7 * 24 * 60)  # many polls, but an hour apart on average
    assert availability_polling([refreshing, slow], [], settings=SETTINGS) == []


def test_pace_is_the_spacing_of_arrivals_not_the_time_answers_took() -> None:
    # 130 polls arriving 20 s apart: the rule reads only first and last arrival, so a
    # server that took 10 s to answer each changes nothing.
    assert poll("d", 130, 129 * 20 / 60).mean_gap_seconds == pytest.approx(20.0)
    assert poll("d", 1, 0).mean_gap_seconds is None


# blacklist reappearance ------------------------------------------------------------------


def test_new_identities_paying_with_a_blacklisted_operators_account_are_linked_at_once() -> None:
    old = [trace("banned-1", 40, payment_account_hash="pay-op", wifi_key="wifi-op")]
    fresh = [
        trace("new-1", 41, payment_account_hash="pay-op", wifi_key="wifi-op", device_key="d41")
    ]
    (hit,) = blacklist_reappearance(
        old + fresh, blacklisted_patients={"banned-1"}, settings=SETTINGS
    )
    # the new account is the subject: the operator's old case is closed
    assert (hit.entity_kind, hit.entity_key, hit.score) == (EntityKind.ACCOUNT, "41", 2.0)
    assert hit.members == ((EntityKind.ACCOUNT, "41"), (EntityKind.PATIENT, "new-1"))
    assert "payment account" in hit.explanation


def test_new_patients_on_a_blacklisted_operators_home_wifi_need_a_second_one() -> None:
    old = [trace("banned-1", 40, wifi_key="wifi-op")]
    one = [trace("new-0", 41, wifi_key="wifi-op")]
    assert (
        blacklist_reappearance(old + one, blacklisted_patients={"banned-1"}, settings=SETTINGS)
        == []
    )
    two = [*one, trace("new-1", 42, wifi_key="wifi-op")]
    hits = blacklist_reappearance(old + two, blacklisted_patients={"banned-1"}, settings=SETTINGS)
    assert [(h.entity_key, h.score) for h in hits] == [("41", 1.0), ("42", 1.0)]


def test_nothing_reappears_when_nobody_is_blacklisted_or_the_family_is_the_blacklisted_one() -> (
    None
):
    household = family(1, size=3)
    assert blacklist_reappearance(household, blacklisted_patients=(), settings=SETTINGS) == []
    # every member blacklisted: nobody new is on their identifiers
    everyone = {t.patient_key for t in household}
    assert blacklist_reappearance(household, blacklisted_patients=everyone, settings=SETTINGS) == []


# all together ----------------------------------------------------------------------------


def booking(patient: str, account: int, **overrides: Any) -> BookingFact:
    n = next(_ids)
    fields: dict[str, Any] = {
        "booking_id": f"b-{n:04d}",
        "patient_key": patient,
        "account_id": account,
        "department_id": 1,
        "department_specialty": "stomatology",
        "sex_restriction": SexRestriction.ANY,
        "patient_sex": Sex.FEMALE,
        "session_id": 7,
        "session_date": DAY,
        "booked_at": T0,
        "cancelled_at": None,
        "status": BookingStatus.BOOKED,
        "attended": None,
        "payment_account_hash": f"pay-{account}",
        "device_key": f"dev-{account}",
        "ip_key": "ip",
        "wifi_key": None,
        "phone_hash": None,
        "channel_id": 1,
    }
    return BookingFact(**(fields | overrides))


def request(patient: str, account: int, **overrides: Any) -> RequestFact:
    fields: dict[str, Any] = {
        "patient_key": patient,
        "account_id": account,
        "device_key": f"dev-{account}",
        "ip_key": "ip",
        "wifi_key": None,
        "payment_account_hash": None,
        "requests": 3,
        "flagged": 0,
    }
    return RequestFact(**(fields | overrides))


def test_an_operator_who_won_nothing_is_linked_from_its_refused_and_waiting_requests() -> None:
    # Three accounts' intents and waitlist joins pre-authorised on one card: no booking.
    lost = [request(f"lost{n}", 50 + n, payment_account_hash="pay-lost") for n in range(3)]
    won = [booking("genuine", 1)]
    hits = run_operator_rules(
        bookings=won,
        requests=lost,
        polls=[],
        blacklisted_patients=(),
        window=WINDOW,
        settings=SETTINGS,
    )
    assert [(h.rule, h.entity_key) for h in hits] == [
        (RuleName.PAYMENT_ACROSS_ACCOUNTS, "pay-lost")
    ]
    assert hits[0].booking_ids == ()


def test_bookings_outside_the_window_are_not_traces() -> None:
    old = booking("p", 1, booked_at=WINDOW.start - timedelta(seconds=1))
    assert traces(bookings=[old], requests=[], window=WINDOW) == []


def test_an_alert_names_the_members_under_the_keys_a_blacklist_entry_would_have() -> None:
    wave = [trace(f"w{n}", 10 + n, payment_account_hash="pay-org") for n in range(3)]
    (hit,) = payment_across_accounts(wave, settings=SETTINGS)
    draft = hit_alert(hit, hasher=lambda value, purpose: f"h({value})", labels=Labels())
    members = draft.details["members"]
    assert ["account", "account:10"] in members and ["patient", "w0"] in members


@pytest.mark.parametrize(
    "field", ["payment_accounts", "payment_patients", "device_accounts", "poll_count"]
)
def test_a_zero_threshold_is_refused_at_start_up(field: str) -> None:
    with pytest.raises(ValueError):
        RiskSettings(**{field: 0})


def test_a_blacklisted_payment_account_links_whoever_pays_with_it_next() -> None:
    fresh = [trace("new-1", 41, payment_account_hash="pay-banned")]
    (hit,) = blacklist_reappearance(
        fresh, blacklisted_patients=(), blacklisted_payments={"pay-banned"}, settings=SETTINGS
    )
    assert (hit.entity_key, hit.members) == (
        "41",
        ((EntityKind.ACCOUNT, "41"), (EntityKind.PATIENT, "new-1")),
    )


def test_alerts_sharing_an_account_or_a_patient_are_one_operator_and_strangers_stay_apart() -> None:
    nodes = [
        {("payment_account", "pay-op"), ("account", "account:1"), ("patient", "p1")},
        {("device", "dev-a"), ("account", "account:1"), ("patient", "p2")},
        {("device", "dev-b"), ("patient", "p2")},
        {("device", "kiosk"), ("account", "account:9")},  # nobody else's
    ]
    assert operator_groups(nodes) == [[0, 1, 2]]
    assert operator_groups([]) == []


def test_the_registration_windows_terminal_booking_for_walk_ins_is_not_an_operator() -> None:
    window_channel = 7
    walk_ins = [
        RequestFact(
            patient_key=f"walk-in{n}",
            account_id=40 + n,
            device_key="window-desk-3",
            ip_key="hospital-lan",
            wifi_key=None,
            payment_account_hash=f"pay-w{n}",
            requests=2,
            flagged=0,
            channel_id=window_channel,
        )
        for n in range(6)
    ]
    staffed = traces(bookings=[], requests=walk_ins, window=WINDOW, staffed_channels=frozenset({7}))
    assert device_across_accounts(staffed, settings=SETTINGS) == []
    # the same six accounts driven from one device of an app channel are a proxy operator
    unstaffed = traces(bookings=[], requests=walk_ins, window=WINDOW)
    assert len(device_across_accounts(unstaffed, settings=SETTINGS)) == 1
