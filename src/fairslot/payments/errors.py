from __future__ import annotations

from fairslot.errors import Conflict, DomainError, NotFound


class PaymentOrderNotFound(NotFound):
    code = "payment_order_not_found"


class SignatureInvalid(DomainError):
    """A callback whose signature does not match its fields: not from the provider, or
    changed on the way."""

    code = "payment_signature_invalid"
    status = 400


class AmountMismatch(DomainError):
    code = "payment_amount_mismatch"
    status = 422


class OrderClosed(Conflict):
    code = "payment_order_closed"


class HoldLapsed(Conflict):
    code = "payment_hold_lapsed"


class NotPayable(Conflict):
    code = "payment_not_payable"


class PreauthorisationUnavailable(Conflict):
    """The configured provider offers no pre-authorisation these pages can take (draw
    intents and waitlist places need one): entering is refused rather than faked."""

    code = "preauthorisation_unavailable"
