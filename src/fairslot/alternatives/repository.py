"""Queries for alternatives: the wanted session and the released sessions like it.

The release gate is in these WHERE clauses as in ``availability.repository``: a session
whose release time has not come is never offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from fairslot.availability.repository import session_on_sale, slot_free_on_sale
from fairslot.bookings.models import Booking
from fairslot.bookings.states import OCCUPYING
from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account, Binding, Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus

MAX_CANDIDATES = 500


@dataclass(frozen=True)
class SessionRow:
    session: ClinicSession
    doctor: Doctor
    department: Department
    hospital: Hospital
    free: int


# Built once with named parameters and reused (see ``availability.repository``): these
# run on every hold refused for capacity, i.e. for most requests at release time.
@cache
def _released_session_row() -> Select[ClinicSession, Doctor, Department, Hospital]:
    return (
        select(ClinicSession, Doctor, Department, Hospital)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(
            ClinicSession.id == bindparam("session_id"),
            ClinicSession.release_at <= bindparam("now"),
        )
    )


def released_session_row(db: Session, *, session_id: int, now: datetime) -> SessionRow | None:
    """The wanted session with its doctor, department and hospital, if it is released.

    A full, closed or withdrawn session still has alternatives; an unreleased one does not
    exist for channels.
    """
    row = db.execute(_released_session_row(), {"session_id": session_id, "now": now}).one_or_none()
    if row is None:
        return None
    session, doctor, department, hospital = row
    return SessionRow(session, doctor, department, hospital, free=0)


@cache
def _candidate_sessions() -> Select[ClinicSession, Doctor, Department, Hospital, int]:
    now: BindParameter[datetime] = bindparam("now")
    # Counted per candidate session (correlated), not over the whole slot table; whether
    # the session is on sale is asked once per session (below), not once per slot.
    free_count = (
        select(func.count())
        .select_from(Slot)
        .where(
            Slot.session_id == ClinicSession.id,
            slot_free_on_sale(now=now, channel_id=bindparam("channel_id")),
        )
        .correlate(ClinicSession)
        .scalar_subquery()
    )
    alike: ColumnElement[bool] = or_(
        ClinicSession.doctor_id == bindparam("doctor_id"),
        and_(
            Department.specialty == bindparam("specialty"),
            Doctor.title == bindparam("title"),
            or_(
                Hospital.id == bindparam("hospital_id"),
                and_(Hospital.grade == bindparam("grade"), Hospital.city == bindparam("city")),
            ),
        ),
    )
    return (
        select(ClinicSession, Doctor, Department, Hospital, free_count)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(
            alike,
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at <= now,
            ClinicSession.closes_at > now,
            ClinicSession.session_date >= bindparam("date_from"),
            ClinicSession.session_date <= bindparam("date_to"),
            session_on_sale(),
            free_count > 0,
        )
        .order_by(ClinicSession.starts_at, ClinicSession.id)
        .limit(bindparam("limit"))
    )


def candidate_sessions(
    db: Session,
    *,
    now: datetime,
    channel_id: int,
    doctor_id: int,
    specialty: str,
    title: DoctorTitle,
    hospital_id: int,
    grade: str,
    city: str,
    date_from: date,
    date_to: date,
    limit: int = MAX_CANDIDATES,
) -> Sequence[SessionRow]:
    """Open sessions of the same doctor, or of the same specialty and title at this hospital
    or at hospitals of the same grade in the same city, soonest first, with their count of
    slots free for ``channel_id``. The caller ranks and filters them further."""
    rows = db.execute(
        _candidate_sessions(),
        {
            "now": now,
            "channel_id": channel_id,
            "doctor_id": doctor_id,
            "specialty": specialty,
            "title": title,
            "hospital_id": hospital_id,
            "grade": grade,
            "city": city,
            "date_from": date_from,
            "date_to": date_to,
            "limit": limit,
        },
    ).all()
    return [
        SessionRow(session, doctor, department, hospital, free=int(count))
        for session, doctor, department, hospital, count in rows
    ]


@dataclass(frozen=True)
class PatientDays:
    """What the ranking needs of a patient (sex, birth date), and (session date,
    department) of their occupying bookings in a range."""

    sex: Sex
    birth_date: date
    occupied: list[tuple[date, int]]


@cache
def _patient_with_days(*, through_account: bool) -> Select[Sex, date, date, int]:
    occupied = and_(
        Booking.patient_id == Patient.id,
        Booking.status.in_(list(OCCUPYING)),
        Booking.session_date >= bindparam("date_from"),
        Booking.session_date <= bindparam("date_to"),
    )
    # Two columns, not the patient's row: no encrypted field is read, nothing is loaded
    # into the session (this runs on every hold refused for capacity).
    stmt = (
        select(Patient.sex, Patient.birth_date, Booking.session_date, Booking.department_id)
        .select_from(Patient)
        .outerjoin(Booking, occupied)
        .where(Patient.id == bindparam("patient_id"))
    )
    if not through_account:
        return stmt
    account_id: BindParameter[int] = bindparam("account_id")
    return stmt.join(
        Binding, and_(Binding.patient_id == Patient.id, Binding.account_id == account_id)
    ).join(
        Account,
        and_(Account.id == Binding.account_id, Account.channel_id == bindparam("channel_id")),
    )


def patient_with_days(
    db: Session,
    *,
    patient_id: int,
    account_id: int | None,
    channel_id: int,
    date_from: date,
    date_to: date,
) -> PatientDays | None:
    """The patient and their occupied department-days, in one round trip — given an
    account, only if the account is the channel's and bound to the patient. None when the
    patient is unknown or (with an account) not bound to it through this channel.

    This runs on every hold refused for capacity, hence one query rather than account,
    binding, patient and bookings in turn.
    """
    params: dict[str, object] = {
        "patient_id": patient_id,
        "date_from": date_from,
        "date_to": date_to,
    }
    if account_id is not None:
        params |= {"account_id": account_id, "channel_id": channel_id}
    rows = db.execute(_patient_with_days(through_account=account_id is not None), params).all()
    if not rows:
        return None
    sex, birth_date = rows[0][0], rows[0][1]
    return PatientDays(
        sex=sex,
        birth_date=birth_date,
        occupied=[(day, department) for _, _, day, department in rows if day is not None],
    )
