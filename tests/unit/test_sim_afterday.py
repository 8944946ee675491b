"""After the day, the simulator's own bookkeeping: who comes to the desk, which phases a
mode runs, and whom a decided case was about (read back, never fed to the decision)."""

from __future__ import annotations

from fairslot.sim.afterday import (
    Attendance,
    DayTwo,
    NoReview,
    RiskBatch,
    SimulatedReview,
    account_persons,
    comes,
    mask_id,
    members,
    phases_for,
)
from fairslot.sim.generate import build_scenario
from fairslot.sim.modes import Mode
from fairslot.sim.phases import ReleaseDay
from fairslot.sim.scenario import Klass, ScenarioParams

SCENARIO = build_scenario(ScenarioParams.quick(), seed=7)


def first(klass: Klass) -> str:
    return next(k for k, p in SCENARIO.persons.items() if p.klass == klass)


def test_genuine_patients_come_as_their_wish_says_buyers_come_and_scalpers_never_do() -> None:
    wishes = [w for h in SCENARIO.households for w in h.wishes]
    assert {comes(SCENARIO, w.person) for w in wishes} == {True, False}
    assert all(comes(SCENARIO, w.person) == w.shows_up for w in wishes)
    assert comes(SCENARIO, first(Klass.BUYER))
    for klass in (Klass.GRAB_BOT, Klass.HUMAN_WAVE, Klass.BROKER):
        assert not comes(SCENARIO, first(klass))


def test_the_protected_platform_runs_attendance_the_batch_the_review_and_day_two_in_order() -> None:
    kinds = [type(p) for p in phases_for(Mode.PROTECTED)]
    assert kinds == [ReleaseDay, Attendance, RiskBatch, SimulatedReview, DayTwo]


def test_the_baseline_runs_no_batch_and_no_review() -> None:
    kinds = [type(p) for p in phases_for(Mode.BASELINE)]
    assert kinds == [ReleaseDay, NoReview]


def test_an_id_is_masked_as_staff_see_it() -> None:
    assert mask_id("11010519491231002X") == "110***********002X"


def test_a_case_is_about_the_patients_of_its_bookings_and_the_patients_it_lists_to_block() -> None:
    bot, wave = first(Klass.GRAB_BOT), first(Klass.HUMAN_WAVE)
    evidence = {
        "bookings": [{"patient": {"patient_id": 41}}, {"patient": {"patient_id": 99}}],
        "candidates": [
            {"scope": "patient", "label": mask_id(SCENARIO.persons[wave].id_number)},
            {"scope": "phone", "label": mask_id(SCENARIO.persons[bot].id_number)},
        ],
    }

    # patient 99 is none of the simulator's identities; a phone label is not a patient
    assert members(evidence, {41: bot}, scenario=SCENARIO) == tuple(sorted({bot, wave}))


def test_a_masked_id_two_identities_share_is_read_by_its_hash_where_the_key_is_known() -> None:
    # Seed 4 of the grab-bots preset: a genuine patient and a grab identity share the
    # 7 digits a masked ID shows.
    scenario = build_scenario(ScenarioParams.preset("grab_bots", quick=True), seed=4)
    by_mask: dict[str, list[str]] = {}
    for key, person in scenario.persons.items():
        by_mask.setdefault(mask_id(person.id_number), []).append(key)
    label, shared = next((m, keys) for m, keys in by_mask.items() if len(keys) > 1)
    bot = next(k for k in shared if scenario.persons[k].klass == Klass.GRAB_BOT)
    evidence = {"candidates": [{"scope": "patient", "key": "hash-of-bot", "label": label}]}

    # by the mask alone the case names nobody (either could be meant) ...
    assert members(evidence, {}, scenario=scenario) == ()
    # ... by the stored hash, exactly the bot
    assert members(evidence, {}, scenario=scenario, id_hashes={"hash-of-bot": bot}) == (bot,)


def test_a_case_on_an_account_names_the_family_behind_it_even_with_nothing_to_block() -> None:
    accounts = {8: ("h001-0", "h001-1"), 9: ("h002-0",)}
    on_account = {"case": {"subject_kind": "account", "subject_label": "account 8"}}
    assert account_persons(on_account, accounts) == {"h001-0", "h001-1"}
    offered = {
        "case": {"subject_kind": "device", "subject_label": "device ab12…"},
        "candidates": [{"scope": "account", "key": "account:9", "label": "account 9"}],
    }
    assert account_persons(offered, accounts) == {"h002-0"}
    assert account_persons({"case": {"subject_kind": "payment_account"}}, accounts) == set()
