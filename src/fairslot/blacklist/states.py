"""What state a blacklist entry is in, and the documents a person may show at the desk to
have a block lifted. Pure: no I/O.

An entry is never deleted. It blocks until it expires (``expires_at``) or until IT lifts
it after the person came in person (``lifted_at``); whichever came first is its story.
"""

from __future__ import annotations

import enum
from datetime import datetime


class EntryState(enum.StrEnum):
    ACTIVE = "active"  # blocks every channel request carrying the identifier
    EXPIRED = "expired"  # its time ran out before anyone lifted it
    LIFTED = "lifted"  # lifted in person (or closed by a new block after it expired)


class IdDocument(enum.StrEnum):
    """The identity document checked at the service desk before a block is lifted."""

    RESIDENT_ID_CARD = "resident_id_card"  # 居民身份证
    TEMPORARY_ID_CARD = "temporary_id_card"  # 临时居民身份证
    HOUSEHOLD_REGISTER = "household_register"  # 户口簿 (children without an ID card)
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    OTHER = "other"


def state_of(
    *, lifted_at: datetime | None, expires_at: datetime | None, now: datetime
) -> EntryState:
    """An entry lifted before it would have expired was lifted; one whose time ran out
    first expired (even if a later block then closed it)."""
    if expires_at is not None and expires_at <= (lifted_at or now):
        return EntryState.EXPIRED
    if lifted_at is not None:
        return EntryState.LIFTED
    return EntryState.ACTIVE
