"""Every query of the sign-in domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fairslot.channels.models import Channel, ChannelKind
from fairslot.patients.models import Account
from fairslot.signin.models import PatientSession, SignInCode


def latest_code(db: Session, *, phone_hash: str) -> SignInCode | None:
    """The phone's newest code (an older one is worthless once a new one was sent)."""
    stmt = (
        select(SignInCode)
        .where(SignInCode.phone_hash == phone_hash)
        .order_by(SignInCode.created_at.desc(), SignInCode.id.desc())
        .limit(1)
    )
    return db.scalars(stmt).one_or_none()


def count_attempt(db: Session, *, code_id: int, max_attempts: int) -> bool:
    """Count one guess, unless the code already had its last one (compare-and-set: two
    guesses at the same moment cannot both be the fifth)."""
    result = db.execute(
        update(SignInCode)
        .where(
            SignInCode.id == code_id,
            SignInCode.attempts < max_attempts,
            SignInCode.used_at.is_(None),
        )
        .values(attempts=SignInCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def use_code(db: Session, *, code_id: int, now: datetime) -> bool:
    """Mark the code used; False when another request used it first."""
    result = db.execute(
        update(SignInCode)
        .where(SignInCode.id == code_id, SignInCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def account_for_phone(db: Session, *, phone_hash: str, channel_id: int) -> Account | None:
    stmt = (
        select(Account)
        .where(Account.phone_hash == phone_hash, Account.channel_id == channel_id)
        .order_by(Account.id)
        .limit(1)
    )
    return db.scalars(stmt).one_or_none()


def pages_channel(db: Session) -> Channel | None:
    """The active channel of kind ``hospital_app`` the patient pages act as (the oldest,
    if a platform has several)."""
    stmt = (
        select(Channel)
        .where(Channel.kind == ChannelKind.HOSPITAL_APP, Channel.active.is_(True))
        .order_by(Channel.id)
        .limit(1)
    )
    return db.scalars(stmt).one_or_none()


def live_session(db: Session, *, token_hash: str, now: datetime) -> PatientSession | None:
    stmt = select(PatientSession).where(
        PatientSession.token_hash == token_hash,
        PatientSession.ended_at.is_(None),
        PatientSession.expires_at > now,
    )
    return db.scalars(stmt).one_or_none()


def end_session(db: Session, *, token_hash: str, now: datetime) -> None:
    db.execute(
        update(PatientSession)
        .where(PatientSession.token_hash == token_hash, PatientSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def first_account_phone(db: Session, *, channel_id: int) -> str | None:
    """The encrypted phone of the channel's first account (the demo prints it)."""
    stmt = select(Account.phone_encrypted).where(Account.channel_id == channel_id)
    return db.scalars(stmt.order_by(Account.id).limit(1)).one_or_none()
