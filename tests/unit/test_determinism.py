"""Reproducibility: the same scenario and seed give identical numbers; other seeds differ.

Also the common-random-numbers property the studies rely on: customer i of replication r
draws the same numbers whatever the policy, and the first customers are unchanged when the
horizon grows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from queue_sim import simulate
from queue_sim.config import load_scenario
from queue_sim.config.load import derive
from queue_sim.rng import draw

CONFIG = "configs/counter_360.yaml"
SHORT = {"run.horizon": 120, "run.warmup": 10, "run.replications": 3}


def test_same_seed_same_summary_twice():
    scenario = load_scenario(CONFIG, SHORT)
    a = simulate(scenario, progress=False)
    b = simulate(scenario, progress=False)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.replications, b.replications)


def test_different_seeds_differ():
    a = simulate(load_scenario(CONFIG, {**SHORT, "run.seed": 1}), progress=False)
    b = simulate(load_scenario(CONFIG, {**SHORT, "run.seed": 2}), progress=False)
    col = "system:all:mean_wait"
    assert not np.array_equal(a.replications[col], b.replications[col])


def test_customers_draw_the_same_numbers_under_every_policy():
    base = load_scenario(CONFIG, SHORT)
    other = derive(base, {"recovery.policy": "dedicated"})
    d1, d2 = draw(base, 7, 0), draw(other, 7, 0)
    for field in ("arrived_at", "visit_ptr", "service_time", "patience", "is_wrong",
                  "handling_time"):
        np.testing.assert_array_equal(getattr(d1, field), getattr(d2, field))


def test_longer_horizon_keeps_the_first_customers():
    short = draw(load_scenario(CONFIG, SHORT), 7, 0)
    longer = draw(load_scenario(CONFIG, {**SHORT, "run.horizon": 240}), 7, 0)
    n = short.n_customers
    np.testing.assert_array_equal(short.arrived_at, longer.arrived_at[:n])
    m = short.visit_ptr[-1]
    np.testing.assert_array_equal(short.service_time, longer.service_time[:m])


def test_no_customers_gives_an_empty_plan():
    from queue_sim.config import scenario_from_dict

    sc = scenario_from_dict({"run": {"horizon": 10, "seed": 1}, "stations": {"s": {}},
                             "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 1e-6},
                                               "service": {"s": {"kind": "exponential",
                                                                 "mean": 1}}}}})
    d = draw(sc, 5, 0)
    assert d.n_customers == 0 and len(d.station) == 0
