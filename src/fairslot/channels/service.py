"""Setting up and managing booking channels (an operator's job, from the CLI or back office).

A channel authenticates with an API key that is shown once, when it is made or rotated;
only its hash is stored.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.channels import repository as repo
from fairslot.channels.errors import (
    ChannelExists,
    ChannelInactive,
    ChannelNotFound,
    InvalidChannel,
    ReservedShareTooHigh,
)
from fairslot.channels.models import Channel, ChannelKind
from fairslot.crypto import hash_api_key, new_api_key

# Whatever the channels reserve, at least this much of every session stays in the shared
# pool, open to all channels alike.
MAX_TOTAL_RESERVED_SHARE = Decimal("0.9")
_SHARE_STEP = Decimal("0.001")  # the column is NUMERIC(4, 3)
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{1,31}")
MAX_RESERVE_RETURN_MINUTES = 7 * 24 * 60


def create_channel(
    db: Session,
    *,
    code: str,
    name: str,
    kind: ChannelKind,
    reserved_share: Decimal = Decimal(0),
    reserve_return_minutes: int = 120,
    now: datetime,
) -> tuple[Channel, str]:
    """Register a channel; returns it with its plain API key, which is not kept anywhere.

    The total-share check reads committed rows and is not serialised against another
    operator creating a channel at the same instant; channels are set up by hand, rarely.
    """
    code = code.strip()
    if not _CODE.fullmatch(code):
        raise InvalidChannel(
            "A channel code is 2-32 characters: lower-case letters, digits, '_' or '-', "
            "starting with a letter or digit.",
            code="invalid_channel_code",
        )
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise InvalidChannel(
            "A channel name is 1-100 printable characters.", code="invalid_channel_name"
        )
    share = _share(reserved_share)
    if not 0 <= reserve_return_minutes <= MAX_RESERVE_RETURN_MINUTES:
        raise InvalidChannel(
            f"reserve_return_minutes must be between 0 and {MAX_RESERVE_RETURN_MINUTES}.",
            code="invalid_reserve_return",
        )
    if repo.by_code(db, code) is not None:
        raise ChannelExists(f"A channel with code {code!r} already exists.")
    if share > 0:
        _check_total_share(db, adding=share)

    key = new_api_key("ck")
    channel = Channel(
        code=code,
        name=name,
        kind=kind,
        api_key_hash=hash_api_key(key),
        reserved_share=share,
        reserve_return_minutes=reserve_return_minutes,
        active=True,
        created_at=now,
    )
    try:
        # The unique code is the last guard against two operators racing.
        with db.begin_nested():
            db.add(channel)
            db.flush()
    except IntegrityError as exc:
        raise ChannelExists(f"A channel with code {code!r} already exists.") from exc
    return channel, key


def rotate_key(db: Session, *, code: str) -> tuple[Channel, str]:
    """Give the channel a new API key; the old one stops working at once."""
    channel = _get(db, code=code)
    key = new_api_key("ck")
    channel.api_key_hash = hash_api_key(key)
    db.flush()
    return channel, key


def deactivate(db: Session, *, code: str) -> Channel:
    """Switch a channel off: its key is refused and its reservation stops counting."""
    channel = _get(db, code=code)
    if not channel.active:
        raise ChannelInactive(
            f"The channel {code!r} is already deactivated.", detail_zh="该渠道已停用。"
        )
    channel.active = False
    db.flush()
    return channel


def list_channels(db: Session, *, include_inactive: bool = False) -> list[Channel]:
    return repo.list_channels(db, include_inactive=include_inactive)


def _get(db: Session, *, code: str) -> Channel:
    channel = repo.by_code(db, code)
    if channel is None:
        raise ChannelNotFound(f"No channel has the code {code!r}.", detail_zh="没有该代码的渠道。")
    return channel


def _share(value: Decimal | int | float | str) -> Decimal:
    try:
        share = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidChannel(
            "reserved_share must be a number.", code="invalid_reserved_share"
        ) from exc
    if not share.is_finite() or not 0 <= share <= MAX_TOTAL_RESERVED_SHARE:
        raise InvalidChannel(
            f"reserved_share must be between 0 and {MAX_TOTAL_RESERVED_SHARE}.",
            code="invalid_reserved_share",
        )
    if share != share.quantize(_SHARE_STEP):
        raise InvalidChannel(
            "reserved_share has at most three decimal places.", code="invalid_reserved_share"
        )
    return share.quantize(_SHARE_STEP)


def _check_total_share(db: Session, *, adding: Decimal) -> None:
    current = repo.total_active_reserved_share(db)
    if current + adding > MAX_TOTAL_RESERVED_SHARE:
        raise ReservedShareTooHigh(
            f"Active channels already reserve {current} of each session; adding {adding} "
            f"would exceed {MAX_TOTAL_RESERVED_SHARE}, which would leave too little in the "
            "shared pool."
        )
