"""The real-time gate's cost on the release-burst hot path, counted in SQL statements:
at release time each round trip is paid by thousands of requests a second."""

from __future__ import annotations

from datetime import timedelta

from factories.statements import statements
from factories.world import World
from fairslot.audit.service import PendingRecord
from fairslot.gate import realtime
from fairslot.gate.velocity import Decision


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
