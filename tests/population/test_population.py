"""Population behaviour: both engines agree, seeds reproduce, customers keep their draws,
outcomes follow the TARP table, and better recovery keeps more customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from queue_sim.config.load import derive
from queue_sim.population import run_population, simulate_population
from queue_sim.population import outcomes as O
from queue_sim.population.day import plan_day, time_of_day
from queue_sim.population.simulate import day_scenarios
from queue_sim.config import schema


def test_both_engines_give_the_same_population(make_population):
    """The kernel reproduces the reference customer by customer, so the whole population
    history (who came back, who was told) is the same with either engine."""
    scenario = make_population(customers=200, days=4, complaint_probability=0.5,
                               recovery="full", bystander_counterfactual=True)
    reference, _ = run_population(scenario, 5, 0, "simpy")
    kernel, _ = run_population(scenario, 5, 0, "numba")
    for column, values in reference.items():
        np.testing.assert_allclose(kernel[column], values, rtol=1e-9, err_msg=column)
    assert reference["complaints"].sum() > 0


def test_same_seed_same_results_and_other_seeds_differ(make_population):
    scenario = make_population(days=6, complaint_probability=0.3)
    a = simulate_population(scenario, replications=2, progress=False)
    b = simulate_population(scenario, replications=2, progress=False)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    pd.testing.assert_frame_equal(a.series, b.series)
    other = simulate_population(derive(scenario, {"run.seed": 12}), replications=2,
                                progress=False)
    assert not np.array_equal(a.series["visitors"], other.series["visitors"])


def test_a_customer_meets_the_same_draws_whoever_else_visits(make_population):
    """Counter draws are keyed by customer id: dropping other visitors or changing the
    recovery policy leaves customer k's service time and wrong order unchanged."""
    scenario = make_population(complaint_probability=0.5)
    day_sc, _ = day_scenarios(scenario)
    full_sc, _ = day_scenarios(derive(scenario, {"population.recovery": "full"}))
    ids = np.array([3, 17, 40, 41, 250])
    times = np.array([5.0, 1.0, 30.0, 2.5, 100.0])
    every = plan_day(day_sc, seed=1, replication=0, day=2, ids=ids, arrived_at=times)
    some = plan_day(full_sc, seed=1, replication=0, day=2, ids=ids[[0, 2, 4]],
                    arrived_at=times[[0, 2, 4]])

    def first_visit(day, what):
        starts = day.draws.visit_ptr[:-1][day.rows]
        return dict(zip(day.ids.tolist(), getattr(day.draws, what)[starts].tolist()))

    for what in ("service_time", "is_wrong", "handling_time"):
        a, b = first_visit(every, what), first_visit(some, what)
        assert all(a[k] == b[k] for k in b), what
    assert every.ids.tolist() == [17, 41, 3, 40, 250]  # arrival order
    other_day = plan_day(day_sc, seed=1, replication=0, day=3, ids=ids, arrived_at=times)
    assert first_visit(other_day, "service_time") != first_visit(every, "service_time")


def test_policies_share_visitors_until_paths_part(make_population):
    """Day 0 is the same under both recovery policies: same visitors, same wrong orders."""
    scenario = make_population(days=1, complaint_probability=0.5)
    lack, _ = run_population(scenario, 3, 0)
    full, _ = run_population(derive(scenario, {"population.recovery": "full"}), 3, 0)
    for column in ("visitors", "new_customers", "failures", "complaints", "served"):
        assert lack[column][0] == full[column][0], column


def test_retention_table_defaults_are_tarp_interpolated_and_capped():
    from queue_sim.config.population import Population

    r = O.retention_by_outcome(Population())
    np.testing.assert_allclose(r, [0.9, 0.37, 0.23, 0.325, 0.62, 0.885])
    capped = O.retention_by_outcome(Population(retention={"base": 0.6}))
    np.testing.assert_allclose(capped, [0.6, 0.37, 0.23, 0.325, 0.6, 0.6])
    paradox = O.retention_by_outcome(Population(retention={"recovery_uplift": 0.05}))
    np.testing.assert_allclose(paradox, [0.9, 0.37, 0.23, 0.325, 0.67, 0.935])
    assert O.retention_by_outcome(Population(retention={"base": 0.98, "severity": 0,
                                                        "recovery_uplift": 0.05}))[5] == 1.0


@pytest.mark.parametrize("recovery, quick, expected", [
    ("none", 5.0, [0, 1, 1, 2, 2, 2]),
    ("lacklustre", 5.0, [0, 1, 1, 2, 3, 3]),
    ("full", 5.0, [0, 1, 1, 2, 5, 4]),
    ("full", 100.0, [0, 1, 1, 2, 5, 5]),
])
def test_outcome_classification(recovery, quick, expected):
    """Customers: fine; long wait; unserved; wrong order not reported; reported and handled
    after 1 minute; reported and handled after 20 minutes."""
    from queue_sim.config.population import Population

    pop = Population(recovery=recovery, quick_response=quick)
    out = O.classify(
        pop, failed=np.array([0, 0, 0, 1, 1, 1], bool),
        complained=np.array([0, 0, 0, 0, 1, 1], bool),
        response_time=np.array([np.inf, np.inf, np.inf, np.inf, 1.0, 20.0]),
        served=np.array([1, 1, 0, 1, 1, 1], bool),
        satisfaction=np.array([7.0, 3.0, 7.0, 7.0, 2.0, 7.0]), dissatisfied_below=5.0)
    assert out.tolist() == expected


def test_long_waits_can_be_ignored():
    from queue_sim.config.population import Population

    pop = Population(long_wait={"is_problem": False})
    out = O.classify(pop, failed=np.zeros(2, bool), complained=np.zeros(2, bool),
                     response_time=np.full(2, np.inf), served=np.array([True, False]),
                     satisfaction=np.array([0.0, 9.0]), dissatisfied_below=5.0)
    assert out.tolist() == [0, 0]


def test_people_told_follow_the_fitted_distributions():
    from scipy import stats as sps

    from queue_sim.config.population import Population

    pop = Population()
    u = (np.arange(20000) + 0.5) / 20000  # a fine grid of the uniform
    bad, _ = O.people_told(pop, np.full(len(u), O.DID_NOT_COMPLAIN), u)
    _, good = O.people_told(pop, np.full(len(u), O.RESOLVED_QUICKLY), u)
    none, _ = O.people_told(pop, np.full(len(u), O.NO_PROBLEM), u)
    assert bad.mean() == pytest.approx(9.5, rel=0.01)
    assert (bad > 20).mean() == pytest.approx(0.13, abs=0.002)
    assert good.mean() == pytest.approx(5.0, rel=0.01)
    assert sps.poisson.ppf(0.5, 5.0) == np.median(good)
    assert (none == 0).all()


def test_time_of_day_follows_the_rate_profile():
    profile = schema.ScheduledArrivals(times=[0, 60, 120], rates=[1.0, 3.0, 1.0])
    u = (np.arange(10000) + 0.5) / 10000
    t = time_of_day(profile, 180.0, u)
    assert t.min() >= 0 and t.max() < 180
    # 60 + 180 + 60 = 300 expected arrivals, 180 of them at the peak
    assert ((t >= 60) & (t < 120)).mean() == pytest.approx(0.6, abs=1e-3)
    flat = time_of_day(schema.PoissonArrivals(rate=2.0), 240.0, u)
    np.testing.assert_allclose(flat, u * 240)


def test_full_recovery_keeps_more_customers_than_lacklustre(make_population):
    scenario = make_population(customers=400, days=30, complaint_probability=0.5,
                               word_of_mouth={"influence": 0.0})
    lack = simulate_population(scenario, replications=3, progress=False).replications
    full = simulate_population(derive(scenario, {"population.recovery": "full"}),
                               replications=3, progress=False).replications
    assert (full["final_customers"] > lack["final_customers"]).all()
    assert lack["share_complained_not_satisfied"].min() > 0
    assert full["share_complained_not_satisfied"].max() == 0
    assert (full["recovery_cost"] > lack["recovery_cost"]).all()  # certificates
    assert full["x_first_order"].mean() < lack["x_first_order"].mean()


@pytest.mark.parametrize("policy", ["drop_everything", "queue"])
def test_day_draws_give_identical_traces_in_both_engines(make_population, policy):
    """A population day's draws (keyed by customer id, times from the profile) go through
    both engines record for record, like any other draws (cross-check of the hook)."""
    from queue_sim import kernels, model
    from tests.crosscheck.test_reference_vs_kernel import assert_same_trace

    scenario = make_population({"recovery.policy": policy}, complaint_probability=0.6,
                               recovery="full")
    day_sc, _ = day_scenarios(scenario)
    ids = np.arange(0, 300, 3)
    times = time_of_day(day_sc.classes["walk_in"].arrivals, 240.0,
                        (np.arange(len(ids)) * 0.618) % 1.0)
    day = plan_day(day_sc, seed=4, replication=1, day=7, ids=ids, arrived_at=times)
    reference = model.simulate(day_sc, day.draws)
    assert reference.complained.any()
    assert_same_trace(reference, kernels.simulate(day_sc, day.draws))
