"""The benchmark's whole synthetic week (``fairslot risk bench``), generated in order:
the supply, the households, the sessions, the planted scalpers, the simulated bookings,
the gate's request records and the bindings. Pure apart from the rows it hands to a
:class:`~fairslot.risk.benchdata.Sink`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from fairslot.crypto import Protector
from fairslot.risk.bench_people import Population, build_households, department_demand
from fairslot.risk.bench_requests import RequestLog
from fairslot.risk.bench_scalpers import Planted, plant_all, plant_grabbers
from fairslot.risk.bench_simulation import Simulation, SimulationReport
from fairslot.risk.benchdata import Fmt, Ledger, Shape, Sink, Supply, build_supply, schedule


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
