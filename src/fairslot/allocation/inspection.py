"""One draw as staff inspect it: its commitment and, once run, the seed, the inputs, the
order, which intent got which slot (patients masked) and the verification re-run.

Reading it is audited (``draw.view``): the assignment says which person won which slot,
even masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from fairslot.allocation import repository as repo
from fairslot.allocation import rules
from fairslot.allocation.errors import DrawNotFound
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.states import DrawStatus, IntentStatus
from fairslot.allocation.verification import Verification, check
from fairslot.patients.identity import mask_person
from fairslot.schedules.states import SessionStatus
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor


@dataclass(frozen=True)
class SessionLine:
    session_id: int
    his_session_id: str
    doctor_name: str
    title: str
    period: str
    local_start: time
    local_end: time
    capacity: int
    withdrawn: bool


@dataclass(frozen=True)
class EntryLine:
    """One intent of a run draw, in the drawn order."""

    position: int  # 1-based place in the drawn order
    intent_id: str
    patient: str  # masked: 张* ****002X
    channel: str
    session: str | None  # the one session it accepted (HIS id), or
    title: str | None  # any doctor of this title that day
    status: IntentStatus
    reason: str | None  # the booking rule that refused it at draw time
    slot_id: str | None  # stored assignment
    slot_number: int | None
    slot_session: str | None
    booking_id: str | None
    reproduced: bool  # the re-run gives this intent the same slot


@dataclass(frozen=True)
class DrawDetail:
    draw_id: int
    hospital_code: str
    hospital_name: str
    department_id: int
    department_name: str
    session_date: date
    status: DrawStatus
    zone: str
    opens_at: datetime
    due_at: datetime
    drawn_at: datetime | None
    seed_commitment: str
    seed: str | None
    inputs_digest: str | None
    algorithm: str | None
    intents: int  # registered so far (open) or entries of the draw (run)
    free_slots: int | None
    winners: int | None
    refused: int | None
    verified: bool | None
    seed_matches_commitment: bool | None
    inputs_match_digest: bool | None
    assignment_reproduced: bool | None
    sessions: list[SessionLine]
    entries: list[EntryLine]


def inspect_draw(db: Session, *, draw_id: int, actor: StaffActor, now: datetime) -> DrawDetail:
    place = repo.draw_place(db, draw_id)
    if place is None:
        raise DrawNotFound("No draw has this id.")
    draw, department, hospital = place
    sessions = repo.day_sessions_with_doctors(
        db, department_id=draw.department_id, session_date=draw.session_date
    )
    his_ids = {s.id: s.his_session_id for s, _ in sessions}
    base: dict[str, Any] = {
        "draw_id": draw.id,
        "hospital_code": hospital.code,
        "hospital_name": hospital.name,
        "department_id": department.id,
        "department_name": department.name,
        "session_date": draw.session_date,
        "status": draw.status,
        "zone": hospital.timezone,
        "opens_at": draw.opens_at,
        "due_at": draw.due_at,
        "drawn_at": draw.drawn_at,
        "seed_commitment": draw.seed_commitment,
        "sessions": [
            SessionLine(
                session_id=s.id,
                his_session_id=s.his_session_id,
                doctor_name=doctor.name,
                title=doctor.title.value,
                period=s.period.value,
                local_start=s.local_start,
                local_end=s.local_end,
                capacity=s.capacity,
                withdrawn=s.status == SessionStatus.WITHDRAWN,
            )
            for s, doctor in sessions
        ],
    }
    audit.record(
        db, actor=actor, action="draw.view", target_kind="draw", target_id=draw.id, now=now
    )
    if draw.status != DrawStatus.DRAWN or draw.seed is None:
        return DrawDetail(
            **base,
            seed=None,
            inputs_digest=None,
            algorithm=None,
            intents=repo.count_intents(db, draw_id=draw.id, status=IntentStatus.REGISTERED),
            free_slots=None,
            winners=None,
            refused=None,
            verified=None,
            seed_matches_commitment=None,
            inputs_match_digest=None,
            assignment_reproduced=None,
            entries=[],
        )
    verification = check(draw)
    result = draw.result or {}
    assignment: dict[str, str | None] = result.get("assignment") or {}
    return DrawDetail(
        **base,
        seed=draw.seed,
        inputs_digest=draw.inputs_digest,
        algorithm=draw.algorithm,
        intents=verification.intents,
        free_slots=len(result.get("slots", [])),
        winners=sum(1 for slot in assignment.values() if slot),
        refused=len(result.get("refused", [])),
        verified=verification.verified,
        seed_matches_commitment=verification.seed_matches_commitment,
        inputs_match_digest=verification.inputs_match_digest,
        assignment_reproduced=verification.assignment_reproduced,
        entries=_entries(db, draw=draw, verification=verification, his_ids=his_ids),
    )


def _entries(
    db: Session, *, draw: Draw, verification: Verification, his_ids: dict[int, str]
) -> list[EntryLine]:
    result = draw.result or {}
    assignment: dict[str, str | None] = result.get("assignment") or {}
    recomputed = verification.recomputed or {}
    slots = {s["slot_id"]: s for s in result.get("slots", [])}
    people = {i.id: (i, p, c) for i, p, c in repo.intents_with_people(db, draw_id=draw.id)}
    entries = {e["intent_id"]: e for e in result.get("entries", [])}
    assert draw.seed is not None
    lines = []
    in_order = rules.order(draw.seed, list(entries), algorithm=draw.algorithm)
    for position, intent_id in enumerate(in_order, start=1):
        entry = entries[intent_id]
        found = people.get(intent_id)
        intent: Intent | None = found[0] if found else None
        slot_id = assignment.get(intent_id)
        slot = slots.get(slot_id) if slot_id else None
        lines.append(
            EntryLine(
                position=position,
                intent_id=intent_id,
                patient=mask_person(found[1].name_masked, found[1].id_last4) if found else "—",
                channel=found[2].name if found and found[2] else str(entry.get("channel_id")),
                session=his_ids.get(entry["session_id"]) if entry.get("session_id") else None,
                title=entry.get("title"),
                status=intent.status if intent else IntentStatus.LOST,
                reason=intent.reason if intent else None,
                slot_id=slot_id,
                slot_number=int(slot["number"]) if slot else None,
                slot_session=his_ids.get(slot["session_id"]) if slot else None,
                booking_id=intent.booking_id if intent else None,
                reproduced=recomputed.get(intent_id) == slot_id,
            )
        )
    return lines
