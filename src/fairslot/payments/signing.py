"""Signing what passes between the platform and a payment provider (pure).

A message is a flat mapping of text fields. Its signature is HMAC-SHA256, keyed with the
shared secret (``FAIRSLOT_PAYMENT_SECRET``), over the canonical form: the fields other
than ``signature``, sorted by name, as ``name=value`` joined by ``&`` (values as given,
UTF-8). Amounts are always written with two decimals (``amount_text``), so ``12.5`` and
``12.50`` cannot be two spellings of one signed amount.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

SIGNATURE = "signature"


def canonical(fields: Mapping[str, str]) -> bytes:
    return "&".join(
        f"{name}={fields[name]}" for name in sorted(fields) if name != SIGNATURE
    ).encode("utf-8")


def sign(fields: Mapping[str, str], *, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), canonical(fields), hashlib.sha256).hexdigest()


def signed(fields: Mapping[str, str], *, secret: str) -> dict[str, str]:
    """``fields`` with their ``signature`` added."""
    return {**fields, SIGNATURE: sign(fields, secret=secret)}


def verify(fields: Mapping[str, str], *, secret: str) -> bool:
    """True if ``fields`` carry the signature of their other fields (compared in constant
    time, so the answer's timing tells nothing about a forged signature)."""
    given = fields.get(SIGNATURE, "")
    return hmac.compare_digest(given.encode("utf-8"), sign(fields, secret=secret).encode())


def amount_text(amount: Decimal) -> str:
    """The one way an amount (yuan) is written in a signed message: ``12.00``."""
    return f"{amount.quantize(Decimal('0.01'))}"


def parse_amount(text: str) -> Decimal | None:
    """An amount as written by :func:`amount_text`, or ``None`` for anything else."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or amount_text(value) != text:
        return None
    return value
