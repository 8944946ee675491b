"""Plays one release day against a platform over its public HTTP API (httpx).

The hospitals push their schedule through the hospital API at the start of the day;
then every actor runs on the simulated clock until the day ends. Afterwards the
simulator reads back, through the same APIs, what became of each booking, intent and
waitlist entry its identities made, and how many expert slots the hospital offered.
Randomness is the scenario's (seeded); the platform's own draws and cooling delays use
its OS randomness, as in production, so figures vary a little from run to run.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from fairslot.clock import AcceleratedClock
from fairslot.sim.accounting import STANDING, BookingFact, DayLog
from fairslot.sim.actors import GenuineHousehold, HiredWorker
from fairslot.sim.agent import Stage
from fairslot.sim.client import Answer, Api, Recorder, SimTime, Tracked, Who
from fairslot.sim.modes import Mode, scarce_allocation
from fairslot.sim.scalpers import GrabSoftware, TransferBroker
from fairslot.sim.scenario import HOSPITAL_ZONE, Device, Scenario, ScenarioParams

STANDING_SLOTS = ("booked", "attended", "no_show")
_READER = Device("simulator", "127.0.0.1", None, "fairslot-simulator")
_RECONCILE_PARALLEL = 8
LATE_NOTE_S = 300.0
KEEPALIVE_S = 2.0  # below uvicorn's 5 s keep-alive timeout


class SimulationError(RuntimeError):
    """The simulation could not be carried out (not a finding about the platform)."""


@dataclass(frozen=True)
class Target:
    """A platform to play against: where it is, its keys, and its simulated clock."""

    url: str
    channel_keys: dict[str, str]  # scenario channel ("wechat", "alipay") -> API key
    hospital_codes: tuple[str, ...]
    hospital_keys: tuple[str, ...]
    clock: AcceleratedClock


@dataclass
class Day:
    """One played day: the log for the accounting, and what else was seen."""

    log: DayLog
    session_date: date
    release_at: datetime
    notes: list[str] = field(default_factory=list)


class Actor(Protocol):
    async def run(self) -> None: ...


async def play_release_day(
    target: Target, scenario: Scenario, mode: Mode, *, release_at: datetime
) -> Day:
    params = scenario.params
    recorder = Recorder()
    release_date = release_at.astimezone(ZoneInfo(HOSPITAL_ZONE)).date()
    session_date = scenario.session_date(release_date)
    # Idle connections are dropped by the client before the server's keep-alive (uvicorn:
    # 5 s) closes them: at the same expiry a request sent on a connection the server is
    # closing gets no answer (a transport error in the figures, not the platform's).
    limits = httpx.Limits(
        max_connections=64, max_keepalive_connections=64, keepalive_expiry=KEEPALIVE_S
    )
    async with httpx.AsyncClient(
        base_url=target.url, timeout=httpx.Timeout(120.0), limits=limits
    ) as http:
        api = Api(http, clock=target.clock, recorder=recorder, channel_keys=target.channel_keys)
        time = SimTime(
            target.clock,
            release_at=release_at,
            ends_at=release_at + timedelta(minutes=params.day_minutes),
        )
        notes: list[str] = []
        late = (time.now() - time.at(-params.lead_minutes * 60)).total_seconds()
        if late > LATE_NOTE_S:
            notes.append(f"the day started {late:.0f} simulated s late (slow server start)")
        await time.until(time.at(-params.lead_minutes * 60))
        await push_schedules(api, target, scenario, mode, session_date=session_date)
        stage = Stage(api, time, scenario, session_date, target.hospital_codes)
        actors: list[Actor] = [GenuineHousehold(stage, h) for h in scenario.households]
        actors += [HiredWorker(stage, w) for w in scenario.wave]
        actors += [GrabSoftware(stage, p) for p in scenario.grab_programs]
        actors += [TransferBroker(stage, b) for b in scenario.brokers]
        await _run_until(actors, time)
        scarce_departments = await _scarce_department_ids(api, target, scenario)
        bookings = await reconcile(api, recorder, scarce_departments=scarce_departments)
        scarce_slots, standing = await scarce_supply(
            api, target, scenario, session_date=session_date
        )
    notes += _day_notes(recorder, bookings, standing=standing)
    notes.append(latency_note(recorder, release_at=release_at, params=params))
    log = DayLog(
        persons={key: person.klass for key, person in scenario.persons.items()},
        scarce_slots=scarce_slots,
        requests=tuple(recorder.requests),
        bookings=tuple(bookings),
        wishes=tuple(recorder.wishes.values()),
        transfers=tuple(recorder.transfers),
        patients=dict(recorder.patients),
        accounts=dict(recorder.accounts),
        held=frozenset(recorder.held),
    )
    return Day(log=log, session_date=session_date, release_at=release_at, notes=notes)


def _day_notes(recorder: Recorder, bookings: list[BookingFact], *, standing: int) -> list[str]:
    """What the figures do not say but a reader should know."""
    notes = []
    attributed = sum(1 for b in bookings if b.scarce and b.status in STANDING)
    if attributed != standing:
        notes.append(
            f"{standing} expert slots stand booked on the platform, {attributed} of them "
            "known to the simulator's identities"
        )
    refused = Counter(
        r.code for r in recorder.requests if r.action in ("register", "bind") and r.status >= 400
    )
    if refused:
        notes.append(f"registrations refused: {dict(refused)}")
    transport = sum(1 for r in recorder.requests if r.status == 0)
    if transport:
        notes.append(f"{transport} requests got no answer (transport errors)")
    return notes


async def _run_until(actors: list[Actor], time: SimTime) -> None:
    """Run every actor until the day ends; an actor's own failure is a bug, not a figure."""
    tasks = [asyncio.create_task(actor.run()) for actor in actors]
    await time.until(time.ends_at)
    for task in tasks:
        task.cancel()
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, Exception):
            raise SimulationError(f"an actor failed: {outcome!r}") from outcome


def latency_note(recorder: Recorder, *, release_at: datetime, params: ScenarioParams) -> str:
    """How long the platform took to answer, in simulated time: a real delay counts
    ``speed`` times over, so this says how far the compression of time bent the day."""
    slow_from = release_at + timedelta(seconds=params.slow_from_s)
    slow_until = release_at + timedelta(seconds=params.slow_until_s)
    release = sorted(r.seconds for r in recorder.requests if slow_from <= r.at < slow_until)
    rest = sorted(r.seconds for r in recorder.requests if not slow_from <= r.at < slow_until)

    def spread(values: list[float]) -> str:
        if not values:
            return "none"
        p95 = values[int(0.95 * (len(values) - 1))]
        return f"median {statistics.median(values):.1f} s, p95 {p95:.1f} s"

    return (
        f"answer times in simulated seconds — around the release (x{params.release_speed:g}): "
        f"{spread(release)}; rest of the day (x{params.speed:g}): {spread(rest)}"
    )


def schedule_document(
    scenario: Scenario, mode: Mode, *, hospital: int, code: str, session_date: date
) -> dict[str, Any]:
    """The hospital's schedule push (docs/schedule-format.md) for the session date."""
    return {
        "hospital": code,
        "departments": [
            {
                "code": d.code,
                "name": d.name,
                "specialty": d.specialty,
                "allocation_mode": (
                    scarce_allocation(mode)
                    if d.scarce and not scenario.params.first_come_scarce
                    else "first_come"
                ),
            }
            for d in scenario.departments
            if d.hospital == hospital
        ],
        "doctors": [
            {"code": d.code, "name": d.name, "title": d.title, "department": d.department}
            for d in scenario.doctors
            if d.hospital == hospital
        ],
        "sessions": [
            {
                "session_id": s.his_id(session_date),
                "department": s.department,
                "doctor": s.doctor,
                "date": session_date.isoformat(),
                "period": s.period,
                "start": s.start,
                "end": s.end,
                "fee": s.fee,
                "capacity": s.capacity,
            }
            for s in scenario.sessions
            if s.hospital == hospital
        ],
    }


async def push_schedules(
    api: Api, target: Target, scenario: Scenario, mode: Mode, *, session_date: date
) -> None:
    for index, (code, key) in enumerate(
        zip(target.hospital_codes, target.hospital_keys, strict=True)
    ):
        doc = schedule_document(
            scenario, mode, hospital=index, code=code, session_date=session_date
        )
        answer = await api.hospital(
            "POST", "/hospital/v1/schedule", key=key, action="push", json=doc
        )
        if not answer.ok or answer.field("rejected"):
            raise SimulationError(
                f"the schedule push of {code} failed: {answer.status} {answer.body}"
            )


async def _scarce_department_ids(api: Api, target: Target, scenario: Scenario) -> set[int]:
    who = Who("simulator", None, _READER)
    channel = next(iter(target.channel_keys))
    hospitals = await api.channel(
        "GET", "/v1/hospitals", who=who, channel=channel, action="hospitals"
    )
    code = target.hospital_codes[0]
    hospital_id = next((h["id"] for h in hospitals.body or [] if h.get("code") == code), None)
    if hospital_id is None:
        raise SimulationError(f"hospital {code} is not listed to channels")
    departments = await api.channel(
        "GET",
        f"/v1/hospitals/{hospital_id}/departments",
        who=who,
        channel=channel,
        action="departments",
    )
    scarce = {d.code for d in scenario.departments if d.scarce}
    return {int(d["id"]) for d in departments.body or [] if d.get("code") in scarce}


async def reconcile(
    api: Api, recorder: Recorder, *, scarce_departments: set[int]
) -> list[BookingFact]:
    """What became of everything the identities asked for, as the platform says now."""
    gate = asyncio.Semaphore(_RECONCILE_PARALLEL)

    async def read(path: str, tracked: Tracked, action: str) -> Answer:
        async with gate:
            return await api.channel(
                "GET",
                path,
                who=Who("simulator", tracked.person, _READER),
                channel=tracked.channel,
                action=action,
                params={"account_id": tracked.account_id},
            )

    for kind, entries in (("intents", recorder.intents), ("waitlist", recorder.waitlist)):
        answers = await asyncio.gather(
            *(
                read(f"/v1/{kind}/{key}", tracked, f"{kind}_status")
                for key, tracked in entries.items()
            )
        )
        for tracked, answer in zip(entries.values(), answers, strict=True):
            if kind == "intents" and answer.ok and answer.field("status") == "held":
                recorder.held.add(tracked.person)
            if answer.ok and answer.field("booking_id"):
                recorder.booking(str(answer.field("booking_id")), tracked)
    items = list(recorder.bookings.items())
    answers = await asyncio.gather(
        *(read(f"/v1/bookings/{key}", tracked, "booking_status") for key, tracked in items)
    )
    facts = []
    for (booking_id, tracked), answer in zip(items, answers, strict=True):
        if not answer.ok:
            continue
        booked_at = answer.field("booked_at")
        facts.append(
            BookingFact(
                booking_id=booking_id,
                person=tracked.person,
                session_id=int(answer.field("session_id")),
                scarce=int(answer.field("department_id")) in scarce_departments,
                via=tracked.via,
                status=str(answer.field("status")),
                booked_at=datetime.fromisoformat(booked_at) if booked_at else None,
            )
        )
    return facts


async def scarce_supply(
    api: Api, target: Target, scenario: Scenario, *, session_date: date
) -> tuple[int, int]:
    """(expert slots pushed, expert slots standing booked) as the hospital sees them."""
    answer = await api.hospital(
        "GET",
        "/hospital/v1/sessions",
        key=target.hospital_keys[0],
        action="sessions",
        params={"date": session_date.isoformat()},
    )
    if not answer.ok:
        raise SimulationError(f"the hospital could not list its sessions: {answer.status}")
    scarce = {d.code for d in scenario.departments if d.scarce}
    rows = [row for row in answer.body if row["department"] in scarce]
    standing = sum(row["slots"].get(state, 0) for row in rows for state in STANDING_SLOTS)
    return sum(int(row["capacity"]) for row in rows), standing
