"""After the release day, on a platform the simulator started: attendance, the daily risk
batch, the simulated reviewer, and the second release day.

The timeline, in the hospitals' zone (D is the day-1 session date):

* D 13:30 — the desk checks in whoever came (the hospital API, with the ID card shown);
* D+1 09:00 — the hospital records the no-shows; the daily batch runs, as the worker
  would (``fairslot risk run --date``), for the release day and for D; the reviewer
  works the queue;
* D+2 00:30 — the next release day (sessions of D+9), same people.

Each moment is a restart of the server on the same database with the clock moved on: the
platform's clock is a setting. Between restarts the clock runs at real speed, so a staff
token or a case lock lasts as long as it would for a person.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from fairslot.patients.identity import mask_id
from fairslot.schedules.release import local_to_utc
from fairslot.sim.accounting import BookingFact
from fairslot.sim.modes import Mode
from fairslot.sim.phases import CaseSeen, Phase, ReleaseDay, RunContext
from fairslot.sim.review import decide
from fairslot.sim.runner import KEEPALIVE_S, SimulationError, Target, play_release_day
from fairslot.sim.scenario import HOSPITAL_ZONE, Klass, Scenario
from fairslot.sim.server import LocalPlatform

CHECK_IN_AT = time(13, 30)  # after the morning sessions, within every check-in window
NEXT_MORNING = time(9, 0)
REVIEWER = "sim_reviewer"
PARALLEL = 8
MAX_CASES = 2000  # a queue longer than this is a bug in the loop, not a finding


def _at(day: date, when: time) -> datetime:
    return local_to_utc(day, when, HOSPITAL_ZONE)


# Idle connections dropped before the server's keep-alive closes them (``runner.KEEPALIVE_S``).
IDLE_LIMITS = httpx.Limits(keepalive_expiry=KEEPALIVE_S)


def _platform(ctx: RunContext) -> LocalPlatform:
    assert ctx.platform is not None  # the phases run only on a local platform
    return ctx.platform


def comes(scenario: Scenario, person: str) -> bool:
    """Whether the booked patient turns up: a genuine patient as their wish says, a
    broker's buyer (who paid for the slot) always; scalpers' identities never do (the
    slot was sold on, or never meant to be used); a buyer whose own identity a 代挂
    operator booked comes too."""
    klass = scenario.persons[person].klass
    if klass == Klass.GENUINE:
        wishes = [w for h in scenario.households for w in h.wishes if w.person == person]
        return all(w.shows_up for w in wishes)
    return klass in (Klass.BUYER, Klass.PROXY_BOOKED)


class Attendance:
    name = "attendance"

    async def run(self, ctx: RunContext) -> None:
        platform, day = _platform(ctx), ctx.day
        assert day is not None
        booked = [b for b in day.log.bookings if b.status == "booked"]
        came = [b for b in booked if comes(ctx.scenario, b.person)]
        missed = [b for b in booked if not comes(ctx.scenario, b.person)]
        target = platform.start(clock_start=_at(day.session_date, CHECK_IN_AT), speed=1.0)
        outcomes = await _mark(target, ctx.scenario, came, action="check-in")
        target = platform.start(
            clock_start=_at(day.session_date + timedelta(days=1), NEXT_MORNING), speed=1.0
        )
        outcomes += await _mark(target, ctx.scenario, missed, action="no-show")
        ctx.target = target
        counts = Counter(outcomes)
        ctx.notes.append(f"attendance: {dict(sorted(counts.items()))}")


async def _mark(
    target: Target, scenario: Scenario, bookings: list[BookingFact], *, action: str
) -> list[str]:
    """Check in or mark as no-show each booking; the outcome of each ("check-in", or the
    refusal's code)."""
    gate = asyncio.Semaphore(PARALLEL)
    async with httpx.AsyncClient(base_url=target.url, timeout=60.0, limits=IDLE_LIMITS) as http:

        async def one(booking: BookingFact) -> str:
            body = (
                {"id_number": scenario.persons[booking.person].id_number}
                if action == "check-in"
                else None
            )
            code = "booking_not_found"
            async with gate:
                # The simulator does not know which hospital a booking is at: ask each.
                for key in target.hospital_keys:
                    answer = await http.post(
                        f"/hospital/v1/bookings/{booking.booking_id}/{action}",
                        headers={"X-Hospital-Key": key},
                        json=body,
                    )
                    if answer.is_success:
                        return action
                    code = str(answer.json().get("error", answer.status_code))
                    if code != "booking_not_found":
                        break
            return code

        return list(await asyncio.gather(*(one(b) for b in bookings)))


class RiskBatch:
    name = "daily risk batch"

    async def run(self, ctx: RunContext) -> None:
        assert ctx.day is not None
        release_date = ctx.release_at.astimezone(ZoneInfo(HOSPITAL_ZONE)).date()
        # The worker runs the batch every night for the day before. Two of those nights
        # matter here: the release day's (its window holds the release-day ledger) and the
        # session day's (it sees the attendance); the nights between see nothing new.
        for day in (release_date, ctx.day.session_date):
            output = _platform(ctx).command(
                "risk",
                "run",
                "--date",
                day.isoformat(),
                extra_env={"COLUMNS": "200"},  # one line per fact: the notes quote them
            )
            ctx.batch_runs += 1
            said = [
                line.strip()
                for line in output.splitlines()
                if line.startswith(("risk run", "read ", "rings:"))
            ]
            ctx.notes.append(f"daily risk batch: {' / '.join(said) or 'no output'}")


class SimulatedReview:
    name = "simulated reviewer"

    async def run(self, ctx: RunContext) -> None:
        platform, day = _platform(ctx), ctx.day
        assert day is not None and platform.target is not None
        password = secrets.token_urlsafe(18)
        platform.command(
            "staff",
            "create",
            REVIEWER,
            "--roles",
            "reviewer",
            "--name",
            "simulated reviewer",
            "--by",
            "fairslot simulate",
            extra_env={"FAIRSLOT_NEW_STAFF_PASSWORD": password},
        )
        with httpx.Client(base_url=platform.target.url, timeout=60.0, limits=IDLE_LIMITS) as http:
            # Nothing else runs after the day: the queue is worked in turn, as a person would.
            ctx.cases += work_queue(
                http,
                username=REVIEWER,
                password=password,
                patients=day.log.patients,
                scenario=ctx.scenario,
                accounts=day.log.accounts,
                id_hashes=platform.id_hashes(ctx.scenario.persons.values()),
            )
        confirmed = [c for c in ctx.cases if c.confirmed]
        ctx.blocked = frozenset(p for c in confirmed for p in c.members)
        ctx.notes.append(
            f"simulated reviewer: {len(ctx.cases)} cases decided, {len(confirmed)} confirmed"
        )


def work_queue(
    http: httpx.Client,
    *,
    username: str,
    password: str,
    patients: Mapping[int, str],
    scenario: Scenario,
    accounts: Mapping[int, tuple[str, ...]] | None = None,
    id_hashes: Mapping[str, str] | None = None,
) -> list[CaseSeen]:
    """Log in, take ``/staff/v1/cases/next`` until ``queue_empty``, decide each case from
    its evidence (``review.decide``) and confirm or dismiss it through the API."""
    login = http.post("/staff/v1/login", json={"username": username, "password": password})
    if login.status_code != 200:
        raise SimulationError(f"the simulated reviewer could not log in: {login.text}")
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    seen: list[CaseSeen] = []
    for _ in range(MAX_CASES):
        answer = http.post("/staff/v1/cases/next", headers=auth)
        if answer.status_code == 404 and answer.json().get("error") == "queue_empty":
            return seen
        if answer.status_code != 200:
            raise SimulationError(f"cases/next: {answer.status_code} {answer.text}")
        evidence = answer.json()
        decision = decide(evidence)
        case_id = int(evidence["case"]["case_id"])
        body: dict[str, Any] = {
            "reason": decision.reason,
            "evidence_version": evidence["case"]["evidence_version"],
        }
        if decision.confirm:
            body["scopes"] = list(decision.scopes)
        verb = "confirm" if decision.confirm else "dismiss"
        done = http.post(f"/staff/v1/cases/{case_id}/{verb}", json=body, headers=auth)
        if done.status_code != 200:
            raise SimulationError(f"{verb} case {case_id}: {done.status_code} {done.text}")
        found = members(evidence, patients, scenario=scenario, id_hashes=id_hashes)
        seen.append(
            CaseSeen(
                case_id=case_id,
                subject_kind=str(evidence["case"]["subject_kind"]),
                rules=tuple(sorted({str(a["rule"]) for a in evidence.get("alerts") or []})),
                members=found,
                confirmed=decision.confirm,
                reason=decision.reason,
                named=tuple(sorted(set(found) | account_persons(evidence, accounts or {}))),
            )
        )
    raise SimulationError(f"the review queue still had cases after {MAX_CASES}")


def members(
    evidence: Mapping[str, Any],
    patients: Mapping[int, str],
    *,
    scenario: Scenario,
    id_hashes: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """The scenario identities a case is about: the patients of its bookings (the
    simulator knows which patient id each of its identities got), and the patients it
    lists to block — by their keyed ID hash where the simulator knows the platform's hash
    key (``id_hashes``: hash -> identity, a platform it started), else by their masked ID
    when exactly one identity fits (a masked ID shows 7 of 18 digits, so two of a
    scenario's identities can share one). This reads back what the platform decided; it
    never feeds the decision."""
    found = {
        who
        for b in evidence.get("bookings") or []
        if (who := patients.get(int(b["patient"]["patient_id"])))
    }
    by_mask: dict[str, list[str]] = {}
    for key, person in scenario.persons.items():
        by_mask.setdefault(mask_id(person.id_number), []).append(key)
    for candidate in evidence.get("candidates") or []:
        if candidate.get("scope") != "patient":
            continue
        hashed = (id_hashes or {}).get(str(candidate.get("key")))
        if hashed is not None:
            found.add(hashed)
            continue
        matches = by_mask.get(str(candidate.get("label")), [])
        if len(matches) == 1:
            found.add(matches[0])
    return tuple(sorted(found))


def account_persons(
    evidence: Mapping[str, Any], accounts: Mapping[int, tuple[str, ...]]
) -> set[str]:
    """The persons of every account the case names (its subject, or an identifier it
    offers to block), as the simulator opened them. Reads back; never feeds a decision."""
    case = evidence.get("case") or {}
    keys = [str(c.get("key") or "") for c in evidence.get("candidates") or []]
    if case.get("subject_kind") == "account":
        keys.append(str(case.get("subject_label") or "").replace("account ", "account:"))
    found: set[str] = set()
    for key in keys:
        bare = key.removeprefix("account:")
        if key.startswith("account:") and bare.isdigit():
            found.update(accounts.get(int(bare), ()))
    return found


class NoReview:
    """The baseline: no batch, no reviewer; nobody is ever blocked."""

    name = "no batch"

    async def run(self, ctx: RunContext) -> None:
        ctx.blocked = frozenset()
        ctx.notes.append("no daily batch and no review: nobody is blocked, and no day 2")


class DayTwo:
    name = "day 2"

    async def run(self, ctx: RunContext) -> None:
        day, params = ctx.day, ctx.scenario.params
        assert day is not None and ctx.second is not None
        release_date = day.session_date + timedelta(days=2)
        release_at = local_to_utc(release_date, time(0, 30), HOSPITAL_ZONE)
        target = _platform(ctx).start(
            clock_start=release_at - timedelta(minutes=params.lead_minutes + 1),
            speed=params.speed,
            changes=params.clock_changes(release_at),
        )
        ctx.target = target
        ctx.day2 = await play_release_day(target, ctx.second, ctx.mode, release_at=release_at)
        ctx.notes.extend(f"day 2: {note}" for note in ctx.day2.notes)


def phases_for(mode: Mode) -> tuple[Phase, ...]:
    """The whole run of a mode on a local platform. The baseline has no batch and no
    review, so nobody is blocked and its day 2 would replay its day 1 (and attendance
    would feed nothing): it stops after the release day."""
    if mode is Mode.PROTECTED:
        return (ReleaseDay(), Attendance(), RiskBatch(), SimulatedReview(), DayTwo())
    return (ReleaseDay(), NoReview())
