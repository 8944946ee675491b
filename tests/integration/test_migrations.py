"""Migrations upgrade a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Date, column, insert, table, text

from fairslot.allocation import rules, shuffle
from fairslot.allocation.verification import verify
from fairslot.db import migrate
from fairslot.db.base import UTCDateTime


def test_the_allocation_migration_upgrades_a_populated_database(platform):
    migrate.downgrade(platform.engine, "0001")
    with platform.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO hospitals (code, name, grade, city, timezone, days_ahead, push_time, "
                "release_time, booking_close_minutes) VALUES "
                "('M1', 'm', '三级甲等', 'c', 'Asia/Shanghai', 7, '00:00:00', '00:30:00', 30)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO departments (hospital_id, code, name, specialty, sex_restriction) "
                "SELECT id, 'D1', 'd', 'general', 'any' FROM hospitals WHERE code = 'M1'"
            )
        )

    migrate.upgrade(platform.engine)

    with platform.engine.connect() as conn:
        mode = conn.execute(text("SELECT allocation_mode FROM departments")).scalar_one()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert mode == "first_come"
    assert version == migrate.head()
    migrate.check(platform.engine)


def test_draws_from_before_the_algorithm_column_keep_verifying_with_their_own(platform, db):
    """A draw made with the Mersenne Twister shuffle, stored before migration 0006, is
    marked with that algorithm by the upgrade and still verifies."""
    seed = "ab" * 32
    entries = [
        rules.Entry(f"0000000{n}-0000-4000-8000-000000000000", session_id=1) for n in range(4)
    ]
    slots = [rules.FreeSlot(f"slot-{n}", 1, n, "chief") for n in (1, 2)]
    assignment = rules.draw(seed=seed, algorithm=shuffle.V1, entries=entries, slots=slots)
    assert assignment != rules.draw(seed=seed, algorithm=shuffle.V2, entries=entries, slots=slots)
    ids = [e.intent_id for e in entries]
    result = {
        "algorithm": shuffle.V1,
        "entries": [
            {"intent_id": i, "session_id": 1, "title": None, "channel_id": 1} for i in sorted(ids)
        ],
        "slots": [
            {
                "slot_id": s.slot_id,
                "session_id": 1,
                "number": s.number,
                "title": "chief",
                "reserved_for": None,
            }
            for s in slots
        ],
        "refused": [],
        "assignment": assignment,
    }
    migrate.downgrade(platform.engine, "0005")
    at = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    draws = table(
        "draws",
        column("id"),
        column("department_id"),
        column("session_date", Date()),
        column("opens_at", UTCDateTime()),
        column("due_at", UTCDateTime()),
        column("status"),
        column("seed_commitment"),
        column("seed_encrypted"),
        column("seed"),
        column("inputs_digest"),
        column("result", JSON()),
        column("drawn_at", UTCDateTime()),
        column("version"),
    )
    with platform.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO hospitals (code, name, grade, city, timezone, days_ahead, push_time, "
                "release_time, booking_close_minutes) VALUES "
                "('M1', 'm', '三级甲等', 'c', 'Asia/Shanghai', 7, '00:00:00', '00:30:00', 30)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO departments (hospital_id, code, name, specialty, sex_restriction, "
                "allocation_mode) SELECT id, 'D1', 'd', 'general', 'any', 'draw' FROM hospitals"
            )
        )
        department_id = conn.execute(text("SELECT id FROM departments")).scalar_one()
        conn.execute(
            insert(draws).values(
                id=41,
                department_id=department_id,
                session_date=date(2026, 11, 30),
                opens_at=at,
                due_at=at,
                status="drawn",
                seed_commitment=rules.commitment(seed),
                seed_encrypted="-",
                seed=seed,
                inputs_digest=rules.inputs_digest(ids),
                result=result,
                drawn_at=at,
                version=2,
            )
        )

    migrate.upgrade(platform.engine)

    check = verify(db, draw_id=41)
    assert check.draw.algorithm == shuffle.V1
    assert check.verified is True and check.recomputed == assignment
