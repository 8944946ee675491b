"""What the daily anomaly rules read: plain, frozen facts about a week of history.

Pure: no I/O. The batch (``fairslot risk run``) loads these from the bookings and the slot
ledger; the rules in :mod:`fairslot.risk.rules` only ever see these dataclasses, so every rule
can be tested with a hand-built history. Every datetime is UTC-aware; a naive one is refused at
construction, because a mixed comparison would silently shift a window by hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.kinds import SexRestriction
from fairslot.ledger.events import EventKind
from fairslot.patients.identity import Sex


def _require_aware(owner: object, name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{type(owner).__name__}.{name} must be UTC-aware, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class BookingFact:
    """One booking as the rules see it: who, where, when, what became of it, and through what.

    ``patient_key`` is the hashed resident-ID key; ``phone_hash`` and ``payment_account_hash``
    are hashed too. ``attended`` is ``None`` while the session lies ahead (or no check-in data
    came from the hospital), ``True`` once checked in, ``False`` once recorded as a no-show.
    """

    booking_id: str
    patient_key: str
    account_id: int | None
    department_id: int
    department_specialty: str
    sex_restriction: SexRestriction
    patient_sex: Sex | None
    session_id: int
    session_date: date
    booked_at: datetime
    cancelled_at: datetime | None
    status: BookingStatus
    attended: bool | None
    payment_account_hash: str | None
    device_key: str | None
    ip_key: str | None
    wifi_key: str | None
    phone_hash: str | None
    channel_id: int | None

    def __post_init__(self) -> None:
        _require_aware(self, "booked_at", self.booked_at)
        _require_aware(self, "cancelled_at", self.cancelled_at)

    @property
    def is_booking(self) -> bool:
        """A hold that lapsed unpaid was never a booking; everything else was."""
        return self.status is not BookingStatus.EXPIRED

    @property
    def is_paid(self) -> bool:
        """Paid: it carries a payment account and went past the hold."""
        return self.payment_account_hash is not None and self.status not in (
            BookingStatus.HELD,
            BookingStatus.EXPIRED,
        )

    @property
    def is_cancelled(self) -> bool:
        return self.status is BookingStatus.CANCELLED and self.cancelled_at is not None

    @property
    def is_no_show(self) -> bool:
        if self.status is BookingStatus.NO_SHOW:
            return True
        return self.attended is False and self.status is BookingStatus.BOOKED

    @property
    def is_attended(self) -> bool:
        return self.status is BookingStatus.CHECKED_IN or self.attended is True


@dataclass(frozen=True, kw_only=True)
class SlotEventFact:
    """One slot-ledger entry (``slot_events`` row) with the identifiers of whoever caused it.

    ``phone_hash`` is not stored on the ledger row; the batch fills it from the patient so the
    transfer rule can see a link through a shared phone.
    """

    event_id: int
    slot_id: str
    kind: EventKind
    at: datetime
    patient_key: str | None
    account_id: int | None
    device_key: str | None
    ip_key: str | None
    wifi_key: str | None
    payment_account_hash: str | None
    phone_hash: str | None = None
    booking_id: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self, "at", self.at)


@dataclass(frozen=True, kw_only=True)
class RiskSettings:
    """Every threshold and window of the daily anomaly capture (issue 4), with its default.

    The first four are the source paper's rules. A rule fires when a count reaches its
    threshold (``>=``) unless the field says "more than".
    """

    window_days: int = 7
    # (1) the same payment account, paid bookings in one department
    same_payment_same_department: int = 5
    # (2) the same patient, bookings in this many *different* departments
    same_patient_departments: int = 5
    # (3) a man in a female-only department or a woman in a male-only one, this many times
    sex_mismatch_repeat: int = 2
    # (4) cancellations without a visit
    cancellations_without_visit: int = 5
    # (5) no-shows. 3, not 2: a patient who booked twice and fell ill misses two visits in a
    # week for a benign reason; three missed visits in seven days has no such easy reading.
    no_shows: int = 3
    # (6) transfer: the next booking of a cancelled slot counts only within this gap. The
    # randomised re-release delays a returned slot by up to 3 h; one more hour of slack.
    transfer_max_gap: timedelta = field(default_factory=lambda: timedelta(hours=4))
    # transfers linked through an account, a device or a payment account (hard to share by
    # accident) fire from this many...
    transfer_strong_repeat: int = 1
    # ...but a shared phone or network (a family, a hospital Wi-Fi) needs a repeat.
    transfer_weak_repeat: int = 2
    # (7) synchrony: two accounts acting on one doctor-session within this many seconds...
    synchrony_gap: timedelta = field(default_factory=lambda: timedelta(seconds=3))
    # ...on at least this many different sessions in the window.
    synchrony_sessions: int = 3
    # (8) shared identifiers: fires when *more than* this many patients use one device...
    shared_device_patients: int = 5
    # ...or one payment account.
    shared_payment_patients: int = 5
    # (9) the gate's decisions: an account (or device) it flagged this many times in the day,
    # or blocked once, becomes a case. One quick payment alone is what a practised patient
    # with a saved card looks like: at a city's volume, a case for each would bury the
    # queue (the batch benchmark: ~1,400 a day). It still counts towards a ring's pace.
    realtime_min_requests: int = 2
    # (10) operators who lose (``operators.py``). One payment account paying for patients
    # of at least this many different accounts (a family pays from one account)...
    payment_accounts: int = 3
    # ...and for at least this many patients.
    payment_patients: int = 3
    # One device acting for patients of at least this many different accounts.
    device_accounts: int = 3
    # Availability polls from one device in the window, at least this many...
    poll_count: int = 120
    # ...arriving on average at most this many seconds apart (server arrival times).
    poll_mean_gap_seconds: float = 30.0
    # Patients (not blacklisted) on a blacklisted identity's Wi-Fi before it counts; its
    # payment account counts from the first.
    reappear_wifi_patients: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, timedelta):
                if value <= timedelta(0):
                    raise ValueError(f"RiskSettings.{f.name} must be positive, got {value}")
            elif value < 1:
                raise ValueError(f"RiskSettings.{f.name} must be at least 1, got {value}")
