"""Queries for alternatives: the wanted session and the released sessions like it.

The release gate is in these WHERE clauses as in ``availability.repository``: a session
whose release time has not come is never offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from fairslot.availability.repository import slot_is_free
from fairslot.bookings.models import Booking
from fairslot.bookings.states import OCCUPYING
from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital
from fairslot.patients.models import Patient
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


def released_session_row(db: Session, *, session_id: int, now: datetime) -> SessionRow | None:
    """The wanted session with its doctor, department and hospital, if it is released.

    A full, closed or withdrawn session still has alternatives; an unreleased one does not
    exist for channels.
    """
    row = db.execute(
        select(ClinicSession, Doctor, Department, Hospital)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(ClinicSession.id == session_id, ClinicSession.release_at <= now)
    ).one_or_none()
    if row is None:
        return None
    session, doctor, department, hospital = row
    return SessionRow(session, doctor, department, hospital, free=0)


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
    # Counted per candidate session (correlated), not over the whole slot table: this
    # runs on every hold refused for capacity, i.e. for most requests at release time.
    free_count = (
        select(func.count())
        .select_from(Slot)
        .where(Slot.session_id == ClinicSession.id, slot_is_free(now=now, channel_id=channel_id))
        .correlate(ClinicSession)
        .scalar_subquery()
    )
    alike: ColumnElement[bool] = or_(
        ClinicSession.doctor_id == doctor_id,
        and_(
            Department.specialty == specialty,
            Doctor.title == title,
            or_(
                Hospital.id == hospital_id,
                and_(Hospital.grade == grade, Hospital.city == city),
            ),
        ),
    )
    stmt = (
        select(ClinicSession, Doctor, Department, Hospital, free_count)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(
            alike,
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at <= now,
            ClinicSession.closes_at > now,
            ClinicSession.session_date >= date_from,
            ClinicSession.session_date <= date_to,
            free_count > 0,
        )
        .order_by(ClinicSession.starts_at, ClinicSession.id)
        .limit(limit)
    )
    return [
        SessionRow(session, doctor, department, hospital, free=int(count))
        for session, doctor, department, hospital, count in db.execute(stmt).all()
    ]


def get_patient(db: Session, patient_id: int) -> Patient | None:
    return db.get(Patient, patient_id)


def occupied_department_days(
    db: Session, *, patient_id: int, date_from: date, date_to: date
) -> Sequence[tuple[date, int]]:
    """(session date, department) of the patient's occupying bookings in the range."""
    return [
        (day, department_id)
        for day, department_id in db.execute(
            select(Booking.session_date, Booking.department_id).where(
                Booking.patient_id == patient_id,
                Booking.status.in_(list(OCCUPYING)),
                Booking.session_date >= date_from,
                Booking.session_date <= date_to,
            )
        ).all()
    ]
