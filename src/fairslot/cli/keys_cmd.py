"""``fairslot keys reencrypt``: every encrypted column moved to the current data key, one
batch per transaction, safe while the server runs (``privacy/rotation.py``)."""

from __future__ import annotations

import typer

from fairslot.bootstrap import Platform
from fairslot.cli.common import console, err_console, make_platform
from fairslot.db.engine import unit_of_work
from fairslot.privacy import repository as repo
from fairslot.privacy import rotation

app = typer.Typer(help="Data-encryption keys: re-encrypt under the current key.")


def reencrypt_all(platform: Platform, *, batch: int) -> list[rotation.ColumnReport]:
    reports = []
    for target in repo.ENCRYPTED:
        report = rotation.ColumnReport(name=target.name)
        after = None
        while True:
            with unit_of_work(platform.sessions) as db:
                after = rotation.reencrypt_batch(
                    db,
                    target,
                    after=after,
                    limit=batch,
                    protector=platform.protector,
                    report=report,
                )
            if after is None:
                break
        reports.append(report)
    return reports


@app.command("reencrypt")
def reencrypt(
    batch: int = typer.Option(500, "--batch", min=1, max=10_000, help="rows per transaction"),
) -> None:
    """Re-encrypt every ciphertext under FAIRSLOT_DATA_KEY (old ones are read with
    FAIRSLOT_OLD_DATA_KEYS). Idempotent; run it again after an interruption. Once it
    reports nothing re-encrypted, the old keys can be removed from the settings."""
    platform = make_platform()
    try:
        reports = reencrypt_all(platform, batch=batch)
    except ValueError as exc:  # a token no configured key decrypts
        err_console.print(f"[bold red]key_missing[/]: {exc}")
        raise typer.Exit(1) from exc
    for r in reports:
        console.print(
            f"{r.name}: {r.scanned} scanned, {r.reencrypted} re-encrypted, "
            f"{r.current} already current, {r.changed_meanwhile} changed meanwhile"
        )
    total = sum(r.reencrypted for r in reports)
    console.print(f"[green]done[/]: {total} values moved to the current key")
