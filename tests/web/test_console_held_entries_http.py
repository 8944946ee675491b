"""A reviewer on a held-out ring's case page, over HTTP: the held entries with their
reasons, clearing one wrongly held (audited, drawn normally), keeping another out, and an
auditor who may read but not decide."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.console import ConsoleSession, page_text, sign_in
from factories.staff import create_staff
from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.allocation.worker import run_due_draws
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def held_ring(world: World) -> list[Intent]:
    """Six accounts entering one draw from two phones and one payment account, held."""
    world.department = world.department_(allocation_mode=AllocationMode.DRAW)
    world.doctor = create_doctor(world.db, hospital=world.hospital, department=world.department)
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    people = [world.patient() for _ in range(6)]
    world.platform.clock.set(session.push_at + dt.timedelta(minutes=1))
    made = []
    for n, (account, patient) in enumerate(people):
        found, _ = allocation.register_intent(
            world.db,
            account_id=account.id,
            patient_id=patient.id,
            target=allocation.IntentTarget(session_id=session.id),
            payment_account="6222020000009999",
            payment_reference=f"pre-{n}",
            now=world.now(),
            ctx=world.ctx(account, device_id=f"grab-{n % 2}", ip="198.51.100.7"),
            policy=world.policy,
            protector=world.platform.protector,
        )
        made.append(found)
    world.db.commit()
    run_due_draws(
        world.db,
        now=world.now(),
        policy=world.policy,
        rng=world.platform.rng,
        protector=world.platform.protector,
        desk=world.platform.screening_desk,
    )
    world.db.commit()
    return [reread(world, i.id) for i in made]


def reread(world: World, intent_id: str) -> Intent:
    world.db.rollback()
    found = world.db.get(Intent, intent_id)
    assert found is not None
    world.db.refresh(found)
    world.db.commit()
    return found


def as_role(site: TestClient, world: World, name: str, role: Role) -> ConsoleSession:
    create_staff(world.db, username=name, roles={role}, now=world.now())
    return sign_in(site, name)


def test_the_case_page_lists_the_held_entries_with_their_reasons(
    site: TestClient, world: World, held_ring: list[Intent]
) -> None:
    reviewer = as_role(site, world, "wang", Role.REVIEWER)
    case_id = held_ring[0].case_id
    page = reviewer.get(f"/console/cases/{case_id}")
    assert page.status_code == 200, page.text
    text = page_text(page.text)
    assert "暂缓参加抽签的登记" in text
    assert text.count("审核中") >= 6
    assert "同一设备跨多个账号" in text and "同一支付账户为多人付款" in text
    assert f"/console/cases/{case_id}/held/{held_ring[0].id}/clear" in page.text


def test_a_reviewer_clears_a_wrongly_held_entry_and_keeps_another_out(
    site: TestClient, world: World, held_ring: list[Intent]
) -> None:
    reviewer = as_role(site, world, "wang", Role.REVIEWER)
    case_id = held_ring[0].case_id
    cleared = reviewer.post(
        f"/console/cases/{case_id}/held/{held_ring[0].id}/clear",
        data={"reason": "called: a real patient, her son's old phone"},
    )
    assert cleared.status_code == 303, cleared.text
    assert cleared.headers["location"].endswith("done=held_cleared_registered")
    assert "该登记将照常参加抽签" in reviewer.get(cleared.headers["location"]).text
    assert reread(world, held_ring[0].id).status == IntentStatus.REGISTERED

    kept = reviewer.post(
        f"/console/cases/{case_id}/held/{held_ring[1].id}/refuse", data={"reason": "confirmed"}
    )
    assert kept.status_code == 303 and kept.headers["location"].endswith("done=held_refused")
    assert reread(world, held_ring[1].id).status == IntentStatus.REFUSED
    world.db.rollback()
    audited = world.db.execute(
        select(StaffAction.action, StaffAction.actor).where(
            StaffAction.action.in_(["intent.clear", "intent.refuse"])
        )
    ).all()
    world.db.commit()
    assert sorted(tuple(row) for row in audited) == [
        ("intent.clear", "wang"),
        ("intent.refuse", "wang"),
    ]

    again = reviewer.post(
        f"/console/cases/{case_id}/held/{held_ring[0].id}/clear", data={"reason": "twice"}
    )
    assert again.status_code == 409


def test_an_auditor_reads_the_held_entries_but_cannot_clear_them(
    site: TestClient, world: World, held_ring: list[Intent]
) -> None:
    auditor = as_role(site, world, "li", Role.AUDITOR)
    case_id = held_ring[0].case_id
    page = auditor.get(f"/console/cases/{case_id}")
    assert page.status_code == 200 and "暂缓参加抽签的登记" in page_text(page.text)
    assert "/clear" not in page.text
    forged = auditor.post(
        f"/console/cases/{case_id}/held/{held_ring[0].id}/clear", data={"reason": "forged"}
    )
    assert forged.status_code == 403
    assert reread(world, held_ring[0].id).status == IntentStatus.HELD
