"""A block finds the rows that carry its keys by looking the keys up in SQL: only the rows
carrying one are read, whatever else the table holds. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.dialects import sqlite

from factories.bookings import hold
from factories.world import World
from fairslot.blacklist.matching import carrying
from fairslot.bookings import revocation_repository
from fairslot.bookings.models import Booking


def hold_from(world: World, *, device: str, ip: str, wifi: str | None = None) -> Booking:
    """A new patient's hold, in a department of its own, from the given device and network."""
    account, patient = world.patient()
    session = world.session(capacity=1, department=world.department_())
    slot = world.slots(session)[0].id
    return hold(world, account, patient, slot, device_id=device, ip=ip, wifi_id=wifi)


def carried(
    world: World, *, devices: tuple[str, ...] = (), networks: tuple[str, ...] = ()
) -> set[str]:
    found = revocation_repository.upcoming_identifiers(
        world.db,
        now=world.now(),
        patient_keys=[],
        phone_hashes=[],
        account_ids=[],
        payment_hashes=[],
        device_keys=[world.device_key(d) for d in devices],
        network_keys=[world.network_key(n) for n in networks],
    )
    return {c.booking_id for c in found}


def test_only_the_rows_carrying_a_blocked_device_or_network_are_read(world: World) -> None:
    bot = hold_from(world, device="bot-1", ip="198.51.100.7")
    cafe = hold_from(world, device="phone-b", ip="198.51.100.8", wifi="cafe-wifi")
    home = hold_from(world, device="phone-c", ip="198.51.100.9")

    assert carried(world, devices=("bot-1",)) == {bot.id}
    # one network scope, two columns: a Wi-Fi's key and an address's key
    assert carried(world, networks=("cafe-wifi",)) == {cafe.id}
    assert carried(world, networks=("198.51.100.9",)) == {home.id}
    assert carried(world, devices=("bot-1",), networks=("198.51.100.9",)) == {bot.id, home.id}
    assert carried(world, devices=("never-seen",)) == set()
    assert carried(world) == set()  # nothing asked, nothing read


def test_device_and_network_keys_are_compared_by_equality_not_read_whole() -> None:
    wanted = carrying(
        Booking,
        patient_keys=[],
        phone_hashes=[],
        account_ids=[],
        payment_hashes=[],
        device_keys=["d"],
        network_keys=["n"],
    )
    sql = str(or_(*wanted).compile(dialect=sqlite.dialect()))

    assert "bookings.device_key IN" in sql and "bookings.ip_key IN" in sql
    assert "bookings.wifi_key IN" in sql and "IS NOT NULL" not in sql
