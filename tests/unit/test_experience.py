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
    """Larson's definitions pair by pair: j skips i if j joined later and started service
    before i got out of the queue (started or abandoned); a slip is the same pair seen from j."""
    q = trace.queued_at
    e = q + trace.visit_wait
    started = ~np.isnan(trace.service_started_at)
    skips = [int(((q > q[i]) & started & (e < e[i])).sum()) for i in range(len(q))]
    slips = [int(((q < q[i]) & (e > e[i])).sum()) if started[i] else 0 for i in range(len(q))]
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


def test_abandoning_is_not_jumping_ahead():
    # a single FIFO line with impatient customers: still no skips (5b.5), and the counts
    # match the pairwise definitions with abandonment and priorities mixed
    for discipline in ("fifo", "priority"):
        sc = scenario_from_dict({
            "run": {"customers": 1500, "seed": 3},
            "stations": {"s": {"servers": 2, "discipline": discipline}},
            "classes": {name: {"arrivals": {"kind": "poisson", "rate": 1.2}, "priority": p,
                               "service": {"s": {"kind": "exponential", "mean": 1.0}},
                               "patience": {"kind": "exponential", "mean": 2.0}}
                        for name, p in (("vip", 0), ("regular", 1))}})
        trace = simulate(sc, draw(sc, 3, 0))
        assert (trace.outcome == 1).sum() > 50  # many abandon
        skips, slips = skips_and_slips(trace)
        assert (skips.tolist(), slips.tolist()) == brute_force(trace)
        assert skips.sum() == slips.sum()
        if discipline == "fifo":
            assert skips.sum() == 0


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


def test_state_at_arrival_matches_a_brute_force_count():
    from queue_sim.experience import state_at_arrival

    t = two_class("priority")
    waiting, busy = state_at_arrival(t)
    q, e = t.queued_at, t.queued_at + t.visit_wait
    start, end = t.service_started_at, t.service_ended_at
    for i in range(0, t.n_customers, 37):
        a = t.arrived_at[i]
        others = np.arange(t.n_customers) != i
        assert waiting[i] == int(((q < a) & (e > a) & others).sum())
        assert busy[i] == int(((start <= a) & (end > a) & others).sum())


def test_queue_length_predictor_is_unbiased_in_mmc():
    # E[Wq | n waiting, all busy] = (n + 1) / (c mu) in M/M/c FCFS: the told waits average
    # to the actual waits (paired per customer, 99% t-interval over replications)
    from scipy import stats as sps

    from queue_sim.experience import queue_length_predictor
    from queue_sim.kernels import simulate as kernel

    sc = scenario_from_dict({
        "run": {"horizon": 2000, "warmup": 100},
        "stations": {"s": {"servers": 3}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 2.4},
                          "service": {"s": {"kind": "exponential", "mean": 1.0}}}}})
    gaps = []
    for r in range(20):
        t = kernel(sc, draw(sc, 5, r))
        told = queue_length_predictor(t, servers=3, mean_service=1.0)
        late = t.arrived_at >= 100
        gaps.append(float((t.wait_time - told)[late].mean()))
        assert (told[t.wait_time == 0] == 0).all()  # nobody waits who was told 0
    half = sps.t.ppf(0.995, len(gaps) - 1) * np.std(gaps, ddof=1) / np.sqrt(len(gaps))
    assert abs(np.mean(gaps)) <= half


def test_announced_waits_replace_the_expectation_and_remove_uncertainty():
    from queue_sim.experience import perceived_wait, satisfaction

    t = two_class("fifo")
    params = Experience(uncertain=1.5, unexplained=1.0, overestimation=1.0)
    told = np.where(np.arange(t.n_customers) % 2 == 0, 2.0, np.nan)
    p = perceived_wait(t, params, told)
    np.testing.assert_allclose(p[::2], t.wait_time[::2])
    np.testing.assert_allclose(p[1::2], 1.5 * t.wait_time[1::2])
    s = satisfaction(t, params, np.zeros(t.n_customers, np.int64), told)
    expected = np.where(np.isnan(told), params.acceptable_wait, told)
    np.testing.assert_allclose(s, params.baseline
                               - params.disconfirmation * np.maximum(0, p - expected)
                               + params.confirmation * np.maximum(0, expected - p))
    # the default (uncertain = 1, nobody told) is the old model exactly
    default = Experience()
    np.testing.assert_array_equal(perceived_wait(t, default), default.overestimation
                                  * t.wait_time ** default.exponent * default.unexplained)
