"""Refusals when channels are set up and managed."""

from __future__ import annotations

from fairslot.errors import Conflict, InvalidInput, NotFound


class ChannelExists(Conflict):
    code = "channel_exists"


class ReservedShareTooHigh(Conflict):
    code = "reserved_share_too_high"


class ChannelNotFound(NotFound):
    code = "channel_not_found"


class ChannelInactive(Conflict):
    code = "channel_inactive"


class InvalidChannel(InvalidInput):
    code = "invalid_channel"
