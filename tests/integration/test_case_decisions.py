"""The review queue's decisions through its services, on SQLite and PostgreSQL: confirm
blacklists exactly the chosen scopes under the gate's keys, dismiss blocks nothing, and
both refuse what a reviewer must fix first."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factories.review import actions, events, refused, seen, take
from factories.risk import (
    AlertSpec,
    book_for_patients,
    device_case,
    open_case,
    payment_case,
)
from factories.world import World
from fairslot.blacklist import gate
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.blacklist.service import block_key
from fairslot.cases import review
from fairslot.cases.models import Case
from fairslot.cases.states import CaseStatus
from fairslot.errors import DomainError
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction


def test_confirm_blacklists_exactly_the_chosen_scopes_with_the_gate_keys(
    world: World, wang
) -> None:
    op = book_for_patients(world, patients=3, wifi="wifi-ring-1")
    case = payment_case(world, op)
    take(world, wang)
    protector = world.platform.protector

    result = review.confirm(
        world.db,
        case_id=case.id,
        scopes=["phone", "device"],
        days=90,
        reason="three patients, one payer, one bot device",
        actor=wang,
        now=world.now(),
        protector=protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=seen(world, case.id),
    )
    world.db.commit()

    entries = world.db.scalars(select(BlacklistEntry).order_by(BlacklistEntry.id)).all()
    assert {e.scope for e in entries} == {Scope.PHONE, Scope.DEVICE}
    phones = {p.phone_hash for p in op.patients} | {op.account.phone_hash}
    assert {e.key_hash for e in entries if e.scope == Scope.PHONE} == phones
    assert [e.key_hash for e in entries if e.scope == Scope.DEVICE] == [
        protector.keyed_hash(op.device, purpose="device")
    ]
    assert all(e.case_ref == str(case.id) for e in entries)
    assert all(e.expires_at == world.now() + dt.timedelta(days=90) for e in entries)
    assert len(result.blocked) == len(entries) and result.already == []
    assert "*" in entries[0].label  # masked, never the number
    # The gate now refuses each patient by phone, and the device, but not the network.
    for patient in op.patients:
        ids = gate.Identifiers(phone_hash=patient.phone_hash)
        with pytest.raises(DomainError):
            gate.check(world.db, ids=ids, now=world.now(), protector=protector)
    with pytest.raises(DomainError):
        gate.check(
            world.db,
            ids=gate.Identifiers(device_key=world.device_key(op.device)),
            now=world.now(),
            protector=protector,
        )
    gate.check(
        world.db,
        ids=gate.Identifiers(ip_key=world.network_key(op.ip), account_id=op.account.id),
        now=world.now(),
        protector=protector,
    )
    closed = world.db.get(Case, case.id)
    assert closed.status == CaseStatus.CONFIRMED and closed.closed_at == world.now()
    assert closed.decision_reason == "three patients, one payer, one bot device"
    assert events(world, case.id)[-1] == "confirmed"
    assert actions(world, case.id) == ["case.take", "case.confirm"]
    adds = world.db.scalars(select(StaffAction).where(StaffAction.action == "blacklist.add")).all()
    assert len(adds) == len(entries) and all(a.actor == "wang" for a in adds)


def test_identifiers_already_blocked_are_skipped_and_reported(world: World, wang) -> None:
    op = book_for_patients(world, patients=2)
    case = device_case(world, op)
    earlier = block_key(
        world.db,
        scope=Scope.DEVICE,
        key_hash=world.platform.protector.keyed_hash(op.device, purpose="device"),
        label="gra***",
        reason="an earlier case",
        actor=cli_actor("it"),
        now=world.now(),
    )
    world.db.commit()
    take(world, wang)

    result = review.confirm(
        world.db,
        case_id=case.id,
        scopes=["device", "account"],
        days=None,
        reason="bot",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=seen(world, case.id),
    )
    world.db.commit()

    assert [e.id for e in result.already] == [earlier.id]
    assert [(e.scope, e.key_hash, e.expires_at) for e in result.blocked] == [
        (Scope.ACCOUNT, f"account:{op.account.id}", None)
    ]


def test_confirming_a_case_whose_earlier_ban_has_expired_blocks_the_subject_again(
    world: World, wang
) -> None:
    op = book_for_patients(world, patients=2)
    case = device_case(world, op)
    device_key = world.platform.protector.keyed_hash(op.device, purpose="device")
    expired = block_key(
        world.db,
        scope=Scope.DEVICE,
        key_hash=device_key,
        label="gra***",
        reason="an earlier case, a 3-day ban",
        actor=cli_actor("it"),
        now=world.now() - dt.timedelta(days=10),
        days=3,
    )
    world.db.commit()
    take(world, wang)

    result = review.confirm(
        world.db,
        case_id=case.id,
        scopes=["device"],
        days=None,
        reason="the same bot again",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=seen(world, case.id),
    )
    world.db.commit()

    assert result.already == []
    assert [(e.scope, e.key_hash, e.expires_at) for e in result.blocked] == [
        (Scope.DEVICE, device_key, None)
    ]
    world.db.refresh(expired)
    assert expired.lifted_at == world.now() and expired.lift_note == "expired"
    with pytest.raises(DomainError) as refused:
        gate.check(
            world.db,
            ids=gate.Identifiers(device_key=world.device_key(op.device)),
            now=world.now(),
            protector=world.platform.protector,
        )
    assert refused.value.code == "request_blocked"


def test_confirm_refuses_a_decision_without_scopes_reason_or_identifiers(
    world: World, wang
) -> None:
    case = device_case(world, book_for_patients(world, patients=2))
    take(world, wang)

    def confirm(**overrides):
        values = {"scopes": ["device"], "days": None, "reason": "bot"}
        values.update(overrides)
        return refused(
            review.confirm,
            world.db,
            case_id=case.id,
            actor=wang,
            now=world.now(),
            protector=world.platform.protector,
            policy=world.policy,
            rng=world.platform.rng,
            evidence_version=seen(world, case.id),
            **values,
        )

    assert confirm(scopes=[]) == "scopes_required"
    assert confirm(scopes=["imei"]) == "unknown_scope"
    assert confirm(reason="  ") == "reason_required"
    assert confirm(days=0) == "invalid_days"
    world.db.rollback()
    assert world.db.get(Case, case.id).status == CaseStatus.IN_REVIEW  # nothing happened
    assert world.db.scalars(select(BlacklistEntry)).all() == []
    world.db.commit()


def test_a_scope_the_case_has_no_identifier_of_is_refused(world: World, wang) -> None:
    # An alert on a device alone, with no booking behind it: only the device can be blocked.
    case = open_case(
        world,
        subject_kind="device",
        subject_key="grab-bot-x",
        subject_label="gra***",
        alerts=[
            AlertSpec(
                rule="shared_device",
                entity_kind="device",
                entity_key="grab-bot-x",
                entity_label="gra***",
                score=1.5,
                explanation="one device used for 7 patients",
            )
        ],
    )
    take(world, wang)
    code = refused(
        review.confirm,
        world.db,
        case_id=case.id,
        scopes=["device", "payment"],
        days=None,
        reason="bot",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=seen(world, case.id),
    )
    assert code == "scope_has_no_identifiers"
    world.db.rollback()


def test_dismiss_closes_the_case_with_its_reason_and_blocks_nothing(world: World, wang) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    review.dismiss(
        world.db,
        case_id=case.id,
        reason="a family of three",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, case.id),
    )
    world.db.commit()

    closed = world.db.get(Case, case.id)
    assert closed.status == CaseStatus.DISMISSED
    assert closed.decision_reason == "a family of three"
    assert world.db.scalars(select(BlacklistEntry)).all() == []
    assert events(world, case.id)[-1] == "dismissed"
    audit_row = world.db.scalars(
        select(StaffAction).where(StaffAction.action == "case.dismiss")
    ).one()
    assert audit_row.reason == "a family of three" and audit_row.actor == "wang"
    for fn, kwargs in (
        (review.dismiss, {"reason": "again", "evidence_version": seen(world, case.id)}),
        (review.release, {}),
    ):
        assert refused(fn, world.db, case_id=case.id, actor=wang, now=world.now(), **kwargs) == (
            "case_closed"
        )
