"""The real-time gate's cost on the release-burst hot path, counted in SQL statements:
at release time each round trip is paid by thousands of requests a second."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories.statements import statements
from factories.world import World
from fairslot.api.deps import gate
from fairslot.audit.service import PendingRecord
from fairslot.blacklist.gate import RequestBlocked
from fairslot.blacklist.models import Scope
from fairslot.blacklist.service import block_key
from fairslot.gate import realtime
from fairslot.gate.velocity import Decision
from fairslot.staff.audit import cli_actor


def test_a_holds_velocity_signals_are_read_in_one_statement(world: World) -> None:
    account, patient = world.patient()
    world.platform.clock.advance(timedelta(hours=1))
    now = world.now()
    record = PendingRecord(action="hold", at=now, ctx=world.ctx(account), account_id=account.id)

    with statements(world.platform.engine) as seen:
        verdict = realtime.assess(
            world.db,
            record=record,
            settings=world.platform.settings,
            now=now,
            patient_id=patient.id,
        )

    # Bindings, the device's patients, the account's age (and first act), browsing: one
    # SELECT of scalar subqueries, where five reads were made one by one.
    assert len(seen) == 1, seen
    assert verdict.decision is not Decision.BLOCK


def test_a_young_accounts_first_hold_is_still_measured(world: World) -> None:
    account, patient = world.patient()
    now = world.now()  # the account was registered just now
    record = PendingRecord(action="hold", at=now, ctx=world.ctx(account), account_id=account.id)

    verdict = realtime.assess(
        world.db, record=record, settings=world.platform.settings, now=now, patient_id=patient.id
    )

    assert verdict.codes is not None and "fast_first_hold" in verdict.codes.split(",")


@pytest.mark.parametrize("scope", [Scope.PATIENT, Scope.PHONE, Scope.DEVICE])
def test_the_whole_gate_of_a_hold_is_one_statement_and_still_refuses(
    world: World, scope: Scope
) -> None:
    """The patient's keys, the blacklist and the velocity signals are read together: a
    patient blocked under a key the request does not carry (its ID or phone, stored on
    its row) is refused as before, in the same one statement."""
    account, patient = world.patient()
    world.platform.clock.advance(timedelta(hours=1))
    ctx = world.ctx(account)
    key = {
        Scope.PATIENT: patient.id_hash,
        Scope.PHONE: patient.phone_hash,
        Scope.DEVICE: ctx.device_key or "",
    }[scope]
    assert key

    def gate_of_a_hold() -> PendingRecord:
        record = PendingRecord(action="hold", at=world.now(), ctx=ctx, account_id=account.id)
        with statements(world.platform.engine) as seen:
            gate(world.db, world.platform, ctx, record=record, patient_id=patient.id)
        assert len(seen) == 1, seen
        return record

    allowed = gate_of_a_hold()
    assert allowed.patient_key == patient.id_hash
    assert allowed.decision != "block"

    entry = block_key(
        world.db, scope=scope, key_hash=key, label="***", reason="ring confirmed",
        actor=cli_actor("it-li"), now=world.now(), days=1,
    )  # fmt: skip
    world.db.commit()
    with pytest.raises(RequestBlocked):
        gate_of_a_hold()

    world.platform.clock.advance(timedelta(days=1, seconds=1))  # the entry has expired
    assert entry.expires_at is not None and entry.expires_at < world.now()
    assert gate_of_a_hold().decision != "block"
