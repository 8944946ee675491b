"""The simulator's only way into the platform: its public HTTP API, with httpx.

Every request is recorded (simulated time, actor, identity, action, status, error code);
what the actors learn about their bookings, intents, waitlist entries and transfers is
recorded too, for the accounting. Simulated time comes from the same accelerated clock
the platform runs on (same start, speed and anchor), so nobody has to ask for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from fairslot.clock import AcceleratedClock
from fairslot.sim.accounting import RequestEvent, TransferFact, Via, WishFact
from fairslot.sim.scenario import Device

TRANSPORT_ERROR = "transport_error"


class SimTime:
    """Simulated time as the actors live it: the day's landmarks, and sleeping on it."""

    def __init__(self, clock: AcceleratedClock, *, release_at: datetime, ends_at: datetime) -> None:
        self.clock = clock
        self.release_at = release_at
        self.ends_at = ends_at

    def now(self) -> datetime:
        return self.clock.now()

    def at(self, offset_s: float) -> datetime:
        """The instant ``offset_s`` simulated seconds after the release."""
        return self.release_at + timedelta(seconds=offset_s)

    def over(self) -> bool:
        return self.now() >= self.ends_at

    async def until(self, when: datetime) -> None:
        wait = self.clock.real_seconds_until(when)
        if wait > 0:
            await asyncio.sleep(wait)

    async def sleep(self, seconds: float) -> None:
        await self.until(self.now() + timedelta(seconds=max(0.0, seconds)))


@dataclass(frozen=True)
class Who:
    """Who sends a request and from where: an actor, maybe an identity, a device."""

    actor: str
    person: str | None
    device: Device
    ip: str | None = None  # a proxy's address instead of the device's own

    def headers(self) -> dict[str, str]:
        headers = {
            "X-Device-Id": self.device.device_id,
            "X-End-User-IP": self.ip or self.device.ip,
            "User-Agent": self.device.user_agent,
        }
        if self.device.wifi_id:
            headers["X-Wifi-Id"] = self.device.wifi_id
        return headers


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str | None:
        if self.status == 0:
            return TRANSPORT_ERROR
        if isinstance(self.body, dict) and not self.ok:
            error = self.body.get("error")
            return str(error) if error is not None else None
        return None

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None


@dataclass(frozen=True)
class Tracked:
    """Something an identity holds on the platform, and how to look it up again."""

    person: str
    account_id: int
    channel: str
    via: Via


@dataclass
class Recorder:
    """What happened during a day, as the simulator saw it."""

    requests: list[RequestEvent] = field(default_factory=list)
    wishes: dict[str, WishFact] = field(default_factory=dict)
    bookings: dict[str, Tracked] = field(default_factory=dict)
    intents: dict[str, Tracked] = field(default_factory=dict)
    waitlist: dict[str, Tracked] = field(default_factory=dict)
    transfers: list[TransferFact] = field(default_factory=list)
    patients: dict[int, str] = field(default_factory=dict)  # platform patient id -> person
    # platform account id -> the persons the account was opened for
    accounts: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # persons with an entry (draw intent or release-batch entry) held out for review at
    # the end of the day
    held: set[str] = field(default_factory=set)

    def wish_started(self, person: str, *, scarce: bool, at: datetime) -> None:
        self.wishes.setdefault(person, WishFact(person=person, scarce=scarce, started_at=at))

    def booking(self, booking_id: str, tracked: Tracked) -> None:
        # The first way a booking was learned of is how it came about.
        self.bookings.setdefault(booking_id, tracked)


class Api:
    """Sends requests as channels (X-Channel-Key) or hospitals (X-Hospital-Key)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        clock: AcceleratedClock,
        recorder: Recorder,
        channel_keys: dict[str, str],
    ) -> None:
        self.http = http
        self.clock = clock
        self.recorder = recorder
        self.channel_keys = channel_keys

    async def channel(
        self,
        method: str,
        path: str,
        *,
        who: Who,
        channel: str,
        action: str,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Answer:
        headers = who.headers() | {"X-Channel-Key": self.channel_keys[channel]}
        return await self._send(
            method, path, headers=headers, json=json, params=params, who=who, action=action
        )

    async def hospital(
        self,
        method: str,
        path: str,
        *,
        key: str,
        action: str,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Answer:
        return await self._send(
            method,
            path,
            headers={"X-Hospital-Key": key},
            json=json,
            params=params,
            who=None,
            action=action,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        json: dict[str, Any] | None,
        params: dict[str, Any] | None,
        who: Who | None,
        action: str,
    ) -> Answer:
        sent_at = self.clock.now()
        try:
            response = await self.http.request(
                method, path, headers=headers, json=json, params=params
            )
        except httpx.TransportError:
            # No answer at all: recorded as status 0, reported with the figures.
            answer = Answer(0, None)
        else:
            try:
                body: Any = response.json() if response.content else None
            except ValueError:  # e.g. a bare "Internal Server Error"
                body = response.text
            answer = Answer(response.status_code, body)
        self.recorder.requests.append(
            RequestEvent(
                at=sent_at,
                actor=who.actor if who else "hospital",
                person=who.person if who else None,
                action=action,
                status=answer.status,
                code=answer.code,
                seconds=(self.clock.now() - sent_at).total_seconds(),
            )
        )
        return answer
