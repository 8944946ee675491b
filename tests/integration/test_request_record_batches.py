"""Request records written in batches off the request's transaction (audit/recorder.py):
what waits for the batch, what is written at once because a later request's gate reads
it, and that nothing waiting is lost at shutdown or when the database refuses."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from factories.channel_api import hold, person
from factories.statements import statements
from factories.world import World
from fairslot.api.app import create_app
from fairslot.audit.models import RequestRecord
from fairslot.audit.recorder import RecordBuffer
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock


def _buffer(platform: Platform) -> RecordBuffer:
    """A buffer flushed only by hand (and at shutdown), installed on the platform."""
    records = RecordBuffer(
        platform.engine, flush_ms=600_000, max_rows=1000, browse_window=timedelta(minutes=10)
    )
    platform.records = records
    return records


def _count(db: Session, **where: object) -> int:
    statement = select(func.count()).select_from(RequestRecord)
    for column, value in where.items():
        statement = statement.where(getattr(RequestRecord, column) == value)
    found = int(db.scalar(statement) or 0)
    db.commit()
    return found


def test_a_hold_waits_for_the_batch_and_a_binding_does_not(
    world: World, platform: Platform, db: Session, clock: ManualClock
) -> None:
    records = _buffer(platform)
    session = world.session(capacity=3)
    with TestClient(create_app(platform)) as client:
        who = person(client, world, "13800138010")
        # the binding is counted by the next binding's gate: written with its request
        assert _count(db, action="bind_patient") == 1
        clock.advance(timedelta(seconds=platform.settings.velocity_min_first_hold_seconds))
        held = hold(client, who, slot_id=world.slots(session)[0].id)
        assert held.status_code == 201, held.text
        assert _count(db, action="hold") == 0
        assert records.pending() >= 1
        assert records.flush() >= 1
        assert _count(db, action="hold", outcome="ok") == 1
        taken = hold(client, who, slot_id=world.slots(session)[0].id)
        assert taken.status_code in (403, 409), taken.text
        assert records.pending() == 1  # a refusal's record waits too
    # shutting the app down writes what was left
    assert records.pending() == 0
    assert _count(db, action="hold", outcome=taken.json()["error"]) == 1


def test_a_young_accounts_first_hold_is_written_at_once_for_its_next_holds_gate(
    world: World, platform: Platform, db: Session
) -> None:
    _buffer(platform)
    session = world.session(capacity=3)
    with TestClient(create_app(platform)) as client:
        who = person(client, world, "13800138011")
        held = hold(client, who, slot_id=world.slots(session)[0].id)
        assert held.status_code == 201, held.text
        # also reviewed as a fast first hold: counted by the account's next fast requests
        assert _count(db, action="hold") == 1


def test_only_what_no_later_gate_needs_soon_is_deferred(platform: Platform) -> None:
    records = RecordBuffer(
        platform.engine, flush_ms=600_000, max_rows=10, browse_window=timedelta(minutes=10)
    )
    now = platform.clock.now()

    def defers(action: str, **kw: object) -> bool:
        fields: dict[str, object] = {"decision": "allow", "read_soon": False, "device_key": "d1"}
        fields.update(kw)
        return records.defers(action=action, at=now, **fields)  # type: ignore[arg-type]

    assert defers("hold")
    assert defers("confirm", decision=None)
    assert not defers("bind_patient")
    assert not defers("hold", decision="review")
    assert not defers("confirm", decision="block")
    assert not defers("hold", read_soon=True)
    # a device's first browse is written at once; its next ones in half the window wait
    assert not defers("availability")
    assert defers("availability")
    assert defers("alternatives")
    assert not defers("availability", device_key="d2")
    assert defers("availability", device_key=None)
    later = now + timedelta(minutes=5)
    assert not records.defers(
        action="availability", decision=None, read_soon=False, device_key="d1", at=later
    )


def test_rows_the_database_refused_are_kept_for_the_next_try(platform: Platform) -> None:
    # a database without the table: every flush fails
    empty = create_engine("sqlite://")
    records = RecordBuffer(
        empty, flush_ms=600_000, max_rows=1000, browse_window=timedelta(0), max_kept=3
    )
    row = {"at": platform.clock.now(), "action": "hold", "outcome": "ok"}
    for _ in range(2):
        records.add(dict(row))
    assert records.flush() == 0
    assert records.pending() == 2
    for _ in range(2):
        records.add(dict(row))
    assert records.flush() == 0
    assert records.pending() == 3  # past max_kept the oldest are dropped (and logged)
    records.engine = platform.engine
    assert records.flush() == 3
    records.close()


def test_a_record_written_alone_commits_without_waiting_for_the_disk_and_a_hold_does(
    world: World, platform: Platform, db: Session, backend: str
) -> None:
    session = world.session(capacity=3)
    with TestClient(create_app(platform)) as client:
        who = person(client, world, "13800138012")
        with statements(platform.engine) as seen:
            polled = client.get(
                "/v1/availability",
                params={
                    "department_id": session.department_id,
                    "date_from": str(session.session_date),
                    "date_to": str(session.session_date),
                },
                headers=who.headers,
            )
            assert polled.status_code == 200, polled.text
            after_poll = len(seen)
            held = hold(client, who, slot_id=world.slots(session)[0].id)
            assert held.status_code == 201, held.text
    asynchronous = [n for n, s in enumerate(seen) if "synchronous_commit" in s]
    if backend == "postgresql":
        assert asynchronous and all(n < after_poll for n in asynchronous), seen
    else:
        assert asynchronous == []
    assert _count(db, action="availability") == 1
    assert _count(db, action="hold") == 1


def test_a_batch_reads_back_as_it_was_kept(platform: Platform, db: Session, backend: str) -> None:
    """PostgreSQL takes a batch by COPY (no INSERT statement), SQLite by one INSERT; both
    store every column as an INSERT binds it: times in UTC, NULLs, text with quotes, tabs
    and newlines, numbers."""
    records = _buffer(platform)
    local = platform.clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    rows = [
        {
            "at": local + timedelta(milliseconds=i),
            "action": "hold",
            "outcome": "slot_taken" if i else "ok",
            "channel_id": 7,
            "account_id": 1000 + i,
            "patient_key": f"pk{i}",
            "booking_id": None,
            "slot_id": None,
            "device_key": "dev\t1\\n",
            "ip_key": "ip",
            "ip_label": "203.0.113.x",
            "wifi_key": None,
            "payment_account_hash": None,
            "user_agent": 'Mozilla/5.0 "quoted"\nnext',
            "decision": "review" if i == 2 else None,
            "reasons": "fast_confirm,binding_burst" if i == 2 else None,
            "client_step_ms": 1500 if i == 1 else None,
        }
        for i in range(3)
    ]
    for row in rows:
        records.add(dict(row))

    with statements(platform.engine) as seen:
        assert records.flush() == 3
    inserts = [s for s in seen if s.startswith("INSERT INTO request_records")]
    assert len(inserts) == (0 if backend == "postgresql" else 1)

    stored = db.scalars(
        select(RequestRecord).where(RequestRecord.action == "hold").order_by(RequestRecord.at)
    ).all()
    assert len(stored) == 3
    for kept, row in zip(stored, rows, strict=True):
        assert kept.at == row["at"] and kept.at.utcoffset() == timedelta(0)
        for name, value in row.items():
            if name != "at":
                assert getattr(kept, name) == value, name
    db.commit()
    records.close()
