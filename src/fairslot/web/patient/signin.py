"""Sign-in by phone with a one-time code, sign-out, and the two switches (language,
elder-friendly mode).

``GET /login`` asks for the phone; ``POST /login/code`` sends a code (throttled per
phone, device and address, after the gate) and shows the code form; ``POST /login``
checks it, opens the phone's account of the pages' channel on its first sign-in, and
sets the session cookie. The forms before sign-in carry a double-submit CSRF token
(a nonce cookie), the session cookie and the language switch are every sign-in's
(``web/signin_forms.py``), like the console's sign-in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairslot.api.deps import DbDep, PlatformDep, done, gate
from fairslot.audit import service as audit
from fairslot.audit.service import PendingRecord
from fairslot.gate.ratelimit import Subject
from fairslot.signin import service as signin
from fairslot.signin.errors import CodeRefused
from fairslot.web.patient.deps import (
    ELDER_COOKIE,
    SESSION_COOKIE,
    YEAR,
    Acting,
    MaybePatient,
    channel_context,
    code_limiters,
    finish,
    sms_sender,
)
from fairslot.web.patient.errors import message_for
from fairslot.web.patient.pages import page, safe_next
from fairslot.web.signin_forms import FormNonce, set_session_cookie, signed_out
from fairslot.web.signin_forms import switch_language as language_switch

router = APIRouter(tags=["patient"], include_in_schema=False)

NONCE = FormNonce(cookie="fairslot_signin_nonce", path="/login")


def _form(
    request: Request,
    template: str,
    *,
    next_url: str,
    phone: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    nonce = NONCE.new()
    response = page(
        request,
        template,
        None,
        {"nonce": nonce, "next_url": next_url, "phone": phone, "error": error},
        active="login",
        status=status,
    )
    NONCE.set(request, response, nonce)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: MaybePatient) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if user is not None:
        return RedirectResponse(next_url, status_code=303)
    return _form(request, "patient/login.html", next_url=next_url)


@router.post("/login/code")
def send_code(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    phone: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> Response:
    NONCE.check(request, csrf_token)
    next_url = safe_next(next_url)
    now = platform.clock.now()
    channel = signin.pages_channel(db)
    ctx = channel_context(request, platform, channel)
    request.state.audit = pending = PendingRecord(action="signin_code", at=now, ctx=ctx)
    e164 = signin.phone_of(phone)
    gate(db, platform, ctx, record=pending, phone=e164)
    per_phone, per_client = code_limiters(platform)
    per_phone.hit(Subject("signin_phone", signin.phone_key(e164, protector=platform.protector)))
    per_client.hit(
        *(
            [Subject("signin_device", ctx.device_key or "")]
            + ([Subject("signin_ip", ctx.ip_key)] if ctx.ip_key else [])
        )
    )
    issued = signin.request_code(db, phone=e164, now=now, protector=platform.protector)
    done(request, db, None)
    # Sent after the commit: a code the database does not know is never sent.
    sms_sender(platform).send(phone=issued.phone, code=issued.code, text=issued.text)
    return _form(request, "patient/code.html", next_url=next_url, phone=e164)


@router.post("/login")
def sign_in(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    phone: Annotated[str, Form(max_length=32)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> Response:
    NONCE.check(request, csrf_token)
    next_url = safe_next(next_url)
    now = platform.clock.now()
    channel = signin.pages_channel(db)
    ctx = channel_context(request, platform, channel)
    request.state.audit = pending = PendingRecord(action="sign_in", at=now, ctx=ctx)
    e164 = signin.phone_of(phone)
    gate(db, platform, ctx, record=pending, phone=e164)
    try:
        signed = signin.sign_in(
            db,
            phone=e164,
            code=code,
            channel=channel,
            now=now,
            protector=platform.protector,
            max_per_phone=platform.settings.max_accounts_per_phone,
        )
    except CodeRefused as exc:
        # The wrong guess stays counted (``keep_changes``), with the refusal's record.
        audit.write(db, pending=pending, outcome=exc.code)
        request.state.audit = None
        db.commit()
        message = message_for(request, code=exc.code, detail=exc.detail, extra=exc.extra)
        return _form(
            request, "patient/code.html", next_url=next_url, phone=e164, error=message, status=400
        )
    pending.account_id = signed.account.id
    done(request, db, None)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(
        request,
        response,
        name=SESSION_COOKIE,
        token=signed.token,
        samesite="lax",
        max_age=int(signin.SESSION_TTL.total_seconds()),
    )
    NONCE.clear(response)
    return finish(request, response)


@router.post("/logout")
def sign_out(request: Request, user: Acting, db: DbDep, platform: PlatformDep) -> Response:
    signin.sign_out(db, token=request.state.patient_token, now=platform.clock.now())
    done(request, db, None)
    return signed_out("/?done=signed_out", session_cookie=SESSION_COOKIE)


@router.get("/lang")
def switch_language(request: Request) -> Response:
    return language_switch(request, back_to=safe_next(request.query_params.get("next")))


@router.get("/elder")
def switch_elder_mode(request: Request) -> Response:
    """The elder-friendly mode (large type, high contrast, fewer words), kept in a cookie."""
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if request.query_params.get("on") == "1":
        response.set_cookie(ELDER_COOKIE, "1", samesite="lax", path="/", max_age=YEAR)
    else:
        response.delete_cookie(ELDER_COOKIE, path="/")
    return response
