"""How much the real-time gate's velocity signals add to one hold, on PostgreSQL.

Builds a throw-away database next to the one given, fills ``request_records`` and
``bookings`` with a week of background traffic (so the indexes have realistic depth),
then makes ``--holds`` HTTP holds with the velocity signals on and as many with them off,
interleaved, and reports the medians and the 95th percentiles; and times the signals'
queries alone (``gate/realtime.py::assess``) for the same kind of hold.

    PYTHONPATH=src python scripts/gate_latency.py \\
        --pg postgresql+psycopg://postgres@127.0.0.1:5432/test --holds 300

Uses the test factories (``tests/factories``) to build the world. Development tool only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories.demand import create_account, create_patient
from factories.world import RELEASED_DAY, make_world
from fairslot.api.app import create_app
from fairslot.audit.service import PendingRecord
from fairslot.bootstrap import Platform, bootstrap
from fairslot.channels.models import Channel
from fairslot.clock import ManualClock
from fairslot.config import load_settings
from fairslot.context import RequestContext
from fairslot.db import migrate
from fairslot.gate import realtime
from fairslot.gate import repository as gate_repo
from fairslot.gate.ratelimit import make_rate_limiter

START = dt.datetime(2026, 11, 22, 0, 0, tzinfo=dt.UTC)
DEVICES = 2000


def background(engine_url: str, *, records: int, bookings: int, slot_id: str, ids: dict) -> None:
    """A week of other people's requests and old bookings, spread over many devices."""
    engine = create_engine(engine_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO request_records (at, action, outcome, channel_id, account_id,
                    device_id, ip, decision)
                SELECT :start - (random() * interval '7 days'),
                       (ARRAY['availability','hold','confirm','bind_patient'])[1 + (g % 4)],
                       'ok', :channel, 1000000 + (g % 50000), 'dev-' || (g % :devices),
                       '198.51.100.' || (g % 250),
                       CASE WHEN g % 50 = 0 THEN 'review' ELSE 'allow' END
                FROM generate_series(1, :n) AS g
                """
            ),
            {"start": START, "channel": ids["channel"], "devices": DEVICES, "n": records},
        )
        conn.execute(
            text(
                """
                INSERT INTO bookings (id, slot_id, session_id, department_id, session_date,
                    patient_id, account_id, channel_id, status, version, held_at, expires_at,
                    device_id)
                SELECT gen_random_uuid()::text, :slot, :session, :department, :day, :patient,
                       :account, :channel, 'expired', 1,
                       :start - (random() * interval '30 days'), :start,
                       'dev-' || (g % :devices)
                FROM generate_series(1, :n) AS g
                """
            ),
            {**ids, "slot": slot_id, "start": START, "devices": DEVICES, "n": bookings},
        )
        conn.execute(text("ANALYZE request_records; ANALYZE bookings"))
    engine.dispose()


def summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"{label}: median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--holds", type=int, default=300)
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--bookings", type=int, default=100_000)
    args = parser.parse_args()

    name = f"fairslot_gate_latency_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
    try:
        run(url, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, args: argparse.Namespace) -> None:
    platform = bootstrap(load_settings(database_url=url), clock=ManualClock(START))
    migrate.upgrade(platform.engine)
    platform.limiter = make_rate_limiter(limits="", redis_url=None, enabled=False)
    db = platform.sessions()
    world = make_world(db, platform)
    sessions = [
        world.session(day=RELEASED_DAY + dt.timedelta(days=n), capacity=200)
        for n in range(-(-2 * args.holds // 200))
    ]
    people = []
    for _ in range(2 * args.holds):
        account = create_account(db, platform, channel_id=world.channel.id)
        people.append((account, create_patient(db, platform, account=account)))
    db.commit()
    slot = world.slots(sessions[0])[0]
    ids = {
        "channel": world.channel.id,
        "session": sessions[0].id,
        "department": world.department.id,
        "day": RELEASED_DAY,
        "patient": people[0][1].id,
        "account": people[0][0].id,
    }
    background(url, records=args.records, bookings=args.bookings, slot_id=slot.id, ids=ids)
    platform.clock.advance(dt.timedelta(hours=1))  # the accounts are not brand new

    rng = random.Random(7)
    timings: dict[bool, list[float]] = {True: [], False: []}
    with TestClient(create_app(platform)) as client:
        for n, (account, patient) in enumerate(people):
            on = n % 2 == 0
            platform.settings = platform.settings.model_copy(update={"velocity_enabled": on})
            session = sessions[n // 200]
            headers = {
                "X-Channel-Key": world.channel_key,
                "X-Device-Id": f"dev-{rng.randrange(DEVICES)}",
                "X-End-User-IP": "203.0.113.9",
            }
            body = {"account_id": account.id, "patient_id": patient.id, "session_id": session.id}
            started = time.perf_counter()
            response = client.post("/v1/holds", json=body, headers=headers)
            timings[on].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.text

    alone: list[float] = []
    settings = platform.settings.model_copy(update={"velocity_enabled": True})
    for account, patient in people[: args.holds]:
        record = PendingRecord(
            action="hold",
            at=platform.clock.now(),
            ctx=RequestContext(
                actor="patient",
                channel_id=world.channel.id,
                account_id=account.id,
                device_id=f"dev-{rng.randrange(DEVICES)}",
            ),
            account_id=account.id,
        )
        with platform.sessions() as session:
            # As in a request: the transaction is open and the channel already loaded.
            session.get(Channel, world.channel.id)
            started = time.perf_counter()
            realtime.assess(
                session,
                record=record,
                settings=settings,
                now=platform.clock.now(),
                patient_id=patient.id,
            )
            alone.append((time.perf_counter() - started) * 1000)
    fresh = create_account(db, platform, channel_id=world.channel.id)  # a brand-new account
    db.commit()
    plans = explain(
        platform,
        record=PendingRecord(
            action="hold",
            at=platform.clock.now(),
            ctx=RequestContext(
                actor="patient", channel_id=world.channel.id, account_id=fresh.id, device_id="dev-7"
            ),
            account_id=fresh.id,
        ),
        patient_id=people[0][1].id,
    )
    db.close()
    platform.engine.dispose()

    print(
        f"PostgreSQL, {args.records} request records and {args.bookings} bookings in the "
        f"background, {args.holds} holds each way:"
    )
    print(summary("  HTTP hold, signals off", timings[False]))
    print(summary("  HTTP hold, signals on ", timings[True]))
    added = statistics.median(timings[True]) - statistics.median(timings[False])
    print(f"  added by the signals (difference of medians): {added:.2f} ms")
    print(summary("  the signals' queries alone (assess)", alone))
    for name, plan in plans.items():
        print(f"  plan of {name}: {plan}")


def explain(platform: Platform, *, record: PendingRecord, patient_id: int) -> dict[str, str]:
    """PostgreSQL's plan for every query the signals (and the batch's read) run: each
    statement is captured as it runs, then explained with its own parameters."""
    captured: list[tuple[str, object]] = []

    def capture(*args: object) -> None:
        captured.append((str(args[2]), args[3]))

    settings = platform.settings.model_copy(update={"velocity_enabled": True})
    event.listen(platform.engine, "before_cursor_execute", capture)
    with platform.sessions() as session:
        realtime.assess(
            session,
            record=record,
            settings=settings,
            now=platform.clock.now(),
            patient_id=patient_id,
        )
        gate_repo.review_decisions(
            session, start=START - dt.timedelta(days=1), end=platform.clock.now()
        )
    event.remove(platform.engine, "before_cursor_execute", capture)
    plans = {}
    raw = platform.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in captured:
            cursor.execute("EXPLAIN " + statement, parameters)
            lines = [row[0].strip() for row in cursor.fetchall()]
            name = " ".join(statement.split())[:70]
            plans[name] = " / ".join(line for line in lines if "Scan" in line)
    finally:
        raw.close()
    return plans


if __name__ == "__main__":
    main()
