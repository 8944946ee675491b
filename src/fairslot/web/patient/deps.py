"""Who is on the patient pages: the device cookie, the session cookie, the CSRF check,
and the request context the pages act with.

The pages are a channel like any other: every request carries the context of the
channel of kind ``hospital_app`` (``signin/service.py::pages_channel``), the browser's
device cookie and the client's address, and is counted against the same device, address
and account rate limits as a channel's request (``api/deps.py``). Use cases then run
through the same services, gate and request records as the channel API.

Session: the ``fairslot_patient`` cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)
holds a random token whose SHA-256 is stored (``signin/models.py::PatientSession``,
12 hours). Every POST carries a CSRF token bound to that session
(``web/security.py::csrf_token``; form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from starlette.responses import Response

from fairslot.api.deps import DbDep, PlatformDep, client_ip, end_lookup, for_account
from fairslot.audit.service import PendingRecord
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel, ChannelKind
from fairslot.context import RequestContext, edge_context
from fairslot.errors import DomainError, Forbidden
from fairslot.gate.ratelimit import RateLimited, RateLimiter, Subject, make_rate_limiter
from fairslot.notifications import feed
from fairslot.patients.identity import mask_phone
from fairslot.signin import service as signin
from fairslot.signin import sms
from fairslot.web.security import csrf_matches, csrf_token

SESSION_COOKIE = "fairslot_patient"
DEVICE_COOKIE = "fairslot_device"
ELDER_COOKIE = "fairslot_elder"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
YEAR = 365 * 24 * 3600


class PatientSignInRequired(DomainError):
    """No live patient session: pages redirect to ``/login``."""

    code = "sign_in_required"
    status = 401


@dataclass(frozen=True)
class PatientUser:
    """A signed-in patient's account as the pages act for it."""

    account_id: int
    phone_masked: str
    csrf: str
    ctx: RequestContext  # the channel's, the device's, the address's, and the account's
    channel_kind: ChannelKind
    zone: str
    unread: int = 0  # notifications not yet seen (the header's count)


def device_id(request: Request) -> str:
    """The browser's device cookie, or a new one (set on the response by ``finish``)."""
    known = request.cookies.get(DEVICE_COOKIE, "")
    if 16 <= len(known) <= 64 and known.replace("-", "").replace("_", "").isalnum():
        return known
    fresh = getattr(request.state, "new_device", None)
    if not isinstance(fresh, str):
        fresh = secrets.token_urlsafe(18)
        request.state.new_device = fresh
    return fresh


def finish(request: Request, response: Response) -> Response:
    """Set the cookies a page owes the browser (a new device id)."""
    fresh = getattr(request.state, "new_device", None)
    if isinstance(fresh, str):
        response.set_cookie(
            DEVICE_COOKIE,
            fresh,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            max_age=YEAR,
        )
    return response


def channel_context(request: Request, platform: Platform, channel: Channel) -> RequestContext:
    """The request's context as a request of the pages' channel, counted against the
    device and address rate limits (429 ``rate_limited``, recorded)."""
    # The raw cookie and address stop here: the context holds their keyed hashes.
    ctx = edge_context(
        protector=platform.protector,
        actor="patient",
        channel_id=channel.id,
        device_id=device_id(request),
        ip=client_ip(request, platform),
        user_agent=(request.headers.get("user-agent") or "")[:256] or None,
    )
    subjects = [Subject("device", ctx.device_key or "")]
    if ctx.ip_key:
        subjects.append(Subject("ip", ctx.ip_key))
    try:
        platform.limiter.hit(*subjects)
    except RateLimited:
        request.state.audit = PendingRecord(action="pages", at=platform.clock.now(), ctx=ctx)
        raise
    return ctx


def code_limiters(platform: Platform) -> tuple[RateLimiter, RateLimiter]:
    """The sign-in code's own limits (per phone; per device and address), made once per
    platform on the same windows as every other limit (memory or Redis)."""
    found = platform.extras.get("signin_limiters")
    if isinstance(found, tuple):
        return found
    settings = platform.settings
    per_phone, per_client = (
        make_rate_limiter(
            limits=limits,
            redis_url=settings.redis_url,
            enabled=settings.rate_limit_enabled,
            namespace=f"{settings.redis_namespace}:signin",
        )
        for limits in (signin.CODE_LIMITS_PER_PHONE, signin.CODE_LIMITS_PER_CLIENT)
    )
    platform.extras["signin_limiters"] = (per_phone, per_client)
    return per_phone, per_client


def sms_sender(platform: Platform) -> sms.SmsSender:
    """The configured sender (a test may put its own in ``platform.extras["sms"]``)."""
    found = platform.extras.get("sms")
    if found is None:
        found = platform.extras["sms"] = sms.make_sender(platform.settings)
    return found  # type: ignore[return-value]


def _secret(platform: Platform) -> str:
    return platform.settings.effective_hash_key()


def session_user(request: Request, db: DbDep, platform: PlatformDep) -> PatientUser | None:
    """The signed-in patient, or None (pages open to everyone, e.g. the home page)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    now = platform.clock.now()
    account = signin.account_of_session(db, token=token, now=now)
    if account is None:
        end_lookup(db)
        return None
    channel = signin.pages_channel(db)
    phone = platform.protector.decrypt(account.phone_encrypted)
    unread = feed.unread_count(db, channel_id=channel.id, account_id=account.id)
    end_lookup(db)
    request.state.patient_token = token
    ctx = for_account(request, platform, channel_context(request, platform, channel), account.id)
    user = PatientUser(
        account_id=account.id,
        phone_masked=mask_phone(phone).removeprefix("+86"),
        csrf=csrf_token(secret=_secret(platform), session_token=token),
        ctx=ctx,
        channel_kind=channel.kind,
        zone=platform.settings.default_timezone,
        unread=unread,
    )
    request.state.patient_user = user  # an error page still shows who is signed in
    return user


MaybePatient = Annotated[PatientUser | None, Depends(session_user)]


def signed_in(user: MaybePatient) -> PatientUser:
    if user is None:
        raise PatientSignInRequired("Sign in with your phone number.")
    return user


Patient = Annotated[PatientUser, Depends(signed_in)]


async def posted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def acting(user: Patient, given: Annotated[str | None, Depends(posted_csrf)]) -> PatientUser:
    """An action's dependency (every POST): signed in, then the session's CSRF token."""
    if not csrf_matches(expected=user.csrf, given=given):
        raise Forbidden("The form has expired; reload the page and try again.", code="csrf_failed")
    return user


Acting = Annotated[PatientUser, Depends(acting)]


def zone_of(user: PatientUser | None, platform: Platform) -> ZoneInfo:
    return ZoneInfo(user.zone if user else platform.settings.default_timezone)
