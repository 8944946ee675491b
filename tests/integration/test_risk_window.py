"""The batch's window in the database (``risk/window_repository.py``), counted over its
columns (``risk/window_columns.py``), on SQLite and PostgreSQL: the bookings its counts
let through give the rules exactly the hits the whole window gives, and only those
bookings are read back."""

from __future__ import annotations

import datetime as dt

import pytest

from factories.risk_batch import REPORT_DAY, SHANGHAI, Scenes
from factories.risk_window import whole_window_facts
from factories.world import World, make_world
from fairslot.risk import repository as repo
from fairslot.risk import window_columns_repository as column_repo
from fairslot.risk import window_repository as window_repo
from fairslot.risk.facts import RiskSettings
from fairslot.risk.rules import run_all, window_ending
from fairslot.risk.window_columns import rule_suspect_patients


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


def test_the_suspects_bookings_give_the_rules_the_hits_of_the_whole_window(world: World) -> None:
    scenes = Scenes(world)
    session = world.session(capacity=12)
    # A card paying five bookings in one department: a hit (rule 1) and its shared card.
    for _ in range(5):
        scenes.book(scenes.person(payer="6222020099998888"), session)
    # One patient in five departments (rule 2).
    spreader = scenes.person()
    for i in range(5):
        other = world.session(department=world.department_(), day=dt.date(2026, 11, 24 + i // 2))
        scenes.book(spreader, other)
    # A serial canceller (rule 4), and a patient who cancelled once and came back.
    canceller = scenes.person()
    busy = world.session(capacity=12)
    for _ in range(5):
        scenes.cancel(canceller, scenes.book(canceller, busy))
    # Ordinary patients: one booking each.
    for _ in range(6):
        scenes.book(scenes.person(), world.session(capacity=3))
    world.db.commit()

    settings = RiskSettings()
    window = window_ending(REPORT_DAY, settings=settings, zone=SHANGHAI)
    db = world.db
    repo.prepare(db)
    whole = whole_window_facts(db, window=window)
    events = repo.slot_event_facts(db, window=window, lead=settings.transfer_max_gap)
    assert window_repo.open_window(db, window=window) == len(whole)
    suspects = window_repo.facts_of_patients(
        db,
        numbers=rule_suspect_patients(column_repo.window_columns(db, window=window), settings),
    )
    window_repo.close_window(db)

    expected = run_all(bookings=whole, events=events, window=window, settings=settings)
    found = run_all(bookings=suspects, events=events, window=window, settings=settings)
    assert found == expected
    assert {h.rule for h in expected} >= {
        "same_payment_same_department",
        "patient_across_departments",
        "cancellations_without_visit",
    }
    # The ordinary patients' bookings stay in the database.
    assert len(suspects) < len(whole)
    ordinary = {b.patient_key for b in whole} - {b.patient_key for b in suspects}
    assert len(ordinary) >= 6
