"""What IT does to a channel whose key leaked or whose operator misbehaves, from the
staff API or the CLI: rotate its API key, deactivate it. Each is audited in the same
transaction (never the key itself). Services only flush; the edge commits.

The old key is refused by the database at once. A serving process remembers the channel
of a key for up to a second (``memo.py``, ``bootstrap.py::HotMemos.channels``): the
process that rotates or deactivates forgets what it remembered (``api/key_admin_routes.py``);
other processes, and every server when the CLI did it, may still accept the old key or
the deactivated channel within that one second.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.channels import service as channels
from fairslot.channels.models import Channel
from fairslot.errors import InvalidInput
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor


def rotate_key(
    db: Session, *, code: str, actor: StaffActor, now: datetime, reason: str | None = None
) -> tuple[Channel, str]:
    """A new API key for the channel (returned once, stored as a hash)."""
    channel, key = channels.rotate_key(db, code=code)
    audit.record(
        db,
        actor=actor,
        action="channel.rotate_key",
        target_kind="channel",
        target_id=channel.code,
        now=now,
        reason=(reason or "").strip() or None,
        data={"channel_id": channel.id, "active": channel.active},
    )
    return channel, key


def deactivate(db: Session, *, code: str, reason: str, actor: StaffActor, now: datetime) -> Channel:
    """Switch the channel off, with the reason (409 ``channel_inactive`` if it is off)."""
    if not reason.strip():
        raise InvalidInput(
            "Give the reason for deactivating the channel.",
            code="reason_required",
            detail_zh="请填写停用该渠道的原因。",
        )
    channel = channels.deactivate(db, code=code)
    audit.record(
        db,
        actor=actor,
        action="channel.deactivate",
        target_kind="channel",
        target_id=channel.code,
        now=now,
        reason=reason.strip(),
        data={"channel_id": channel.id},
    )
    return channel
