"""Risk alerts and cases as the daily batch leaves them, over real bookings.

The bookings are made through the booking services (hold, then pay), so their ids,
identifiers and slot-ledger events are what production stores. The alerts and the case
are written directly, the way ``fairslot risk run`` writes them: a case (status open)
with its ``opened`` and ``alert_added`` events, each alert pointing at the case.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from factories.world import World
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.cases import intake, ledger
from fairslot.cases.grouping import Subject
from fairslot.cases.intake_repository import link_alerts
from fairslot.cases.models import Case
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.ledger.models import SlotEvent
from fairslot.patients.models import Account, Patient
from fairslot.risk.models import RiskAlert

_serial = itertools.count(1)
RUN_DATE = dt.date(2026, 11, 22)


@dataclass
class Operation:
    """One operator's bookings: an account booking for several patients from one device,
    network and payment account (a scalper, or a family)."""

    account: Account
    patients: list[Patient]
    bookings: list[Booking]
    device: str
    ip: str
    wifi: str | None
    payer: str

    @property
    def payment_hash(self) -> str:
        value = self.bookings[0].payment_account_hash
        assert value is not None
        return value

    @property
    def booking_ids(self) -> list[str]:
        return [b.id for b in self.bookings]


def book_for_patients(
    world: World,
    *,
    patients: int = 3,
    device: str | None = None,
    ip: str | None = None,
    wifi: str | None = None,
    payer: str | None = None,
    account: Account | None = None,
) -> Operation:
    """One account holds and pays a slot for each of ``patients`` new patients bound to it,
    in one session, from one device, IP (and Wi-Fi) with one payment account."""
    n = next(_serial)
    device = device or f"grab-bot-{n}"
    ip = ip or f"203.0.113.{n % 250 + 1}"
    payer = payer or f"62220200{n:08d}"
    account, first = world.patient(account=account)
    people = [first] + [world.patient(account=account)[1] for _ in range(patients - 1)]
    session = world.session(capacity=patients)
    slots = world.slots(session)
    made = []
    for patient, slot in zip(people, slots, strict=False):
        ctx = world.ctx(account, device_id=device, ip=ip, wifi_id=wifi)
        booking = bookings.hold(
            world.db,
            account_id=account.id,
            patient_id=patient.id,
            slot_id=slot.id,
            now=world.now(),
            ctx=ctx,
            policy=world.policy,
            rng=world.platform.rng,
        )
        bookings.confirm(
            world.db,
            booking_id=booking.id,
            account_id=account.id,
            payment_account=payer,
            payment_reference=f"pay-{booking.id[:8]}",
            now=world.now(),
            ctx=ctx,
            protector=world.platform.protector,
        )
        world.db.commit()
        made.append(booking)
    return Operation(
        account=account,
        patients=people,
        bookings=made,
        device=device,
        ip=ip,
        wifi=wifi,
        payer=payer,
    )


@dataclass
class AlertSpec:
    rule: str
    entity_kind: str
    entity_key: str
    entity_label: str
    score: float
    explanation: str
    booking_ids: list[str] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    ring_id: str | None = None


def open_case(
    world: World,
    *,
    subject_kind: str,
    subject_key: str,
    subject_label: str,
    alerts: list[AlertSpec],
    opened_at: dt.datetime | None = None,
) -> Case:
    """A committed open case with its alerts, as the batch opens one."""
    db = world.db
    now = opened_at or world.now()
    case = Case(
        subject_kind=subject_kind,
        subject_key=subject_key,
        subject_label=subject_label,
        status=CaseStatus.OPEN,
        score=max(a.score for a in alerts),
        version=1,
        opened_at=now,
        updated_at=now,
    )
    db.add(case)
    db.flush()
    ledger.append(db, case=case, kind=CaseEventKind.OPENED, at=now, actor="risk-batch")
    for spec in alerts:
        alert = RiskAlert(
            run_date=RUN_DATE,
            rule=spec.rule,
            entity_kind=spec.entity_kind,
            entity_key=spec.entity_key,
            entity_label=spec.entity_label,
            score=spec.score,
            explanation=spec.explanation,
            booking_ids=spec.booking_ids,
            event_ids=spec.event_ids,
            details=spec.details,
            ring_id=spec.ring_id,
            case_id=case.id,
            created_at=now,
        )
        db.add(alert)
        db.flush()
        ledger.append(
            db,
            case=case,
            kind=CaseEventKind.ALERT_ADDED,
            at=now,
            actor="risk-batch",
            data={"alert": alert.id, "rule": spec.rule},
        )
    db.commit()
    return case


def ledger_event_ids(world: World, booking_ids: list[str]) -> list[int]:
    ids = world.db.scalars(
        select(SlotEvent.id).where(SlotEvent.booking_id.in_(booking_ids)).order_by(SlotEvent.id)
    ).all()
    world.db.commit()
    return list(ids)


def payment_case(world: World, op: Operation, *, score: float = 1.2, **kw: Any) -> Case:
    """A case on the operation's payment account (rule 1 of the source paper)."""
    return open_case(
        world,
        subject_kind="payment_account",
        subject_key=op.payment_hash,
        subject_label=op.bookings[0].payment_account_masked or "payment",
        alerts=[
            AlertSpec(
                rule="same_payment_same_department",
                entity_kind="payment_account",
                entity_key=op.payment_hash,
                entity_label=op.bookings[0].payment_account_masked or "payment",
                score=score,
                explanation=f"one payment account paid for {len(op.bookings)} bookings in "
                f"department {world.department.id}; threshold 5",
                booking_ids=op.booking_ids,
                event_ids=ledger_event_ids(world, op.booking_ids),
            )
        ],
        **kw,
    )


def device_case(world: World, op: Operation, *, score: float = 1.0, **kw: Any) -> Case:
    """A case on the operation's device (shared-identifier rule), keyed as the batch keys
    it: the device's keyed hash, as a blacklist entry would be."""
    key = world.platform.protector.keyed_hash(op.device, purpose="device")
    return open_case(
        world,
        subject_kind="device",
        subject_key=key,
        subject_label=op.device[:3] + "***",
        alerts=[
            AlertSpec(
                rule="shared_device",
                entity_kind="device",
                entity_key=key,
                entity_label=op.device[:3] + "***",
                score=score,
                explanation=f"one device used for {len(op.patients)} patients",
                booking_ids=op.booking_ids,
            )
        ],
        **kw,
    )


def ring_case(world: World, ops: list[Operation], *, score: float = 6.0, **kw: Any) -> Case:
    """A case on a ring joining several operations; the alert's details list the members
    by stored key (``members``: ``[kind, key]`` pairs), as the batch stores them."""
    keyed_hash = world.platform.protector.keyed_hash
    members: list[list[str]] = []
    for op in ops:
        members.append(["account", f"account:{op.account.id}"])
        members.append(["device", keyed_hash(op.device, purpose="device")])
        members.append(["network", keyed_hash(op.ip, purpose="network")])
        members.append(["payment", op.payment_hash])
        for patient in op.patients:
            members.append(["patient", patient.id_hash])
            members.append(["phone", patient.phone_hash])
    ring_id = f"ring{next(_serial):012d}"
    booking_ids = [b for op in ops for b in op.booking_ids]
    return open_case(
        world,
        subject_kind="ring",
        subject_key=ring_id,
        subject_label=f"ring of {sum(len(op.patients) for op in ops)} patients",
        alerts=[
            AlertSpec(
                rule="ring",
                entity_kind="ring",
                entity_key=ring_id,
                entity_label="ring",
                score=score,
                explanation="accounts, devices and payment accounts linked; mostly scarce slots",
                booking_ids=booking_ids,
                details={
                    "members": members,
                    "reasons": [{"code": "patients_per_device", "points": 1}],
                },
                ring_id=ring_id,
            )
        ],
        **kw,
    )


def file_later_alert(world: World, case: Case, booking_ids: list[str]) -> int:
    """The next day's batch files one more alert (another operation's bookings) into the
    open ``case`` and commits, in a session of its own; the alert's id."""
    with world.platform.sessions() as batch:
        alert = RiskAlert(
            run_date=world.now().date() + dt.timedelta(days=1),
            rule="same_payment_same_department",
            entity_kind=case.subject_kind,
            entity_key=case.subject_key,
            entity_label=case.subject_label,
            score=2.0,
            explanation="the same payment account paid for two more patients",
            booking_ids=booking_ids,
            event_ids=[],
            details={},
            created_at=world.now(),
        )
        batch.add(alert)
        batch.flush()
        filed = batch.get_one(Case, case.id)
        subject = Subject(kind=case.subject_kind, key=case.subject_key, label=case.subject_label)
        assert intake.add_alerts(
            batch,
            case=filed,
            alerts=[
                intake.IntakeAlert(alert_id=alert.id, rule=alert.rule, score=2.0, subject=subject)
            ],
            now=world.now(),
        )
        link_alerts(batch, case_of={alert.id: case.id})
        batch.commit()
        return alert.id
