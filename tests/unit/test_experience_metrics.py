"""Experience metrics per replication: what the runner adds to every summary."""

from __future__ import annotations

import pytest

from queue_sim import experience
from queue_sim.config import scenario_from_dict
from queue_sim.runner import run_replication
from tests.model.hand_traced import build, run


def test_single_line_fifo_has_no_skips_and_exact_shares(tmp_path):
    # one server, service 2, arrivals 0, 1, 2: waits 0, 1, 2; with tolerance 1.5 one of three
    # customers waits longer; a FIFO line has no skips (DOMAIN 5b.5)
    sc = build(tmp_path, {"a": {"at": [0, 1, 2], "service": 2}},
               experience={"tolerance": 1.5, "overestimation": 1.0, "unexplained": 1.0})
    m = experience.metrics(run(sc), sc.experience)
    assert m[("system", "all", "mean_skips")] == 0
    assert m[("system", "all", "wait_over_tolerance_share")] == pytest.approx(1 / 3)
    assert m[("system", "all", "mean_perceived_wait")] == pytest.approx(1.0)
    # S = 7 + 0.1 * (5 - P) for P < 5: 7.5, 7.4, 7.3
    assert m[("class", "a", "mean_satisfaction")] == pytest.approx(7.4)
    assert m[("system", "all", "dissatisfied_share")] == 0


def test_priority_creates_skips_and_lower_satisfaction_for_the_skipped(tmp_path):
    # b (priority 0) arrives after a2 but is served first: a2 is skipped once
    sc = build(tmp_path, {"a": {"at": [0, 0.5], "service": 2, "priority": 1},
                          "b": {"at": [1], "service": 1, "priority": 0}},
               stations={"till": {"servers": 1, "discipline": "priority"}})
    m = experience.metrics(run(sc), sc.experience)
    assert m[("class", "a", "mean_skips")] == pytest.approx(0.5)
    assert m[("class", "b", "mean_skips")] == 0


def test_runner_adds_experience_metrics_for_every_replication():
    sc = scenario_from_dict({
        "run": {"horizon": 200, "seed": 4, "replications": 1},
        "stations": {"s": {"servers": 1}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.8},
                          "service": {"s": {"kind": "exponential", "mean": 1}}}}})
    metrics, trace = run_replication(sc, 4, 0, "simpy")
    assert ("system", "all", "mean_satisfaction") in metrics
    assert ("class", "a", "satisfaction_p10") in metrics
    window = (trace.arrived_at >= trace.warmup) & (trace.arrived_at < trace.horizon)
    share = float((trace.wait_time[window] > sc.experience.tolerance).mean())
    assert metrics[("system", "all", "wait_over_tolerance_share")] == share
