"""``fairslot staff``: IT creates staff accounts on the server and manages them."""

from __future__ import annotations

import typer
from rich.table import Table

from fairslot.cli.common import command_transaction, console, make_platform
from fairslot.staff import repository as repo
from fairslot.staff import service
from fairslot.staff.audit import cli_actor
from fairslot.staff.roles import Role, parse_roles

app = typer.Typer(help="Staff accounts with roles (reviewer, it_admin, customer_service, ...).")

_ROLES_HELP = "comma-separated: " + ", ".join(r.value for r in Role)


def _roles(raw: str) -> frozenset[Role]:
    try:
        return parse_roles(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"unknown role in {raw!r}; {_ROLES_HELP}") from exc


@app.command("create")
def create(
    username: str = typer.Argument(...),
    roles: str = typer.Option(..., "--roles", help=_ROLES_HELP),
    name: str = typer.Option("", "--name", help="display name"),
    by: str = typer.Option(..., "--by", help="who creates the account (audited)"),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="FAIRSLOT_NEW_STAFF_PASSWORD",
        help="at least 12 characters",
    ),
) -> None:
    """Create a staff account (the password is stored only as an argon2 hash)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        user = service.create_user(
            db,
            username=username,
            display_name=name,
            roles=_roles(roles),
            password=password,
            by=cli_actor(by),
            now=platform.clock.now(),
        )
        console.print(f"created staff {user.username} ({user.roles}) as {user.id}")


@app.command("passwd")
def passwd(
    username: str = typer.Argument(...),
    by: str = typer.Option(..., "--by"),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="FAIRSLOT_NEW_STAFF_PASSWORD",
    ),
) -> None:
    """Set a new password (every token of the account is revoked)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        service.set_password(
            db, username=username, password=password, by=cli_actor(by), now=platform.clock.now()
        )
        console.print(f"password of {username} changed; its tokens were revoked")


@app.command("roles")
def roles_(
    username: str = typer.Argument(...),
    roles: str = typer.Option(..., "--roles", help=_ROLES_HELP),
    by: str = typer.Option(..., "--by"),
    reason: str = typer.Option(..., "--reason", help="why (kept in the audit log)"),
) -> None:
    """Replace a staff member's roles (the last active IT admin keeps the role)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        user = service.set_roles(
            db,
            username=username,
            roles=_roles(roles),
            by=cli_actor(by),
            now=platform.clock.now(),
            reason=reason,
        )
        console.print(f"{user.username}: {user.roles}")


@app.command("deactivate")
def deactivate(
    username: str = typer.Argument(...),
    by: str = typer.Option(..., "--by"),
    reason: str = typer.Option(..., "--reason"),
) -> None:
    """Disable an account (e.g. someone left); its tokens are revoked."""
    platform = make_platform()
    with command_transaction(platform) as db:
        service.set_active(
            db,
            username=username,
            active=False,
            reason=reason,
            by=cli_actor(by),
            now=platform.clock.now(),
        )
        console.print(f"{username} deactivated")


@app.command("list")
def list_() -> None:
    platform = make_platform()
    with command_transaction(platform) as db:
        table = Table("id", "username", "name", "roles", "active", "created by")
        for u in repo.listing(db):
            table.add_row(
                str(u.id),
                u.username,
                u.display_name,
                u.roles,
                "yes" if u.active else "no",
                u.created_by,
            )
    console.print(table)
