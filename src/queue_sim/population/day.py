"""One day at the counter: the visitors' draws keyed by customer id, the run, what each met.

The population's customers get their counter draws (service, patience, wrong order, handling,
routing ...) from the scenario's own visit-plan code, but with uniforms indexed by *customer
id* under a per-day seed: customer k's numbers on day d are the same whoever else visits, so
two recovery policies stay paired customer by customer (common random numbers).  Other classes
draw their own arrivals under the same day seed.  Imports config, rng, trace and experience.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from queue_sim import rng
from queue_sim.config import schema
from queue_sim.experience import satisfaction
from queue_sim.trace import Outcome, Trace


def day_seed(seed: int, replication: int, day: int) -> int:
    """Root seed of one day's counter draws, derived from (seed, replication, day)."""
    ss = np.random.SeedSequence(seed, spawn_key=(replication, rng.STREAMS.index(
        "population_day"), day))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def population_uniforms(seed: int, replication: int, stream: str, day: int, n: int
                        ) -> np.ndarray:
    """Uniforms of a population stream for customer ids ``0..n-1`` on ``day``."""
    return rng.stream_uniforms(seed, replication, stream, (day,), n)


def time_of_day(arrivals: schema.PoissonArrivals | schema.ScheduledArrivals, horizon: float,
                u: np.ndarray) -> np.ndarray:
    """Visit times in ``[0, horizon)`` following the class's arrival-rate profile.

    Constant rate: uniform over the day.  A schedule: the inverse of its cumulative rate at
    ``u`` times the day's total, so busy periods get proportionally more visits.
    """
    if isinstance(arrivals, schema.PoissonArrivals):
        return u * horizon
    starts = np.asarray(arrivals.times, float)
    rates = np.asarray(arrivals.rates, float)
    ends = np.append(starts[1:], np.inf)
    total = float(np.sum(rates * np.clip(np.minimum(ends, horizon) - starts, 0.0, None)))
    return np.minimum(rng._invert_cumulative_rate(arrivals, u * total),
                      np.nextafter(horizon, 0.0))


class _IdUniforms:
    """``rng.Uniforms`` for the given customer ids, cached per (stream, visit index)."""

    def __init__(self, seed: int, cidx: int, ids: np.ndarray):
        self.seed, self.cidx, self.ids = seed, cidx, ids
        self.n = int(ids.max()) + 1 if len(ids) else 0
        self.cache: dict[tuple[str, int], np.ndarray] = {}

    def __call__(self, stream: str, k: int) -> np.ndarray:
        key = (stream, k)
        if key not in self.cache:
            values = rng.stream_uniforms(self.seed, 0, stream, (self.cidx, k), self.n)
            self.cache[key] = values[self.ids]
        return self.cache[key]


@dataclass
class Day:
    """A day's draws for the counter, and which trace rows are the population's visitors."""

    draws: rng.Draws
    ids: np.ndarray          # population customer ids, in arrival order
    rows: np.ndarray         # their customer rows in the day's trace
    uniforms: _IdUniforms


def plan_day(scenario: schema.Scenario, *, seed: int, replication: int, day: int,
             ids: np.ndarray, arrived_at: np.ndarray) -> Day:
    """Draws of one day: the population's visitors ``ids`` at ``arrived_at``, plus the other
    classes' own arrivals, all under the day's seed."""
    seed_d = day_seed(seed, replication, day)
    cidx = scenario.class_names.index(scenario.population_class_name)
    order = np.lexsort((ids, arrived_at))
    ids, arrived_at = ids[order], arrived_at[order]
    uniforms = _IdUniforms(seed_d, cidx, ids)
    parts = [rng.plan_class(scenario, c, arrived_at, seed_d, 0, uniforms) if c == cidx
             else rng.plan_class(scenario, c, np.empty(0), seed_d, 0)
             for c in range(len(scenario.classes))]
    draws = rng.assemble(scenario, parts, seed=seed_d, replication=0)
    rows = np.flatnonzero(draws.class_idx == cidx)  # the part was sorted, so order is kept
    return Day(draws=draws, ids=ids, rows=rows, uniforms=uniforms)


@dataclass
class Visits:
    """What each population visitor of a day met, aligned with ``Day.ids``."""

    served: np.ndarray
    wait: np.ndarray
    satisfaction: np.ndarray
    failed: np.ndarray
    complained: np.ndarray
    response_time: np.ndarray   # handling start - end of the wrong order; inf if never handled
    handling_time: np.ndarray   # manager time on this customer's complaints


def read_visits(scenario: schema.Scenario, day: Day, trace: Trace, failure_probability: float
                ) -> Visits:
    """Per-visitor experience from the day's trace.

    A wrong order is a completed visit to the complaint station, not a remake, whose complaint
    uniform lies below ``failure_probability`` (e): the engine's own complaints are the ones
    below e * p_c, so every complaint is a wrong order and the rest of the wrong orders go
    unreported.
    """
    cls = scenario.classes[scenario.population_class_name]
    n_customers = trace.n_customers
    visit_customer = trace.visit_customer
    rows = day.rows
    served = trace.outcome[rows] == Outcome.SERVED
    wait = trace.wait_time[rows]
    sat = satisfaction(trace, scenario.experience)[rows]

    complained_visit = trace.complained
    complained = np.bincount(visit_customer[complained_visit], minlength=n_customers)[rows] > 0
    handled = trace.handling_ended_at - trace.handling_started_at
    handling = np.bincount(visit_customer, weights=np.nan_to_num(handled, nan=0.0),
                           minlength=n_customers)[rows]
    response = np.full(n_customers, np.inf)
    handled_rows = np.flatnonzero(complained_visit & ~np.isnan(trace.handling_started_at))
    np.minimum.at(response, visit_customer[handled_rows],
                  trace.handling_started_at[handled_rows] - trace.service_ended_at[handled_rows])
    failed = np.zeros(n_customers, bool)
    if cls.complaints is not None and failure_probability > 0:
        station = scenario.station_names.index(scenario.complaint_station(cls))
        index_in_plan = np.arange(len(visit_customer)) - trace.visit_ptr[visit_customer]
        candidate = ((trace.station == station) & ~trace.is_rework
                     & ~np.isnan(trace.service_ended_at))
        position = np.full(n_customers, -1)
        position[rows] = np.arange(len(rows))
        candidate &= position[visit_customer] >= 0
        for k in np.unique(index_in_plan[candidate]):
            at = np.flatnonzero(candidate & (index_in_plan == k))
            u = day.uniforms("complaint", int(k))[position[visit_customer[at]]]
            failed[visit_customer[at[u < failure_probability]]] = True
    return Visits(served=served, wait=wait, satisfaction=sat, failed=failed[rows],
                  complained=complained, response_time=response[rows], handling_time=handling)
