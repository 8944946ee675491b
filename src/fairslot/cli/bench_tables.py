"""The tables ``fairslot bench`` prints (Rich)."""

from __future__ import annotations

from rich.table import Table

from fairslot.api.access_log import ACCESS_LINE_START
from fairslot.bench.figures import GENERATOR_HEADROOM, READS, WRITES, Figure
from fairslot.bench.release import BenchRun, rate_limit_note
from fairslot.cli.common import console

_COMPARED = {**{name: "anchor" for name in WRITES}, **{name: "ceiling" for name in READS}}


def print_run(run: BenchRun) -> None:
    doc, options = run.document, run.options
    table = Table(
        "endpoint",
        "phase",
        "throughput /s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "ratio",
        "answers (status code: count)",
        title=(
            f"fairslot bench release: {doc['backend']}, {options.workers} worker(s), "
            f"{options.clients} connections"
        ),
    )
    for f in run.figures:
        table.add_row(
            f.name + (" *" if run.generator.bound(f.rps) else ""),
            f.phase,
            f"{f.ok_rps:.1f}",
            f"{f.p50_ms:.1f}",
            f"{f.p95_ms:.1f}",
            f"{f.p99_ms:.1f}",
            _ratio(run, f),
            _outcomes(f),
        )
    console.print(table)
    console.print(
        f"* the generator could not have gone {GENERATOR_HEADROOM:g}x faster "
        "(rate against the trivial responder): not a ceiling of the server"
    )
    c = run.checks
    figures = Table("figure", "value", title="checks and context")
    rows = [
        ("identities / scarce slots",
         f"{len(run.world.identities)} / {run.world.size.scarce_slots}"),
        ("rate limits", rate_limit_note(run.settings, workers=options.workers)),
        ("release mix (closed loop)", f"{doc['throughput_rps']} requests/s, "
         f"p50 {doc['p50_ms']} ms, p99 {doc['p99_ms']} ms ({doc['requests']} requests)"),
        ("open loop", f"{doc['open_loop_rate']} requests/s asked, "
         f"{doc['open_loop_achieved_rps']} made, p99 {doc['open_loop_p99_ms']} ms "
         "(from the intended send time)"),
        ("ceiling (GET /healthz)", f"{doc['ceiling_rps']} /s"
         + (" — generator-bound, not a ceiling" if doc["ceiling_generator_bound"] else "")),
        ("anchor claim (hand-written)", f"{doc['anchor_claim_rps']} /s"),
        ("generator vs trivial responder", f"{doc['generator_trivial_rps']} /s"),
        ("generator CPU share (of the machine)", ", ".join(
            f"{k} {v:.0%}" for k, v in doc["generator_cpu_share"].items())),
        ("scarce slots taken", f"{run.scarce_taken} of {run.world.size.scarce_slots}"),
        ("oversold", f"{c.oversold} (slots {c.slots_oversold}, sessions {c.sessions_oversold})"),
        ("double_booked", f"{c.double_booked} (patient-days {c.patients_double_booked}, "
         f"ledger double holders {c.ledger_double_holders})"),
        ("ledger disagrees with bookings", f"{c.ledger_disagrees} slots"),
        ("server errors (5xx, no answer)", f"{doc['server_errors']} (503: {doc['busy_503']})"),
        ("raw limit (the claim, bare SQL)", f"{doc['raw_limit_rps']} claims/s "
         f"({run.raw.processes} x {run.raw.threads_per_process} connections)"),
        ("seeding took", f"{run.seed_seconds:.1f} s"),
    ]  # fmt: skip
    for label, value in rows:
        figures.add_row(label, value)
    console.print(figures)
    lines = [
        line
        for line in run.server_log.splitlines()
        # Not the banner nor the access log's one line per request (api/access_log.py).
        if line and not line.startswith(("fairslot on", ACCESS_LINE_START))
    ]
    if lines:
        console.rule(f"the server logged {len(lines)} line(s); the last ones")
        console.print("\n".join(lines[-15:]), markup=False, highlight=False)


def _ratio(run: BenchRun, f: Figure) -> str:
    against = _COMPARED.get(f.name)
    if against == "anchor":
        return f"{run.document['ratio_to_anchor'][f.name]:.2f} of anchor"
    if against == "ceiling":
        return f"{run.document['ratio_to_ceiling'][f.name]:.2f} of ceiling"
    return ""


def _outcomes(f: Figure) -> str:
    return ", ".join(f"{label}: {n}" for label, n in f.outcomes.items())


def print_matrix(runs: list[BenchRun]) -> None:
    table = Table(
        "db",
        "workers",
        "redis",
        "ceiling /s",
        "anchor /s",
        "hold /s",
        "confirm /s",
        "availability /s",
        "sold-out /s",
        "mix /s",
        "hold:anchor",
        "avail:ceiling",
        "open-loop p99 ms",
        "oversold / double / 5xx",
        title="fairslot bench matrix",
    )
    for run in runs:
        d = run.document
        per = d["per_endpoint"]

        def rps(name: str, per: dict[str, dict[str, float]] = per) -> str:
            return f"{per[name]['throughput_rps']:.0f}" if name in per else "-"

        table.add_row(
            d["backend"],
            str(d["workers"]),
            "yes" if d["redis"] else "no",
            f"{d['ceiling_rps']:.0f}" + (" *" if d["ceiling_generator_bound"] else ""),
            f"{d['anchor_claim_rps']:.0f}",
            rps("hold"),
            rps("confirm"),
            rps("availability"),
            rps("sold_out"),
            f"{d['throughput_rps']:.0f}",
            f"{d['ratio_to_anchor'].get('hold', 0):.2f}",
            f"{d['ratio_to_ceiling'].get('availability', 0):.2f}",
            f"{d['open_loop_p99_ms']}",
            f"{d['oversold']} / {d['double_booked']} / {d['server_errors']}",
        )
    console.print(table)
