"""Changing a hospital's release policy never releases anything at the moment of the change."""

from __future__ import annotations

import datetime as dt

import pytest

from factories.world import UNRELEASED_DAY, make_world
from fairslot.hospitals.errors import InvalidHospital
from fairslot.hospitals.service import set_intent_lead
from fairslot.schedules.release_change import update_release_policy


def test_a_longer_horizon_releases_new_days_at_the_next_regular_release_time(db, platform):
    world = make_world(db, platform)
    session = world.session(day=UNRELEASED_DAY)  # released 2026-11-23 00:30 Shanghai
    # 08:00 Shanghai on 2026-11-22: with 14 days ahead this session "was" released days ago
    update_release_policy(db, hospital=world.hospital, now=world.now(), days_ahead=14)
    db.commit()
    db.refresh(session)

    assert session.release_at == dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)
    assert session.release_at > world.now()


def test_a_later_release_time_moves_unreleased_sessions(db, platform):
    world = make_world(db, platform)
    session = world.session(day=UNRELEASED_DAY)
    update_release_policy(
        db,
        hospital=world.hospital,
        now=world.now(),
        release_time=dt.time(8, 0),
        push_time=dt.time(7, 0),
    )
    db.commit()
    db.refresh(session)

    assert session.release_at == dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)  # 08:00 CST


def test_a_hospital_may_open_its_draw_entries_up_to_a_week_early_and_no_earlier(db, platform):
    world = make_world(db, platform)
    set_intent_lead(db, hospital=world.hospital, minutes=25 * 60)
    assert world.hospital.intent_lead_minutes == 25 * 60
    with pytest.raises(InvalidHospital) as refused:
        set_intent_lead(db, hospital=world.hospital, minutes=8 * 24 * 60)
    assert refused.value.code == "invalid_intent_lead"
    assert world.hospital.intent_lead_minutes == 25 * 60  # the refused change wrote nothing
    set_intent_lead(db, hospital=world.hospital, minutes=None)
    assert world.hospital.intent_lead_minutes is None
