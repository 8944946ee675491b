from __future__ import annotations

import re
from datetime import time

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fairslot.cli.common import command_transaction, console, make_platform
from fairslot.hospitals import keys as hospital_keys
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.schemas import HospitalView
from fairslot.schedules import release_change
from fairslot.staff.audit import cli_actor

app = typer.Typer(help="Hospitals, their API keys and release policies.")

_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def _wall_time(value: str | None, *, option: str) -> time | None:
    """A wall-clock time written HH:MM (in the hospital's time zone)."""
    if value is None:
        return None
    match = _HHMM.fullmatch(value.strip())
    if match is None:
        raise typer.BadParameter(f"{value!r} is not a time written HH:MM", param_hint=option)
    return time(int(match[1]), int(match[2]))


def _policy_line(view: HospitalView) -> str:
    return (
        f"day D is pushed at {view.push_time:%H:%M} and released at "
        f"{view.release_time:%H:%M} on D-{view.days_ahead} ({view.timezone}); booking "
        f"closes {view.booking_close_minutes} min before a session starts"
    )


@app.command("create")
def create(
    code: str = typer.Argument(..., help="short code, e.g. PUH1"),
    name: str = typer.Option(..., "--name", help="display name"),
    grade: str = typer.Option(..., "--grade", help="e.g. 三级甲等"),
    city: str = typer.Option(..., "--city"),
    timezone: str = typer.Option("Asia/Shanghai", "--timezone", help="IANA time zone"),
    days_ahead: int = typer.Option(7, "--days-ahead", help="day D is released on D-N"),
    release_time: str = typer.Option("00:30", "--release-time", help="HH:MM, hospital time"),
    push_time: str = typer.Option("00:00", "--push-time", help="HH:MM, hospital time"),
    close_minutes: int = typer.Option(
        30, "--close-minutes", help="booking closes this long before a session starts"
    ),
) -> None:
    """Register a hospital and print its API key (shown once; only its hash is stored)."""
    release = _wall_time(release_time, option="--release-time")
    push = _wall_time(push_time, option="--push-time")
    assert release is not None and push is not None  # given a default
    platform = make_platform()
    with command_transaction(platform) as db:
        hospital, key = hospitals.create_hospital(
            db,
            code=code,
            name=name,
            grade=grade,
            city=city,
            timezone=timezone,
            days_ahead=days_ahead,
            push_time=push,
            release_time=release,
            booking_close_minutes=close_minutes,
        )
        view = HospitalView.model_validate(hospital)
    console.print(
        f"hospital [bold]{escape(view.code)}[/] ({escape(view.name)}, {escape(view.grade)}) created"
    )
    console.print(_policy_line(view))
    # Soft wrap: a key split over two lines would be copied wrong.
    console.print(
        f"API key (keep it; it is not shown again): [bold yellow]{key}[/]", soft_wrap=True
    )


@app.command("rotate-key")
def rotate_key(
    code: str = typer.Argument(..., help="the hospital's code"),
    by: str = typer.Option(..., "--by", help="who does it (audited)"),
    reason: str | None = typer.Option(None, "--reason", help="why (audited)"),
) -> None:
    """Give a hospital a new API key and print it once; the old key is refused at once."""
    platform = make_platform()
    with command_transaction(platform) as db:
        hospital, key = hospital_keys.rotate_key(
            db, code=code, actor=cli_actor(by), now=platform.clock.now(), reason=reason
        )
        hospital_code = hospital.code
    console.print(
        f"hospital [bold]{escape(hospital_code)}[/]: new API key (keep it; it is not shown again)"
    )
    console.print(f"[bold yellow]{key}[/]", soft_wrap=True)


@app.command("list")
def list_() -> None:
    """List the hospitals and their release policies (keys are never shown)."""
    platform = make_platform()
    with command_transaction(platform) as db:
        rows = hospitals.list_hospitals(db)
    table = Table()
    for column in ("code", "name", "grade", "city", "time zone", "days ahead", "push", "release"):
        table.add_column(column, overflow="fold")
    table.add_column("closes (min)", overflow="fold")
    for h in rows:
        table.add_row(
            *(Text(value) for value in (h.code, h.name, h.grade, h.city, h.timezone)),
            str(h.days_ahead),
            f"{h.push_time:%H:%M}",
            f"{h.release_time:%H:%M}",
            str(h.booking_close_minutes),
        )
    console.print(table)


@app.command("policy")
def policy(
    code: str = typer.Argument(..., help="the hospital's code"),
    days_ahead: int | None = typer.Option(None, "--days-ahead", help="day D is released on D-N"),
    release_time: str | None = typer.Option(None, "--release-time", help="HH:MM"),
    push_time: str | None = typer.Option(None, "--push-time", help="HH:MM"),
    close_minutes: int | None = typer.Option(None, "--close-minutes"),
) -> None:
    """Change a hospital's release policy; sessions not yet released follow it.

    Sessions already released keep their release time (what people saw cannot be unseen);
    only their closing time follows. With no option, print the current policy.
    """
    release = _wall_time(release_time, option="--release-time")
    push = _wall_time(push_time, option="--push-time")
    platform = make_platform()
    with command_transaction(platform) as db:
        hospital = hospitals.get_hospital(db, code=code)
        changing = (days_ahead, release, push, close_minutes) != (None, None, None, None)
        recomputed = 0
        if changing:
            recomputed = release_change.update_release_policy(
                db,
                hospital=hospital,
                now=platform.clock.now(),
                days_ahead=days_ahead,
                push_time=push,
                release_time=release,
                booking_close_minutes=close_minutes,
            )
        view = HospitalView.model_validate(hospital)
    console.print(f"hospital [bold]{escape(view.code)}[/]: {_policy_line(view)}")
    if changing:
        console.print(f"{recomputed} session(s) still to come recomputed")
