"""Sign-in by phone with a one-time code, and the patient's page session.

A code is 6 digits from the OS's randomness, stored as a keyed hash bound to the phone
(``purpose="signin_code"``), valid for :data:`CODE_TTL`, used once, and allows
:data:`MAX_ATTEMPTS` guesses (counted by compare-and-set, so a guess that fails still
counts: its refusal keeps its changes). Sending more codes is throttled per phone, device
and address by the edge (:data:`CODE_LIMITS`). A phone without an account of the pages'
channel gets one on its first sign-in, through ``patients/service.py`` like any channel's
registration (≤ 2 accounts per phone).

The session cookie holds a random token; only its SHA-256 is stored. Services flush.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.channels.models import Channel
from fairslot.crypto import Protector
from fairslot.patients import service as patients
from fairslot.patients.errors import InvalidPhone
from fairslot.patients.identity import IdentityError, mask_phone, normalise_phone
from fairslot.patients.models import Account
from fairslot.signin import repository as repo
from fairslot.signin.errors import CodeRefused, PagesUnavailable
from fairslot.signin.models import PatientSession, SignInCode

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
SESSION_TTL = timedelta(hours=12)
# Codes sent: per phone at most one a minute and five an hour; per device or address
# twenty an hour (a family or a ward's Wi-Fi shares one), in ``limits`` notation.
CODE_LIMITS_PER_PHONE = "1/minute;5/hour"
CODE_LIMITS_PER_CLIENT = "20/hour"
PURPOSE_CODE = "signin_code"


@dataclass(frozen=True)
class IssuedCode:
    phone: str  # E.164, to send to
    code: str  # sent, never stored

    @property
    def text(self) -> str:
        minutes = int(CODE_TTL.total_seconds() // 60)
        return f"【fairslot】您的登录验证码是 {self.code}，{minutes} 分钟内有效。请勿告诉他人。"


@dataclass(frozen=True)
class SignedIn:
    account: Account
    token: str  # for the cookie only
    expires_at: datetime


def phone_of(raw: str) -> str:
    """The number in E.164, or 422 ``invalid_phone``."""
    try:
        return normalise_phone(raw)
    except IdentityError as exc:
        raise InvalidPhone(str(exc)) from exc


def phone_key(phone: str, *, protector: Protector) -> str:
    return protector.keyed_hash(phone, purpose=patients.PURPOSE_PHONE)


def request_code(db: Session, *, phone: str, now: datetime, protector: Protector) -> IssuedCode:
    """Issue a new code for ``phone`` (E.164); it replaces any earlier one."""
    code = f"{secrets.randbelow(10**6):06d}"
    phone_hash = phone_key(phone, protector=protector)
    db.add(
        SignInCode(
            phone_hash=phone_hash,
            code_hash=_code_hash(phone_hash, code, protector=protector),
            attempts=0,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    db.flush()
    return IssuedCode(phone=phone, code=code)


def check_code(db: Session, *, phone: str, code: str, now: datetime, protector: Protector) -> None:
    """Use the phone's code, or refuse: ``code_expired`` (none, expired or used: ask for
    a new one), ``code_attempts`` (too many wrong guesses), ``code_wrong``."""
    phone_hash = phone_key(phone, protector=protector)
    row = repo.latest_code(db, phone_hash=phone_hash)
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise CodeRefused(
            "This code has expired or was already used; ask for a new one.",
            code="code_expired",
            detail_zh="验证码已过期或已使用，请重新获取。",
        )
    if not repo.count_attempt(db, code_id=row.id, max_attempts=MAX_ATTEMPTS):
        raise CodeRefused(
            "Too many wrong codes; ask for a new one.",
            code="code_attempts",
            detail_zh="验证码输错次数过多，请重新获取。",
        )
    given = "".join(ch for ch in code if ch.isdigit())
    expected = _code_hash(phone_hash, given, protector=protector)
    if not secrets.compare_digest(expected, row.code_hash):
        left = MAX_ATTEMPTS - row.attempts - 1
        raise CodeRefused(
            f"The code is not right; {left} tries left.",
            code="code_wrong",
            detail_zh=f"验证码不正确，还可以再试 {left} 次。",
            keep_changes=True,  # the guess stays counted
            left=left,
        )
    if not repo.use_code(db, code_id=row.id, now=now):
        raise CodeRefused(
            "This code was already used; ask for a new one.",
            code="code_expired",
            detail_zh="验证码已过期或已使用，请重新获取。",
        )


def sign_in(
    db: Session,
    *,
    phone: str,
    code: str,
    channel: Channel,
    now: datetime,
    protector: Protector,
    max_per_phone: int,
) -> SignedIn:
    """Check the code, find (or open) the phone's account of the pages' channel, and
    start a session."""
    check_code(db, phone=phone, code=code, now=now, protector=protector)
    account = repo.account_for_phone(
        db, phone_hash=phone_key(phone, protector=protector), channel_id=channel.id
    )
    if account is None:
        account = patients.register_account(
            db,
            phone=phone,
            channel_id=channel.id,
            now=now,
            protector=protector,
            max_per_phone=max_per_phone,
        )
    token = secrets.token_urlsafe(32)
    expires_at = now + SESSION_TTL
    db.add(
        PatientSession(
            token_hash=_token_hash(token),
            account_id=account.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    db.flush()
    return SignedIn(account=account, token=token, expires_at=expires_at)


def account_of_session(db: Session, *, token: str, now: datetime) -> Account | None:
    found = repo.live_session(db, token_hash=_token_hash(token), now=now)
    return None if found is None else patients.get_account(db, account_id=found.account_id)


def sign_out(db: Session, *, token: str, now: datetime) -> None:
    repo.end_session(db, token_hash=_token_hash(token), now=now)


def pages_channel(db: Session) -> Channel:
    """The channel (kind ``hospital_app``) the patient pages act as."""
    channel = repo.pages_channel(db)
    if channel is None:
        raise PagesUnavailable(
            "The hospital's own booking channel is not set up yet.",
            detail_zh="医院预约渠道尚未开通。",
        )
    return channel


def demo_phone(db: Session, *, channel: Channel, protector: Protector) -> str | None:
    """The phone of the channel's first account (the demo prints it to sign in with)."""
    encrypted = repo.first_account_phone(db, channel_id=channel.id)
    return None if encrypted is None else protector.decrypt(encrypted)


def masked(phone: str) -> str:
    return mask_phone(phone)


def _code_hash(phone_hash: str, code: str, *, protector: Protector) -> str:
    return protector.keyed_hash(f"{phone_hash}:{code}", purpose=PURPOSE_CODE)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
