"""The payment provider's side of the site: the sandbox cashier page and the callback.

- ``GET /pay/sandbox/{order}`` — the development cashier (``FAIRSLOT_PAYMENT_PROVIDER=
  sandbox``): the amount, and "pay" / "cancel" buttons. It opens only with the query the
  checkout signed (``payments/providers.py::SandboxCashier.redirect_url``).
- ``POST /pay/sandbox/{order}`` — what those buttons post: a callback signed with the
  payment secret, exactly what a provider would send. Settled, then back to the return URL
  with ``?order=…&payment=<status>``; a refusal is shown on the cashier page.
- ``POST /pay/callback/{provider}`` — a provider's server-to-server callback (form fields,
  signed); answers JSON, a refusal as every API refusal (code, ``detail``, ``detail_zh``).
- ``POST /pay/preauth/callback/{provider}`` — a configured provider's callback for a draw
  entry's or a waitlist place's pre-authorisation (``payments/preauth_orders.py``):
  ``outcome`` ``authorised`` makes the entry once; the answer's ``status`` ``released``
  tells the provider to release the funds (the entry was refused by then).

The patient pages start a payment with ``payments/service.py::checkout`` and the provider
from :func:`payment_provider`, then redirect to ``Checkout.redirect_url``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from fairslot.api.deps import DbDep, PlatformDep
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.error_messages import chinese
from fairslot.errors import DomainError
from fairslot.payments import preauth_orders, signing
from fairslot.payments import service as payments
from fairslot.payments.errors import SignatureInvalid
from fairslot.payments.providers import (
    HttpProvider,
    PaymentProvider,
    SandboxCashier,
    make_provider,
)
from fairslot.payments.states import OrderStatus, PreauthStatus
from fairslot.web.patient.pages import elder_mode, here
from fairslot.web.security import PAGE_POLICY
from fairslot.web.templating import render, translator_for

router = APIRouter(prefix="/pay", include_in_schema=False)
callback_router = APIRouter(prefix="/pay", tags=["payments"])

OrderId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
MAX_FIELD = 512  # a signed callback's fields are short; anything longer is not one


def payment_provider(platform: Platform) -> PaymentProvider:
    """The platform's provider, built once from its settings (``make_provider``)."""
    found = platform.extras.get("payment_provider")
    if not isinstance(found, SandboxCashier | HttpProvider):
        found = platform.extras["payment_provider"] = make_provider(platform.settings)
    return found


def may_post_to_provider(response: HTMLResponse, platform: Platform) -> HTMLResponse:
    """A page whose form leads to a configured provider's cashier (pay, pre-authorise):
    its policy lets that one form submission leave the site. The browser checks
    ``form-action`` on every redirect a form's submission follows, so with the site's
    ``form-action 'self'`` the redirect to the provider would be blocked."""
    provider = payment_provider(platform)
    if isinstance(provider, HttpProvider):
        parts = urlsplit(provider.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        response.headers["Content-Security-Policy"] = PAGE_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


def _sandbox(platform: Platform) -> SandboxCashier:
    provider = payment_provider(platform)
    if not isinstance(provider, SandboxCashier):
        raise HTTPException(status_code=404)  # no sandbox on a platform with a real provider
    return provider


def _safe_return(value: str) -> str:
    """Only an address of this site: the cashier never sends a person elsewhere."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


class CallbackForm(BaseModel):
    """A provider's callback as form fields (other fields are ignored, not signed)."""

    order_id: str = Field("", max_length=MAX_FIELD)
    amount: str = Field("", max_length=MAX_FIELD)
    outcome: str = Field("", max_length=MAX_FIELD)
    payer: str = Field("", max_length=MAX_FIELD)
    trade_no: str = Field("", max_length=MAX_FIELD)
    return_url: str | None = Field(None, max_length=MAX_FIELD)
    signature: str = Field("", max_length=MAX_FIELD)

    def fields(self) -> dict[str, str]:
        """The fields as signed: ``return_url`` only when it was sent."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


CallbackDep = Annotated[CallbackForm, Form()]
_CALLBACK_NAMES = frozenset(CallbackForm.model_fields)


@router.get("/sandbox/{order_id}", response_class=HTMLResponse)
def sandbox_page(
    request: Request, order_id: OrderId, db: DbDep, platform: PlatformDep
) -> HTMLResponse:
    cashier = _sandbox(platform)
    query = {k: v for k, v in request.query_params.items() if k in _CALLBACK_NAMES}
    if query.get("order_id") != order_id or not cashier.page_is_signed(query):
        return _page(request, error_code="payment_signature_invalid", status=400)
    order = payments.get_order(db, order_id=order_id)
    amount = signing.amount_text(order.amount)
    return_url = _safe_return(query.get("return_url", "/"))
    buttons = {}
    if order.status == OrderStatus.PENDING:
        payer = f"sandbox:{order.account_id}"
        buttons = {
            outcome: cashier.callback_fields(
                order_id=order.id,
                amount=amount,
                outcome=outcome,
                payer=payer,
                return_url=return_url,
            )
            for outcome in ("paid", "cancelled")
        }
    return _page(
        request,
        order_id=order.id,
        amount=amount,
        status_key=order.status.value,
        buttons=buttons,
        return_url=return_url,
    )


# Sync endpoints, like every endpoint that touches the database: they run on the thread
# pool and never hold the event loop while waiting for a row or SQLite's write lock.
@router.post("/sandbox/{order_id}")
def sandbox_answer(
    request: Request, order_id: OrderId, form: CallbackDep, db: DbDep, platform: PlatformDep
) -> Response:
    cashier = _sandbox(platform)
    fields = form.fields()
    try:
        if fields.get("order_id") != order_id:
            raise SignatureInvalid("The callback is for another order.")
        settled = payments.settle(
            db,
            fields=fields,
            provider=cashier,
            now=platform.clock.now(),
            protector=platform.protector,
        )
    except DomainError as exc:
        # What a refusal keeps (an order marked for refund) is committed; anything else,
        # such as a claim made before a refused confirmation, is undone.
        if exc.keep_changes:
            db.commit()
        else:
            db.rollback()
        return _page(
            request,
            error_code=exc.code,
            detail=exc.detail,
            order_status=exc.extra.get("order_status"),
            status=exc.status,
        )
    db.commit()
    target = _safe_return(settled.return_url or "/")
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(
        f"{target}{joiner}order={settled.order_id}&payment={settled.status.value}",
        status_code=303,
    )


class SettlementView(BaseModel):
    order_id: str
    status: OrderStatus
    booking_id: str
    booking_status: BookingStatus
    repeated: bool  # this callback had been answered before: nothing was done twice


@callback_router.post("/callback/{provider_name}", response_model=SettlementView)
def provider_callback(
    provider_name: Annotated[str, Path(max_length=16)],
    form: CallbackDep,
    db: DbDep,
    platform: PlatformDep,
) -> SettlementView:
    """A payment provider's signed callback (form fields ``order_id``, ``amount``,
    ``outcome``, ``payer``, ``trade_no``, ``signature``): confirms the booking once."""
    provider = payment_provider(platform)
    if provider.name != provider_name:
        raise HTTPException(status_code=404)
    fields = form.fields()
    settled = payments.settle(
        db, fields=fields, provider=provider, now=platform.clock.now(), protector=platform.protector
    )
    db.commit()
    return SettlementView(
        order_id=settled.order_id,
        status=settled.status,
        booking_id=settled.booking_id,
        booking_status=settled.booking_status,
        repeated=not settled.first,
    )


class PreauthSettlementView(BaseModel):
    order_id: str
    status: PreauthStatus  # entered; released (refund the hold on funds); cancelled
    entry_id: str | None  # the draw intent or waitlist entry made
    refusal: str | None  # why released: the refusal's code
    repeated: bool


@callback_router.post("/preauth/callback/{provider_name}", response_model=PreauthSettlementView)
def preauth_callback(
    provider_name: Annotated[str, Path(max_length=16)],
    form: CallbackDep,
    db: DbDep,
    platform: PlatformDep,
) -> PreauthSettlementView:
    """A configured provider's signed callback for a pre-authorisation (form fields
    ``order_id``, ``amount``, ``outcome`` ``authorised``/``cancelled``, ``payer``,
    ``trade_no``, ``signature``): makes the draw entry or waitlist place once."""
    provider = payment_provider(platform)
    if provider.name != provider_name or not isinstance(provider, HttpProvider):
        raise HTTPException(status_code=404)
    settled = preauth_orders.settle(
        db,
        fields=form.fields(),
        provider=provider,
        now=platform.clock.now(),
        policy=booking_policy(platform.settings),
        rng=platform.rng,
        protector=platform.protector,
    )
    db.commit()
    platform.memos.changed()
    return PreauthSettlementView(
        order_id=settled.order_id,
        status=settled.status,
        entry_id=settled.entry_id,
        refusal=settled.refusal,
        repeated=not settled.first,
    )


def _page(
    request: Request,
    *,
    order_id: str | None = None,
    amount: str | None = None,
    status_key: str | None = None,
    buttons: dict[str, dict[str, str]] | None = None,
    return_url: str = "/",
    error_code: str | None = None,
    detail: str | None = None,
    order_status: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    t = translator_for(request)
    error = None
    if error_code is not None:
        zh = chinese(error_code)
        error = zh if t.language == "zh-CN" and zh else (detail or zh or error_code)
    return render(
        request,
        "payments/sandbox.html",
        {
            "order_id": order_id,
            "amount": amount,
            "status_key": status_key,
            "buttons": buttons or {},
            "return_url": return_url,
            "error": error,
            "error_code": error_code,
            "refund": order_status == OrderStatus.REFUND_DUE.value,
            "elder": elder_mode(request),
            "here": here(request),
        },
        status=status,
        headers={"Cache-Control": "no-store"},
    )
