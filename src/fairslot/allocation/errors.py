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
