"""The ``fairslot`` command."""

from __future__ import annotations

import typer

from fairslot.cli import (
    alternatives_cmd,
    bench_cmd,
    blacklist_cmd,
    calls_cmd,
    channel_cmd,
    db_cmd,
    demo_cmd,
    draw_cmd,
    hospital_cmd,
    keys_cmd,
    metrics_cmd,
    privacy_cmd,
    risk_cmd,
    schedule_cmd,
    serve_cmd,
    sim_cmd,
    slot_cmd,
    staff_cmd,
    worker_cmd,
)

app = typer.Typer(
    help="fairslot: a fair hospital slot pool. Settings come from FAIRSLOT_* variables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cmd.app, name="db")
app.add_typer(slot_cmd.app, name="slot")
app.add_typer(channel_cmd.app, name="channel")
app.add_typer(hospital_cmd.app, name="hospital")
app.add_typer(schedule_cmd.app, name="schedule")
app.add_typer(draw_cmd.app, name="draw")
app.add_typer(blacklist_cmd.app, name="blacklist")
app.add_typer(alternatives_cmd.app, name="alternatives")
app.add_typer(staff_cmd.app, name="staff")
app.add_typer(calls_cmd.app, name="calls")
app.add_typer(risk_cmd.app, name="risk")
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(privacy_cmd.app, name="privacy")
app.command("serve")(serve_cmd.serve)
app.command("worker")(worker_cmd.worker)
app.command("demo")(demo_cmd.demo)
app.command("simulate")(sim_cmd.simulate)
app.command("metrics")(metrics_cmd.metrics_command)
