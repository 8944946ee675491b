from __future__ import annotations

from fairslot.errors import Conflict, Forbidden, NotFound


class WaitlistEntryNotFound(NotFound):
    code = "waitlist_entry_not_found"


class NotYourWaitlistEntry(Forbidden):
    code = "not_your_waitlist_entry"


class SessionNotFull(Conflict):
    """A session with a free slot has no waitlist: hold the slot instead."""

    code = "session_not_full"


class WaitlistConflict(Conflict):
    code = "waitlist_conflict"


class WaitlistDisabled(Conflict):
    """The platform keeps no waitlists (a setting; only the simulator's baseline)."""

    code = "waitlist_disabled"
