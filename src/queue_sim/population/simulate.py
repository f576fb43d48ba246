"""The population, day by day: who visits, the day at the counter, who comes back, who is told.

One replication walks ``population.days`` days.  Each day:

1. every active identified customer visits with probability nu (uniform keyed by (day, id));
   new customers arrive in a Poisson number whose mean is the base rate moved by word of
   mouth that reaches prospects today;
2. the visitors' times of day follow the class's arrival profile; the counter runs the day
   through the configured engine (``population.day``), unchanged;
3. each visitor's outcome (``population.outcomes``) sets the probability of coming back, and
   dissatisfied visitors and satisfied complainants tell others;
4. margins, recovery costs and discounting are booked per day.

Customer k's uniforms are keyed by (seed, replication, stream, day, k), so two recovery
policies meet the same customers, visit days and draws until their paths part (common random
numbers).  Imports config, rng, engines, population.day and population.outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats as sps

from queue_sim.config.load import derive
from queue_sim.config.schema import Scenario
from queue_sim.engines import get_engine
from queue_sim.errors import SimulationError
from queue_sim.population import outcomes as O
from queue_sim.population.day import plan_day, population_uniforms, read_visits, time_of_day
from queue_sim.theory.value import steady_state_new_customers

SERIES_COLUMNS = (
    "day", "active", "visitors", "new_customers", "new_customer_rate", "served", "failures",
    "complaints", *(f"n_{o}" for o in O.OUTCOMES), *(f"retained_{o}" for o in O.OUTCOMES),
    "tellings_negative", "tellings_positive", "margin", "certificate_cost", "staff_cost",
    "handling_time", "discount", "expected_incident_loss", "wait_total", "satisfaction_total",
    "extra_wait_others", "caused_wait_problems", "bystander_expected_loss")
"""Columns of the per-day series (one row per day; money undiscounted, ``discount`` beside)."""


def base_new_customers(scenario: Scenario) -> float:
    """New customers per day before word of mouth (the steady-state default if unset)."""
    pop = scenario.population
    assert pop is not None
    if pop.new_customers is not None:
        return pop.new_customers
    return steady_state_new_customers(pop.customers, pop.retention.base, pop.visit_probability)


def new_customer_slots(scenario: Scenario) -> int:
    """Ids reserved for each day's new customers (so ids never depend on earlier days).

    A generous bound on the day's Poisson count: the base rate plus the most good news the
    day's visitors could spread, and ten standard deviations.
    """
    pop = scenario.population
    assert pop is not None
    base = base_new_customers(scenario)
    wom = pop.word_of_mouth
    visits = pop.customers * pop.visit_probability + base
    rate = base + 2.0 * wom.influence * wom.positive_mean * visits
    return int(math.ceil(rate + 10.0 * math.sqrt(rate + 1.0) + 20.0))


def day_scenarios(scenario: Scenario) -> tuple[Scenario, Scenario | None]:
    """The counter of one day (complaints reach the manager with probability e * p_c, no
    warm-up) and, when asked, its no-manager-time counterfactual (``remake_only``)."""
    pop = scenario.population
    assert pop is not None
    name = scenario.population_class_name
    cls = scenario.classes[name]
    overrides: dict[str, object] = {"run.warmup": 0.0}
    if cls.complaints is not None:
        reported = (cls.complaints.probability * pop.complaint_probability
                    if pop.recovery != "none" else 0.0)
        overrides[f"classes.{name}.complaints.probability"] = reported
    day = derive(scenario, overrides)
    other = (derive(day, {"recovery.policy": "remake_only"})
             if pop.bystander_counterfactual else None)
    return day, other


def run_population(scenario: Scenario, seed: int, replication: int,
                   engine: str | Callable | None = None) -> tuple[dict[str, np.ndarray],
                                                                   dict[str, float]]:
    """Simulate one replication of a population.

    Parameters
    ----------
    scenario
        Validated scenario with a ``population`` section.
    seed
        Root seed.
    replication
        Replication index r >= 0.
    engine
        Engine name or ``(scenario, draws) -> Trace`` callable; default ``run.engine``.

    Returns
    -------
    (series, final)
        ``series``: one array per ``SERIES_COLUMNS`` entry, one value per day.  ``final``:
        the state after the last day (active customers, word of mouth not yet realised).

    Raises
    ------
    SimulationError
        If more new customers arrive in one day than ids were reserved for.
    """
    pop = scenario.population
    if pop is None:
        raise ValueError("the scenario has no population section")
    simulate_one = engine if callable(engine) else get_engine(engine or scenario.run.engine)
    day_sc, cf_sc = day_scenarios(scenario)
    cls = scenario.classes[scenario.population_class_name]
    failure_probability = cls.complaints.probability if cls.complaints is not None else 0.0
    values = O.ValueModel.of(pop)
    loss = values.expected_loss(pop)
    wom = pop.word_of_mouth
    dissatisfied_below = scenario.experience.dissatisfied_below
    horizon = float(scenario.run.horizon)
    base_rate = base_new_customers(scenario)
    slots = new_customer_slots(scenario)
    n0 = pop.customers
    active = np.zeros(n0 + pop.days * slots, bool)
    active[:n0] = True
    # each customer's daily visit probability, set by the outcome of its last visit
    visit_probability = np.full(len(active), pop.visit_probability)
    after_outcome = pop.visit_probability * np.array(pop.visit_timing.factors())
    pending_negative = pending_positive = 0.0
    lag = 1.0 / wom.delay
    series = {c: np.zeros(pop.days) for c in SERIES_COLUMNS}

    for d in range(pop.days):
        known = n0 + d * slots
        row = {"day": d, "active": int(active[:known].sum())}
        u_visit = population_uniforms(seed, replication, "population_visit", d, known)
        candidates = np.flatnonzero(active[:known])
        visitors = candidates[u_visit[candidates] < visit_probability[candidates]]
        # word of mouth reaching prospects today (geometric lag: a share 1/delay a day)
        reach_negative, reach_positive = lag * pending_negative, lag * pending_positive
        pending_negative -= reach_negative
        pending_positive -= reach_positive
        rate = max(0.0, base_rate + wom.influence * (reach_positive - reach_negative))
        u_new = population_uniforms(seed, replication, "population_new", d, 1)[0]
        n_new = int(sps.poisson.ppf(u_new, rate)) if rate > 0 else 0
        if n_new > slots:
            raise SimulationError(f"{n_new} new customers arrived on day {d} but only {slots} "
                                  f"ids were reserved per day; lower population.new_customers "
                                  f"or word_of_mouth.influence")
        ids = np.concatenate([visitors, known + np.arange(n_new)])
        n_ids = known + n_new
        u_time = population_uniforms(seed, replication, "population_time", d, n_ids)
        day = plan_day(day_sc, seed=seed, replication=replication, day=d, ids=ids,
                       arrived_at=time_of_day(cls.arrivals, horizon, u_time[ids]))
        trace = simulate_one(day_sc, day.draws)
        v = read_visits(day_sc, day, trace, failure_probability)
        outcome = O.classify(pop, failed=v.failed, complained=v.complained,
                             response_time=v.response_time, served=v.served,
                             satisfaction=v.satisfaction, dissatisfied_below=dissatisfied_below)
        u_keep = population_uniforms(seed, replication, "population_retention", d, n_ids)
        retained = u_keep[day.ids] < values.retention[outcome]
        active[day.ids] = retained
        visit_probability[day.ids] = after_outcome[outcome]
        u_told = population_uniforms(seed, replication, "population_word_of_mouth", d, n_ids)
        negative, positive = O.people_told(pop, outcome, u_told[day.ids])
        pending_negative += negative.sum()
        pending_positive += positive.sum()

        n_complaints = int((v.complained & v.failed).sum())
        row.update({
            "visitors": len(visitors), "new_customers": n_new, "new_customer_rate": rate,
            "served": int(v.served.sum()), "failures": int(v.failed.sum()),
            "complaints": n_complaints,
            "tellings_negative": int(negative.sum()), "tellings_positive": int(positive.sum()),
            "margin": pop.value.margin * v.served.sum(),
            "certificate_cost": (pop.value.certificate * n_complaints
                                 if pop.recovery == "full" else 0.0),
            "staff_cost": pop.value.staff_cost * v.handling_time.sum(),
            "handling_time": v.handling_time.sum(), "discount": values.discount(d),
            "expected_incident_loss": loss[outcome[v.failed]].sum(),
            "wait_total": v.wait.sum(), "satisfaction_total": v.satisfaction.sum(),
        })
        counts = np.bincount(outcome, minlength=len(O.OUTCOMES))
        kept = np.bincount(outcome[retained], minlength=len(O.OUTCOMES))
        for k, name in enumerate(O.OUTCOMES):
            row[f"n_{name}"], row[f"retained_{name}"] = counts[k], kept[k]
        if cf_sc is not None:
            row.update(_bystanders(pop, cf_sc, day, simulate_one(cf_sc, day.draws), v, outcome,
                                   failure_probability, dissatisfied_below, loss))
        for key, value in row.items():
            series[key][d] = value
    final = {"active": float(active.sum()), "pending_negative": pending_negative,
             "pending_positive": pending_positive}
    return series, final


def _bystanders(pop, cf_sc, day, cf_trace, v, outcome, failure_probability,  # noqa: ANN001
                dissatisfied_below, loss) -> dict[str, float]:  # noqa: ANN001
    """Extra waiting of the visitors who did not complain, against the same day with no
    manager time (``remake_only``), and the wait problems it caused, valued first order."""
    cf = read_visits(cf_sc, day, cf_trace, failure_probability)
    cf_outcome = O.classify(pop, failed=cf.failed, complained=cf.complained,
                            response_time=cf.response_time, served=cf.served,
                            satisfaction=cf.satisfaction, dissatisfied_below=dissatisfied_below)
    others = ~v.complained
    caused = others & (outcome == O.LONG_WAIT) & (cf_outcome == O.NO_PROBLEM)
    relieved = others & (outcome == O.NO_PROBLEM) & (cf_outcome == O.LONG_WAIT)
    net = int(caused.sum()) - int(relieved.sum())
    return {"extra_wait_others": float((v.wait - cf.wait)[others].sum()),
            "caused_wait_problems": net,
            "bystander_expected_loss": net * loss[O.LONG_WAIT]}
