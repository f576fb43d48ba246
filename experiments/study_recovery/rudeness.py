"""The rudeness sub-experiment of the service-recovery study (DOMAIN.md 3a, 1.6).

Does rudeness that spreads (a difficult customer leaves its server, and the colleagues who
witness it, more likely to meet the next customer rudely, who then turns difficult) amplify
waits super-linearly at busy tills, or only in proportion to the work it adds?

    python experiments/study_recovery/rudeness.py            # full (about a minute on 2 cores)
    python experiments/study_recovery/rudeness.py --smoke    # seconds; what the test suite runs

(``study.py`` runs it too, and ``study.py --figures-only`` redraws its figure.)  For every utilisation rho, order-time multiplier kappa of a
difficult customer and contagion p_r, the same customers (common random numbers) live through
40 lunch days.  Three paired worlds per point: the plain counter (kappa = 1), the rudeness
world, and a *proportional* world whose every order is slowed evenly by the mean extra work the
rudeness world needed (no contagion, same total work).  The claim is supported where the
rudeness world waits clearly longer than the proportional one.  ``reproduction_number`` (per
point) is the first-order count of customers one difficult customer turns difficult.  Results:
results/study_recovery/rudeness_*.csv and rudeness.png.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from queue_sim import rng
from queue_sim.config import load_scenario
from queue_sim.config.load import derive
from queue_sim.engines import get_engine
from queue_sim.executors import map_tasks, study_arguments
from queue_sim.population import summarize_replications

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BASE = HERE / "rudeness.yaml"
MEAN_SERVICE, TILLS = 1.2, 3
DEPENDENCE = "stations.till.service_dependence"
MELTDOWN_WAIT = 10.0  # minutes: a day whose mean wait passes this has run away
DESIGN = {"smoke": {"rho": [0.8], "kappa": [1.3], "contagion": [0.0, 0.2], "replications": 3},
          "full": {"rho": [0.6, 0.7, 0.8, 0.9], "kappa": [1.15, 1.3],
                   "contagion": [0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3],
                   "replications": None}}


def reproduction_number(scenario, rho: float, contagion: float) -> float:  # noqa: ANN001
    """First-order count of customers one difficult customer turns difficult: its server's
    R (1, fading over the window) and its c - 1 colleagues' (witness_share each) meet
    lambda / c customers a minute for a mean of ``window`` minutes, each turned difficult with
    probability ``contagion`` per unit of R.  Rudeness tips the counter where this passes 1."""
    dep = scenario.stations["till"].service_dependence
    per_server = rho / MEAN_SERVICE
    return contagion * dep.rudeness_window * per_server * (1 + dep.witness_share * (TILLS - 1))


def scenario_at(base, rho: float, kappa: float = 1.0, contagion: float = 0.0,  # noqa: ANN001
                slowdown: float = 1.0):
    """The counter at utilisation ``rho`` (of the plain orders); ``slowdown`` scales every
    order time (the proportional world, which has no rudeness rule)."""
    changes = {"classes.walk_in.arrivals.rate": rho * TILLS / MEAN_SERVICE,
               f"{DEPENDENCE}.difficult_factor": kappa, f"{DEPENDENCE}.contagion": contagion}
    if slowdown != 1.0:
        changes = {"classes.walk_in.arrivals.rate": changes["classes.walk_in.arrivals.rate"],
                   "classes.walk_in.service.till.mean": MEAN_SERVICE * slowdown,
                   DEPENDENCE: None}
    return derive(base, changes)


def day_metrics(scenario, engine: str, replication: int) -> dict:  # noqa: ANN001
    """One lunch day: waits, the share of difficult customers and the work per order."""
    draws = rng.draw(scenario, scenario.run.seed, replication)
    t = get_engine(engine)(scenario, draws)
    window = t.arrived_at < t.horizon
    started = ~np.isnan(t.service_started_at)
    ratio = t.service_time[started] / draws.service_time[started]
    return {"mean_wait": float(t.wait_time[window].mean()),
            "p90_wait": float(np.quantile(t.wait_time[window], 0.9)),
            "difficult_share": float((ratio > 1.0 + 1e-9).mean()),
            "work_inflation": float(t.service_time[started].sum()
                                    / draws.service_time[started].sum()),
            "meltdown": float(t.wait_time[window].mean() > MELTDOWN_WAIT)}


def run_point(args: tuple) -> list[dict]:
    """Every replication of the plain and the rudeness world at one point, then the
    proportional world slowed by the rudeness world's mean extra work (one worker task)."""
    rho, kappa, contagion, replications, engine = args
    base = load_scenario(BASE)
    worlds = {"plain": scenario_at(base, rho),
              "rudeness": scenario_at(base, rho, kappa, contagion)}
    rows = [{"world": w, "replication": r, **day_metrics(sc, engine, r)}
            for w, sc in worlds.items() for r in replications]
    slowdown = np.mean([row["work_inflation"] for row in rows if row["world"] == "rudeness"])
    proportional = scenario_at(base, rho, slowdown=float(slowdown))
    rows += [{"world": "proportional", "replication": r, **day_metrics(proportional, engine, r)}
             for r in replications]
    spread = reproduction_number(base, rho, contagion)
    return [{"rho": rho, "kappa": kappa, "contagion": contagion, "reproduction_number": spread,
             **row} for row in rows]


def paired(frame: pd.DataFrame) -> pd.DataFrame:
    """Per replication: the rudeness world's extra wait over the plain and over the
    proportional world (common random numbers, so the pairs share every customer)."""
    keys = ["rho", "kappa", "contagion", "replication"]
    wide = frame.pivot_table(index=keys, columns="world", values="mean_wait")
    return pd.DataFrame({
        "extra_wait_vs_plain": wide["rudeness"] - wide["plain"],
        "extra_wait_vs_proportional": wide["rudeness"] - wide["proportional"],
        "proportional_extra_wait": wide["proportional"] - wide["plain"]}).reset_index()


def amplification(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean wait of each world over the plain one, per point (ratios of means)."""
    waits = summary[summary["metric"] == "mean_wait"].pivot_table(
        index=["rho", "kappa", "contagion"], columns="world", values="mean")
    return pd.DataFrame({"amplification": waits["rudeness"] / waits["plain"],
                         "proportional_amplification": waits["proportional"] / waits["plain"]}
                        ).reset_index()


def run(*, mode: str, engine: str, workers: int, out: Path) -> pd.DataFrame:
    """Simulate the design, write rudeness_replications.csv and rudeness_summary.csv, and
    return the summary (mean and 95% t-interval per point, world and metric)."""
    design = DESIGN[mode]
    reps = design["replications"] or load_scenario(BASE).run.replications
    tasks = [(rho, kappa, p_r, list(range(reps)), engine) for rho, kappa, p_r in
             itertools.product(design["rho"], design["kappa"], design["contagion"])]
    frame = pd.DataFrame([row for rows in map_tasks(run_point, tasks, workers) for row in rows])
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "rudeness_replications.csv", index=False, float_format="%.6g")
    frame = frame.drop(columns="reproduction_number")  # a point's constant, not a metric
    keys = ["rho", "kappa", "contagion"]
    summary = pd.concat([
        summarize_replications(frame, by=[*keys, "world"]),
        summarize_replications(paired(frame), by=keys).assign(world="paired")],
        ignore_index=True).drop(columns=["scope", "name"])
    summary.to_csv(out / "rudeness_summary.csv", index=False)
    return summary


def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__.splitlines()[0], figures_only=True).parse_args(argv)
    mode = "smoke" if args.smoke else "full"
    engine = args.engine
    out = args.out or ROOT / "results" / ("study_recovery" if mode == "full"
                                          else "study_recovery_smoke")
    if not args.figures_only:
        run(mode=mode, engine=engine, workers=args.workers, out=out)
    path = redraw(out)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


def redraw(out: Path) -> Path:
    """rudeness.png (and its CSV) from the results folder."""
    from figures import rudeness  # noqa: PLC0415 - sibling module

    summary = pd.read_csv(out / "rudeness_summary.csv")
    days = pd.read_csv(out / "rudeness_replications.csv")
    return rudeness(summary, amplification(summary), days, out)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
