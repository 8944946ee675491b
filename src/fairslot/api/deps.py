"""Request dependencies: the platform, one transaction per request, and authentication.

The edge owns the transaction: ``db`` commits when the endpoint returns and rolls back
when it raises. Services only flush.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Annotated, TypeVar

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fairslot.audit import service as audit
from fairslot.audit.recorder import RecordBuffer
from fairslot.audit.service import PendingRecord
from fairslot.blacklist import gate as blacklist_gate
from fairslot.blacklist.models import Scope
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.models import Booking
from fairslot.bootstrap import Platform
from fairslot.channels import repository as channel_repo
from fairslot.channels.models import Channel
from fairslot.context import RequestContext, client_step, edge_context
from fairslot.crypto import hash_api_key
from fairslot.db.core import discard
from fairslot.errors import DomainError, InvalidInput, Unauthorized
from fairslot.gate import realtime
from fairslot.gate import repository as gate_repo
from fairslot.gate.proxies import client_address, parse_networks
from fairslot.gate.ratelimit import RateLimited, Subject
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals.models import Hospital
from fairslot.observability import record as observe
from fairslot.patients import repository as patient_repo
from fairslot.patients.identity import IdentityError, normalise_phone

T = TypeVar("T")


async def get_platform(request: Request) -> Platform:
    """The platform (``async``: no I/O, so FastAPI runs it on the event loop instead of
    sending it to the thread pool like a plain ``def`` dependency: one thread hop less on
    every request)."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_db(request: Request, platform: PlatformDep) -> AsyncIterator[Session]:
    """The request's session; commits what the endpoint left uncommitted, or rolls back
    and records the refusal.

    ``async``: making a session does no I/O, and neither does closing one whose endpoint
    committed its work (:func:`done`) with no record left to write — the usual end — so
    both happen on the event loop: two trips to the thread pool less per request than a
    sync generator dependency makes. Any end that talks to the database (a refusal's
    rollback and record, an uncommitted transaction) runs in a worker thread of its own,
    outside the pool's limit (a fresh limiter, as FastAPI's own teardown of a sync
    dependency): a refused request leaves its endpoint with its connection, and waiting
    for a pool thread while holding it would let every thread wait for a connection
    (measured: 200 concurrent holds on SQLite, 503s after the pool timeout instead of
    409s in 3.5 s).
    """
    session = platform.sessions()
    try:
        yield session
    except BaseException as exc:
        with CancelScope(shield=True):
            await to_thread.run_sync(
                end_refused, request, session, exc, platform, limiter=CapacityLimiter(1)
            )
        raise
    if getattr(request.state, "audit", None) is None and not session.in_transaction():
        session.close()
        return
    with CancelScope(shield=True):
        await to_thread.run_sync(end_ok, request, session, platform, limiter=CapacityLimiter(1))


def end_ok(request: Request, session: Session, platform: Platform) -> None:
    """Commit what the endpoint left, with its request record."""
    try:
        pending = getattr(request.state, "audit", None)
        if pending is not None:
            audit.write(session, pending=pending, outcome="ok", buffer=platform.records)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def end_refused(request: Request, session: Session, exc: BaseException, platform: Platform) -> None:
    """Discard the work (unless the refusal keeps its changes: ``db/core.py::discard``,
    a rollback unless nothing was written) and record a refusal."""
    try:
        if isinstance(exc, DomainError):
            if not exc.keep_changes:
                discard(session)
            _record_refusal(request, session, exc, buffer=platform.records)
        else:
            session.rollback()
    finally:
        session.close()


def commit(request: Request, db: Session) -> None:
    """Commit the request's work now, inside the endpoint's own worker thread.

    An endpoint calls this once its response is built. Leaving the commit to the
    dependency's teardown would keep the claim's row lock (or SQLite's write lock) until
    after response validation, which needs a worker thread of its own: with every thread
    waiting on that lock, the request holding it could never finish.
    """
    pending = getattr(request.state, "audit", None)
    if pending is not None:
        platform: Platform = request.app.state.platform
        audit.write(db, pending=pending, outcome="ok", buffer=platform.records)
        request.state.audit = None
    db.commit()


@dataclass(frozen=True)
class Screened:
    """What the gate read about the request, handed on to its use case so that it is not
    read again: the patient's key and, for a confirmation, the acting account's own
    booking (None where the gate found none)."""

    patient_key: str | None = None
    booking: Booking | None = None


def gate(
    db: Session,
    platform: Platform,
    ctx: RequestContext,
    *,
    record: PendingRecord,
    patient_id: int | None = None,
    patient_key: str | None = None,
    phone: str | None = None,
) -> Screened:
    """Refuse the request (403 ``request_blocked``) if any identifier it carries is on the
    blacklist: its account, device, network, patient, phone or payment account (the hash
    already on ``record``); then decide on its velocity signals (``gate/realtime.py``).
    The decision and its reasons are written on ``record``, the request's record. What
    it read comes back (:class:`Screened`) for the use case to reuse."""
    # A confirmation names only its booking: its patient is checked like a hold's, so a
    # patient blacklisted between hold and payment cannot pay (read once, shared below).
    booking = _own_booking(db, record) if record.action == "confirm" else None
    if booking is not None and patient_id is None:
        patient_id = booking.patient_id
    if patient_id is None and patient_key:  # a binding by ID number: known already?
        by_key = patient_repo.patient_by_id_hash(db, patient_key)
        patient_id = by_key.id if by_key is not None else None
    phone_hash = None
    if phone:
        with suppress(IdentityError):  # an invalid number is refused by the service
            phone_hash = platform.protector.keyed_hash(normalise_phone(phone), purpose="phone")
    settings, now = platform.settings, platform.clock.now()
    asked = (
        realtime.asks(db, record=record, settings=settings, now=now, patient_id=patient_id)
        if settings.velocity_enabled
        else realtime.Asks()
    )
    # The patient's keys, the blacklist (FAIRSLOT_GATE_ENABLED=false, the simulator's
    # baseline only, skips it) and the velocity signals: one statement.
    reads = gate_repo.signal_reads(
        db,
        asked,
        patient=gate_repo.PatientAsk(patient_id) if patient_id is not None else None,
        blacklist=gate_repo.BlacklistAsk(
            keys=tuple(_request_keys(ctx, record, patient_id, patient_key, phone_hash)),
            now=now,
            patient_keys=patient_id is not None,
            patient_phone=phone_hash is None,
        )
        if settings.gate_enabled
        else None,
    )
    if reads.patient_key is not None:
        record.patient_key = reads.patient_key
    if reads.blocked:
        record.decision, record.reasons = "block", "blacklisted"
        _count_decision(record)
        raise blacklist_gate.refusal()
    try:
        realtime.screen(
            db,
            record=record,
            settings=settings,
            now=now,
            patient_id=patient_id if reads.patient_key is not None else None,
            booking=booking,
            reads=reads,
            lane=realtime.slow_lane(platform.extras, max_waiting=settings.suspect_max_concurrent),
        )
    finally:  # a velocity block is raised once its decision is on the record
        _count_decision(record)
    return Screened(patient_key=record.patient_key, booking=booking)


def _request_keys(
    ctx: RequestContext,
    record: PendingRecord,
    patient_id: int | None,
    patient_key: str | None,
    phone_hash: str | None,
) -> list[tuple[Scope, str]]:
    """The (scope, key) pairs the request is blacklisted under that are known without a
    read: a known patient's own keys are matched in the gate's statement instead; a phone
    the request names stands for the patient's."""
    return blacklist_gate.keys_of(
        blacklist_gate.Identifiers(
            patient_key=patient_key if patient_id is None else None,
            phone_hash=phone_hash,
            account_id=ctx.account_id,
            device_key=ctx.device_key,
            ip_key=ctx.ip_key,
            wifi_key=ctx.wifi_key,
            payment_account_hash=record.payment_account_hash,
        ),
        protector=None,
    )


def _count_decision(record: PendingRecord) -> None:
    """Count the gate's decision for /metrics (``observability/record.py``)."""
    if record.decision is not None:
        observe.gate_decision(action=record.action, decision=record.decision)


def _own_booking(db: Session, record: PendingRecord) -> Booking | None:
    """The booking a confirmation names, if it belongs to the acting account."""
    if not record.booking_id:
        return None
    booking = booking_repo.get_booking(db, record.booking_id)
    return booking if booking is not None and booking.account_id == record.account_id else None


def done(request: Request, db: Session, value: T) -> T:
    """Commit (see :func:`commit`) and hand back the already-built response value."""
    commit(request, db)
    return value


def _record_refusal(
    request: Request, session: Session, exc: DomainError, *, buffer: RecordBuffer | None
) -> None:
    """A refused request is still evidence (a radar, a grab script): record it after the
    rollback, in a transaction of its own (or with the work a refusal keeps), or in the
    next batch of records (``audit/recorder.py``)."""
    pending = getattr(request.state, "audit", None)
    if pending is not None:
        pending.alone = pending.alone or not exc.keep_changes  # rolled back: only the record
        audit.write(session, pending=pending, outcome=exc.code, buffer=buffer)
    session.commit()


DbDep = Annotated[Session, Depends(get_db)]


async def current_channel(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    x_channel_key: Annotated[str | None, Header()] = None,
) -> Channel:
    """The channel of the request's API key. ``async``: a key recalled from the memo
    needs no I/O, so most requests resolve it on the event loop; only a look-up in the
    database goes to the thread pool."""
    if not x_channel_key:
        raise Unauthorized(
            "Send the channel's API key in the X-Channel-Key header.", code="channel_key_missing"
        )
    key_hash = hash_api_key(x_channel_key)
    channel = _recalled_channel(db, platform, key_hash)
    if channel is None:
        channel = await run_in_threadpool(channel_by_key, db, platform, key_hash)
    if channel is None or not channel.active:
        raise Unauthorized("The channel API key is not valid.", code="channel_key_invalid")
    request.state.channel_code = channel.code  # for the access log (api/access_log.py)
    return channel


def _recalled_channel(db: Session, platform: Platform, key_hash: str) -> Channel | None:
    """The channel of an API key, recalled for a moment (``memos.channels``): every
    channel request asks it. A deactivated channel or a replaced key is refused within
    the memo's lifetime. The memo keeps a detached copy; each request works on its own
    instance in its own session (``merge`` without a query: no I/O), so no request's
    rollback can expire another's channel."""
    known = platform.memos.channels.get(key_hash, now=platform.clock.now())
    return None if known is None else db.merge(known, load=False)


def channel_by_key(db: Session, platform: Platform, key_hash: str) -> Channel | None:
    """The channel of an API key, read from the database and remembered.

    When the memo lapses, every request then in flight misses it on the event loop and
    queues here; the first to run refills it, so the others look again before reading."""
    recalled = _recalled_channel(db, platform, key_hash)
    if recalled is not None:
        return recalled
    channel = channel_repo.by_key_hash(db, key_hash)
    end_lookup(db)
    if channel is None:
        return None
    db.expunge(channel)
    platform.memos.channels.put(key_hash, channel, now=platform.clock.now())
    return db.merge(channel, load=False)


def end_lookup(db: Session) -> None:
    """End the authentication look-up's transaction at once.

    Each sync dependency runs in a worker thread of its own; a transaction left open here
    (on SQLite, one that holds the write lock) would wait for the endpoint's thread while
    every thread waits for the lock. The request's real transaction starts in the endpoint.
    Loaded objects stay usable: sessions do not expire them on commit.
    """
    db.commit()


ChannelDep = Annotated[Channel, Depends(current_channel)]


def current_hospital(
    request: Request, db: DbDep, x_hospital_key: Annotated[str | None, Header()] = None
) -> Hospital:
    if not x_hospital_key:
        raise Unauthorized(
            "Send the hospital's API key in the X-Hospital-Key header.", code="hospital_key_missing"
        )
    hospital = hospitals_repo.by_key_hash(db, hash_api_key(x_hospital_key))
    end_lookup(db)
    if hospital is None:
        raise Unauthorized("The hospital API key is not valid.", code="hospital_key_invalid")
    request.state.hospital_code = hospital.code  # for the access log
    return hospital


HospitalDep = Annotated[Hospital, Depends(current_hospital)]


async def request_context(
    request: Request,
    platform: PlatformDep,
    channel: ChannelDep,
    x_device_id: Annotated[str | None, Header(max_length=128)] = None,
    x_wifi_id: Annotated[str | None, Header(max_length=128)] = None,
    x_end_user_ip: Annotated[str | None, Header(max_length=64)] = None,
    user_agent: Annotated[str | None, Header()] = None,
    x_client_step_ms: Annotated[str | None, Header()] = None,
) -> RequestContext:
    """The end user's context as relayed by an authenticated channel.

    A channel's server is the HTTP client, so the end user's IP is the channel's word
    (``X-End-User-IP``). That header is believed only because this dependency runs after
    the channel's API key was checked: no anonymous caller reaches it. Without it, the IP
    is the HTTP client's as the trusted proxies report it (:func:`client_ip`).

    ``async``: nothing here waits on I/O but Redis rate-limit windows, which are counted
    in the thread pool; with in-memory windows the whole dependency runs on the event
    loop, one trip to the thread pool less per request.
    """
    ctx, subjects = end_user(
        request,
        platform,
        channel_id=channel.id,
        device_id=x_device_id,
        wifi_id=x_wifi_id,
        end_user_ip=x_end_user_ip,
        user_agent=user_agent,
        client_step_ms=x_client_step_ms,
    )
    try:
        await count(platform, subjects)
    except RateLimited:
        # A throttled grab script is evidence too: record the refusal (get_db writes it).
        request.state.audit = PendingRecord(
            action=action_of(request), at=platform.clock.now(), ctx=ctx
        )
        raise
    return ctx


def end_user(
    request: Request,
    platform: Platform,
    *,
    channel_id: int,
    device_id: str | None,
    wifi_id: str | None,
    end_user_ip: str | None,
    user_agent: str | None,
    client_step_ms: str | None,
) -> tuple[RequestContext, list[Subject]]:
    """The end user's context as the channel relays it, and the rate-limit subjects its
    request counts against (no I/O; ``end_user_ip`` invalid: 422 ``invalid_end_user_ip``)."""
    peer = client_ip(request, platform)
    ip = _valid_ip(end_user_ip) if end_user_ip else peer
    # The raw identifiers stop here: the context, and so every row and rate-limit window
    # after it, holds their keyed hashes (``context.py``).
    ctx = edge_context(
        protector=platform.protector,
        actor="patient",
        channel_id=channel_id,
        device_id=device_id,
        ip=ip,
        wifi_id=wifi_id,
        user_agent=(user_agent or "")[:256] or None,
        # Stamped here, on the event loop, before the request waits for a worker thread:
        # the gate's pace is the client's, not the queue's (``gate/realtime.py``).
        arrived_at=platform.clock.now(),
        client_step_ms=client_step(client_step_ms),
    )
    # Without the end user's IP the peer is the channel's own server, shared by all its
    # users: limiting on it would let one bot throttle a whole channel.
    subjects = [Subject("ip", ctx.ip_key)] if end_user_ip and ctx.ip_key else []
    if ctx.device_key:
        subjects.append(Subject("device", ctx.device_key))
    if not subjects:
        # A request that names neither its device nor its end user is counted as the
        # channel's one anonymous client: leaving both out must not buy unlimited polls.
        subjects.append(Subject("channel", str(channel_id)))
    return ctx, subjects


async def count(platform: Platform, subjects: list[Subject]) -> None:
    """Count the request against its subjects' rate limits (429 ``rate_limited`` past
    one): on the event loop (in-memory windows, or Redis through its asyncio client),
    else in the thread pool."""
    limiter = platform.limiter
    if limiter.counts_on_loop:
        await limiter.count(*subjects)
    else:
        await run_in_threadpool(limiter.hit, *subjects)


def client_ip(request: Request, platform: Platform) -> str | None:
    """The HTTP client's address: the peer, or behind trusted proxies
    (``FAIRSLOT_TRUSTED_PROXIES``) the right-most untrusted X-Forwarded-For address."""
    return client_address(
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.getlist("x-forwarded-for"),
        trusted=parse_networks(tuple(platform.settings.trusted_proxies)),
    )


def action_of(request: Request) -> str:
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    return str(name or request.url.path)[:32]


def _valid_ip(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError as exc:
        raise InvalidInput(
            "X-End-User-IP must be an IPv4 or IPv6 address.", code="invalid_end_user_ip"
        ) from exc


def for_account(
    request: Request, platform: Platform, ctx: RequestContext, account_id: int
) -> RequestContext:
    """The context of a request acting for ``account_id``, counted against its rate limit."""
    ctx = replace(ctx, account_id=account_id)
    # The access log writes only a keyed hash of it (api/access_log.py).
    request.state.log_subject = f"account:{account_id}"
    try:
        platform.limiter.hit(Subject("account", str(account_id)))
    except RateLimited:
        request.state.audit = PendingRecord(
            action=action_of(request), at=platform.clock.now(), ctx=ctx, account_id=account_id
        )
        raise
    return ctx


ContextDep = Annotated[RequestContext, Depends(request_context)]
