"""The review cases reach the pre-draw screening only through the desk it is handed
(``allocation/screening_ports.py``; cases sit above allocation), on SQLite and PostgreSQL:
the worker's screening reads and files through whatever desk the composition root gives
it, and the cases' own desk holds an entrant whose patient has an open case into it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import draw_entries
from factories.draw_entries import draw_world, reread, run_worker
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation.models import Intent
from fairslot.allocation.screening import OPEN_CASE
from fairslot.allocation.screening_ports import HeldGroup
from fairslot.allocation.states import IntentStatus
from fairslot.cases.draw_screening import DrawScreeningDesk
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.patients.models import Account, Patient
from fairslot.risk.models import RiskAlert
from fairslot.schedules.models import ClinicSession

MIN = dt.timedelta(minutes=1)


class RecordingDesk(DrawScreeningDesk):
    """The cases' desk, with every filing kept for the test to read."""

    def __init__(self) -> None:
        self.filed: list[HeldGroup] = []
        self.asked: list[Collection[tuple[str, str]]] = []

    def open_cases_of(
        self, db: Session, *, subjects: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        self.asked.append(subjects)
        return super().open_cases_of(db, subjects=subjects)

    def file_held_group(self, db: Session, *, group: HeldGroup, now: datetime, actor: str) -> int:
        self.filed.append(group)
        return super().file_held_group(db, group=group, now=now, actor=actor)


@pytest.fixture
def world(db, platform) -> World:
    return draw_world(db, platform)


def enter(
    world: World, account: Account, patient: Patient, session: ClinicSession, *, device: str
) -> Intent:
    """An entry from 198.51.100.7; the grab phones' with one shared card."""
    shared = "6222020000009999" if device.startswith("grab") else ""
    return draw_entries.enter(
        world, account, patient, session, device=device, ip="198.51.100.7", payment=shared
    )


def test_the_worker_screens_through_the_desk_it_is_handed(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    world.platform.clock.set(session.push_at + MIN)
    ring = [enter(world, *world.patient(), session, device=f"grab-{n % 2}") for n in range(6)]
    desk = RecordingDesk()

    assert run_worker(world, desk).held == 6

    assert desk.asked, "the open cases are read through the desk"
    (group,) = desk.filed  # a ring is filed once, as a whole
    assert group.rule == "draw_screening" and group.ring_id is not None
    assert len(group.members) == 6 and sorted(group.details["intents"]) == sorted(
        i.id for i in ring
    )
    (case_id,) = {reread(world, i.id).case_id for i in ring}
    case = world.db.get(Case, case_id)
    assert case is not None and case.subject_kind == "ring" and case.subject_key == group.key


def test_an_entrant_whose_patient_has_an_open_case_is_held_into_it(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    account, patient = world.patient()
    now = world.now()
    earlier = Case(
        subject_kind="patient",
        subject_key=patient.id_hash,
        subject_label=f"patient ****{patient.id_last4}",
        status=CaseStatus.OPEN,
        score=0.5,
        version=1,
        opened_at=now,
        updated_at=now,
    )
    world.db.add(earlier)
    world.db.commit()
    world.platform.clock.set(session.push_at + MIN)
    entry = enter(world, account, patient, session, device="own-phone")
    desk = RecordingDesk()

    assert run_worker(world, desk).held == 1

    held = reread(world, entry.id)
    assert held.status == IntentStatus.HELD and OPEN_CASE in (held.held_reasons or [])
    assert held.case_id == earlier.id
    (group,) = desk.filed
    assert group.concerned_case == earlier.id and group.ring_id is None
    alert = world.db.scalars(select(RiskAlert).where(RiskAlert.rule == "draw_screening")).one()
    assert alert.case_id == earlier.id and alert.entity_key == patient.id_hash
    kinds = world.db.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == earlier.id)).all()
    assert list(kinds) == [CaseEventKind.ALERT_ADDED]
    assert world.db.scalar(select(Case.id).where(Case.id != earlier.id)) is None
