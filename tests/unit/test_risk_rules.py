"""The daily anomaly rules over hand-built histories: each rule fires, and does not misfire."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.kinds import SexRestriction
from fairslot.ledger.events import EventKind
from fairslot.patients.identity import Sex
from fairslot.risk.facts import BookingFact, RiskSettings, SlotEventFact
from fairslot.risk.rules import (
    EntityKind,
    Hit,
    RuleName,
    Window,
    cancellations_without_visit,
    find_transfers,
    no_shows,
    patient_across_departments,
    run_all,
    same_payment_same_department,
    sex_mismatch,
    shared_identifiers,
    synchrony,
    transfer,
    window_ending,
)

DAY = date(2026, 11, 22)
SETTINGS = RiskSettings()
WINDOW = window_ending(DAY, settings=SETTINGS)  # 2026-11-16 00:00 .. 2026-11-23 00:00 UTC
T0 = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
GYNAECOLOGY, ANDROLOGY, CARDIOLOGY = 10, 11, 12

_ids = itertools.count(1)


def booking(**overrides: Any) -> BookingFact:
    n = next(_ids)
    fields: dict[str, Any] = {
        "booking_id": f"b-{n:04d}",
        "patient_key": "p-alice",
        "account_id": 1,
        "department_id": CARDIOLOGY,
        "department_specialty": "cardiology",
        "sex_restriction": SexRestriction.ANY,
        "patient_sex": Sex.FEMALE,
        "session_id": 100 + n,
        "session_date": DAY,
        "booked_at": T0 + timedelta(minutes=n),
        "cancelled_at": None,
        "status": BookingStatus.BOOKED,
        "attended": None,
        "payment_account_hash": "pay-alice",
        "device_key": "dev-alice",
        "ip_key": "10.0.0.1",
        "wifi_key": None,
        "phone_hash": "ph-alice",
        "channel_id": 1,
    }
    fields.update(overrides)
    return BookingFact(**fields)


def event(kind: EventKind, **overrides: Any) -> SlotEventFact:
    fields: dict[str, Any] = {
        "event_id": next(_ids),
        "slot_id": "slot-1",
        "kind": kind,
        "at": T0,
        "patient_key": "p-alice",
        "account_id": 1,
        "device_key": "dev-alice",
        "ip_key": "10.0.0.1",
        "wifi_key": None,
        "payment_account_hash": "pay-alice",
        "phone_hash": "ph-alice",
    }
    fields.update(overrides)
    return SlotEventFact(**fields)


def keys(hits: list[Hit]) -> set[tuple[RuleName, EntityKind, str]]:
    return {(h.rule, h.entity_kind, h.entity_key) for h in hits}


# --- facts, settings and the window ----------------------------------------------------------


def test_the_window_is_the_seven_utc_days_ending_with_the_report_date() -> None:
    assert WINDOW.start == datetime(2026, 11, 16, tzinfo=UTC)
    assert WINDOW.end == datetime(2026, 11, 23, tzinfo=UTC)
    assert WINDOW.contains(datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC))
    assert not WINDOW.contains(datetime(2026, 11, 23, tzinfo=UTC))
    assert not WINDOW.contains(datetime(2026, 11, 15, 23, 59, 59, tzinfo=UTC))


def test_the_window_length_is_a_setting() -> None:
    window = window_ending(DAY, settings=RiskSettings(window_days=1))
    assert window.start == datetime(2026, 11, 22, tzinfo=UTC)


def test_naive_datetimes_are_refused_everywhere() -> None:
    naive = datetime(2026, 11, 20, 0, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="UTC-aware"):
        booking(booked_at=naive)
    with pytest.raises(ValueError, match="UTC-aware"):
        booking(status=BookingStatus.CANCELLED, cancelled_at=naive)
    with pytest.raises(ValueError, match="UTC-aware"):
        event(EventKind.CANCELLED, at=naive)
    with pytest.raises(ValueError, match="UTC-aware"):
        Window(start=naive, end=T0)


def test_settings_refuse_a_zero_threshold_or_an_empty_gap() -> None:
    with pytest.raises(ValueError, match="no_shows"):
        RiskSettings(no_shows=0)
    with pytest.raises(ValueError, match="transfer_max_gap"):
        RiskSettings(transfer_max_gap=timedelta(0))


def test_the_defaults_are_those_of_the_issue() -> None:
    assert SETTINGS.window_days == 7
    assert SETTINGS.same_payment_same_department == 5
    assert SETTINGS.same_patient_departments == 5
    assert SETTINGS.sex_mismatch_repeat == 2
    assert SETTINGS.cancellations_without_visit == 5
    assert SETTINGS.shared_device_patients == 5


# --- (1) same payment account, one department ------------------------------------------------


def five_paid_by_one_account(**overrides: Any) -> list[BookingFact]:
    return [
        booking(patient_key=f"p-{i}", payment_account_hash="pay-x", **overrides) for i in range(5)
    ]


def test_five_paid_bookings_in_one_department_from_one_payment_account_fire() -> None:
    history = five_paid_by_one_account()
    hits = same_payment_same_department(history, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {
        (RuleName.SAME_PAYMENT_SAME_DEPARTMENT, EntityKind.PAYMENT_ACCOUNT, "pay-x")
    }
    assert hits[0].booking_ids == tuple(sorted(b.booking_id for b in history))
    assert hits[0].score == 1.0


def test_four_paid_bookings_or_five_spread_over_departments_do_not_fire() -> None:
    four = five_paid_by_one_account()[:4]
    spread = [replace(b, department_id=i) for i, b in enumerate(five_paid_by_one_account())]
    for history in (four, spread):
        assert same_payment_same_department(history, window=WINDOW, settings=SETTINGS) == []


def test_unpaid_holds_and_lapsed_holds_are_not_paid_bookings() -> None:
    history = five_paid_by_one_account()
    history[0] = replace(history[0], status=BookingStatus.HELD)
    history[1] = replace(history[1], status=BookingStatus.EXPIRED)
    assert same_payment_same_department(history, window=WINDOW, settings=SETTINGS) == []


def test_a_paid_booking_made_before_the_window_does_not_count() -> None:
    history = five_paid_by_one_account()
    history[0] = replace(history[0], booked_at=WINDOW.start - timedelta(seconds=1))
    assert same_payment_same_department(history, window=WINDOW, settings=SETTINGS) == []


def test_the_payment_threshold_is_a_setting() -> None:
    settings = RiskSettings(same_payment_same_department=4)
    history = five_paid_by_one_account()[:4]
    assert len(same_payment_same_department(history, window=WINDOW, settings=settings)) == 1


# --- (2) one patient, many departments ---------------------------------------------------------


def test_one_patient_booked_in_five_different_departments_fires() -> None:
    history = [booking(patient_key="p-x", department_id=d) for d in range(5)]
    hits = patient_across_departments(history, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {(RuleName.PATIENT_ACROSS_DEPARTMENTS, EntityKind.PATIENT, "p-x")}
    assert len(hits[0].booking_ids) == 5


def test_five_follow_ups_in_one_or_two_departments_do_not_fire() -> None:
    history = [booking(patient_key="p-x", department_id=d % 2) for d in range(6)]
    assert patient_across_departments(history, window=WINDOW, settings=SETTINGS) == []


def test_departments_booked_outside_the_window_or_in_lapsed_holds_do_not_count() -> None:
    history = [booking(patient_key="p-x", department_id=d) for d in range(5)]
    history[0] = replace(history[0], booked_at=WINDOW.end)
    history[1] = replace(history[1], status=BookingStatus.EXPIRED)
    assert patient_across_departments(history, window=WINDOW, settings=SETTINGS) == []
    settings = RiskSettings(same_patient_departments=3)
    assert len(patient_across_departments(history, window=WINDOW, settings=settings)) == 1


# --- (3) sex / department mismatch ---------------------------------------------------------------


def test_a_man_booking_gynaecology_twice_fires_for_him_and_his_account() -> None:
    history = [
        booking(
            patient_key="p-bob",
            account_id=7,
            patient_sex=Sex.MALE,
            department_id=GYNAECOLOGY,
            sex_restriction=SexRestriction.FEMALE,
        )
        for _ in range(2)
    ]
    hits = sex_mismatch(history, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {
        (RuleName.SEX_MISMATCH, EntityKind.PATIENT, "p-bob"),
        (RuleName.SEX_MISMATCH, EntityKind.ACCOUNT, "7"),
    }


def test_one_account_sending_two_women_to_andrology_fires_for_the_account() -> None:
    history = [
        booking(
            patient_key=f"p-{i}",
            account_id=8,
            patient_sex=Sex.FEMALE,
            department_id=ANDROLOGY,
            sex_restriction=SexRestriction.MALE,
        )
        for i in range(2)
    ]
    hits = sex_mismatch(history, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {(RuleName.SEX_MISMATCH, EntityKind.ACCOUNT, "8")}


def test_a_single_mismatch_or_matching_sexes_do_not_fire() -> None:
    once = [
        booking(patient_sex=Sex.MALE, sex_restriction=SexRestriction.FEMALE, account_id=None),
    ]
    matching = [
        booking(patient_sex=Sex.FEMALE, sex_restriction=SexRestriction.FEMALE) for _ in range(3)
    ] + [booking(patient_sex=Sex.MALE, sex_restriction=SexRestriction.MALE) for _ in range(3)]
    unknown = [booking(patient_sex=None, sex_restriction=SexRestriction.MALE) for _ in range(3)]
    for history in (once, matching, unknown):
        assert sex_mismatch(history, window=WINDOW, settings=SETTINGS) == []


# --- (4) cancellations without a visit ----------------------------------------------------------


def cancelled(**overrides: Any) -> BookingFact:
    fields: dict[str, Any] = {
        "status": BookingStatus.CANCELLED,
        "cancelled_at": T0 + timedelta(hours=1),
    }
    fields.update(overrides)
    return booking(**fields)


def test_five_cancellations_without_a_visit_fire() -> None:
    history = [cancelled(patient_key="p-x", account_id=9, department_id=d) for d in range(5)]
    hits = cancellations_without_visit(history, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {
        (RuleName.CANCELLATIONS_WITHOUT_VISIT, EntityKind.PATIENT, "p-x"),
        (RuleName.CANCELLATIONS_WITHOUT_VISIT, EntityKind.ACCOUNT, "9"),
    }


def test_cancellations_before_the_window_do_not_count() -> None:
    history = [cancelled(patient_key="p-x", department_id=d) for d in range(5)]
    history[0] = replace(history[0], cancelled_at=WINDOW.start - timedelta(minutes=1))
    assert cancellations_without_visit(history, window=WINDOW, settings=SETTINGS) == []


def test_reschedules_that_end_in_a_visit_are_not_cancellations_without_a_visit() -> None:
    history = [cancelled(patient_key="p-x", department_id=CARDIOLOGY) for _ in range(5)]
    history.append(booking(patient_key="p-x", status=BookingStatus.CHECKED_IN, attended=True))
    assert cancellations_without_visit(history, window=WINDOW, settings=SETTINGS) == []
    assert len(cancellations_without_visit(history[:5], window=WINDOW, settings=SETTINGS)) == 2


# --- (5) no-shows ------------------------------------------------------------------------------


def test_three_no_shows_in_the_window_fire() -> None:
    history = [
        booking(patient_key="p-x", status=BookingStatus.NO_SHOW, attended=False),
        booking(patient_key="p-x", status=BookingStatus.NO_SHOW, attended=False),
        # the hospital reported the absence before the slot's status caught up
        booking(patient_key="p-x", status=BookingStatus.BOOKED, attended=False),
    ]
    hits = no_shows(history, window=WINDOW, settings=SETTINGS)
    assert (RuleName.NO_SHOWS, EntityKind.PATIENT, "p-x") in keys(hits)


def test_two_no_shows_or_old_ones_or_future_visits_do_not_fire() -> None:
    two = [booking(patient_key="p-x", status=BookingStatus.NO_SHOW) for _ in range(2)]
    old = [
        *two,
        booking(patient_key="p-x", status=BookingStatus.NO_SHOW, session_date=date(2026, 11, 15)),
    ]
    ahead = [booking(patient_key="p-x", attended=None) for _ in range(4)]
    for history in (two, old, ahead):
        assert no_shows(history, window=WINDOW, settings=SETTINGS) == []
    assert len(no_shows(two, window=WINDOW, settings=RiskSettings(no_shows=2))) == 2


# --- (6) transfer by cancel-and-rebook -------------------------------------------------------


def test_a_slot_cancelled_and_taken_by_another_patient_on_the_same_device_is_a_transfer() -> None:
    cancel = event(
        EventKind.CANCELLED,
        patient_key="p-throwaway",
        account_id=66,
        device_key="dev-scalper",
        ip_key="1.1.1.1",
        payment_account_hash=None,
        phone_hash="ph-throwaway",
        booking_id="b-old",
    )
    rebook = event(
        EventKind.HELD,
        at=T0 + timedelta(minutes=20),
        patient_key="p-buyer",
        account_id=77,
        device_key="dev-scalper",
        ip_key="2.2.2.2",
        payment_account_hash="pay-buyer",
        phone_hash="ph-buyer",
        booking_id="b-new",
    )
    hits = transfer([rebook, cancel], window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {(RuleName.TRANSFER, EntityKind.DEVICE, "dev-scalper")}
    assert hits[0].event_ids == (cancel.event_id, rebook.event_id)
    assert hits[0].booking_ids == ("b-new", "b-old")


def test_the_same_patient_re_booking_a_slot_is_not_a_transfer() -> None:
    cancel = event(EventKind.CANCELLED)
    again = event(EventKind.BOOKED, at=T0 + timedelta(minutes=30))
    assert find_transfers([cancel, again], window=WINDOW, settings=SETTINGS) == []


def test_a_stranger_taking_a_returned_slot_is_not_a_transfer() -> None:
    cancel = event(EventKind.CANCELLED)
    stranger = event(
        EventKind.BOOKED,
        at=T0 + timedelta(minutes=30),
        patient_key="p-zed",
        account_id=99,
        device_key="dev-zed",
        ip_key="9.9.9.9",
        payment_account_hash="pay-zed",
        phone_hash="ph-zed",
    )
    assert find_transfers([cancel, stranger], window=WINDOW, settings=SETTINGS) == []


def test_only_the_next_taker_counts_and_only_within_the_gap() -> None:
    cancel = event(EventKind.CANCELLED, slot_id="s")
    stranger = event(
        EventKind.BOOKED,
        slot_id="s",
        at=T0 + timedelta(minutes=5),
        patient_key="p-zed",
        account_id=99,
        device_key=None,
        ip_key=None,
        payment_account_hash=None,
        phone_hash=None,
    )
    linked = event(
        EventKind.BOOKED, slot_id="s", at=T0 + timedelta(minutes=10), patient_key="p-bob"
    )
    assert find_transfers([cancel, stranger, linked], window=WINDOW, settings=SETTINGS) == []
    late = replace(linked, at=T0 + timedelta(hours=5))
    assert find_transfers([cancel, late], window=WINDOW, settings=SETTINGS) == []
    wide = RiskSettings(transfer_max_gap=timedelta(hours=6))
    assert len(find_transfers([cancel, late], window=WINDOW, settings=wide)) == 1


def test_a_cancellation_before_the_window_is_not_read() -> None:
    before = WINDOW.start - timedelta(minutes=1)
    cancel = event(EventKind.CANCELLED, at=before)
    linked = event(EventKind.BOOKED, at=before + timedelta(minutes=2), patient_key="p-bob")
    assert transfer([cancel, linked], window=WINDOW, settings=SETTINGS) == []


def family_hand_off(slot: str, at: datetime) -> list[SlotEventFact]:
    """Mum cancels; dad books the slot from his own phone and account, on the home Wi-Fi."""
    mum = {
        "patient_key": "p-mum",
        "account_id": 1,
        "device_key": "dev-mum",
        "ip_key": "192.0.2.1",
        "wifi_key": "home",
        "payment_account_hash": "pay-mum",
        "phone_hash": "ph-home",
    }
    dad = {
        **mum,
        "patient_key": "p-dad",
        "account_id": 2,
        "device_key": "dev-dad",
        "payment_account_hash": "pay-dad",
    }
    return [
        event(EventKind.CANCELLED, slot_id=slot, at=at, **mum),
        event(EventKind.BOOKED, slot_id=slot, at=at + timedelta(minutes=40), **dad),
    ]


def test_one_hand_off_over_a_shared_phone_and_home_network_is_not_flagged() -> None:
    history = family_hand_off("s1", T0)
    assert len(find_transfers(history, window=WINDOW, settings=SETTINGS)) == 1
    assert transfer(history, window=WINDOW, settings=SETTINGS) == []


def test_repeated_hand_offs_over_a_shared_network_are_flagged() -> None:
    history = family_hand_off("s1", T0) + family_hand_off("s2", T0 + timedelta(days=1))
    hits = transfer(history, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {
        (RuleName.TRANSFER, EntityKind.NETWORK, "ip:192.0.2.1"),
        (RuleName.TRANSFER, EntityKind.NETWORK, "wifi:home"),
        (RuleName.TRANSFER, EntityKind.PHONE, "ph-home"),
    }
    assert all(len(h.event_ids) == 4 for h in hits)


# --- (7) synchrony -----------------------------------------------------------------------------


def side_by_side(sessions: int, gap: timedelta) -> list[BookingFact]:
    history = []
    for s in range(sessions):
        at = T0 + timedelta(hours=s)
        history.append(
            booking(account_id=21, patient_key=f"p-a{s}", session_id=500 + s, booked_at=at)
        )
        history.append(
            booking(account_id=22, patient_key=f"p-b{s}", session_id=500 + s, booked_at=at + gap)
        )
    return history


def test_two_accounts_booking_the_same_sessions_within_seconds_three_times_fire() -> None:
    history = side_by_side(3, timedelta(seconds=2))
    hits = synchrony(history, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {
        (RuleName.SYNCHRONY, EntityKind.ACCOUNT, "21"),
        (RuleName.SYNCHRONY, EntityKind.ACCOUNT, "22"),
    }
    assert len(hits[0].booking_ids) == 6


def test_a_one_off_coincidence_or_a_wider_gap_does_not_fire() -> None:
    for history in (side_by_side(2, timedelta(seconds=1)), side_by_side(5, timedelta(seconds=10))):
        assert synchrony(history, window=WINDOW, settings=SETTINGS) == []
    wide = RiskSettings(synchrony_gap=timedelta(seconds=15))
    assert len(synchrony(side_by_side(3, timedelta(seconds=10)), window=WINDOW, settings=wide)) == 2


def test_one_account_acting_quickly_alone_is_not_synchrony() -> None:
    history = [
        booking(
            account_id=21, session_id=500 + s % 3, booked_at=T0 + timedelta(hours=s % 3, seconds=s)
        )
        for s in range(9)
    ]
    assert synchrony(history, window=WINDOW, settings=SETTINGS) == []


# --- (8) shared identifiers ----------------------------------------------------------------------


def test_one_device_used_for_six_patients_fires_and_five_do_not() -> None:
    six = [
        booking(patient_key=f"p-{i}", device_key="dev-farm", payment_account_hash=None)
        for i in range(6)
    ]
    hits = shared_identifiers(six, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {(RuleName.SHARED_DEVICE, EntityKind.DEVICE, "dev-farm")}
    assert shared_identifiers(six[:5], window=WINDOW, settings=SETTINGS) == []


def test_one_payment_account_paying_for_six_patients_fires() -> None:
    six = [
        booking(patient_key=f"p-{i}", device_key=None, payment_account_hash="pay-x")
        for i in range(6)
    ]
    hits = shared_identifiers(six, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {(RuleName.SHARED_PAYMENT_ACCOUNT, EntityKind.PAYMENT_ACCOUNT, "pay-x")}
    tighter = RiskSettings(shared_payment_patients=2)
    assert len(shared_identifiers(six[:3], window=WINDOW, settings=tighter)) == 1


def test_many_bookings_by_one_patient_on_one_device_are_not_sharing() -> None:
    history = [booking(patient_key="p-x", device_key="dev-x") for _ in range(10)]
    assert shared_identifiers(history, window=WINDOW, settings=SETTINGS) == []


# --- the whole history: families and genuine patients ----------------------------------------


def family_week() -> tuple[list[BookingFact], list[SlotEventFact]]:
    """Two parents and a child: one shared phone number, one home network, a few bookings each.

    Mum's account holds the child; dad pays for the child's visits; dad missed one visit. Mum
    gives back one gynaecology slot (a stranger takes it) and re-books another herself.
    """
    home = {"phone_hash": "ph-home", "ip_key": "192.0.2.1", "wifi_key": "home"}
    mum = {
        **home,
        "patient_key": "p-mum",
        "account_id": 1,
        "patient_sex": Sex.FEMALE,
        "device_key": "dev-mum",
        "payment_account_hash": "pay-mum",
    }
    dad = {
        **home,
        "patient_key": "p-dad",
        "account_id": 2,
        "patient_sex": Sex.MALE,
        "device_key": "dev-dad",
        "payment_account_hash": "pay-dad",
    }
    kid = {
        **mum,
        "patient_key": "p-kid",
        "patient_sex": Sex.MALE,
        "payment_account_hash": "pay-dad",
    }
    gyn = {"department_id": GYNAECOLOGY, "sex_restriction": SexRestriction.FEMALE}
    andro = {"department_id": ANDROLOGY, "sex_restriction": SexRestriction.MALE}
    bookings = [
        booking(**mum, **gyn, status=BookingStatus.CHECKED_IN, attended=True),
        booking(**mum, **gyn, status=BookingStatus.CANCELLED, cancelled_at=T0 + timedelta(hours=2)),
        booking(**mum, **gyn, booked_at=T0 + timedelta(hours=3)),
        booking(**dad, **andro, status=BookingStatus.CHECKED_IN, attended=True),
        booking(**dad, department_id=CARDIOLOGY, status=BookingStatus.NO_SHOW, attended=False),
        booking(**kid, department_id=30, status=BookingStatus.CHECKED_IN, attended=True),
        booking(**kid, department_id=30, booked_at=T0 + timedelta(days=1)),
        booking(**kid, department_id=31, booked_at=T0 + timedelta(days=2)),
    ]
    mum_acts = {k: v for k, v in mum.items() if k != "patient_sex"}
    nobody = dict.fromkeys(
        ("patient_key", "account_id", "device_key", "ip_key", "payment_account_hash", "phone_hash")
    )
    stranger = {
        "patient_key": "p-zed",
        "account_id": 99,
        "device_key": "dev-zed",
        "ip_key": "203.0.113.9",
        "payment_account_hash": "pay-zed",
        "phone_hash": "ph-zed",
    }
    gyn_slot, own_slot = {"slot_id": "slot-gyn"}, {"slot_id": "slot-mum-2"}
    events = [
        # a genuine cancellation; the slot comes back after the random delay to a stranger
        event(EventKind.BOOKED, **gyn_slot, at=T0 - timedelta(days=1), **mum_acts),
        event(EventKind.CANCELLED, **gyn_slot, at=T0 + timedelta(hours=2), **mum_acts),
        event(EventKind.RE_RELEASED, **gyn_slot, at=T0 + timedelta(hours=3), **nobody),
        event(EventKind.HELD, **gyn_slot, at=T0 + timedelta(hours=3, seconds=20), **stranger),
        # mum changes her mind and re-books the very slot she just gave back
        event(EventKind.CANCELLED, **own_slot, at=T0 + timedelta(hours=4), **mum_acts),
        event(EventKind.BOOKED, **own_slot, at=T0 + timedelta(hours=4, minutes=30), **mum_acts),
    ]
    return bookings, events


def test_a_family_sharing_one_phone_and_one_home_network_is_not_flagged() -> None:
    bookings, events = family_week()
    assert run_all(bookings=bookings, events=events, window=WINDOW, settings=SETTINGS) == []


def test_the_family_passes_by_the_thresholds_not_by_a_blind_spot() -> None:
    bookings, events = family_week()
    strict = RiskSettings(no_shows=1, same_patient_departments=2)
    hits = run_all(bookings=bookings, events=events, window=WINDOW, settings=strict)
    assert keys(hits) == {
        (RuleName.NO_SHOWS, EntityKind.PATIENT, "p-dad"),
        (RuleName.NO_SHOWS, EntityKind.ACCOUNT, "2"),
        (RuleName.PATIENT_ACROSS_DEPARTMENTS, EntityKind.PATIENT, "p-dad"),
        (RuleName.PATIENT_ACROSS_DEPARTMENTS, EntityKind.PATIENT, "p-kid"),
    }


def test_a_ring_in_the_same_week_is_flagged_next_to_the_family_and_only_the_ring() -> None:
    bookings, events = family_week()
    ring = [
        booking(
            patient_key=f"p-ring{i}",
            account_id=66,
            device_key="dev-ring",
            payment_account_hash="pay-ring",
            department_id=GYNAECOLOGY,
            sex_restriction=SexRestriction.FEMALE,
            patient_sex=Sex.FEMALE,
        )
        for i in range(6)
    ]
    hits = run_all(bookings=bookings + ring, events=events, window=WINDOW, settings=SETTINGS)
    assert keys(hits) == {
        (RuleName.SAME_PAYMENT_SAME_DEPARTMENT, EntityKind.PAYMENT_ACCOUNT, "pay-ring"),
        (RuleName.SHARED_DEVICE, EntityKind.DEVICE, "dev-ring"),
        (RuleName.SHARED_PAYMENT_ACCOUNT, EntityKind.PAYMENT_ACCOUNT, "pay-ring"),
    }
    family = {b.booking_id for b in bookings}
    assert all(family.isdisjoint(h.booking_ids) for h in hits)


def test_the_same_history_always_gives_the_same_hits_in_the_same_order() -> None:
    bookings, events = family_week()
    ring = five_paid_by_one_account(department_id=GYNAECOLOGY)
    first = run_all(bookings=bookings + ring, events=events, window=WINDOW, settings=SETTINGS)
    again = run_all(
        bookings=list(reversed(bookings + ring)),
        events=list(reversed(events)),
        window=WINDOW,
        settings=SETTINGS,
    )
    assert first == again
    assert first
