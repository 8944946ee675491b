"""The channel-facing read of the pool. The release gate is in these WHERE clauses too:
a session whose release time has not come does not exist for any channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from fairslot.allocation.models import Draw
from fairslot.allocation.states import AllocationMode, DrawKind, DrawStatus
from fairslot.db.core import core_connection
from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus, SlotState
from fairslot.waitlist.models import WaitlistEntry, WaitStatus


def _department_is(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The session's department meets ``conditions`` (correlated on ``ClinicSession``)."""
    return (
        select(Department.id)
        .where(Department.id == ClinicSession.department_id, *conditions)
        .correlate(ClinicSession)
        .exists()
    )


def _draw_of_the_day(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """A draw or release batch of the session's department and day meets ``conditions``
    (correlated on ``ClinicSession``)."""
    return (
        select(Draw.id)
        .where(
            Draw.department_id == ClinicSession.department_id,
            Draw.session_date == ClinicSession.session_date,
            *conditions,
        )
        .correlate(ClinicSession)
        .exists()
    )


def _configured_mode() -> ColumnElement[str]:
    return func.coalesce(Department.mode_override, Department.allocation_mode)


def session_on_sale() -> ColumnElement[bool]:
    """The session's department sells first-come and no draw or release batch of that
    day is pending, or its draw or batch for that day has run.

    Correlated on ``ClinicSession``: a draw-mode or release-batch session is not for
    sale before its draw or batch, even after its release time (they book their winners
    first). The mode is the effective one: a scarce department the hospital configured
    first-come is a release batch (``hospitals/allocation_policy.py``).
    """
    first_come = _department_is(
        _configured_mode() == AllocationMode.FIRST_COME.value, Department.scarce.is_(False)
    )
    pending = _draw_of_the_day(Draw.status == DrawStatus.OPEN)
    drawn = _draw_of_the_day(Draw.status == DrawStatus.DRAWN)
    return or_(and_(first_come, ~pending), drawn)


def session_in_release_batch() -> ColumnElement[bool]:
    """The session's release is allocated by a release batch (pending or run): shown to
    channels from its release, with no free slot during the window, so that patients
    can hold it and enter the batch (correlated on ``ClinicSession``)."""
    configured = _configured_mode()
    batch_mode = _department_is(
        or_(
            configured == AllocationMode.RELEASE_BATCH.value,
            and_(configured == AllocationMode.FIRST_COME.value, Department.scarce.is_(True)),
        )
    )
    batch_row = _draw_of_the_day(Draw.kind == DrawKind.RELEASE_BATCH)
    return or_(batch_mode, batch_row)


def slot_on_sale() -> ColumnElement[bool]:
    """:func:`session_on_sale` for the session of ``Slot`` (correlated on ``Slot``)."""
    return (
        select(ClinicSession.id)
        .where(ClinicSession.id == Slot.session_id, session_on_sale())
        .correlate(Slot)
        .exists()
    )


def someone_waiting() -> ColumnElement[bool]:
    """Someone waits on the waitlist of ``Slot``'s session (correlated on ``Slot``)."""
    return (
        select(WaitlistEntry.id)
        .where(
            WaitlistEntry.session_id == Slot.session_id,
            WaitlistEntry.status == WaitStatus.WAITING,
        )
        .correlate(Slot)
        .exists()
    )


def session_has_waiting(db: Session, *, session_id: int) -> bool:
    """Someone waits on the session's waitlist (its returned slots are theirs first)."""
    return bool(
        db.scalar(
            select(
                exists().where(
                    WaitlistEntry.session_id == session_id,
                    WaitlistEntry.status == WaitStatus.WAITING,
                )
            )
        )
    )


def slot_is_free(
    *, now: datetime | ColumnElement[datetime], channel_id: int | ColumnElement[int]
) -> ColumnElement[bool]:
    """A slot anyone on this channel could hold right now (values, or bound parameters
    of a statement built once)."""
    return and_(slot_on_sale(), slot_free_on_sale(now=now, channel_id=channel_id))


def slot_free_on_sale(
    *, now: datetime | ColumnElement[datetime], channel_id: int | ColumnElement[int]
) -> ColumnElement[bool]:
    """:func:`slot_is_free` for a slot of a session already known to be on sale: its own
    state and reservation only (a query over sessions checks ``session_on_sale`` once
    per session rather than once per slot)."""
    return and_(
        or_(
            Slot.state == SlotState.OPEN,
            # a returned slot is the waitlist's first: it is not shown while anyone waits
            and_(Slot.state == SlotState.COOLING, Slot.reopen_at <= now, ~someone_waiting()),
        ),
        or_(
            Slot.reserved_channel_id.is_(None),
            Slot.reserved_channel_id == channel_id,
            Slot.reserved_until <= now,
        ),
    )


# The statements the channels' polling and grabbing run are built once, with named
# parameters, and reused. Building one (the release gate's nested EXISTS clauses) and
# computing its cache key cost more CPU than running it: about 0.4-0.5 ms each.
def _now() -> BindParameter[datetime]:
    return bindparam("now")


@cache
def _released_sessions(*, by_title: bool) -> Select[ClinicSession, Doctor, Department, str]:
    now = _now()
    stmt = (
        select(ClinicSession, Doctor, Department, Hospital.timezone)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(
            ClinicSession.department_id == bindparam("department_id"),
            ClinicSession.session_date >= bindparam("date_from"),
            ClinicSession.session_date <= bindparam("date_to"),
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at <= now,
            ClinicSession.closes_at > now,
            or_(session_on_sale(), session_in_release_batch()),
        )
        .order_by(ClinicSession.starts_at, ClinicSession.id)
        .limit(bindparam("limit"))
    )
    return stmt.where(Doctor.title == bindparam("title")) if by_title else stmt


def released_sessions(
    db: Session,
    *,
    now: datetime,
    department_id: int,
    date_from: date,
    date_to: date,
    title: DoctorTitle | None,
    limit: int = 200,
) -> Sequence[tuple[ClinicSession, Doctor, Department, str]]:
    """Released, open sessions of the department with their doctor, department and
    hospital's time zone (read here rather than apart: availability is polled hard)."""
    params: dict[str, object] = {
        "now": now,
        "department_id": department_id,
        "date_from": date_from,
        "date_to": date_to,
        "limit": limit,
    }
    if title is not None:
        params["title"] = title
    rows = db.execute(_released_sessions(by_title=title is not None), params).all()
    return [(s, d, dep, str(tz)) for s, d, dep, tz in rows]


@cache
def _free_slots() -> Select[Slot]:
    return (
        select(Slot)
        .where(
            Slot.session_id.in_(bindparam("session_ids", expanding=True)),
            slot_is_free(now=_now(), channel_id=bindparam("channel_id")),
        )
        .order_by(Slot.session_id, Slot.number)
    )


def free_slots(
    db: Session, *, session_ids: list[int], now: datetime, channel_id: int
) -> Sequence[Slot]:
    if not session_ids:
        return []
    return list(
        db.scalars(
            _free_slots(), {"session_ids": session_ids, "now": now, "channel_id": channel_id}
        )
    )


def released_on_sale(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """``ClinicSession`` is active, released by ``now`` and on sale (a channel may hold
    it): what a hold by session asks before its first free slot."""
    return and_(
        ClinicSession.status == SessionStatus.ACTIVE,
        ClinicSession.release_at <= now,
        session_on_sale(),
    )


def released_session(db: Session, *, session_id: int, now: datetime) -> ClinicSession | None:
    return db.scalars(
        select(ClinicSession).where(ClinicSession.id == session_id, released_on_sale(now))
    ).one_or_none()


@cache
def _first_free_slot() -> Select[int, str]:
    now = _now()
    free = slot_is_free(now=now, channel_id=bindparam("channel_id"))
    return (
        select(ClinicSession.id, Slot.id)
        .outerjoin(Slot, and_(Slot.session_id == ClinicSession.id, free))
        .where(ClinicSession.id == bindparam("session_id"), released_on_sale(now))
        .order_by(Slot.number.is_(None), Slot.number)
        .limit(1)
    )


def first_free_slot(
    db: Session, *, session_id: int, now: datetime, channel_id: int
) -> tuple[bool, str | None]:
    """Whether the session is released (and on sale), and the id of its lowest-numbered
    slot free for the channel, if any: :func:`released_session` and :func:`free_slots`
    in one round trip, for the hold by session id that every grab script sends."""
    row = (
        core_connection(db)
        .execute(
            _first_free_slot(), {"session_id": session_id, "now": now, "channel_id": channel_id}
        )
        .one_or_none()
    )
    if row is None:
        return False, None
    return True, row[1]


@dataclass(frozen=True)
class FirstFree:
    """:func:`first_free_slot`'s answer for a channel at an instant, read with a hold's
    place (one statement less for every hold by session)."""

    now: datetime
    channel_id: int
    released: bool
    slot_id: str | None


@dataclass(frozen=True)
class HoldPlace:
    """What a hold needs to know of where it lands, read in one statement: the session,
    its department, its hospital's time zone and the draw or release-batch row of its
    department-day (None: first-come, or not yet made); by session, when asked, the
    session's first free slot (:class:`FirstFree`)."""

    session: ClinicSession
    department: Department
    timezone: str
    draw: Draw | None
    first_free: FirstFree | None = None


@cache
def _hold_place_and_first_free() -> Select[ClinicSession, Department, str, Draw, bool, str]:
    """:func:`_hold_place` by session, with what :func:`_first_free_slot` reads."""
    now = _now()
    first = (
        select(Slot.id)
        .where(
            Slot.session_id == ClinicSession.id,
            slot_free_on_sale(now=now, channel_id=bindparam("channel_id")),
        )
        .order_by(Slot.number)
        .limit(1)
        .correlate(ClinicSession)
        .scalar_subquery()
    )
    return _hold_place(by_slot=False).add_columns(released_on_sale(now).label("released"), first)


@cache
def _hold_place(*, by_slot: bool) -> Select[ClinicSession, Department, str, Draw]:
    stmt = (
        select(ClinicSession, Department, Hospital.timezone, Draw)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .outerjoin(
            Draw,
            and_(
                Draw.department_id == ClinicSession.department_id,
                Draw.session_date == ClinicSession.session_date,
            ),
        )
        .execution_options(populate_existing=True)
    )
    if by_slot:
        return stmt.join(Slot, Slot.session_id == ClinicSession.id).where(
            Slot.id == bindparam("slot_id")
        )
    return stmt.where(ClinicSession.id == bindparam("session_id"))


def hold_place(
    db: Session,
    *,
    slot_id: str | None = None,
    session_id: int | None = None,
    free_for: tuple[datetime, int] | None = None,
) -> HoldPlace | None:
    """The place of a hold by slot (``slot_id``) or by session, whatever its state (the
    caller checks the release gate); None when there is no such slot or session.

    ``free_for``: (now, channel) — by session, read the session's first free slot for
    that channel at that instant with it (:attr:`HoldPlace.first_free`)."""
    if slot_id is None and free_for is not None:
        return _hold_place_by_session_with_first_free(db, session_id=session_id, free_for=free_for)
    if slot_id is not None:
        row = db.execute(_hold_place(by_slot=True), {"slot_id": slot_id}).one_or_none()
    else:
        row = db.execute(_hold_place(by_slot=False), {"session_id": session_id}).one_or_none()
    if row is None:
        return None
    return HoldPlace(session=row[0], department=row[1], timezone=str(row[2]), draw=row[3])


def _hold_place_by_session_with_first_free(
    db: Session, *, session_id: int | None, free_for: tuple[datetime, int]
) -> HoldPlace | None:
    now, channel_id = free_for
    row = db.execute(
        _hold_place_and_first_free(),
        {"session_id": session_id, "now": now, "channel_id": channel_id},
    ).one_or_none()
    if row is None:
        return None
    released = bool(row[4])
    return HoldPlace(
        session=row[0],
        department=row[1],
        timezone=str(row[2]),
        draw=row[3],
        first_free=FirstFree(
            now=now, channel_id=channel_id, released=released, slot_id=row[5] if released else None
        ),
    )


def slots_of_session(db: Session, session_id: int) -> Sequence[Slot]:
    """All slots of a session in number order, whatever their state (for staff and tests)."""
    return list(
        db.scalars(
            select(Slot)
            .where(Slot.session_id == session_id)
            .order_by(Slot.number)
            .execution_options(populate_existing=True)
        )
    )


def draw_of_day(db: Session, *, department_id: int, session_date: date) -> Draw | None:
    """The department-day's draw or release batch row, if one was made."""
    return db.scalars(
        select(Draw)
        .where(Draw.department_id == department_id, Draw.session_date == session_date)
        .execution_options(populate_existing=True)
    ).one_or_none()


def batch_window_of(db: Session, *, hospital_id: int) -> int | None:
    """The hospital's release-batch window (None: the platform's)."""
    return db.scalar(select(Hospital.batch_window_seconds).where(Hospital.id == hospital_id))


def hospital_exists(db: Session, hospital_id: int) -> bool:
    return db.get(Hospital, hospital_id) is not None


def hospital_timezone_of_department(db: Session, department_id: int) -> str | None:
    return db.scalar(
        select(Hospital.timezone)
        .join(Department, Department.hospital_id == Hospital.id)
        .where(Department.id == department_id)
    )


def unreleased_sessions(
    db: Session, *, now: datetime, department_id: int, date_from: date, date_to: date
) -> Sequence[tuple[ClinicSession, Doctor, str]]:
    """Active sessions of the department whose release time has not come, with their
    doctor and hospital's zone: what a patient may see coming (when it opens), never
    its slots."""
    rows = db.execute(
        select(ClinicSession, Doctor, Hospital.timezone)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(
            ClinicSession.department_id == department_id,
            ClinicSession.session_date >= date_from,
            ClinicSession.session_date <= date_to,
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at > now,
        )
        .order_by(ClinicSession.starts_at, ClinicSession.id)
        .limit(200)
    ).all()
    return [(s, d, str(tz)) for s, d, tz in rows]
