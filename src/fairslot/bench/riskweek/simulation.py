"""The benchmark's week of bookings: genuine demand plus planted scalpers, in time order.

Each request takes a slot the way the pool would hand it out (a slot given back returns to
sale after a random cooling delay and is then taken by the next asker), so the ledger
carries genuine hand-overs between strangers next to the planted transfers. Every booking
writes its ``bookings`` row and its ledger rows (held, booked, then cancelled + cooling,
checked_in or no_show, or hold_expired + cooling). Constraints the database holds are kept:
one occupying booking per slot, one per patient per department-day.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final

from fairslot.bench.riskweek.data import (
    OFFSET_WEIGHTS,
    WINDOW_CHANNEL,
    ZONE,
    Fmt,
    Ledger,
    SessionInfo,
    Shape,
    Sink,
    Supply,
    guid,
    local_epoch,
)
from fairslot.bench.riskweek.people import People, PersonInfo, genuine_picks
from fairslot.bench.riskweek.requests import RequestLog

HOLD_SECONDS: Final = 300
COOLING: Final = (600.0, 10_800.0)  # the pool's random re-release delay


@dataclass(slots=True)
class Request:
    """Someone asks for a slot at ``at``; the fields left None are drawn as for anyone."""

    at: float
    person: PersonInfo
    department: int | None = None
    day: date | None = None
    slot: tuple[int, int] | None = None  # (session id, number): a transfer's buyer
    fate: str | None = None  # "cancel", "transfer", "attend", "no_show"; None: drawn
    cancel_at: float | None = None
    buyer: PersonInfo | None = None  # a transfer's next holder
    payer: tuple[str, str] | None = None  # (hash, masked) when not the account's card
    device: str | None = None
    ip: str | None = None


@dataclass(slots=True)
class _Act:
    """One booking's identifiers, for its ledger rows."""

    booking_id: str
    slot_id: str
    person: PersonInfo
    device: str | None
    ip: str | None
    wifi: str | None


_SLOT_STATE: Final = {"booked": "booked", "checked_in": "attended", "no_show": "no_show"}


@dataclass
class SimulationReport:
    bookings: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    stranger_rebookings: int = 0
    transfers: int = 0
    refused: int = 0  # requests no slot could be found for (should stay near zero)


class Simulation:
    def __init__(
        self,
        shape: Shape,
        *,
        supply: Supply,
        people: People,
        sink: Sink,
        fmt: Fmt,
        ledger: Ledger,
        rng: random.Random,
        requests: RequestLog | None = None,
    ) -> None:
        self.shape, self.supply, self.people = shape, supply, people
        self.sink, self.fmt, self.ledger, self.rng = sink, fmt, ledger, rng
        self.requests = requests  # the gate's records around each booking, if kept
        self.report = SimulationReport()
        self.planted: list[tuple[float, int, Request]] = []
        self.returns: list[tuple[float, int, int]] = []  # (back on sale at, session, number)
        self.occupied: set[tuple[int, int, date]] = set()
        self.window_end = local_epoch(shape.report_day + timedelta(days=1), time(0))
        # A carrier's NAT address serves hundreds of patients (15 % of bookings come
        # through one, ~300 per address): a public network at any size of week, never
        # the glue of a ring of strangers (a pool of 50 at a small size did glue them).
        self.carrier_ips = [
            f"100.64.{i // 250}.{i % 250 + 1}" for i in range(max(2, shape.bookings // 2000))
        ]
        self._seq = 0
        self.visits: dict[int, int] = {}
        # (sex, child) -> departments such a patient may book
        self.fitting = {
            (sex, child): [
                d.id
                for d in supply.departments
                if d.sex in ("any", sex) and (d.max_age is not None) == child
            ]
            for sex in ("female", "male")
            for child in (False, True)
        }

    # requests ---------------------------------------------------------------------------

    def plant(self, request: Request) -> None:
        self._seq += 1
        heapq.heappush(self.planted, (request.at, self._seq, request))

    def genuine_times(self, count: int) -> list[float]:
        """Booking moments over the window's days: a fifth in the release rush after 00:30,
        the rest between 07:00 and 23:00 local."""
        rng, times = self.rng, []
        share = OFFSET_WEIGHTS[-1]
        for _ in range(count):
            day = self.shape.first_day + timedelta(days=rng.randrange(self.shape.days))
            if rng.random() < share:
                times.append(local_epoch(day, time(0, 30)) + rng.expovariate(1 / 60))
            else:
                times.append(local_epoch(day, time(7)) + rng.random() * 16 * 3600)
        return sorted(times)

    def run(self, genuine: int) -> SimulationReport:
        picks = genuine_picks(self.people, self.rng, genuine)
        times = self.genuine_times(genuine)
        i = 0
        while i < len(times) or self.planted:
            if self.planted and (i == len(times) or self.planted[0][0] <= times[i]):
                request = heapq.heappop(self.planted)[2]
            else:
                request = Request(at=times[i], person=picks[i])
                i += 1
            self.book(request)
        self.finish()
        return self.report

    # slots ------------------------------------------------------------------------------

    def _release_returns(self, now: float) -> None:
        while self.returns and self.returns[0][0] <= now:
            back_at, session_id, number = heapq.heappop(self.returns)
            self.supply.sessions[session_id].returned.append(number)
            self.supply.sessions[session_id].final[number] = ("open", back_at)

    def _take(self, session: SessionInfo, at: float) -> int | None:
        if session.starts - 1800 <= at:
            return None  # booking has closed
        if session.returned:
            number = session.returned.pop()
            _, back_at = session.final[number]
            assert back_at is not None
            self.ledger.row(slot_id=session.slot_ids[number - 1], kind="re_released", at=back_at)
            self.report.stranger_rebookings += 1
            return number
        if session.taken < session.capacity:
            session.taken += 1
            return session.taken
        return None

    def _find(self, request: Request) -> tuple[SessionInfo, int] | None:
        rng, person = self.rng, request.person
        if request.slot is not None:
            session = self.supply.sessions[request.slot[0]]
            _, back_at = session.final[request.slot[1]]
            self.ledger.row(
                slot_id=session.slot_ids[request.slot[1] - 1],
                kind="re_released",
                at=back_at or request.at,
            )
            return session, request.slot[1]
        local = datetime.fromtimestamp(request.at, ZONE)
        today = local.date()
        rush = local.time() < time(1)
        offset = 7 if rush else rng.choices(range(7), weights=OFFSET_WEIGHTS[:7])[0]
        first_day = request.day or today + timedelta(days=offset)
        # Each visit of the week to the next of the patient's clinics, in turn.
        visits = self.visits.get(person.id, 0)
        self.visits[person.id] = visits + 1
        department = request.department or person.homes[visits % len(person.homes)]
        days = [
            day
            for day in (first_day + timedelta(days=k) for k in (0, 1, -1, 2, -2, 3))
            if today <= day <= today + timedelta(days=7)
        ]
        for day in days:
            found = self._in(department, day, person, request.at)
            if found is not None:
                return found
        # Everything the patient wanted is taken: any department that fits them, nearby days.
        fits = self.fitting[(person.sex, person.age <= 14)]
        for day in days:
            for _ in range(12):
                found = self._in(rng.choice(fits), day, person, request.at)
                if found is not None:
                    return found
        self.report.refused += 1
        return None

    def _in(
        self, department: int, day: date, person: PersonInfo, at: float
    ) -> tuple[SessionInfo, int] | None:
        if (person.id, department, day) in self.occupied:
            return None
        candidates = list(self.supply.by_department_day.get((department, day), ()))
        self.rng.shuffle(candidates)
        for session_id in candidates:
            session = self.supply.sessions[session_id]
            number = self._take(session, at)
            if number is not None:
                return session, number
        return None

    # bookings ---------------------------------------------------------------------------

    def book(self, request: Request) -> None:
        self._release_returns(request.at)
        found = self._find(request)
        if found is None:
            return
        session, number = found
        person, rng, at = request.person, self.rng, request.at
        account = person.account
        self.occupied.add((person.id, session.department, session.day))
        ip = request.ip or (
            None
            if account.channel == WINDOW_CHANNEL
            else rng.choice(self.carrier_ips)
            if rng.random() < 0.15
            else account.ip
        )
        card_hash, card_masked = request.payer or (account.card_hash, account.card_masked)
        act = _Act(
            booking_id=guid(rng),
            slot_id=session.slot_ids[number - 1],
            person=person,
            device=request.device or account.device,
            ip=ip,
            wifi=account.wifi if ip == account.ip else None,
        )
        fate = request.fate or self._fate(session, at)
        self._event(act, "held", at)
        status, version = "booked", 2
        booked_at: float | None = at + rng.uniform(20, 180)
        if self.requests is not None:
            booked_at = self.requests.booking(
                person=person, session=session, number=number, at=at,
                paid_at=None if fate == "expire" else booked_at, booking_id=act.booking_id,
                device=act.device, ip=act.ip, wifi=act.wifi, payment=card_hash,
            )  # fmt: skip
        ended_at: float | None = None
        if fate == "expire" or booked_at is None:
            status, booked_at, ended_at = "expired", None, at + HOLD_SECONDS
            self._event(act, "hold_expired", ended_at, actor="system")
            self._schedule_return(session, number, self._cool(act, ended_at))
        else:
            self._event(act, "booked", booked_at, payment=card_hash)
        if booked_at is not None and fate in ("cancel", "transfer"):
            cancel_at = request.cancel_at or rng.uniform(
                booked_at + 600, min(session.starts - 7200, self.window_end - 60)
            )
            status, ended_at, version = "cancelled", cancel_at, 3
            self._event(act, "cancelled", cancel_at)
            back_at = self._cool(act, cancel_at)
            if fate == "transfer" and request.buyer is not None:
                self._hand_over(request, session, number, back_at)
            else:
                self._schedule_return(session, number, back_at)
        elif fate in ("attend", "no_show"):
            status, version = ("checked_in", 3) if fate == "attend" else ("no_show", 3)
            ended_at = (
                rng.uniform(session.starts, session.ends)
                if fate == "attend"
                else session.ends + 1800
            )
            self._event(act, "checked_in" if fate == "attend" else "no_show", ended_at,
                        actor="hospital")  # fmt: skip
        if status in _SLOT_STATE:
            session.final[number] = (_SLOT_STATE[status], None)
        paid = booked_at is not None
        fmt = self.fmt
        self.sink.row(
            "bookings",
            (act.booking_id, act.slot_id, str(session.id), str(session.department),
             session.day.isoformat(), str(person.id), str(account.id), str(account.channel),
             status, str(version), fmt.ts(at), fmt.ts(at + HOLD_SECONDS),
             fmt.ts(booked_at) if booked_at is not None else None,
             fmt.ts(ended_at) if ended_at is not None else None,
             card_hash if paid else None, card_masked if paid else None,
             f"pay-{act.booking_id[:8]}" if paid else None, act.device, act.ip, act.wifi, None),
        )  # fmt: skip
        self.report.bookings += 1
        self.report.statuses[status] += 1

    def _hand_over(
        self, request: Request, session: SessionInfo, number: int, back_at: float
    ) -> None:
        """The transfer: the slot skips the queue and goes to the buyer once it is back."""
        assert request.buyer is not None
        self.report.transfers += 1
        session.final[number] = ("cooling", back_at)
        self.plant(
            Request(
                at=back_at + self.rng.uniform(30, 600),
                person=request.buyer,
                slot=(session.id, number),
                fate="book",
                payer=request.payer,
                device=request.device,
                ip=request.ip,
            )
        )

    def _event(
        self,
        act: _Act,
        kind: str,
        at: float,
        *,
        actor: str = "patient",
        payment: str | None = None,
    ) -> None:
        """A ledger row of the booking: the patient's own acts carry their context; the
        system's and the hospital's carry only the booking and the patient."""
        own = actor == "patient"
        account = act.person.account
        self.ledger.row(
            slot_id=act.slot_id,
            kind=kind,
            at=at,
            actor=actor,
            booking_id=act.booking_id,
            patient_key=act.person.key,
            account_id=account.id if own else None,
            channel_id=account.channel if own else None,
            device=act.device if own else None,
            ip=act.ip if own else None,
            wifi=act.wifi if own else None,
            payment=payment,
        )

    def _fate(self, session: SessionInfo, at: float) -> str:
        r = self.rng.random()
        if r < 0.03:
            return "expire"
        if r < 0.10 and min(session.starts - 7200, self.window_end - 60) > at + 900:
            return "cancel"
        if session.ends + 3600 < self.shape.run_epoch:
            r = self.rng.random()
            return "no_show" if r < 0.045 else "book" if r < 0.065 else "attend"
        return "book"

    def _cool(self, act: _Act, at: float) -> float:
        back_at = at + self.rng.uniform(*COOLING)
        self.ledger.row(slot_id=act.slot_id, kind="cooling", at=at, booking_id=act.booking_id,
                        data=f'{{"reopen_at": "{self.fmt.ts(back_at)}"}}')  # fmt: skip
        return back_at

    def _schedule_return(self, session: SessionInfo, number: int, back_at: float) -> None:
        session.final[number] = ("cooling", back_at)
        heapq.heappush(self.returns, (back_at, session.id, number))

    def finish(self) -> None:
        """Slots still cooling at the run stay cooling; those due before it were re-released."""
        run = self.shape.run_epoch
        for due, session_id, number in self.returns:
            if due <= run:
                self.supply.sessions[session_id].final[number] = ("open", due)
        for session in self.supply.sessions.values():
            for number, (state, back_at) in session.final.items():
                if state == "open" and back_at is not None:
                    self.ledger.row(
                        slot_id=session.slot_ids[number - 1], kind="re_released", at=back_at
                    )
        self.returns.clear()
