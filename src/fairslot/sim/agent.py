"""One account's way into the platform, shared by every kind of actor.

An :class:`Agent` is what a channel app does for its user: open the account, bind the
patients, browse, hold, pay, cancel, register an intent, join a waitlist. Only the
public channel API is used. Pace and tactics belong to the actors.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fairslot.sim.accounting import Via
from fairslot.sim.client import Answer, Api, Recorder, SimTime, Tracked, Who
from fairslot.sim.scenario import AccountSpec, Scenario

# Refusals that mean "no capacity here": the body carries ranked alternatives.
CAPACITY = frozenset({"slot_taken", "session_full"})
# A hold in a release batch's window is an entry (202): its result is read at result_at,
# then every few seconds until the batch has run (the worker's sweep interval).
BATCH_ENTRY = "release_batch_entry"
BATCH_POLL_S = 5.0


@dataclass
class Stage:
    """What every actor of one simulated day shares."""

    api: Api
    time: SimTime
    scenario: Scenario
    session_date: date
    hospital_codes: tuple[str, ...]  # the platform's code of each scenario hospital
    recorder: Recorder = field(init=False)

    def __post_init__(self) -> None:
        self.recorder = self.api.recorder


class Agent:
    def __init__(
        self,
        stage: Stage,
        *,
        actor: str,
        account: AccountSpec,
        who: Callable[[str | None], Who],
    ) -> None:
        self.stage = stage
        self.actor = actor
        self.account = account
        self.who = who
        self.account_id: int | None = None
        self.patients: dict[str, int] = {}
        self._departments: dict[tuple[int, str], int] = {}
        self.modes: dict[int, str] = {}  # department id -> allocation_mode its card showed
        self._references = itertools.count(1)

    async def call(
        self,
        method: str,
        path: str,
        *,
        person: str | None,
        action: str,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Answer:
        return await self.stage.api.channel(
            method,
            path,
            who=self.who(person),
            channel=self.account.channel,
            action=action,
            json=json,
            params=params,
        )

    # -- the account and its patients ---------------------------------------------------

    async def open_account(self) -> bool:
        # Counted against the account holder: a refusal here (a blocked phone) is theirs.
        answer = await self.call(
            "POST",
            "/v1/accounts",
            person=self.account.persons[0],
            action="register",
            json={"phone": self.account.phone},
        )
        if answer.ok:
            self.account_id = int(answer.field("account_id"))
            self.stage.recorder.accounts[self.account_id] = self.account.persons
        return answer.ok

    async def bind(self, person: str) -> bool:
        if self.account_id is None:
            return False
        if person in self.patients:
            return True
        who = self.stage.scenario.persons[person]
        answer = await self.call(
            "POST",
            f"/v1/accounts/{self.account_id}/patients",
            person=person,
            action="bind",
            json={
                "name": who.name,
                "id_number": who.id_number,
                "phone": who.phone,
                "relation": who.relation,
            },
        )
        if answer.ok:
            self.patients[person] = int(answer.field("patient_id"))
            self.stage.recorder.patients[self.patients[person]] = person
        return answer.ok

    async def prepare(self, persons: tuple[str, ...]) -> None:
        if await self.open_account():
            for person in persons:
                await self.bind(person)

    # -- browsing -------------------------------------------------------------------------

    async def hospital_id(self, hospital: int, *, person: str | None) -> int | None:
        answer = await self.call("GET", "/v1/hospitals", person=person, action="hospitals")
        code = self.stage.hospital_codes[hospital]
        for card in answer.body if answer.ok else []:
            if card.get("code") == code:
                return int(card["id"])
        return None

    async def department_id(
        self, hospital: int, code: str, *, person: str | None, hospital_id: int | None = None
    ) -> int | None:
        """Browse to a department (once per actor; later calls use what was seen)."""
        if (hospital, code) in self._departments:
            return self._departments[(hospital, code)]
        hospital_id = hospital_id or await self.hospital_id(hospital, person=person)
        if hospital_id is None:
            return None
        answer = await self.call(
            "GET", f"/v1/hospitals/{hospital_id}/departments", person=person, action="departments"
        )
        for card in answer.body if answer.ok else []:
            if card.get("code") == code:
                self._departments[(hospital, code)] = int(card["id"])
                self.modes[int(card["id"])] = str(card.get("allocation_mode") or "")
        return self._departments.get((hospital, code))

    async def doctors(self, department_id: int, *, person: str | None) -> Answer:
        return await self.call(
            "GET", f"/v1/departments/{department_id}/doctors", person=person, action="doctors"
        )

    async def availability(
        self, department_id: int, *, person: str | None, title: str | None = None
    ) -> list[dict[str, Any]]:
        day = self.stage.session_date.isoformat()
        params: dict[str, Any] = {"department_id": department_id, "date_from": day, "date_to": day}
        if title:
            params["title"] = title
        answer = await self.call(
            "GET", "/v1/availability", person=person, action="availability", params=params
        )
        return list(answer.body) if answer.ok else []

    # -- booking ------------------------------------------------------------------------

    def _payment(self, account: str) -> dict[str, str]:
        return {
            "payment_account": account,
            "payment_reference": f"{self.actor}-{next(self._references)}",
        }

    async def hold(
        self, person: str, *, slot_id: str | None = None, session_id: int | None = None
    ) -> Answer:
        body: dict[str, Any] = {"account_id": self.account_id, "patient_id": self.patients[person]}
        body |= {"slot_id": slot_id} if slot_id else {"session_id": session_id}
        return await self.call("POST", "/v1/holds", person=person, action="hold", json=body)

    async def confirm(self, person: str, booking_id: str, *, payment: str) -> Answer:
        return await self.call(
            "POST",
            f"/v1/bookings/{booking_id}/confirm",
            person=person,
            action="confirm",
            json={"account_id": self.account_id} | self._payment(payment),
        )

    async def book(
        self,
        person: str,
        *,
        payment: str,
        via: Via,
        pause_s: float,
        slot_id: str | None = None,
        session_id: int | None = None,
    ) -> tuple[str | None, Answer]:
        """Hold, pause ``pause_s`` simulated seconds (reading, paying), confirm.

        A hold in a release batch's window enters the batch (202): then wait for its
        result, and pay for a won slot like any hold. Returns the booking id once
        confirmed, else None with the refusal (or the lost entry).
        """
        held = await self.hold(person, slot_id=slot_id, session_id=session_id)
        if held.ok and held.field("kind") == BATCH_ENTRY:
            held = await self.batch_result(person, held)
            if held.field("status") != "won" or not held.field("booking_id"):
                return None, held
        if not held.ok:
            return None, held
        booking_id = str(held.field("booking_id"))
        await self.stage.time.sleep(pause_s)
        confirmed = await self.confirm(person, booking_id, payment=payment)
        if not confirmed.ok:
            return None, confirmed
        self.track_booking(booking_id, person=person, via=via)
        return booking_id, confirmed

    async def batch_result(self, person: str, entry: Answer) -> Answer:
        """The release-batch entry ``entry`` once its batch has run (or as it stands when
        the day ends)."""
        time = self.stage.time
        result_at = entry.field("result_at")
        if result_at:
            await time.until(datetime.fromisoformat(str(result_at)))
        entry_id = str(entry.field("entry_id"))
        while True:
            answer = await self.call(
                "GET",
                f"/v1/batch-entries/{entry_id}",
                person=person,
                action="batch_entry_status",
                params={"account_id": self.account_id},
            )
            if answer.ok and answer.field("status") != "registered":
                return answer
            if time.over():
                return answer
            await time.sleep(BATCH_POLL_S)

    async def cancel(self, person: str, booking_id: str) -> Answer:
        return await self.call(
            "POST",
            f"/v1/bookings/{booking_id}/cancel",
            person=person,
            action="cancel",
            json={"account_id": self.account_id},
        )

    async def intent(self, person: str, *, department_id: int, title: str, payment: str) -> Answer:
        answer = await self.call(
            "POST",
            "/v1/intents",
            person=person,
            action="intent",
            json={
                "account_id": self.account_id,
                "patient_id": self.patients[person],
                "department_id": department_id,
                "date": self.stage.session_date.isoformat(),
                "title": title,
            }
            | self._payment(payment),
        )
        if answer.ok:
            self.stage.recorder.intents[str(answer.field("id"))] = self._tracked(person, Via.DRAW)
        return answer

    async def intent_status(self, person: str, intent_id: str) -> Answer:
        answer = await self.call(
            "GET",
            f"/v1/intents/{intent_id}",
            person=person,
            action="intent_status",
            params={"account_id": self.account_id},
        )
        if answer.ok and answer.field("booking_id"):
            self.track_booking(str(answer.field("booking_id")), person=person, via=Via.DRAW)
        return answer

    async def join_waitlist(self, person: str, *, session_id: int, payment: str) -> Answer:
        answer = await self.call(
            "POST",
            "/v1/waitlist",
            person=person,
            action="waitlist_join",
            json={
                "account_id": self.account_id,
                "patient_id": self.patients[person],
                "session_id": session_id,
            }
            | self._payment(payment),
        )
        if answer.ok:
            entry = str(answer.field("waitlist_id"))
            self.stage.recorder.waitlist[entry] = self._tracked(person, Via.WAITLIST)
        return answer

    async def alternatives(self, person: str, *, session_id: int) -> list[dict[str, Any]]:
        answer = await self.call(
            "GET",
            "/v1/alternatives",
            person=person,
            action="alternatives",
            params={
                "session_id": session_id,
                "patient_id": self.patients[person],
                "account_id": self.account_id,
            },
        )
        return list(answer.body) if answer.ok else []

    def track_booking(self, booking_id: str, *, person: str, via: Via) -> None:
        self.stage.recorder.booking(booking_id, self._tracked(person, via))

    def _tracked(self, person: str, via: Via) -> Tracked:
        assert self.account_id is not None
        return Tracked(
            person=person, account_id=self.account_id, channel=self.account.channel, via=via
        )


# Modes where an intent before the release is how the app lets a patient in.
ENTRY_MODES = frozenset({"draw", "release_batch"})


def enters_ahead(mode: str | None) -> bool:
    """Whether a patient registers an intent before the release for a department showing
    ``mode`` (a draw or a release batch takes entries ahead; an unknown mode is tried)."""
    return mode in ENTRY_MODES or not mode
