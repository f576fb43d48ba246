"""The 360-degree study: what does soothing one complaint cost the people in line?

Reproduces every number and figure of REPORT.md from scratch:

    python experiments/study_360/study.py            # full study, a few minutes on 2 cores
    python experiments/study_360/study.py --smoke    # seconds; what the test suite runs

For every point (utilisation rho, recovery time R, error rate e, tills c) and replication, the
same customers (common random numbers) are run under each policy of DOMAIN.md 2a and under P0
("remake only", no manager time).  A policy's cost to others is the difference of every
customer's wait from P0, customer by customer.  Results go to results/study_360/.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from queue_sim import rng, stats
from queue_sim.config import load_scenario
from queue_sim.config.load import derive
from queue_sim.counterfactual import compare
from queue_sim.engines import get_engine
from queue_sim.executors import map_tasks, study_arguments
from queue_sim.experience import experience_frame

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MEAN_SERVICE = 1.2
BASE_POINT = {"rho": 0.8, "recovery": 5.0, "error": 0.01, "tills": 3}
ACK_PER_CUSTOMER = 10 / 60  # ten seconds per waiting customer (DOMAIN.md 2a, P3)

POLICIES = {
    "P0 remake only": {"recovery.policy": "remake_only"},
    "P1 leaves now": {"recovery.policy": "drop_everything"},
    "P1 finishes first": {"recovery.policy": "finish_current"},
    "P2 priority remake": {"recovery.policy": "remake_only",
                           "classes.walk_in.complaints.rework_priority": True},
    "P3 leaves + acknowledges": {"recovery.policy": "drop_everything",
                                 "recovery.acknowledge": {"per_customer": ACK_PER_CUSTOMER}},
    "P3 leaves, a clerk acknowledges": {
        "recovery.policy": "drop_everything",
        "recovery.acknowledge": {"per_customer": ACK_PER_CUSTOMER, "by": "clerk"}},
    "P4 floating manager": {"recovery.policy": "dedicated",
                            "staff.managers": [{"name": "manager", "home": None}]},
}
BASELINE = "P0 remake only"


def point_overrides(point: dict, policy: str) -> dict:
    """Dotted overrides for one point under one policy.

    The manager is one of the c tills, except under P4, where c clerks serve and the manager
    floats (so P4 also has one more person on staff: that is the policy).
    """
    clerks = point["tills"] if policy.startswith("P4") else point["tills"] - 1
    rate = point["rho"] * point["tills"] / MEAN_SERVICE
    return {"stations.till.servers": clerks,
            "classes.walk_in.arrivals.rate": rate,
            "classes.walk_in.complaints.probability": point["error"],
            "classes.walk_in.complaints.handling.mean": point["recovery"],
            **POLICIES[policy]}


def run_point(args: tuple) -> list[dict]:
    """All policies of one point for a block of replications (one worker task)."""
    base_path, point, replications, seed, engine, overrides = args
    base = load_scenario(base_path, overrides)
    simulate_one = get_engine(engine)
    scenarios = {p: derive(base, point_overrides(point, p)) for p in POLICIES}
    rows = []
    for r in replications:
        traces = {p: simulate_one(sc, rng.draw(sc, seed, r)) for p, sc in scenarios.items()}
        exps = {p: experience_frame(t, scenarios[p].experience) for p, t in traces.items()}
        dissatisfied = {p: e["satisfaction"] < scenarios[p].experience.dissatisfied_below
                        for p, e in exps.items()}
        for policy, trace in traces.items():
            metrics, customers = compare(trace, traces[BASELINE], threshold=0.5)
            exp = exps[policy]
            window = (trace.arrived_at >= trace.warmup) & (trace.arrived_at < trace.horizon)
            complainer = customers["complained"].to_numpy() & window
            others = ~customers["complained"].to_numpy() & window
            row = {**point, "policy": policy, "replication": r}
            row.update({k[2]: v for k, v in metrics.items()})
            row.update({
                "mean_wait_others": float(trace.wait_time[others].mean()),
                "p90_wait_others": float(np.quantile(trace.wait_time[others], 0.9)),
                "satisfaction_others": float(exp["satisfaction"][others].mean()),
                "satisfaction_complainers": float(exp["satisfaction"][complainer].mean())
                if complainer.any() else np.nan,
                "perceived_wait_others": float(exp["perceived_wait"][others].mean()),
                # satisfaction points the others lost against P0, summed, per complaint
                "satisfaction_loss_others_per_complaint": float(
                    (exps[BASELINE]["satisfaction"] - exp["satisfaction"])[others].sum()
                    / metrics[("counterfactual", "all", "n_complaints")])
                if metrics[("counterfactual", "all", "n_complaints")] else np.nan,
                # bystanders pushed below the dissatisfaction threshold against P0 (net), per
                # complaint: the long-wait problems the loyalty model puts a value on
                "dissatisfied_extra_others_per_complaint": float(
                    (dissatisfied[policy].astype(float)
                     - dissatisfied[BASELINE])[others].sum()
                    / metrics[("counterfactual", "all", "n_complaints")])
                if metrics[("counterfactual", "all", "n_complaints")] else np.nan,
                "skips_others": float(exp["skips"][others].mean()),
                "manager_recovery_time": float(np.nansum(
                    trace.handling_ended_at - trace.handling_started_at)),
            })
            rows.append(row)
    return rows


def design(smoke: bool) -> list[dict]:
    """The points: rho x R for the main figures and the map, plus one-at-a-time c and e."""
    rhos = [0.6, 0.8] if smoke else [0.5, 0.6, 0.7, 0.8, 0.9]
    recoveries = [5.0] if smoke else [2.0, 5.0, 10.0]
    points = [{**BASE_POINT, "rho": rho, "recovery": R}
              for rho, R in itertools.product(rhos, recoveries)]
    if not smoke:
        points += [{**BASE_POINT, "tills": c} for c in (2, 4)]
        points += [{**BASE_POINT, "error": e} for e in (0.005, 0.02)]
    return points


def run_study(*, smoke: bool, engine: str, workers: int, out: Path) -> pd.DataFrame:
    base_path = HERE / "base.yaml"
    overrides = ({"run.horizon": 240, "run.warmup": 30} if smoke else {})
    reps = 2 if smoke else load_scenario(base_path).run.replications
    seed = load_scenario(base_path).run.seed
    block = max(1, reps // max(1, workers * 2))
    tasks = [(base_path, p, range(lo, min(lo + block, reps)), seed, engine, overrides)
             for p in design(smoke) for lo in range(0, reps, block)]
    rows = [row for part in map_tasks(run_point, tasks, workers) for row in part]
    frame = pd.DataFrame(rows).sort_values(["tills", "error", "recovery", "rho", "policy",
                                            "replication"], ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "replications.csv", index=False)
    return frame


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t-interval over replications per (point, policy) and metric."""
    keys = ["tills", "error", "recovery", "rho", "policy"]
    metrics = [c for c in frame.columns if c not in (*keys, "replication")]
    long = frame.melt(id_vars=[*keys, "replication"], value_vars=metrics,
                      var_name="metric", value_name="value")
    long["scope"], long["name"] = "study", "counter"
    return stats.across_replications(long, by=keys).drop(columns=["scope", "name"])


def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__.splitlines()[0]).parse_args(argv)
    engine = args.engine
    out = args.out or ROOT / "results" / ("study_360_smoke" if args.smoke else "study_360")
    frame = run_study(smoke=args.smoke, engine=engine, workers=args.workers, out=out)
    summary = summarize(frame)
    summary.to_csv(out / "summary.csv", index=False)
    from figures import draw_all  # noqa: PLC0415 - sibling module of this script

    for path in draw_all(summary, out, base=HERE / "base.yaml", engine=engine):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"wrote {out / 'summary.csv'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
