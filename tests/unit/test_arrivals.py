"""Arrival processes as drawn: a piecewise-constant rate schedule is sampled exactly (Poisson
counts with the integrated rate in every period, uniform positions inside a period, nothing in
a period of rate 0), and a CSV trace is used as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from queue_sim.config import load_scenario, scenario_from_dict
from queue_sim.rng import draw

TIMES, RATES, HORIZON = [0.0, 30.0, 60.0, 90.0], [0.2, 2.0, 0.0, 1.0], 120.0
REPS = 200


def lunch_peak() -> dict:
    return {"run": {"horizon": HORIZON},
            "stations": {"till": {"servers": 3}},
            "classes": {"walkin": {
                "arrivals": {"kind": "schedule", "times": TIMES, "rates": RATES},
                "service": {"till": {"kind": "exponential", "mean": 1.0}}}}}


def arrivals_by_replication() -> list[np.ndarray]:
    scenario = scenario_from_dict(lunch_peak())
    return [draw(scenario, 7, r).arrived_at for r in range(REPS)]


def test_schedule_counts_per_period_are_poisson_with_the_integrated_rate() -> None:
    edges = TIMES + [HORIZON]
    counts = np.array([np.histogram(t, bins=edges)[0] for t in arrivals_by_replication()])
    expected = np.array(RATES) * np.diff(edges)          # 6, 60, 0, 30
    assert counts[:, 2].sum() == 0                        # rate 0: never an arrival
    for period in (0, 1, 3):
        mean = counts[:, period].mean()
        # Poisson: variance = mean; 4 standard errors of the mean over REPS replications
        assert abs(mean - expected[period]) < 4 * np.sqrt(expected[period] / REPS), period
        dispersion = counts[:, period].var(ddof=1) / expected[period]
        low, high = stats.chi2.ppf([0.0005, 0.9995], REPS - 1) / (REPS - 1)
        assert low < dispersion < high, period


def test_schedule_positions_are_uniform_inside_each_period() -> None:
    pooled = np.concatenate(arrivals_by_replication())
    for start, end in ((0.0, 30.0), (30.0, 60.0), (90.0, 120.0)):
        inside = pooled[(pooled >= start) & (pooled < end)]
        assert stats.kstest((inside - start) / (end - start), "uniform").pvalue > 1e-3


def test_csv_trace_arrivals_are_used_as_written(tmp_path: Path) -> None:
    (tmp_path / "times.csv").write_text("hour,minute\n9,0.5\n9,1.0\n9,1.0\n9,2.75\n10,7.25\n")
    spec = {"name": "traced", "run": {"horizon": 5.0},
            "stations": {"till": {"servers": 1}},
            "classes": {"walkin": {
                "arrivals": {"kind": "trace", "file": "times.csv", "column": "minute"},
                "service": {"till": {"kind": "deterministic", "value": 1.0}}}}}
    (tmp_path / "traced.yaml").write_text(yaml.safe_dump(spec))
    scenario = load_scenario(tmp_path / "traced.yaml")
    for r in (0, 1):  # a trace is the same in every replication; the horizon cuts it
        assert draw(scenario, 3, r).arrived_at.tolist() == [0.5, 1.0, 1.0, 2.75]
