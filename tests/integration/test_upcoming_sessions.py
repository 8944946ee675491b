"""Sessions not yet released, with when they open (availability/upcoming.py), on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.availability.upcoming import upcoming


def test_only_unreleased_sessions_are_listed_with_their_opening_in_the_hospitals_zone(
    world: World,
) -> None:
    world.session(day=RELEASED_DAY)
    later = world.session(day=UNRELEASED_DAY)
    found = upcoming(
        world.db,
        department_id=world.department.id,
        date_from=RELEASED_DAY,
        date_to=UNRELEASED_DAY,
        now=world.now(),
    )
    assert [u.session_id for u in found] == [later.id]
    (item,) = found
    assert item.opens_at.utcoffset() == dt.timedelta(hours=8)
    assert item.opens_at == later.release_at
    assert item.doctor_id == world.doctor.id
