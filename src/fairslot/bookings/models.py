from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.bookings.states import OCCUPYING, BookingStatus
from fairslot.db.base import Base, UTCDateTime, new_guid
from fairslot.db.types import str_enum

_OCCUPYING_SQL = text("status IN (" + ", ".join(f"'{s.value}'" for s in sorted(OCCUPYING)) + ")")


class Booking(Base):
    """A patient's claim on one slot, from hold to attendance.

    Two partial unique indexes make the core invariants hold in the database even if a
    rule check were raced: one occupying booking per slot, and one per patient per
    department per day.
    """

    __tablename__ = "bookings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slots.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    session_date: Mapped[date] = mapped_column(Date)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "booking_status"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_account_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    payment_account_masked: Mapped[str | None] = mapped_column(String(64))
    payment_reference: Mapped[str | None] = mapped_column(String(128))
    # Keyed hashes of the end user's identifiers (``context.py``), never the raw values.
    device_key: Mapped[str | None] = mapped_column(String(128), index=True)
    ip_key: Mapped[str | None] = mapped_column(String(64))
    ip_label: Mapped[str | None] = mapped_column(String(64))  # masked: 203.0.113.x
    wifi_key: Mapped[str | None] = mapped_column(String(128))
    user_agent: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (
        Index(
            "uq_bookings_occupying_slot",
            "slot_id",
            unique=True,
            postgresql_where=_OCCUPYING_SQL,
            sqlite_where=_OCCUPYING_SQL,
        ),
        Index(
            "uq_bookings_patient_department_day",
            "patient_id",
            "department_id",
            "session_date",
            unique=True,
            postgresql_where=_OCCUPYING_SQL,
            sqlite_where=_OCCUPYING_SQL,
        ),
        Index("ix_bookings_patient_date", "patient_id", "session_date"),
        # The daily batch reads a week by when a booking was taken (booked_at, else held_at
        # for a hold never paid), cancelled (ended_at) or due (session_date): one index per
        # branch of ``risk/repository.py::in_window``, so a week of a large table is a
        # bitmap-OR of index ranges, not a scan.
        Index("ix_bookings_booked_at", "booked_at"),
        Index("ix_bookings_held_at", "held_at"),
        Index("ix_bookings_ended_at", "ended_at"),
        Index("ix_bookings_session_date", "session_date"),
    )
