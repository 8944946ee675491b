"""Payment providers: where a patient pays, and how the provider's answer is read.

One interface (:class:`PaymentProvider`), two real implementations:

- :class:`SandboxCashier` (``FAIRSLOT_PAYMENT_PROVIDER=sandbox``, development and the demo):
  a cashier page served by the site itself at ``/pay/sandbox/{order}``
  (``web/payments.py``) whose "pay" and "cancel" buttons post a signed callback, as a
  real provider's would. A production platform refuses it (:func:`check_provider`).
- :class:`HttpProvider` (``FAIRSLOT_PAYMENT_PROVIDER=http``): redirects to the provider's
  cashier at ``FAIRSLOT_PAYMENT_URL`` with the order id, amount, currency and return URL,
  signed; the provider posts its callback to ``/pay/callback/http``. It also
  pre-authorises a draw entry's or a waitlist place's fee: the same redirect with
  ``action=preauthorise``, answered by a callback to ``/pay/preauth/callback/http`` whose
  ``outcome`` is ``authorised`` or ``cancelled`` (``preauth.py``).

Both sign with ``FAIRSLOT_PAYMENT_SECRET`` (``signing.py``). A callback carries
``order_id``, ``amount``, ``outcome`` (``paid`` / ``cancelled``), ``payer`` (the payer's
account at the provider: the booking's payment account), ``trade_no`` (the provider's
reference), optionally ``return_url``, and ``signature``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol
from urllib.parse import urlencode

from fairslot.config import Settings
from fairslot.payments import signing
from fairslot.payments.errors import AmountMismatch, SignatureInvalid

# Outside production only: the sandbox's published key (production refuses the sandbox).
DEV_PAYMENT_SECRET = "fairslot-sandbox-cashier-development-secret"
CURRENCY = "CNY"
CALLBACK_FIELDS = ("order_id", "amount", "outcome", "payer", "trade_no")
Outcome = Literal["paid", "cancelled", "authorised"]
PAYMENT_OUTCOMES: tuple[Outcome, ...] = ("paid", "cancelled")
PREAUTH_OUTCOMES: tuple[Outcome, ...] = ("authorised", "cancelled")


@dataclass(frozen=True)
class Callback:
    """A provider's signed answer about one order, its signature checked."""

    order_id: str
    amount: Decimal
    outcome: Outcome
    payer: str
    trade_no: str
    return_url: str | None


class PaymentProvider(Protocol):
    name: str

    def redirect_url(self, *, order_id: str, amount: Decimal, return_url: str) -> str:
        """Where to send the patient to pay ``amount`` for the order."""
        ...

    def read_callback(self, fields: Mapping[str, str]) -> Callback:
        """The callback, if its signature is this provider's (else ``SignatureInvalid``)."""
        ...


def read_signed_callback(
    fields: Mapping[str, str], *, secret: str, outcomes: tuple[Outcome, ...] = PAYMENT_OUTCOMES
) -> Callback:
    if not signing.verify(fields, secret=secret) or any(
        not fields.get(name) for name in CALLBACK_FIELDS
    ):
        raise SignatureInvalid(
            "The payment callback is not signed by the payment provider; it was refused.",
        )
    outcome = next((known for known in outcomes if known == fields["outcome"]), None)
    if outcome is None:
        raise SignatureInvalid(f"The payment callback's outcome is none of {', '.join(outcomes)}.")
    amount = signing.parse_amount(fields["amount"])
    if amount is None:
        raise AmountMismatch("The payment callback's amount is not an amount such as 12.00.")
    return Callback(
        order_id=fields["order_id"],
        amount=amount,
        outcome=outcome,
        payer=fields["payer"],
        trade_no=fields["trade_no"],
        return_url=fields.get("return_url") or None,
    )


class SandboxCashier:
    """The development cashier: a page of this site that pays nothing real."""

    name = "sandbox"

    def __init__(self, *, secret: str, path: str = "/pay/sandbox") -> None:
        self.secret = secret
        self.path = path

    def redirect_url(self, *, order_id: str, amount: Decimal, return_url: str) -> str:
        query = self.page_fields(order_id=order_id, amount=amount, return_url=return_url)
        return f"{self.path}/{order_id}?{urlencode(query)}"

    def page_fields(self, *, order_id: str, amount: Decimal, return_url: str) -> dict[str, str]:
        """The cashier page's signed query: a page for someone else's amount or return
        address cannot be made up."""
        fields = {"order_id": order_id, "amount": signing.amount_text(amount)}
        return signing.signed({**fields, "return_url": return_url}, secret=self.secret)

    def page_is_signed(self, fields: Mapping[str, str]) -> bool:
        return signing.verify(fields, secret=self.secret)

    def callback_fields(
        self, *, order_id: str, amount: str, outcome: Outcome, payer: str, return_url: str
    ) -> dict[str, str]:
        """What the page's "pay" or "cancel" button posts back, signed like a provider's."""
        fields = {
            "order_id": order_id,
            "amount": amount,
            "outcome": outcome,
            "payer": payer,
            "trade_no": f"SANDBOX-{outcome.upper()}-{order_id}",
            "return_url": return_url,
        }
        return signing.signed(fields, secret=self.secret)

    def read_callback(self, fields: Mapping[str, str]) -> Callback:
        return read_signed_callback(fields, secret=self.secret)


class HttpProvider:
    """A real provider's cashier at a configured URL, answering with a signed callback."""

    name = "http"

    def __init__(self, *, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def redirect_url(self, *, order_id: str, amount: Decimal, return_url: str) -> str:
        fields = {
            "order_id": order_id,
            "amount": signing.amount_text(amount),
            "currency": CURRENCY,
            "return_url": return_url,
        }
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}{urlencode(signing.signed(fields, secret=self.secret))}"

    def read_callback(self, fields: Mapping[str, str]) -> Callback:
        return read_signed_callback(fields, secret=self.secret)

    def preauth_redirect_url(self, *, order_id: str, amount: Decimal, return_url: str) -> str:
        """Where to send the patient to pre-authorise ``amount`` (held, not taken: the
        draw or the waitlist placement takes it if the patient gets a slot)."""
        fields = {
            "action": "preauthorise",
            "order_id": order_id,
            "amount": signing.amount_text(amount),
            "currency": CURRENCY,
            "return_url": return_url,
        }
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}{urlencode(signing.signed(fields, secret=self.secret))}"

    def read_preauth_callback(self, fields: Mapping[str, str]) -> Callback:
        return read_signed_callback(fields, secret=self.secret, outcomes=PREAUTH_OUTCOMES)


def check_provider(settings: Settings) -> None:
    """Refuse a configuration that takes no real money in production, or cannot sign."""
    if not settings.is_production:
        return
    if settings.payment_provider != "http":
        raise RuntimeError(
            "FAIRSLOT_PAYMENT_PROVIDER=sandbox takes no real payment; set "
            "FAIRSLOT_PAYMENT_PROVIDER=http, FAIRSLOT_PAYMENT_URL and FAIRSLOT_PAYMENT_SECRET "
            "in production"
        )
    if not settings.payment_url or not settings.payment_secret:
        raise RuntimeError("FAIRSLOT_PAYMENT_URL and FAIRSLOT_PAYMENT_SECRET must be set")
    if settings.payment_secret == DEV_PAYMENT_SECRET:
        raise RuntimeError("FAIRSLOT_PAYMENT_SECRET is the published development secret")


def make_provider(settings: Settings) -> SandboxCashier | HttpProvider:
    check_provider(settings)
    if settings.payment_provider == "http":
        if not settings.payment_url or not settings.payment_secret:
            raise RuntimeError(
                "FAIRSLOT_PAYMENT_PROVIDER=http needs FAIRSLOT_PAYMENT_URL and "
                "FAIRSLOT_PAYMENT_SECRET"
            )
        return HttpProvider(url=settings.payment_url, secret=settings.payment_secret)
    return SandboxCashier(secret=settings.payment_secret or DEV_PAYMENT_SECRET)
