"""The 360-degree anchor (DOMAIN.md 2b.1): pulling one of c servers away for a fixed time D.

The simulated counterfactual (same customers with and without the removal) must match the
exact transient extra queueing time X(D) of a stationary M/M/c for several (c, rho, D): theory
inside the 99% CI of the replication mean, and that CI narrow enough to mean something.  The
default suite runs every case with 400 replications; the slow set with 2,000.
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


def check_removal(servers: int, rho: float, duration: float, replications: int,
                  largest_relative_half_width: float) -> None:
    arrival_rate = rho * servers
    exact = theory.server_removal_extra_queue_time(arrival_rate, 1.0, servers, duration)
    sc = removal_scenario(servers, arrival_rate, duration, replications)
    res = counterfactual(sc, {"stations.counter.schedule": None}, seed=11, engine=ENGINE)
    total = res.replications["counterfactual:all:extra_wait_total"]
    mean, sem = total.mean(), total.std(ddof=1) / len(total) ** 0.5
    half = sps.t.ppf(0.995, len(total) - 1) * sem
    assert abs(mean - exact.extra_queue_time) <= half, (mean, half, exact)
    # the interval must be informative, or "theory inside it" would say nothing
    assert half <= largest_relative_half_width * exact.extra_queue_time, (half, exact)


# (c, rho, D): relaxation times (about 1 / (c mu (1 - sqrt(rho))^2), at most 41 min here) well
# under START, so the removal starts from a (nearly) stationary queue and the excess has died
# out long before the horizon.  c = 1 checks that a customer handed back mid-service counts.
CASES = [(1, 0.5, 2.0), (2, 0.7, 3.0), (3, 0.8, 5.0), (4, 0.85, 10.0), (5, 0.6, 5.0)]


@pytest.mark.parametrize("servers, rho, duration", CASES)
def test_removal_matches_exact_transient_extra_wait(servers, rho, duration):
    # 400 replications: about 3 s per case with the numba engine; 99% CI within +-25% of X(D)
    check_removal(servers, rho, duration, replications=400, largest_relative_half_width=0.25)


@pytest.mark.slow
@pytest.mark.parametrize("servers, rho, duration", CASES)
def test_removal_matches_exact_transient_extra_wait_precisely(servers, rho, duration):
    check_removal(servers, rho, duration, replications=2000, largest_relative_half_width=0.12)
