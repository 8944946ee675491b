"""The demo's past lived through the platform's own APIs: each household's app (the
channel API with its key, device, network and user agent) and each hospital's system
(schedule pushes, check-ins and no-shows with its key).

Every step is a generator that makes its requests at the replay clock's current time and
yields when it next wants to act (``demo/past.py`` runs them in time order). What each
answer was is tallied on :class:`PastReport`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx

from fairslot.clock import ManualClock
from fairslot.demo.inprocess import AppClient
from fairslot.demo.past_people import Household, Person
from fairslot.demo.past_plan import After, Journey, Kind, Push, Radar, local
from fairslot.schedules.formats import SessionSpec

Steps = Iterator[datetime]

BROWSE_BEFORE_RELEASE: Final = timedelta(seconds=25)
GRAB_TRIES: Final = 3
NO_SHOW_MARKED_AT: Final = time(18, 30)  # after the afternoon clinics end
CANCEL_BEFORE_START: Final = timedelta(hours=2, minutes=10)  # the cut-off is two hours


@dataclass
class PastReport:
    """What the replay did, as the platform answered it."""

    days: int = 0
    households: int = 0
    patients: int = 0
    pushes: int = 0
    requests: int = 0  # channel requests, each with its request record
    reads: int = 0  # a person looking up their own intent or booking (not recorded)
    refused: Counter[str] = field(default_factory=Counter)  # by error code
    held: int = 0
    confirmed: int = 0  # paid holds and draw wins
    lapsed: int = 0
    cancelled: int = 0
    checked_in: int = 0
    no_shows: int = 0
    intents: int = 0
    drawn: int = 0  # intents that won a slot
    big_release: date | None = None
    sold_out: str | None = None  # the clinic that sold out at the big release


@dataclass
class Member:
    account_id: int
    patients: dict[str, int] = field(default_factory=dict)  # person key -> patient id


class Replay:
    """The households' apps and the hospitals' systems, on one in-process client and the
    replay clock. Keeps what a channel keeps: each household's account and patient ids."""

    def __init__(
        self,
        *,
        client: AppClient,
        clock: ManualClock,
        rng: random.Random,
        channel_keys: Mapping[str, str],
        hospital_keys: Mapping[str, str],
        departments: Mapping[tuple[str, str], int],
        households: Mapping[str, Household],
        zone: ZoneInfo,
        end: datetime,
        report: PastReport,
    ) -> None:
        self.client, self.clock, self.rng = client, clock, rng
        self.channel_keys, self.hospital_keys = channel_keys, hospital_keys
        self.departments, self.households, self.zone = departments, households, zone
        self.end, self.report = end, report  # nothing the past does happens from ``end`` on
        self.members: dict[str, Member] = {}
        self.people: dict[str, Person] = {p.key: p for h in households.values() for p in h.people}
        self._payments = 0

    # --- the hospitals ------------------------------------------------------------------

    def push(self, push: Push, sessions: Sequence[SessionSpec]) -> None:
        """The hospital's system pushes one date's sessions at its push time."""
        answer = self.client.post(
            "/hospital/v1/schedule",
            json={"hospital": push.hospital, "sessions": [_session(s) for s in sessions]},
            headers={"X-Hospital-Key": self.hospital_keys[push.hospital]},
        )
        if answer.status_code != 200 or answer.json().get("rejected"):
            raise RuntimeError(f"the past push of {push.hospital} failed: {answer.text}")
        self.report.pushes += 1

    def _attend(self, hospital: str, booking: str, person: Person, *, came: bool) -> None:
        key = {"X-Hospital-Key": self.hospital_keys[hospital]}
        if came:
            answer = self.client.post(
                f"/hospital/v1/bookings/{booking}/check-in",
                json={"id_number": person.id_number},
                headers=key,
            )
        else:
            answer = self.client.post(f"/hospital/v1/bookings/{booking}/no-show", headers=key)
        if answer.status_code != 200:
            raise RuntimeError(f"the past visit of {booking} failed: {answer.text}")
        if came:
            self.report.checked_in += 1
        else:
            self.report.no_shows += 1

    # --- the households -----------------------------------------------------------------

    def join(self, key: str) -> Steps:
        """Open the household's account, then bind its members a little apart (never
        three within the gate's binding window)."""
        household = self.households[key]
        answer = self._call(household, "POST", "/v1/accounts", json={"phone": household.phone})
        if answer is None:
            return
        member = self.members[key] = Member(answer.json()["account_id"])
        self.report.households += 1
        for n, person in enumerate(household.people):
            yield self._later(60, 150) + (timedelta(minutes=11) if n == 2 else timedelta(0))
            bound = self._call(
                household,
                "POST",
                f"/v1/accounts/{member.account_id}/patients",
                json={
                    "name": person.name,
                    "id_number": person.id_number,
                    "phone": household.phone,
                    "relation": person.relation,
                },
            )
            if bound is not None:
                member.patients[person.key] = bound.json()["patient_id"]
                self.report.patients += 1

    def start_of(self, journey: Journey) -> datetime:
        """Who waits up for a release looks a little before it, then again at it."""
        if journey.kind is Kind.RELEASE:
            return journey.at - BROWSE_BEFORE_RELEASE
        return journey.at

    def journey(self, journey: Journey) -> Steps:
        household = self.households[journey.household]
        member = self.members.get(journey.household)
        if member is None or journey.person not in member.patients:
            return  # the household never got its account (a refusal was tallied)
        if journey.kind is Kind.INTENT or journey.kind is Kind.LATE_INTENT:
            yield from self._intent(journey, household, member)
        elif journey.kind is Kind.GRAB:
            yield from self._grab(journey, household, member)
        else:
            yield from self._book(journey, household, member)

    def radar(self, radar: Radar) -> Steps:
        """A grab script polls a release from one network, many devices: throttled."""
        department = self.departments[(radar.hospital, radar.department)]
        for n in range(radar.polls):
            self._request(
                "GET",
                "/v1/availability",
                {
                    "X-Channel-Key": self.channel_keys["third_party"],
                    "X-Device-Id": f"radar-{n % 6:02d}",
                    "X-End-User-IP": radar.ip,
                    "User-Agent": "python-requests/2.32",
                },
                params=_dates(department, radar.day, radar.day),
            )
            yield self.clock.now() + radar.every

    def _book(self, journey: Journey, household: Household, member: Member) -> Steps:
        department = self.departments[(journey.hospital, journey.department)]
        if journey.kind is Kind.RELEASE:
            self._browse(household, department, journey.day)  # nothing yet: not released
            yield journey.at
        sessions = self._browse(household, department, journey.day)
        wanted = [s for s in sessions if s["free"] and _is_planned(journey, s)]
        if not wanted:
            return
        session = self.rng.choice(wanted)
        # Reading the doctors' pages; at a release, only a thumb's move.
        yield self._later(0.6, 3) if journey.kind is Kind.RELEASE else self._later(20, 90)
        booking = self._hold(household, member, journey, session)
        if booking is None and journey.kind is Kind.RELEASE:
            yield self._later(1, 3)
            booking = self._hold(household, member, journey, session, by_session=True)
        if booking is None:
            return
        if journey.kind is Kind.LAPSE:
            self.report.lapsed += 1  # closed the app; the hold lapses
            return
        yield self._later(25, 110)
        if not self._confirm(household, member, booking["booking_id"]):
            return
        yield from self._after(journey, household, member, booking)

    def _intent(self, journey: Journey, household: Household, member: Member) -> Steps:
        assert journey.title is not None
        answer = self._call(
            household,
            "POST",
            "/v1/intents",
            json={
                "account_id": member.account_id,
                "patient_id": member.patients[journey.person],
                "department_id": self.departments[(journey.hospital, journey.department)],
                "date": journey.day.isoformat(),
                "title": journey.title.value,
                **self._payment(household),
            },
        )
        if answer is None:
            return
        self.report.intents += 1
        intent = answer.json()
        yield datetime.fromisoformat(intent["draw_due_at"]) + timedelta(
            minutes=self.rng.uniform(4, 30)
        )
        seen = self._read(household, f"/v1/intents/{intent['id']}", member)
        if seen is None or not seen.json()["booking_id"]:
            return
        self.report.drawn += 1
        self.report.confirmed += 1
        if journey.after is After.NOTHING:
            return  # the visit is still to come
        booking = self._read(household, f"/v1/bookings/{seen.json()['booking_id']}", member)
        if booking is not None:
            yield from self._after(journey, household, member, booking.json())

    def _grab(self, journey: Journey, household: Household, member: Member) -> Steps:
        """The tool looks, then fires holds a few hundred milliseconds apart."""
        tool = {**self._headers(household), "X-Device-Id": journey.device or household.device}
        department = self.departments[(journey.hospital, journey.department)]
        found = self._request(
            "GET", "/v1/availability", tool, params=_dates(department, journey.day, journey.day)
        )
        sessions = found.json() if found.status_code == 200 else []
        target = next((s["session_id"] for s in sessions if s["free"]), None)
        if target is None:
            return
        for _ in range(GRAB_TRIES):
            yield self.clock.now() + timedelta(milliseconds=350)
            self._request(
                "POST",
                "/v1/holds",
                tool,
                json={
                    "account_id": member.account_id,
                    "patient_id": member.patients[journey.person],
                    "session_id": target,
                },
            )

    def _after(
        self, journey: Journey, household: Household, member: Member, booking: dict[str, Any]
    ) -> Steps:
        starts = datetime.fromisoformat(booking["slot_starts_at"])
        if journey.after is After.CANCEL:
            paid = self.clock.now()
            at = min(paid + journey.wait, starts - CANCEL_BEFORE_START)
            if at > paid + timedelta(minutes=5) and at < self.end:
                yield at
                answer = self._call(
                    household,
                    "POST",
                    f"/v1/bookings/{booking['booking_id']}/cancel",
                    json={"account_id": member.account_id},
                )
                if answer is not None:
                    self.report.cancelled += 1
                return
        # A cancellation the cut-off (or the end of the past) leaves no room for: they came.
        if journey.after in (After.COME, After.CANCEL) and starts < self.end:
            yield starts - timedelta(minutes=self.rng.uniform(10, 45))
            self._attend(
                journey.hospital, booking["booking_id"], self.people[journey.person], came=True
            )
        elif journey.after is After.MISS:
            yield local(journey.day, NO_SHOW_MARKED_AT, self.zone)
            self._attend(
                journey.hospital, booking["booking_id"], self.people[journey.person], came=False
            )

    # --- requests -----------------------------------------------------------------------

    def _browse(self, household: Household, department: int, day: date) -> list[dict[str, Any]]:
        answer = self._call(
            household, "GET", "/v1/availability", params=_dates(department, day, day)
        )
        return [] if answer is None else list(answer.json())

    def _hold(
        self,
        household: Household,
        member: Member,
        journey: Journey,
        session: dict[str, Any],
        *,
        by_session: bool = False,
    ) -> dict[str, Any] | None:
        target: dict[str, Any] = {"session_id": session["session_id"]}
        if not by_session and self.rng.random() < 0.7:
            # A person taps a time: one of the first few still shown (maybe gone by now).
            target = {"slot_id": self.rng.choice(session["slots"][:3])["slot_id"]}
        answer = self._call(
            household,
            "POST",
            "/v1/holds",
            json={
                "account_id": member.account_id,
                "patient_id": member.patients[journey.person],
                **target,
            },
        )
        if answer is None:
            return None
        self.report.held += 1
        return dict(answer.json())

    def _confirm(self, household: Household, member: Member, booking: str) -> bool:
        answer = self._call(
            household,
            "POST",
            f"/v1/bookings/{booking}/confirm",
            json={"account_id": member.account_id, **self._payment(household)},
        )
        if answer is None:
            return False
        self.report.confirmed += 1
        return True

    def _payment(self, household: Household) -> dict[str, str]:
        self._payments += 1
        return {
            "payment_account": household.payment,
            "payment_reference": f"PAST-{household.key}-{self._payments:04d}",
        }

    def _call(
        self, household: Household, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        """One request of the household's app; None when it was refused."""
        answer = self._request(method, url, self._headers(household), **kwargs)
        return answer if answer.status_code < 400 else None

    def _read(self, household: Household, url: str, member: Member) -> httpx.Response | None:
        """A look at the household's own intent or booking."""
        self.report.reads += 1
        answer = self.client.get(
            url, headers=self._headers(household), params={"account_id": member.account_id}
        )
        return answer if answer.status_code == 200 else None

    def _request(
        self, method: str, url: str, headers: Mapping[str, str], **kwargs: Any
    ) -> httpx.Response:
        answer = self.client.request(method, url, headers=dict(headers), **kwargs)
        self.report.requests += 1
        if answer.status_code >= 500:
            raise RuntimeError(f"{method} {url} failed in the demo's past: {answer.text}")
        if answer.status_code >= 400:
            self.report.refused[str(answer.json().get("error", answer.status_code))] += 1
        return answer

    def _headers(self, household: Household) -> dict[str, str]:
        return {
            "X-Channel-Key": self.channel_keys[household.channel],
            "X-Device-Id": household.device,
            "X-End-User-IP": household.ip,
            "User-Agent": household.user_agent,
        }

    def _later(self, low: float, high: float) -> datetime:
        return self.clock.now() + timedelta(seconds=self.rng.uniform(low, high))


def _is_planned(journey: Journey, session: Mapping[str, Any]) -> bool:
    """The clinic the journey is for (any of the department's that day if none)."""
    return journey.doctor is None or (
        session["doctor_name"] == journey.doctor and session["period"] == journey.period
    )


def _dates(department: int, first: date, last: date) -> dict[str, str | int]:
    return {
        "department_id": department,
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
    }


def _session(spec: SessionSpec) -> dict[str, object]:
    """A session as a hospital's system writes it (``docs/schedule-format.md``)."""
    return {
        "session_id": spec.his_session_id,
        "department": spec.department,
        "doctor": spec.doctor,
        "date": spec.session_date.isoformat(),
        "period": spec.period.value,
        "start": spec.local_start.strftime("%H:%M"),
        "end": spec.local_end.strftime("%H:%M"),
        "fee": f"{spec.fee:.2f}",
        "capacity": spec.capacity,
    }
