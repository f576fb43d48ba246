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
def _count_overtakes(queued_rank: np.ndarray, n: int) -> np.ndarray:
    """For items in order of wait end, count earlier-ending items that queued later (skips)."""
    tree = np.zeros(n + 1, np.int64)
    out = np.zeros(len(queued_rank), np.int64)
    for k in range(len(queued_rank)):
        r = queued_rank[k] + 1
        # how many already ended with a queue rank greater than r
        total, j = 0, r
        while j > 0:
            total += tree[j]
            j -= j & -j
        out[k] = k - total
        j = r
        while j <= n:
            tree[j] += 1
            j += j & -j
    return out


def skips_and_slips(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """Larson's (1987) skips and slips per customer, summed over its ordinary station visits.

    ``skips``: customers who joined the same queue later but got out of it (service start, or
    leaving) earlier.  ``slips``: customers who joined earlier but got out later.  A single FIFO
    line has no skips; priority, remakes and preemption create them.
    """
    skips = np.zeros(trace.n_customers, np.int64)
    slips = np.zeros(trace.n_customers, np.int64)
    customer = trace.visit_customer
    wait_end = trace.queued_at + trace.visit_wait
    reached = ~np.isnan(trace.queued_at) & ~trace.is_rework
    for s in np.unique(trace.station[reached]):
        rows = np.flatnonzero(reached & (trace.station == s))
        q = trace.queued_at[rows]
        e = wait_end[rows]
        rank_q = np.empty(len(rows), np.int64)
        rank_q[np.lexsort((rows, q))] = np.arange(len(rows))
        by_end = np.lexsort((rank_q, e))
        skipped = _count_overtakes(rank_q[by_end], len(rows))
        # slips: earlier joiners who got out later = (queue rank) - (earlier joiners out before)
        slipped = rank_q[by_end] - (np.arange(len(rows)) - skipped)
        np.add.at(skips, customer[rows[by_end]], skipped)
        np.add.at(slips, customer[rows[by_end]], slipped)
    return skips, slips


def perceived_wait(trace: Trace, params: Experience) -> np.ndarray:
    """Perceived wait per customer: ``k * W**b``, times ``unexplained`` if never acknowledged."""
    w = trace.wait_time
    unexplained = np.where(np.isnan(trace.acknowledged_at), params.unexplained, 1.0)
    return params.overestimation * np.power(w, params.exponent) * unexplained


def satisfaction(trace: Trace, params: Experience,
                 skips: np.ndarray | None = None) -> np.ndarray:
    """Satisfaction per customer on the scale of ``params.baseline`` (see ``Experience``)."""
    if skips is None:
        skips, _ = skips_and_slips(trace)
    p = perceived_wait(trace, params)
    e = params.acceptable_wait
    return (params.baseline - params.disconfirmation * np.maximum(0.0, p - e)
            + params.confirmation * np.maximum(0.0, e - p) - params.per_skip * skips)


def experience_frame(trace: Trace, params: Experience) -> dict[str, np.ndarray]:
    """Per-customer experience columns: skips, slips, perceived wait, satisfaction."""
    skips, slips = skips_and_slips(trace)
    return {"skips": skips, "slips": slips, "perceived_wait": perceived_wait(trace, params),
            "satisfaction": satisfaction(trace, params, skips)}


def metrics(trace: Trace, params: Experience) -> dict[Key, float]:
    """Per-replication experience metrics (see the module docstring), system then classes."""
    cols = experience_frame(trace, params)
    s = cols["satisfaction"]
    per_customer = {
        "satisfaction": s,
        "dissatisfied": (s < params.dissatisfied_below).astype(float),
        "perceived_wait": cols["perceived_wait"],
        "over_tolerance": (trace.wait_time > params.tolerance).astype(float),
        "acknowledged": (~np.isnan(trace.acknowledged_at)).astype(float),
        "skips": cols["skips"].astype(float),
        "slips": cols["slips"].astype(float),
    }
    complained = np.bincount(trace.visit_customer, weights=trace.complained.astype(float),
                             minlength=trace.n_customers) > 0
    bystander = bystanders(trace)
    in_window = (trace.arrived_at >= trace.warmup) & (trace.arrived_at < trace.horizon)
    scopes = [(("system", "all"), in_window)]
    for k, cname in enumerate(trace.class_names or []):
        scopes.append((("class", cname), in_window & (trace.class_idx == k)))

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if len(x) else np.nan

    out: dict[Key, float] = {}
    for scope, mask in scopes:
        sat = s[mask]
        out[(*scope, "mean_satisfaction")] = mean(sat)
        out[(*scope, "satisfaction_p10")] = (float(np.percentile(sat, 10)) if len(sat)
                                             else np.nan)
        for metric, column in (("dissatisfied_share", "dissatisfied"),
                               ("mean_perceived_wait", "perceived_wait"),
                               ("wait_over_tolerance_share", "over_tolerance"),
                               ("acknowledged_share", "acknowledged"),
                               ("mean_skips", "skips"), ("mean_slips", "slips")):
            out[(*scope, metric)] = mean(per_customer[column][mask])
        out[(*scope, "bystander_mean_satisfaction")] = mean(s[mask & bystander])
        out[(*scope, "complainer_mean_satisfaction")] = mean(s[mask & complained])
    return out
