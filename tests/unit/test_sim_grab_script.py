"""The grab script's intents: it learns from the answers whether a clinic runs a draw,
and a script that reached the window too late still queues on the waitlist (on a slow
day its identities otherwise asked for nothing at all)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from fairslot.sim.client import Answer
from fairslot.sim.scalpers import _Machine


class _Agent:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.patients = {"p1": 1, "p2": 2}
        self.asked: list[str] = []

    async def intent(self, person: str, **_: Any) -> Answer:
        self.asked.append(person)
        return self.answer


def machine(answer: Answer) -> tuple[_Machine, _Agent]:
    stage: Any = SimpleNamespace(scenario=SimpleNamespace(seed=1))
    script = _Machine(stage, key="g0", payment={"p1": "card", "p2": "card"})
    agent = _Agent(answer)
    script.agents = {"p1": agent, "p2": agent}  # type: ignore[dict-item]
    script.targets = {"p1": "EXP", "p2": "EXP"}
    script.departments = {"EXP": 7}
    return script, agent


def test_an_entered_draw_is_a_draw_seen() -> None:
    script, agent = machine(Answer(201, {"id": "i-1"}))
    asyncio.run(script.register_intents())
    assert agent.asked == ["p1", "p2"]
    assert script.intents == {"p1": "i-1", "p2": "i-1"} and script.draw_seen


def test_a_window_reached_too_late_is_a_draw_seen_though_nothing_was_entered() -> None:
    script, _ = machine(Answer(409, {"error": "intent_window_closed"}))
    asyncio.run(script.register_intents())
    assert script.intents == {} and script.draw_seen


def test_a_first_come_clinic_is_no_draw() -> None:
    script, _ = machine(Answer(409, {"error": "not_a_draw_session"}))
    asyncio.run(script.register_intents())
    assert script.intents == {} and not script.draw_seen
