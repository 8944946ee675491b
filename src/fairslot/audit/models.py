from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime


class RequestRecord(Base):
    """The context of every channel request that acts for a patient, allowed or refused.

    Written with the request's own work, in its transaction and commit; a refusal (which
    rolls the request back) is still recorded, in a short transaction after the rollback,
    for risk analysis. Written with a Core insert (``audit/service.py::write``).
    """

    __tablename__ = "request_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(48))
    channel_id: Mapped[int | None] = mapped_column()
    account_id: Mapped[int | None] = mapped_column()
    patient_key: Mapped[str | None] = mapped_column(String(64))
    booking_id: Mapped[str | None] = mapped_column(String(36))
    slot_id: Mapped[str | None] = mapped_column(String(36))
    # Keyed hashes of the end user's identifiers (``context.py``), never the raw values.
    device_key: Mapped[str | None] = mapped_column(String(128))
    ip_key: Mapped[str | None] = mapped_column(String(64))
    ip_label: Mapped[str | None] = mapped_column(String(64))  # masked: 203.0.113.x
    wifi_key: Mapped[str | None] = mapped_column(String(128))
    payment_account_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    # The real-time risk decision on an acting request: allow, review or block, with its
    # reasons (comma-separated signal codes); None where no decision applies (a browse).
    decision: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str | None] = mapped_column(String(500))
    # Milliseconds the client's own page says the person spent on the previous step
    # (``X-Client-Step-Ms``); None when the request did not carry it.
    client_step_ms: Mapped[int | None] = mapped_column()

    __table_args__ = (
        Index("ix_request_records_account_at", "account_id", "at"),
        Index("ix_request_records_device_at", "device_key", "at"),
        Index("ix_request_records_decision_at", "decision", "at"),
        # the risk batch's and the retention purge's window scans, and a patient's history
        Index("ix_request_records_at", "at"),
        Index("ix_request_records_patient_at", "patient_key", "at"),
    )
