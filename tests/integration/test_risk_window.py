"""The batch's window read as columns straight from the bookings
(``risk/window_columns_repository.py``), counted over them (``risk/window_columns.py``),
and its facts read back (``risk/window_repository.py``), on SQLite and PostgreSQL: the
bookings its counts let through give the rules exactly the hits the whole window gives,
and only those bookings are read back."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from factories.risk_batch import REPORT_DAY, SHANGHAI, Scenes
from factories.risk_window import whole_window_facts
from factories.world import World, make_world
from fairslot.risk import repository as repo
from fairslot.risk import window_columns_repository as column_repo
from fairslot.risk import window_repository as window_repo
from fairslot.risk.facts import RiskSettings
from fairslot.risk.rules import run_all, window_ending
from fairslot.risk.window_columns import (
    BOOKED,
    CANCELLED,
    Members,
    operator_suspects,
    read_bindings,
    rule_suspect_patients,
)


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
    window_repo.open_window(db)
    booked = column_repo.window_columns(db, window=window)
    assert len(booked.patient) == len(whole)
    suspects = window_repo.facts_of_patients(
        db, window=window, numbers=rule_suspect_patients(booked, settings)
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


def test_the_columns_hold_every_booking_of_the_window_once_with_its_readings(
    world: World,
) -> None:
    scenes = Scenes(world)
    session = world.session(capacity=12)
    booker, canceller = scenes.person(), scenes.person()
    scenes.book(booker, session)
    scenes.book(booker, world.session(department=world.department_(), capacity=3))
    scenes.cancel(canceller, scenes.book(canceller, session))
    world.db.commit()

    settings = RiskSettings()
    window = window_ending(REPORT_DAY, settings=settings, zone=SHANGHAI)
    db = world.db
    repo.prepare(db)
    whole = whole_window_facts(db, window=window)
    window_repo.open_window(db)
    booked = column_repo.window_columns(db, window=window)
    window_repo.close_window(db)

    by_patient = Counter(booked.patient.tolist())
    assert by_patient == {booker.patient.id: 2, canceller.patient.id: 1}
    assert len(whole) == 3
    cancelled = booked.patient[(booked.flags & CANCELLED) != 0].tolist()
    assert cancelled == [canceller.patient.id]
    assert ((booked.flags & BOOKED) != 0).sum() == 3
    assert booked.device.present.all() and booked.payment.present.all()


def test_the_bindings_read_are_those_of_the_windows_patients_and_accounts(
    world: World,
) -> None:
    scenes = Scenes(world)
    booker = scenes.person()
    scenes.book(booker, world.session(capacity=3))
    # A second patient of the booker's account, who booked nothing: read with the account.
    sibling = scenes.person(account=booker.account)
    # A stranger who booked nothing, on an account of their own: not read.
    stranger = scenes.person()
    world.db.commit()

    settings = RiskSettings()
    window = window_ending(REPORT_DAY, settings=settings, zone=SHANGHAI)
    db = world.db
    repo.prepare(db)
    window_repo.open_window(db)
    booked = column_repo.window_columns(db, window=window)
    bound = column_repo.binding_columns(db).of_window(Members.of(booked))
    keys = [p.patient.id_hash for p in (booker, sibling, stranger)]
    found = window_repo.bindings_of(db, patients=keys)
    window_repo.close_window(db)

    assert sorted(bound.patient.tolist()) == sorted([booker.patient.id, sibling.patient.id])
    assert set(bound.account.tolist()) == {booker.account.id}
    assert bound.phone.filled.all()
    # ``bindings_of`` reads every binding of the keys asked for; the batch keeps those read.
    keep = read_bindings(
        Members.of(booked),
        np.array([p for p, _, _ in found], dtype=np.int64),
        np.array([a for _, a, _ in found], dtype=np.int64),
    )
    kept = {fact.patient_key for (_, _, fact), wanted in zip(found, keep, strict=True) if wanted}
    assert kept == {booker.patient.id_hash, sibling.patient.id_hash}
    assert {fact.patient_key for _, _, fact in found} == set(keys)


def test_the_operator_suspects_read_back_are_every_booking_of_a_busy_device(
    world: World,
) -> None:
    scenes = Scenes(world)
    settings = RiskSettings()
    # One device acting for patients of enough accounts (an operator), each of whom also
    # booked once from their own phone.
    farm = [scenes.person(device="farm") for _ in range(settings.device_accounts)]
    for person in farm:
        scenes.book(person, world.session(capacity=3))
        elsewhere = world.session(department=world.department_(), capacity=3)
        scenes.book(replace(person, device=f"own-{person.patient.id}"), elsewhere)
    for _ in range(3):
        scenes.book(scenes.person(), world.session(capacity=3))
    world.db.commit()

    window = window_ending(REPORT_DAY, settings=settings, zone=SHANGHAI)
    db = world.db
    repo.prepare(db)
    whole = whole_window_facts(db, window=window)
    window_repo.open_window(db)
    booked = column_repo.window_columns(db, window=window)
    acted = column_repo.request_columns(db, window=window)
    suspects = operator_suspects(booked, acted, settings, staffed=[])
    read = window_repo.facts_of_patients(db, window=window, numbers=suspects.patients)
    window_repo.close_window(db)

    farm_device = world.device_key("farm")
    expected = {f.booking_id for f in whole if f.device_key == farm_device}
    assert len(expected) == len(farm)
    # Read patient by patient (all of their bookings), then only the device's kept.
    assert len(read) == 2 * len(farm)
    chosen = {
        f.booking_id
        for f in read
        if suspects.chosen(payment=f.payment_account_hash, device=f.device_key)
    }
    assert chosen == expected
