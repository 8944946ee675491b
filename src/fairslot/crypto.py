"""Protection of personal data: encryption at rest and keyed hashes for look-ups."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class Protector:
    """Encrypts personal data (Fernet: AES-128-CBC + HMAC-SHA256) and hashes it for look-up.

    The keyed hash (HMAC-SHA256) lets the platform find a patient by ID number, or compare
    phone numbers and payment accounts, without storing them in the clear; without the key
    the hashes cannot be brute-forced from the small space of valid ID numbers.
    """

    def __init__(self, *, data_key: str, hash_key: str, old_data_keys: Sequence[str] = ()) -> None:
        # Encrypts under ``data_key`` only; decrypts under it or any of ``old_data_keys``
        # (``MultiFernet``), so the data key is rotated without downtime: the new key goes
        # first, the old one stays in the old keys until ``fairslot keys reencrypt`` has
        # moved every ciphertext, then it is dropped.
        self._current = Fernet(_fernet_key(data_key))
        self._fernet = MultiFernet(
            [self._current, *(Fernet(_fernet_key(k)) for k in old_data_keys if k.strip())]
        )
        self._hash_key = hash_key.encode()

    def encrypt(self, plain: str) -> str:
        return self._current.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "cannot decrypt: wrong FAIRSLOT_DATA_KEY, or the key it was encrypted "
                "under is missing from FAIRSLOT_OLD_DATA_KEYS?"
            ) from exc

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is encrypted under the current data key (no rotation due)."""
        try:
            self._current.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def reencrypt(self, token: str) -> str:
        """``token`` encrypted under the current data key (an old key's token, moved)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot re-encrypt: no configured key decrypts it") from exc

    def keyed_hash(self, value: str, *, purpose: str) -> str:
        message = f"{purpose}:{value}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()


_FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")
# Outside production only (``config.py::check_production`` wants a real key there): a
# passphrase is stretched with scrypt. The salt is fixed, since the key must come back from
# the passphrase alone, but it is this application's own: a table built for another
# program does not apply, and each guess costs 16 MiB of memory and tens of milliseconds.
_PASSPHRASE_SALT = b"fairslot/data-key/v1"


def is_fernet_key(key: str) -> bool:
    """Whether ``key`` is a Fernet key exactly: 32 bytes in urlsafe base64 (44 characters)."""
    text = key.strip()
    return bool(_FERNET_KEY.fullmatch(text)) and len(base64.urlsafe_b64decode(text)) == 32


@functools.lru_cache(maxsize=8)
def _fernet_key(key: str) -> bytes:
    if is_fernet_key(key):
        return key.strip().encode()
    stretched = hashlib.scrypt(key.encode(), salt=_PASSPHRASE_SALT, n=2**14, r=8, p=1, dklen=32)
    return base64.urlsafe_b64encode(stretched)


def new_api_key(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """API keys are long random secrets, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(key.encode()).hexdigest()


def mask_account(value: str) -> str:
    return value[:2] + "****" + value[-4:] if len(value) > 6 else "****"
