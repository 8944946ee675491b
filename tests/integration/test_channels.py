"""Setting up and managing channels against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from factories.demand import create_channel
from fairslot.bootstrap import Platform
from fairslot.channels import repository as channel_repo
from fairslot.channels import service as channels
from fairslot.channels.models import ChannelKind
from fairslot.crypto import hash_api_key
from fairslot.errors import DomainError


def _refusal(action: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as info:
        action()
    return info.value


def test_a_new_channel_is_found_by_its_key_whose_hash_alone_is_stored(
    db: Session, platform: Platform
) -> None:
    channel, key = create_channel(db, code="wechat", kind=ChannelKind.WECHAT)
    db.commit()

    row = db.execute(text("SELECT * FROM channels WHERE id = :id"), {"id": channel.id}).one()

    assert key.startswith("ck_")
    assert not any(key in str(value) for value in row)
    assert channel_repo.by_key_hash(db, hash_api_key(key)) is channel
    assert channel_repo.by_code(db, "wechat") is channel
    assert channel.active and channel.kind is ChannelKind.WECHAT


def test_a_second_channel_with_the_same_code_is_refused(db: Session, platform: Platform) -> None:
    create_channel(db, code="alipay")

    error = _refusal(lambda: create_channel(db, code="alipay"))

    assert (error.code, error.status) == ("channel_exists", 409)


def test_active_channels_may_reserve_at_most_nine_tenths_together(
    db: Session, platform: Platform
) -> None:
    create_channel(db, reserved_share=Decimal("0.5"))
    create_channel(db, reserved_share=Decimal("0.4"))

    error = _refusal(lambda: create_channel(db, reserved_share=Decimal("0.001")))

    assert (error.code, error.status) == ("reserved_share_too_high", 409)
    assert "0.9" in error.detail


def test_a_channel_that_reserves_nothing_is_accepted_when_the_reservations_are_full(
    db: Session, platform: Platform
) -> None:
    create_channel(db, reserved_share=Decimal("0.9"))

    channel, _ = create_channel(db)

    assert channel.reserved_share == 0


def test_a_deactivated_channels_reservation_no_longer_counts(
    db: Session, platform: Platform
) -> None:
    window, _ = create_channel(db, code="window", reserved_share=Decimal("0.6"))
    channels.deactivate(db, code="window")

    create_channel(db, code="phone", reserved_share=Decimal("0.6"))

    assert [c.code for c in channel_repo.list_active_reserving(db)] == ["phone"]
    assert not window.active


@pytest.mark.parametrize("share", ["-0.1", "0.95", "1", "0.1234", "NaN"])
def test_an_impossible_reserved_share_is_refused(
    db: Session, platform: Platform, share: str
) -> None:
    error = _refusal(lambda: create_channel(db, reserved_share=Decimal(share)))

    assert (error.code, error.status) == ("invalid_reserved_share", 422)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("code", "Has Spaces", "invalid_channel_code"),
        ("code", "x", "invalid_channel_code"),
        ("code", "c" * 33, "invalid_channel_code"),
        ("name", "", "invalid_channel_name"),
        ("reserve_return_minutes", -1, "invalid_reserve_return"),
    ],
)
def test_unusable_channel_details_are_refused(
    db: Session, platform: Platform, field: str, value: object, code: str
) -> None:
    error = _refusal(lambda: create_channel(db, **{field: value}))

    assert (error.code, error.status) == (code, 422)


def test_a_rotated_key_replaces_the_old_one_at_once(db: Session, platform: Platform) -> None:
    channel, old_key = create_channel(db, code="hospital-app")

    rotated, new_key = channels.rotate_key(db, code="hospital-app")

    assert rotated is channel and new_key != old_key
    assert channel_repo.by_key_hash(db, hash_api_key(old_key)) is None
    assert channel_repo.by_key_hash(db, hash_api_key(new_key)) is channel


def test_managing_an_unknown_channel_is_a_404(db: Session, platform: Platform) -> None:
    error = _refusal(lambda: channels.rotate_key(db, code="nope"))

    assert (error.code, error.status) == ("channel_not_found", 404)


def test_listing_shows_active_channels_unless_asked_for_all(
    db: Session, platform: Platform
) -> None:
    create_channel(db, code="b-app")
    create_channel(db, code="a-app")
    create_channel(db, code="c-app")
    channels.deactivate(db, code="c-app")

    assert [c.code for c in channels.list_channels(db)] == ["a-app", "b-app"]
    assert [c.code for c in channels.list_channels(db, include_inactive=True)] == [
        "a-app",
        "b-app",
        "c-app",
    ]


def test_only_active_channels_with_a_reservation_are_listed_as_reserving(
    db: Session, platform: Platform
) -> None:
    create_channel(db, code="none")
    create_channel(db, code="some", reserved_share=Decimal("0.2"))

    assert [c.code for c in channel_repo.list_active_reserving(db)] == ["some"]
