"""An account's entries as its own pages list them: its patients' draw intents and
waitlist places (候补), each with the session it is for. Reads only; entering, leaving and
withdrawing are the allocation and waitlist services' (the same as the channel API's)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from fairslot.allocation import modes
from fairslot.allocation import service as allocation
from fairslot.allocation.errors import DrawNotFound
from fairslot.allocation.models import Draw, Intent
from fairslot.entries import repository as repo
from fairslot.entries.schemas import DrawEntryRow, SessionCard, WaitRow
from fairslot.errors import NotFound
from fairslot.hospitals.models import Department, Hospital
from fairslot.schedules.states import SessionStatus
from fairslot.waitlist import service as waitlist
from fairslot.waitlist.models import WaitlistEntry


def session_card(db: Session, *, session_id: int) -> SessionCard:
    found = repo.session_rows(db, [session_id]).get(session_id)
    if found is None:
        raise NotFound("No session has this id.", code="session_not_found")
    return _card(found)


def draw_entries(db: Session, *, patient_ids: Collection[int]) -> list[DrawEntryRow]:
    rows = repo.intents_of_patients(db, patient_ids=patient_ids)
    sessions = repo.session_rows(db, {i.session_id for i, _, _, _ in rows if i.session_id})
    return [_intent_row(i, d, dep, h, sessions) for i, d, dep, h in rows]


def draw_entry(db: Session, *, intent_id: str, account_id: int, channel_id: int) -> DrawEntryRow:
    """One intent of a patient bound to the account (else 404/403 as the channel API)."""
    intent = allocation.get_intent(
        db, intent_id=intent_id, account_id=account_id, channel_id=channel_id
    )
    for row in draw_entries(db, patient_ids=[intent.patient_id]):
        if row.intent_id == intent.id:
            return row
    raise NotFound("No intent has this id.", code="intent_not_found")


def waitlist_places(db: Session, *, account_id: int) -> list[WaitRow]:
    entries = repo.waitlist_of_account(db, account_id=account_id)
    sessions = repo.session_rows(db, {e.session_id for e in entries})
    return [_wait_row(e, sessions) for e in entries if e.session_id in sessions]


def waitlist_place(db: Session, *, entry_id: str, account_id: int, channel_id: int) -> WaitRow:
    entry = waitlist.get_entry(db, entry_id=entry_id, account_id=account_id, channel_id=channel_id)
    return _wait_row(entry, repo.session_rows(db, [entry.session_id]))


def _card(row: repo.SessionRow) -> SessionCard:
    session, doctor, department, hospital = row
    return SessionCard(
        session_id=session.id,
        hospital_id=hospital.id,
        hospital_name=hospital.name,
        department_id=department.id,
        department_name=department.name,
        allocation_mode=modes.effective(department),  # as the catalog shows it
        doctor_name=doctor.name,
        doctor_title=doctor.title,
        session_date=session.session_date,
        period=session.period,
        starts_at=session.starts_at,
        release_at=session.release_at,
        closes_at=session.closes_at,
        fee=session.fee,
        capacity=session.capacity,
        zone=hospital.timezone,
        active=session.status == SessionStatus.ACTIVE,
    )


def _intent_row(
    intent: Intent,
    draw: Draw,
    department: Department,
    hospital: Hospital,
    sessions: dict[int, repo.SessionRow],
) -> DrawEntryRow:
    found = sessions.get(intent.session_id) if intent.session_id else None
    return DrawEntryRow(
        intent_id=intent.id,
        draw_id=draw.id,
        kind=draw.kind,
        status=intent.status,
        patient_id=intent.patient_id,
        session=_card(found) if found else None,
        title=intent.title,
        department_name=department.name,
        hospital_name=hospital.name,
        session_date=draw.session_date,
        draw_status=draw.status,
        due_at=draw.due_at,
        seed_commitment=draw.seed_commitment,
        booking_id=intent.booking_id,
        reason=intent.reason,
        payment_account_masked=intent.payment_account_masked or "",
        created_at=intent.created_at,
        zone=hospital.timezone,
    )


def _wait_row(entry: WaitlistEntry, sessions: dict[int, repo.SessionRow]) -> WaitRow:
    return WaitRow(
        waitlist_id=entry.id,
        status=entry.status,
        patient_id=entry.patient_id,
        session=_card(sessions[entry.session_id]),
        booking_id=entry.booking_id,
        payment_account_masked=entry.payment_account_masked or "",
        created_at=entry.created_at,
        decided_at=entry.decided_at,
    )


def draw_place(db: Session, *, draw_id: int) -> tuple[str, str, str]:
    """(department name, hospital name, hospital zone) of a draw."""
    found = repo.draw_place(db, draw_id=draw_id)
    if found is None:
        raise DrawNotFound("No draw has this id.")
    department, hospital = found
    return department.name, hospital.name, hospital.timezone
