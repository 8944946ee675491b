"""Migrations upgrade a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from fairslot.db import migrate


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
