"""Fairness and experience metrics: Larson's skips and slips, perceived wait, satisfaction."""

from __future__ import annotations

import numpy as np

from queue_sim.config import scenario_from_dict
from queue_sim.config.schema import Experience
from queue_sim.experience import experience_frame, skips_and_slips
from queue_sim.model import simulate
from queue_sim.rng import draw


def two_class(discipline: str):
    sc = scenario_from_dict({
        "run": {"customers": 2000, "seed": 3},
        "stations": {"s": {"servers": 3, "discipline": discipline}},
        "classes": {name: {"arrivals": {"kind": "poisson", "rate": 1.2}, "priority": p,
                           "service": {"s": {"kind": "exponential", "mean": 1.0}}}
                    for name, p in (("vip", 0), ("regular", 1))}})
    return simulate(sc, draw(sc, 3, 0))


def brute_force(trace):
    q = trace.queued_at
    e = q + trace.visit_wait
    skips = [int(((q > q[i]) & (e < e[i])).sum()) for i in range(len(q))]
    slips = [int(((q < q[i]) & (e > e[i])).sum()) for i in range(len(q))]
    return skips, slips


def test_single_fifo_line_has_no_skips():
    # DOMAIN.md 5b.5: a correct FCFS single line never lets anyone jump ahead
    skips, slips = skips_and_slips(two_class("fifo"))
    assert skips.sum() == 0 and slips.sum() == 0


def test_priority_skips_match_brute_force():
    trace = two_class("priority")
    skips, slips = skips_and_slips(trace)
    assert skips.sum() > 0
    assert (skips.tolist(), slips.tolist()) == brute_force(trace)
    vip = trace.class_idx == 0
    assert skips[vip].sum() == 0  # nobody outranks the top class


def test_satisfaction_formula_on_known_waits():
    trace = two_class("fifo")
    p = Experience(overestimation=2.0, exponent=1.0, unexplained=1.5, acceptable_wait=1.0,
                   baseline=7.0, disconfirmation=1.0, confirmation=0.5, per_skip=0.0)
    out = experience_frame(trace, p)
    w = trace.wait_time
    perceived = 2.0 * w * 1.5  # nobody was acknowledged
    np.testing.assert_allclose(out["perceived_wait"], perceived)
    expected = 7.0 - np.maximum(0, perceived - 1.0) + 0.5 * np.maximum(0, 1.0 - perceived)
    np.testing.assert_allclose(out["satisfaction"], expected)
