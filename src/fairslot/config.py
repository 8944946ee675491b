"""Settings, read from the environment (prefix ``FAIRSLOT_``) or a ``.env`` file.

Built by :func:`load_settings`, never at import time, so tests pass their own.
"""

from __future__ import annotations

import enum
import ipaddress
import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fairslot.crypto import Protector, is_fernet_key

# Published in this repository: any platform that runs on them protects nothing.
DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktZG8tbm90LXVzZS0xMjM="
DEV_HASH_KEY = "dev-only-hash-key-do-not-use-in-production"
MIN_HASH_KEY_BYTES = 32


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRSLOT_", env_file=".env", extra="ignore")

    # Any letter case is read ("Production" is production); any other name is refused.
    environment: Environment = Field(
        Environment.DEVELOPMENT, description="development | test | production"
    )
    database_url: str = "sqlite:///./fairslot.db"
    redis_url: str | None = None
    db_pool_size: int = 10
    db_lock_timeout_ms: int = 5000
    # psycopg prepares a statement on the server after 5 runs on a connection. Behind a
    # transaction-mode pooler older than PgBouncer 1.21 the next transaction may reach a
    # server connection that never saw it: false turns server-side prepares off
    # (docs/scaling.md, "Connections, through PgBouncer").
    db_server_prepares: bool = True
    # Request records are written in batches off the request's transaction every N ms
    # (sooner at N rows) and at shutdown (``audit/recorder.py``); a crash loses at most
    # the last interval's. 0: each record in its request's own transaction.
    request_record_flush_ms: int = Field(50, ge=0, le=5000)
    request_record_flush_rows: int = Field(500, ge=1)

    # Personal data protection. Development falls back to published dev keys; production
    # refuses to start without real ones (see ``check_production``).
    data_key: str | None = Field(None, description="Fernet key (urlsafe base64, 32 bytes)")
    hash_key: str | None = Field(None, description="secret for keyed hashes of ID numbers etc.")
    # Key rotation without downtime (``docs/personal-data.md``): the keys the data was
    # encrypted under before ``data_key``, newest first, ","-separated. They still decrypt;
    # ``fairslot keys reencrypt`` moves every ciphertext to ``data_key``, then they can go.
    old_data_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="former Fernet keys, still accepted for decryption"
    )
    # Request records older than this lose their request context (device, address, Wi-Fi,
    # user agent, payment hash) in the worker's daily retention job, except those an open
    # case still shows. 180 days: the longest look-back that reads them (a case's linked
    # patients, ``cases/collateral.py::LINKED_DAYS``).
    request_context_retention_days: int = Field(180, ge=14, le=3650)

    default_timezone: str = "Asia/Shanghai"

    # Request-rate limits per account, device and IP (``limits`` notation, ";"-separated),
    # layered: the per-second layer stops a burst at release time before the minute is used.
    rate_limits: str = "20/second;100/minute"
    rate_limit_enabled: bool = True
    redis_namespace: str = "fairslot"

    # Booking rules.
    hold_minutes: int = 5
    # A release batch's window (seconds after release) where a hospital sets none.
    batch_window_seconds: int = 60
    # A clinic with under 3 observed release days is judged scarce, so batched from its
    # first release (allocation/scarcity.py): a new hospital's first release is exactly
    # when grab software wins a race. The hospital may still choose first-come for such a
    # clinic (PUT /hospital/v1/departments/{id}/allocation) until history shows it sells
    # out at release. Off: first-come until history shows scarcity.
    scarce_without_history: bool = True
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
    # Sign-in throttle (``staff/throttle.py``): per (username, address) pair, the first
    # failures are free, then each further failure doubles the wait up to the cap; one
    # address failing across usernames is throttled the same way from its own threshold.
    # A username is never locked out from an address that has not failed.
    staff_login_free_failures: int = Field(5, ge=1)
    staff_login_address_free_failures: int = Field(20, ge=1)
    staff_login_max_delay_seconds: int = Field(900, ge=1)
    staff_login_window_minutes: int = Field(60, ge=1)
    # At most this many password verifications (argon2, tens of ms of CPU and 64 MiB each)
    # at once per process; a sign-in that cannot start one within the wait gets 503.
    staff_login_concurrency: int = Field(2, ge=1)
    staff_login_wait_seconds: float = Field(2.0, ge=0)
    # One JSON line per request on the ``fairslot.access`` logger (``api/access_log.py``).
    access_log: bool = True
    # A reviewer's or an agent's claim on a case or a call lapses after this long.
    review_lock_minutes: int = 30

    # Follow-up calls (issue 4): the daily random sample of confirmed bookings that
    # customer service calls back, as a share of the day's bookings and at most this many.
    followup_sample_rate: float = Field(0.01, ge=0, le=1)
    followup_sample_max: int = Field(200, ge=0)
    # --- The real-time gate (issue 4): velocity signals, suspects, trusted proxies. ---
    # Decisions: allow / review (let through, recorded for the daily batch) / block.
    velocity_enabled: bool = True
    # Patients bound to one account within the window: review from ``review_at``; block
    # from ``block_at``. With the cap of 4 per account, a 6th binding within minutes
    # means two unbind/rebind swaps (identities churned through one account); a family
    # binding its four members, or correcting one mistake, is reviewed, never blocked.
    velocity_binding_window_minutes: int = Field(10, ge=1)
    velocity_binding_review_at: int = Field(3, ge=1)
    velocity_binding_block_at: int = Field(6, ge=1)
    # Distinct patients booked through one device over the window ("more than 5").
    velocity_device_window_days: int = Field(7, ge=1)
    velocity_device_review_at: int = Field(6, ge=1)
    velocity_device_block_at: int = Field(20, ge=1)
    # Channels whose devices serve many people by design (the window, the call centre).
    velocity_shared_device_kinds: list[str] = ["window", "phone"]
    # Faster than a person: paying within N s of the hold; an account's first hold
    # (intent, waitlist join) within N s of its registration. 0 turns a signal off.
    velocity_min_confirm_seconds: int = Field(3, ge=0)
    velocity_min_first_hold_seconds: int = Field(15, ge=0)
    # A hold with no availability request from its device this recently (a weak signal).
    velocity_browse_window_minutes: int = Field(10, ge=0)
    # The n-th fast request of one account or device within the window is blocked.
    velocity_repeat_window_minutes: int = Field(60, ge=1)
    velocity_repeat_block_at: int = Field(3, ge=2)
    # What a velocity block does (never a blacklist block): "refuse" (403) or "slow": wait
    # ``suspect_delay_seconds`` (at most 10) then let the request through as a review, with
    # at most ``suspect_max_concurrent`` requests waiting at once per process.
    suspect_action: Literal["refuse", "slow"] = "refuse"
    suspect_delay_seconds: float = Field(3.0, ge=0, le=10)
    suspect_max_concurrent: int = Field(4, ge=1, le=16)
    # How long a caller the gate let hold (allow, no signal) is, in the same process,
    # refused a session it found sold out without being screened again: the sold-out
    # lane (api/sold_out_lane.py). Each such refusal is still rate-limited and recorded.
    # 0 turns the lane off: every refusal is screened.
    sold_out_lane_seconds: float = Field(60.0, ge=0, le=600)
    # A plain hold or confirmation runs beside FastAPI's router (api/booking_lane.py): the
    # route's work and answers without its per-request dependency solving. False: every
    # one takes its route.
    booking_lane: bool = True
    # Proxies whose X-Forwarded-For is believed (CIDRs, comma-separated or a JSON list).
    # Loopback only by default, like uvicorn's own default: a proxy on this host.
    trusted_proxies: Annotated[list[str], NoDecode] = ["127.0.0.1/32", "::1/128"]
    # The patients' sign-in codes (``signin/sms.py``): "log" writes them to the server log
    # (development and the demo only; production refuses it), "http" posts them to a gateway.
    sms_sender: Literal["log", "http"] = "log"
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    # Paying for a hold (``payments/providers.py``): "sandbox" is the site's own cashier page
    # (development and the demo only; production refuses it), "http" a provider's cashier
    # at ``payment_url``; both sign redirects and callbacks with ``payment_secret``.
    payment_provider: Literal["sandbox", "http"] = "sandbox"
    payment_url: str | None = None
    payment_secret: str | None = None
    # Prometheus metrics at /metrics (``observability/http.py``), for operators only: the
    # HTTP peer must be inside ``metrics_networks`` (CIDRs, like ``trusted_proxies``) and,
    # when ``metrics_token`` is set, send ``Authorization: Bearer <token>``. Production
    # refuses metrics without a token (see ``check_production``).
    metrics_enabled: bool = True
    metrics_token: str | None = None
    metrics_networks: Annotated[list[str], NoDecode] = ["127.0.0.1/32", "::1/128"]

    @field_validator("environment", mode="before")
    @classmethod
    def _environment_name(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("trusted_proxies", "metrics_networks", mode="before")
    @classmethod
    def _cidr_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            value = [str(v).strip() for v in value if str(v).strip()]
            for cidr in value:
                ipaddress.ip_network(cidr, strict=False)  # ValueError: not a CIDR
        return value

    @model_validator(mode="after")
    def _velocity_order(self) -> Settings:
        for name in ("binding", "device"):
            if getattr(self, f"velocity_{name}_block_at") < getattr(
                self, f"velocity_{name}_review_at"
            ):
                raise ValueError(f"velocity_{name}_block_at must be >= velocity_{name}_review_at")
        return self

    # Red-team simulator (``fairslot simulate``). With ``sim_clock_start`` set the platform
    # runs on an accelerated clock: it reads that (aware) instant at the real instant
    # ``sim_clock_anchor`` (default: when the platform is built) and runs
    # ``sim_clock_speed`` simulated seconds per real second, changing speed at the
    # simulated instants of ``sim_clock_changes`` (JSON: [["<instant>", speed], ...]);
    # refused in production. The switches below turn protections off for the baseline
    # (with cooling 0, rate limits and velocity off); ``check_production`` refuses them all.
    sim_clock_start: datetime | None = None
    sim_clock_speed: float = Field(1.0, gt=0)
    sim_clock_anchor: datetime | None = None
    sim_clock_changes: list[tuple[datetime, float]] = []
    gate_enabled: bool = True  # the blacklist check in api/deps.py::gate
    waitlist_enabled: bool = True  # patients may join a full session's waitlist

    @field_validator("sim_clock_start", "sim_clock_anchor")
    @classmethod
    def _aware_instant(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give an aware ISO instant, e.g. 2026-11-21T23:50:00+08:00")
        return value

    @field_validator("sim_clock_changes")
    @classmethod
    def _aware_changes(cls, value: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
        if any(at.tzinfo is None or speed <= 0 for at, speed in value):
            raise ValueError("each change is [aware ISO instant, positive speed]")
        return value

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
    risk_realtime_min_requests: int = 2
    # Operators who lose (risk/operators.py): see RiskSettings for each.
    risk_payment_accounts: int = 3
    risk_payment_patients: int = 3
    risk_device_accounts: int = 3
    risk_poll_count: int = 120
    risk_poll_mean_gap_seconds: float = 30.0
    risk_reappear_wifi_patients: int = 2
    risk_ring_max_network_patients: int = 25
    risk_ring_min_patients: int = 2
    risk_ring_family_size: int = 5
    risk_ring_family_accounts: int = 2
    risk_ring_min_bookings: int = 5
    risk_ring_scarce_share: float = 0.5
    risk_ring_cancel_rate: float = 0.3
    risk_ring_no_show_rate: float = 0.3
    risk_ring_bookings_per_patient: float = 3.0
    risk_ring_flagged_requests: int = 3
    risk_ring_flag_score: int = 4
    risk_run_local_time: str = "01:00"

    @field_validator("old_data_keys", mode="before")
    @classmethod
    def _old_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @model_validator(mode="after")
    def _retention_covers_the_windows(self) -> Settings:
        """Request records must outlive every window that reads them: the daily batch's
        and the gate's device window (a shorter retention would blind them)."""
        needed = max(self.risk_window_days, self.velocity_device_window_days)
        if self.request_context_retention_days < needed:
            raise ValueError(
                "FAIRSLOT_REQUEST_CONTEXT_RETENTION_DAYS must be at least "
                f"{needed} (the longest window that reads request records)"
            )
        return self

    @field_validator("cooling_max_minutes")
    @classmethod
    def _cooling_range(cls, value: int) -> int:
        if value < 0:
            raise ValueError("cooling_max_minutes must be >= 0")
        return value

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def effective_data_key(self) -> str:
        return self.data_key or DEV_DATA_KEY

    def effective_hash_key(self) -> str:
        return self.hash_key or DEV_HASH_KEY

    def check_production(self) -> None:
        """Refuse to run a production platform on keys that protect nothing: missing, the
        published development keys, a data key that is not a Fernet key (a passphrase or a
        mistyped key would otherwise become some other key) or a hash key shorter than
        ``MIN_HASH_KEY_BYTES`` (the keyed hashes of ID numbers are only as strong as it);
        nor with a protection switched off (:func:`disabled_protections`)."""
        if not self.is_production:
            return
        problems = []
        if not self.data_key:
            problems.append("FAIRSLOT_DATA_KEY must be set in production")
        elif self.data_key.strip() == DEV_DATA_KEY:
            problems.append("FAIRSLOT_DATA_KEY is the published development key")
        elif not is_fernet_key(self.data_key):
            problems.append(
                "FAIRSLOT_DATA_KEY must be a Fernet key (32 bytes in urlsafe base64, 44 "
                "characters; make one with `python -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'`)"
            )
        for n, old in enumerate(self.old_data_keys, 1):
            # An old key still decrypts everything it ever encrypted: as strong or gone.
            if old.strip() == DEV_DATA_KEY:
                problems.append(f"FAIRSLOT_OLD_DATA_KEYS #{n} is the published development key")
            elif not is_fernet_key(old):
                problems.append(f"FAIRSLOT_OLD_DATA_KEYS #{n} must be a Fernet key")
        if not self.hash_key:
            problems.append("FAIRSLOT_HASH_KEY must be set in production")
        elif self.hash_key == DEV_HASH_KEY:
            problems.append("FAIRSLOT_HASH_KEY is the published development key")
        elif len(self.hash_key.encode()) < MIN_HASH_KEY_BYTES:
            problems.append(f"FAIRSLOT_HASH_KEY must be at least {MIN_HASH_KEY_BYTES} bytes")
        problems += disabled_protections(self)
        problems += unprotected_metrics(self)
        if problems:
            raise RuntimeError("; ".join(problems))


def make_protector(settings: Settings) -> Protector:
    """The platform's protector: the current data key, the old ones, the hash key."""
    return Protector(
        data_key=settings.effective_data_key(),
        hash_key=settings.effective_hash_key(),
        old_data_keys=settings.old_data_keys,
    )


def disabled_protections(settings: Settings) -> list[str]:
    """The simulator's baseline switches that are set: each turns a protection off (or puts
    the platform on a clock nobody lives by), so a production platform refuses them all.
    Why each matters: without the gate a blacklisted scalper books; without cooling a
    cancelled slot is back on sale at a moment the canceller chose; without the waitlist a
    returned slot goes to whoever polls fastest; without rate limits and velocity signals
    a script is as welcome as a person."""
    baseline_only = "is for the simulator's baseline only"
    problems = []
    if not settings.gate_enabled:
        problems.append(f"FAIRSLOT_GATE_ENABLED=false {baseline_only}")
    if not settings.rate_limit_enabled:
        problems.append(f"FAIRSLOT_RATE_LIMIT_ENABLED=false {baseline_only}")
    if not settings.velocity_enabled:
        problems.append(f"FAIRSLOT_VELOCITY_ENABLED=false {baseline_only}")
    if not settings.waitlist_enabled:
        problems.append(f"FAIRSLOT_WAITLIST_ENABLED=false {baseline_only}")
    if max(settings.cooling_min_minutes, settings.cooling_max_minutes) <= 0:
        # ``rules.draw_cooling`` draws between the two, whichever is larger.
        problems.append(f"FAIRSLOT_COOLING_*_MINUTES=0 (no cooling) {baseline_only}")
    if (
        settings.sim_clock_start is not None
        or settings.sim_clock_anchor is not None
        or settings.sim_clock_changes
        or settings.sim_clock_speed != 1.0
    ):
        problems.append("FAIRSLOT_SIM_CLOCK_* is for the simulator only; unset it in production")
    return problems


def unprotected_metrics(settings: Settings) -> list[str]:
    """``/metrics`` on with no token (or a guessable one). The network check alone is not
    enough: behind a reverse proxy on the same host every patient's request arrives from
    loopback, and the figures (routes, refusals, tonight's fill per hospital) are the
    operators' business."""
    if not settings.metrics_enabled:
        return []
    token = settings.metrics_token
    if not token:
        return [
            "FAIRSLOT_METRICS_TOKEN must be set in production (or FAIRSLOT_METRICS_ENABLED=false)"
        ]
    if len(token.encode()) < MIN_HASH_KEY_BYTES:
        return [f"FAIRSLOT_METRICS_TOKEN must be at least {MIN_HASH_KEY_BYTES} bytes"]
    return []


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
