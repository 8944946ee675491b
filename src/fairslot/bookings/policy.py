"""The booking settings a use case needs, gathered from Settings once."""

from __future__ import annotations

from dataclasses import dataclass

from fairslot.bookings.rules import Limits
from fairslot.config import Settings


@dataclass(frozen=True)
class BookingPolicy:
    limits: Limits
    hold_minutes: int
    cooling_min_minutes: int
    cooling_max_minutes: int
    window_cancellations_return: bool
    waitlist_order: str = "random"  # "random" | "first_come" (fairslot.waitlist.rules)
    waitlist_enabled: bool = True  # off only in the simulator's baseline
    # A release batch's window where the hospital sets none (allocation/batch_rules.py).
    batch_window_seconds: int = 60
    # Whether a clinic with too little release history is treated as scarce (batched).
    scarce_without_history: bool = False


def booking_policy(settings: Settings) -> BookingPolicy:
    return BookingPolicy(
        limits=Limits(
            max_per_day=settings.max_bookings_per_patient_per_day,
            max_active_future=settings.max_active_future_bookings,
            no_show_ban_days=tuple(settings.no_show_ban_days),
            no_show_window_days=settings.no_show_window_days,
            cancel_cutoff_minutes=settings.cancel_cutoff_minutes,
        ),
        hold_minutes=settings.hold_minutes,
        cooling_min_minutes=settings.cooling_min_minutes,
        cooling_max_minutes=settings.cooling_max_minutes,
        window_cancellations_return=settings.window_cancellations_return,
        waitlist_order=settings.waitlist_order,
        waitlist_enabled=settings.waitlist_enabled,
        batch_window_seconds=settings.batch_window_seconds,
        scarce_without_history=settings.scarce_without_history,
    )
