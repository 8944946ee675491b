"""Rows behind the daily risk report — runs, alerts, cases and their ledger, follow-up calls
and blacklist entries — inserted directly, as the batch, the review queue and customer
service would leave them. Blacklist entries go through the blacklist service (audited).

:func:`hand_built_day` makes one realistic day, 2026-11-21 in Shanghai, whose batch ran
after midnight, with everything the report must sort out; tests read its expectations from
the returned :class:`ReportDay`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from factories.demand import create_patient, resident_id
from factories.staff import create_staff
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.keys import key_for, label_for
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.bootstrap import Platform
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallOutcome, CallReason, CallStatus
from fairslot.patients.models import Patient
from fairslot.risk.models import RiskAlert, RiskRun
from fairslot.staff.audit import StaffActor
from fairslot.staff.models import StaffUser
from fairslot.staff.roles import Role
from fairslot.staff.service import actor_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The workbook's sheets, in order, as a reader of the report expects them.
SHEETS = ["Summary", "Rule counts", "Alerts", "Cases", "Blacklist", "Calls"]
_calls = itertools.count(1)
DAY = dt.date(2026, 11, 21)
QUIET_DAY = dt.date(2026, 11, 20)  # a run that found nothing
PREVIOUS_RUN_DAY = dt.date(2026, 11, 19)
# Labels as the batch writes them (``risk/alerts.py``): masked, or a hash for a ring. This
# ring's id happens to start with eight digits: a hash, not a phone, so it is shown as is.
PAYMENT_LABEL = "payment …0123"
RING_LABEL = "ring 20261121 (6 patients, 3 accounts)"


def local(day: dt.date, hhmm: str, *, plus_days: int = 0) -> dt.datetime:
    """``hhmm`` on ``day`` (+ ``plus_days``) in Shanghai, as UTC."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    moment = dt.datetime.combine(day + dt.timedelta(days=plus_days), dt.time(hour, minute))
    return moment.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


def create_run(
    db: Session, *, day: dt.date, started_at: dt.datetime, bookings: int = 0, events: int = 0
) -> RiskRun:
    window_end = local(day, "00:00", plus_days=1)
    run = RiskRun(
        run_date=day,
        window_start=window_end - dt.timedelta(days=7),
        window_end=window_end,
        started_at=started_at,
        finished_at=started_at + dt.timedelta(minutes=2),
        bookings_seen=bookings,
        events_seen=events,
        hits=0,
        rings_flagged=0,
        runs=1,
        actor="worker",
    )
    db.add(run)
    db.flush()
    return run


def create_case(
    db: Session, *, kind: str, key: str, label: str, opened_at: dt.datetime, score: float
) -> Case:
    case = Case(
        subject_kind=kind,
        subject_key=key,
        subject_label=label,
        status=CaseStatus.OPEN,
        score=score,
        version=1,
        opened_at=opened_at,
        updated_at=opened_at,
    )
    db.add(case)
    db.flush()
    event(db, case, CaseEventKind.OPENED, at=opened_at, actor="risk-batch")
    return case


def event(
    db: Session,
    case: Case,
    kind: CaseEventKind,
    *,
    at: dt.datetime,
    actor: str,
    staff: StaffUser | None = None,
    data: dict[str, object] | None = None,
) -> CaseEvent:
    row = CaseEvent(
        case_id=case.id,
        kind=kind,
        at=at,
        staff_id=staff.id if staff else None,
        actor=actor,
        data=data or {},
    )
    db.add(row)
    db.flush()
    return row


def move(db: Session, case: Case, kind: CaseEventKind, *, at: dt.datetime, by: StaffUser) -> None:
    """A reviewer's step (take, ask for calls, ...) with its ledger row."""
    status = {
        CaseEventKind.TAKEN: CaseStatus.IN_REVIEW,
        CaseEventKind.RELEASED: CaseStatus.OPEN,
        CaseEventKind.CALL_REQUESTED: CaseStatus.AWAITING_CALL,
        CaseEventKind.CALLS_DONE: CaseStatus.OPEN,
    }[kind]
    case.status, case.updated_at, case.version = status, at, case.version + 1
    case.assigned_to = by.id if status is CaseStatus.IN_REVIEW else None
    event(db, case, kind, at=at, actor=by.username, staff=by)


def decide(
    db: Session, case: Case, outcome: CaseStatus, *, at: dt.datetime, by: StaffUser, reason: str
) -> None:
    """Confirm or dismiss a taken case."""
    kind = CaseEventKind.CONFIRMED if outcome is CaseStatus.CONFIRMED else CaseEventKind.DISMISSED
    case.status, case.closed_at, case.updated_at = outcome, at, at
    case.decision_reason, case.version = reason, case.version + 1
    event(db, case, kind, at=at, actor=by.username, staff=by, data={"reason": reason})


def create_alert(
    db: Session,
    *,
    day: dt.date,
    rule: str,
    kind: str,
    key: str,
    label: str,
    case: Case | None,
    at: dt.datetime,
    score: float = 1.0,
    bookings: int = 5,
    explanation: str = "",
) -> RiskAlert:
    alert = RiskAlert(
        run_date=day,
        rule=rule,
        entity_kind=kind,
        entity_key=key,
        entity_label=label,
        score=score,
        explanation=explanation or f"{bookings} bookings in the window (threshold 5)",
        booking_ids=[f"00000000-0000-4000-8000-{n:012d}" for n in range(bookings)],
        event_ids=[],
        details={},
        case_id=case.id if case else None,
        created_at=at,
    )
    db.add(alert)
    db.flush()
    return alert


def call(
    db: Session,
    *,
    patient: Patient,
    reason: CallReason,
    outcome: CallOutcome | None,
    created_at: dt.datetime,
    done_at: dt.datetime | None,
    case: Case | None = None,
    note: str | None = None,
) -> CallTask:
    task = CallTask(
        dedupe_key=f"test:{next(_calls)}",
        reason=reason,
        status=CallStatus.DONE if done_at else CallStatus.PENDING,
        patient_id=patient.id,
        case_id=case.id if case else None,
        version=1,
        created_at=created_at,
        outcome=outcome,
        note=note,
        done_at=done_at,
    )
    db.add(task)
    db.flush()
    return task


@dataclass
class ReportDay:
    """What :func:`hand_built_day` made, and what the report of ``DAY`` must say."""

    phone: str
    id_number: str
    payment_account: str
    cases: dict[str, Case] = field(default_factory=dict)
    entries: dict[str, BlacklistEntry] = field(default_factory=dict)
    reviewer: StaffUser | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Personal identifiers that appear in the data and must never leave in the clear."""
        return (self.phone, self.id_number, self.payment_account)


def hand_built_day(db: Session, platform: Platform) -> ReportDay:
    """2026-11-21 in Shanghai; committed. See the comments for what each row is there for."""
    protector = platform.protector
    day = ReportDay(
        phone="13812345678", id_number=resident_id(), payment_account="6222021234567890123"
    )
    wang = create_staff(
        db, username="wang", roles={Role.REVIEWER}, now=local(DAY, "00:00", plus_days=-9)
    )
    li = create_staff(
        db, username="li", roles={Role.REVIEWER}, now=local(DAY, "00:00", plus_days=-9)
    )
    zhao = create_staff(
        db, username="zhao", roles={Role.IT_ADMIN}, now=local(DAY, "00:00", plus_days=-9)
    )
    day.reviewer = wang
    phone_key = key_for(Scope.PHONE, day.phone, protector=protector)
    payment_key = key_for(Scope.PAYMENT, day.payment_account, protector=protector)
    patient_key = key_for(Scope.PATIENT, day.id_number, protector=protector)

    # Two days back: the run of 11-19 (after midnight) opened O, X, Y, Z, W and V.
    create_run(db, day=PREVIOUS_RUN_DAY, started_at=local(PREVIOUS_RUN_DAY, "00:40", plus_days=1))
    opened = local(PREVIOUS_RUN_DAY, "00:41", plus_days=1)
    old = {}
    for name, kind, label, score in (
        ("O", "patient", "patient ****0021", 1.2),  # gets another alert on DAY: not "opened" by DAY
        ("X", "phone", f"phone …{day.phone[-4:]}", 1.8),  # confirmed on DAY
        ("Y", "network", "wifi hom***42", 1.0),  # dismissed on DAY
        ("Z", "account", "account 31", 1.1),  # taken on DAY: in review at its close
        ("W", "device", "device ime***07", 1.3),  # calls asked for on DAY, done the next morning
        ("V", "payment_account", "payment …7788", 1.5),  # taken on DAY, dismissed the next morning
    ):
        old[name] = create_case(
            db, kind=kind, key=f"key-{name}", label=label, opened_at=opened, score=score
        )
        create_alert(
            db,
            day=PREVIOUS_RUN_DAY,
            rule="no_shows",
            kind=kind,
            key=f"key-{name}",
            label=label,
            case=old[name],
            at=opened,
            bookings=3,
        )
    day.cases.update(old)

    # The quiet day's run: nothing found.
    create_run(db, day=QUIET_DAY, started_at=local(QUIET_DAY, "00:40", plus_days=1), bookings=8123)

    # DAY: the reviewers work the queue...
    move(db, old["X"], CaseEventKind.TAKEN, at=local(DAY, "09:05"), by=wang)
    decide(
        db,
        old["X"],
        CaseStatus.CONFIRMED,
        at=local(DAY, "10:30"),
        by=wang,
        # A reviewer typed the number in full: the report must mask it.
        reason=f"called {day.phone}: a broker answered and offered the slot for 800 yuan",
    )
    move(db, old["Y"], CaseEventKind.TAKEN, at=local(DAY, "15:40"), by=li)
    decide(
        db,
        old["Y"],
        CaseStatus.DISMISSED,
        at=local(DAY, "16:00"),
        by=li,
        reason="a family of four on one home network; the visits were real",
    )
    move(db, old["Z"], CaseEventKind.TAKEN, at=local(DAY, "17:00"), by=li)
    move(db, old["W"], CaseEventKind.TAKEN, at=local(DAY, "10:50"), by=wang)
    move(db, old["W"], CaseEventKind.CALL_REQUESTED, at=local(DAY, "11:00"), by=wang)
    move(db, old["V"], CaseEventKind.TAKEN, at=local(DAY, "18:00"), by=wang)
    # The next morning, after the run of DAY: the report of DAY still shows V in review and
    # W awaiting its calls, as they were at the close of DAY.
    decide(
        db,
        old["V"],
        CaseStatus.DISMISSED,
        at=local(DAY, "09:00", plus_days=1),
        by=wang,
        reason="the payment account is a hospital's staff canteen card scheme",
    )
    move(db, old["W"], CaseEventKind.CALLS_DONE, at=local(DAY, "09:30", plus_days=1), by=wang)

    # ...IT blocks what case X confirmed, and lifts an old block after an in-person appeal.
    zhao_actor: StaffActor = actor_of(zhao)
    day.entries["phone"] = blacklist.block_key(
        db,
        scope=Scope.PHONE,
        key_hash=phone_key,
        label=label_for(Scope.PHONE, day.phone),
        reason="broker's phone (case X)",
        actor=zhao_actor,
        now=local(DAY, "11:15"),
        case_ref=str(old["X"].id),
    )
    day.entries["payment"] = blacklist.block_key(
        db,
        scope=Scope.PAYMENT,
        key_hash=payment_key,
        label=label_for(Scope.PAYMENT, day.payment_account),
        # IT typed the account in full: the report must mask it.
        reason=f"paid for 7 cardiology bookings from {day.payment_account}",
        actor=zhao_actor,
        now=local(DAY, "11:16"),
        days=180,
        case_ref=str(old["X"].id),
    )
    earlier = blacklist.block_key(
        db,
        scope=Scope.PATIENT,
        key_hash=patient_key,
        label=label_for(Scope.PATIENT, day.id_number),
        reason="ring member (case 3)",
        actor=zhao_actor,
        now=local(DAY, "12:00", plus_days=-5),
    )
    day.entries["lifted"] = blacklist.lift_in_person(
        db,
        entry_id=earlier.id,
        actor=zhao_actor,
        now=local(DAY, "15:00"),
        checked=f"ID card {day.id_number} seen at the desk; a patient of the clinic since 2019",
    )
    # Added the day before and lifted the day after: in neither list of DAY.
    other = blacklist.block_key(
        db,
        scope=Scope.DEVICE,
        key_hash="device-key-1",
        label="ime***55",
        reason="shared device",
        actor=zhao_actor,
        now=local(DAY, "18:00", plus_days=-1),
    )
    blacklist.lift_in_person(
        db,
        entry_id=other.id,
        actor=zhao_actor,
        now=local(DAY, "09:00", plus_days=1),
        checked="the device is the clinic's own tablet",
    )

    # ...customer service makes calls.
    patients = [create_patient(db, platform) for _ in range(3)]
    for outcome, reason, done in (
        (CallOutcome.GENUINE, CallReason.FLAGGED, local(DAY, "11:30")),
        (CallOutcome.SUSPICIOUS, CallReason.FLAGGED, local(DAY, "11:40")),
        (CallOutcome.SUSPICIOUS, CallReason.FLAGGED, local(DAY, "14:10")),
        (CallOutcome.GENUINE, CallReason.SAMPLE, local(DAY, "09:30")),
        (CallOutcome.UNREACHABLE, CallReason.SAMPLE, local(DAY, "23:59")),
        (CallOutcome.GENUINE, CallReason.SAMPLE, local(DAY, "00:10", plus_days=1)),  # next day
    ):
        call(
            db,
            patient=patients[0],
            reason=reason,
            outcome=outcome,
            created_at=local(DAY, "08:00"),
            done_at=done,
            case=old["W"] if reason is CallReason.FLAGGED else None,
            note=f"spoke to {day.phone}",
        )
    call(
        db,
        patient=patients[1],
        reason=CallReason.SAMPLE,
        outcome=None,
        created_at=local(DAY, "08:00"),
        done_at=None,
    )  # still pending

    # ...a real-time review during the day opens case E.
    e = create_case(
        db,
        kind="device",
        key="device-key-2",
        label="device ime***19",
        opened_at=local(DAY, "14:00"),
        score=1.0,
    )
    day.cases["E"] = e
    create_alert(
        db,
        day=DAY,
        rule="realtime_review",
        kind="device",
        key="device-key-2",
        label="device ime***19",
        case=e,
        at=local(DAY, "14:00"),
        score=1.0,
        bookings=1,
        explanation="one device booked for 6 patients within 10 minutes",
    )

    # The run of DAY, after midnight: new cases A (payment account) and R (ring), and one
    # more alert on the old case O.
    create_run(
        db, day=DAY, started_at=local(DAY, "00:40", plus_days=1), bookings=8410, events=20877
    )
    ran = local(DAY, "00:41", plus_days=1)
    a = create_case(
        db, kind="payment_account", key=payment_key, label=PAYMENT_LABEL, opened_at=ran, score=1.4
    )
    r = create_case(db, kind="ring", key="ring-1f2e", label=RING_LABEL, opened_at=ran, score=2.0)
    day.cases.update(A=a, R=r)
    for rule, kind, key, label, case, score, bookings in (
        ("same_payment_same_department", "payment_account", payment_key, PAYMENT_LABEL, a, 1.4, 7),
        ("shared_payment_account", "payment_account", payment_key, PAYMENT_LABEL, a, 1.2, 6),
        ("ring", "ring", "ring-1f2e", RING_LABEL, r, 2.0, 19),
        ("transfer", "patient", "key-O", "patient ****0021", old["O"], 1.0, 2),
    ):
        create_alert(
            db,
            day=DAY,
            rule=rule,
            kind=kind,
            key=key,
            label=label,
            case=case,
            at=ran,
            score=score,
            bookings=bookings,
        )
    db.commit()
    return day
