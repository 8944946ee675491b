"""``fairslot risk``: the daily anomaly capture."""

from __future__ import annotations

import typer

from fairslot.cli import risk_report_cmd

app = typer.Typer(help="Daily anomaly capture: run the batch, read the report.")
app.command("report")(risk_report_cmd.report)
