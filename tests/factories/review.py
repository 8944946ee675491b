"""The review queue's test helpers: reviewers, taking the next case, the code of a
refusal, and a case's ledger and audit trail read back as lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from factories.staff import actor, create_staff
from factories.world import World
from fairslot.cases import review
from fairslot.cases.models import Case, CaseEvent
from fairslot.errors import DomainError
from fairslot.followup.models import CallTask
from fairslot.staff.audit import StaffActor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

LOCK = 30


def staff(world: World, name: str, role: Role) -> StaffActor:
    """A committed staff account with one role, as the actor the services take."""
    return actor(create_staff(world.db, username=name, roles={role}, now=world.now()))


def take(world: World, who: StaffActor) -> Case:
    """``who`` takes the next case for ``LOCK`` minutes, committed."""
    case = review.take_next(world.db, actor=who, now=world.now(), lock_minutes=LOCK)
    world.db.commit()
    return case


def seen(world: World, case_id: int) -> int:
    """The case's ``evidence_version`` as a reviewer reading it now sees it (what a
    confirmation or dismissal names)."""
    return world.db.get_one(Case, case_id).evidence_version


def ask_for_calls(
    world: World, *, case_id: int, actor: StaffActor, question: str
) -> tuple[Case, list[CallTask]]:
    """The reviewer holding the case asks customer service to call its patients (not
    committed: the test commits when its transaction would end)."""
    return review.request_calls(
        world.db,
        case_id=case_id,
        question=question,
        actor=actor,
        now=world.now(),
        protector=world.platform.protector,
    )


def refused(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The code of the DomainError ``fn`` raises; the test fails if it raises none."""
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value.code


def events(world: World, case_id: int) -> list[str]:
    """The kinds of the case's ledger rows, oldest first."""
    kinds = world.db.scalars(
        select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    ).all()
    world.db.commit()
    return [k.value for k in kinds]


def actions(world: World, case_id: int) -> list[str]:
    """The staff actions audited against the case, oldest first."""
    rows = world.db.scalars(
        select(StaffAction.action)
        .where(StaffAction.target_kind == "case", StaffAction.target_id == str(case_id))
        .order_by(StaffAction.id)
    ).all()
    world.db.commit()
    return list(rows)
