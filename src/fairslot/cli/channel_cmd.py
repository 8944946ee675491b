from __future__ import annotations

from decimal import Decimal

import typer
from rich.table import Table

from fairslot.channels import service as channels
from fairslot.channels import staff_actions
from fairslot.channels.models import ChannelKind
from fairslot.cli.common import command_transaction, console, make_platform
from fairslot.staff.audit import cli_actor

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


@app.command("rotate-key")
def rotate_key(
    code: str = typer.Argument(..., help="the channel's code"),
    by: str = typer.Option(..., "--by", help="who does it (audited)"),
    reason: str | None = typer.Option(None, "--reason", help="why (audited)"),
) -> None:
    """Give a channel a new API key and print it once; the old key is refused (a running
    server may still accept it for up to a second, the life of its key memo)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        channel, key = staff_actions.rotate_key(
            db, code=code, actor=cli_actor(by), now=platform.clock.now(), reason=reason
        )
    console.print(f"channel [bold]{channel.code}[/]: new API key (keep it; it is not shown again)")
    console.print(f"[bold yellow]{key}[/]", soft_wrap=True)


@app.command("deactivate")
def deactivate(
    code: str = typer.Argument(..., help="the channel's code"),
    reason: str = typer.Option(..., "--reason", help="why (audited)"),
    by: str = typer.Option(..., "--by", help="who does it (audited)"),
) -> None:
    """Switch a channel off: its key is refused and its reserved share stops counting (a
    running server may still accept it for up to a second)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        channel = staff_actions.deactivate(
            db, code=code, reason=reason, actor=cli_actor(by), now=platform.clock.now()
        )
    console.print(f"channel [bold]{channel.code}[/] deactivated")
