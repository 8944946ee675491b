"""Every schedule-side query: sessions and their slots as the hospital pushed them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from fairslot.hospitals.models import Department, Doctor
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.new_slots import NewSlot
from fairslot.schedules.states import SessionStatus, SlotState

# Stay well under SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 1000
_INSERT_SLOTS = insert(cast(Table, Slot.__table__))


def session_by_his_id(
    db: Session, *, hospital_id: int, his_session_id: str
) -> ClinicSession | None:
    return db.scalars(
        select(ClinicSession).where(
            ClinicSession.hospital_id == hospital_id,
            ClinicSession.his_session_id == his_session_id,
        )
    ).one_or_none()


def sessions_by_his_ids(
    db: Session, *, hospital_id: int, his_session_ids: Collection[str]
) -> dict[str, ClinicSession]:
    ids = sorted(set(his_session_ids))
    found: dict[str, ClinicSession] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        for session in db.scalars(
            select(ClinicSession).where(
                ClinicSession.hospital_id == hospital_id,
                ClinicSession.his_session_id.in_(ids[start : start + _IN_CHUNK]),
            )
        ):
            found[session.his_session_id] = session
    return found


def future_sessions(db: Session, *, hospital_id: int, now: datetime) -> list[ClinicSession]:
    """Active sessions of the hospital that have not started yet."""
    return list(
        db.scalars(
            select(ClinicSession)
            .where(
                ClinicSession.hospital_id == hospital_id,
                ClinicSession.status == SessionStatus.ACTIVE,
                ClinicSession.starts_at > now,
            )
            .order_by(ClinicSession.id)
        )
    )


def lock_slots(db: Session, *, session_id: int) -> list[Slot]:
    """All the session's slots, row-locked until the transaction ends, freshly read.

    While they are locked no booking can claim one of them (a claim is an UPDATE of the
    slot row), so what the caller decides from their states stays true. Locks are taken
    in slot-number order, the same order every time. (SQLite serialises writers anyway.)
    """
    return list(
        db.scalars(
            select(Slot)
            .where(Slot.session_id == session_id)
            .order_by(Slot.number)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def insert_slots(db: Session, *, slots: Sequence[NewSlot]) -> None:
    """Write new slots in one executemany, without an ORM object each (their ids are
    made by the caller, so nothing is read back). The session does not know them
    afterwards: read them back with a query if needed."""
    if slots:
        # The table, not the entity: an ORM bulk insert leaves out the None columns and
        # groups the rows by the columns left, a statement per change of shape (a
        # reserved slot next to a free one). One executemany: sqlite3's C loop, psycopg's
        # pipeline. Multi-row VALUES measured no better: ``.values(chunk)`` compiles
        # every chunk (3-5x slower on both); insertmanyvalues gains nothing on SQLite and
        # makes psycopg rewrite every chunk's thousands of placeholders (slower).
        db.execute(_INSERT_SLOTS, [slot._asdict() for slot in slots])


def mark_withdrawn(db: Session, *, session: ClinicSession, capacity: int) -> bool:
    """Compare-and-set the session to WITHDRAWN; False if it already was."""
    result = db.execute(
        update(ClinicSession)
        .where(ClinicSession.id == session.id, ClinicSession.status == SessionStatus.ACTIVE)
        .values(status=SessionStatus.WITHDRAWN, capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        db.refresh(session)
        return False
    # Mirror the row in the loaded object without marking it for another UPDATE.
    set_committed_value(session, "status", SessionStatus.WITHDRAWN)
    set_committed_value(session, "capacity", capacity)
    return True


def sessions_on(
    db: Session, *, hospital_id: int, day: date, limit: int = 5000
) -> list[tuple[ClinicSession, Department, Doctor]]:
    """The hospital's own sessions on a local date, released or not, in time order."""
    return sessions_between(db, hospital_id=hospital_id, first=day, last=day, limit=limit)


def sessions_between(
    db: Session,
    *,
    hospital_id: int,
    first: date,
    last: date,
    department_code: str | None = None,
    limit: int = 5000,
) -> list[tuple[ClinicSession, Department, Doctor]]:
    """The hospital's own sessions on local dates ``first``..``last`` (both included),
    released or not, optionally of one department, in time order."""
    stmt = (
        select(ClinicSession, Department, Doctor)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .where(
            ClinicSession.hospital_id == hospital_id,
            ClinicSession.session_date >= first,
            ClinicSession.session_date <= last,
        )
        .order_by(ClinicSession.starts_at, ClinicSession.his_session_id)
        .limit(limit)
    )
    if department_code is not None:
        stmt = stmt.where(Department.code == department_code)
    return [(s, dep, doc) for s, dep, doc in db.execute(stmt).all()]


def session_with_names(
    db: Session, *, hospital_id: int, his_session_id: str
) -> tuple[ClinicSession, Department, Doctor] | None:
    row = db.execute(
        select(ClinicSession, Department, Doctor)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .where(
            ClinicSession.hospital_id == hospital_id,
            ClinicSession.his_session_id == his_session_id,
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def slot_state_counts(
    db: Session, *, session_ids: Collection[int]
) -> dict[int, dict[SlotState, int]]:
    ids = sorted(set(session_ids))
    counts: dict[int, dict[SlotState, int]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = db.execute(
            select(Slot.session_id, Slot.state, func.count())
            .where(Slot.session_id.in_(ids[start : start + _IN_CHUNK]))
            .group_by(Slot.session_id, Slot.state)
        ).all()
        for session_id, state, count in rows:
            counts.setdefault(session_id, {})[SlotState(state)] = int(count)
    return counts
