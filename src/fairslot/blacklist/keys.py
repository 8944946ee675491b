"""How each scope's identifier becomes the key a blacklist entry is stored under.

Pure apart from the keyed hash: the same identifier always maps to the same key, and the
key reveals nothing without the platform's hash secret.
"""

from __future__ import annotations

from fairslot.blacklist.models import Scope
from fairslot.crypto import Protector
from fairslot.patients.identity import mask_identifier, normalise_phone, parse_resident_id

# The purposes the rest of the platform already hashes these under, so a blacklist key
# equals the hash stored on a patient, a booking or a ledger row.
_PURPOSE = {
    Scope.PATIENT: "resident_id",
    Scope.PHONE: "phone",
    Scope.DEVICE: "device",
    Scope.NETWORK: "network",
    Scope.PAYMENT: "payment_account",
}


def key_for(scope: Scope, value: str, *, protector: Protector) -> str:
    """The stored key; resident IDs and phones are normalised first (raises IdentityError
    or ValueError on an identifier that cannot be one)."""
    value = value.strip()
    if scope == Scope.ACCOUNT:
        return f"account:{int(value)}"
    if scope == Scope.PATIENT:
        value = parse_resident_id(value).number
    elif scope == Scope.PHONE:
        value = normalise_phone(value)
    return protector.keyed_hash(value, purpose=_PURPOSE[scope])


def label_for(scope: Scope, value: str) -> str:
    value = value.strip()
    if scope == Scope.ACCOUNT:
        return f"account {value}"
    return mask_identifier(value)


def keys_for_value(
    value: str, *, protector: Protector, scope: Scope | None = None
) -> list[tuple[Scope, str]]:
    """The keys an identifier typed in would be stored under: in ``scope``, or in every
    scope it can be an identifier of (a phone number is also a possible device id).
    A value that cannot be an identifier of a scope gives no key for it."""
    if not value.strip():
        return []
    keys: list[tuple[Scope, str]] = []
    for candidate in [scope] if scope is not None else list(Scope):
        try:
            keys.append((candidate, key_for(candidate, value, protector=protector)))
        except ValueError:  # IdentityError is a ValueError; so is int("abc")
            continue
    return keys
