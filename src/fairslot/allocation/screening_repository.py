"""Every query of pre-draw screening: the facts about a draw's entrants, holding and
clearing an entry (compare-and-set, like every intent change) and its ledger rows. The
review alert a held entry's case is built from is stored by the cases side
(``cases/draw_screening_repository.py``, through ``screening_ports.CaseDesk``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, union_all, update
from sqlalchemy.orm import Session

from fairslot.allocation.models import Draw, Intent, ScreeningEvent
from fairslot.allocation.states import DrawStatus, IntentStatus
from fairslot.bookings.models import Booking
from fairslot.cases.models import Case
from fairslot.cases.states import CLOSED
from fairslot.patients.models import Binding, Patient

# Keys per IN list: well under every driver's parameter limit.
_CHUNK = 500


def _chunks(values: Collection[Any]) -> list[list[Any]]:
    ordered = sorted(set(values))
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


def patients(db: Session, *, patient_ids: Collection[int]) -> dict[int, Patient]:
    found: dict[int, Patient] = {}
    for chunk in _chunks(patient_ids):
        found.update((p.id, p) for p in db.scalars(select(Patient).where(Patient.id.in_(chunk))))
    return found


def bindings(db: Session, *, account_ids: Collection[int]) -> list[tuple[int, int, datetime]]:
    """(account id, patient id, bound at) of every binding of these accounts."""
    rows: list[tuple[int, int, datetime]] = []
    for chunk in _chunks(account_ids):
        rows.extend(
            (int(a), int(p), at)
            for a, p, at in db.execute(
                select(Binding.account_id, Binding.patient_id, Binding.created_at).where(
                    Binding.account_id.in_(chunk)
                )
            )
        )
    return rows


def past_bookings(db: Session, *, patient_ids: Collection[int], before: datetime) -> dict[int, int]:
    """Bookings (of any outcome) each patient held before ``before``."""
    found: dict[int, int] = {}
    for chunk in _chunks(patient_ids):
        rows = db.execute(
            select(Booking.patient_id, func.count())
            .where(Booking.patient_id.in_(chunk), Booking.held_at < before)
            .group_by(Booking.patient_id)
        )
        found.update((int(p), int(n)) for p, n in rows)
    return found


def network_patients(db: Session, *, keys: Collection[str], since: datetime) -> dict[str, int]:
    """How many distinct patients booked or entered a draw from each network key (address
    or Wi-Fi) since ``since``: the platform's history of who shares a network."""
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        seen = union_all(
            select(Booking.ip_key.label("key"), Booking.patient_id.label("patient")).where(
                Booking.ip_key.in_(chunk), Booking.held_at >= since
            ),
            select(Booking.wifi_key, Booking.patient_id).where(
                Booking.wifi_key.in_(chunk), Booking.held_at >= since
            ),
            select(Intent.ip_key, Intent.patient_id).where(
                Intent.ip_key.in_(chunk), Intent.created_at >= since
            ),
            select(Intent.wifi_key, Intent.patient_id).where(
                Intent.wifi_key.in_(chunk), Intent.created_at >= since
            ),
        ).subquery()
        rows = db.execute(
            select(seen.c.key, func.count(func.distinct(seen.c.patient))).group_by(seen.c.key)
        )
        found.update((str(k), int(n)) for k, n in rows)
    return found


def screenable(db: Session, *, draw_id: int) -> list[Intent]:
    """The draw's entries screening looks at: registered, and held ones (already held
    entries keep their place and their case; they are not held twice)."""
    return list(
        db.scalars(
            select(Intent)
            .where(
                Intent.draw_id == draw_id,
                Intent.status.in_([IntentStatus.REGISTERED, IntentStatus.HELD]),
            )
            .order_by(Intent.id)
            .execution_options(populate_existing=True)
        )
    )


def held_in_open_cases(db: Session, *, patient_ids: Collection[int]) -> dict[int, set[int]]:
    """Patient id -> open cases that hold one of the patient's entries (in any draw) for
    review. An entry a reviewer cleared no longer counts."""
    found: dict[int, set[int]] = {}
    for chunk in _chunks(patient_ids):
        rows = db.execute(
            select(Intent.patient_id, Case.id)
            .join(Case, Case.id == Intent.case_id)
            .where(
                Intent.patient_id.in_(chunk),
                Intent.status == IntentStatus.HELD,
                Case.status.not_in(CLOSED),
            )
        )
        for patient_id, case_id in rows:
            found.setdefault(int(patient_id), set()).add(int(case_id))
    return found


def hold(
    db: Session, *, intent_id: str, reasons: Sequence[str], case_id: int | None, now: datetime
) -> bool:
    """REGISTERED -> HELD, with its reasons and case; False when it changed meanwhile."""
    result = db.execute(
        update(Intent)
        .where(Intent.id == intent_id, Intent.status == IntentStatus.REGISTERED)
        .values(
            status=IntentStatus.HELD,
            held_reasons=list(reasons),
            case_id=case_id,
            held_at=now,
            decided_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def move(
    db: Session, *, intent_id: str, expected: IntentStatus, target: IntentStatus, **values: Any
) -> bool:
    result = db.execute(
        update(Intent)
        .where(Intent.id == intent_id, Intent.status == expected)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def add_event(
    db: Session,
    *,
    intent: Intent,
    kind: str,
    at: datetime,
    actor: str,
    reasons: Sequence[str] = (),
    staff_id: int | None = None,
    case_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    db.add(
        ScreeningEvent(
            intent_id=intent.id,
            draw_id=intent.draw_id,
            kind=kind,
            at=at,
            actor=actor[:64],
            staff_id=staff_id,
            case_id=case_id,
            reasons=list(reasons),
            data=data or {},
        )
    )
    db.flush()


def events_of(db: Session, *, intent_ids: Collection[str]) -> list[ScreeningEvent]:
    rows: list[ScreeningEvent] = []
    for chunk in _chunks(intent_ids):
        rows.extend(db.scalars(select(ScreeningEvent).where(ScreeningEvent.intent_id.in_(chunk))))
    return sorted(rows, key=lambda e: e.id)


def held_of_case(db: Session, *, case_id: int) -> list[tuple[Intent, Patient, Draw]]:
    """Every entry a case holds (or held), with its patient and draw."""
    rows = db.execute(
        select(Intent, Patient, Draw)
        .join(Patient, Patient.id == Intent.patient_id)
        .join(Draw, Draw.id == Intent.draw_id)
        .where(Intent.case_id == case_id)
        .order_by(Draw.due_at, Intent.id)
        .execution_options(populate_existing=True)
    ).all()
    return [(intent, patient, draw) for intent, patient, draw in rows]


def owed(db: Session, *, limit: int = 200) -> list[Intent]:
    """Entries cleared after their draw whose place had won: waiting for a slot."""
    return list(
        db.scalars(
            select(Intent)
            .where(Intent.status == IntentStatus.OWED)
            .order_by(Intent.cleared_at, Intent.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
    )


def owed_for_day(db: Session, *, department_id: int, session_date: date) -> list[Intent]:
    """The OWED entries of one department-day's draw, in the order they were cleared
    (the first cleared is owed first)."""
    return list(
        db.scalars(
            select(Intent)
            .join(Draw, Draw.id == Intent.draw_id)
            .where(
                Draw.department_id == department_id,
                Draw.session_date == session_date,
                Intent.status == IntentStatus.OWED,
            )
            .order_by(Intent.cleared_at, Intent.id)
            .execution_options(populate_existing=True)
        )
    )


def open_draws_in_window(db: Session, *, now: datetime, limit: int = 100) -> list[Draw]:
    """Draws taking intents now: the worker screens them ahead of the draw, so a reviewer
    has the window's time to look."""
    return list(
        db.scalars(
            select(Draw)
            .where(Draw.status == DrawStatus.OPEN, Draw.opens_at <= now, Draw.due_at > now)
            .order_by(Draw.due_at, Draw.id)
            .limit(limit)
        )
    )
