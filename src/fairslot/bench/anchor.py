"""The hand-written anchor: what a team writing a booking endpoint by hand would ship.

``POST /claim`` with ``{"slot_id", "account_id", "patient_id", "channel_id"}`` does, in one
transaction, exactly three statements and nothing else:

1. the claim — ``UPDATE slots SET state = 'held' … WHERE id = :slot AND state = 'open'
   RETURNING session_id``; no row: ``409 slot_taken``;
2. the booking — ``INSERT INTO bookings … SELECT … FROM clinic_sessions`` (the session's
   department and day come with it);
3. the ledger row — ``INSERT INTO slot_events``.

No gate, no rate limits, no rules, no request record, no memo: the product's hold does
all of those too, so the ratio of its throughput to this one's is what the platform's
checks cost. It runs on the same tables, the same database, the same engine settings
(pool size included), the same uvicorn options and as many workers as the product's
server, started as a process of its own (``python -m fairslot.bench.anchor``) while the
bench measures it. Starlette, not FastAPI: a hand-written endpoint needs no dependency
injection; the blocking database work runs on the thread pool, limited to the pool's
size as the product's server limits it (``cli/serve_cmd.py::ThreadLimit``).

The statements are SQLAlchemy Core over the product's own table objects, so that every
column gets the same type processing (time zones on SQLite, enum values) as the
product's writes, and the checks after the run read the rows the same way.
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from anyio import to_thread
from sqlalchemy import Engine, bindparam, insert, select, update
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.config import load_settings
from fairslot.db.base import UTCDateTime
from fairslot.db.engine import make_engine
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState

HOLD = timedelta(minutes=5)
ACTOR = "bench:anchor"

_CLAIM = (
    update(Slot)
    .where(Slot.id == bindparam("slot"), Slot.state == SlotState.OPEN)
    .values(
        state=SlotState.HELD,
        hold_expires_at=bindparam("until", type_=UTCDateTime()),
        version=Slot.version + 1,
    )
    .returning(Slot.session_id)
)
_BOOK = insert(Booking).from_select(
    [
        "id",
        "slot_id",
        "session_id",
        "department_id",
        "session_date",
        "patient_id",
        "account_id",
        "channel_id",
        "status",
        "version",
        "held_at",
        "expires_at",
    ],
    select(
        bindparam("booking", type_=Booking.id.type),
        bindparam("slot", type_=Booking.slot_id.type),
        ClinicSession.id,
        ClinicSession.department_id,
        ClinicSession.session_date,
        bindparam("patient", type_=Booking.patient_id.type),
        bindparam("account", type_=Booking.account_id.type),
        bindparam("channel", type_=Booking.channel_id.type),
        bindparam("status", BookingStatus.HELD, type_=Booking.status.type),
        bindparam("version", 1, type_=Booking.version.type),
        bindparam("now", type_=UTCDateTime()),
        bindparam("until", type_=UTCDateTime()),
    ).where(ClinicSession.id == bindparam("session")),
)
_LEDGER = insert(SlotEvent).values(
    slot_id=bindparam("slot"),
    kind=EventKind.HELD,
    at=bindparam("now"),
    recorded_at=bindparam("now"),
    actor=ACTOR,
    booking_id=bindparam("booking"),
    account_id=bindparam("account"),
    channel_id=bindparam("channel"),
    data={},
)


def claim(engine: Engine, *, slot: str, account: int, patient: int, channel: int) -> str | None:
    """The three statements in one transaction; the new booking's id, or None if the
    slot was not open."""
    now = datetime.now(UTC)
    booking = str(uuid.uuid4())
    params: dict[str, Any] = {
        "slot": slot,
        "booking": booking,
        "account": account,
        "patient": patient,
        "channel": channel,
        "now": now,
        "until": now + HOLD,
    }
    with engine.begin() as conn:
        session_id = conn.execute(_CLAIM, params).scalar()
        if session_id is None:
            return None
        conn.execute(_BOOK, {**params, "session": session_id})
        conn.execute(_LEDGER, params)
    return booking


def create_app(engine: Engine, *, threads: int) -> Starlette:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def post_claim(request: Request) -> Response:
        if to_thread.current_default_thread_limiter().total_tokens != threads:
            to_thread.current_default_thread_limiter().total_tokens = threads
        body = json.loads(await request.body())
        booking = await run_in_threadpool(
            claim,
            engine,
            slot=str(body["slot_id"]),
            account=int(body["account_id"]),
            patient=int(body["patient_id"]),
            channel=int(body["channel_id"]),
        )
        if booking is None:
            return JSONResponse({"error": "slot_taken"}, status_code=409)
        return JSONResponse({"booking_id": booking}, status_code=201)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/claim", post_claim, methods=["POST"])]
    )


def app_from_env() -> Starlette:
    """One worker's app (``uvicorn --factory``): the engine from ``FAIRSLOT_*``."""
    settings = load_settings()
    return create_app(make_engine(settings), threads=settings.db_pool_size)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the bench's hand-written anchor endpoint")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    # The product's serving options (cli/serve_cmd.py), so that only the endpoint differs.
    uvicorn.run(
        "fairslot.bench.anchor:app_from_env",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
