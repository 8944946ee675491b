"""Sign-in, sign-out, password change and the language switch of the console.

Sign-in is the staff API's (argon2 password → staff token, audited), throttled per
(username, address) and per address (``api/staff_signin.py``); the token goes into an
HttpOnly, SameSite=Strict cookie (Secure over HTTPS) that lives as long as the token. The sign-in
form has no session yet, so its CSRF token is a double-submit cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairslot.api import staff_signin
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.errors import DomainError, Forbidden
from fairslot.staff import service as staff_service
from fairslot.web.console.deps import SESSION_COOKIE, Acting, SignedIn
from fairslot.web.console.pages import page
from fairslot.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from fairslot.web.security import csrf_matches, new_form_nonce
from fairslot.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)

LOGIN_NONCE_COOKIE = "fairslot_login_nonce"
HOME = "/console/"


def _safe_next(value: str | None) -> str:
    """Only a console address: never send a person signing in to another site."""
    if value and value.startswith("/console") and not value.startswith("//"):
        return value
    return HOME


def _login_form(
    request: Request, *, next_url: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    nonce = new_form_nonce()
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
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
        max_age=3600,
    )
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
    if not csrf_matches(expected=request.cookies.get(LOGIN_NONCE_COOKIE, ""), given=csrf_token):
        raise Forbidden(
            "The sign-in form has expired; reload the page and try again.", code="csrf_failed"
        )
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
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        # Relative: the browser's clock need not agree with the platform's.
        max_age=platform.settings.staff_token_hours * 3600,
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/console")
    return response


@router.post("/logout")
def sign_out(request: Request, user: Acting, db: DbDep, platform: PlatformDep) -> Response:
    staff_service.logout(
        db, token=request.state.staff_token, actor=user.actor, now=platform.clock.now()
    )
    done(request, db, None)
    response = RedirectResponse("/console/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


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
    response = RedirectResponse("/console/login?password_changed=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang")
def switch_language(request: Request) -> Response:
    wanted = request.query_params.get("to", "")
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    if wanted in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, wanted, samesite="lax", path="/", max_age=365 * 24 * 3600
        )
    return response
