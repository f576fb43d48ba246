"""``queue-sim population CONFIG``: customers who come back, day after day, into a results folder.

Runs the scenario's ``population:`` section (``queue_sim.population``) and writes
``summary.csv`` (tidy, 95% t-intervals), ``replications.parquet`` (one row per replication),
``series.parquet`` (one row per replication and day: customer base, visits, outcomes,
tellings, money), ``manifest.json`` and ``scenario.resolved.yaml``; with ``--measure-x`` also
``value_lost.csv`` and the paired "x" rows in the summary.  The folder is written whole or not
at all.  Exit codes (through ``queue_sim.cli.main``): 0 ok, 2 invalid input (nothing written),
1 a run failure.  Top layer: may import anything, lazily.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

HELP = "simulate customers who come back (the scenario's population section) day after day"

KEY_METRICS = [  # (metric, label)
    ("final_customers", "customers left after the last day"),
    ("base_change", "customer base, end / start"),
    ("visits_per_day", "visits per day"),
    ("new_customers_per_day", "new customers per day"),
    ("failures", "wrong orders (incidents)"),
    ("complaints", "complaints handled"),
    ("retention_no_problem", "came back after a visit without problem"),
    ("retention_long_wait", "came back after a long wait or leaving unserved"),
    ("retention_did_not_complain", "came back after an unreported wrong order"),
    ("retention_complained_not_satisfied", "came back after a lacklustre response"),
    ("retention_complained_satisfied", "came back after a full recovery"),
    ("retention_resolved_quickly", "came back after a quick full recovery"),
    ("tellings_negative", "people told bad news"),
    ("tellings_positive", "people told good news"),
    ("lost_prospects", "prospects lost to word of mouth (net, expected)"),
    ("mean_wait", "mean wait per visit"),
    ("total_value", "total value (discounted, with terminal value)"),
    ("recovery_cost", "recovery cost (discounted)"),
    ("loss_per_incident_first_order", "value lost per incident, first order"),
    ("x_first_order", "x, first order (loss per incident / margin)"),
    ("extra_wait_others_per_complaint", "extra waiting of others per complaint"),
    ("bystander_loss_per_complaint", "value of others' wait problems per complaint"),
]
PAIRED = [("loss_per_incident", "value lost per incident, measured (paired)"),
          ("x", "x, measured (paired against no wrong orders)")]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the population command's arguments."""
    parser.add_argument("config", type=Path, help="scenario YAML file with a population section")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default: results/<scenario name>_population/)")
    parser.add_argument("--replications", type=int, default=None,
                        help="number of replications (overrides run.replications)")
    parser.add_argument("--seed", type=int, default=None, help="root seed (overrides run.seed)")
    parser.add_argument("--engine", choices=["simpy", "numba"], default=None,
                        help="engine for each day at the counter (overrides run.engine)")
    parser.add_argument("--days", type=int, default=None,
                        help="days to simulate (overrides population.days)")
    parser.add_argument("--measure-x", action="store_true",
                        help="also rerun every replication without wrong orders on the same "
                             "random numbers and report the value lost per incident and x")
    parser.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                        help="never show a progress bar")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="dotted.key=value",
                        help="override a scenario field (repeatable), e.g. "
                             "--set population.recovery=full")


def run(args: argparse.Namespace) -> int:
    """Validate, simulate, write the folder, print the key metrics; returns the exit code."""
    from queue_sim.config.load import load_scenario, parse_override
    from queue_sim.errors import ConfigError, Problem
    from queue_sim.population import measure_x, simulate_population
    from queue_sim.results import write_folder_atomically

    extra = [(key, value) for key, value in (("run.replications", args.replications),
                                             ("run.seed", args.seed),
                                             ("run.engine", args.engine),
                                             ("population.days", args.days))
             if value is not None]
    overrides = [parse_override(text) for text in args.overrides] + extra
    scenario = load_scenario(args.config, overrides)
    if scenario.population is None:
        raise ConfigError(Problem("population", "is required by queue-sim population (a "
                                  "section describing the customers who come back; see "
                                  "queue-sim check --explain)", has_value=False,
                                  path=str(args.config)))
    results = simulate_population(scenario, progress=args.progress)
    lost = paired = None
    if args.measure_x:
        lost, paired = measure_x(scenario, results, progress=args.progress)
    summary = results.summary if paired is None else _concat(results.summary, paired)
    out = args.out or Path("results") / f"{scenario.name}_population"

    def write(folder: Path) -> None:
        import yaml

        summary.to_csv(folder / "summary.csv", index=False)
        results.replications.to_parquet(folder / "replications.parquet", index=False)
        results.series.to_parquet(folder / "series.parquet", index=False)
        if lost is not None:
            lost.to_csv(folder / "value_lost.csv", index=False)
        (folder / "manifest.json").write_text(json.dumps(results.manifest, indent=2,
                                                         default=str) + "\n")
        (folder / "scenario.resolved.yaml").write_text(yaml.safe_dump(
            results.manifest["scenario"], sort_keys=False, allow_unicode=True))

    folder = write_folder_atomically(out, write)
    print_summary(summary, results.manifest, scenario)
    print(f"seed {results.manifest['seed']}; wrote {folder}")
    return 0


def _concat(a, b):  # noqa: ANN001, ANN202 - two DataFrames
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def print_summary(summary, manifest, scenario, file=None) -> None:  # noqa: ANN001
    """Print the key metrics with their 95% CIs as an aligned plain table."""
    file = file or sys.stdout
    rows = [("metric", "mean", "95% CI")]
    for name, metrics in (("all", KEY_METRICS), ("vs_no_wrong_orders", PAIRED)):
        table = summary[summary["name"] == name].set_index("metric")
        for metric, label in metrics:
            if metric not in table.index or math.isnan(table.at[metric, "mean"]):
                continue
            row = table.loc[metric]
            ci = "" if math.isnan(row["ci_low"]) else f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
            rows.append((label, f"{row['mean']:.4g}", ci))
    pop = scenario.population
    print(f"{scenario.name}: population of {pop.customers} over {pop.days} days, recovery "
          f"{pop.recovery}, {manifest.get('n_replications')} replication(s), engine "
          f"{manifest.get('engine')}; money in units of the margin's currency, times in "
          f"{scenario.time_unit}s", file=file)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for i, row in enumerate(rows):
        print(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:<{widths[2]}}".rstrip(),
              file=file)
        if i == 0:
            print("-" * (sum(widths) + 4), file=file)
