"""The platform the simulator plays against: one it starts, or one already running.

A local platform gets a fresh database (a temporary SQLite file, or a new PostgreSQL
database), migrated, with the hospitals and channels an operator would set up (through
the services, before the server starts); then the real server, ``fairslot serve`` in a
subprocess on a free port, runs with the mode's settings and the simulation clock.
Everything else — schedules, accounts, bookings — goes through the HTTP API. After the
day the server is restarted on the same database with its clock moved on (attendance,
review, the next release day), and the platform's own commands (``fairslot risk run``,
``fairslot staff create``) run on that database as the worker and an operator would.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

import fairslot
from fairslot.bootstrap import bootstrap
from fairslot.channels import service as channels
from fairslot.channels.models import ChannelKind
from fairslot.clock import AcceleratedClock
from fairslot.config import load_settings
from fairslot.crypto import Protector
from fairslot.db import migrate
from fairslot.db.engine import unit_of_work
from fairslot.db.scratch import DEFAULT_PG_ADMIN, fresh_database
from fairslot.hospitals import service as hospitals
from fairslot.localserver import ServerNotReady, free_port, wait_healthy
from fairslot.patients.service import patient_key_for
from fairslot.sim.modes import Mode, platform_env
from fairslot.sim.runner import LATE_NOTE_S, SimulationError, Target
from fairslot.sim.scenario import CITY, GRADE, Person

HOSPITALS = (("SIMH1", "模拟第一医院"), ("SIMH2", "模拟第二医院"))
CHANNELS = (("wechat", "微信", ChannelKind.WECHAT), ("alipay", "支付宝", ChannelKind.ALIPAY))
# The clock is anchored this far ahead of the launch: the server is up before it starts.
STARTUP_MARGIN_S = 6.0
STARTUP_ATTEMPTS = 3  # margins of 6, 18 and 54 s, or longer when a start took longer
# How long one start may take before the run fails. A loaded 2-core machine starting four
# servers at once has taken over 90 s; a late start is retried (``LocalPlatform.start``).
STARTUP_TIMEOUT_S = 240.0
SWEEP_EVERY_S = "0.25"  # real seconds between the in-process sweeps (draws, re-releases)
DEFAULT_PG_ADMIN_URL = DEFAULT_PG_ADMIN
COMMAND_TIMEOUT_S = 300.0
_CLI = (sys.executable, "-c", "from fairslot.cli.main import app; app()")


class LocalPlatform:
    """A platform the simulator started: its database, and its server, which can be
    restarted on the same database with the clock set to a later moment (the platform's
    clock is a setting, so moving it means a new server process)."""

    def __init__(
        self,
        *,
        mode: Mode,
        database_url: str,
        hospital_keys: tuple[str, ...],
        channel_keys: dict[str, str],
        workdir: Path,
        hash_key: str,
    ) -> None:
        self.mode = mode
        self.database_url = database_url
        self.hospital_keys = hospital_keys
        self.channel_keys = channel_keys
        self.workdir = workdir
        self.log_path = workdir / f"server-{mode.value}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._clock_env: dict[str, str] = {}
        self.target: Target | None = None
        # The platform's keyed-hash secret, the simulator's own: it can then tell which of
        # its identities a case names from the stored ID hash (``id_hashes``), exactly.
        self.hash_key = hash_key

    def start(
        self,
        *,
        clock_start: datetime,
        speed: float,
        changes: list[tuple[datetime, float]] | None = None,
        margin_s: float = STARTUP_MARGIN_S,
    ) -> Target:
        """Serve with the clock reading ``clock_start`` ``margin_s`` real seconds from now.

        On a busy machine the server can come up after its clock has started, and a fast
        clock would then begin the day late (the actors miss the release): it is started
        again with a longer margin — three times the last, or half as long again as the
        last start took, whichever is longer — up to ``STARTUP_ATTEMPTS`` times.
        """
        for _ in range(STARTUP_ATTEMPTS - 1):
            launched = time.monotonic()
            target = self._launch(
                clock_start=clock_start, speed=speed, changes=changes, margin_s=margin_s
            )
            late_s = (datetime.now(UTC) - target.clock.anchor).total_seconds()
            if late_s * speed <= LATE_NOTE_S:
                return target
            margin_s = max(margin_s * 3, 1.5 * (time.monotonic() - launched))
        return self._launch(
            clock_start=clock_start, speed=speed, changes=changes, margin_s=margin_s
        )

    def _launch(
        self,
        *,
        clock_start: datetime,
        speed: float,
        changes: list[tuple[datetime, float]] | None,
        margin_s: float,
    ) -> Target:
        self.stop()
        changes = changes or []
        anchor = datetime.now(UTC) + timedelta(seconds=margin_s)
        self._clock_env = platform_env(
            self.mode, clock_start=clock_start, clock_anchor=anchor, speed=speed, changes=changes
        )
        port = free_port()
        command = [
            *_CLI,
            "serve",
            "--port",
            str(port),
            "--no-upgrade",
            "--sweep-every",
            SWEEP_EVERY_S,
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )
        url_base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(
                url_base, process=self._process, log=self.log_path, timeout=STARTUP_TIMEOUT_S
            )
        except ServerNotReady as exc:
            raise SimulationError(str(exc)) from exc
        self.target = Target(
            url=url_base,
            channel_keys=self.channel_keys,
            hospital_codes=tuple(code for code, _ in HOSPITALS),
            hospital_keys=self.hospital_keys,
            clock=AcceleratedClock(start=clock_start, speed=speed, anchor=anchor, changes=changes),
        )
        return self.target

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def env(self) -> dict[str, str]:
        """The environment of the platform's processes: its database, its mode's settings
        and the current simulation clock."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRSLOT_")}
        env |= {
            "FAIRSLOT_DATABASE_URL": self.database_url,
            "FAIRSLOT_ENVIRONMENT": "development",
            "FAIRSLOT_HASH_KEY": self.hash_key,
        }
        # The server and the commands run the very code the simulator imported.
        source = str(Path(fairslot.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        return env | self._clock_env

    def id_hashes(self, persons: Iterable[Person]) -> dict[str, str]:
        """Each person's ID hash as this platform stores it -> the person's key."""
        protector = Protector(data_key=Fernet.generate_key().decode(), hash_key=self.hash_key)
        return {
            key: person.key
            for person in persons
            if (key := patient_key_for(person.id_number, protector=protector)) is not None
        }

    def command(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        """Run ``fairslot ARGS`` on the platform's database, as an operator or the worker
        would; its output, or :class:`SimulationError` if it fails."""
        done = subprocess.run(
            [*_CLI, *args],
            env=self.env() | (extra_env or {}),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise SimulationError(
                f"fairslot {args[0]} {args[1] if len(args) > 1 else ''} failed "
                f"({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        return done.stdout


@contextmanager
def local_platform(
    *,
    mode: Mode,
    clock_start: datetime,
    speed: float,
    changes: list[tuple[datetime, float]],
    workdir: Path,
    db: str = "sqlite",
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL,
) -> Iterator[LocalPlatform]:
    """A fresh platform for ``mode``, served until the block ends."""
    with _database(db, workdir=workdir, name=mode.value, pg_admin_url=pg_admin_url) as url:
        hash_key = secrets.token_hex(32)
        hospital_keys, channel_keys = _set_up(url, now=clock_start, hash_key=hash_key)
        platform = LocalPlatform(
            mode=mode,
            database_url=url,
            hospital_keys=hospital_keys,
            channel_keys=channel_keys,
            workdir=workdir,
            hash_key=hash_key,
        )
        try:
            platform.start(clock_start=clock_start, speed=speed, changes=changes)
            yield platform
        finally:
            platform.stop()


def remote_platform(
    *, url: str, hospitals_given: list[tuple[str, str]], channel_key: str, speed: float
) -> Target:
    """A platform already running on the simulation clock at a constant ``speed``; its
    simulated "now" is read once from ``/healthz``."""
    before = datetime.now(UTC)
    answer = httpx.get(f"{url.rstrip('/')}/healthz", timeout=10)
    after = datetime.now(UTC)
    answer.raise_for_status()
    reported = answer.json().get("now")
    if not reported:
        raise SimulationError(f"{url}/healthz does not report the platform's clock")
    return Target(
        url=url.rstrip("/"),
        channel_keys={code: channel_key for code, _, _ in CHANNELS},
        hospital_codes=tuple(code for code, _ in hospitals_given),
        hospital_keys=tuple(key for _, key in hospitals_given),
        clock=AcceleratedClock(
            start=datetime.fromisoformat(reported),
            speed=speed,
            anchor=before + (after - before) / 2,
        ),
    )


@contextmanager
def _database(kind: str, *, workdir: Path, name: str, pg_admin_url: str) -> Iterator[str]:
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        path.unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    if kind != "postgresql":
        raise SimulationError(f"unknown database kind {kind!r}: sqlite or postgresql")
    with fresh_database(
        backend=kind,
        token=f"{name}_{uuid.uuid4().hex[:8]}",
        pg_admin_url=pg_admin_url,
        prefix="fairslot_sim",
    ) as url:
        yield url


def _set_up(url: str, *, now: datetime, hash_key: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Migrate, and register the hospitals and channels as an operator would."""
    platform = bootstrap(load_settings(database_url=url, hash_key=hash_key))
    try:
        migrate.upgrade(platform.engine)
        with unit_of_work(platform.sessions) as db:
            hospital_keys = tuple(
                hospitals.create_hospital(db, code=code, name=name, grade=GRADE, city=CITY)[1]
                for code, name in HOSPITALS
            )
            channel_keys = {
                code: channels.create_channel(db, code=code, name=name, kind=kind, now=now)[1]
                for code, name, kind in CHANNELS
            }
    finally:
        platform.engine.dispose()
    return hospital_keys, channel_keys
