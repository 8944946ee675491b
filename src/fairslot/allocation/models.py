from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.allocation import shuffle
from fairslot.allocation.states import AllocationMode, DrawKind, DrawStatus, IntentStatus
from fairslot.db.base import Base, UTCDateTime, new_guid
from fairslot.db.types import str_enum
from fairslot.hospitals.kinds import DoctorTitle


class Draw(Base):
    """The release draw of one department-day (all its draw-mode sessions release together).

    ``seed_commitment`` (SHA-256 of the seed) is published while intents are taken; the
    seed itself only after the draw, so anyone can re-run it and check the result.
    ``algorithm`` is fixed with the commitment and the draw is run, and re-run, with it.
    """

    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    session_date: Mapped[date] = mapped_column(Date)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # = the sessions' release time
    status: Mapped[DrawStatus] = mapped_column(
        str_enum(DrawStatus, "draw_status"), default=DrawStatus.OPEN
    )
    # A release batch is a draw whose entries are the holds of its window (batches.py):
    # opens_at is then the release and due_at the window's end.
    kind: Mapped[DrawKind] = mapped_column(
        str_enum(DrawKind, "draw_kind"), default=DrawKind.DRAW, server_default=DrawKind.DRAW.value
    )
    seed_commitment: Mapped[str] = mapped_column(String(64))
    seed_encrypted: Mapped[str] = mapped_column(String(255))  # kept secret until drawn
    seed: Mapped[str | None] = mapped_column(String(64))  # revealed after the draw
    inputs_digest: Mapped[str | None] = mapped_column(String(64))
    # The shuffle (shuffle.py). Rows from before it was recorded used the first one.
    algorithm: Mapped[str] = mapped_column(
        String(40), default=shuffle.CURRENT, server_default=shuffle.V1
    )
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("department_id", "session_date"),)


class Intent(Base):
    """One real person's one chance in a draw, with a payment pre-authorisation."""

    __tablename__ = "intents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    # What the patient will accept: one session, or any doctor of a title that day.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_sessions.id"))
    title: Mapped[DoctorTitle | None] = mapped_column(str_enum(DoctorTitle, "intent_title"))
    status: Mapped[IntentStatus] = mapped_column(
        str_enum(IntentStatus, "intent_status"), default=IntentStatus.REGISTERED
    )
    # A draw's intent carries a pre-authorisation; a release batch's entry (a hold) none:
    # its winner pays within the hold time like anyone who held.
    payment_account_hash: Mapped[str | None] = mapped_column(String(64))
    payment_account_masked: Mapped[str | None] = mapped_column(String(64))
    payment_reference: Mapped[str | None] = mapped_column(String(128))
    booking_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(String(64))
    # Keyed hashes of the end user's identifiers (``context.py``), never the raw values.
    device_key: Mapped[str | None] = mapped_column(String(128))
    ip_key: Mapped[str | None] = mapped_column(String(64))
    ip_label: Mapped[str | None] = mapped_column(String(64))  # masked: 203.0.113.x
    wifi_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Pre-draw screening (screening.py): why the entry was held out for review (reason
    # codes, for reviewers only), the case opened for it, and when it was held or cleared.
    held_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # One person, one chance: parallel intents through other accounts or channels collapse.
    __table_args__ = (UniqueConstraint("draw_id", "patient_id"),)


class AllocationDecision(Base):
    """Append-only: every change of how a department's releases are allocated, with why.

    ``kind``: ``scarcity_verdict`` (the platform judged the history, ``scarcity.py``) or
    ``hospital_override`` (the hospital chose a mode). ``effective_mode`` is what the
    platform enforced from then on; a scarce department is never first-come.
    """

    __tablename__ = "allocation_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    configured_mode: Mapped[AllocationMode] = mapped_column(
        str_enum(AllocationMode, "decision_configured_mode")
    )
    scarce: Mapped[bool] = mapped_column(Boolean)
    effective_mode: Mapped[AllocationMode] = mapped_column(
        str_enum(AllocationMode, "decision_effective_mode")
    )
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ScreeningEvent(Base):
    """Append-only: every screening decision on an intent (held, cleared, refused, the
    remedy of an entry cleared after its draw), with who decided and why."""

    __tablename__ = "screening_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("intents.id"), index=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
