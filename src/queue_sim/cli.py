"""The ``queue-sim`` command line: one subcommand per entry of ``COMMANDS``.

To add a subcommand, write ``_configure_x(parser)`` and ``_x(args) -> int`` and add
``"x": Command(help, _configure_x, _x)`` to ``COMMANDS``; ``main`` does the rest (argument
parsing, exit codes, error printing).  Exit codes: 0 ok, 2 invalid config (errors on stderr,
nothing written), 1 any other failure.  This is the top layer: it may import everything.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from queue_sim.commands import plot as plot_command
from queue_sim.commands import population as population_command
from queue_sim.commands import regress as regress_command
from queue_sim.commands import sweep as sweep_command
from queue_sim.commands import validate as validate_command
from queue_sim.config.load import derive, parse_override
from queue_sim.engines import EngineError
from queue_sim.errors import ConfigError, Problem

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, how it adds its arguments, and what it runs."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="dotted.key=value",
                        help="override a scenario field (repeatable), e.g. "
                             "--set stations.till.servers=3")


def _load(args: argparse.Namespace, extra: Sequence[tuple[str, object]] = ()):  # noqa: ANN202
    from queue_sim.config.load import load_scenario, parse_override

    overrides = [parse_override(text) for text in args.overrides] + list(extra)
    return load_scenario(args.config, overrides)


# ---------------------------------------------------------------------------------------------
# run


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="scenario YAML file")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder to write (default: results/<scenario name>/)")
    parser.add_argument("--replications", type=int, default=None,
                        help="number of replications (overrides run.replications)")
    parser.add_argument("--seed", type=int, default=None, help="root seed (overrides run.seed)")
    parser.add_argument("--engine", choices=["numba", "simpy"], default=None,
                        help="simulation engine: numba (compiled, the default) or simpy (the "
                             "reference model); overrides run.engine")
    parser.add_argument("--customers", action="store_true",
                        help="also write customers.parquet (one row per visit)")
    parser.add_argument("--replication", type=int, default=None, metavar="R",
                        help="run only replication R (to rerun one replication alone)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                        help="never show a progress bar")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="replications run side by side on N threads (default: every "
                             "core with numba, 1 with simpy); results do not depend on it")
    parser.add_argument("--counterfactual", action="append", default=[], metavar="KEY=VALUE",
                        help="also run every replication with this change on the same random "
                             "numbers and report the extra waiting the configured model causes "
                             "(repeatable; e.g. classes.walkin.complaints.probability=0)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="count customers delayed by more than this (time units)")
    _add_overrides(parser)


def _run(args: argparse.Namespace) -> int:
    from queue_sim.results import write_run_dir
    from queue_sim.runner import simulate

    # flags are overrides, so they are validated (and recorded) like the file's own fields
    extra = [(key, value) for key, value in (("run.replications", args.replications),
                                             ("run.seed", args.seed),
                                             ("run.engine", args.engine)) if value is not None]
    scenario = _load(args, extra)
    if scenario.population is not None:
        print("note: run simulates the counter once; the population section is used by "
              "queue-sim population", file=sys.stderr)
    if args.replication is not None and args.replication < 0:
        raise ConfigError(Problem("--replication", "must be >= 0", args.replication))
    replications = [args.replication] if args.replication is not None else None
    if args.threads is not None and args.threads < 1:
        raise ConfigError(Problem("--threads", "must be a positive integer", args.threads))
    results = simulate(scenario, replications=replications, keep_customers=args.customers,
                       progress=args.progress, threads=args.threads)
    change = [parse_override(text) for text in args.counterfactual]
    if change:  # validate the changed scenario before anything is written
        derive(scenario, change, path=str(args.config))
    folder = write_run_dir(results, args.out)
    print_summary(results, scenario)
    if change:
        _run_counterfactual(scenario, change, results.manifest["seed"], args, folder)
    print(f"seed {results.manifest['seed']}; wrote {folder}")
    return EXIT_OK


def _run_counterfactual(scenario, change, seed, args, folder) -> None:  # noqa: ANN001
    """Pair each replication with its changed twin; print and save the attribution."""
    from queue_sim.counterfactual import counterfactual
    from queue_sim.results import atomic_write

    res = counterfactual(scenario, change, seed=seed, threshold=args.threshold,
                         replications=1 if args.replication is not None else None)
    for name, frame in (("summary", res.summary), ("replications", res.replications)):
        atomic_write(folder / f"counterfactual_{name}.csv",
                     lambda p, f=frame: f.to_csv(p, index=False))
    label = ", ".join(f"{k}={v!r}" for k, v in change)
    print(f"\nAgainst the counterfactual {label} (same customers, paired 95% CIs):")
    for _, row in res.summary.iterrows():
        print(f"  {row['metric']:<34} {row['mean']:>10.3f}   [{row['ci_low']:.3f}, "
              f"{row['ci_high']:.3f}]")


KEY_METRICS = [  # (scope, metric, label)
    ("system", "mean_wait", "mean wait in queue"),
    ("system", "wait_p90", "90th percentile wait"),
    ("system", "wait_probability", "P(wait > 0)"),
    ("system", "mean_sojourn", "mean time in system (served)"),
    ("system", "abandonment_rate", "abandonment rate"),
    ("system", "balking_rate", "balking rate"),
    ("system", "loss_rate", "loss rate"),
    ("system", "throughput", "throughput (per time unit)"),  # the unit is in the title
    ("system", "mean_queue_length", "mean number waiting"),
    ("system", "complaint_rate", "complaints per customer"),
    ("system", "complaint_time", "manager time on complaints"),
    ("system", "n_bystanders", "bystanders (waited during a complaint)"),
    ("system", "bystander_wait_difference", "bystander extra wait"),
    ("system", "mean_satisfaction", "mean satisfaction"),
    ("system", "bystander_mean_satisfaction", "satisfaction of bystanders"),
    ("system", "wait_over_tolerance_share", "share waiting over tolerance"),
    ("class", "mean_wait", "mean wait in queue"),
    ("station", "utilization", "utilisation"),
    ("station", "mean_queue_length", "mean number waiting"),
]


def summary_rows(results, scenario) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(what, mean, 95% CI) rows of the key metrics, skipping features the model lacks."""
    s = results.summary.set_index(["scope", "name", "metric"])
    has_complaints = any(c.complaints for c in scenario.classes.values())
    rows = []
    for scope, metric, label in KEY_METRICS:
        if ("complaint" in metric or "bystander" in metric) and not has_complaints:
            continue
        names = (["all"] if scope == "system" else scenario.class_names if scope == "class"
                 else scenario.station_names)
        if scope == "class" and len(names) < 2:
            continue
        for name in names:
            if (scope, name, metric) not in s.index:
                continue
            row = s.loc[(scope, name, metric)]
            if metric.endswith("_rate") and metric != "complaint_rate" and row["mean"] == 0:
                continue
            what = label if scope == "system" else f"{label} [{name}]"
            ci = ("" if math.isnan(row["ci_low"])
                  else f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]")
            rows.append((what, f"{row['mean']:.4g}", ci))
    return rows


def print_summary(results, scenario, file=None) -> None:  # noqa: ANN001
    """Print the key metrics: a rich table on a terminal, aligned plain text otherwise."""
    file = file or sys.stdout
    rows = summary_rows(results, scenario)
    n = results.manifest.get("n_replications", "?")
    title = (f"{scenario.name}: {n} replication(s), engine {results.manifest.get('engine')}, "
             f"times in {scenario.time_unit}s")
    if file.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=title)
        for header, justify in (("metric", "left"), ("mean", "right"), ("95% CI", "right")):
            table.add_column(header, justify=justify)  # type: ignore[arg-type]
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))
        Console(file=file).print(table)
        return
    widths = [max(len(r[i]) for r in [("metric", "mean", "95% CI"), *rows]) for i in range(3)]
    print(title, file=file)
    for i, row in enumerate([("metric", "mean", "95% CI"), *rows]):
        print(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:<{widths[2]}}".rstrip(),
              file=file)
        if i == 0:
            print("-" * (sum(widths) + 4), file=file)


# ---------------------------------------------------------------------------------------------
# check


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, nargs="?",
                        help="scenario YAML file (optional with --explain)")
    parser.add_argument("--explain", action="store_true",
                        help="list every scenario field with its type, default and meaning")
    _add_overrides(parser)


def _check(args: argparse.Namespace) -> int:
    from queue_sim import describe

    if args.config is None and not args.explain:
        raise ConfigError(Problem("config", "must be given (a scenario YAML file)",
                                  has_value=False))
    if args.config is not None:
        scenario = _load(args)
        print("\n".join(describe.describe(scenario, str(args.config))))
    if args.explain:
        print("\n".join(describe.explain_lines()))
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# the table and main

COMMANDS: dict[str, Command] = {
    "run": Command("simulate a scenario and write its results folder", _configure_run, _run),
    "check": Command("validate a scenario and describe it in words (loads, warnings)",
                     _configure_check, _check),
    "sweep": Command(sweep_command.HELP, sweep_command.configure, sweep_command.run),
    "plot": Command(plot_command.HELP, plot_command.configure, plot_command.run),
    "validate": Command(validate_command.HELP, validate_command.configure, validate_command.run),
    "regress": Command(regress_command.HELP, regress_command.configure, regress_command.run),
    "population": Command(population_command.HELP, population_command.configure,
                          population_command.run),
    # "bench": added by its module's owner
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of ``COMMANDS``."""
    from queue_sim import __version__

    parser = argparse.ArgumentParser(prog="queue-sim", description=(
        "Queue and wait-time simulation: a SimPy reference model and a Numba kernel."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        child = sub.add_parser(name, help=command.help, description=command.help)
        command.configure(child)
        child.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``queue-sim``; returns the exit code (0 ok, 1 failure, 2 bad config)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or EXIT_OK)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except EngineError as exc:  # an engine that is unknown or not installed: bad input too
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - the CLI turns every failure into exit code 1
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
