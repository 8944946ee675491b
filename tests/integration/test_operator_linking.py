"""The daily batch links operators who won nothing, from the request records and the
blacklist, and files one operator as one case; a family and a patient refreshing the page
are left alone. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factories.risk_batch import REPORT_DAY, SHANGHAI, Person, Scenes
from factories.world import World, make_world
from fairslot.audit.service import PendingRecord, write
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.cases.evidence import evidence
from fairslot.cases.models import Case
from fairslot.risk.models import RiskAlert
from fairslot.staff.audit import StaffActor


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


@pytest.fixture
def scenes(world: World) -> Scenes:
    return Scenes(world)


def act(
    world: World,
    scenes: Scenes,
    person: Person,
    *,
    at: dt.datetime,
    action: str = "intent",
    payment: str | None = None,
    outcome: str = "ok",
) -> None:
    """One acting request for ``person`` as the API records it, allowed or refused."""
    write(
        world.db,
        pending=PendingRecord(
            action=action,
            at=at,
            ctx=scenes.ctx(person),
            account_id=person.account.id,
            patient_key=person.patient.id_hash,
            payment_account_hash=payment,
        ),
        outcome=outcome,
    )


def poll(world: World, *, device: str, at: dt.datetime) -> None:
    write(
        world.db,
        pending=PendingRecord(action="availability", at=at, ctx=world.ctx(device_id=device)),
        outcome="ok",
    )


def alerts(world: World, rule: str) -> list[RiskAlert]:
    world.db.commit()
    return list(world.db.scalars(select(RiskAlert).where(RiskAlert.rule == rule)))


def test_an_operator_who_lost_every_draw_is_one_case_naming_its_people_and_a_family_none(
    world: World, scenes: Scenes
) -> None:
    morning = scenes.local(REPORT_DAY, 9)
    # three accounts, one phone each, the operator's one device and one card: intents
    # and refused holds only, nothing booked
    operator = [scenes.person(device="op-phone", wifi="op-home") for _ in range(3)]
    for n, person in enumerate(operator):
        act(world, scenes, person, at=morning + dt.timedelta(seconds=n), payment="pay-op")
        act(world, scenes, person, at=morning, action="hold", outcome="session_full")
    # a family: one account, four members, the same device and card for all
    head = scenes.person(device="fam-tablet", wifi="fam-home")
    family = [head] + [
        scenes.person(account=head.account, device="fam-tablet", wifi="fam-home") for _ in range(3)
    ]
    for person in family:
        act(world, scenes, person, at=morning, payment="pay-family")
    world.db.commit()

    scenes.run()

    [paid] = alerts(world, "payment_across_accounts")
    [device] = alerts(world, "device_across_accounts")
    assert paid.entity_key == "pay-op"
    assert device.entity_key == world.device_key("op-phone")
    members = {tuple(m) for m in paid.details["members"]}
    assert {("patient", p.patient.id_hash) for p in operator} <= members
    assert {("account", f"account:{p.account.id}") for p in operator} <= members
    # one operator, one case, both alerts in it
    assert paid.case_id is not None and paid.case_id == device.case_id
    case = world.db.get(Case, paid.case_id)
    assert case is not None and case.subject_kind == "ring"
    assert case.subject_key.startswith("op-")
    # the reviewer may block the operator's people, each with what else it would stop
    shown = evidence(
        world.db, case=case, protector=world.platform.protector, now=world.now(), tz=SHANGHAI
    )
    offered = {(c.scope, c.key): c for c in shown.candidates}
    for person in operator:
        assert offered[("patient", person.patient.id_hash)].others == 0
    assert offered[("payment", "pay-op")].others == 0
    assert offered[("device", world.device_key("op-phone"))].shared is None
    family_keys = {p.patient.id_hash for p in family}
    for alert in world.db.scalars(select(RiskAlert)):
        listed = {key for _, key in alert.details.get("members", [])}
        assert not listed & family_keys, alert.rule


def test_a_device_polling_availability_at_machine_rate_is_a_radar_a_refreshing_patient_not(
    world: World, scenes: Scenes
) -> None:
    start = scenes.local(REPORT_DAY, 10)
    for n in range(130):
        poll(world, device="radar", at=start + dt.timedelta(seconds=5 * n))
    for n in range(30):  # a patient refreshing at the release
        poll(world, device="patient-phone", at=start + dt.timedelta(seconds=2 * n))
    radar = scenes.person(device="radar")
    act(world, scenes, radar, at=start, action="bind_patient")
    world.db.commit()

    scenes.run()

    [found] = alerts(world, "availability_polling")
    assert found.entity_key == world.device_key("radar")
    assert found.details["figure"] == 130
    assert ["patient", radar.patient.id_hash] in found.details["members"]


def test_a_blacklisted_operator_back_with_a_new_identity_and_the_old_card_is_linked(
    world: World, scenes: Scenes
) -> None:
    earlier = scenes.local(REPORT_DAY, 8)
    banned = scenes.person(device="old-phone", wifi="op-home")
    act(world, scenes, banned, at=earlier, payment="pay-op")
    world.db.commit()
    blacklist.block_key(
        world.db,
        scope=Scope.PATIENT,
        key_hash=banned.patient.id_hash,
        label="patient ****0000",
        reason="confirmed ring",
        actor=StaffActor(username="cli:test"),
        now=world.now(),
    )
    # a fresh identity, phone and device; the old card
    fresh = scenes.person(device="new-phone")
    act(world, scenes, fresh, at=earlier + dt.timedelta(hours=2), payment="pay-op")
    world.db.commit()

    scenes.run()

    [found] = alerts(world, "blacklist_reappearance")
    assert found.entity_key == f"account:{fresh.account.id}"
    assert found.score == 2.0 and found.case_id is not None
    assert ["patient", fresh.patient.id_hash] in found.details["members"]
