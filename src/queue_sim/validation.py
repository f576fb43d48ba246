"""Validation against queueing theory: a catalogue of cases, each a scenario and exact values.

A case passes when, for every checked metric, the exact value lies inside the simulated
confidence interval *and* the relative error is within the case's stated bound (``tolerance``
for full runs, twice that for quick runs, which simulate a quarter of the customers).  The interval level is 99.9% per metric, a
Bonferroni-style correction so that the ~40 comparisons of a full run keep a family-wise
false-failure rate of a few percent.  Nothing is ever widened to make a case pass.

Imports config, theory and runner; never results, plots or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from queue_sim import theory
from queue_sim.config import scenario_from_dict

CONFIDENCE = 0.999
HEAVY = 160_000  # customers per replication for heavy-traffic waits (rho >= 0.8)


@dataclass(frozen=True)
class Check:
    """One metric of the summary and its exact value."""

    scope: str
    name: str
    metric: str
    exact: float


@dataclass(frozen=True)
class Case:
    """A textbook model, the scenario that expresses it, and what theory says."""

    name: str
    description: str
    scenario: dict
    checks: list[Check]
    customers: int = 40_000        # per replication, full run
    replications: int = 20
    warmup: float = 200.0
    tolerance: float = 0.03        # largest acceptable relative error, full run
    quick_factor: int = 4          # the quick run simulates customers / quick_factor
    extra: dict = field(default_factory=dict)


def exp(mean: float) -> dict:
    return {"kind": "exponential", "mean": mean}


def one_station(servers: int, classes: dict, **station) -> dict:
    return {"stations": {"s": {"servers": servers, **station}}, "classes": classes}


def poisson_class(rate: float, service: dict, **more) -> dict:
    return {"arrivals": {"kind": "poisson", "rate": rate}, "service": {"s": service}, **more}


def system(metric: str, value: float) -> Check:
    return Check("system", "all", metric, value)


def _cases() -> list[Case]:
    cases = []
    r = theory.mm1(0.8, 1.0)
    cases.append(Case("M/M/1", "M/M/1, rho = 0.8 (7.1)",
                      one_station(1, {"a": poisson_class(0.8, exp(1.0))}),
                      [system("mean_wait", r.mean_wait), system("wait_probability",
                                                                r.wait_probability),
                       system("mean_queue_length", r.mean_queue_length),
                       system("utilization", r.utilization)],
                      customers=HEAVY, quick_factor=16))
    r = theory.mmc(2.4, 1.0, 3)
    cases.append(Case("M/M/c", "M/M/3, lambda = 2.4 (Erlang C, 7.2)",
                      one_station(3, {"a": poisson_class(2.4, exp(1.0))}),
                      [system("mean_wait", r.mean_wait),
                       system("wait_probability", r.wait_probability),
                       system("mean_sojourn", r.mean_sojourn)],
                      customers=HEAVY, quick_factor=16))
    r = theory.mmck(2.4, 1.0, 2, 5)
    cases.append(Case("M/M/c/K", "M/M/2/5: 2 servers, 3 waiting places (7.3)",
                      one_station(2, {"a": poisson_class(2.4, exp(1.0))}, capacity=3),
                      [system("loss_rate", r.blocking_probability),
                       system("mean_wait_served", r.mean_wait),
                       system("mean_queue_length", r.mean_queue_length)], tolerance=0.04))
    m = theory.service_moments("lognormal", mean=1.0, cv=1.5)
    r = theory.mg1(0.7, m.mean, m.second_moment)
    cases.append(Case("M/G/1", "M/G/1 lognormal service, cv = 1.5, rho = 0.7 "
                      "(Pollaczek-Khinchine, 7.4)",
                      one_station(1, {"a": poisson_class(
                          0.7, {"kind": "lognormal", "mean": 1.0, "cv": 1.5})}),
                      [system("mean_wait", r.mean_wait),
                       system("wait_probability", r.wait_probability)],
                      customers=100_000, tolerance=0.05))
    r = theory.md1(0.8, 1.0)
    cases.append(Case("M/D/1", "M/D/1, rho = 0.8 (7.5)",
                      one_station(1, {"a": poisson_class(0.8, {"kind": "deterministic",
                                                               "value": 1.0})}),
                      [system("mean_wait", r.mean_wait),
                       system("wait_probability", r.wait_probability)],
                      customers=HEAVY, quick_factor=16))
    r = theory.mg1_nonpreemptive_priority([0.3, 0.5], [1.0, 1.0], [2.0, 2.0])
    cases.append(Case("NP priority", "M/M/1 two classes, non-preemptive priority (Cobham, 7.6)",
                      one_station(1, {"high": poisson_class(0.3, exp(1.0), priority=0),
                                      "low": poisson_class(0.5, exp(1.0), priority=1)},
                                  discipline="priority"),
                      [Check("class", "high", "mean_wait", r.mean_waits[0]),
                       Check("class", "low", "mean_wait", r.mean_waits[1])], tolerance=0.04,
                      customers=HEAVY, quick_factor=16))
    r = theory.mg1_preemptive_resume_priority([0.2, 0.5], [1.0, 1.0], [2.0, 1.0])
    cases.append(Case("PR priority", "M/G/1 preemptive-resume, S1 ~ Exp(1), S2 = 1: the case "
                      "that catches the re-queue bug of DOMAIN.md 8 (7.7)",
                      one_station(1, {"high": poisson_class(0.2, exp(1.0), priority=0),
                                      "low": poisson_class(0.5, {"kind": "deterministic",
                                                                 "value": 1.0}, priority=1)},
                                  discipline="preemptive"),
                      [Check("class", "high", "mean_sojourn", r.mean_sojourns[0]),
                       Check("class", "low", "mean_sojourn", r.mean_sojourns[1])],
                      tolerance=0.02,
                      customers=HEAVY, quick_factor=16))
    r = theory.erlang_a(2.4, 1.0, 3, 0.5)
    cases.append(Case("Erlang-A", "M/M/3+M, lambda = 2.4, mean patience 2 (7.10)",
                      one_station(3, {"a": poisson_class(2.4, exp(1.0), patience=exp(2.0))}),
                      [system("wait_probability", r.wait_probability),
                       system("abandonment_rate", r.abandonment_probability),
                       system("mean_wait", r.mean_wait)], tolerance=0.04))
    r = theory.mm1_feedback(0.5, 1.0, 0.3)
    cases.append(Case("M/M/1 feedback", "M/M/1 with Bernoulli feedback p = 0.3 (Takacs, 7.11)",
                      {"stations": {"s": {"servers": 1}},
                       "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.5},
                                         "service": {"s": exp(1.0)},
                                         "routing": {"start": "s",
                                                     "transitions": {"s": {"s": 0.3}}}}}},
                      [system("mean_sojourn", r.mean_sojourn_total),
                       system("mean_wait", r.mean_wait_total)]))
    r = theory.jackson_tandem(0.7, [1.0, 1.2])
    cases.append(Case("Tandem", "two M/M/1 stations in tandem (Jackson, 7.13)",
                      {"stations": {"first": {"servers": 1}, "second": {"servers": 1}},
                       "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.7},
                                         "route": ["first", "second"],
                                         "service": {"first": exp(1.0), "second": exp(1 / 1.2)}}}},
                      [system("mean_sojourn", r.mean_sojourn),
                       Check("station", "first", "mean_wait", r.mean_waits[0]),
                       Check("station", "second", "mean_wait", r.mean_waits[1])],
                      customers=HEAVY, quick_factor=16))
    r = theory.separate_lines_random_split(2.4, 1.0, 3)
    cases.append(Case("Separate lines", "3 separate lines, random join, no jockeying, "
                      "lambda = 2.4: three M/M/1 queues (5b.1; one shared line: 1.0787)",
                      one_station(3, {"a": poisson_class(2.4, exp(1.0))},
                                  lines={"join": "random"}),
                      [system("mean_wait", r.mean_wait),
                       system("wait_probability", r.wait_probability),
                       system("mean_queue_length", r.mean_queue_length)],
                      customers=HEAVY, quick_factor=16))
    r = theory.separate_lines_jockeying(2.4, 1.0, 3)
    cases.append(Case("Jockeying", "3 separate lines, shortest join with jockeying, "
                      "lambda = 2.4: work-conserving, so Erlang C's mean wait (5b.1)",
                      one_station(3, {"a": poisson_class(2.4, exp(1.0))},
                                  lines={"join": "shortest", "jockeying": True}),
                      [system("mean_wait", r.mean_wait),
                       system("wait_probability", r.wait_probability)],
                      customers=HEAVY, quick_factor=16))
    r = theory.mg1_breakdowns(0.5, 1.0, 2.0, 0.1, 2.0, 8.0)
    cases.append(Case("M/G/1 breakdowns", "M/M/1 with breakdowns while busy, rate 0.1, "
                      "repair Exp(2) (7.15)",
                      one_station(1, {"a": poisson_class(0.5, exp(1.0))},
                                  breakdowns={"rate": 0.1, "repair": exp(2.0), "clock": "busy"}),
                      [system("mean_wait", r.mean_wait)], tolerance=0.04))
    # difficult customers without contagion: S = S0 times kappa with probability p, an M/G/1
    # with E[S] = 1 + p (kappa - 1) and E[S^2] = 2 (1 + p (kappa^2 - 1)) for S0 ~ Exp(1)
    p, kappa = 0.2, 1.5
    r = theory.mg1(0.6, 1.0 + p * (kappa - 1.0), 2.0 * (1.0 + p * (kappa ** 2 - 1.0)))
    cases.append(Case("Difficult customers", "M/M/1 whose customers are difficult with "
                      "probability 0.2 (service x 1.5), no contagion: an M/G/1 (3a, 7.4)",
                      one_station(1, {"a": poisson_class(0.6, exp(1.0))},
                                  service_dependence={"rudeness_window": 5.0,
                                                      "difficult_probability": p,
                                                      "difficult_factor": kappa}),
                      [system("mean_wait", r.mean_wait),
                       system("wait_probability", r.wait_probability)],
                      tolerance=0.05))
    cases += _contact_cases()
    r = theory.mg1_multiple_vacations(0.6, 1.0, 2.0, 1.0, 2.0)
    cases.append(Case("M/G/1 vacations", "M/M/1 with multiple exhaustive vacations Exp(1) "
                      "(Fuhrmann-Cooper, 7.15)",
                      one_station(1, {"a": poisson_class(0.6, exp(1.0))},
                                  vacations={"duration": exp(1.0)}),
                      [system("mean_wait", r.mean_wait),
                       system("wait_probability", r.wait_probability)]))
    return cases


def _contact_cases() -> list[Case]:
    """Re-contacts and retrials: the failure-demand network (DOMAIN.md 4b.1) and the M/M/1
    retrial queue (7.14)."""
    lam, s, q, c, d = 1.0, 6.0, 0.7, 12, 60.0
    r = theory.failure_demand_network(lam, s, q, c, d)
    agents = Check("station", "agents", "utilization", r.utilization)
    failure_demand = Case(
        "Failure demand", "M/M/12 agents, q = 0.7, unresolved customers re-contact after "
        "Exp(60) (product form, 4b.1; the table's s = 6, q = 0.7 row)",
        {"stations": {"agents": {"servers": c}},
         "classes": {"case": {"arrivals": {"kind": "poisson", "rate": lam},
                              "service": {"agents": exp(s)},
                              "resolution": {"agents": {"probability": q, "recontact": {
                                  "probability": 1.0, "delay": exp(d)}}}}}},
        [system("contacts_per_resolved_case", r.contacts_per_case),
         system("failure_demand_share", r.failure_share),
         system("mean_time_to_resolution", r.mean_time_to_resolution),
         system("work_per_resolved_case", r.work_per_case), agents,
         Check("station", "agents", "mean_wait", r.mean_wait_per_contact)],
        customers=HEAVY, quick_factor=16, warmup=600.0, tolerance=0.04)
    r = theory.mm1_retrial(0.6, 1.0, 1.0)
    retrial = Case(
        "M/M/1 retrial", "M/M/1 without waiting room, blocked customers retry at rate 1 "
        "(7.14)",
        one_station(1, {"a": poisson_class(0.6, exp(1.0), retrial={
            "probability": 1.0, "delay": exp(1.0), "when": ["lost"]})}, capacity=0),
        [system("retried_share", r.blocking_probability),
         system("mean_retry_time", r.mean_orbit_time),
         system("retrials_per_customer", r.mean_retrials),
         system("mean_sojourn", r.mean_sojourn),
         system("utilization", 0.6)])
    return [failure_demand, retrial]


CASES: list[Case] = _cases()


def case_scenario(case: Case, *, quick: bool, seed: int, engine: str):
    """The validated scenario of a case (quick runs simulate fewer customers)."""
    customers = case.customers // (case.quick_factor if quick else 1)
    data = {"name": case.name, "description": case.description, **case.scenario,
            "run": {"customers": customers, "warmup": case.warmup, "seed": seed,
                    "replications": case.replications, "engine": engine}}
    return scenario_from_dict(data)


def run_case(case: Case, *, engine: str, quick: bool, seed: int = 20261122,
             simulate: Callable | None = None) -> pd.DataFrame:
    """Simulate one case and compare every checked metric with theory.

    Returns one row per check: ``case, engine, scope, name, metric, exact, simulated, ci_low,
    ci_high, rel_error, rel_half_width, tolerance, passed``.
    """
    from queue_sim.runner import simulate as default_simulate

    scenario = case_scenario(case, quick=quick, seed=seed, engine=engine)
    results = (simulate or default_simulate)(scenario, seed=seed, engine=engine, progress=False)
    tolerance = case.tolerance * (2.0 if quick else 1.0)
    rows = []
    for check in case.checks:
        col = f"{check.scope}:{check.name}:{check.metric}"
        values = results.replications[col].dropna().to_numpy(float)
        mean = values.mean()
        half = sps.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(
            len(values))
        error = mean - check.exact
        rel_error = error / abs(check.exact) if check.exact else error
        inside = abs(error) <= half
        close = abs(rel_error) <= tolerance
        rows.append({"case": case.name, "engine": engine, "scope": check.scope,
                     "name": check.name, "metric": check.metric, "exact": check.exact,
                     "simulated": mean, "ci_low": mean - half, "ci_high": mean + half,
                     "rel_error": rel_error,
                     "rel_half_width": half / abs(check.exact) if check.exact else half,
                     "tolerance": tolerance, "passed": bool(inside and close)})
    return pd.DataFrame(rows)


def validate(*, engines: list[str], quick: bool, cases: list[Case] | None = None,
             progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run every case on every engine; one row per (case, engine, metric)."""
    frames = []
    for case in cases or CASES:
        for engine in engines:
            if progress:
                progress(f"{case.name} [{engine}]")
            frames.append(run_case(case, engine=engine, quick=quick))
    return pd.concat(frames, ignore_index=True)
