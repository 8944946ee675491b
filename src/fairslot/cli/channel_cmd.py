from __future__ import annotations

from decimal import Decimal

import typer
from rich.table import Table

from fairslot.channels import service as channels
from fairslot.channels.models import ChannelKind
from fairslot.cli.common import command_transaction, console, make_platform

app = typer.Typer(help="Booking channels and their API keys.")


@app.command("create")
def create(
    code: str = typer.Argument(..., help="short code, e.g. wechat"),
    name: str = typer.Option(..., "--name", help="display name"),
    kind: ChannelKind = typer.Option(..., "--kind", help="channel kind"),
    reserved_share: Decimal = typer.Option(
        Decimal(0), "--reserved-share", help="share of each session kept for this channel"
    ),
    reserve_return_minutes: int = typer.Option(
        120,
        "--reserve-return-minutes",
        help="unused reserved slots return to the pool this long before the session",
    ),
) -> None:
    """Create a channel and print its API key (shown once; only its hash is stored)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        channel, key = channels.create_channel(
            db,
            code=code,
            name=name,
            kind=kind,
            reserved_share=reserved_share,
            reserve_return_minutes=reserve_return_minutes,
            now=platform.clock.now(),
        )
    console.print(f"channel [bold]{channel.code}[/] ({channel.kind.value}) created")
    console.print(f"API key (keep it; it is not shown again): [bold yellow]{key}[/]")


@app.command("list")
def list_() -> None:
    """List the channels (keys are never shown)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        rows = channels.list_channels(db, include_inactive=True)
    table = Table("code", "name", "kind", "reserved share", "returns (min before)", "active")
    for c in rows:
        table.add_row(
            c.code,
            c.name,
            c.kind.value,
            str(c.reserved_share),
            str(c.reserve_return_minutes),
            "yes" if c.active else "no",
        )
    console.print(table)
