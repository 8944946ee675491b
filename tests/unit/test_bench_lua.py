"""The wrk scripts and the per-phase plans (``bench/lua.py``, ``bench/phases.py``). Pure:
what is generated; ``tests/integration/test_bench_wrk.py`` runs it through wrk."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fairslot.bench import phases
from fairslot.bench.lua import Pacing, Plan, Who, data_chunk, lua_string, lua_value, script, split
from fairslot.bench.scenario import Identity, Release
from fairslot.bench.stats import Sample


def _identity(n: int) -> Identity:
    return Identity(
        account_id=100 + n,
        patient_id=200 + n,
        channel_key=f"key-{n}",
        device_id=f"dev-{n}",
        ip=f"10.0.0.{n}",
    )


def _release() -> Release:
    return Release(
        release_at=datetime(2026, 12, 6, tzinfo=UTC),
        session_date=date(2026, 12, 13),
        department_id=7,
        scarce_session_ids=(1, 2),
        all_session_ids=(1, 2, 3, 4, 5),
        raw_slot_ids=(),
        ample_session_ids=(3, 4),
        ample_slot_ids=(("a1", "a2", "a3"), ("b1", "b2", "b3")),
        anchor_slot_ids=(tuple(f"x{k}" for k in range(6)), ("y0",)),
    )


def _targets(people: int = 6, connections: int = 3) -> phases.Targets:
    return phases.Targets(
        identities=[_identity(n) for n in range(people)],
        release=_release(),
        anchor_channel_id=9,
        connections=connections,
    )


def test_text_that_could_break_out_of_a_lua_string_is_refused():
    assert lua_string("bench-device-1") == '"bench-device-1"'
    for bad in ('a"b', "a\nb", "a\\b", "]]"):
        with pytest.raises(ValueError):
            lua_string(bad)


def test_python_values_become_lua_tables():
    assert lua_value({"a": 1, "s": "x", "l": [1, 2.5], "n": None, "t": True}) == (
        '{a=1,s="x",l={1,2.5},n=nil,t=true}'
    )


def test_identities_are_dealt_round_robin_to_the_connections():
    assert split([1, 2, 3, 4, 5], 2) == [[1, 3, 5], [2, 4]]


def test_each_thread_gets_its_own_slice_as_a_chunk_it_loads_itself():
    who = Who(account_id=1, patient_id=2, channel_key="k", device_id="d", ip="10.0.0.1")
    plan = Plan(flow="availability", connections=2, identities=[[who], []])
    chunk = data_chunk(plan)
    assert chunk.startswith("return {[[return {ids={{a=1,p=2,")
    assert chunk.count("[[return") == 2  # one per thread, as a string (no nested tables)


def test_a_plan_needs_one_list_per_connection_and_a_known_flow():
    with pytest.raises(ValueError):
        Plan(flow="availability", connections=2, identities=[[]])
    with pytest.raises(ValueError):
        Plan(flow="teleport", connections=1)


def test_only_an_open_loop_script_paces_its_sends():
    closed = script(phases.mix_plan(_targets()), data_path="/tmp/d.lua")
    paced = script(
        phases.mix_plan(_targets(), pacing=Pacing(rate=30.0, connections=3)), data_path="/d"
    )
    assert "function delay()" not in closed and "INTERVAL_US = 0" in closed
    assert "function delay()" in paced and "INTERVAL_US = 100000.0" in paced
    assert 'AVAILABILITY_PATH = "/v1/availability?department_id=7' in paced
    assert "SCARCE = {1,2}" in paced


def test_each_identity_holds_once_either_by_slot_or_by_session_and_no_slot_twice():
    by_slot = phases.hold_plan(_targets(people=6, connections=3), by="slot")
    by_session = phases.hold_plan(_targets(people=6, connections=3), by="session")
    slot_items = [(n, item) for n, share in enumerate(by_slot.items) for item in share]
    session_items = [(n, item) for n, share in enumerate(by_session.items) for item in share]
    assert len(slot_items) + len(session_items) == 6
    slots = [item["s"] for _, item in slot_items]
    assert len(slots) == len(set(slots)) and set(slots) <= {"a1", "a2", "a3"}
    assert all("s" not in item for _, item in session_items)
    assert {item["n"] for _, item in session_items} == {4}  # the odd sessions only
    holders = [(n, item["w"]) for n, item in slot_items + session_items]
    assert len(holders) == len(set(holders))  # nobody holds in both phases
    with pytest.raises(ValueError):
        phases.hold_plan(_targets(), by="doctor")


def test_a_hold_is_confirmed_by_the_connection_and_identity_that_made_it():
    holds = [
        Sample("hold_by_slot", 201, 5.0, extra="bk-1@2@3"),
        Sample("hold_by_slot", 409, 5.0, "slot_taken"),
        Sample("hold_by_session", 201, 5.0, extra="bk-2@1@1"),
    ]
    plan = phases.confirm_plan(_targets(), holds=holds)
    assert plan.items == [[{"w": 1, "b": "bk-2"}], [], [{"w": 2, "b": "bk-1"}]]


def test_the_anchor_claims_each_of_its_slots_once_and_nobody_twice_in_a_department():
    plan = phases.anchor_plan(_targets(people=6, connections=3))
    claims = [(n, item["w"], item["s"]) for n, share in enumerate(plan.items) for item in share]
    assert sorted(s for _, _, s in claims) == sorted([*(f"x{k}" for k in range(6)), "y0"])
    claimants = [(n, w) for n, w, s in claims if s.startswith("x")]
    assert len(claimants) == len(set(claimants)) == 6
    assert "CHANNEL_ID = 9" in script(plan, data_path="/d")
