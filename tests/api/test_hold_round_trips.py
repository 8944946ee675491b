"""What a successful hold costs the database, counted in statements (issue 14): the
release-batch check reads the hold's place once and the hold recalls it; on PostgreSQL the
claim, the booking and the ledger rows are one statement, which returns what the answer
shows of the slot (on SQLite the ledger rows of the claim and the hold go in one INSERT);
the binding and the patient's history are read together after the patient's lock; the
request record waits for its batch."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.channel_api import confirm, hold, person
from factories.statements import rendered_anew, statements
from factories.world import World
from fairslot.api.booking_views import booking_view
from fairslot.audit.models import RequestRecord
from fairslot.audit.recorder import RecordBuffer
from fairslot.bookings import repository as booking_repo
from fairslot.clock import ManualClock
from fairslot.notifications.models import Notification


def test_a_successful_hold_reads_its_session_and_department_once(
    client: TestClient, world: World, backend: str, clock: ManualClock
) -> None:
    session = world.session(capacity=3)
    who = person(client, world, "13800138000")
    slot_id = world.slots(session)[1].id
    # As served: request records batched (audit/recorder.py), flushed here by hand, and
    # an account past its first seconds (a young one's first hold is written at once).
    records = world.platform.records = RecordBuffer(
        world.platform.engine, flush_ms=600_000, max_rows=1000, browse_window=timedelta(0)
    )
    clock.advance(timedelta(seconds=world.platform.settings.velocity_min_first_hold_seconds))

    with statements(world.platform.engine) as seen:
        held = hold(client, who, slot_id=slot_id)

    assert held.status_code == 201, held.text
    assert held.json()["slot_id"] == slot_id
    # The answer is built from what the hold wrote and its claim returned: nothing is
    # read back after the claim (the booking, its slot and session were the last read).
    assert not any(s.startswith("SELECT bookings.") and "JOIN slots" in s for s in seen)
    assert held.json() == _read_back(world, held.json()["booking_id"])
    reads_of_sessions = [s for s in seen if s.startswith("SELECT clinic_sessions.")]
    reads_of_departments = [s for s in seen if s.startswith("SELECT departments.")]
    lapsed_hold_reads = [
        s for s in seen if s.startswith("SELECT bookings.") and "bookings.expires_at <=" in s
    ]
    slot_event_inserts = [s for s in seen if "INSERT INTO slot_events" in s]
    assert len(reads_of_sessions) == 1, reads_of_sessions
    assert reads_of_departments == []
    assert lapsed_hold_reads == []  # nobody's lapsed holds are looked for on the hot path
    # After the patient's lock, the binding and what the rules count are one read.
    bound = [s for s in seen if s.startswith("SELECT patients.")]
    assert len(bound) == 1 and "JOIN bindings" in bound[0] and "JOIN bookings" in bound[0]
    claims = [s for s in seen if "UPDATE slots" in s]
    assert len(claims) == 1
    assert [s for s in seen if s.startswith("INSERT INTO request_records")] == []
    # ``released`` and ``held`` in one multi-row INSERT on both databases
    assert len(slot_event_inserts) == 1
    if backend == "postgresql":
        # the claim picks and moves the slot, writes the booking and the ledger rows in
        # one statement (hold_statement.py)
        assert "INSERT INTO bookings" in claims[0] and "INSERT INTO slot_events" in claims[0]
        assert len(seen) == 6, "\n".join(seen)
    else:
        # SQLite: a read, then the compare-and-set; the booking's and the ledger's INSERT
        assert len(seen) == 9, "\n".join(seen)
    # The gate — the patient's keys, the blacklist, the velocity signals — is one of them.
    assert not any(s.startswith("SELECT blacklist_entries.") for s in seen)
    assert not any(s.startswith("SELECT patients.id, patients.name_encrypted") and
                   "JOIN bindings" not in s for s in seen)  # fmt: skip
    # The hold's record is written by the next batch.
    assert records.pending() == 1
    records.close()
    outcomes = world.db.scalars(
        select(RequestRecord.outcome).where(RequestRecord.action == "hold")
    ).all()
    world.db.commit()
    assert outcomes == ["ok"]


def _read_back(world: World, booking_id: str) -> dict[str, object]:
    """The booking's view as ``booking_view`` reads it from the database."""
    booking = booking_repo.get_booking(world.db, booking_id)
    assert booking is not None
    view = booking_view(world.db, booking).model_dump(mode="json")
    world.db.commit()
    return view


def test_a_confirmation_reads_its_slots_place_once_for_the_feed_and_its_answer(
    client: TestClient, world: World, backend: str
) -> None:
    session = world.session(capacity=3)
    who = person(client, world, "13800138001")
    slot = world.slots(session)[2]
    held = hold(client, who, slot_id=slot.id)
    assert held.status_code == 201, held.text

    with statements(world.platform.engine) as seen:
        confirmed = confirm(client, who, held.json()["booking_id"], reference="T-1")

    assert confirmed.status_code == 200, confirmed.text
    assert [s for s in seen if s.startswith("SELECT slots.")] == []
    assert len([s for s in seen if s.startswith("SELECT clinic_sessions.")]) == 1
    # The answer is built from the confirmed booking and that read: nothing is read back.
    assert not any(s.startswith("SELECT bookings.") and "JOIN slots" in s for s in seen)
    assert confirmed.json() == _read_back(world, held.json()["booking_id"])
    assert confirmed.json()["status"] == "booked" and confirmed.json()["booked_at"]
    (payload,) = world.db.scalars(
        select(Notification.payload).where(Notification.kind == "booking_confirmed")
    ).all()
    world.db.commit()
    assert payload["slot_number"] == slot.number and payload["slot_id"] == slot.id
    # the booking, the gate's read, its fast-payment count, the account for the feed, the
    # two compare-and-sets and the ledger row (on PostgreSQL one statement), the slot's
    # place, the record and the feed row
    writes = [s for s in seen if s.startswith(("UPDATE", "INSERT INTO slot_events", "WITH"))]
    if backend == "postgresql":
        (statement,) = writes
        assert "UPDATE bookings" in statement and "UPDATE slots" in statement
        assert "INSERT INTO slot_events" in statement
    else:
        assert len(writes) == 3, writes
    assert len(seen) == (8 if backend == "postgresql" else 10), "\n".join(seen)


def test_a_hold_by_session_answers_the_slot_its_claim_took_as_a_read_back_would(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=3)
    first, second = person(client, world, "13800138002"), person(client, world, "13800138003")
    answers = [
        hold(client, who, session_id=session.id, device=f"dev-{n}")
        for n, who in enumerate((first, second))
    ]

    assert [a.status_code for a in answers] == [201, 201], answers[0].text
    assert [a.json()["slot_number"] for a in answers] == [1, 2]
    for answer in answers:
        assert answer.json() == _read_back(world, answer.json()["booking_id"])


def test_a_hold_by_session_costs_what_a_hold_by_slot_costs(
    client: TestClient, world: World, backend: str, clock: ManualClock
) -> None:
    # The session's first free slot comes with the place the release-batch check reads
    # (availability/repository.py::FirstFree): no read of its own.
    session = world.session(capacity=3)
    who = person(client, world, "13800138004")
    world.platform.records = RecordBuffer(
        world.platform.engine, flush_ms=600_000, max_rows=1000, browse_window=timedelta(0)
    )
    clock.advance(timedelta(seconds=world.platform.settings.velocity_min_first_hold_seconds))

    with statements(world.platform.engine) as seen:
        held = hold(client, who, session_id=session.id)

    assert held.status_code == 201, held.text
    assert held.json()["slot_number"] == 1
    assert len([s for s in seen if s.startswith("SELECT clinic_sessions.")]) == 1
    assert not any("LEFT OUTER JOIN slots" in s for s in seen), "\n".join(seen)
    assert len(seen) == (6 if backend == "postgresql" else 9), "\n".join(seen)
    world.platform.records.close()


def test_hold_and_confirm_send_statements_whose_text_is_fixed(
    client: TestClient, world: World, clock: ManualClock
) -> None:
    # No statement of a hold (by slot or by session) or of a confirmation is rendered
    # again per execution: each is converted by the driver once per connection.
    session = world.session(capacity=3)
    first, second = person(client, world, "13800138005"), person(client, world, "13800138006")
    clock.advance(timedelta(seconds=world.platform.settings.velocity_min_first_hold_seconds))

    with rendered_anew(world.platform.engine) as anew:
        by_slot = hold(client, first, slot_id=world.slots(session)[0].id)
        by_session = hold(client, second, session_id=session.id, device="dev-2")
        confirmed = confirm(client, first, by_slot.json()["booking_id"], reference="T-2")

    assert [by_slot.status_code, by_session.status_code, confirmed.status_code] == [201, 201, 200]
    assert anew == []
