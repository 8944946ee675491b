"""How a department's releases are allocated: what the hospital chose, what the platform
judged from history, and what is enforced.

* ``configured``: the hospital's override if it set one, else its schedule's mode.
* ``scarce``: the platform's latest verdict (``scarcity.judge`` over the department's own
  release history), renewed daily by the worker.
* ``effective``: ``configured``, raised to a release batch where it is first-come and
  the department is scarce. The gate, the catalog and the hold path all read this one
  value; the rule itself is ``hospitals/allocation_policy.py``, below the
  channel-facing read (``availability``) that shows it.

Every change is one named function that appends an ``allocation_decisions`` row (who,
when, what, why) in the same transaction: the hospital sees the latest and its reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fairslot.allocation import batch_repository as batch_repo
from fairslot.allocation import scarcity
from fairslot.allocation.batch_rules import MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS, window_seconds
from fairslot.allocation.errors import ScarceReleaseCannotRace
from fairslot.allocation.models import AllocationDecision
from fairslot.allocation.states import AllocationMode, DrawKind
from fairslot.errors import InvalidInput, NotFound
from fairslot.hospitals import allocation_policy
from fairslot.hospitals.models import Department

SCARCITY_VERDICT = "scarcity_verdict"
HOSPITAL_OVERRIDE = "hospital_override"
BATCH_WINDOW = "batch_window"
# A verdict is renewed when older than this (the worker looks every sweep, cheaply).
VERDICT_AGE = timedelta(hours=20)


def configured(department: Department) -> AllocationMode:
    return allocation_policy.configured_mode(department)


def effective(department: Department) -> AllocationMode:
    return allocation_policy.effective_mode_of(department)


@dataclass(frozen=True)
class ModeView:
    """What a hospital (or the console) sees of one department's allocation."""

    department_id: int
    schedule_mode: AllocationMode
    override: AllocationMode | None
    scarce: bool
    effective_mode: AllocationMode
    batch_window_seconds: int
    decisions: list[AllocationDecision]

    @property
    def latest_verdict(self) -> dict[str, Any] | None:
        for decision in self.decisions:
            if decision.kind == SCARCITY_VERDICT:
                return dict(decision.evidence)
        return None


def history(
    db: Session, *, department: Department, now: datetime, rule: scarcity.ScarcityRule
) -> list[scarcity.ReleaseDay]:
    """The department's release days the rule reads: first-come days from their first
    claims, draw and batch days from their published records."""
    since = (now - timedelta(days=rule.lookback_days)).date()
    drawn = {
        d.session_date: d
        for d in batch_repo.drawn_days(db, department_id=department.id, since=since)
    }
    days: list[scarcity.ReleaseDay] = []
    for day, slots, seconds in batch_repo.first_come_sellouts(
        db,
        department_id=department.id,
        since=since,
        released_before=now - timedelta(seconds=rule.within_seconds),
    ):
        draw = drawn.get(day)
        if draw is None:
            days.append(
                scarcity.ReleaseDay(
                    session_date=day,
                    mode=AllocationMode.FIRST_COME,
                    slots=slots,
                    fastest_sellout_seconds=seconds,
                )
            )
            continue
        result = draw.result or {}
        days.append(
            scarcity.ReleaseDay(
                session_date=day,
                mode=AllocationMode.RELEASE_BATCH
                if draw.kind == DrawKind.RELEASE_BATCH
                else AllocationMode.DRAW,
                slots=slots,
                entrants=len(result.get("entries") or []),
                drawn_slots=len(result.get("slots") or []),
            )
        )
    return days


def judge_department(
    db: Session,
    *,
    department: Department,
    now: datetime,
    rule: scarcity.ScarcityRule,
    actor: str = "platform",
) -> AllocationDecision:
    """Judge one department's history now and record the verdict (a row every time: the
    hospital sees when it was last judged and on which days).

    Caution without history (``rule.unknown_is_scarce``) gives way to a hospital that
    chose first-come for the department: it knows its clinic, the platform does not yet.
    History that shows the clinic sells out at release overrides that choice again."""
    if department.mode_override == AllocationMode.FIRST_COME:
        rule = replace(rule, unknown_is_scarce=False)
    verdict = scarcity.judge(history(db, department=department, now=now, rule=rule), rule=rule)
    department.scarce = verdict.scarce  # flushed with the decision row below
    return _record(
        db,
        department=department,
        kind=SCARCITY_VERDICT,
        actor=actor,
        now=now,
        evidence=verdict.as_evidence(),
    )


def judge_due(db: Session, *, now: datetime, rule: scarcity.ScarcityRule, limit: int = 50) -> int:
    """Judge the departments whose verdict is older than ``VERDICT_AGE``; returns how many."""
    due = batch_repo.departments_due_for_verdict(db, verdict_before=now - VERDICT_AGE, limit=limit)
    for department in due:
        judge_department(db, department=department, now=now, rule=rule)
    return len(due)


def override(
    db: Session,
    *,
    department_id: int,
    hospital_id: int,
    mode: AllocationMode | None,
    actor: str,
    now: datetime,
) -> AllocationDecision:
    """The hospital's choice for a department (None: back to its schedule's mode and the
    platform's decision). A draw or a release batch may be chosen anywhere. First-come is
    refused where the department's own history shows it sells out at release, because a
    scarce release is never a race in its release minute; where it is scarce only for
    want of history (a precautionary verdict), an explicit first-come lifts the caution
    until history says otherwise (:func:`judge_department`)."""
    department = _own_department(db, department_id=department_id, hospital_id=hospital_id)
    chosen = mode or department.allocation_mode
    precautionary = _latest_verdict_precautionary(db, department=department)
    if department.scarce and mode == AllocationMode.FIRST_COME and precautionary:
        department.scarce = False  # flushed with the decision row below
    elif department.scarce and chosen == AllocationMode.FIRST_COME:
        raise ScarceReleaseCannotRace(
            "The platform judges this department scarce (its slots sold out within seconds "
            "of release on most recent days): its release is allocated by a release batch "
            "or a draw, never first-come. Choose release_batch or draw.",
        )
    department.mode_override = mode  # flushed with the decision row below
    return _record(
        db,
        department=department,
        kind=HOSPITAL_OVERRIDE,
        actor=actor,
        now=now,
        evidence={"override": mode.value if mode else None},
    )


def _latest_verdict_precautionary(db: Session, *, department: Department) -> bool:
    """Whether the department's latest verdict is scarce for want of history (rows from
    before the flag count as judged from history: the cautious reading)."""
    for decision in batch_repo.decisions_of(db, department_id=department.id):
        if decision.kind == SCARCITY_VERDICT:
            return bool(decision.evidence.get("precautionary", False))
    return False


def set_batch_window(
    db: Session, *, hospital_id: int, seconds: int | None, actor: str, now: datetime
) -> int:
    """The hospital's release-batch window (None: the platform's), recorded on each of its
    departments' decisions. Batches already made keep the window they were published
    with. Returns the number of departments it applies to."""
    if seconds is not None and not MIN_WINDOW_SECONDS <= seconds <= MAX_WINDOW_SECONDS:
        raise InvalidInput(
            f"The release-batch window is {MIN_WINDOW_SECONDS} to {MAX_WINDOW_SECONDS} "
            "seconds: shorter is still a race, longer keeps patients waiting for nothing.",
            code="batch_window_out_of_range",
        )
    hospital = batch_repo.hospital_of(db, hospital_id)
    hospital.batch_window_seconds = seconds  # flushed with the decision rows below
    departments = batch_repo.departments_of(db, hospital_id=hospital_id)
    for department in departments:
        _record(
            db,
            department=department,
            kind=BATCH_WINDOW,
            actor=actor,
            now=now,
            evidence={"batch_window_seconds": seconds},
        )
    return len(departments)


def view(
    db: Session, *, department_id: int, hospital_id: int | None, default_seconds: int
) -> ModeView:
    department = _own_department(db, department_id=department_id, hospital_id=hospital_id)
    found = batch_repo.department_with_hospital(db, department.id)
    assert found is not None
    return ModeView(
        department_id=department.id,
        schedule_mode=department.allocation_mode,
        override=department.mode_override,
        scarce=department.scarce,
        effective_mode=effective(department),
        batch_window_seconds=window_seconds(
            hospital_seconds=found[1].batch_window_seconds, platform_default=default_seconds
        ),
        decisions=batch_repo.decisions_of(db, department_id=department.id),
    )


def _own_department(db: Session, *, department_id: int, hospital_id: int | None) -> Department:
    found = batch_repo.department_with_hospital(db, department_id)
    if found is None or (hospital_id is not None and found[0].hospital_id != hospital_id):
        raise NotFound("No department of this hospital has this id.", code="department_not_found")
    return found[0]


def _record(
    db: Session,
    *,
    department: Department,
    kind: str,
    actor: str,
    now: datetime,
    evidence: dict[str, Any],
) -> AllocationDecision:
    decision = AllocationDecision(
        department_id=department.id,
        kind=kind,
        actor=actor,
        decided_at=now,
        configured_mode=configured(department),
        scarce=department.scarce,
        effective_mode=effective(department),
        evidence=evidence,
    )
    batch_repo.add_decision(db, decision)
    return decision
