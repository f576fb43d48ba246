"""Run the SimPy reference model of one replication: (scenario, draws) -> Trace.

Imports config, rng, trace and the model; never runner, results or plots.
"""

from __future__ import annotations

import simpy

from queue_sim.config import schema
from queue_sim.model.counter import ServiceSystem
from queue_sim.rng import Draws
from queue_sim.trace import Priority, Trace


def arrivals(env: simpy.Environment, system: ServiceSystem):  # noqa: ANN201 - generator
    """Customers walk in at their drawn arrival times (already sorted, ties by class)."""
    for i, arrived_at in enumerate(system.draws.arrived_at):
        yield system.at(arrived_at - env.now, Priority.ARRIVAL, lambda: None)
        system.arrive(i)


def shifts(env: simpy.Environment, system: ServiceSystem, s: int,
           schedule: list[schema.ShiftChange]):  # noqa: ANN201 - generator
    """A station's clerks come on and go off duty as its schedule says."""
    for change in schedule:
        yield system.at(change.at - env.now, Priority.STAFF, lambda: None)
        system.set_clerks(s, change.servers)


def drain_limit(horizon: float) -> float:
    """Time at which a run stops even if customers remain (say, no server ever comes back)."""
    return horizon + 100.0 * max(horizon, 1.0)


def simulate(scenario: schema.Scenario, draws: Draws) -> Trace:
    """Simulate one replication with the SimPy reference model.

    Parameters
    ----------
    scenario
        Validated scenario.
    draws
        Every random quantity of the replication (``queue_sim.rng.draw``).

    Returns
    -------
    Trace
        Per-customer, per-visit and per-staff records.
    """
    env = simpy.Environment()
    system = ServiceSystem(env, scenario, draws)
    specs = list(scenario.stations.values())
    for m in system.staff:  # clerks start their breakdown clocks or vacations, in staff order
        if m.is_manager:
            continue
        if specs[m.station].breakdowns is not None:
            system.start_breakdowns(m)
        elif specs[m.station].vacations is not None and m.on_duty:
            system.start_vacation(m)
    for s, spec in enumerate(specs):
        if spec.schedule:
            env.process(shifts(env, system, s, spec.schedule))
    env.process(arrivals(env, system))
    if draws.n_customers:
        limit = env.timeout(drain_limit(draws.horizon))
        env.run(until=env.any_of([system.finished, limit]))
    system.trace.ended_at = env.now
    system.advance(max(env.now, draws.horizon))  # the final state holds until the horizon
    system.record_integrals()
    return system.trace
