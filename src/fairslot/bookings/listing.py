"""An account's bookings (``GET /v1/accounts/{id}/bookings`` and the patient pages' *My
bookings*), and the no-show bans of the patients it books for. Reads only."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.bookings import repository as repo
from fairslot.bookings import rules
from fairslot.bookings.rules import Limits
from fairslot.bookings.schemas import AccountBookingsPage, AccountBookingView, PatientBan
from fairslot.bookings.states import BookingStatus
from fairslot.patients.identity import mask_name

MAX_PAGE = 100


def account_bookings(
    db: Session,
    *,
    account_id: int,
    channel_id: int,
    now: datetime,
    limits: Limits,
    limit: int = 20,
    offset: int = 0,
) -> AccountBookingsPage:
    """A page of the account's bookings through the channel, latest visit first."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = repo.account_bookings(
        db, account_id=account_id, channel_id=channel_id, limit=limit + 1, offset=offset
    )
    items = [_view(row, now=now, limits=limits) for row in rows[:limit]]
    return AccountBookingsPage(
        items=items,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(rows) > limit else None,
    )


def bans(
    db: Session, *, patients: list[tuple[int, str]], now: datetime, limits: Limits, zone: str
) -> list[PatientBan]:
    """The no-show bans in force on the given (patient id, masked name) pairs."""
    today = now.astimezone(ZoneInfo(zone)).date()
    found: list[PatientBan] = []
    for patient_id, name in patients:
        history = repo.patient_history(
            db,
            patient_id=patient_id,
            day=today,
            today=today,
            no_show_since=now - timedelta(days=limits.no_show_window_days),
            now=now,
        )
        until = rules.no_show_ban_until(no_show_times=history.no_show_times, now=now, limits=limits)
        if until is not None and until > now:
            found.append(
                PatientBan(
                    patient_id=patient_id,
                    name_masked=name,
                    until=until.astimezone(ZoneInfo(zone)).date(),
                )
            )
    return found


def _view(row: repo.AccountBookingRow, *, now: datetime, limits: Limits) -> AccountBookingView:
    booking, slot, session, tz = row.booking, row.slot, row.session, ZoneInfo(row.timezone)
    cancel_by = (
        session.starts_at - timedelta(minutes=limits.cancel_cutoff_minutes)
        if booking.status == BookingStatus.BOOKED
        else None
    )
    cancellable = booking.status == BookingStatus.HELD or (
        cancel_by is not None and now <= cancel_by
    )
    return AccountBookingView(
        booking_id=booking.id,
        status=booking.status,
        slot_id=slot.id,
        slot_number=slot.number,
        session_id=session.id,
        department_id=session.department_id,
        session_date=session.session_date,
        his_session_id=session.his_session_id,
        slot_starts_at=slot.starts_at.astimezone(tz),
        slot_ends_at=slot.ends_at.astimezone(tz),
        held_at=booking.held_at.astimezone(tz),
        hold_expires_at=booking.expires_at.astimezone(tz),
        booked_at=booking.booked_at.astimezone(tz) if booking.booked_at else None,
        ended_at=booking.ended_at.astimezone(tz) if booking.ended_at else None,
        payment_account=booking.payment_account_masked,
        hospital_name=row.hospital_name,
        department_name=row.department_name,
        doctor_name=row.doctor_name,
        patient_id=booking.patient_id,
        patient_name_masked=mask_name(row.patient_name),
        cancellable=cancellable,
        cancel_by=cancel_by.astimezone(tz) if cancel_by else None,
    )
