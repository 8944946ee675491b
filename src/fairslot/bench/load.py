"""The release burst: ``K`` concurrent clients against the public HTTP API only.

Each client is a channel's server relaying its own share of the identities (each
identity: an account bound to one patient, its own device and network). At the release
instant every client fires at once and keeps going, as grab software does, until the
duration or the request budget runs out:

1. hold a slot of a scarce session — a free slot it saw in its last availability answer,
   or else by session id (the lowest free slot, the one everybody fights over);
2. confirm the hold with a payment if it got one;
3. poll availability of the scarce clinic for the release day (the slot radar).

Every request's endpoint, status, refusal code and latency is recorded. Connections are
opened before the release (a channel's servers keep theirs open), so the burst measures
requests, not TCP handshakes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import re
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from fairslot.bench.scenario import Identity, Release
from fairslot.bench.stats import Sample, percentile

# Refusals are {"error": code, ...}; reading the code needs no full JSON parse of the
# (sometimes long: alternatives) body.
_ERROR_CODE = re.compile(rb'"error"\s*:\s*"([A-Za-z0-9_]{1,64})"')


@dataclass(frozen=True)
class LoadPlan:
    base_url: str
    clients: int
    identities: Sequence[Identity]
    duration_s: float
    max_requests: int | None = None
    think_s: float = 0.0  # pause between a client's rounds (0: as fast as answers come)
    seed: int = 0
    timeout_s: float = 120.0


@dataclass
class LoadResult:
    samples: list[Sample]
    release_at: datetime
    seconds: float  # from the release instant to the last answer


@dataclass
class _Budget:
    deadline: float
    remaining: int | None
    samples: list[Sample] = field(default_factory=list)

    def take(self) -> bool:
        if time.perf_counter() >= self.deadline:
            return False
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


def run(plan: LoadPlan, *, release: Callable[[], Release]) -> tuple[LoadResult, Release]:
    """Open the connections, call ``release`` (which pushes the sessions and names the
    release instant, a moment ahead), wait for that instant, then fire."""
    return asyncio.run(_run(plan, release=release))


async def _run(plan: LoadPlan, *, release: Callable[[], Release]) -> tuple[LoadResult, Release]:
    # One connection per client, K in all. A client (and pool) of its own each: a shared
    # pool of K connections costs the load generator time proportional to K per request
    # (httpcore scans its connections), which would steal the server's CPU.
    _remember_missing_sniffio()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    # Plain HTTP, but each client would load the CA bundle into a TLS context of its own
    # (17 ms of CPU each): share one.
    tls = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(base_url=plan.base_url, limits=limits, timeout=plan.timeout_s, verify=tls)
        for _ in range(plan.clients)
    ]
    try:
        await asyncio.gather(*(client.get("/healthz") for client in clients))
        released = await asyncio.to_thread(release)
        wait = (released.release_at - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, wait))
        started = time.perf_counter()
        budget = _Budget(deadline=started + plan.duration_s, remaining=plan.max_requests)
        await asyncio.gather(
            *(
                _client(client, plan=plan, n=n, budget=budget, released=released)
                for n, client in enumerate(clients)
            )
        )
        seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return (
        LoadResult(samples=budget.samples, release_at=released.release_at, seconds=seconds),
        released,
    )


@dataclass(frozen=True)
class Ceiling:
    """The same clients against ``GET /healthz``: HTTP, the framework and one thread-pool
    hop, no database and no platform code. No endpoint of this server can answer faster,
    so it bounds what the hot path could reach on this machine."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def ceiling(base_url: str, *, clients: int, seconds: float, timeout_s: float = 120.0) -> Ceiling:
    """``clients`` connections ask ``/healthz`` as fast as answers come for ``seconds``."""
    return asyncio.run(_ceiling(base_url, clients=clients, seconds=seconds, timeout_s=timeout_s))


async def _ceiling(base_url: str, *, clients: int, seconds: float, timeout_s: float) -> Ceiling:
    _remember_missing_sniffio()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()
    pool = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout_s, verify=tls)
        for _ in range(clients)
    ]
    latencies: list[float] = []

    async def ask(client: httpx.AsyncClient, deadline: float) -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                answer = await client.get("/healthz")
            except httpx.HTTPError:
                continue
            if answer.status_code == 200:
                latencies.append((time.perf_counter() - began) * 1000)

    try:
        await asyncio.gather(*(client.get("/healthz") for client in pool))  # connect first
        started = time.perf_counter()
        await asyncio.gather(*(ask(client, started + seconds) for client in pool))
        took = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    return Ceiling(
        requests=len(latencies),
        seconds=took,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )


def _remember_missing_sniffio() -> None:
    """httpcore imports ``sniffio`` on every request to learn which event loop runs it.
    Where it is not installed, each failed import searches the whole path again: 0.4 ms
    of the load generator's CPU per request, taken from the server on the same machine.
    Record the absence once, as a ``None`` entry in ``sys.modules`` does; the import
    then fails at once, as it would have anyway."""
    if importlib.util.find_spec("sniffio") is None:
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


class _Stop(Exception):
    """The duration or the request budget ran out."""


async def _client(
    client: httpx.AsyncClient, *, plan: LoadPlan, n: int, budget: _Budget, released: Release
) -> None:
    try:
        await _rounds(client, plan=plan, n=n, budget=budget, released=released)
    except _Stop:
        return


async def _rounds(
    client: httpx.AsyncClient, *, plan: LoadPlan, n: int, budget: _Budget, released: Release
) -> None:
    rng = random.Random(plan.seed * 1_000_003 + n)
    mine = list(plan.identities[n :: plan.clients]) or [plan.identities[n % len(plan.identities)]]
    rng.shuffle(mine)
    seen_free: list[str] = []
    turn = 0
    while True:
        who = mine[turn % len(mine)]
        turn += 1
        headers = {
            "X-Channel-Key": who.channel_key,
            "X-Device-Id": who.device_id,
            "X-End-User-IP": who.ip,
            "User-Agent": "fairslot-bench",
        }
        target: dict[str, Any] = (
            {"slot_id": rng.choice(seen_free)}
            if seen_free
            else {"session_id": rng.choice(released.scarce_session_ids)}
        )
        hold = await _send(
            client,
            budget,
            "hold",
            "POST",
            "/v1/holds",
            headers=headers,
            json={"account_id": who.account_id, "patient_id": who.patient_id, **target},
        )
        if hold is not None and hold.status_code == 201:
            await _send(
                client,
                budget,
                "confirm",
                "POST",
                f"/v1/bookings/{hold.json()['booking_id']}/confirm",
                headers=headers,
                json={
                    "account_id": who.account_id,
                    "payment_account": f"bench-pay-{who.account_id}",
                    "payment_reference": f"BENCH-{who.account_id}-{turn}",
                },
            )
        polled = await _send(
            client,
            budget,
            "availability",
            "GET",
            "/v1/availability",
            headers=headers,
            params={
                "department_id": released.department_id,
                "date_from": _iso(released.session_date),
                "date_to": _iso(released.session_date),
            },
        )
        seen_free = _free_slots(polled, sessions=released.scarce_session_ids) if polled else []
        if plan.think_s > 0:
            await asyncio.sleep(plan.think_s * rng.uniform(0.5, 1.5))


async def _send(
    client: httpx.AsyncClient,
    budget: _Budget,
    endpoint: str,
    method: str,
    url: str,
    **kwargs: Any,
) -> httpx.Response | None:
    """Send one request and record it; None if no answer came. Raises :class:`_Stop`,
    sending nothing, once the run is over."""
    if not budget.take():
        raise _Stop
    began = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        budget.samples.append(
            Sample(endpoint, 0, (time.perf_counter() - began) * 1000, type(exc).__name__)
        )
        return None
    ms = (time.perf_counter() - began) * 1000
    code = None
    if response.status_code >= 400:
        match = _ERROR_CODE.search(response.content[:256])
        code = match[1].decode() if match else None
    budget.samples.append(Sample(endpoint, response.status_code, ms, code))
    return response


def _free_slots(response: httpx.Response, *, sessions: Sequence[int]) -> list[str]:
    if response.status_code != 200:
        return []
    wanted = set(sessions)
    return [
        slot["slot_id"]
        for session in response.json()
        if session["session_id"] in wanted
        for slot in session["slots"]
    ]


def _iso(day: date) -> str:
    return day.isoformat()
