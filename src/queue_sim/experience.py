"""How waiting felt: fairness (skips and slips), perceived wait and satisfaction per customer.

Computed from a ``Trace`` after the run, so both engines share it and parameters can be changed
without rerunning.  ``metrics`` reduces them to per-replication numbers in the keys of
``queue_sim.stats`` (scopes system and class, customers arriving in the statistics window):

==============================  ===========================================================
metric                          meaning
==============================  ===========================================================
mean_satisfaction               mean satisfaction (scale of ``experience.baseline``)
satisfaction_p10                10th percentile of satisfaction
dissatisfied_share              share with satisfaction below ``dissatisfied_below``
mean_perceived_wait             mean perceived wait
wait_over_tolerance_share       share whose actual wait exceeded ``experience.tolerance``
acknowledged_share              share acknowledged while waiting
mean_skips, mean_slips          Larson's skips and slips per customer
bystander_mean_satisfaction     mean satisfaction of bystanders (see ``stats.bystanders``)
complainer_mean_satisfaction    mean satisfaction of customers who complained
==============================  ===========================================================

Imports config, stats and trace only (and numba for one counting loop).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from queue_sim.config.schema import Experience
from queue_sim.stats import Key, bystanders
from queue_sim.trace import Trace


@njit(cache=True)
def _count_overtakes(queued_rank: np.ndarray, started: np.ndarray, n: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """For items in order of wait end: how many earlier-ending items that *started service*
    queued later (skips), and how many earlier-ending items of any kind queued earlier."""
    tree_started = np.zeros(n + 1, np.int64)
    tree_all = np.zeros(n + 1, np.int64)
    skipped = np.zeros(len(queued_rank), np.int64)
    earlier_out = np.zeros(len(queued_rank), np.int64)
    n_started = 0
    for k in range(len(queued_rank)):
        r = queued_rank[k] + 1
        below_started, below_all, j = 0, 0, r  # already out with a queue rank <= r
        while j > 0:
            below_started += tree_started[j]
            below_all += tree_all[j]
            j -= j & -j
        skipped[k] = n_started - below_started
        earlier_out[k] = below_all
        j = r
        while j <= n:
            tree_all[j] += 1
            if started[k]:
                tree_started[j] += 1
            j += j & -j
        if started[k]:
            n_started += 1
    return skipped, earlier_out


def skips_and_slips(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """Larson's (1987) skips and slips per customer, summed over its ordinary station visits.

    ``skips``: customers who joined the same queue later but *started service* before this
    customer got out of it (by its service start, or by abandoning).  ``slips``: customers who
    joined earlier and were still waiting when this one started service.  Abandoning is not
    jumping ahead, so a single FIFO line has no skips even with abandonment (DOMAIN.md 5b.5);
    priority, remakes, preemption and separate lines create them.  Every skip of one customer
    is a slip of another.
    """
    skips = np.zeros(trace.n_customers, np.int64)
    slips = np.zeros(trace.n_customers, np.int64)
    skipped, slipped = visit_overtakes(*overtake_columns(trace), overtake_rows(trace))
    customer = trace.visit_customer
    np.add.at(skips, customer, skipped)
    np.add.at(slips, customer, slipped)
    return skips, slips


def overtake_columns(trace: Trace) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per visit: station, queue entry, end of the wait (NaN while still waiting) and whether
    service started: what skips and slips compare."""
    wait_end = trace.queued_at + trace.visit_wait
    return (trace.station, trace.queued_at, wait_end,
            ~np.isnan(trace.service_started_at))


def overtake_rows(trace: Trace) -> np.ndarray:
    """The visits skips and slips are counted over: ordinary visits that reached a queue."""
    return ~np.isnan(trace.queued_at) & ~trace.is_rework


def visit_overtakes(station: np.ndarray, queued_at: np.ndarray, wait_end: np.ndarray,
                    started: np.ndarray, reached: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skips and slips per visit row (0 where not ``reached``), the visits of one station
    compared among themselves; ties in ``queued_at`` go by row order.  A streamed run passes
    the rows of released visits that can still matter followed by its window's
    (``kernels.stream``): the count of a visit depends only on the visits whose waits nest
    with its own."""
    skipped_out = np.zeros(len(station), np.int64)
    slipped_out = np.zeros(len(station), np.int64)
    for s in np.unique(station[reached]):
        rows = np.flatnonzero(reached & (station == s))
        q = queued_at[rows]
        e = wait_end[rows]
        begun = started[rows]
        rank_q = np.empty(len(rows), np.int64)
        rank_q[np.lexsort((rows, q))] = np.arange(len(rows))
        by_end = np.lexsort((rank_q, e))
        skipped, earlier_out = _count_overtakes(rank_q[by_end], begun[by_end], len(rows))
        # slips: earlier joiners still waiting at this one's start = (queue rank) - (earlier
        # joiners out before it); only a customer who started can have jumped ahead
        slipped = np.where(begun[by_end], rank_q[by_end] - earlier_out, 0)
        skipped_out[rows[by_end]] = skipped
        slipped_out[rows[by_end]] = slipped
    return skipped_out, slipped_out


def perceived_wait(trace: Trace, params: Experience,
                   announced: np.ndarray | None = None) -> np.ndarray:
    """Perceived wait per customer: ``k * W**b``, times ``unexplained`` if never acknowledged
    and ``uncertain`` unless told the expected wait (``announced``: bool per customer, or a
    wait per customer with NaN for "not told"; default nobody)."""
    w = trace.wait_time
    m = np.where(np.isnan(trace.acknowledged_at), params.unexplained, 1.0)
    if params.uncertain != 1.0:
        m = m * np.where(_told(announced, len(w)), 1.0, params.uncertain)
    return params.overestimation * np.power(w, params.exponent) * m


def _told(announced: np.ndarray | None, n: int) -> np.ndarray:
    if announced is None:
        return np.zeros(n, dtype=bool)
    announced = np.asarray(announced)
    return ~np.isnan(announced) if announced.dtype.kind == "f" else announced.astype(bool)


def satisfaction(trace: Trace, params: Experience, skips: np.ndarray | None = None,
                 announced: np.ndarray | None = None) -> np.ndarray:
    """Satisfaction per customer on the scale of ``params.baseline`` (see ``Experience``).

    ``announced``: the wait each customer was told (NaN: told nothing), which moves that
    customer's expectation E towards it by ``anchoring`` and removes ``uncertain``.
    """
    if skips is None:
        skips, _ = skips_and_slips(trace)
    p = perceived_wait(trace, params, announced)
    e = np.full(len(p), params.acceptable_wait)
    if announced is not None and np.asarray(announced).dtype.kind == "f":
        e = np.where(np.isnan(announced), e,
                     (1.0 - params.anchoring) * e + params.anchoring * announced)
    return (params.baseline - params.disconfirmation * np.maximum(0.0, p - e)
            + params.confirmation * np.maximum(0.0, e - p) - params.per_skip * skips)


def experience_frame(trace: Trace, params: Experience,
                     announced: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-customer experience columns: skips, slips, perceived wait, satisfaction."""
    skips, slips = skips_and_slips(trace)
    return {"skips": skips, "slips": slips,
            "perceived_wait": perceived_wait(trace, params, announced),
            "satisfaction": satisfaction(trace, params, skips, announced)}


def state_at_arrival(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """(number waiting, number in service) at each customer's first station when it arrived,
    itself not counted; an instant's departures and service starts count as done (the
    tie-break rule: releases before arrivals)."""
    first = trace.visit_ptr[:-1]
    has_visit = np.diff(trace.visit_ptr) > 0
    n = trace.n_customers
    waiting, busy = np.zeros(n, np.int64), np.zeros(n, np.int64)
    reached = ~np.isnan(trace.queued_at)
    wait_end = trace.queued_at + trace.visit_wait
    for s in np.unique(trace.station[reached]):
        rows = np.flatnonzero(reached & (trace.station == s))
        who = np.flatnonzero(has_visit)[trace.station[first[has_visit]] == s]
        at = trace.queued_at[first[who]]
        joined = np.sort(trace.queued_at[rows])
        left_queue = np.sort(wait_end[rows])
        started = np.sort(trace.service_started_at[rows][~np.isnan(
            trace.service_started_at[rows])])
        ended = np.sort(trace.service_ended_at[rows][~np.isnan(trace.service_ended_at[rows])])
        # waiting at a: joined before a and still there; visits that joined and left at a
        # itself (the customer, if it waited 0) are not among those that left before a
        instant = np.sort(trace.queued_at[rows][wait_end[rows] == trace.queued_at[rows]])
        left_before = (np.searchsorted(left_queue, at, side="right")
                       - (np.searchsorted(instant, at, side="right")
                          - np.searchsorted(instant, at, side="left")))
        waiting[who] = np.searchsorted(joined, at, side="left") - left_before
        busy[who] = (np.searchsorted(started, at, side="right")
                     - np.searchsorted(ended, at, side="right")
                     - (trace.service_started_at[first[who]] == at))  # itself, served at once
    return waiting, busy


def queue_length_predictor(trace: Trace, servers: int, mean_service: float) -> np.ndarray:
    """The wait a customer would be told on arrival at a single FCFS line of ``servers``:
    ``(n_waiting + 1) * mean_service / servers`` when every server is busy, else 0 (the
    queue-length delay predictor, exact in mean for M/M/c; Ibrahim & Whitt 2009)."""
    waiting, busy = state_at_arrival(trace)
    return np.where(busy >= servers, (waiting + 1) * mean_service / servers, 0.0)


# the per-customer columns the metrics average, in the order they are reported
MEAN_METRICS = (("dissatisfied_share", "dissatisfied"), ("mean_perceived_wait", "perceived_wait"),
                ("wait_over_tolerance_share", "over_tolerance"),
                ("acknowledged_share", "acknowledged"), ("mean_skips", "skips"),
                ("mean_slips", "slips"))
SATISFACTION_PERCENTILE = 10


def metrics(trace: Trace, params: Experience) -> dict[Key, float]:
    """Per-replication experience metrics (see the module docstring), system then classes."""
    skips, slips = skips_and_slips(trace)
    complained = np.bincount(trace.visit_customer, weights=trace.complained.astype(float),
                             minlength=trace.n_customers) > 0
    columns = customer_columns(trace, params, skips, slips, bystanders(trace), complained)
    return reduce_columns(columns, trace.class_names)


def customer_columns(trace: Trace, params: Experience, skips: np.ndarray, slips: np.ndarray,
                     bystander: np.ndarray, complained: np.ndarray) -> dict[str, np.ndarray]:
    """Per customer: what the metrics average or take percentiles of, and the scope masks
    (``class_idx``, ``in_window``, ``bystander``, ``complained``).  Every column is computed
    customer by customer, so a streamed run computes them chunk by chunk (``streaming``)
    given each chunk's skips and slips."""
    s = satisfaction(trace, params, skips)
    return {
        "satisfaction": s,
        "dissatisfied": (s < params.dissatisfied_below).astype(float),
        "perceived_wait": perceived_wait(trace, params),
        "over_tolerance": (trace.wait_time > params.tolerance).astype(float),
        "acknowledged": (~np.isnan(trace.acknowledged_at)).astype(float),
        "skips": skips.astype(float),
        "slips": slips.astype(float),
        "class_idx": trace.class_idx,
        "in_window": (trace.arrived_at >= trace.warmup) & (trace.arrived_at < trace.horizon),
        "bystander": np.asarray(bystander, bool),
        "complained": np.asarray(complained, bool),
    }


def scope_masks(columns: dict[str, np.ndarray], class_names: list[str] | None
                ) -> list[tuple[tuple[str, str], np.ndarray]]:
    """(scope, customers) of the system and each class: window customers."""
    in_window = columns["in_window"]
    scopes = [(("system", "all"), in_window)]
    for k, cname in enumerate(class_names or []):
        scopes.append((("class", cname), in_window & (columns["class_idx"] == k)))
    return scopes


def reduce_columns(columns: dict[str, np.ndarray], class_names: list[str] | None
                   ) -> dict[Key, float]:
    """The metrics from the per-customer columns of a whole run (``customer_columns``)."""
    s = columns["satisfaction"]

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if len(x) else np.nan

    out: dict[Key, float] = {}
    for scope, mask in scope_masks(columns, class_names):
        sat = s[mask]
        out[(*scope, "mean_satisfaction")] = mean(sat)
        out[(*scope, "satisfaction_p10")] = (
            float(np.percentile(sat, SATISFACTION_PERCENTILE)) if len(sat) else np.nan)
        for metric, column in MEAN_METRICS:
            out[(*scope, metric)] = mean(columns[column][mask])
        out[(*scope, "bystander_mean_satisfaction")] = mean(s[mask & columns["bystander"]])
        out[(*scope, "complainer_mean_satisfaction")] = mean(s[mask & columns["complained"]])
    return out
