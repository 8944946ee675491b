"""Withdrawal (停诊): the hospital cancels a session. Every unused slot is withdrawn, every
hold and booking on it becomes WITHDRAWN, and the channels and the hospital are told
through the outbox, in the same transaction. Services only flush; the edge commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.bookings import transitions
from fairslot.bookings.models import Booking
from fairslot.context import RequestContext
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.notifications import service as notify
from fairslot.schedules import repository as repo
from fairslot.schedules.changes import WITHDRAWABLE
from fairslot.schedules.errors import SessionNotFound
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.schemas import WithdrawalReport
from fairslot.schedules.states import SessionStatus, SlotState

_PERIOD_ZH = {"am": "上午", "pm": "下午", "evening": "晚间"}


def withdraw_session(
    db: Session,
    *,
    hospital: Hospital,
    his_session_id: str,
    now: datetime,
    ctx: RequestContext,
    reason: str,
) -> WithdrawalReport:
    """The hospital cancels a session: every unused slot is withdrawn, every hold and
    booking on it becomes WITHDRAWN, and the channels and the hospital are told."""
    session = repo.session_by_his_id(db, hospital_id=hospital.id, his_session_id=his_session_id)
    if session is None:
        raise SessionNotFound(f"Hospital {hospital.code} has no session {his_session_id!r}.")
    if session.status == SessionStatus.WITHDRAWN:
        return WithdrawalReport(
            session_id=session.his_session_id,
            status=session.status,
            slots_withdrawn=0,
            bookings_withdrawn=0,
            already_withdrawn=True,
        )
    slots, bookings = withdraw_all(
        db, hospital=hospital, session=session, now=now, ctx=ctx, reason=reason
    )
    db.flush()
    return WithdrawalReport(
        session_id=session.his_session_id,
        status=session.status,
        slots_withdrawn=slots,
        bookings_withdrawn=bookings,
    )


def withdraw_all(
    db: Session,
    *,
    hospital: Hospital,
    session: ClinicSession,
    now: datetime,
    ctx: RequestContext,
    reason: str,
) -> tuple[int, int]:
    """Withdraw the session and its unused slots; returns (slots, bookings) withdrawn."""
    slots = repo.lock_slots(db, session_id=session.id)
    department = hospitals_repo.departments_by_ids(db, [session.department_id])[
        session.department_id
    ]
    doctor = hospitals_repo.doctors_by_ids(db, [session.doctor_id])[session.doctor_id]
    withdrawn = bookings = 0
    for slot in slots:
        if slot.state not in WITHDRAWABLE:
            continue  # attended or no-show: that history stays
        booking = transitions.withdraw_slot(db, slot=slot, now=now, ctx=ctx, reason=reason)
        withdrawn += 1
        if booking is not None:
            bookings += 1
            payload = _withdrawal_payload(
                hospital, session, department=department, doctor=doctor, slot=slot, reason=reason
            )
            _notify_withdrawn(db, hospital=hospital, booking=booking, payload=payload, now=now)
    kept = sum(1 for slot in slots if slot.state != SlotState.WITHDRAWN)
    repo.mark_withdrawn(db, session=session, capacity=kept)
    return withdrawn, bookings


def _withdrawal_payload(
    hospital: Hospital,
    session: ClinicSession,
    *,
    department: Department,
    doctor: Doctor,
    slot: Slot,
    reason: str,
) -> dict[str, Any]:
    day = session.session_date.isoformat()
    start = session.local_start.strftime("%H:%M")
    return {
        "hospital": hospital.code,
        "hospital_name": hospital.name,
        "session_id": session.his_session_id,  # kept as it was: the hospital's id
        "his_session_id": session.his_session_id,
        "platform_session_id": session.id,  # the id channels hold, intend and wait by
        "department": department.code,
        "department_name": department.name,
        "doctor": doctor.code,
        "doctor_name": doctor.name,
        "date": day,
        "period": session.period.value,
        "start": start,
        "slot_number": slot.number,
        "reason": reason,
        "message": (
            f"{hospital.name} has cancelled the session of {doctor.name} ({department.name}) "
            f"on {day} at {start}. Your booking is withdrawn; please choose another session."
        ),
        "message_zh": (
            f"医院已停诊：{hospital.name} {department.name} {doctor.name}医生 {day} "
            f"{_PERIOD_ZH[session.period.value]} {start} 的门诊已取消，您的预约已撤销，"
            "请另选其他号源。"
        ),
    }


def _notify_withdrawn(
    db: Session, *, hospital: Hospital, booking: Booking, payload: dict[str, Any], now: datetime
) -> None:
    notify.to_channel(
        db,
        channel_id=booking.channel_id,
        kind="booking_withdrawn",
        at=now,
        account_id=booking.account_id,
        booking_id=booking.id,
        payload=payload,
    )
    notify.to_hospital(
        db,
        hospital_id=hospital.id,
        kind="booking_withdrawn",
        at=now,
        booking_id=booking.id,
        payload={k: payload[k] for k in ("session_id", "slot_number", "date", "reason")},
    )
