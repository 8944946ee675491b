from __future__ import annotations

from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from fairslot.bookings import repository as booking_repo
from fairslot.bookings import transitions
from fairslot.cli.common import command_transaction, console, err_console, make_platform
from fairslot.errors import DomainError
from fairslot.ledger import repository as ledger_repo
from fairslot.ledger.replay import LedgerCorrupt, replay
from fairslot.ledger.trace import slot_of_booking

app = typer.Typer(help="Slots and their ledgers.")


@app.command("trace")
def trace(
    guid: str | None = typer.Argument(None, help="the slot's GUID"),
    booking: str | None = typer.Option(None, "--booking", help="or: a booking id (its slot)"),
) -> None:
    """Print a slot's full history as a table, with the state replayed from it.

    Events the clock has already made due (the release, a re-release) are written first.
    The console shows the same ledger at /console/slots/GUID.
    """
    if (guid is None) == (booking is None):
        raise typer.BadParameter("give a slot GUID or --booking BOOKING_ID, not both")
    platform = make_platform()
    with command_transaction(platform) as db:
        if booking is not None:
            try:
                guid = slot_of_booking(db, booking_id=booking)
            except DomainError as exc:
                err_console.print(f"[red]{exc.code}[/]: no booking {booking}")
                raise typer.Exit(1) from exc
        assert guid is not None
        slot = booking_repo.get_slot(db, guid)
        session = booking_repo.get_session(db, slot.session_id) if slot else None
        if slot is None or session is None:
            err_console.print(f"[red]slot_not_found[/]: no slot {guid}")
            raise typer.Exit(1)
        transitions.settle_slot(db, slot=slot, session=session, now=platform.clock.now())
        db.flush()
        slot = booking_repo.get_slot(db, guid)
        assert slot is not None
        events = ledger_repo.history(db, guid)
        tz = ZoneInfo(booking_repo.hospital_timezone(db, session.hospital_id))

    table = Table(title=f"slot {guid} — session {session.his_session_id} no. {slot.number}")
    for column in (
        "#",
        "time",
        "event",
        "actor",
        "booking",
        "patient",
        "account",
        "channel",
        "device",
        "network",
        "payment",
        "details",
    ):
        table.add_column(column, overflow="fold")
    for i, e in enumerate(events, 1):
        network = " / ".join(x for x in (e.ip_label, (e.wifi_key or "")[:10]) if x)
        table.add_row(
            str(i),
            e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            e.kind.value,
            e.actor,
            (e.booking_id or "")[:8],
            (e.patient_key or "")[:10],
            str(e.account_id or ""),
            str(e.channel_id or ""),
            (e.device_key or "")[:10],
            network,
            (e.payment_account_hash or "")[:10],
            ", ".join(f"{k}={v}" for k, v in e.data.items()),
        )
    console.print(table)
    try:
        replayed = replay((e.kind, e.data) for e in events)
        match = "matches" if replayed.state == slot.state else "DOES NOT MATCH"
        console.print(f"state: [bold]{slot.state.value}[/] (ledger replay {match})")
    except LedgerCorrupt as exc:
        console.print(f"[red]ledger cannot be replayed: {exc}[/]")
        raise typer.Exit(2) from exc
