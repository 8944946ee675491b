"""The request-context retention: past ``FAIRSLOT_REQUEST_CONTEXT_RETENTION_DAYS`` a
request record keeps what the metrics count and loses where it came from, except while
an open case still shows it. Manual clock; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from factories.review import seen
from factories.risk import book_for_patients, device_case
from factories.world import World
from fairslot.audit import service as audit
from fairslot.audit.models import RequestRecord
from fairslot.cases import review
from fairslot.cli import privacy_cmd, worker_cmd
from fairslot.staff.audit import StaffActor


def record(world: World, *, device: str, account_id: int, action: str = "hold") -> int:
    ctx = world.ctx(device_id=device, ip="198.51.100.23", wifi_id="cafe-ap", user_agent="UA/1")
    audit.write(
        world.db,
        pending=audit.PendingRecord(
            action=action, at=world.now(), ctx=ctx, account_id=account_id, patient_key="pk-1"
        ),
        outcome="ok",
    )
    world.db.commit()
    return world.db.scalars(select(RequestRecord.id).order_by(RequestRecord.id.desc())).first()


def stored(world: World, record_id: int) -> RequestRecord:
    world.db.rollback()  # a fresh snapshot: the purge committed in its own transactions
    found = world.db.get(RequestRecord, record_id)
    assert found is not None
    return found


def context_of(r: RequestRecord) -> tuple[object, ...]:
    return (r.device_key, r.ip_key, r.ip_label, r.wifi_key, r.user_agent)


def test_old_records_lose_their_context_and_keep_what_the_metrics_count(
    world: World, wang: StaffActor
) -> None:
    op = book_for_patients(world, patients=2)
    case = device_case(world, op)
    old = record(world, device="stranger-phone", account_id=9001)
    old_of_case = record(world, device=op.device, account_id=9002)
    days = world.platform.settings.request_context_retention_days
    world.platform.clock.advance(dt.timedelta(days=days, hours=1))
    recent = record(world, device="stranger-phone", account_id=9001)

    report = privacy_cmd.purge(world.platform)

    assert (report.reduced, report.held_cases) == (1, 1)
    reduced = stored(world, old)
    assert context_of(reduced) == (None,) * 5 and reduced.payment_account_hash is None
    assert (reduced.action, reduced.outcome, reduced.account_id, reduced.patient_key) == (
        "hold",
        "ok",
        9001,
        "pk-1",
    )
    assert stored(world, old_of_case).device_key == world.device_key(op.device)  # a case shows it
    assert context_of(stored(world, recent))[1:4] == (
        world.network_key("198.51.100.23"),
        "198.51.100.x",
        world.network_key("cafe-ap"),
    )
    assert privacy_cmd.purge(world.platform).reduced == 0  # run again: nothing to do

    # Once the case is closed, its records go the way of the others at the next run.
    review.take_next(world.db, actor=wang, now=world.now(), lock_minutes=30)
    review.dismiss(
        world.db,
        case_id=case.id,
        reason="a family sharing one phone",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, case.id),
    )
    world.db.commit()
    assert privacy_cmd.purge(world.platform).reduced == 1
    assert context_of(stored(world, old_of_case)) == (None,) * 5


def test_the_worker_runs_the_retention_once_a_day(world: World) -> None:
    first = record(world, device="stranger-phone", account_id=9001)
    days = world.platform.settings.request_context_retention_days
    world.platform.clock.advance(dt.timedelta(days=days, hours=1))

    worker_cmd.sweep_once(world.platform)
    assert context_of(stored(world, first)) == (None,) * 5

    world.platform.clock.advance(dt.timedelta(hours=1))
    second = record(world, device="stranger-phone", account_id=9001)
    world.platform.clock.advance(dt.timedelta(days=days, hours=1))
    # Days later: a new local day, so the daily run is due again.
    assert privacy_cmd.daily_purge_once(world.platform) is not None
    assert context_of(stored(world, second)) == (None,) * 5
    assert privacy_cmd.daily_purge_once(world.platform) is None  # once per day
