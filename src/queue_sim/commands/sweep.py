"""``queue-sim sweep SWEEP.yaml``: run a parameter sweep into a results folder.

Exit codes (through ``queue_sim.cli.main``): 0 every point finished, 1 a point failed (the
others still ran, unless ``--fail-fast``), 2 invalid sweep file or ``--out`` folder (nothing
written).  Top layer: may import anything, lazily.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run a parameter sweep (grid, zip, sample) and write its results folder"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the sweep command's arguments."""
    parser.add_argument("sweep", type=Path, help="sweep YAML file (see docs/sweeps.md)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default: results/<sweep name>/); rerunning into "
                             "it skips finished points")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: one per CPU; 1 runs in this "
                            "process)")
    where.add_argument("--dask", default=None, metavar="ADDRESS",
                       help="run on the Dask scheduler at ADDRESS, e.g. tcp://host:8786")
    where.add_argument("--dask-local", type=int, default=None, metavar="N",
                       help="start a local Dask cluster of N single-threaded workers")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted sweep in --out (it must exist)")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop at the first failing point (default: record it, go on)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny version: 2 replications, short horizon or few customers")
    parser.add_argument("--replications-per-task", type=int, default=None, metavar="K",
                        help="replications per task (default: half a point's replications, or "
                             "fewer to keep about 8 tasks per worker; larger K: less overhead, "
                             "coarser balancing)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                        help="plain progress lines even on a terminal")


def run(args: argparse.Namespace) -> int:
    """Validate, then run the sweep; returns the exit code."""
    from queue_sim.config.sweep import load_sweep, shrink_for_smoke
    from queue_sim.errors import ConfigError, Problem
    from queue_sim.executors import make_executor
    from queue_sim.sweep import default_out, preflight, run_sweep

    for flag, value in (("--workers", args.workers), ("--dask-local", args.dask_local),
                        ("--replications-per-task", args.replications_per_task)):
        if value is not None and value < 1:
            raise ConfigError(Problem(flag, "must be >= 1", value))
    sweep = load_sweep(args.sweep)
    if args.smoke:
        sweep = shrink_for_smoke(sweep)
    out = args.out if args.out is not None else default_out(sweep)
    preflight(sweep, out, resume=args.resume)   # every ConfigError before anything is written
    executor = make_executor(workers=args.workers, dask_address=args.dask,
                             dask_local=args.dask_local)
    with executor:
        result = run_sweep(sweep, out, executor=executor, resume=args.resume,
                           fail_fast=args.fail_fast, progress=args.progress,
                           replications_per_task=args.replications_per_task)
    print(f"{result.n_finished} point(s) run, {result.n_skipped} already finished, "
          f"{len(result.failures)} failed, {result.n_replications} replications in "
          f"{result.wall_time_s:.1f} s on {executor.describe()['kind']} "
          f"({executor.workers} worker(s)); wrote {result.folder}")
    for failure in result.failures:
        print(f"failed: point {failure['point_id']} {failure['factors']}: {failure['error']}",
              file=sys.stderr)
    return 1 if result.failures else 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sweep`` to a ``add_subparsers()`` object, with ``handler=run``."""
    parser = subparsers.add_parser("sweep", help=HELP, description=HELP)
    configure(parser)
    parser.set_defaults(handler=run)
    return parser
