"""Reads of an account's entries: its patients' intents and waitlist places, and the
sessions they are for (with doctor, department and hospital)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fairslot.allocation.models import Draw, Intent
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.schedules.models import ClinicSession
from fairslot.waitlist.models import WaitlistEntry

SessionRow = tuple[ClinicSession, Doctor, Department, Hospital]
MAX_ROWS = 100


def _sessions() -> Select[ClinicSession, Doctor, Department, Hospital]:
    return (
        select(ClinicSession, Doctor, Department, Hospital)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
    )


def session_rows(db: Session, session_ids: Collection[int]) -> dict[int, SessionRow]:
    if not session_ids:
        return {}
    rows = db.execute(_sessions().where(ClinicSession.id.in_(list(session_ids)))).all()
    return {s.id: (s, doc, dep, h) for s, doc, dep, h in rows}


def intents_of_patients(
    db: Session, *, patient_ids: Collection[int]
) -> list[tuple[Intent, Draw, Department, Hospital]]:
    """The patients' intents, newest first, with their draw and its department."""
    if not patient_ids:
        return []
    rows = db.execute(
        select(Intent, Draw, Department, Hospital)
        .join(Draw, Draw.id == Intent.draw_id)
        .join(Department, Department.id == Draw.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Intent.patient_id.in_(list(patient_ids)))
        .order_by(Intent.created_at.desc(), Intent.id)
        .limit(MAX_ROWS)
    ).all()
    return [(i, d, dep, h) for i, d, dep, h in rows]


def waitlist_of_account(db: Session, *, account_id: int) -> list[WaitlistEntry]:
    """The waitlist places the account made (only it may see or leave them), newest first."""
    return list(
        db.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.account_id == account_id)
            .order_by(WaitlistEntry.created_at.desc(), WaitlistEntry.id)
            .limit(MAX_ROWS)
        )
    )


def draw_place(db: Session, *, draw_id: int) -> tuple[Department, Hospital] | None:
    """The department and hospital of a draw (draws are public)."""
    row = db.execute(
        select(Department, Hospital)
        .join(Draw, Draw.department_id == Department.id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Draw.id == draw_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])
