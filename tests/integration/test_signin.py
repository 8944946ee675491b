"""Sign-in by phone with a one-time code (signin/service.py), on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories.demand import create_account, create_channel, phone_number
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel, ChannelKind
from fairslot.clock import ManualClock
from fairslot.patients.errors import PhoneAccountLimit
from fairslot.patients.models import Account
from fairslot.signin import service as signin
from fairslot.signin.errors import CodeRefused
from fairslot.signin.models import SignInCode


@pytest.fixture
def app_channel(db: Session) -> Channel:
    channel, _ = create_channel(db, kind=ChannelKind.HOSPITAL_APP)
    db.commit()
    return channel


def _issue(db: Session, platform: Platform, phone: str) -> str:
    issued = signin.request_code(
        db, phone=signin.phone_of(phone), now=platform.clock.now(), protector=platform.protector
    )
    db.commit()
    return issued.code


def _sign_in(db: Session, platform: Platform, channel: Channel, phone: str, code: str) -> int:
    signed = signin.sign_in(
        db,
        phone=signin.phone_of(phone),
        code=code,
        channel=channel,
        now=platform.clock.now(),
        protector=platform.protector,
        max_per_phone=platform.settings.max_accounts_per_phone,
    )
    db.commit()
    return signed.account.id


def _refusal(db: Session, platform: Platform, channel: Channel, phone: str, code: str) -> str:
    with pytest.raises(CodeRefused) as refused:
        _sign_in(db, platform, channel, phone, code)
    if refused.value.keep_changes:
        db.commit()
    else:
        db.rollback()
    return refused.value.code


def test_a_code_signs_a_new_phone_in_once_and_opens_its_account(
    db: Session, platform: Platform, app_channel: Channel
) -> None:
    phone = phone_number()
    code = _issue(db, platform, phone)
    assert len(code) == 6 and code.isdigit()
    account_id = _sign_in(db, platform, app_channel, phone, code)
    account = db.get(Account, account_id)
    assert account is not None and account.channel_id == app_channel.id
    assert _refusal(db, platform, app_channel, phone, code) == "code_expired"
    # the code is stored only as a keyed hash
    assert code not in {row.code_hash for row in db.scalars(select(SignInCode))}


def test_the_same_phone_signs_into_the_same_account_next_time(
    db: Session, platform: Platform, app_channel: Channel
) -> None:
    phone = phone_number()
    first = _sign_in(db, platform, app_channel, phone, _issue(db, platform, phone))
    again = _sign_in(db, platform, app_channel, phone, _issue(db, platform, phone))
    assert first == again
    assert db.scalar(select(func.count()).select_from(Account)) == 1


def test_a_code_expires_after_five_minutes(
    db: Session, platform: Platform, app_channel: Channel, clock: ManualClock
) -> None:
    phone = phone_number()
    code = _issue(db, platform, phone)
    clock.advance(signin.CODE_TTL + timedelta(seconds=1))
    assert _refusal(db, platform, app_channel, phone, code) == "code_expired"


def test_five_wrong_guesses_use_the_code_up(
    db: Session, platform: Platform, app_channel: Channel
) -> None:
    phone = phone_number()
    code = _issue(db, platform, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(signin.MAX_ATTEMPTS):
        assert _refusal(db, platform, app_channel, phone, wrong) == "code_wrong"
    assert _refusal(db, platform, app_channel, phone, code) == "code_attempts"


def test_a_new_code_replaces_the_one_before(
    db: Session, platform: Platform, app_channel: Channel, clock: ManualClock
) -> None:
    phone = phone_number()
    old = _issue(db, platform, phone)
    clock.advance(timedelta(seconds=61))
    new = _issue(db, platform, phone)
    if old != new:
        assert _refusal(db, platform, app_channel, phone, old) == "code_wrong"
    assert _sign_in(db, platform, app_channel, phone, new) > 0


def test_a_phone_with_two_accounts_elsewhere_cannot_open_a_third(
    db: Session, platform: Platform, app_channel: Channel
) -> None:
    phone = phone_number()
    for _ in range(platform.settings.max_accounts_per_phone):
        create_account(db, platform, phone=phone)
    db.commit()
    code = _issue(db, platform, phone)
    with pytest.raises(PhoneAccountLimit):
        _sign_in(db, platform, app_channel, phone, code)
    db.rollback()


def test_a_session_token_finds_its_account_until_signed_out(
    db: Session, platform: Platform, app_channel: Channel
) -> None:
    phone = phone_number()
    signed = signin.sign_in(
        db,
        phone=signin.phone_of(phone),
        code=_issue(db, platform, phone),
        channel=app_channel,
        now=platform.clock.now(),
        protector=platform.protector,
        max_per_phone=2,
    )
    db.commit()
    found = signin.account_of_session(db, token=signed.token, now=platform.clock.now())
    assert found is not None and found.id == signed.account.id
    assert signin.account_of_session(db, token=signed.token + "x", now=platform.clock.now()) is None
    signin.sign_out(db, token=signed.token, now=platform.clock.now())
    db.commit()
    assert signin.account_of_session(db, token=signed.token, now=platform.clock.now()) is None
