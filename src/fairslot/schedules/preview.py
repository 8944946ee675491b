"""A push's preview (dry run): what importing a document would change, with nothing written
and nothing locked. The document is read by the same ``formats`` readers and checked by the
same checks as the import (``service.py``), and every session goes through the same
decision (``changes.decide``) the import carries out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.hospitals.service import Change
from fairslot.schedules import repository as repo
from fairslot.schedules import views
from fairslot.schedules.changes import decide, withdrawal_of
from fairslot.schedules.errors import SessionNotFound
from fairslot.schedules.formats import ScheduleDocument
from fairslot.schedules.schemas import (
    ImportPreview,
    SessionPreview,
    UpsertSummary,
    WithdrawalPreview,
)
from fairslot.schedules.service import (
    check_doctor_departments,
    check_unique_sessions,
    stored_session,
    target_hospital,
)
from fairslot.schedules.states import SessionStatus, SlotState


def preview_import(
    db: Session, *, doc: ScheduleDocument, as_hospital: Hospital | None = None
) -> ImportPreview:
    """What :func:`service.import_schedule` would do with ``doc`` now. Raises what the
    import raises for a document it refuses whole (``ScheduleInvalid``, ``WrongHospital``,
    ``HospitalNotFound``)."""
    hospital = target_hospital(db, doc=doc, as_hospital=as_hospital)
    check_unique_sessions(doc)
    new_departments = frozenset(d.code for d in doc.departments)
    check_doctor_departments(db, hospital=hospital, doc=doc, pending=new_departments)

    departments = hospitals_repo.departments_by_codes(
        db,
        hospital_id=hospital.id,
        codes=new_departments
        | {d.department for d in doc.doctors}
        | {s.department for s in doc.sessions},
    )
    doctors = hospitals_repo.doctors_by_codes(
        db,
        hospital_id=hospital.id,
        codes={d.code for d in doc.doctors} | {s.doctor for s in doc.sessions},
    )
    preview = ImportPreview(hospital=hospital.code)
    preview.departments = _summary(
        [hospitals.department_change(departments.get(d.code), d) for d in doc.departments]
    )
    preview.doctors = _summary(
        [
            hospitals.doctor_change(
                doctors.get(d.code),
                d,
                department_id=departments[d.department].id if d.department in departments else None,
            )
            for d in doc.doctors
        ]
    )
    # A department or doctor the push itself creates has no id yet: a stand-in that no
    # stored session has (ids are positive) makes a session moved to it count as moved.
    department_ids = {code: row.id for code, row in departments.items()}
    for n, code in enumerate(sorted(new_departments - department_ids.keys()), 1):
        department_ids[code] = -n
    doctor_ids = {code: row.id for code, row in doctors.items()}
    for n, code in enumerate(sorted({d.code for d in doc.doctors} - doctor_ids.keys()), 1):
        doctor_ids[code] = -n

    existing = repo.sessions_by_his_ids(
        db, hospital_id=hospital.id, his_session_ids=[s.his_session_id for s in doc.sessions]
    )
    counts = repo.slot_state_counts(db, session_ids=[s.id for s in existing.values()])
    for spec in doc.sessions:
        current = existing.get(spec.his_session_id)
        change = decide(
            spec,
            stored=None
            if current is None
            else stored_session(current, counts=counts.get(current.id)),
            department_id=department_ids.get(spec.department),
            doctor_id=doctor_ids.get(spec.doctor),
        )
        preview.sessions.append(
            SessionPreview(
                session_id=change.session_id,
                where=spec.where,
                outcome=change.outcome,
                capacity_before=change.capacity_before,
                capacity_after=change.capacity_after,
                slots_added=change.slots_added,
                slots_withdrawn=change.slots_withdrawn,
                bookings_withdrawn=change.bookings_withdrawn,
                moved=change.moved,
                fee_changed=change.fee_changed,
                reason=change.reason,
            )
        )
        setattr(preview, change.outcome.value, getattr(preview, change.outcome.value) + 1)
        preview.slots_added += change.slots_added
        preview.slots_withdrawn += change.slots_withdrawn
        preview.bookings_withdrawn += change.bookings_withdrawn
    return preview


def preview_withdrawal(
    db: Session, *, hospital: Hospital, his_session_id: str, now: datetime
) -> WithdrawalPreview:
    """What ``withdrawal.withdraw_session`` would do to the session now: the slots it
    would withdraw and the holds and bookings it would end (``changes.withdrawal_of``)."""
    view = views.session_view(db, hospital=hospital, his_session_id=his_session_id, now=now)
    session = repo.session_by_his_id(db, hospital_id=hospital.id, his_session_id=his_session_id)
    if session is None:  # gone between the two reads (it cannot be: sessions are kept)
        raise SessionNotFound(f"Hospital {hospital.code} has no session {his_session_id!r}.")
    counts = {SlotState(state): n for state, n in view.slots.items()}
    change = withdrawal_of(view.session_id, stored_session(session, counts=counts))
    return WithdrawalPreview(
        session=view,
        slots_withdrawn=change.slots_withdrawn,
        bookings_withdrawn=change.bookings_withdrawn,
        already_withdrawn=view.status == SessionStatus.WITHDRAWN,
    )


def _summary(changes: list[Change]) -> UpsertSummary:
    return UpsertSummary(
        created=changes.count(Change.CREATED),
        updated=changes.count(Change.UPDATED),
        unchanged=changes.count(Change.UNCHANGED),
    )
