"""Payment pre-authorisation for a draw intent or a waitlist place (候补).

An intent or a waitlist entry carries a pre-authorised payment account and reference
(``allocation/service.py::register_intent``, ``waitlist/service.py::join``): the draw or
the returned-slot placement confirms the booking with them, without the patient present
(``bookings/service.py::confirm_preauthorised``), and a loss releases them.

A channel program brings its own pre-authorisation. The hospital's own pages get one here:

- the sandbox cashier (development and the demo) pre-authorises on the sandbox account it
  pays from on a "pay" callback (``sandbox:<account>``), with a fresh reference; no money
  exists in the sandbox, so nothing is held and nothing needs releasing;
- a configured provider (``HttpProvider``): the patient is sent to the provider to
  pre-authorise the fee, and the provider's signed callback makes the entry
  (``preauth_orders.py``), as paying for a hold does;
- any other provider: refused (:class:`PreauthorisationUnavailable`, 409) rather than
  entering a patient whose win would be confirmed without money behind it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from fairslot.payments.errors import PreauthorisationUnavailable
from fairslot.payments.providers import PaymentProvider, SandboxCashier
from fairslot.payments.signing import amount_text

SANDBOX_PREFIX = "SANDBOX-PREAUTH-"


@dataclass(frozen=True)
class Preauthorisation:
    payment_account: str  # the payer's account at the provider
    payment_reference: str  # the provider's reference of the pre-authorisation
    amount: Decimal


def sandbox_payer(account_id: int) -> str:
    """The payer the sandbox cashier names for an account (``web/payments.py``)."""
    return f"sandbox:{account_id}"


def preauthorise(
    *, provider: PaymentProvider, account_id: int, amount: Decimal
) -> Preauthorisation:
    """Pre-authorise ``amount`` for the account at once (the sandbox), or refuse: a
    configured provider pre-authorises through a redirect instead (``preauth_orders.py``)."""
    if not isinstance(provider, SandboxCashier):
        raise PreauthorisationUnavailable(
            "This site cannot pre-authorise a payment with its payment provider yet; "
            "book at release instead, or enter through another channel."
        )
    reference = f"{SANDBOX_PREFIX}{amount_text(amount)}-{secrets.token_hex(8)}"
    return Preauthorisation(
        payment_account=sandbox_payer(account_id), payment_reference=reference, amount=amount
    )
