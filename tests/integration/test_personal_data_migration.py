"""Migration 0009 turns the raw request context already stored into keyed hashes and a
masked address, with the server's own hash key, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from factories.world import make_world
from fairslot.audit.models import RequestRecord
from fairslot.context import device_key, network_key
from fairslot.db import migrate


def test_stored_addresses_devices_and_wifi_ids_become_their_keys_and_a_masked_label(platform):
    migrate.downgrade(platform.engine, "0008")
    at = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    rows = [
        {"device_id": "imei-1", "ip": "203.0.113.77", "wifi_id": "home-ap"},
        {"device_id": "imei-1", "ip": "2001:db8:1:2::5", "wifi_id": None},
        {"device_id": None, "ip": None, "wifi_id": None},
    ]
    with platform.engine.begin() as conn:
        for n, row in enumerate(rows):
            conn.execute(
                text(
                    "INSERT INTO request_records (at, action, outcome, device_id, ip, wifi_id) "
                    "VALUES (:at, 'hold', 'ok', :device_id, :ip, :wifi_id)"
                ),
                {"at": at.replace(minute=n), **row},
            )

    migrate.upgrade(platform.engine, protector=platform.protector)

    p = platform.protector
    with platform.engine.connect() as conn:
        stored = conn.execute(
            select(
                RequestRecord.device_key,
                RequestRecord.ip_key,
                RequestRecord.ip_label,
                RequestRecord.wifi_key,
            ).order_by(RequestRecord.at)
        ).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert [tuple(r) for r in stored] == [
        (
            device_key("imei-1", protector=p),
            network_key("203.0.113.77", protector=p),
            "203.0.113.x",
            network_key("home-ap", protector=p),
        ),
        (
            device_key("imei-1", protector=p),
            network_key("2001:db8:1:2::5", protector=p),
            "2001:db8:1::/48",
            None,
        ),
        (None, None, None, None),
    ]
    assert version == migrate.head()
    migrate.check(platform.engine)


def test_the_ledger_stays_append_only_after_its_columns_are_converted(platform, db):
    migrate.downgrade(platform.engine, "0008")
    migrate.upgrade(platform.engine, protector=platform.protector)
    world = make_world(db, platform)
    slot = world.slots(world.session(capacity=1))[0]

    with pytest.raises(DBAPIError, match="append-only"), platform.engine.begin() as conn:
        conn.execute(
            text("UPDATE slot_events SET ip_label = 'x' WHERE slot_id = :s"), {"s": slot.id}
        )
