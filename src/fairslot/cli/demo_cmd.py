from __future__ import annotations

import logging
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
import uvicorn
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.orm import Session

from fairslot.bootstrap import Platform
from fairslot.cli.common import command_transaction, console, err_console, make_platform
from fairslot.cli.serve_cmd import serve_access_log
from fairslot.cli.worker_cmd import start_background_sweeper
from fairslot.config import load_settings
from fairslot.db import migrate
from fairslot.demo.pages import PagesDemo
from fairslot.demo.past import replay_past
from fairslot.demo.past_journeys import PastReport
from fairslot.demo.seed import DemoSeed, seed_demo
from fairslot.errors import DomainError
from fairslot.hospitals import service as hospitals
from fairslot.signin import service as signin
from fairslot.signin import sms
from fairslot.web.site import create_site

DEFAULT_DB = Path(".fairslot/demo.db")
DEFAULT_SEED = 2026


def demo(
    port: int = typer.Option(8000, "--port"),
    host: str = typer.Option("127.0.0.1", "--host"),
    db_path: Path = typer.Option(DEFAULT_DB, "--db", help="SQLite file of the demo"),
    keep: bool = typer.Option(
        False, "--keep", help="keep an existing demo database instead of recreating it"
    ),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="serve the API afterwards"),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="seed of the demo data"),
) -> None:
    """(Re)create a demo platform on SQLite, print its keys and examples, and serve it.

    Four hospitals, their departments, doctors and a week of sessions pushed through the
    same import a hospital uses, plus day+8 pushed but not yet released; six channels
    (the window reserves 20% of each session); a family and a few other patients; one
    staff account per role, with a development password; and the last two weeks, replayed
    through the channel and hospital APIs on a clock set to the past. Development
    settings only.
    """
    if load_settings().is_production:
        # Checked before anything is deleted: the demo prints staff passwords.
        err_console.print(
            "[bold red]demo_refused[/]: the demo runs only with development settings "
            "(FAIRSLOT_ENVIRONMENT=development); it prints staff passwords."
        )
        raise typer.Exit(1)
    path = db_path.expanduser().resolve()
    if not keep:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    platform = make_platform(f"sqlite:///{path}")
    migrate.upgrade(platform.engine)
    with command_transaction(platform) as db:
        seeded = None
        if not hospitals.list_hospitals(db):
            seeded = seed_demo(
                db,
                now=platform.clock.now(),
                rng=random.Random(seed),
                protector=platform.protector,
                settings=platform.settings,
            )
        patient_phone = _patient_phone(db, platform)
    # The past runs after the seed is committed: it goes through the app, one transaction
    # per request, as the channels' and hospitals' systems would have.
    past = replay_past(platform, seeded, seed=seed) if seeded is not None else None
    base = f"http://{host}:{port}"
    console.print(
        Panel.fit(
            f"database  {escape(str(path))}\n"
            f"patients  {base}/  (sign in with {patient_phone or 'any mobile number'}; the "
            "code is printed below as a [bold]development SMS[/] line)\n"
            f"console   {base}/console/  (staff sign-in; logins below)\n"
            f"API docs  {base}/docs\n"
            f"OpenAPI   {base}/openapi.json\n"
            f"FHIR      {base}/fhir/metadata  (IHE Scheduling; the channel key below)\n"
            f"health    {base}/healthz",
            title="fairslot demo",
        )
    )
    if seeded is not None and seeded.pages is not None:
        console.print(
            escape(_pages_tour(seeded.pages, base=base, zone=platform.settings.default_timezone))
        )
    if seeded is None:
        console.print(
            "[yellow]kept the existing demo data[/]; its API keys were printed when it was "
            "made and are not stored (run without --keep to start afresh)."
        )
    else:
        _print_seed(seeded, base=base, db_url=f"sqlite:///{path}")
    if past is not None:
        _print_past(past)
    if serve:
        console.print(f"serving on {base} (Ctrl+C to stop)")
        start_background_sweeper(platform, every=15.0)
        _show_sign_in_codes()
        serve_access_log(platform)
        uvicorn.run(
            create_site(platform),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
        )


def _print_past(past: PastReport) -> None:
    refused = ", ".join(f"{code} {n}" for code, n in past.refused.most_common())
    console.print(
        f"[bold]the last {past.days} days[/], replayed through the APIs: "
        f"{past.households} households with {past.patients} patients made "
        f"{past.requests} channel requests ({refused or 'none refused'}); "
        f"{past.confirmed} bookings paid ({past.drawn} won in release draws), "
        f"{past.cancelled} cancelled, {past.lapsed} holds lapsed, {past.checked_in} visits "
        f"checked in, {past.no_shows} no-shows. Big release on {past.big_release}: "
        f"draws oversubscribed, {past.sold_out or 'no clinic'} sold out."
    )


def _print_seed(seeded: DemoSeed, *, base: str, db_url: str) -> None:
    # Keys never wrap or shorten (they are copied); names are in `fairslot hospital list`
    # and `fairslot channel list`.
    channels = Table("channel", "reserved", title="channels (header X-Channel-Key)")
    channels.add_column("API key", style="yellow", no_wrap=True, overflow="fold")
    for c in seeded.channels:
        channels.add_row(c.code, f"{c.reserved_share:.0%}", c.key)
    console.print(channels)
    hospitals_table = Table("hospital", "grade", title="hospitals (header X-Hospital-Key)")
    hospitals_table.add_column("API key", style="yellow", no_wrap=True, overflow="fold")
    for h in seeded.hospitals:
        hospitals_table.add_row(h.code, h.grade, h.key)
    console.print(hospitals_table)
    staff = Table(
        "username",
        "role",
        "does",
        title=f"staff: sign in at {base}/console/ (or POST /staff/v1/login)",
    )
    staff.add_column("password (development only)", style="yellow", no_wrap=True)
    for login in seeded.staff:
        staff.add_row(login.username, login.role, login.duty, login.password)
    console.print(staff)

    s, ex = seeded.summary, seeded.example
    release = ex.unreleased_release_at
    counts = Table("demo data", "count", title="what was seeded")
    titles = ", ".join(f"{n} {title}" for title, n in s.doctors_by_title.items())
    for label, value in (
        ("hospitals", str(s.hospitals)),
        ("departments", str(s.departments)),
        ("doctors", f"{s.doctors} ({titles})"),
        ("sessions released (bookable up to today+7)", str(s.sessions_released)),
        (
            "sessions pushed, not yet released",
            f"{s.sessions_unreleased} (day+8 = {ex.unreleased_date} is released at "
            f"{release:%Y-%m-%d %H:%M} {release.tzname()})",
        ),
        ("slots", str(s.slots)),
        ("channels", str(s.channels)),
        ("accounts", str(s.accounts)),
        ("patients", str(s.patients)),
        ("bookings", str(s.bookings)),
        (
            "yesterday's scalper bookings (one card, five identities)",
            f"{s.scalper_bookings}: yesterday's batch found {s.risk_alerts} alert(s), "
            f"opened {s.cases_opened} case(s)",
        ),
        ("staff accounts", str(s.staff)),
        ("follow-up calls waiting (one asked for by review)", str(s.call_tasks)),
        ("blacklist entries (one to lift in person)", str(s.blacklist_entries)),
    ):
        counts.add_row(label, value)
    console.print(counts)

    wechat = next(c.key for c in seeded.channels if c.code == "wechat")
    hospital = next(h.key for h in seeded.hospitals if h.code == ex.hospital)
    session = ex.session_id or 1
    examples = [
        f"# free slots in {ex.department_name} at {ex.hospital}, as WeChat sees them",
        f'curl -s "{base}/v1/availability?department_id={ex.department_id}'
        f'&date_from={ex.date_from}&date_to={ex.date_to}" \\',
        f'  -H "X-Channel-Key: {wechat}" -H "X-Device-Id: demo-device-1"',
        "",
        f"# hold a slot of session {session} for the family's father "
        f"(account {ex.account_id}, patient {ex.patient_id})",
        f"curl -s -X POST {base}/v1/holds \\",
        f'  -H "X-Channel-Key: {wechat}" -H "X-Device-Id: demo-device-1" \\',
        '  -H "Content-Type: application/json" \\',
        f'  -d \'{{"account_id": {ex.account_id}, "patient_id": {ex.patient_id}, '
        f'"session_id": {session}}}\'',
        "",
        f"# the bookings {ex.hospital}'s own system must carry out",
        f'curl -s {base}/hospital/v1/feed -H "X-Hospital-Key: {hospital}"',
        "",
        *_staff_examples(seeded, base=base, db_url=db_url),
    ]
    console.rule("try it")
    # Soft wrap and no markup: the commands must survive copy and paste.
    console.print("\n".join(examples), markup=False, highlight=False, soft_wrap=True)


def _staff_examples(seeded: DemoSeed, *, base: str, db_url: str) -> list[str]:
    reviewer = next(s for s in seeded.staff if s.username == "reviewer")
    day = seeded.example.report_date
    auth = '-H "Authorization: Bearer $TOKEN"'
    return [
        "# staff: log in as the reviewer and keep the bearer token",
        f'TOKEN=$(curl -s -X POST {base}/staff/v1/login -H "Content-Type: application/json" \\',
        f'  -d \'{{"username": "reviewer", "password": "{reviewer.password}"}}\' \\',
        "  | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"token\"])')",
        "",
        "# the review queue: the open cases, then take the next one",
        f'curl -s "{base}/staff/v1/cases?status=open" {auth}',
        f"curl -s -X POST {base}/staff/v1/cases/next {auth}",
        "",
        f"# the daily risk report for {day} (the demo ran that date's batch; run it again",
        f"#   with: FAIRSLOT_DATABASE_URL={db_url} fairslot risk run --date {day})",
        f'curl -s "{base}/staff/v1/reports/daily?date={day}" {auth}',
        f'curl -s -OJ "{base}/staff/v1/reports/daily.xlsx?date={day}" {auth}',
    ]


def _pages_tour(pages: PagesDemo, *, base: str, zone: str) -> str:
    """What to try on the patient pages right away (``demo/pages.py`` seeded it); each
    address on a line of its own, so it survives a narrow terminal's wrapping."""
    lines = ["on the patient pages now:"]
    if pages.draw_session_id is not None and pages.draw_closes_at is not None:
        closes = pages.draw_closes_at.astimezone(ZoneInfo(zone))
        lines += [
            f"  a draw takes entries until {closes:%m-%d %H:%M} ({pages.draw_department}):",
            f"    {base}/draw/session/{pages.draw_session_id}",
        ]
    if pages.full_session_id is not None:
        lines += [
            f"  a full session, {pages.waiting} waiting ({pages.full_department}):",
            f"    {base}/waitlist/session/{pages.full_session_id}",
        ]
    if pages.release_batch_opens_at is not None:
        opens = pages.release_batch_opens_at.astimezone(ZoneInfo(zone))
        lines += [
            f"  a release batch opens {opens:%m-%d %H:%M} ({pages.release_batch_department}):",
            "    holds in its first minute are drawn, not raced",
        ]
    return "\n".join(lines)


def _patient_phone(db: Session, platform: Platform) -> str | None:
    """A demo account's phone on the hospital's own channel: the patient pages sign in
    with it (its family and bookings are the demo's)."""
    try:
        channel = signin.pages_channel(db)
    except DomainError:
        return None
    phone = signin.demo_phone(db, channel=channel, protector=platform.protector)
    return phone[3:] if phone and phone.startswith("+86") else phone


def _show_sign_in_codes() -> None:
    """The development SMS sender writes sign-in codes to the log ``fairslot.sms``: show
    them in the demo's console, where the banner of the sign-in page says to look."""
    logger = logging.getLogger(sms.LOGGER.name)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s  %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
