"""Scalpers: grab software and transfer brokers, at machine pace.

Grab software prepares its identities before the day, registers an intent for each of
them where there is a draw, hammers availability around the release and fires holds in
parallel the moment slots appear, pays at once, joins waitlists with whoever lost, then
polls availability for returned slots (a slot radar) — rotating devices and proxy IPs on
every request.

A transfer broker books under throw-away identities the same way; when a slot is sold it
binds the buyer, cancels the throw-away booking and at once tries to book the same
session for the buyer, again and again, until it works or patience runs out.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from datetime import timedelta
from typing import Any

from fairslot.sim.accounting import TransferFact, Via
from fairslot.sim.agent import Agent, Stage, enters_ahead
from fairslot.sim.client import Who
from fairslot.sim.scenario import EXPERT_TITLE, Broker, Deal, GrabProgram

BOT_PAUSE_S = (0.05, 0.3)  # from hold to payment: no person reads anything
SNIPE_POLL_S = 1.0
SNIPE_FOR_S = 120.0
DRAW_POLL_S = 60.0
RETRY_TRANSFER_S = 3.0
WINDOW_OPENS_S = -29 * 60.0  # just after the push time, when intents open


class _Machine:
    """What grab software and brokers share: many accounts, one script."""

    def __init__(self, stage: Stage, *, key: str, payment: dict[str, str]) -> None:
        self.stage = stage
        self.key = key
        self.rng = random.Random(f"{stage.scenario.seed}:{key}")
        self.agents: dict[str, Agent] = {}  # person -> the agent of their account
        self.targets: dict[str, str] = {}  # person -> expert clinic code
        self.payment = payment  # person -> payment account
        self.departments: dict[str, int] = {}
        self.booked: dict[str, str] = {}  # person -> booking id
        self.waiting: set[str] = set()
        self.intents: dict[str, str] = {}  # person -> intent id
        self.firing: dict[str, asyncio.Task[None]] = {}  # person -> their hold in flight

    def idle(self, department: str) -> list[str]:
        return [
            person
            for person, code in self.targets.items()
            if code == department
            and person not in self.booked
            and person not in self.waiting
            and person not in self.firing
            and person in self.agents[person].patients
        ]

    async def browse(self) -> None:
        agent = next(iter(self.agents.values()))
        for code in sorted(set(self.targets.values())):
            found = await agent.department_id(0, code, person=None)
            if found is not None:
                self.departments[code] = found

    async def register_intents(self) -> None:
        async def one(person: str) -> None:
            department_id = self.departments.get(self.targets[person])
            if department_id is None or person not in self.agents[person].patients:
                return
            answer = await self.agents[person].intent(
                person,
                department_id=department_id,
                title=EXPERT_TITLE,
                payment=self.payment[person],
            )
            if answer.ok:
                self.intents[person] = str(answer.field("id"))

        await asyncio.gather(*(one(person) for person in self.targets))

    def takes_entries(self) -> bool:
        """Whether a clinic the script is after takes entries ahead of the release (a draw
        or a release batch), as its department card showed when the script browsed."""
        modes = next(iter(self.agents.values())).modes
        return any(enters_ahead(modes.get(d)) for d in self.departments.values())

    async def free_slots(self) -> tuple[dict[str, list[str]], bool]:
        """Free expert slot ids by clinic, and whether every session is listed and full."""
        agent = next(iter(self.agents.values()))
        free: dict[str, list[str]] = defaultdict(list)
        sold_out = True
        for code, department_id in self.departments.items():
            sessions = await agent.availability(department_id, person=None, title=EXPERT_TITLE)
            sold_out = sold_out and bool(sessions) and all(s["free"] == 0 for s in sessions)
            for session in sessions:
                free[code].extend(slot["slot_id"] for slot in session["slots"])
        return free, sold_out

    def fire(self, free: dict[str, list[str]]) -> None:
        """One idle identity per free slot, all at once, in the background: the script
        keeps polling while its holds are in flight. Slots are taken in random order, so
        that copies of the script do not all go for the first one listed."""
        for code, slots in free.items():
            for person, slot_id in zip(
                self.idle(code), self.rng.sample(slots, len(slots)), strict=False
            ):
                self.firing[person] = asyncio.create_task(self.shoot(person, slot_id))

    async def shoot(self, person: str, slot_id: str) -> None:
        try:
            booking_id, _ = await self.agents[person].book(
                person,
                payment=self.payment[person],
                via=Via.HOLD,
                pause_s=self.rng.uniform(*BOT_PAUSE_S),
                slot_id=slot_id,
            )
            if booking_id is not None:
                self.booked[person] = booking_id
        finally:
            self.firing.pop(person, None)

    async def landed(self) -> None:
        """Wait for the holds in flight."""
        await asyncio.gather(*self.firing.values())

    async def snipe(self) -> None:
        """Hammer availability around the release; fire as soon as anything is free."""
        time = self.stage.time
        until = time.at(SNIPE_FOR_S)
        try:
            while time.now() < until:
                free, sold_out = await self.free_slots()
                if any(free.values()):
                    self.fire(free)
                elif sold_out and not self.firing:
                    break
                await time.sleep(SNIPE_POLL_S)
            await self.landed()
        finally:
            # The day may end mid-volley: no hold outlives its script.
            for task in list(self.firing.values()):
                task.cancel()

    async def collect_draws(self) -> None:
        time = self.stage.time
        await time.until(time.at(DRAW_POLL_S))
        pending = dict(self.intents)
        while pending and not time.over():
            for person, intent_id in list(pending.items()):
                answer = await self.agents[person].intent_status(person, intent_id)
                status = answer.field("status")
                if status == "won":
                    self.booked[person] = str(answer.field("booking_id"))
                if status != "registered":
                    pending.pop(person)
            if pending:
                await time.sleep(DRAW_POLL_S)


class GrabSoftware(_Machine):
    def __init__(self, stage: Stage, program: GrabProgram) -> None:
        persons = [p for account in program.accounts for p in account.persons]
        payments = {
            person: program.payment_accounts[n]
            for n, account in enumerate(program.accounts)
            for person in account.persons
        }
        super().__init__(stage, key=program.key, payment=payments)
        self.program = program
        self._rotation = itertools.count()
        for account in program.accounts:
            agent = Agent(stage, actor=program.key, account=account, who=self.who)
            for person in account.persons:
                self.agents[person] = agent
        self.targets = {p: program.targets[p] for p in persons}

    def who(self, person: str | None) -> Who:
        """A different device and proxy on every request."""
        n = next(self._rotation)
        devices, proxies = self.program.devices, self.program.proxies
        return Who(self.key, person, devices[n % len(devices)], ip=proxies[(n * 7) % len(proxies)])

    async def run(self) -> None:
        time = self.stage.time
        lead = self.stage.scenario.params.lead_minutes * 60
        await time.until(time.at(-lead + self.rng.uniform(0, 60)))
        agents = {id(a): a for a in self.agents.values()}.values()
        await asyncio.gather(*(agent.prepare(agent.account.persons) for agent in agents))
        await self.browse()
        if self.program.radar_only:
            # A radar leaves the release to others and lives off what comes back.
            await time.until(time.at(0.0))
            await self.radar(interval=self.stage.scenario.params.radar_poll_s)
            return
        await time.until(time.at(WINDOW_OPENS_S + self.rng.uniform(0, 30)))
        await self.register_intents()
        await time.until(time.at(-3.0))
        await self.snipe()
        # Whoever lost the draw, or reached its window after it closed, queues for what
        # comes back.
        if self.takes_entries():
            await self.collect_draws()
            await self.join_waitlists()
        await self.radar()

    async def join_waitlists(self) -> None:
        agent = next(iter(self.agents.values()))
        for code, department_id in self.departments.items():
            sessions = await agent.availability(department_id, person=None, title=EXPERT_TITLE)
            if not sessions:
                continue
            for n, person in enumerate(self.idle(code)):
                session = sessions[n % len(sessions)]
                answer = await self.agents[person].join_waitlist(
                    person, session_id=int(session["session_id"]), payment=self.payment[person]
                )
                if answer.ok:
                    self.waiting.add(person)

    async def radar(self, interval: float | None = None) -> None:
        """Poll for returned slots until the day ends, on the script's own timer: the
        next poll is due ``interval`` (jittered) after the previous one *left*, not after
        its answer came back — a slow answer does not slow the radar, which goes again at
        once when it is late. One poll at a time, so the radar never floods the server."""
        time = self.stage.time
        interval = interval or self.stage.scenario.params.radar_interval_s
        due = time.now()
        while not time.over():
            due += timedelta(seconds=self.rng.uniform(0.8, 1.2) * interval)
            await time.until(due)
            due = max(due, time.now())
            if not any(self.idle(code) for code in self.departments):
                return
            free, _ = await self.free_slots()
            if any(free.values()):
                self.fire(free)
                await self.landed()


class TransferBroker(_Machine):
    def __init__(self, stage: Stage, broker: Broker) -> None:
        payments = {p: broker.payment_account for a in broker.accounts for p in a.persons}
        super().__init__(stage, key=broker.key, payment=payments)
        self.broker = broker
        for account in broker.accounts:
            agent = Agent(
                stage,
                actor=broker.key,
                account=account,
                who=lambda person: Who(broker.key, person, broker.device),
            )
            for person in account.persons:
                self.agents[person] = agent
        self.targets = {deal.throwaway: deal.department for deal in broker.deals}

    async def run(self) -> None:
        time = self.stage.time
        lead = self.stage.scenario.params.lead_minutes * 60
        await time.until(time.at(-lead + self.rng.uniform(0, 120)))
        for deal in self.broker.deals:
            agent = self.agents[deal.throwaway]
            if await agent.open_account():
                await agent.bind(deal.throwaway)
        await self.browse()
        await time.until(time.at(WINDOW_OPENS_S + self.rng.uniform(0, 60)))
        await self.register_intents()
        await time.until(time.at(-2.0))
        await self.snipe()
        if self.intents:
            await self.collect_draws()
        await asyncio.gather(*(self.transfer(deal) for deal in self.broker.deals))

    async def transfer(self, deal: Deal) -> None:
        """Sold: cancel the throw-away booking and re-book the session for the buyer."""
        time, agent = self.stage.time, self.agents[deal.throwaway]
        await time.until(time.at(deal.sell_after_s - 60.0))
        booking_id = self.booked.get(deal.throwaway)
        if booking_id is None or not await agent.bind(deal.buyer):
            return
        session_id = await self.session_of(deal.throwaway, booking_id)
        if session_id is None:
            return
        await time.until(time.at(deal.sell_after_s))
        cancelled_at = time.now()
        if not (await agent.cancel(deal.throwaway, booking_id)).ok:
            return
        self.stage.recorder.transfers.append(
            TransferFact(
                broker=self.key,
                throwaway_booking_id=booking_id,
                buyer=deal.buyer,
                session_id=session_id,
                cancelled_at=cancelled_at,
            )
        )
        give_up = time.now().timestamp() + self.stage.scenario.params.transfer_patience_s
        while not time.over() and time.now().timestamp() < give_up:
            rebooked, _ = await agent.book(
                deal.buyer,
                payment=self.payment[deal.throwaway],
                via=Via.TRANSFER,
                pause_s=self.rng.uniform(*BOT_PAUSE_S),
                session_id=session_id,
            )
            if rebooked is not None:
                return
            await time.sleep(RETRY_TRANSFER_S)

    async def session_of(self, person: str, booking_id: str) -> int | None:
        agent = self.agents[person]
        answer = await agent.call(
            "GET",
            f"/v1/bookings/{booking_id}",
            person=person,
            action="booking_status",
            params={"account_id": agent.account_id},
        )
        value: Any = answer.field("session_id")
        return int(value) if answer.ok and value is not None else None
