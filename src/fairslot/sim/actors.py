"""People at human pace: genuine patients and the hired human waves.

A genuine patient browses hospital → department → doctor, then holds and pays, 3–5
simulated seconds a step. The department's card says how it allocates
(``allocation_mode``, as the channel's app shows it): for an expert clinic run by a
release draw or a release batch they register an intent before the release, as the app
offers, and look at the result after it; for a first-come clinic they are ready at the
release. After the release, a session the listing shows in a release batch's open window
(``release_batch_ends_at`` ahead) is held by session — the hold enters the batch — and
its result read when the batch has run. Missing out, they take an offered alternative
(if they would) or join the waitlist, or — where there is none — come back now and then.
Some cancel later for real reasons. A family shares one phone and one home network.

Hired people are primed on the doctor's page: they act at the release within seconds,
pay with the organiser's account, and register intents where there is a draw.

Grab software and transfer brokers are in ``scalpers.py``.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from typing import Any

from fairslot.sim.accounting import Via
from fairslot.sim.agent import CAPACITY, Agent, Stage, enters_ahead
from fairslot.sim.client import Who
from fairslot.sim.scenario import Household, WaveWorker, Wish

HUMAN_STEP_S = (3.0, 5.0)
DRAW_POLL_S = 60.0
WAITLIST_POLL_S = 600.0
REFRESH_S = (120.0, 300.0)  # a person with no waitlist looks again every few minutes
REFRESH_FOR_S = 3600.0
CLOSED_DRAW = frozenset({"lost", "refused", "withdrawn"})
BATCH_DRAWING_RETRY_S = 5.0  # the platform's Retry-After while a batch is being drawn


def batch_window_open(session: dict[str, Any], *, now: datetime) -> bool:
    """Whether an availability row shows a release batch still taking holds ``now``: a
    hold on it enters the batch (the channel API's documented 202), as an app that shows
    the session's mode would offer."""
    ends = session.get("release_batch_ends_at")
    return (
        session.get("allocation_mode") == "release_batch"
        and ends is not None
        and datetime.fromisoformat(str(ends)) > now
    )


class GenuineHousehold:
    def __init__(self, stage: Stage, household: Household) -> None:
        self.stage = stage
        self.household = household
        self.rng = random.Random(f"{stage.scenario.seed}:{household.key}")
        device = household.device
        self.agent = Agent(
            stage,
            actor=household.key,
            account=household.account,
            who=lambda person: Who(household.key, person, device),
        )

    async def run(self) -> None:
        time = self.stage.time
        # Patients with an account made it before the day's rush.
        lead = self.stage.scenario.params.lead_minutes * 60
        await time.until(time.at(-lead + self.rng.uniform(0, 0.25 * lead)))
        await self.agent.prepare(self.household.account.persons)
        await asyncio.gather(*(self.pursue(wish) for wish in self.household.wishes))

    async def step(self) -> None:
        await self.stage.time.sleep(self.rng.uniform(*HUMAN_STEP_S))

    async def pursue(self, wish: Wish) -> None:
        time = self.stage.time
        await time.until(time.at(wish.arrive_s))
        # Counted from the arrival: a patient the platform would not even register still
        # came for a slot and did not get one.
        self.stage.recorder.wish_started(wish.person, scarce=wish.scarce, at=time.now())
        if wish.person not in self.agent.patients:
            return
        hospital_id = await self.agent.hospital_id(wish.hospital, person=wish.person)
        await self.step()
        department_id = await self.agent.department_id(
            wish.hospital, wish.department, person=wish.person, hospital_id=hospital_id
        )
        if department_id is None:
            return
        await self.step()
        await self.agent.doctors(department_id, person=wish.person)
        await self.step()
        booking_id = await self.get_slot(wish, department_id)
        if booking_id is not None and wish.cancel_after_s is not None:
            await time.sleep(wish.cancel_after_s)
            await self.agent.cancel(wish.person, booking_id)

    async def get_slot(self, wish: Wish, department_id: int) -> str | None:
        time = self.stage.time
        enters = enters_ahead(self.agent.modes.get(department_id))
        if wish.scarce and wish.title and enters and time.now() < time.release_at:
            intent = await self.agent.intent(
                wish.person,
                department_id=department_id,
                title=wish.title,
                payment=self.household.payment_account,
            )
            if intent.ok:
                return await self.await_draw(wish, str(intent.field("id")), department_id)
            # A first-come clinic (not_a_draw_session): be there at the release.
        if time.now() < time.release_at:
            await time.until(time.release_at)
            await time.sleep(self.rng.uniform(2.0, 10.0))
        return await self.book_open(wish, department_id, retry=True)

    async def await_draw(self, wish: Wish, intent_id: str, department_id: int) -> str | None:
        time = self.stage.time
        await time.until(time.at(self.rng.uniform(60.0, 600.0)))
        while not time.over():
            answer = await self.agent.intent_status(wish.person, intent_id)
            if answer.field("status") == "won":
                return str(answer.field("booking_id"))
            if answer.field("status") in CLOSED_DRAW:
                break
            await time.sleep(DRAW_POLL_S)
        return await self.after_missing(wish, department_id, sessions=None, alternatives=None)

    async def book_open(self, wish: Wish, department_id: int, *, retry: bool) -> str | None:
        alternatives: list[dict[str, Any]] | None = None
        sessions: list[dict[str, Any]] = []
        tries = 2
        while tries > 0 and not self.stage.time.over():
            tries -= 1
            sessions = await self.agent.availability(
                department_id, person=wish.person, title=wish.title
            )
            free = [s for s in sessions if s["free"] > 0 and s["slots"]]
            batching = [s for s in sessions if self.batch_open(s)]
            if not free and not batching:
                break
            await self.step()
            target: dict[str, Any] = (
                {"slot_id": self.rng.choice(free)["slots"][0]["slot_id"]}
                if free
                else {"session_id": int(self.rng.choice(batching)["session_id"])}
            )
            booking_id, answer = await self.agent.book(
                wish.person,
                payment=self.household.payment_account,
                via=Via.HOLD,
                pause_s=self.rng.uniform(*HUMAN_STEP_S),
                **target,
            )
            if booking_id is not None:
                return booking_id
            if answer.code == "release_batch_drawing":  # not a try: asked to come back
                tries += 1
                await self.stage.time.sleep(BATCH_DRAWING_RETRY_S)
                continue
            if answer.ok:  # a batch entry that did not win: what anyone who missed does
                break
            if answer.code not in CAPACITY:
                return None
            alternatives = answer.field("alternatives")
        if not retry:
            return None
        return await self.after_missing(
            wish, department_id, sessions=sessions, alternatives=alternatives
        )

    def batch_open(self, session: dict[str, Any]) -> bool:
        return batch_window_open(session, now=self.stage.time.now())

    async def after_missing(
        self,
        wish: Wish,
        department_id: int,
        *,
        sessions: list[dict[str, Any]] | None,
        alternatives: list[dict[str, Any]] | None,
    ) -> str | None:
        """No slot: an alternative, the waitlist, or looking again later."""
        agent, person, payment = self.agent, wish.person, self.household.payment_account
        if not sessions:
            sessions = await agent.availability(department_id, person=person, title=wish.title)
        if not sessions:
            return None
        target = int(self.rng.choice(sessions)["session_id"])
        if wish.accepts_alternative:
            offered = alternatives or await agent.alternatives(person, session_id=target)
            for alternative in offered[:2]:
                await self.step()
                booking_id, _ = await agent.book(
                    person,
                    payment=payment,
                    via=Via.ALTERNATIVE,
                    pause_s=self.rng.uniform(*HUMAN_STEP_S),
                    session_id=int(alternative["session_id"]),
                )
                if booking_id is not None:
                    return booking_id
        await self.step()
        joined = await agent.join_waitlist(person, session_id=target, payment=payment)
        if joined.ok:
            return await self.await_waitlist(person, str(joined.field("waitlist_id")))
        if joined.code == "session_not_full":
            return await self.book_open(wish, department_id, retry=False)
        return await self.refresh(wish, department_id)

    async def await_waitlist(self, person: str, entry_id: str) -> str | None:
        time = self.stage.time
        while not time.over():
            await time.sleep(WAITLIST_POLL_S)
            answer = await self.agent.call(
                "GET",
                f"/v1/waitlist/{entry_id}",
                person=person,
                action="waitlist_status",
                params={"account_id": self.agent.account_id},
            )
            if answer.field("status") == "booked" and answer.field("booking_id"):
                booking_id = str(answer.field("booking_id"))
                self.agent.track_booking(booking_id, person=person, via=Via.WAITLIST)
                return booking_id
            if answer.ok and answer.field("status") != "waiting":
                return None
        return None

    async def refresh(self, wish: Wish, department_id: int) -> str | None:
        time = self.stage.time
        give_up = time.now().timestamp() + REFRESH_FOR_S
        while not time.over() and time.now().timestamp() < give_up:
            await time.sleep(self.rng.uniform(*REFRESH_S))
            booking_id = await self.book_open(wish, department_id, retry=False)
            if booking_id is not None:
                return booking_id
        return None


class HiredWorker:
    """One of a hired human wave: own phone and identity, the organiser's money."""

    def __init__(self, stage: Stage, worker: WaveWorker) -> None:
        self.stage = stage
        self.worker = worker
        self.person = worker.account.persons[0]
        self.rng = random.Random(f"{stage.scenario.seed}:{worker.key}")
        self.agent = Agent(
            stage,
            actor=worker.key,
            account=worker.account,
            who=lambda person: Who(worker.key, person, worker.device),
        )

    async def run(self) -> None:
        time, worker, person = self.stage.time, self.worker, self.person
        lead = self.stage.scenario.params.lead_minutes * 60
        await time.until(time.at(-lead + self.rng.uniform(0, 0.25 * lead)))
        await self.agent.prepare(worker.account.persons)
        if person not in self.agent.patients:
            return
        department_id = await self.agent.department_id(0, worker.department, person=person)
        if department_id is None:
            return
        await time.until(time.at(self.rng.uniform(-25 * 60, -5 * 60)))
        intent = await self.agent.intent(
            person, department_id=department_id, title="chief", payment=worker.payment_account
        )
        if intent.ok:
            await self.await_draw(str(intent.field("id")), department_id)
            return
        await time.until(time.at(worker.react_s))
        tries = 2
        while tries > 0 and not self.stage.time.over():
            tries -= 1
            sessions = await self.agent.availability(department_id, person=person)
            free = [s for s in sessions if s["free"] > 0 and s["slots"]]
            if not free:
                return
            slot = self.rng.choice(self.rng.choice(free)["slots"])
            booking_id, _ = await self.agent.book(
                person,
                payment=worker.payment_account,
                via=Via.HOLD,
                pause_s=self.rng.uniform(2.0, 4.0),
                slot_id=slot["slot_id"],
            )
            if booking_id is not None:
                return

    async def await_draw(self, intent_id: str, department_id: int) -> None:
        time = self.stage.time
        await time.until(time.at(self.rng.uniform(60.0, 180.0)))
        while not time.over():
            answer = await self.agent.intent_status(self.person, intent_id)
            if answer.field("status") == "won":
                return
            if answer.field("status") in CLOSED_DRAW:
                break
            await time.sleep(DRAW_POLL_S)
        # Lost: the organiser has everyone join the waitlist.
        sessions = await self.agent.availability(department_id, person=self.person)
        if sessions:
            await self.agent.join_waitlist(
                self.person,
                session_id=int(self.rng.choice(sessions)["session_id"]),
                payment=self.worker.payment_account,
            )
