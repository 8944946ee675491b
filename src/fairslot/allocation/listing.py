"""Draws as staff list them: by hospital, department, date and state, each with its
verification re-run. Draws are public, so reading the list is not audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from fairslot.allocation import batch_repository as batch_repo
from fairslot.allocation import modes
from fairslot.allocation import repository as repo
from fairslot.allocation.states import AllocationMode, DrawKind, DrawStatus
from fairslot.allocation.verification import check

PER_PAGE = 50


@dataclass(frozen=True)
class DrawFilter:
    hospital_id: int | None = None
    department_id: int | None = None
    session_date: date | None = None
    status: DrawStatus | None = None


@dataclass(frozen=True)
class DrawRow:
    draw_id: int
    hospital_code: str
    hospital_name: str
    department_id: int
    department_name: str
    session_date: date
    status: DrawStatus
    opens_at: datetime
    due_at: datetime
    drawn_at: datetime | None
    zone: str
    kind: DrawKind
    entries: int | None  # intents registered so far, or the entries the draw took
    winners: int | None
    verified: bool | None


@dataclass(frozen=True)
class Option:
    id: int
    label: str


@dataclass(frozen=True)
class ModeRow:
    """A department the platform decided for (scarce) or the hospital overrode."""

    hospital_name: str
    department_name: str
    schedule_mode: AllocationMode
    override: AllocationMode | None
    scarce: bool
    effective_mode: AllocationMode
    why: str | None  # the latest verdict's summary (Chinese)
    decided_at: datetime | None
    zone: str


@dataclass(frozen=True)
class DrawPage:
    rows: list[DrawRow]
    total: int
    page: int
    pages: int
    hospitals: list[Option]
    departments: list[Option]
    modes: list[ModeRow]


def list_draws(db: Session, *, wanted: DrawFilter, page: int = 1) -> DrawPage:
    page = max(page, 1)
    found, total = repo.draw_listing(
        db,
        hospital_id=wanted.hospital_id,
        department_id=wanted.department_id,
        session_date=wanted.session_date,
        status=wanted.status,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    waiting = repo.registered_counts(
        db, draw_ids=[d.id for d, _, _ in found if d.status == DrawStatus.OPEN]
    )
    rows = []
    for draw, department, hospital in found:
        entries = winners = verified = None
        if draw.status == DrawStatus.OPEN:
            entries = waiting.get(draw.id, 0)
        if draw.status == DrawStatus.DRAWN and draw.seed is not None:
            verification = check(draw)
            entries, verified = verification.intents, verification.verified
            assignment = (draw.result or {}).get("assignment") or {}
            winners = sum(1 for slot in assignment.values() if slot)
        rows.append(
            DrawRow(
                draw_id=draw.id,
                hospital_code=hospital.code,
                hospital_name=hospital.name,
                department_id=department.id,
                department_name=department.name,
                session_date=draw.session_date,
                status=draw.status,
                opens_at=draw.opens_at,
                due_at=draw.due_at,
                drawn_at=draw.drawn_at,
                zone=hospital.timezone,
                kind=draw.kind,
                entries=entries,
                winners=winners,
                verified=verified,
            )
        )
    departments = repo.draw_departments(db)
    hospitals = {h.id: Option(h.id, f"{h.code} {h.name}") for _, h in departments}
    return DrawPage(
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        hospitals=list(hospitals.values()),
        departments=[Option(d.id, f"{h.code} · {d.name}") for d, h in departments],
        modes=mode_rows(db, hospital_id=wanted.hospital_id),
    )


def mode_rows(db: Session, *, hospital_id: int | None) -> list[ModeRow]:
    """Departments judged scarce or overridden, with the latest verdict's reason."""
    found = batch_repo.decided_departments(db, hospital_id=hospital_id)
    verdicts = batch_repo.last_verdicts(db, department_ids=[d.id for d, _ in found])
    rows = []
    for department, hospital in found:
        verdict = verdicts.get(department.id)
        rows.append(
            ModeRow(
                hospital_name=hospital.name,
                department_name=department.name,
                schedule_mode=department.allocation_mode,
                override=department.mode_override,
                scarce=department.scarce,
                effective_mode=modes.effective(department),
                why=str(verdict.evidence.get("summary_zh")) if verdict else None,
                decided_at=verdict.decided_at if verdict else None,
                zone=hospital.timezone,
            )
        )
    return rows
