"""Run the SimPy reference model of one replication: (scenario, draws) -> Trace.

Imports config, rng, trace and the model; never runner, results or plots.
"""

from __future__ import annotations

import simpy

from queue_sim.config import schema
from queue_sim.model.counter import ServiceSystem
from queue_sim.rng import Draws
from queue_sim.trace import Trace


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
    if draws.n_customers:
        # each station's first shift change, then the first arrival; each of these events
        # schedules the next of its kind (ServiceSystem.change_shift, ServiceSystem.arrive)
        for s, spec in enumerate(specs):
            if spec.schedule:
                system.schedule_shift_change(s, 0)
        system.schedule_arrival(0)
        limit = env.timeout(drain_limit(draws.horizon))
        env.run(until=env.any_of([system.finished, limit]))
    system.trace.ended_at = env.now
    system.advance(max(env.now, draws.horizon))  # the final state holds until the horizon
    system.record_integrals()
    return system.trace
