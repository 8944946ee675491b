from __future__ import annotations

from fairslot.errors import Conflict, Forbidden, NotFound


class DrawNotFound(NotFound):
    code = "draw_not_found"


class IntentNotFound(NotFound):
    code = "intent_not_found"


class NotYourIntent(Forbidden):
    code = "not_your_intent"


class IntentWindowClosed(Conflict):
    """Intents are taken only between the window's opening and the draw."""

    code = "intent_window_closed"


class NotADrawSession(Conflict):
    """The session's department sells first-come: book it with a hold at release."""

    code = "not_a_draw_session"


class IntentNotWithdrawable(Conflict):
    code = "intent_not_withdrawable"


class BatchEntryNotFound(NotFound):
    code = "batch_entry_not_found"


class ReleaseBatchDrawing(Conflict):
    """The batch's window has closed and it is being drawn: the leftovers sell first-come
    as soon as it has run (the worker runs it within its sweep interval)."""

    code = "release_batch_drawing"


class ScarceReleaseCannotRace(Conflict):
    """A hospital override cannot make a clinic the platform judges scarce first-come."""

    code = "scarce_release_cannot_race"


class IntentNotHeld(Conflict):
    """Only an entry held out for review can be cleared or refused by a reviewer."""

    code = "intent_not_held"
