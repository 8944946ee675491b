"""The simulator's scenario: seeded and reproducible, valid people, demand far above supply."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from fairslot.patients.identity import normalise_phone, parse_resident_id
from fairslot.sim.generate import build_scenario, day_two
from fairslot.sim.modes import Mode
from fairslot.sim.runner import schedule_document
from fairslot.sim.scenario import (
    PRESETS,
    SCALPER_CONTROLLED,
    TACTICS,
    Klass,
    ScenarioParams,
)

PARAMS = (ScenarioParams(), ScenarioParams.quick())


@pytest.mark.parametrize("params", PARAMS, ids=["default", "quick"])
def test_the_same_seed_gives_the_same_scenario_and_another_seed_other_people(
    params: ScenarioParams,
) -> None:
    first, again, other = (build_scenario(params, seed=s) for s in (7, 7, 8))
    assert first == again
    assert first.persons == again.persons
    assert [p.id_number for p in first.persons.values()] != [
        p.id_number for p in other.persons.values()
    ]


@pytest.mark.parametrize("params", PARAMS, ids=["default", "quick"])
def test_demand_for_the_expert_sessions_is_many_times_their_supply(params: ScenarioParams) -> None:
    scenario = build_scenario(params, seed=7)
    assert scenario.scarce_supply == sum(s.capacity for s in scenario.sessions if s.scarce) > 0
    assert scenario.scarce_demand >= 4 * scenario.scarce_supply
    # and genuine patients alone already want more than there is
    genuine = sum(1 for h in scenario.households for w in h.wishes if w.scarce)
    assert genuine > scenario.scarce_supply


def test_expert_sessions_are_chief_physicians_and_ordinary_clinics_exist_too() -> None:
    scenario = build_scenario(ScenarioParams(), seed=3)
    titles = {d.code: d.title for d in scenario.doctors}
    assert {titles[s.doctor] for s in scenario.sessions if s.scarce} == {"chief"}
    assert any(not s.scarce for s in scenario.sessions)
    # the second hospital offers the same specialties: the alternatives
    specialties = {(d.hospital, d.specialty) for d in scenario.departments}
    assert {(1, "stomatology"), (1, "ophthalmology")} <= specialties


def test_every_person_has_a_valid_unique_resident_id_and_a_valid_mobile_number() -> None:
    scenario = build_scenario(ScenarioParams(), seed=11)
    numbers = [p.id_number for p in scenario.persons.values()]
    assert len(set(numbers)) == len(numbers)
    for person in scenario.persons.values():
        parse_resident_id(person.id_number)
        normalise_phone(person.phone)


def test_accounts_respect_the_platforms_binding_limits() -> None:
    scenario = build_scenario(ScenarioParams(), seed=5)
    accounts = [h.account for h in scenario.households]
    accounts += [a for p in scenario.grab_programs for a in p.accounts]
    accounts += [w.account for w in scenario.wave]
    accounts += [a for b in scenario.brokers for a in b.accounts]
    assert all(1 <= len(a.persons) <= 4 for a in accounts)
    assert max(Counter(a.phone for a in accounts).values()) <= 2
    bound = [p for a in accounts for p in a.persons]
    assert sorted(bound) == sorted(scenario.persons)  # everyone belongs to one account


def test_a_family_shares_one_phone_one_device_and_one_home_network() -> None:
    scenario = build_scenario(replace(ScenarioParams(), family_share=1.0), seed=9)
    household = scenario.households[0]
    members = [scenario.persons[p] for p in household.account.persons]
    assert len(members) >= 2
    assert {m.phone for m in members} == {household.account.phone}
    assert household.device.wifi_id is not None
    assert all(m.klass == Klass.GENUINE for m in members)


def test_scalper_identities_are_only_in_the_scalpers_hands() -> None:
    scenario = build_scenario(ScenarioParams(), seed=7)
    genuine = {p for h in scenario.households for p in h.account.persons}
    assert all(scenario.persons[p].klass == Klass.GENUINE for p in genuine)
    for program in scenario.grab_programs:
        held = {scenario.persons[p].klass for a in program.accounts for p in a.persons}
        assert held == {program.tactic}
    bots = [g for g in scenario.grab_programs if g.tactic == Klass.GRAB_BOT]
    assert bots and all(len(g.devices) > 1 and len(g.proxies) > 1 for g in bots)
    assert {g.tactic for g in scenario.grab_programs} == {
        Klass.GRAB_BOT,
        Klass.ROTATION,
        Klass.PROXY_BOOKED,
        Klass.RADAR,
    }
    for broker in scenario.brokers:
        for deal, account in zip(broker.deals, broker.accounts, strict=True):
            assert account.persons == (deal.throwaway, deal.buyer)
            assert scenario.persons[deal.throwaway].klass in SCALPER_CONTROLLED
            assert scenario.persons[deal.buyer].klass == Klass.BUYER


def test_the_clock_slows_down_around_the_release_and_speeds_up_after() -> None:
    params = ScenarioParams()
    release = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)
    (slow_at, slow), (fast_at, fast) = params.clock_changes(release)
    assert slow_at < release < fast_at
    assert slow < fast == params.speed


def test_the_hospital_pushes_its_expert_clinics_as_a_draw_only_when_protected() -> None:
    scenario = build_scenario(ScenarioParams(), seed=7)
    day = datetime(2026, 11, 29, tzinfo=UTC).date()
    for mode, expected in ((Mode.PROTECTED, "draw"), (Mode.BASELINE, "first_come")):
        doc = schedule_document(scenario, mode, hospital=0, code="H1", session_date=day)
        modes = {d["code"]: d["allocation_mode"] for d in doc["departments"]}
        assert {modes[c] for c in ("STOX", "OPHX")} == {expected}
        assert {modes[c] for c in ("CAR", "GEN")} == {"first_come"}
        ids = [s["session_id"] for s in doc["sessions"]]
        assert len(set(ids)) == len(ids)


def test_on_day_two_the_same_people_come_back_and_only_scalpers_rotate_identifiers() -> None:
    first = build_scenario(ScenarioParams.quick(), seed=3)
    second = day_two(first)

    # the same people, and the rotation operator's new ones
    assert second.persons.items() >= first.persons.items()
    fresh = {second.persons[p].klass for p in second.persons.keys() - first.persons.keys()}
    assert fresh == {Klass.ROTATION}
    assert second.households == first.households
    assert day_two(first) == second  # drawn from the seed alone
    for old, new in zip(first.grab_programs, second.grab_programs, strict=True):
        if old.tactic == Klass.ROTATION:
            continue
        assert [a.persons for a in new.accounts] == [a.persons for a in old.accounts]
        assert not {a.phone for a in new.accounts} & {a.phone for a in old.accounts}
        assert not set(new.devices) & set(old.devices)
        assert not set(new.payment_accounts) & set(old.payment_accounts)
    known = {p.phone for p in first.persons.values()}
    assert not {a.phone for g in second.grab_programs for a in g.accounts} & known
    assert [w.account for w in second.wave] == [w.account for w in first.wave]
    assert {w.payment_account for w in second.wave}.isdisjoint(
        {w.payment_account for w in first.wave}
    )
    assert all(
        new.device != old.device and new.payment_account != old.payment_account
        for old, new in zip(first.brokers, second.brokers, strict=True)
    )


def test_identity_rotation_comes_back_as_new_people_on_the_old_payment_and_home_network() -> None:
    first = build_scenario(ScenarioParams(), seed=4)
    second = day_two(first)
    (old,) = [g for g in first.grab_programs if g.tactic == Klass.ROTATION]
    (new,) = [g for g in second.grab_programs if g.tactic == Klass.ROTATION]
    old_people = {p for a in old.accounts for p in a.persons}
    new_people = {p for a in new.accounts for p in a.persons}
    assert not old_people & new_people
    numbers = {second.persons[p].id_number for p in new_people}
    assert not numbers & {first.persons[p].id_number for p in old_people}
    assert not {a.phone for a in new.accounts} & {a.phone for a in old.accounts}
    assert not {d.device_id for d in new.devices} & {d.device_id for d in old.devices}
    # what rotation cannot easily change: the money and the home network
    assert (
        set(new.payment_accounts) == set(old.payment_accounts)
        and len(set(old.payment_accounts)) == 1
    )
    assert {(d.ip, d.wifi_id) for d in new.devices} == {(d.ip, d.wifi_id) for d in old.devices}
    assert len({(d.ip, d.wifi_id) for d in old.devices}) == 1


def test_a_proxy_operator_books_each_buyer_in_their_own_account_from_its_own_two_pcs() -> None:
    scenario = build_scenario(ScenarioParams(), seed=4)
    (proxy,) = [g for g in scenario.grab_programs if g.tactic == Klass.PROXY_BOOKED]
    assert all(len(a.persons) == 1 for a in proxy.accounts)
    assert len(proxy.accounts) == ScenarioParams().buyers_per_proxy
    assert len(set(proxy.payment_accounts)) == len(proxy.accounts)  # each buyer pays
    assert len(proxy.devices) == 2 and len(set(proxy.proxies)) == 1


@pytest.mark.parametrize("preset", PRESETS)
def test_a_tactic_preset_plays_that_tactic_alone_and_first_come_plays_every_one(
    preset: str,
) -> None:
    params = ScenarioParams.preset(preset, quick=True)
    scenario = build_scenario(params, seed=1)
    klasses = {p.klass for p in scenario.persons.values()} & SCALPER_CONTROLLED
    if preset in ("all", "first_come"):
        assert klasses == set(SCALPER_CONTROLLED)
    else:
        assert klasses == set(TACTICS[preset])
    assert params.first_come_scarce == (preset == "first_come")
    assert params.name == f"quick-{preset}"


def test_the_first_come_preset_pushes_the_expert_clinics_first_come_even_when_protected() -> None:
    scenario = build_scenario(ScenarioParams.preset("first_come", quick=True), seed=1)
    day = datetime(2026, 11, 29, tzinfo=UTC).date()
    doc = schedule_document(scenario, Mode.PROTECTED, hospital=0, code="H1", session_date=day)
    assert {d["allocation_mode"] for d in doc["departments"]} == {"first_come"}


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        ScenarioParams.preset("everything")
