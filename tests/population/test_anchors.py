"""The population against closed forms (DOMAIN.md 3b.1, 3b.2) and exact bookkeeping identities.

Each stochastic check asserts that the exact value lies in a 99% t-interval over seeded
replications and that the relative error is small; tolerances come from the interval only.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from queue_sim.config.load import derive
from queue_sim.population import run_population, simulate_population, value_lost
from queue_sim.population.outcomes import ValueModel
from queue_sim.population.simulate import base_new_customers
from queue_sim.theory import value as V

QUIET = {"long_wait": {"is_problem": False}, "word_of_mouth": {"influence": 0.0}}


def interval(values, confidence: float = 0.99) -> tuple[float, float, float]:
    values = np.asarray(values, float)
    half = (sps.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1)
            / np.sqrt(len(values)))
    return values.mean(), values.mean() - half, values.mean() + half


def test_geometric_retention_gives_clv_and_expected_lifetime(make_population):
    """3b.1: with retention r per visit and nothing going wrong, a customer makes
    1/(1-r) visits (r/(1-r) after the first) and is worth m / (1 + i - r) today."""
    r, nu = 0.5, 0.5
    scenario = make_population(
        {"classes.walk_in.complaints": None}, customers=400, days=60, visit_probability=nu,
        new_customers=0, retention={"base": r}, **QUIET)
    res = simulate_population(scenario, replications=12, progress=False)
    per_customer = res.replications["visits_per_day"] * 60 / 400
    mean, low, high = interval(per_customer - 1)
    assert low <= r / (1 - r) <= high
    assert mean == pytest.approx(r / (1 - r), rel=0.05)

    values = ValueModel.of(scenario.population)
    expected = V.active_customer_value(5.0, r, values.cycle_rate)
    assert expected == pytest.approx(V.clv(5.0, r, values.cycle_rate) / r)
    mean, low, high = interval(res.replications["total_value"] / 400)
    assert low <= expected <= high
    assert mean == pytest.approx(expected, rel=0.03)


def test_value_lost_per_incident_matches_the_first_order_formula(make_population):
    """3b.2: a wrong order nobody complains about changes only the next retention draw, so the
    paired loss per (discounted) incident is (r_base - r_outcome) CLV / r_base."""
    r = 0.8
    scenario = make_population(customers=600, days=80, visit_probability=0.5, new_customers=0,
                               recovery="none", retention={"base": r, "severity": 0.0},
                               **QUIET)
    reference = derive(scenario, {"classes.walk_in.complaints.probability": 0.0})
    actual = simulate_population(scenario, replications=12, progress=False)
    without = simulate_population(reference, replications=12, progress=False)
    assert (without.replications["failures"] == 0).all()
    values = ValueModel.of(scenario.population)
    expected = V.incident_value_lost(5.0, r, 0.37, values.cycle_rate)
    # the model's own first-order bookkeeping is exact here (one outcome, no word of mouth)
    np.testing.assert_allclose(actual.replications["loss_per_incident_first_order"], expected)
    lost = value_lost(actual.replications, without.replications, margin=5.0)
    mean, low, high = interval(lost["loss_per_incident"])
    assert low <= expected <= high
    assert mean == pytest.approx(expected, rel=0.08)
    assert lost["x"].mean() == pytest.approx(mean / 5.0)


def test_full_retention_without_word_of_mouth_keeps_the_base_exactly(make_population):
    scenario = make_population({"classes.walk_in.complaints": None}, new_customers=0,
                               retention={"base": 1.0}, **QUIET)
    series, final = run_population(scenario, 11, 0)
    assert final["active"] == 300
    assert (series["active"] == 300).all()
    assert series["visitors"].sum() > 0


def test_steady_state_inflow_keeps_the_base_level(make_population):
    r = 0.7
    scenario = make_population({"classes.walk_in.complaints": None}, customers=400, days=40,
                               retention={"base": r}, **QUIET)
    assert base_new_customers(scenario) == pytest.approx(400 * 0.25 * (1 - r) / r)
    res = simulate_population(scenario, replications=8, progress=False)
    mean, low, high = interval(res.replications["mean_active"])
    assert low <= 400 <= high


def test_word_of_mouth_moves_the_new_customer_rate_by_exactly_what_reached_prospects(
        make_population):
    scenario = make_population(complaint_probability=0.5, recovery="full",
                               word_of_mouth={"influence": 0.05, "delay": 5})
    series, final = run_population(scenario, 11, 0)
    base = base_new_customers(scenario)
    reached = (series["tellings_negative"].sum() - final["pending_negative"]
               - series["tellings_positive"].sum() + final["pending_positive"])
    assert (series["new_customer_rate"] > 0).all()  # no clamping at 0 in this check
    assert (base - series["new_customer_rate"]).sum() == pytest.approx(0.05 * reached)
    assert series["tellings_negative"].sum() > 0 and series["tellings_positive"].sum() > 0


def test_visit_timing_slows_the_next_visits_by_its_factor(make_population):
    """A factor f after a visit without a problem: day d is visited with probability
    (1 - nu)^d nu (no visit yet) + (1 - (1 - nu)^d) nu f, so over D days a customer who never
    leaves makes nu f D + (1 - f)(1 - (1 - nu)^D) visits; f = 1 is nu D."""
    nu, f, days, n = 0.5, 0.5, 60, 400
    scenario = make_population(
        {"classes.walk_in.complaints": None}, customers=n, days=days, visit_probability=nu,
        new_customers=0, retention={"base": 1.0}, visit_timing={"no_problem": f}, **QUIET)
    res = simulate_population(scenario, replications=12, progress=False)
    per_customer = res.replications["visits_per_day"] * days / n
    expected = nu * f * days + (1 - f) * (1 - (1 - nu) ** days)
    mean, low, high = interval(per_customer)
    assert low <= expected <= high
    assert mean == pytest.approx(expected, rel=0.02)
