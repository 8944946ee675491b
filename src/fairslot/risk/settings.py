"""The daily batch's thresholds, read from the platform settings (``FAIRSLOT_RISK_*``).

Pure: only the settings object comes in, frozen rule settings go out. Each value is checked
by the rule settings themselves (a zero threshold or an empty gap is refused at start-up,
not discovered at 01:00).
"""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from fairslot.config import Settings
from fairslot.risk.due import parse_local_time
from fairslot.risk.facts import RiskSettings
from fairslot.risk.rings import RingSettings


def risk_settings(settings: Settings) -> RiskSettings:
    return RiskSettings(
        window_days=settings.risk_window_days,
        same_payment_same_department=settings.risk_same_payment_same_department,
        same_patient_departments=settings.risk_same_patient_departments,
        sex_mismatch_repeat=settings.risk_sex_mismatch_repeat,
        cancellations_without_visit=settings.risk_cancellations_without_visit,
        no_shows=settings.risk_no_shows,
        transfer_max_gap=timedelta(minutes=settings.risk_transfer_max_gap_minutes),
        transfer_strong_repeat=settings.risk_transfer_strong_repeat,
        transfer_weak_repeat=settings.risk_transfer_weak_repeat,
        synchrony_gap=timedelta(seconds=settings.risk_synchrony_gap_seconds),
        synchrony_sessions=settings.risk_synchrony_sessions,
        shared_device_patients=settings.risk_shared_device_patients,
        shared_payment_patients=settings.risk_shared_payment_patients,
        realtime_min_requests=settings.risk_realtime_min_requests,
        payment_accounts=settings.risk_payment_accounts,
        payment_patients=settings.risk_payment_patients,
        device_accounts=settings.risk_device_accounts,
        poll_count=settings.risk_poll_count,
        poll_mean_gap_seconds=settings.risk_poll_mean_gap_seconds,
        reappear_wifi_patients=settings.risk_reappear_wifi_patients,
    )


def ring_settings(settings: Settings) -> RingSettings:
    return RingSettings(
        max_network_patients=settings.risk_ring_max_network_patients,
        min_ring_patients=settings.risk_ring_min_patients,
        family_size=settings.risk_ring_family_size,
        family_accounts=settings.risk_ring_family_accounts,
        min_bookings=settings.risk_ring_min_bookings,
        scarce_share=settings.risk_ring_scarce_share,
        cancel_rate=settings.risk_ring_cancel_rate,
        no_show_rate=settings.risk_ring_no_show_rate,
        bookings_per_patient=settings.risk_ring_bookings_per_patient,
        flagged_requests=settings.risk_ring_flagged_requests,
        flag_score=settings.risk_ring_flag_score,
    )


def run_local_time(settings: Settings) -> time:
    """``FAIRSLOT_RISK_RUN_LOCAL_TIME`` ("HH:MM"); raises ValueError when unreadable."""
    return parse_local_time(settings.risk_run_local_time)


def hospital_zone(settings: Settings) -> ZoneInfo:
    """The zone the batch counts its days in: the platform's default hospital zone."""
    return ZoneInfo(settings.default_timezone)
