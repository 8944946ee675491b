"""Every query of the review queue: cases, their alerts, ledger and the evidence behind them.

State changes are compare-and-set (:func:`move`): they name the version and status they
expect and report whether exactly one row changed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.bookings.models import Booking
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseStatus
from fairslot.channels.models import Channel
from fairslot.hospitals.models import Department, Doctor
from fairslot.ledger.models import SlotEvent
from fairslot.patients.models import Account, Patient
from fairslot.risk.models import RiskAlert
from fairslot.schedules.models import ClinicSession
from fairslot.staff.models import StaffUser

BookingRow = tuple[Booking, Department, Doctor, ClinicSession, Channel, Patient]


def get(db: Session, case_id: int) -> Case | None:
    return db.get(Case, case_id)


def lock(db: Session, case_id: int) -> Case | None:
    """The case, re-read and row-locked to the end of the transaction (PostgreSQL; SQLite
    writers are serialised already). Used where a decision counts rows of other tables."""
    return db.scalars(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def listing(db: Session, *, status: CaseStatus | None, limit: int) -> list[Case]:
    query = select(Case)
    if status is not None:
        query = query.where(Case.status == status)
    return list(db.scalars(query.order_by(Case.score.desc(), Case.opened_at, Case.id).limit(limit)))


def next_candidates(
    db: Session, *, now: datetime, exclude: Collection[int], limit: int
) -> list[Case]:
    """Cases a reviewer may take, best first: open ones and those whose claim has lapsed,
    highest score first, then the oldest."""
    query = select(Case).where(
        or_(
            Case.status == CaseStatus.OPEN,
            and_(Case.status == CaseStatus.IN_REVIEW, Case.locked_until <= now),
        )
    )
    if exclude:
        query = query.where(Case.id.not_in(list(exclude)))
    return list(
        db.scalars(
            query.order_by(Case.score.desc(), Case.opened_at, Case.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
    )


def alerts_of(db: Session, case_id: int) -> list[RiskAlert]:
    return list(
        db.scalars(
            select(RiskAlert)
            .where(RiskAlert.case_id == case_id)
            .order_by(RiskAlert.score.desc(), RiskAlert.id)
        )
    )


def events_of(db: Session, case_id: int) -> list[CaseEvent]:
    return list(
        db.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    )


def booking_rows(db: Session, booking_ids: Collection[str]) -> list[BookingRow]:
    """The bookings with what a reviewer reads beside them, in booking order."""
    if not booking_ids:
        return []
    rows = db.execute(
        select(Booking, Department, Doctor, ClinicSession, Channel, Patient)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .join(Department, Department.id == Booking.department_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Channel, Channel.id == Booking.channel_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Booking.id.in_(list(booking_ids)))
        .order_by(Booking.held_at, Booking.id)
    )
    return [(b, dep, doc, s, ch, p) for b, dep, doc, s, ch, p in rows]


def slot_events(
    db: Session, *, event_ids: Collection[int], booking_ids: Collection[str], limit: int
) -> list[SlotEvent]:
    """The ledger rows an alert names, and every ledger row of the bookings behind it."""
    conditions = []
    if event_ids:
        conditions.append(SlotEvent.id.in_(list(event_ids)))
    if booking_ids:
        conditions.append(SlotEvent.booking_id.in_(list(booking_ids)))
    if not conditions:
        return []
    return list(
        db.scalars(select(SlotEvent).where(or_(*conditions)).order_by(SlotEvent.id).limit(limit))
    )


def patients_by_id_hashes(db: Session, id_hashes: Collection[str]) -> list[Patient]:
    if not id_hashes:
        return []
    return list(db.scalars(select(Patient).where(Patient.id_hash.in_(list(id_hashes)))))


def patients_by_phone_hashes(db: Session, phone_hashes: Collection[str]) -> list[Patient]:
    if not phone_hashes:
        return []
    return list(db.scalars(select(Patient).where(Patient.phone_hash.in_(list(phone_hashes)))))


def accounts_by_ids(db: Session, account_ids: Collection[int]) -> list[Account]:
    if not account_ids:
        return []
    return list(db.scalars(select(Account).where(Account.id.in_(list(account_ids)))))


def masked_payment_accounts(db: Session, hashes: Collection[str]) -> dict[str, str]:
    """A masked spelling of each payment account, from any booking paid with it."""
    if not hashes:
        return {}
    rows = db.execute(
        select(Booking.payment_account_hash, Booking.payment_account_masked)
        .where(
            Booking.payment_account_hash.in_(list(hashes)),
            Booking.payment_account_masked.is_not(None),
        )
        .distinct()
    )
    return {h: m for h, m in rows if h and m}


def unlifted_entries(db: Session, *, keys: Collection[tuple[Scope, str]]) -> list[BlacklistEntry]:
    """Blacklist entries not lifted for any (scope, key), expired ones included: the
    blacklist keeps one unlifted entry per key (``uq_blacklist_active_scope_key``)."""
    if not keys:
        return []
    return list(
        db.scalars(
            select(BlacklistEntry).where(
                tuple_(BlacklistEntry.scope, BlacklistEntry.key_hash).in_(list(keys)),
                BlacklistEntry.lifted_at.is_(None),
            )
        )
    )


def staff_names(db: Session, staff_ids: Collection[int]) -> dict[int, str]:
    if not staff_ids:
        return {}
    rows = db.execute(
        select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(list(staff_ids)))
    )
    return {staff_id: name for staff_id, name in rows}
