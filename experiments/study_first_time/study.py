"""study_first_time: getting it right first time, the magic email, and Seddon's cost claim.

Reproduces every number and figure of REPORT.md from scratch:

    python experiments/study_first_time/study.py            # full study, minutes on 2 cores
    python experiments/study_first_time/study.py --smoke    # seconds; what the test suite runs

Two experiments, each on common random numbers (every customer meets the same arrival time,
handle-time draws and resolution uniforms at every point of a replication):

* ``single``: one channel, unresolved customers come back until resolved (the failure-demand
  network of DOMAIN.md 4b.1 with a quality-speed curve).  AHT cap x curve family (concave,
  S-shaped) x repeat-contact extra time.  Staff time per resolved case is compared with the
  exact geometric-model value of ``queue_sim.theory.contact_cost`` (DOMAIN.md 6b).
* ``tiers``: the contact form -> social media -> expert desk network (``base.yaml``) under
  policies A (status quo), B (expertise at first contact), C (open routing to tier 2) and D
  (AHT cap at tier 1), for both curve families and two repeat-contact costs.

Every station is staffed by the square-root rule c = ceil(a + sqrt(a)) on its offered load a
(estimated from drawn visit plans, re-contacts included): staffing follows the observed volume,
failure demand included, as DOMAIN.md 6a's cost management does.  Results go to
results/study_first_time/.
"""

from __future__ import annotations

import itertools
import math
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from queue_sim import rng, stats, theory
from queue_sim.config import load_scenario
from queue_sim.config.load import derive
from queue_sim.describe import station_loads
from queue_sim.engines import get_engine
from queue_sim.executors import map_tasks, study_arguments
from queue_sim.trace import Outcome

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BETA = 1.0  # square-root staffing: c = ceil(a + BETA sqrt(a))

# quality-speed curves [A]: per family, the curve of the single channel, and tier 1's under the
# status quo and under expertise at first contact.  The two families give the same first-contact
# resolution at the status quo (0.50 in the tiers, handle time lognormal mean 5) and under B
# (0.80, mean 8); they differ only in how q responds to a shorter contact.
SINGLE_CURVES = {
    "concave": {"kind": "exponential", "q_max": 0.9, "tau": 4.0},
    "S-shaped": {"kind": "logistic", "q_max": 0.9, "midpoint": 4.0, "tau": 1.0},
}
TIER_CURVES = {
    "concave": ({"kind": "exponential", "q_max": 0.85, "tau": 5.0},
                {"kind": "exponential", "q_max": 0.95, "tau": 3.5}),
    "S-shaped": ({"kind": "logistic", "q_max": 0.85, "midpoint": 4.0, "tau": 1.0},
                 {"kind": "logistic", "q_max": 0.95, "midpoint": 4.0, "tau": 1.0}),
}
STATUS_QUO_HANDLE_TIME = 5.0  # tier-1 handle time mean (base.yaml)
EXPERT_HANDLE_TIME = 8.0   # B: tier-1 handle time mean with expertise at first contact [A]
EXPERT_HANDLE_TIMES = [6.0, 10.0, 12.0, 14.0]  # B swept: where does expertise stop paying?
AHT_CAP = 3.0              # D: tier-1 handle-time cap (status quo mean 5) [A]
CAPS = [1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, None]  # single channel; None = no cap
REPEAT_EXTRA = [0.0, 4.0]  # extra minutes of a repeat contact (re-explaining the case) [A]
POLICIES = ["A status quo", "B expertise first", "C open routing", "D AHT cap"]
METRICS = ["contacts_per_resolved_case", "failure_demand_share", "mean_time_to_resolution",
           "work_per_resolved_case", "resolution_rate", "defection_rate", "abandonment_rate",
           "retried_share", "escalations_per_1000"]


def curve_function(spec: dict):  # noqa: ANN201 - a vectorised q(s)
    """The theory module's q(s) for a curve given as config."""
    params = {k: v for k, v in spec.items() if k != "kind"}
    if spec["kind"] == "exponential":
        return partial(theory.exponential_quality, **params)
    return partial(theory.logistic_quality, **params)


def curve_slope(spec: dict):  # noqa: ANN201
    params = {k: v for k, v in spec.items() if k != "kind"}
    if spec["kind"] == "exponential":
        return partial(theory.exponential_quality_slope, **params)
    return partial(theory.logistic_quality_slope, **params)


def single_overrides(point: dict) -> dict:
    res = "classes.case.resolution.agents."
    out = {res + "curve": SINGLE_CURVES[point["family"]],
           res + "repeat_extra": point["repeat_extra"]}
    if point["cap"] is not None:
        out[res + "handle_time_cap"] = point["cap"]
    return out


def tier_overrides(point: dict) -> dict:
    """Dotted overrides of base.yaml for one policy, curve family and repeat cost."""
    form = "classes.case.resolution.form."
    status_quo, expert_curve = TIER_CURVES[point["family"]]
    out = {form + "curve": status_quo, form + "repeat_extra": point["repeat_extra"]}
    policy = point["policy"]
    if policy.startswith("B"):
        out[form + "curve"] = expert_curve
        out["classes.case.service.form.mean"] = point["form_handle_time"]
    elif policy.startswith("C"):  # every tier-1 failure is transferred to the expert desk
        out[form + "escalation"] = {"to": "expert", "after": 1, "probability": 1.0,
                                    "delay": {"kind": "deterministic", "value": 0.0}}
    elif policy.startswith("D"):
        out[form + "handle_time_cap"] = AHT_CAP
    return out


def staffed(scenario):  # noqa: ANN001, ANN201 - Scenario -> Scenario
    """Square-root staffing of every station on its offered load (re-contacts included)."""
    servers = {f"stations.{ld.station}.servers":
               max(1, math.ceil(ld.offered_load + BETA * math.sqrt(ld.offered_load)))
               for ld in station_loads(scenario)}
    return derive(scenario, servers)


def replication_row(scenario, trace) -> dict:  # noqa: ANN001
    """The study's metrics of one replication."""
    m = stats.summarize(trace)
    row = {name: m[("system", "all", name)] for name in METRICS}
    for sname in scenario.station_names:
        row[f"utilization_{sname}"] = m[("station", sname, "utilization")]
    if "social" in scenario.stations:
        row["public_escalations_per_1000"] = m[("station", "social", "escalations_per_1000")]
    window = (trace.arrived_at >= trace.warmup) & (trace.arrived_at < trace.horizon)
    resolved = window & (trace.outcome == Outcome.SERVED)
    headcount = sum(st.servers for st in scenario.stations.values())
    row["headcount"] = headcount
    row["paid_time_per_resolved_case"] = (headcount * (trace.horizon - trace.warmup)
                                          / max(int(resolved.sum()), 1))
    first = trace.visit_ptr[:-1][window]
    row["first_contact_resolution"] = float(np.mean(
        ~np.isnan(trace.service_ended_at[first]) & ~trace.is_unresolved[first]
        & (np.diff(trace.visit_ptr)[window] == 1)))
    times = (trace.left_at - trace.arrived_at)[resolved]
    row["p90_time_to_resolution"] = float(np.quantile(times, 0.9)) if len(times) else np.nan
    return row


def run_task(args: tuple) -> list[dict]:
    """One point of one experiment for a block of replications (one worker task)."""
    experiment, point, replications, engine, overrides = args
    path = HERE / ("single_channel.yaml" if experiment == "single" else "base.yaml")
    base = load_scenario(path, overrides)
    point_overrides = single_overrides(point) if experiment == "single" else tier_overrides(point)
    scenario = staffed(derive(base, point_overrides))
    simulate_one = get_engine(engine)
    rows = []
    for r in replications:
        trace = simulate_one(scenario, rng.draw(scenario, base.run.seed, r))
        rows.append({"experiment": experiment, **point, "replication": r,
                     **replication_row(scenario, trace)})
    return rows


def design(smoke: bool) -> list[tuple[str, dict]]:
    """(experiment, point) pairs."""
    families = ["concave"] if smoke else list(SINGLE_CURVES)
    extras = [0.0] if smoke else REPEAT_EXTRA
    caps = [2.0, None] if smoke else CAPS
    points = [("single", {"family": f, "repeat_extra": o, "cap": c, "policy": "",
                          "form_handle_time": 6.0})
              for f, o, c in itertools.product(families, extras, caps)]
    points += [("tiers", {"family": f, "repeat_extra": o, "cap": None, "policy": p,
                          "form_handle_time": EXPERT_HANDLE_TIME if p.startswith("B")
                          else STATUS_QUO_HANDLE_TIME})
               for f, o, p in itertools.product(families, extras, POLICIES)]
    if not smoke:
        points += [("tiers", {"family": f, "repeat_extra": o, "cap": None,
                              "policy": POLICIES[1], "form_handle_time": m})
                   for f, o, m in itertools.product(families, extras, EXPERT_HANDLE_TIMES)]
    return points


def run_study(*, smoke: bool, engine: str, workers: int, out: Path) -> pd.DataFrame:
    overrides = {"run.horizon": 400, "run.warmup": 40} if smoke else {}
    reps = 2 if smoke else load_scenario(HERE / "base.yaml").run.replications
    block = max(1, reps // 2)
    tasks = [(exp, point, range(lo, min(lo + block, reps)), engine, overrides)
             for exp, point in design(smoke) for lo in range(0, reps, block)]
    rows = [row for part in map_tasks(run_task, tasks, workers) for row in part]
    frame = pd.DataFrame(rows)
    frame["cap"] = frame["cap"].astype(float)  # NaN = no cap
    frame = frame.sort_values(["experiment", "family", "repeat_extra", "policy",
                               "form_handle_time", "cap", "replication"], ignore_index=True,
                              na_position="last")
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "replications.csv", index=False)
    return frame


KEYS = ["experiment", "family", "repeat_extra", "policy", "form_handle_time", "cap"]


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t-interval over replications per point and metric."""
    metrics = [c for c in frame.columns if c not in (*KEYS, "replication")]
    keyed = frame.assign(cap=frame["cap"].fillna(np.inf))
    long = keyed.melt(id_vars=[*KEYS, "replication"], value_vars=metrics,
                      var_name="metric", value_name="value")
    long["scope"], long["name"] = "study", "contact"
    table = stats.across_replications(long, by=KEYS).drop(columns=["scope", "name"])
    table["cap"] = table["cap"].replace(np.inf, np.nan)
    return table


def analytic_single(smoke: bool) -> pd.DataFrame:
    """The exact geometric-model values (DOMAIN.md 6b) of every single-channel point."""
    service = load_scenario(HERE / "single_channel.yaml").classes["case"].service["agents"]
    rows = []
    for family, spec in SINGLE_CURVES.items():
        for o in REPEAT_EXTRA:
            for cap in [c for c in CAPS if c is not None] + [None]:
                cost = theory.contact_cost(curve_function(spec), service.quantile,
                                           cap=math.inf if cap is None else cap,
                                           repeat_extra=o)
                rows.append({"family": family, "repeat_extra": o, "cap": cap,
                             "handle_time": cost.handle_time,
                             "first_contact_resolution": cost.resolution_probability,
                             "contacts_per_resolved_case": cost.contacts_per_case,
                             "failure_demand_share": cost.failure_share,
                             "work_per_resolved_case": cost.work_per_case})
    return pd.DataFrame(rows).astype({"cap": float})


def break_even(summary: pd.DataFrame, step: float = 0.1) -> pd.DataFrame:
    """Per curve family and repeat cost: DOMAIN.md 6b's criterion at the uncapped mean handle
    time, the deterministic break-even handle times, the cost-minimising cap of the exact
    model, and the cheapest simulated cap."""
    service = load_scenario(HERE / "single_channel.yaml").classes["case"].service["agents"]
    mean_s = service.moments()[0]
    fine = np.arange(1.0, 20.0 + step / 2, step)  # caps searched, minutes
    sim = summary[(summary["experiment"] == "single")
                  & (summary["metric"] == "work_per_resolved_case")]
    rows = []
    for family, spec in SINGLE_CURVES.items():
        q, dq = curve_function(spec), curve_slope(spec)
        for o in REPEAT_EXTRA:
            kappa = [theory.contact_cost(q, service.quantile, cap=c, repeat_extra=o
                                         ).work_per_case for c in fine]
            uncapped = theory.contact_cost(q, service.quantile, repeat_extra=o).work_per_case
            points = sim[(sim["family"] == family) & (sim["repeat_extra"] == o)]
            best = points.loc[points["mean"].idxmin()] if len(points) else None
            s = mean_s
            rows.append({
                "family": family, "repeat_extra": o,
                "elasticity_at_mean": float(theory.elasticity(q, dq, s)),
                "break_even_ratio_at_mean": float((s + o) * dq(s) / q(s)),
                "break_even_handle_times": ";".join(
                    f"{x:.2f}" for x in theory.break_even_handle_times(q, dq, o, upper=50.0)),
                "cheapest_cap_exact": float(fine[int(np.argmin(kappa))]),
                "cheapest_cost_exact": float(min(kappa)),
                "uncapped_cost_exact": float(uncapped),
                "cap_raises_cost_below": float(max([c for c, k in zip(fine, kappa)
                                                    if k > uncapped], default=np.nan)),
                "cheapest_cap_simulated": (np.nan if best is None or pd.isna(best["cap"])
                                           else float(best["cap"])),
                "cheapest_cost_simulated": np.nan if best is None else float(best["mean"]),
            })
    return pd.DataFrame(rows)


def tier_one_cost() -> pd.DataFrame:
    """Tier 1 alone in the geometric model: first-contact resolution and s / q per curve family
    and handle time (DOMAIN.md 4a: expertise pays on capacity unless s / q rises)."""
    base = load_scenario(HERE / "base.yaml").classes["case"].service["form"]
    rows = []
    for family, (status_quo, expert) in TIER_CURVES.items():
        for policy, spec, means in (("A status quo", status_quo, [STATUS_QUO_HANDLE_TIME]),
                                    ("B expertise first", expert,
                                     sorted([EXPERT_HANDLE_TIME, *EXPERT_HANDLE_TIMES]))):
            for m in means:
                service = base.model_copy(update={"mean": m})
                cost = theory.contact_cost(curve_function(spec), service.quantile)
                rows.append({"family": family, "policy": policy, "form_handle_time": m,
                             "first_contact_resolution": cost.resolution_probability,
                             "s_over_q": cost.work_per_case})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__.splitlines()[0]).parse_args(argv)
    engine = args.engine
    out = args.out or ROOT / "results" / ("study_first_time_smoke" if args.smoke
                                          else "study_first_time")
    frame = run_study(smoke=args.smoke, engine=engine, workers=args.workers, out=out)
    summary = summarize(frame)
    summary.to_csv(out / "summary.csv", index=False)
    analytic = analytic_single(args.smoke)
    analytic.to_csv(out / "analytic_single.csv", index=False)
    tier_one_cost().to_csv(out / "tier_one_cost.csv", index=False)
    break_even(summary, step=1.0 if args.smoke else 0.1).to_csv(out / "break_even.csv",
                                                                 index=False)
    from figures import draw_all  # noqa: PLC0415 - sibling module of this script

    for path in draw_all(summary, analytic, out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"wrote {out / 'summary.csv'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
