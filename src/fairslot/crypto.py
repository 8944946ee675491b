"""Protection of personal data: encryption at rest and keyed hashes for look-ups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken


class Protector:
    """Encrypts personal data (Fernet: AES-128-CBC + HMAC-SHA256) and hashes it for look-up.

    The keyed hash (HMAC-SHA256) lets the platform find a patient by ID number, or compare
    phone numbers and payment accounts, without storing them in the clear; without the key
    the hashes cannot be brute-forced from the small space of valid ID numbers.
    """

    def __init__(self, *, data_key: str, hash_key: str) -> None:
        self._fernet = Fernet(_fernet_key(data_key))
        self._hash_key = hash_key.encode()

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong FAIRSLOT_DATA_KEY?") from exc

    def keyed_hash(self, value: str, *, purpose: str) -> str:
        message = f"{purpose}:{value}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()


def _fernet_key(key: str) -> bytes:
    raw = key.encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    # Accept any passphrase-like secret by deriving a proper 32-byte key from it.
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def new_api_key(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """API keys are long random secrets, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(key.encode()).hexdigest()


def mask_account(value: str) -> str:
    return value[:2] + "****" + value[-4:] if len(value) > 6 else "****"
