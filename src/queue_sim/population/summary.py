"""Population runs over replications: per-replication metrics, 95% t-intervals, paired values.

``simulate_population`` runs replications serially and returns ``PopulationResults`` (tidy
summary, one row of metrics per replication, the per-day series).  ``value_lost`` pairs two
runs on the same seed (say a recovery policy against a world without wrong orders) replication
by replication: that difference, per discounted incident, is the measured "x" of DOMAIN.md 3a.
Imports config, runner (manifest, seeds), stats and the population modules; never the CLI.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from queue_sim import stats
from queue_sim.config.schema import Scenario
from queue_sim.population import outcomes as O
from queue_sim.population.simulate import run_population
from queue_sim.runner import build_manifest, replication_indices, resolve_seed

SCOPE = ("population", "all")

METRICS = """\
initial_customers      identified customers active on day 0 (N)
final_customers        identified customers still active after the last day
base_change            final_customers / initial_customers
mean_active            mean number of active customers at the start of a day
visits_per_day         visits of identified and new customers per day
new_customers_per_day  first visits per day (after word of mouth)
failures               wrong orders (incidents) over the run
complaints             wrong orders brought to the manager
share_<outcome>        share of visits with each outcome (population.outcomes)
retention_<outcome>    share of visits with that outcome after which the customer came back
mean_wait              mean wait in queue per visit (time_unit)
mean_satisfaction      mean satisfaction per visit (experience section)
tellings_negative      people told bad news; tellings_positive: good news
lost_prospects         expected prospects lost net: influence * (bad - good tellings)
margin_value           discounted margin of every served visit
recovery_cost          discounted certificates and manager time on complaints
terminal_value         discounted value after the last day: active customers (no further
                       problems assumed) and word of mouth not yet realised
total_value            margin_value + terminal_value - recovery_cost
incidents_discounted   wrong orders weighted by their day's discount factor
complaints_discounted  complaints weighted likewise
loss_per_incident_first_order  expected value lost per wrong order, first order
                       (retention draw and word of mouth; DOMAIN.md 3b.2), at the incident
x_first_order          loss_per_incident_first_order / margin
manager_time_per_complaint  manager time per complaint (time_unit)
extra_wait_others_per_complaint  (bystander_counterfactual) extra waiting of customers who
                       did not complain, per complaint, against no manager time
bystander_loss_per_complaint  (bystander_counterfactual) first-order value of the long-wait
                       problems that manager time caused, per complaint (discounted)
"""


@dataclass
class PopulationResults:
    """What ``simulate_population`` produced.

    Attributes
    ----------
    summary
        Tidy ``scope, name, metric, mean, ci_low, ci_high, std, reps`` (scope ``population``).
    replications
        One row per replication: ``replication`` then one column per metric (``METRICS``).
    series
        One row per (replication, day): ``population.simulate.SERIES_COLUMNS``.
    manifest
        Resolved scenario, seed, replications, engine, versions, git revision, wall time.
    """

    summary: pd.DataFrame
    replications: pd.DataFrame
    series: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def metric(self, metric: str) -> pd.Series:
        """The summary row of one metric (mean, ci_low, ci_high, std, reps)."""
        row = self.summary[self.summary["metric"] == metric]
        if row.empty:
            raise KeyError(f"no population metric {metric!r}")
        return row.iloc[0]


def replication_metrics(scenario: Scenario, series: dict[str, np.ndarray],
                        final: dict[str, float]) -> dict[str, float]:
    """The metrics of one replication (see ``METRICS``) from its series and final state."""
    pop = scenario.population
    assert pop is not None
    values = O.ValueModel.of(pop)
    s = {k: np.asarray(v, float) for k, v in series.items()}
    disc = s["discount"]
    visits = s["visitors"].sum() + s["new_customers"].sum()
    end = float(values.discount(pop.days - 1))  # after the last day
    wom = pop.word_of_mouth

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else np.nan

    out = {
        "initial_customers": float(pop.customers),
        "final_customers": final["active"],
        "base_change": final["active"] / pop.customers,
        "mean_active": float(s["active"].mean()),
        "visits_per_day": visits / pop.days,
        "new_customers_per_day": float(s["new_customers"].mean()),
        "failures": float(s["failures"].sum()),
        "complaints": float(s["complaints"].sum()),
    }
    for name in O.OUTCOMES:
        n = s[f"n_{name}"].sum()
        out[f"share_{name}"] = ratio(n, visits)
        out[f"retention_{name}"] = ratio(s[f"retained_{name}"].sum(), n)
    margin_value = float((s["margin"] * disc).sum())
    recovery_cost = float(((s["certificate_cost"] + s["staff_cost"]) * disc).sum())
    terminal = end * (final["active"] * values.active
                      - wom.influence * (final["pending_negative"] - final["pending_positive"])
                      * values.new * values.lag)
    incidents = float((s["failures"] * disc).sum())
    loss_per_incident = ratio((s["expected_incident_loss"] * disc).sum(), incidents)
    out.update({
        "mean_wait": ratio(s["wait_total"].sum(), visits),
        "mean_satisfaction": ratio(s["satisfaction_total"].sum(), visits),
        "tellings_negative": float(s["tellings_negative"].sum()),
        "tellings_positive": float(s["tellings_positive"].sum()),
        "lost_prospects": wom.influence * float(s["tellings_negative"].sum()
                                                - s["tellings_positive"].sum()),
        "margin_value": margin_value,
        "recovery_cost": recovery_cost,
        "terminal_value": terminal,
        "total_value": margin_value + terminal - recovery_cost,
        "incidents_discounted": incidents,
        "complaints_discounted": float((s["complaints"] * disc).sum()),
        "loss_per_incident_first_order": loss_per_incident,
        "x_first_order": loss_per_incident / pop.value.margin,
        "manager_time_per_complaint": ratio(s["handling_time"].sum(), s["complaints"].sum()),
    })
    if pop.bystander_counterfactual:
        complaints_discounted = float((s["complaints"] * disc).sum())
        out["extra_wait_others_per_complaint"] = ratio(s["extra_wait_others"].sum(),
                                                       s["complaints"].sum())
        out["caused_wait_problems"] = float(s["caused_wait_problems"].sum())
        out["bystander_loss_per_complaint"] = ratio(
            (s["bystander_expected_loss"] * disc).sum(), complaints_discounted)
    return out


def summarize_replications(frame: pd.DataFrame, *, by: Sequence[str] = ()) -> pd.DataFrame:
    """Mean and 95% t-interval of every metric column of a replications frame."""
    ids = [*by, "replication"]
    long = frame.melt(id_vars=ids, var_name="metric", value_name="value")
    long["scope"], long["name"] = SCOPE
    return stats.across_replications(long, by=list(by))


def simulate_population(scenario: Scenario, *, replications: int | Sequence[int] | None = None,
                        seed: int | None = None, engine: str | None = None,
                        progress: bool | None = None) -> PopulationResults:
    """Run replications of a population scenario and summarise them.

    Parameters
    ----------
    scenario
        Validated scenario with a ``population`` section.
    replications
        How many (``0..n-1``) or which indices; default ``run.replications``.
    seed
        Root seed when the scenario has none; default fresh entropy (recorded).
    engine
        ``"simpy"`` or ``"numba"``; default ``run.engine``.
    progress
        Show a progress bar over replications; default when stderr is a terminal.

    Raises
    ------
    ValueError
        If the scenario has no population, the seed conflicts with ``run.seed``, or
        ``replications`` is empty.
    """
    if scenario.population is None:
        raise ValueError("the scenario has no population section")
    started = time.perf_counter()
    seed = resolve_seed(scenario, seed)
    engine_name = engine or scenario.run.engine
    indices = replication_indices(scenario, replications)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(indices), desc=scenario.name, unit="rep", file=sys.stderr,
                   leave=False)
    rows, frames = [], []
    try:
        for r in indices:
            series, final = run_population(scenario, seed, r, engine_name)
            rows.append({"replication": r, **replication_metrics(scenario, series, final)})
            frames.append(pd.DataFrame(series).assign(replication=r))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    frame = pd.DataFrame(rows)
    series_frame = pd.concat(frames, ignore_index=True)
    series_frame = series_frame[["replication", *[c for c in series_frame if c != "replication"]]]
    resolved = scenario.model_copy(update={"run": scenario.run.model_copy(update={
        "seed": seed, "replications": len(indices), "engine": engine_name})})
    manifest = build_manifest(resolved, seed=seed, replications=indices, engine=engine_name,
                              wall_time=time.perf_counter() - started)
    manifest["kind"] = "population"
    return PopulationResults(summary=summarize_replications(frame), replications=frame,
                             series=series_frame, manifest=manifest)


def value_lost(actual: pd.DataFrame, reference: pd.DataFrame, margin: float) -> pd.DataFrame:
    """Value a run lost against a reference run on the same seed, replication by replication.

    Parameters
    ----------
    actual, reference
        ``PopulationResults.replications`` of the two runs (paired on ``replication``); the
        reference is typically the same scenario without wrong orders.
    margin
        m, to express the loss per incident as a multiple ("x").

    Returns
    -------
    pandas.DataFrame
        ``replication, value_lost, loss_per_incident, x`` where ``value_lost`` = reference
        minus actual total value, ``loss_per_incident`` divides it by the actual run's
        discounted incidents, and ``x = loss_per_incident / margin``.
    """
    paired = actual.merge(reference, on="replication", suffixes=("", "_reference"),
                          validate="one_to_one")
    lost = paired["total_value_reference"] - paired["total_value"]
    per_incident = lost / paired["incidents_discounted"].replace(0, np.nan)
    return pd.DataFrame({"replication": paired["replication"], "value_lost": lost,
                         "loss_per_incident": per_incident, "x": per_incident / margin})


def without_wrong_orders(scenario: Scenario) -> Scenario:
    """The same scenario with no wrong orders in the population's class: the reference
    against which ``value_lost`` measures what incidents cost (everything else equal)."""
    from queue_sim.config.load import derive

    name = scenario.population_class_name
    if scenario.classes[name].complaints is None:
        return scenario
    return derive(scenario, {f"classes.{name}.complaints.probability": 0.0})


def measure_x(scenario: Scenario, results: PopulationResults, *, engine: str | None = None,
              progress: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measured "x": rerun ``results``' replications without wrong orders, on the same seed.

    Returns
    -------
    (per_replication, summary)
        ``value_lost`` rows and their tidy summary (scope ``population``, name
        ``vs_no_wrong_orders``: value_lost, loss_per_incident, x).
    """
    seed = int(results.manifest["seed"])
    reps = [int(r) for r in results.manifest["replications"]]
    reference = simulate_population(without_wrong_orders(scenario), replications=reps,
                                    seed=seed, engine=engine or results.manifest.get("engine"),
                                    progress=progress)
    lost = value_lost(results.replications, reference.replications,
                      margin=scenario.population.value.margin)
    long = lost.melt(id_vars="replication", var_name="metric", value_name="value")
    long["scope"], long["name"] = SCOPE[0], "vs_no_wrong_orders"
    return lost, stats.across_replications(long)
