from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime


class RiskRun(Base):
    """One run of the daily anomaly batch for ``run_date`` (the last day of its window).

    Re-running a date updates this row and adds only the alerts that are new: the batch is
    idempotent for a date.
    """

    __tablename__ = "risk_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[date] = mapped_column(Date, unique=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bookings_seen: Mapped[int] = mapped_column(Integer, default=0)
    events_seen: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    rings_flagged: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=1)
    actor: Mapped[str] = mapped_column(String(64))


class RiskAlert(Base):
    """One rule hit (or one flagged ring, rule ``ring``; or a real-time ``review`` decision)
    with its evidence, grouped into a case. Unique per date, rule and entity."""

    __tablename__ = "risk_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(48))
    entity_kind: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(String(128))
    entity_label: Mapped[str] = mapped_column(String(128))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(String(1000))
    booking_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Rings: the members and reasons; other rules: anything a reviewer needs beyond the ids.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ring_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("run_date", "rule", "entity_kind", "entity_key"),
        Index("ix_risk_alerts_entity", "entity_kind", "entity_key"),
    )
