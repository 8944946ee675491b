"""The benchmark's whole synthetic week (``fairslot risk bench``), generated in order:
the supply, the households, the sessions, the planted scalpers, the simulated bookings,
the gate's request records and the bindings. Pure apart from the rows it hands to a
:class:`~fairslot.bench.riskweek.data.Sink`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from fairslot.bench.riskweek.data import (
    COLUMNS,
    Fmt,
    Ledger,
    Row,
    Shape,
    Sink,
    Supply,
    build_supply,
    schedule,
)
from fairslot.bench.riskweek.people import Population, build_households, department_demand
from fairslot.bench.riskweek.requests import RequestLog
from fairslot.bench.riskweek.scalpers import Planted, plant_all, plant_grabbers
from fairslot.bench.riskweek.simulation import Simulation, SimulationReport
from fairslot.context import edge_context
from fairslot.crypto import Protector


@dataclass
class Week:
    supply: Supply
    population: Population
    planted: list[Planted]
    simulated: SimulationReport
    requests: RequestLog | None  # None: a week without the gate's request records


def generate_week(
    shape: Shape, *, sink: Sink, fmt: Fmt, protector: Protector, requests: bool = True
) -> Week:
    """The week of ``shape`` (the slots' final states are written by ``write_slots`` once
    the caller is done with them). ``requests=False`` leaves out the request records and
    the pattern only they reveal; the bookings and the ledger are the same either way:
    the records draw from a generator of their own."""
    rng = random.Random(shape.seed)
    sink = StoredContext(sink, protector)
    ledger = Ledger(sink, fmt)
    supply = build_supply(shape, sink=sink, fmt=fmt)
    population = Population(shape, sink=sink, fmt=fmt, rng=rng, protector=protector)
    build_households(population, supply)
    schedule(
        shape,
        supply=supply,
        demand=department_demand(population.people),
        sink=sink,
        fmt=fmt,
        ledger=ledger,
        rng=rng,
    )
    log = (
        RequestLog(
            shape,
            sink=sink,
            fmt=fmt,
            rng=random.Random(f"{shape.seed}:requests"),
            old_binding=population.created_at,
        )
        if requests
        else None
    )
    sim = Simulation(
        shape,
        supply=supply,
        people=population.people,
        sink=sink,
        fmt=fmt,
        ledger=ledger,
        rng=rng,
        requests=log,
    )
    planted = plant_all(sim, population, supply, shape, rng)
    simulated = sim.run(shape.bookings - sum(p.bookings for p in planted))
    if log is None:
        for person in population.people.persons:
            population.bind(person, at=population.created_at)
    else:
        # Grab software that lost books nothing: planted after the bookings, it leaves them
        # as they were.
        planted += plant_grabbers(population, supply, shape, rng, log)
        log.bind_everyone(population)
    return Week(
        supply=supply, population=population, planted=planted, simulated=simulated, requests=log
    )


class StoredContext:
    """A sink that stores the simulated request identifiers as the platform does: the
    writers hand over (device id, IP, Wi-Fi id) as a request carries them, and the rows
    get their keyed hashes and the masked address (``fairslot/context.py``), hashed at
    the edge exactly as a real request's are."""

    def __init__(self, sink: Sink, protector: Protector) -> None:
        self._sink = sink
        self._protector = protector
        self._at = {t: COLUMNS[t].index("device_key") for t in _WITH_CONTEXT}

    def row(self, table: str, values: Row) -> None:
        at = self._at.get(table)
        if at is not None:
            device, ip, wifi = values[at : at + 3]
            ctx = edge_context(
                protector=self._protector, actor="bench", device_id=device, ip=ip, wifi_id=wifi
            )
            stored = (ctx.device_key, ctx.ip_key, ctx.ip_label, ctx.wifi_key)
            values = values[:at] + stored + values[at + 3 :]
        self._sink.row(table, values)


_WITH_CONTEXT: Final = ("bookings", "slot_events", "request_records")
