"""``fairslot alternatives``: ranked alternatives to a session, for staff and support."""

from __future__ import annotations

import typer
from rich.table import Table

from fairslot.alternatives import service as alternatives
from fairslot.bookings.policy import booking_policy
from fairslot.cli.common import command_transaction, console, make_platform

app = typer.Typer(help="Ranked alternatives to a full session.", no_args_is_help=True)


@app.command("for")
def alternatives_for(
    session_id: int = typer.Argument(..., help="the platform's session id"),
    limit: int = typer.Option(10, min=1, max=alternatives.MAX_LIMIT, help="at most this many"),
    patient: int | None = typer.Option(None, help="only what this patient could book"),
    channel: int = typer.Option(0, help="count slots reserved for this channel id as free"),
) -> None:
    """Print the alternatives to SESSION_ID open now, best first."""
    platform = make_platform()
    with command_transaction(platform) as db:
        views = alternatives.alternatives_for(
            db,
            session_id=session_id,
            patient_id=patient,
            now=platform.clock.now(),
            channel_id=channel,
            limit=limit,
            limits=booking_policy(platform.settings).limits,
        )
    table = Table(title=f"alternatives to session {session_id}")
    for column in (
        "#",
        "tier",
        "reason",
        "hospital",
        "department",
        "doctor",
        "title",
        "starts",
        "free",
        "session",
    ):
        table.add_column(column, overflow="fold")
    for view in views:
        table.add_row(
            str(view.rank),
            str(view.tier),
            view.reason,
            view.hospital_name,
            view.department_name,
            view.doctor_name,
            view.doctor_title.value,
            view.starts_at.strftime("%Y-%m-%d %H:%M"),
            str(view.free),
            str(view.session_id),
        )
    console.print(table)
    if not views:
        console.print("no alternatives are open right now")
