"""Settings, read from the environment (prefix ``FAIRSLOT_``) or a ``.env`` file.

Built by :func:`load_settings`, never at import time, so tests pass their own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktZG8tbm90LXVzZS0xMjM="
DEV_HASH_KEY = "dev-only-hash-key-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRSLOT_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development | production")
    database_url: str = "sqlite:///./fairslot.db"
    redis_url: str | None = None
    db_pool_size: int = 10
    db_lock_timeout_ms: int = 5000

    # Personal data protection. Development falls back to published dev keys; production
    # refuses to start without real ones (see ``check_production``).
    data_key: str | None = Field(None, description="Fernet key (urlsafe base64, 32 bytes)")
    hash_key: str | None = Field(None, description="secret for keyed hashes of ID numbers etc.")

    default_timezone: str = "Asia/Shanghai"

    # Request-rate limits per account, device and IP (``limits`` notation, ";"-separated).
    rate_limits: str = "100/minute"
    rate_limit_enabled: bool = True
    redis_namespace: str = "fairslot"

    # Booking rules.
    hold_minutes: int = 5
    max_patients_per_account: int = 4
    max_accounts_per_phone: int = 2
    max_bookings_per_patient_per_day: int = 2
    max_active_future_bookings: int = 5
    cancel_cutoff_minutes: int = 120
    no_show_ban_days: list[int] = [30, 60, 90]
    no_show_window_days: int = 365

    # Random re-release of cancelled slots.
    cooling_min_minutes: int = 10
    cooling_max_minutes: int = 180
    window_cancellations_return: bool = False
    # Slots pushed after their release time go on sale after a random delay in this range.
    late_release_min_minutes: int = 5
    late_release_max_minutes: int = 60
    # Who gets a returned slot of a full session: a waiting patient drawn at random
    # ("random"), or the one who joined the waitlist first ("first_come").
    waitlist_order: Literal["random", "first_come"] = "random"

    # Staff (medical affairs, IT, customer service, schedulers, auditors).
    staff_token_hours: int = 12
    # A reviewer's or an agent's claim on a case or a call lapses after this long.
    review_lock_minutes: int = 30

    # Daily anomaly batch (issue 4): every threshold and window of ``risk.facts.RiskSettings``
    # and ``risk.rings.RingSettings`` (built by ``risk/settings.py``), and the local time
    # (default zone) after which the worker runs yesterday's batch.
    risk_window_days: int = 7
    risk_same_payment_same_department: int = 5
    risk_same_patient_departments: int = 5
    risk_sex_mismatch_repeat: int = 2
    risk_cancellations_without_visit: int = 5
    risk_no_shows: int = 3
    risk_transfer_max_gap_minutes: int = 240
    risk_transfer_strong_repeat: int = 1
    risk_transfer_weak_repeat: int = 2
    risk_synchrony_gap_seconds: int = 3
    risk_synchrony_sessions: int = 3
    risk_shared_device_patients: int = 5
    risk_shared_payment_patients: int = 5
    risk_ring_max_network_patients: int = 25
    risk_ring_min_patients: int = 2
    risk_ring_family_size: int = 5
    risk_ring_family_accounts: int = 2
    risk_ring_min_bookings: int = 5
    risk_ring_scarce_share: float = 0.5
    risk_ring_cancel_rate: float = 0.3
    risk_ring_no_show_rate: float = 0.3
    risk_ring_bookings_per_patient: float = 3.0
    risk_ring_flag_score: int = 4
    risk_run_local_time: str = "01:00"

    @field_validator("cooling_max_minutes")
    @classmethod
    def _cooling_range(cls, value: int) -> int:
        if value < 0:
            raise ValueError("cooling_max_minutes must be >= 0")
        return value

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def effective_data_key(self) -> str:
        return self.data_key or DEV_DATA_KEY

    def effective_hash_key(self) -> str:
        return self.hash_key or DEV_HASH_KEY

    def check_production(self) -> None:
        """Refuse to run a production platform on the published development keys."""
        if self.is_production and (not self.data_key or not self.hash_key):
            raise RuntimeError("FAIRSLOT_DATA_KEY and FAIRSLOT_HASH_KEY must be set in production")


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
