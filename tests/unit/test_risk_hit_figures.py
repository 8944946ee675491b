"""Each rule hit carries the figure it counted and the threshold it crossed, and its alert
stores them, so a reviewer reads "5 paid bookings ≥ 5" rather than a score."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fairslot.bookings.states import BookingStatus
from fairslot.crypto import Protector
from fairslot.hospitals.kinds import SexRestriction
from fairslot.patients.identity import Sex
from fairslot.risk import alerts
from fairslot.risk.facts import BookingFact, RiskSettings
from fairslot.risk.rules import (
    EntityKind,
    Hit,
    RuleName,
    patient_across_departments,
    same_payment_same_department,
    shared_identifiers,
    window_ending,
)

DAY = date(2026, 11, 22)
SETTINGS = RiskSettings()
WINDOW = window_ending(DAY, settings=SETTINGS)
T0 = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
PROTECTOR = Protector(data_key="test-data-key", hash_key="test-hash-key")


def booking(n: int, **overrides: Any) -> BookingFact:
    fields: dict[str, Any] = {
        "booking_id": f"b-{n:04d}",
        "patient_key": "p-alice",
        "account_id": 1,
        "department_id": 12,
        "department_specialty": "cardiology",
        "sex_restriction": SexRestriction.ANY,
        "patient_sex": Sex.FEMALE,
        "session_id": 100 + n,
        "session_date": DAY,
        "booked_at": T0 + timedelta(minutes=n),
        "cancelled_at": None,
        "status": BookingStatus.BOOKED,
        "attended": None,
        "payment_account_hash": "pay-x",
        "device_key": None,
        "ip_key": None,
        "wifi_key": None,
        "phone_hash": "ph-alice",
        "channel_id": 1,
    }
    fields.update(overrides)
    return BookingFact(**fields)


def hasher(value: str, purpose: str) -> str:
    return PROTECTOR.keyed_hash(value, purpose=purpose)


def test_seven_paid_bookings_on_one_card_carry_seven_against_five() -> None:
    seven = [booking(n, patient_key=f"p-{n}") for n in range(7)]

    [hit] = same_payment_same_department(seven, window=WINDOW, settings=SETTINGS)
    alert = alerts.hit_alert(hit, hasher=hasher, labels=alerts.Labels())

    assert (hit.figure, hit.threshold, hit.more_than) == (7, 5, False)
    assert alert.details == {
        "scope": "payment",
        "figure": 7,
        "threshold": 5,
        "comparison": "at_least",
    }


def test_departments_are_the_figure_of_the_spread_rule() -> None:
    spread = [booking(n, department_id=n % 5, payment_account_hash=None) for n in range(6)]

    [hit] = patient_across_departments(spread, window=WINDOW, settings=SETTINGS)

    assert (hit.figure, hit.threshold) == (5, SETTINGS.same_patient_departments)


def test_a_shared_device_fires_above_its_limit() -> None:
    six = [
        booking(n, patient_key=f"p-{n}", device_key="dev-farm", payment_account_hash=None)
        for n in range(6)
    ]

    [hit] = shared_identifiers(six, window=WINDOW, settings=SETTINGS)
    alert = alerts.hit_alert(hit, hasher=hasher, labels=alerts.Labels())

    assert (hit.figure, hit.threshold, hit.more_than) == (6, SETTINGS.shared_device_patients, True)
    assert alert.details["comparison"] == "more_than"


def test_two_hits_on_one_entity_keep_the_stronger_ones_figure() -> None:
    def draft(figure: int, score: float) -> alerts.AlertDraft:
        hit = Hit(
            rule=RuleName.SAME_PAYMENT_SAME_DEPARTMENT,
            entity_kind=EntityKind.PAYMENT_ACCOUNT,
            entity_key="pay-x",
            score=score,
            explanation=f"{figure} bookings",
            figure=figure,
            threshold=5,
        )
        return alerts.hit_alert(hit, hasher=hasher, labels=alerts.Labels())

    [merged] = alerts.merged([draft(5, 1.0), draft(8, 1.6)])

    assert merged.details["figure"] == 8 and merged.score == 1.6
