"""The service-recovery study: lacklustre concern against a full inquiry with gift certificates.

Reproduces every number and figure of REPORT.md from scratch:

    python experiments/study_recovery/study.py            # full study (about 10 core-minutes)
    python experiments/study_recovery/study.py --quick    # fewer points and replications
    python experiments/study_recovery/study.py --smoke    # seconds; what the test suite runs

For every point (complaint probability p_c, word-of-mouth influence delta, utilisation rho,
recovery-paradox uplift, whether long waits count as problems) and replication, the same
population of identified customers (common random numbers, keyed by customer id) lives through
the same days under each recovery policy of DOMAIN.md 3a and in a world without wrong orders:

* H0 no complaint channel;
* H1 lacklustre concern (2 minutes of the manager, "complained, not satisfied");
* H2 full inquiry and gift certificates, at equal manager time (2 minutes) and longer (8);
* reference: no wrong orders at all.

The value a policy loses per wrong order against the reference, divided by the margin of one
visit, is the "x" of the seed text.  Results go to results/study_recovery/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from queue_sim.config import load_scenario
from queue_sim.config.load import derive
from queue_sim.executors import map_tasks, study_arguments
from queue_sim.population import simulate_population, summarize_replications

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HANDLING = "classes.walk_in.complaints.handling.mean"
MEAN_SERVICE, TILLS = 1.2, 3

WORLDS = {
    "H0 no channel": {"population.recovery": "none"},
    "H1 lacklustre": {"population.recovery": "lacklustre", HANDLING: 2.0},
    "H2 full, equal time": {"population.recovery": "full", HANDLING: 2.0},
    "H2 full, longer": {"population.recovery": "full", HANDLING: 8.0},
}
REFERENCE = "no wrong orders"
BASE_POINT = {"complaint_probability": 0.2, "influence": 0.02, "rho": 0.8, "uplift": 0.0,
              "long_wait": True}
POINT_KEYS = list(BASE_POINT)


def customers_for(rho: float, scenario) -> int:  # noqa: ANN001 - Scenario
    """Identified customers whose visits load the tills to ``rho`` (orders only).

    Visits a day = N nu (1 + (1 - r) / r) with the steady-state inflow of new customers, and
    rho = visits x E[S] / (tills x day length).
    """
    pop = scenario.population
    r = pop.retention.base
    visits = rho * TILLS * scenario.run.horizon / MEAN_SERVICE
    return int(round(visits / (pop.visit_probability * (1 + (1 - r) / r))))


def overrides(point: dict, world: str, base) -> dict:  # noqa: ANN001 - Scenario
    """Dotted overrides of one (point, world)."""
    changes = {"population.complaint_probability": point["complaint_probability"],
               "population.word_of_mouth.influence": point["influence"],
               "population.retention.recovery_uplift": point["uplift"],
               "population.long_wait.is_problem": point["long_wait"],
               "population.customers": customers_for(point["rho"], base)}
    if world == REFERENCE:
        changes["classes.walk_in.complaints.probability"] = 0.0
        changes["population.bystander_counterfactual"] = False
    else:
        changes.update(WORLDS[world])
    return changes


def run_task(args: tuple) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One world at one point for a block of replications (one worker task)."""
    base_path, point, world, replications, engine, shrink, keep_series = args
    base = load_scenario(base_path, shrink)
    scenario = derive(base, overrides(point, world, base))
    res = simulate_population(scenario, replications=replications, engine=engine,
                              progress=False)
    frame = res.replications.assign(world=world, **point)
    series = None
    if keep_series:
        series = res.series[["replication", "day", "active", "visitors", "new_customers",
                             "failures", "complaints"]].assign(world=world)
    return frame, series


def design(mode: str) -> list[tuple[dict, list[str]]]:
    """(point, worlds) pairs: p_c swept for every policy, one-at-a-time sensitivities for H1 and
    H2 (delta, recovery paradox, utilisation, long waits as problems)."""
    everyone = [*WORLDS, REFERENCE]
    pair = ["H1 lacklustre", "H2 full, equal time", "H2 full, longer", REFERENCE]
    rates = {"smoke": [0.2, 0.5], "quick": [0.04, 0.2, 0.5],
             "full": [0.04, 0.1, 0.2, 0.35, 0.5]}[mode]
    points = [({**BASE_POINT, "complaint_probability": p}, everyone) for p in rates]
    if mode == "smoke":
        return points + [({**BASE_POINT, "influence": 0.05}, pair)]
    for delta in ([0.0, 0.05] if mode == "quick" else [0.0, 0.01, 0.05]):
        points.append(({**BASE_POINT, "influence": delta}, pair))
    points.append(({**BASE_POINT, "uplift": 0.05}, pair[:-1]))  # the reference has no recovery
    for rho in ([0.9] if mode == "quick" else [0.6, 0.9]):
        points.append(({**BASE_POINT, "rho": rho}, pair))
    points.append(({**BASE_POINT, "long_wait": False}, pair))
    return points


def reference_key(point: dict) -> tuple:
    """What the no-wrong-orders world depends on (not p_c, not the recovery uplift)."""
    return (point["influence"], point["rho"], point["long_wait"])


def run_study(*, mode: str, engine: str, workers: int, out: Path
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    base_path = HERE / "base.yaml"
    shrink = ({"population.days": 8, "run.horizon": 120} if mode == "smoke"
              else {"population.days": 120} if mode == "quick" else {})
    base = load_scenario(base_path, shrink)
    reps = {"smoke": 2, "quick": 4, "full": base.run.replications}[mode]
    block = max(1, reps // 2)
    tasks, seen = [], set()
    for point, worlds in design(mode):
        for world in worlds:
            if world == REFERENCE:  # one reference run serves every point that shares it
                if reference_key(point) in seen:
                    continue
                seen.add(reference_key(point))
            # the customer base over time: every world at the base point, and the reference
            # that serves it (run at the first point sharing its key)
            keep = (point == BASE_POINT if world != REFERENCE
                    else reference_key(point) == reference_key(BASE_POINT))
            tasks += [(base_path, point, world, list(range(lo, min(lo + block, reps))),
                       engine, shrink, keep) for lo in range(0, reps, block)]
    frames, series = [], []
    for frame, s in map_tasks(run_task, tasks, workers):
        frames.append(frame)
        if s is not None:
            series.append(s)
    frame = pair_with_reference(pd.concat(frames, ignore_index=True))
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "replications.csv", index=False)
    series_frame = pd.concat(series, ignore_index=True)
    return frame, series_frame


def pair_with_reference(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the paired value lost against the no-wrong-orders world (same seed, replication,
    influence, rho and long-wait rule) and x, and H2 minus H1 per complaint."""
    ref = frame[frame["world"] == REFERENCE]
    keys = ["influence", "rho", "long_wait", "replication"]
    ref = ref[keys + ["total_value"]].rename(columns={"total_value": "reference_value"})
    frame = frame.merge(ref, on=keys, how="left", validate="many_to_one")
    margin = 5.0
    frame["value_lost"] = frame["reference_value"] - frame["total_value"]
    frame["loss_per_incident"] = frame["value_lost"] / frame["incidents_discounted"].replace(
        0, np.nan)
    frame["x"] = frame["loss_per_incident"] / margin
    point_keys = [*POINT_KEYS, "replication"]
    h1 = frame[frame["world"] == "H1 lacklustre"].set_index(point_keys)
    parts = []
    for world in ("H2 full, equal time", "H2 full, longer"):
        h2 = frame[frame["world"] == world].set_index(point_keys)
        common = h2.index.intersection(h1.index)
        a, b = h2.loc[common], h1.loc[common]
        per_a = a["complaints_discounted"].replace(0, np.nan)
        per_b = b["complaints_discounted"].replace(0, np.nan)
        parts.append(pd.DataFrame({
            "net_value_vs_h1_per_complaint": (a["total_value"] - b["total_value"]) / per_a,
            # first-order parts, each per complaint so that a smaller base under one policy
            # does not masquerade as loyalty: loyalty kept (first-order loss per wrong order,
            # times wrong orders per complaint), what recovery costs, what the line pays
            "retained_value_per_complaint": (b["loss_per_incident_first_order"]
                                             - a["loss_per_incident_first_order"])
            * a["incidents_discounted"] / per_a,
            "extra_recovery_cost_per_complaint": (a["recovery_cost"] / per_a
                                                  - b["recovery_cost"] / per_b),
            "extra_bystander_loss_per_complaint": (a["bystander_loss_per_complaint"]
                                                   - b["bystander_loss_per_complaint"]),
        }, index=common).reset_index().assign(world=world))
    if parts:
        frame = frame.merge(pd.concat(parts, ignore_index=True), on=["world", *point_keys],
                            how="left", validate="one_to_one")
    return frame


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t-interval over replications per (point, world) and metric."""
    keys = [*POINT_KEYS, "world"]
    numeric = frame.drop(columns=["reference_value"]).copy()
    numeric["long_wait"] = numeric["long_wait"].astype(bool)
    return summarize_replications(numeric, by=keys).drop(columns=["scope", "name"])


def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__.splitlines()[0], sizes=("smoke", "quick"),
                           figures_only=True).parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    engine = args.engine
    out = args.out or ROOT / "results" / ("study_recovery" if mode == "full"
                                          else f"study_recovery_{mode}")
    from figures import base_over_time, draw_all  # noqa: PLC0415 - sibling module
    from rudeness import redraw as redraw_rudeness  # noqa: PLC0415 - sibling module
    from rudeness import run as run_rudeness  # noqa: PLC0415

    if args.figures_only:  # redraw from a finished results folder
        summary = pd.read_csv(out / "summary.csv")
        base = pd.read_csv(out / "customer_base.csv")
    else:
        frame, series = run_study(mode=mode, engine=engine, workers=args.workers, out=out)
        summary = summarize(frame)
        summary.to_csv(out / "summary.csv", index=False)
        base = base_over_time(series)
    if not args.figures_only:  # the rudeness sub-experiment (rudeness.py)
        run_rudeness(mode="smoke" if mode == "smoke" else "full", engine=engine,
                     workers=args.workers, out=out)
    for path in [*draw_all(summary, base, out, base_point=BASE_POINT), redraw_rudeness(out)]:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if not args.figures_only:
        print(f"wrote {out / 'summary.csv'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
