"""The 360-degree anchor (DOMAIN.md 2b.1): pulling one of c servers away for a fixed time D.

The simulated counterfactual (same customers with and without the removal) must match the
exact transient extra queueing time X(D) of a stationary M/M/c: theory inside the 99% CI of
the replication mean, and the relative error within what that CI allows.
"""

from __future__ import annotations

import importlib.util

import pytest
from scipy import stats as sps

from queue_sim import theory
from queue_sim.config import scenario_from_dict
from queue_sim.counterfactual import counterfactual

ENGINE = "numba" if importlib.util.find_spec("queue_sim.kernels") else "simpy"
START = 150.0  # the removal starts here, long after the relaxation time (stationary start)


def removal_scenario(servers: int, arrival_rate: float, duration: float, replications: int):
    return scenario_from_dict({
        "run": {"horizon": START + 250.0, "seed": 11, "replications": replications},
        "stations": {"counter": {
            "servers": servers, "on_shift_end": "hand_back",
            "schedule": [{"at": START, "servers": servers - 1},
                         {"at": START + duration, "servers": servers}]}},
        "classes": {"walk_in": {"arrivals": {"kind": "poisson", "rate": arrival_rate},
                                "service": {"counter": {"kind": "exponential", "mean": 1.0}}}},
    })


def check_removal(servers: int, rho: float, duration: float, replications: int) -> None:
    arrival_rate = rho * servers
    exact = theory.server_removal_extra_queue_time(arrival_rate, 1.0, servers, duration)
    sc = removal_scenario(servers, arrival_rate, duration, replications)
    res = counterfactual(sc, {"stations.counter.schedule": None}, seed=11, engine=ENGINE)
    total = res.replications["counterfactual:all:extra_wait_total"]
    mean, sem = total.mean(), total.std(ddof=1) / len(total) ** 0.5
    half = sps.t.ppf(0.995, len(total) - 1) * sem
    assert abs(mean - exact.extra_queue_time) <= half, (mean, half, exact)


def test_removal_matches_exact_transient_extra_wait():
    check_removal(3, 0.8, 5.0, replications=300)


@pytest.mark.slow
@pytest.mark.parametrize("servers, rho, duration", [(2, 0.7, 3.0), (3, 0.8, 5.0),
                                                    (4, 0.85, 10.0), (5, 0.6, 5.0)])
def test_removal_matches_exact_transient_extra_wait_grid(servers, rho, duration):
    check_removal(servers, rho, duration, replications=2000)
