"""The daily batch links the tactics that lost (issue 11) from the request records, on
SQLite and PostgreSQL: a hired wave through the draw entries its organiser paid for, and
a radar rotating two devices of one account; a family entering its four members from one
account, card and tablet is named by nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factories.risk_batch import REPORT_DAY, Person, Scenes
from factories.world import World, make_world
from fairslot.audit.service import PendingRecord, write
from fairslot.risk.models import RiskAlert


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


@pytest.fixture
def scenes(world: World) -> Scenes:
    return Scenes(world)


def act(
    world: World, scenes: Scenes, person: Person, *, at: dt.datetime, action: str, payment: str
) -> None:
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
        outcome="ok",
    )


def alerts(world: World, rule: str) -> list[RiskAlert]:
    world.db.commit()
    return list(world.db.scalars(select(RiskAlert).where(RiskAlert.rule == rule)))


def members(alert: RiskAlert) -> set[str]:
    return {key for _, key in alert.details.get("members", [])}


def test_an_organiser_paying_four_workers_draw_entries_weighs_double_and_a_family_nothing(
    world: World, scenes: Scenes
) -> None:
    morning = scenes.local(REPORT_DAY, 0, 5)
    workers = [scenes.person(device=f"worker-phone-{n}") for n in range(4)]
    for n, worker in enumerate(workers):
        at = morning + dt.timedelta(minutes=n)
        act(world, scenes, worker, at=at, action="intent", payment="pay-organiser")
        act(
            world,
            scenes,
            worker,
            at=at + dt.timedelta(hours=1),
            action="waitlist_join",
            payment="pay-organiser",
        )
    head = scenes.person(device="fam-tablet", wifi="fam-home")
    family = [head] + [
        scenes.person(account=head.account, device="fam-tablet", wifi="fam-home") for _ in range(3)
    ]
    for person in family:
        act(world, scenes, person, at=morning, action="intent", payment="pay-family")
    world.db.commit()

    scenes.run()

    [paid] = alerts(world, "payment_across_accounts")
    assert paid.entity_key == "pay-organiser"
    assert paid.score == pytest.approx(2.67)
    assert {w.patient.id_hash for w in workers} <= members(paid)
    family_keys = {p.patient.id_hash for p in family}
    for alert in world.db.scalars(select(RiskAlert)):
        assert not members(alert) & family_keys, alert.rule


def test_a_radar_rotating_two_devices_of_one_account_is_pooled_into_one_count(
    world: World, scenes: Scenes
) -> None:
    start = scenes.local(REPORT_DAY, 10)
    radar = scenes.person(device="radar-a")
    second = scenes.person(account=radar.account, device="radar-b")
    write(
        world.db,
        pending=PendingRecord(
            action="bind_patient",
            at=start,
            ctx=scenes.ctx(second),
            account_id=second.account.id,
            patient_key=second.patient.id_hash,
        ),
        outcome="ok",
    )
    act(world, scenes, radar, at=start, action="intent", payment="pay-radar")
    for n in range(70):  # 70 polls a device, 140 together, 10 s apart
        for device, offset in (("radar-a", 0), ("radar-b", 5)):
            write(
                world.db,
                pending=PendingRecord(
                    action="availability",
                    at=start + dt.timedelta(seconds=10 * n + offset),
                    ctx=world.ctx(device_id=device),
                ),
                outcome="ok",
            )
    world.db.commit()

    scenes.run()

    found = alerts(world, "availability_polling")
    assert sorted(a.entity_key for a in found) == sorted(
        [world.device_key("radar-a"), world.device_key("radar-b")]
    )
    assert {a.details["figure"] for a in found} == {140}
    assert radar.patient.id_hash in members(found[0])
    # one operator, one case
    assert found[0].case_id is not None and found[0].case_id == found[1].case_id


def test_a_device_firing_entries_for_two_accounts_at_once_is_faster_than_a_person(
    world: World, scenes: Scenes
) -> None:
    release = scenes.local(REPORT_DAY, 0, 30)
    first = scenes.person(device="grab-pc")
    second = scenes.person(device="grab-pc")
    third = scenes.person(account=second.account, device="grab-pc")
    for n, person in enumerate((first, second, third)):
        act(
            world,
            scenes,
            person,
            at=release + dt.timedelta(milliseconds=40 * n),
            action="intent",
            payment=f"pay-{n}",
        )
    world.db.commit()

    scenes.run()

    [found] = alerts(world, "machine_pace")
    assert found.entity_key == world.device_key("grab-pc")
    assert {p.patient.id_hash for p in (first, second, third)} <= members(found)
