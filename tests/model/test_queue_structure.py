"""Exact properties of queue structure and state-dependent service on random inputs, both
engines: FCFS single line has no skips (DOMAIN.md 5b.5), separate lines do; a zero wait
coefficient and a unit load factor are the plain model bit for bit; the kappa model matches
an independent Lindley recursion customer by customer."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from queue_sim.config import scenario_from_dict
from queue_sim.engines import get_engine
from queue_sim.experience import skips_and_slips
from queue_sim.rng import draw
from queue_sim.trace import Trace

ENGINES = ["simpy"] + (["numba"] if importlib.util.find_spec("queue_sim.kernels") else [])


def mmc(lines: dict | None = None, dependence: dict | None = None, servers: int = 3,
        rate: float = 2.4, horizon: float = 1500.0) -> object:
    station: dict = {"servers": servers}
    if lines is not None:
        station["lines"] = lines
    if dependence is not None:
        station["service_dependence"] = dependence
    return scenario_from_dict({
        "run": {"horizon": horizon},
        "stations": {"s": station},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": rate},
                          "service": {"s": {"kind": "exponential", "mean": 1.0}}}}})


def simulate(scenario, engine: str, seed: int = 7) -> Trace:  # noqa: ANN001
    return get_engine(engine)(scenario, draw(scenario, seed, 0))


@pytest.mark.parametrize("engine", ENGINES)
def test_single_fcfs_line_has_no_start_skips_but_separate_lines_do(engine):
    skips, _ = skips_and_slips(simulate(mmc(), engine))
    assert skips.sum() == 0  # 5b.5: the start order never violates FIFO
    for lines in ({"join": "random"}, {"join": "shortest"},
                  {"join": "shortest", "jockeying": True}):
        skips, _ = skips_and_slips(simulate(mmc(lines), engine))
        assert skips.sum() > 0, lines


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("lines", [None, {"join": "shortest", "jockeying": True}])
def test_zero_kappa_and_unit_factor_are_the_plain_model_bit_for_bit(engine, lines):
    plain = simulate(mmc(lines), engine)
    neutral = simulate(mmc(lines, {"per_wait": 0.0, "wait_reference": 2.0,
                                   "queue_threshold": 0, "queue_factor": 1.0,
                                   "fatigue_window": 5.0, "fatigue_factor": 0.0}), engine)
    for name in Trace.ARRAYS:
        np.testing.assert_array_equal(getattr(neutral, name), getattr(plain, name),
                                      err_msg=name)


def lindley_waits(arrived_at: np.ndarray, base_service: np.ndarray, kappa: float,
                  reference: float) -> np.ndarray:
    """FCFS single server with S_n = S0_n + kappa max(0, W_n - a): the exact sample path
    W_{n+1} = max(0, W_n + S_n - A_{n+1}), an engine-free recursion (DOMAIN.md 8)."""
    waits = np.zeros(len(arrived_at))
    for n in range(1, len(arrived_at)):
        w = waits[n - 1]
        service = base_service[n - 1] + kappa * max(0.0, w - reference)
        waits[n] = max(0.0, w + service - (arrived_at[n] - arrived_at[n - 1]))
    return waits


@pytest.mark.parametrize("engine", ENGINES)
def test_wait_dependent_service_matches_a_lindley_recursion(engine):
    # a small kappa at rho = 0.5: W_{n+1} ~ (1 + kappa) W_n grows without bound once a wait
    # passes (1/lambda - E S0)/kappa = 12.5, which a few hundred customers do not reach
    kappa, reference = 0.08, 0.5
    sc = mmc(dependence={"per_wait": kappa, "wait_reference": reference}, servers=1,
             rate=0.5, horizon=800.0)
    d = draw(sc, 7, 0)
    t = get_engine(engine)(sc, d)
    expected = lindley_waits(d.arrived_at, d.service_time, kappa, reference)
    np.testing.assert_allclose(t.wait_time, expected, rtol=1e-9, atol=1e-9)
    served = t.service_ended_at - t.service_started_at
    np.testing.assert_allclose(served, d.service_time + kappa * np.maximum(
        0.0, expected - reference), rtol=1e-9, atol=1e-9)
    assert (expected > reference).mean() > 0.2  # the slow-down really was exercised


RUDENESS = {"rudeness_window": 6.0, "difficult_probability": 0.05, "contagion": 0.4,
            "difficult_factor": 1.3, "rudeness_factor": 0.2, "witness_share": 0.5}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rudeness_rule_nobody_triggers_is_the_plain_model_bit_for_bit(engine):
    # no customer is difficult at R = 0, so R never rises and contagion never starts
    plain = simulate(mmc(), engine)
    calm = simulate(mmc(dependence=RUDENESS | {"difficult_probability": 0.0}), engine)
    for name in Trace.ARRAYS:
        np.testing.assert_array_equal(getattr(calm, name), getattr(plain, name), err_msg=name)


def replay_rudeness(trace: Trace, base_service: np.ndarray, rude_u: np.ndarray,
                    rule: dict) -> tuple[np.ndarray, np.ndarray]:
    """The work and the difficult flag each visit should get, replayed from the trace's start
    times and servers alone (engine-free): in start order, a server's level R fades as
    exp(-dt / window); the customer is difficult when its uniform is below min(1, p0 +
    contagion R); its work is S0 (1 + rudeness_factor R) (kappa if difficult); a difficult
    customer adds 1 to its server's R and witness_share to every other server's."""
    window = rule["rudeness_window"]
    level = np.zeros(len(trace.staff.names))
    level_at = np.zeros(len(trace.staff.names))
    work = np.full(len(base_service), np.nan)
    difficult = np.zeros(len(base_service), bool)
    started = np.flatnonzero(~np.isnan(trace.service_started_at))
    for v in started[np.argsort(trace.service_started_at[started], kind="stable")]:
        now, m = trace.service_started_at[v], trace.server[v]
        faded = level * np.exp(-(now - level_at) / window)
        factor = 1.0 + rule["rudeness_factor"] * faded[m]
        if rude_u[v] < min(1.0, rule["difficult_probability"] + rule["contagion"] * faded[m]):
            difficult[v] = True
            factor *= rule["difficult_factor"]
            level = faded + np.where(np.arange(len(level)) == m, 1.0, rule["witness_share"])
            level_at[:] = now
        work[v] = base_service[v] * factor
    return work, difficult


@pytest.mark.parametrize("engine", ENGINES)
def test_rudeness_contagion_matches_an_independent_replay(engine):
    sc = mmc(dependence=RUDENESS, servers=3, rate=2.0, horizon=1500.0)
    d = draw(sc, 7, 0)
    t = get_engine(engine)(sc, d)
    work, difficult = replay_rudeness(t, d.service_time, d.rude_u, RUDENESS)
    started = ~np.isnan(t.service_started_at)
    np.testing.assert_allclose(t.service_time[started], work[started], rtol=1e-12)
    ended = ~np.isnan(t.service_ended_at)
    np.testing.assert_allclose((t.service_ended_at - t.service_started_at)[ended],
                               work[ended], rtol=1e-9, atol=1e-9)
    # contagion really spread: far more difficult customers than the 5% met by calm servers
    assert difficult[started].mean() > 0.15
