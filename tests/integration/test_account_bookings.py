"""An account's bookings and its patients' no-show bans (bookings/listing.py), on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from factories.release_day import book
from factories.world import World
from fairslot.bookings import attendance, listing
from fairslot.bookings.states import BookingStatus
from fairslot.clock import ManualClock


def test_a_missed_visit_bans_the_patient_until_a_date_the_page_can_show(
    world: World, clock: ManualClock
) -> None:
    session = world.session()
    booking = book(world, session)
    clock.set(session.ends_at + dt.timedelta(minutes=5))
    attendance.mark_no_show(
        world.db,
        hospital_id=world.hospital.id,
        booking_id=booking.id,
        now=world.now(),
        ctx=world.ctx(),
    )
    world.db.commit()
    page = listing.account_bookings(
        world.db,
        account_id=booking.account_id,
        channel_id=world.channel.id,
        now=world.now(),
        limits=world.policy.limits,
    )
    (item,) = page.items
    assert item.status == BookingStatus.NO_SHOW and item.cancellable is False
    bans = listing.bans(
        world.db,
        patients=[(booking.patient_id, "王*")],
        now=world.now(),
        limits=world.policy.limits,
        zone="Asia/Shanghai",
    )
    first_step = world.policy.limits.no_show_ban_days[0]
    expected = (session.starts_at + dt.timedelta(days=first_step)).astimezone(
        ZoneInfo("Asia/Shanghai")
    )
    assert [(b.patient_id, b.until) for b in bans] == [(booking.patient_id, expected.date())]


def test_another_channels_bookings_are_not_listed(world: World) -> None:
    booking = book(world, world.session())
    page = listing.account_bookings(
        world.db,
        account_id=booking.account_id,
        channel_id=world.channel.id + 1000,
        now=world.now(),
        limits=world.policy.limits,
    )
    assert page.items == [] and page.next_offset is None
