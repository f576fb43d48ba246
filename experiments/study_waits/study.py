"""Is "shorter waits mean happier customers" a myth?  (seed 003, DOMAIN.md 5)

Reproduces every number and figure of REPORT.md from scratch:

    python experiments/study_waits/study.py            # full study, a few minutes on 2 cores
    python experiments/study_waits/study.py --smoke    # seconds; what the test suite runs

Each replication runs the same customers (common random numbers: arrival times, service times,
patience, line picks) through every structure; the psychology levers reuse the single line's
trace and change only how its waits are experienced (queue_sim.experience).  Policies are
ranked by mean wait and by mean satisfaction over a grid of experience parameters, the pure-wait
model included, and every disagreement is tested on paired differences.  Results go to
results/study_waits/.
"""

from __future__ import annotations

import itertools
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from queue_sim import rng, stats
from queue_sim.config import load_scenario
from queue_sim.config.load import derive
from queue_sim.engines import get_engine
from queue_sim.executors import study_arguments
from queue_sim.experience import (
    perceived_wait, queue_length_predictor, satisfaction, skips_and_slips,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MEAN_SERVICE = 2.5
SERVERS = 3
EXPRESS_MAX = 2.5  # min: the express lane gets 66% of customers and 1/3 of the work
MATERIAL_WAIT = 0.1         # min: smaller differences in mean wait do not count as a ranking
MATERIAL_SATISFACTION = 0.05  # points on the 0-10 scale: likewise [A]


@dataclass(frozen=True)
class Treatment:
    """How a policy changes the experience of the same waits (the psychology levers)."""

    acknowledged: bool = False   # a greeter acknowledges every waiting customer (m_expl = 1)
    position: bool = False       # queue position shown: the wait's length is known (m_unc = 1)
    occupied: bool = False       # the wait is occupied: no overestimation (k = 1)
    margin: float | None = None  # told the wait (1 + margin) x queue-length predictor


STRUCTURES = {  # scenario overrides: E1 at equal staff, then E2 capacity
    "single line": {},
    "separate, random": {"stations.counter.lines": {"join": "random"}},
    "separate, shortest": {"stations.counter.lines": {"join": "shortest"}},
    "separate, jockeying": {"stations.counter.lines": {"join": "shortest", "jockeying": True}},
    "express lane": {"stations.counter.servers": SERVERS - 1,
                     "stations.express": {"servers": 1, "express_for": {
                         "station": "counter", "max_service": EXPRESS_MAX}}},
    "+1 server": {"stations.counter.servers": SERVERS + 1},
    "+1 server, half day": None,  # the middle half of the day: see structures()
}


def structures(base) -> dict[str, dict]:  # noqa: ANN001
    """STRUCTURES, with the half-day server placed in the middle half of the statistics window
    (so the smoke run's short day keeps the same shape)."""
    run = base.run
    quarter = (run.horizon - run.warmup) / 4
    half_day = {"stations.counter.schedule": [
        {"at": run.warmup + quarter, "servers": SERVERS + 1},
        {"at": run.warmup + 3 * quarter, "servers": SERVERS}]}
    return {name: half_day if change is None else change for name, change in STRUCTURES.items()}
MARGINS = (-0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.5)
POLICIES: dict[str, tuple[str, str, Treatment]] = {  # name: (experiment, structure, treatment)
    **{name: ("E1", name, Treatment()) for name in list(STRUCTURES)[:5]},
    "+1 server": ("E2", "+1 server", Treatment()),
    "+1 server, half day": ("E2", "+1 server, half day", Treatment()),
    "acknowledge": ("E2", "single line", Treatment(acknowledged=True)),
    "position display": ("E2", "single line", Treatment(position=True)),
    "occupied wait": ("E2", "single line", Treatment(occupied=True)),
    "greeter (all three)": ("E2", "single line", Treatment(True, True, True)),
    **{f"told wait {m:+.1f}": ("E3", "single line", Treatment(margin=m)) for m in MARGINS},
}
RANKED = [p for p, (e, _, _) in POLICIES.items() if e != "E3"] + ["told wait +0.0",
                                                                  "told wait +0.3"]
EQUAL_COST = ("greeter (all three)", "+1 server")  # one person-day each
# the experience grid (DOMAIN.md 1.3 ranges): fairness weight phi, Maister multipliers
# m = m_unc = m_expl, anchoring of announced waits, overestimation k, power b.  The corner
# phi = 0, m = 1, anchoring = 0 is the pure-wait model (satisfaction a function of W only).
GRID = {"per_skip": (0.0, 0.1, 0.2, 0.3, 0.5, 1.0), "multiplier": (1.0, 1.1, 1.2, 1.35, 1.5),
        "anchoring": (0.0, 0.5, 1.0), "overestimation": (1.0, 1.36), "exponent": (0.7, 1.0, 1.1)}
SNOWBALL_KAPPAS = (0.0, 0.1, 0.2, 0.35)  # min of extra service per min waited (Webb: <= 0.35)


def experience_params(base, treatment: Treatment, **grid):  # noqa: ANN001, ANN201
    """The scenario's experience parameters for one policy and one grid point."""
    multiplier = grid.pop("multiplier", None)
    if multiplier is not None:
        grid.update(unexplained=multiplier, uncertain=multiplier)
    params = base.model_copy(update=grid)
    changes = {}
    if treatment.acknowledged:
        changes["unexplained"] = 1.0
    if treatment.occupied:
        changes["overestimation"] = 1.0
    return params.model_copy(update=changes)


def announced(trace, treatment: Treatment):  # noqa: ANN001, ANN201
    """What each customer is told: a wait (float, E3), that its wait is known (bool), or None."""
    if treatment.margin is not None:  # nobody is told anything when a server is free
        predicted = queue_length_predictor(trace, SERVERS, MEAN_SERVICE)
        return np.where(predicted > 0, (1.0 + treatment.margin) * predicted, np.nan)
    if treatment.position:
        return np.ones(trace.n_customers, dtype=bool)
    return None


def central_metrics(trace, params, treatment: Treatment, skips, window) -> dict:  # noqa: ANN001
    """Per-replication metrics of the window customers at the study's central parameters."""
    told = announced(trace, treatment)
    exp = experience_params(params, treatment)
    sat = satisfaction(trace, exp, skips, told)[window]
    wait = trace.wait_time[window]
    return {"mean_wait": wait.mean(), "p90_wait": np.quantile(wait, 0.9),
            "perceived_wait": perceived_wait(trace, exp, told)[window].mean(),
            "mean_satisfaction": sat.mean(), "p10_satisfaction": np.quantile(sat, 0.1),
            "dissatisfied": (sat < exp.dissatisfied_below).mean(),
            "mean_skips": skips[window].mean(), "skipped_share": (skips[window] > 0).mean(),
            "abandonment": (trace.outcome[window] == 1).mean(),
            "jockeys_per_customer": float(np.bincount(
                trace.visit_customer, weights=trace.n_jockeys,
                minlength=trace.n_customers)[window].mean()),
            "n_customers": float(window.sum())}


def grid_satisfaction(trace, params, treatment: Treatment, skips, window) -> np.ndarray:  # noqa: ANN001
    """Mean satisfaction at every grid point, in ``grid_points()`` order.  The fairness term is
    linear (``- per_skip * skips``), so it is evaluated once at per_skip = 0 and subtracted."""
    told = announced(trace, treatment)
    mean_skips = skips[window].mean()
    out = []
    for point in _grid_without_phi():
        exp = experience_params(params, treatment, per_skip=0.0, **point)
        base = satisfaction(trace, exp, skips, told)[window].mean()
        out.extend(base - phi * mean_skips for phi in GRID["per_skip"])
    return np.array(out)


def _grid_without_phi() -> list[dict]:
    keys = [k for k in GRID if k != "per_skip"]
    return [dict(zip(keys, values)) for values in itertools.product(*(GRID[k] for k in keys))]


def grid_points() -> pd.DataFrame:
    """The grid in the order of ``grid_satisfaction`` (per_skip varies fastest)."""
    rows = [{**point, "per_skip": phi} for point in _grid_without_phi()
            for phi in GRID["per_skip"]]
    return pd.DataFrame(rows)


def run_block(args: tuple) -> tuple[list[dict], dict]:
    """Every policy at one utilisation for a block of replications (one worker task)."""
    base_path, rho, replications, seed, engine, overrides = args
    base = load_scenario(base_path, {**overrides,
                                     "classes.customer.arrivals.rate":
                                         rho * SERVERS / MEAN_SERVICE})
    simulate_one = get_engine(engine)
    scenarios = {name: derive(base, change) for name, change in structures(base).items()}
    rows, grids = [], {}
    for r in replications:
        traces = {name: simulate_one(sc, rng.draw(sc, seed, r)) for name, sc in scenarios.items()}
        skips = {name: skips_and_slips(t)[0] for name, t in traces.items()}
        for policy, (experiment, structure, treatment) in POLICIES.items():
            t = traces[structure]
            window = (t.arrived_at >= t.warmup) & (t.arrived_at < t.horizon)
            rows.append({"rho": rho, "policy": policy, "experiment": experiment,
                         "replication": r, **central_metrics(
                             t, base.experience, treatment, skips[structure], window)})
            if policy in RANKED:
                grids[(rho, policy, r)] = grid_satisfaction(t, base.experience, treatment,
                                                            skips[structure], window)
    return rows, grids


def run_snowball(args: tuple) -> list[dict]:
    """Wait-dependent service on the single line (DOMAIN.md 1.6, 3b.3): amplification of the
    mean wait as kappa grows, same customers for every kappa."""
    base_path, rho, replications, seed, engine, overrides = args
    base = load_scenario(base_path, {**overrides,
                                     "classes.customer.arrivals.rate":
                                         rho * SERVERS / MEAN_SERVICE})
    simulate_one = get_engine(engine)
    rows = []
    for kappa in SNOWBALL_KAPPAS:
        sc = derive(base, {"stations.counter.service_dependence": {
            "per_wait": kappa, "wait_reference": 1.0}})
        for r in replications:
            t = simulate_one(sc, rng.draw(sc, seed, r))
            window = (t.arrived_at >= t.warmup) & (t.arrived_at < t.horizon)
            sat = satisfaction(t, base.experience, skips_and_slips(t)[0])[window]
            served = window[t.visit_customer] & ~np.isnan(t.service_ended_at)
            rows.append({"rho": rho, "kappa": kappa, "replication": r,
                         "mean_wait": t.wait_time[window].mean(),
                         "p90_wait": np.quantile(t.wait_time[window], 0.9),
                         "mean_service": float(np.mean((t.service_ended_at
                                                        - t.service_started_at)[served])),
                         "abandonment": (t.outcome[window] == 1).mean(),
                         "mean_satisfaction": sat.mean(),
                         "dissatisfied": (sat < base.experience.dissatisfied_below).mean()})
    return rows


def ranking(grids: dict, waits: pd.DataFrame, rhos: list[float],
            confidence: float = 0.95) -> pd.DataFrame:
    """Per utilisation and grid point: Kendall's tau-b between the policies' mean waits and
    mean satisfactions (1 = shorter wait always happier; ties in wait, as among the levers that
    leave waits alone, pull tau-b below 1 without any reversal), the same over the policies that
    change waits (E1 and capacity), and the discordant pairs: one policy waits longer on average
    and its customers are more satisfied, both paired differences over replications excluding 0
    at ``confidence`` and at least MATERIAL_WAIT and MATERIAL_SATISFACTION in size."""
    from scipy import stats as sps  # noqa: PLC0415

    points = grid_points()
    out = []
    for rho in rhos:
        reps = sorted({r for (x, _, r) in grids if x == rho})
        sat = np.array([[grids[(rho, p, r)] for r in reps] for p in RANKED])  # (P, R, G)
        w = waits[waits["rho"] == rho].pivot(index="policy", columns="replication",
                                             values="mean_wait").loc[RANKED, reps].to_numpy()
        t_crit = sps.t.ppf(0.5 + confidence / 2, len(reps) - 1)
        mean_w = w.mean(axis=1)
        moving = [k for k, p in enumerate(RANKED) if POLICIES[p][2] == Treatment()]
        for g in range(sat.shape[2]):
            s = sat[:, :, g]
            mean_s = s.mean(axis=1)
            tau = sps.kendalltau(mean_w, -mean_s).statistic
            tau_moving = sps.kendalltau(mean_w[moving], -mean_s[moving]).statistic
            pairs = []
            for i, j in itertools.combinations(range(len(RANKED)), 2):
                dw, ds = w[i] - w[j], s[i] - s[j]
                if (_significant(dw, t_crit) and _significant(ds, t_crit)
                        and abs(dw.mean()) >= MATERIAL_WAIT
                        and abs(ds.mean()) >= MATERIAL_SATISFACTION
                        and np.sign(dw.mean()) == np.sign(ds.mean())):
                    longer, shorter = (i, j) if dw.mean() > 0 else (j, i)
                    pairs.append(f"{RANKED[longer]} > {RANKED[shorter]}")
            a, b = RANKED.index(EQUAL_COST[0]), RANKED.index(EQUAL_COST[1])
            d = s[a] - s[b]
            half = t_crit * d.std(ddof=1) / np.sqrt(len(d))
            out.append({"rho": rho, **points.iloc[g].to_dict(), "kendall_tau": tau,
                        "greeter_minus_server": d.mean(),
                        "greeter_minus_server_low": d.mean() - half,
                        "greeter_minus_server_high": d.mean() + half,
                        "kendall_tau_wait_changing": tau_moving,
                        "n_discordant": len(pairs), "discordant_pairs": "; ".join(pairs),
                        "best_by_wait": RANKED[int(np.argmin(mean_w))],
                        "best_by_satisfaction": RANKED[int(np.argmax(mean_s))]})
    return pd.DataFrame(out)


def _significant(diff: np.ndarray, t_crit: float) -> bool:
    sd = diff.std(ddof=1)
    return bool(sd > 0 and abs(diff.mean()) > t_crit * sd / np.sqrt(len(diff)))


def design(smoke: bool) -> list[float]:
    return [0.9] if smoke else [0.8, 0.9, 0.95]


def run_study(*, smoke: bool, engine: str, workers: int, out: Path) -> dict[str, pd.DataFrame]:
    base_path = HERE / "base.yaml"
    base = load_scenario(base_path)
    overrides = {"run.horizon": 180, "run.warmup": 30} if smoke else {}
    reps = 3 if smoke else base.run.replications
    seed = base.run.seed
    rhos = design(smoke)
    block = max(1, reps // max(1, workers * 2))
    tasks = [(base_path, rho, range(lo, min(lo + block, reps)), seed, engine, overrides)
             for rho in rhos for lo in range(0, reps, block)]
    rows, grids, snow = [], {}, []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for i, (part, g) in enumerate(pool.map(run_block, tasks), 1):
                rows += part
                grids.update(g)
                print(f"  {i}/{len(tasks)} policy tasks done", file=sys.stderr, flush=True)
            for part in pool.map(run_snowball, tasks):
                snow += part
    else:
        for task in tasks:
            part, g = run_block(task)
            rows += part
            grids.update(g)
            snow += run_snowball(task)
    frame = pd.DataFrame(rows).sort_values(["rho", "experiment", "policy", "replication"],
                                           ignore_index=True)
    snowball = pd.DataFrame(snow).sort_values(["rho", "kappa", "replication"],
                                              ignore_index=True)
    ranks = ranking(grids, frame, rhos)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "replications.csv", index=False, float_format="%.6g")
    snowball.to_csv(out / "snowball_replications.csv", index=False, float_format="%.6g")
    ranks.to_csv(out / "ranking.csv", index=False, float_format="%.6g")
    return {"replications": frame, "snowball": snowball, "ranking": ranks}


def summarize(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and 95% t-interval over replications per key and metric."""
    metrics = [c for c in frame.columns if c not in (*keys, "replication")]
    long = frame.melt(id_vars=[*keys, "replication"], value_vars=metrics,
                      var_name="metric", value_name="value")
    long["scope"], long["name"] = "study", "counter"
    return stats.across_replications(long, by=keys).drop(columns=["scope", "name"])


def paired_differences(frame: pd.DataFrame, baseline: str = "single line") -> pd.DataFrame:
    """Each policy minus the single line, customer-set by customer-set (same replication), with
    95% t-intervals: the common-random-numbers comparison behind every verdict."""
    keys = ["rho", "replication"]
    base = frame[frame["policy"] == baseline].set_index(keys)
    metrics = [c for c in frame.columns if c not in ("rho", "policy", "experiment",
                                                     "replication")]
    diffs = []
    for policy, part in frame.groupby("policy", sort=False):
        d = part.set_index(keys)[metrics] - base[metrics]
        d = d.reset_index()
        d["policy"] = policy
        diffs.append(d)
    return summarize(pd.concat(diffs, ignore_index=True), ["rho", "policy"])


def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__.splitlines()[0],
                           workers=min(2, os.cpu_count() or 1)).parse_args(argv)
    engine = args.engine
    out = args.out or ROOT / "results" / ("study_waits_smoke" if args.smoke else "study_waits")
    data = run_study(smoke=args.smoke, engine=engine, workers=args.workers, out=out)
    summary = summarize(data["replications"], ["rho", "experiment", "policy"])
    summary.to_csv(out / "summary.csv", index=False)
    differences = paired_differences(data["replications"])
    differences.to_csv(out / "differences.csv", index=False)
    snowball = summarize(data["snowball"], ["rho", "kappa"])
    snowball.to_csv(out / "snowball_summary.csv", index=False)
    from figures import draw_all  # noqa: PLC0415 - sibling module of this script

    for path in draw_all(summary, differences, snowball, data["ranking"], out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"wrote {out / 'summary.csv'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
