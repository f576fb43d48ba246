"""Attribution by counterfactual: what one change (no complaints, another policy) costs others.

Each replication is run twice on the same customers and random numbers (common random numbers
by construction, see ``queue_sim.rng``): once as configured ("actual") and once with the change
("counterfactual").  The difference of each customer's wait is the extra waiting the configured
behaviour caused that customer.  Because the draws of customer *i* do not depend on the policy,
the two runs differ only through the policy, and the per-replication differences are paired.

Imports config, rng, engines, stats and trace; never results, plots or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from queue_sim import rng, stats
from queue_sim.config.load import derive
from queue_sim.config.schema import Scenario
from queue_sim.engines import get_engine
from queue_sim.trace import Trace

SCOPE = ("counterfactual", "all")


@dataclass
class CounterfactualResult:
    """Paired comparison of a scenario with a changed copy of itself.

    ``summary`` is tidy (``scope, name, metric, mean, ci_low, ci_high, std, reps``, scope
    ``counterfactual``), ``replications`` has one row per replication, and ``customers`` one row
    per customer of the kept replications (``extra_wait`` = actual - counterfactual wait).
    """

    summary: pd.DataFrame
    replications: pd.DataFrame
    customers: pd.DataFrame | None
    change: dict[str, Any]


def handling_episodes(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of every complaint handling episode, sorted by start."""
    has = ~np.isnan(trace.handling_started_at)
    start = trace.handling_started_at[has]
    end = trace.handling_ended_at[has]
    order = np.argsort(start, kind="stable")
    return start[order], end[order]


def after_recovery(arrived_at: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Customers who arrived after a manager was back: once some handling episode had ended,
    and while none was going on (the "downstream" of DOMAIN.md 2b)."""
    if len(starts) == 0:
        return np.zeros(len(arrived_at), bool)
    first_end = ends.min()
    # an arrival is inside an episode if an episode started before it and ends after it
    order = np.argsort(starts)
    s, e = starts[order], np.maximum.accumulate(ends[order])
    k = np.searchsorted(s, arrived_at, side="right") - 1
    inside = (k >= 0) & (e[np.maximum(k, 0)] > arrived_at)
    return (arrived_at >= first_end) & ~inside


def time_waiting(trace: Trace) -> np.ndarray:
    """Per customer: every minute spent waiting for service, summed over visits.

    The wait in queue before a visit's first service start (``Trace.wait_time``) plus, for a
    visit whose service was interrupted (a server leaving or being preempted hands it back
    to the queue, a breakdown stalls it) and later completed, the time between its first start
    and its end that was not work: ``service_ended_at - service_started_at - service_time``.
    A customer handed back when the manager leaves the till waits again, and that wait is part
    of what the manager's absence costs (the exact anchor of DOMAIN.md 2b.1 counts it too).
    """
    waiting = trace.wait_time
    stalled = trace.service_ended_at - trace.service_started_at - trace.service_time
    # rounding leaves about 1e-14 on visits served in one piece (or resumed at once): not a wait
    interrupted = stalled > 1e-9 * np.maximum(trace.service_time, 1.0)
    stalled = np.where(interrupted, stalled, 0.0)
    if not len(stalled) or not stalled.any():
        return waiting
    return waiting + np.add.reduceat(stalled, trace.visit_ptr[:-1])


def compare(actual: Trace, counterfactual: Trace, *, threshold: float
            ) -> tuple[dict[stats.Key, float], pd.DataFrame]:
    """Per-replication attribution metrics and per-customer extra waits of two paired traces.

    Customers are matched by index; both runs must have the same arrivals (a change that moves
    arrivals cannot be attributed customer by customer and raises ``ValueError``).  Waits are
    ``time_waiting``: in the queue, and back in it after an interrupted service.
    """
    if not np.array_equal(actual.arrived_at, counterfactual.arrived_at):
        raise ValueError("the change moved the arrivals: customers cannot be paired; compare "
                         "the two scenarios with a sweep instead")
    waiting, waiting_cf = time_waiting(actual), time_waiting(counterfactual)
    extra = waiting - waiting_cf
    complained = np.add.reduceat(actual.complained.astype(np.int64),
                                 actual.visit_ptr[:-1]) > 0 if actual.n_customers else \
        np.zeros(0, bool)
    starts, ends = handling_episodes(actual)
    downstream = after_recovery(actual.arrived_at, starts, ends)
    n_complaints = int(actual.complained.sum())
    total = float(extra.sum())
    others = ~complained
    metrics = {
        "n_complaints": float(n_complaints),
        "extra_wait_total": total,
        "extra_wait_per_complaint": total / n_complaints if n_complaints else np.nan,
        "extra_wait_others": float(extra[others].sum()),
        "extra_wait_others_per_complaint": (float(extra[others].sum()) / n_complaints
                                            if n_complaints else np.nan),
        "extra_wait_complainers": float(extra[complained].sum()),
        "n_delayed": float((extra > threshold).sum()),
        "share_delayed": float((extra > threshold).mean()) if len(extra) else np.nan,
        "downstream_share": (float(extra[downstream].sum()) / total
                             if len(starts) and total > 0 else np.nan),
        "mean_extra_wait": float(extra.mean()) if len(extra) else np.nan,
        "max_extra_wait": float(extra.max()) if len(extra) else np.nan,
    }
    customers = pd.DataFrame({
        "customer": np.arange(actual.n_customers), "arrived_at": actual.arrived_at,
        "wait_actual": waiting, "wait_counterfactual": waiting_cf,
        "extra_wait": extra, "complained": complained, "after_recovery": downstream,
    })
    return {(*SCOPE, k): v for k, v in metrics.items()}, customers


def counterfactual(scenario: Scenario, change: Mapping[str, Any] | Iterable[tuple[str, Any]],
                   *, seed: int, replications: int | None = None,
                   engine: str | Callable | None = None, threshold: float = 0.5,
                   keep_customers: bool = False) -> CounterfactualResult:
    """Run every replication as configured and with ``change``, on the same random numbers.

    Parameters
    ----------
    scenario
        The configured ("actual") scenario.
    change
        Dotted keys and values of the counterfactual, e.g.
        ``{"classes.walk_in.complaints.probability": 0}`` or ``{"recovery.policy": "dedicated"}``.
    seed, replications, engine
        As for ``queue_sim.simulate`` (defaults from ``scenario.run``).
    threshold
        Customers delayed by more than this (in ``time_unit``) are counted in ``n_delayed``.
    keep_customers
        Return per-customer extra waits of every replication.
    """
    change = dict(change.items() if isinstance(change, Mapping) else change)
    other = derive(scenario, change)
    simulate_one = get_engine(engine or scenario.run.engine) if not callable(engine) else engine
    rows, kept = [], []
    for r in range(replications or scenario.run.replications):
        actual = simulate_one(scenario, rng.draw(scenario, seed, r))
        cf = simulate_one(other, rng.draw(other, seed, r))
        metrics, customers = compare(actual, cf, threshold=threshold)
        rows.append({"replication": r, **{stats.metric_column(k): v for k, v in metrics.items()}})
        if keep_customers:
            kept.append(customers.assign(replication=r))
    frame = pd.DataFrame(rows)
    long = frame.melt(id_vars="replication", var_name="column", value_name="value")
    long[["scope", "name", "metric"]] = long["column"].str.split(stats.METRIC_SEP, n=2,
                                                                 expand=True)
    return CounterfactualResult(summary=stats.across_replications(long), replications=frame,
                                customers=pd.concat(kept, ignore_index=True) if kept else None,
                                change=change)
