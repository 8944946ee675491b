"""Payment pre-authorisation for a draw intent or a waitlist place (候补).

An intent or a waitlist entry carries a pre-authorised payment account and reference
(``allocation/service.py::register_intent``, ``waitlist/service.py::join``): the draw or
the returned-slot placement confirms the booking with them, without the patient present
(``bookings/service.py::confirm_preauthorised``), and a loss releases them.

A channel program brings its own pre-authorisation. The hospital's own pages get one here:

- the sandbox cashier (development and the demo) pre-authorises on the sandbox account it
  pays from on a "pay" callback (``sandbox:<account>``), with a fresh reference; no money
  exists in the sandbox, so nothing is held and nothing needs releasing;
- any other provider: refused (:class:`PreauthorisationUnavailable`, 409). The provider
  interface (``providers.py``) has a redirect and a signed callback for paying an order,
  not a hold-funds step; until a provider's pre-authorisation API is wired in, the pages
  must not enter a patient whose win would be confirmed without money behind it.
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
    """Pre-authorise ``amount`` for the account, or refuse (see the module's docstring)."""
    if not isinstance(provider, SandboxCashier):
        raise PreauthorisationUnavailable(
            "This site cannot pre-authorise a payment with its payment provider yet; "
            "book at release instead, or enter through another channel."
        )
    reference = f"{SANDBOX_PREFIX}{amount_text(amount)}-{secrets.token_hex(8)}"
    return Preauthorisation(
        payment_account=sandbox_payer(account_id), payment_reference=reference, amount=amount
    )
