"""Draws as staff list and inspect them (``allocation/listing.py``, ``inspection.py``),
on SQLite and PostgreSQL, over the hand-checked release day."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from factories.release_day import RELEASED_TODAY, ReleaseDay, release_day
from factories.review import refused
from factories.staff import actor, create_staff
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import rules
from fairslot.allocation.inspection import inspect_draw
from fairslot.allocation.listing import DrawFilter, list_draws
from fairslot.allocation.models import Draw
from fairslot.allocation.states import DrawStatus, IntentStatus
from fairslot.staff.audit import StaffActor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def day(world: World) -> ReleaseDay:
    return release_day(world)


@pytest.fixture
def scheduler(day: ReleaseDay) -> StaffActor:
    world = day.world
    return actor(create_staff(world.db, username="zhou", roles={Role.SCHEDULER}, now=world.now()))


def test_the_list_filters_by_department_date_and_state(day: ReleaseDay) -> None:
    db = day.world.db
    every = list_draws(db, wanted=DrawFilter())
    assert [(r.draw_id, r.session_date) for r in every.rows] == [
        (day.pending_draw.id, UNRELEASED_DAY),
        (day.draw.id, RELEASED_TODAY),
    ]
    assert every.total == 2 and every.pages == 1
    drawn = list_draws(db, wanted=DrawFilter(status=DrawStatus.DRAWN))
    [row] = drawn.rows
    assert (row.draw_id, row.entries, row.winners, row.verified) == (day.draw.id, 4, 3, True)
    [pending] = list_draws(db, wanted=DrawFilter(session_date=UNRELEASED_DAY)).rows
    assert (pending.status, pending.entries, pending.verified) == (DrawStatus.OPEN, 0, None)
    elsewhere = DrawFilter(hospital_id=day.late_hospital.id)
    assert list_draws(db, wanted=elsewhere).rows == []
    assert [o.id for o in every.departments] == [day.draw_department.id]


def test_a_run_draw_shows_its_seed_order_and_masked_winners(
    day: ReleaseDay, scheduler: StaffActor
) -> None:
    world = day.world
    detail = inspect_draw(world.db, draw_id=day.draw.id, actor=scheduler, now=world.now())
    world.db.commit()
    assert detail.verified is True and detail.seed is not None
    assert rules.commitment(detail.seed) == detail.seed_commitment
    assert (detail.intents, detail.free_slots, detail.winners, detail.refused) == (4, 3, 3, 0)
    assert detail.algorithm is not None
    expected_order = rules.order(
        detail.seed, [i.id for i in day.intents], algorithm=detail.algorithm
    )
    assert [e.intent_id for e in detail.entries] == expected_order
    assert [e.position for e in detail.entries] == [1, 2, 3, 4]
    outcomes = [e.status for e in detail.entries]
    # Three slots, one session: the first three in the drawn order win, in slot order.
    assert outcomes == [IntentStatus.WON] * 3 + [IntentStatus.LOST]
    assert [e.slot_number for e in detail.entries] == [1, 2, 3, None]
    assert {e.booking_id for e in detail.entries[:3]} == {b.id for b in day.winners}
    for entry in detail.entries:
        assert entry.reproduced
        assert "*" in entry.patient and entry.patient.count("*") >= 4  # name and ID masked
    assert [s.session_id for s in detail.sessions] == [day.draw_session.id]


def test_reading_a_draw_is_audited(day: ReleaseDay, scheduler: StaffActor) -> None:
    world = day.world
    inspect_draw(world.db, draw_id=day.draw.id, actor=scheduler, now=world.now())
    world.db.commit()
    row = world.db.scalars(select(StaffAction).where(StaffAction.action == "draw.view")).one()
    assert (row.actor, row.target_kind, row.target_id) == ("zhou", "draw", str(day.draw.id))


def test_a_pending_draw_keeps_its_seed_secret(day: ReleaseDay, scheduler: StaffActor) -> None:
    world = day.world
    detail = inspect_draw(world.db, draw_id=day.pending_draw.id, actor=scheduler, now=world.now())
    assert detail.status == DrawStatus.OPEN
    assert detail.seed is None and detail.verified is None and detail.entries == []
    assert len(detail.seed_commitment) == 64


def test_a_tampered_assignment_shows_which_check_failed(
    day: ReleaseDay, scheduler: StaffActor
) -> None:
    world = day.world
    result = dict(day.draw.result)
    assignment = dict(result["assignment"])
    first, second = sorted(k for k, v in assignment.items() if v)[:2]
    assignment[first], assignment[second] = assignment[second], assignment[first]
    world.db.execute(
        update(Draw)
        .where(Draw.id == day.draw.id)
        .values(result={**result, "assignment": assignment})
    )
    world.db.commit()
    detail = inspect_draw(world.db, draw_id=day.draw.id, actor=scheduler, now=world.now())
    assert detail.verified is False
    assert detail.seed_matches_commitment and detail.inputs_match_digest
    assert detail.assignment_reproduced is False
    assert sorted(e.intent_id for e in detail.entries if not e.reproduced) == sorted(
        [first, second]
    )
    listed = list_draws(world.db, wanted=DrawFilter(status=DrawStatus.DRAWN))
    assert [r.verified for r in listed.rows] == [False]


def test_an_unknown_draw_is_refused(day: ReleaseDay, scheduler: StaffActor) -> None:
    world = day.world
    code = refused(inspect_draw, world.db, draw_id=99_999, actor=scheduler, now=world.now())
    assert code == "draw_not_found"
