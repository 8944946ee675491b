"""A hospital's release policy as the release rule reads it. Pure: no I/O.

It belongs to the hospital (each sets its own days ahead, push and release times, and when
booking closes); the rule that turns it into a session's times is ``schedules/release.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class ReleasePolicy:
    timezone: str = "Asia/Shanghai"
    days_ahead: int = 7
    push_time: time = time(0, 0)
    release_time: time = time(0, 30)
    booking_close_minutes: int = 30
