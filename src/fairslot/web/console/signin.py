"""Sign-in, sign-out, password change and the language switch of the console.

Sign-in is the staff API's (argon2 password → staff token, audited), throttled per
(username, address) and per address (``api/staff_signin.py``); the token goes into an
HttpOnly, SameSite=Strict cookie (Secure over HTTPS) that lives as long as the token. The sign-in
form has no session yet, so its CSRF token is a double-submit cookie; both, and the language
switch, are every sign-in's (``web/signin_forms.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairslot.api import staff_signin
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.errors import DomainError
from fairslot.staff import service as staff_service
from fairslot.web.console.deps import SESSION_COOKIE, Acting, SignedIn
from fairslot.web.console.pages import page
from fairslot.web.signin_forms import FormNonce, set_session_cookie, signed_out
from fairslot.web.signin_forms import switch_language as language_switch
from fairslot.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)

NONCE = FormNonce(
    cookie="fairslot_login_nonce",
    path="/console",
    expired="The sign-in form has expired; reload the page and try again.",
)
HOME = "/console/"


def _safe_next(value: str | None) -> str:
    """Only a console address: never send a person signing in to another site."""
    if value and value.startswith("/console") and not value.startswith("//"):
        return value
    return HOME


def _login_form(
    request: Request, *, next_url: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    nonce = NONCE.new()
    response = render(
        request,
        "console/login.html",
        {
            "nonce": nonce,
            "next_url": next_url,
            "error": error,
            "expired": request.query_params.get("expired") == "1",
        },
        status=status,
    )
    NONCE.set(request, response, nonce)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request, next_url=_safe_next(request.query_params.get("next")))


@router.post("/login")
def sign_in(
    request: Request,
    _slot: staff_signin.SignInSlot,
    db: DbDep,
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=500)] = HOME,
) -> Response:
    NONCE.check(request, csrf_token)
    try:
        # Throttled per (username, address) and per address (api/staff_signin.py).
        _, token, _row = staff_signin.sign_in(
            request, db, platform, username=username, password=password
        )
    except DomainError as exc:
        # A failed sign-in keeps its audit row (``keep_changes``); nothing else stands.
        if not exc.keep_changes:
            db.rollback()
        db.commit()
        key = "signin.rate_limited" if exc.status == 429 else "signin.failed"
        form = _login_form(request, next_url=_safe_next(next_url), error=key, status=exc.status)
        if "retry_after" in exc.extra:
            form.headers["Retry-After"] = str(exc.extra["retry_after"])
        return form
    done(request, db, None)
    response = RedirectResponse(_safe_next(next_url), status_code=303)
    set_session_cookie(
        request,
        response,
        name=SESSION_COOKIE,
        token=token,
        samesite="strict",
        max_age=platform.settings.staff_token_hours * 3600,
    )
    NONCE.clear(response)
    return response


@router.post("/logout")
def sign_out(request: Request, user: Acting, db: DbDep, platform: PlatformDep) -> Response:
    staff_service.logout(
        db, token=request.state.staff_token, actor=user.actor, now=platform.clock.now()
    )
    done(request, db, None)
    return signed_out("/console/login?signed_out=1", session_cookie=SESSION_COOKIE)


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, user: SignedIn) -> HTMLResponse:
    return page(request, "console/password.html", user, active="password")


@router.post("/password")
def change_password(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    current: Annotated[str, Form(max_length=256)] = "",
    new: Annotated[str, Form(max_length=256)] = "",
    again: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    if new != again:
        return page(
            request,
            "console/password.html",
            user,
            {"error": "password.mismatch"},
            active="password",
            status=422,
        )
    staff_service.change_own_password(
        db, actor=user.actor, current=current, new=new, now=platform.clock.now()
    )
    done(request, db, None)
    return signed_out("/console/login?password_changed=1", session_cookie=SESSION_COOKIE)


@router.get("/lang")
def switch_language(request: Request) -> Response:
    return language_switch(request, back_to=_safe_next(request.query_params.get("next")))
