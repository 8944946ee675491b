from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.cases.states import CLOSED, CaseEventKind, CaseStatus
from fairslot.db.base import Base, UTCDateTime
from fairslot.db.types import str_enum

_OPEN_SQL = text("status NOT IN (" + ", ".join(f"'{s.value}'" for s in sorted(CLOSED)) + ")")


class Case(Base):
    """The alerts on one subject (an entity such as a phone, or a ring), for one review.

    ``subject_kind`` is a risk entity kind (``patient``, ``phone``, ``device`` ...) or
    ``ring``; ``subject_key`` its key (hashed for personal data) or the ring id. At most one
    case per subject is open at a time (partial unique index); a subject found again after
    its case was closed gets a new case. State changes go through ``cases/transitions.py``
    (compare-and-set on ``version``), each with its ``case_events`` row; a reviewer's
    decision also names the ``evidence_version`` it was made on.
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_key: Mapped[str] = mapped_column(String(128))
    subject_label: Mapped[str] = mapped_column(String(128))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped by every addition of alerts while open (intake_repository.raise_score): a
    # decision names the one it was made on (cases/review.py).
    evidence_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        Index(
            "uq_cases_open_subject",
            "subject_kind",
            "subject_key",
            unique=True,
            postgresql_where=_OPEN_SQL,
            sqlite_where=_OPEN_SQL,
        ),
        Index("ix_cases_status_score", "status", "score"),
    )


class CaseEvent(Base):
    """The case ledger: append-only (database triggers refuse edits)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[CaseEventKind] = mapped_column(str_enum(CaseEventKind, "case_event_kind"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
