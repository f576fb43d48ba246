"""``queue-sim regress EXPERIMENT_OR_CONFIG --baseline FILE``: compare a rerun with a baseline.

Exit codes (through ``queue_sim.cli.main``): 0 nothing moved (or ``--update`` wrote the
baseline), 1 a regression (numbers moved), 2 bad input: a missing or invalid file, a baseline
of another scenario, an unavailable engine.  ``--junit FILE`` writes JUnit XML in every case.
Top layer: may import anything, lazily.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

HELP = ("rerun a scenario or sweep and compare its summary with a committed baseline "
        "(exact or statistical); for CI")
MAX_STATISTICAL_ROWS = 40   # moved metrics listed in the log (all of them go to --junit)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the regress command's arguments."""
    parser.add_argument("target", type=Path, metavar="EXPERIMENT_OR_CONFIG",
                        help="scenario YAML, or sweep YAML (a file with a base: key)")
    parser.add_argument("--baseline", type=Path, required=True, metavar="FILE",
                        help="baseline JSON file (e.g. tests/regression/golden/<name>.json)")
    parser.add_argument("--update", action="store_true",
                        help="rerun and rewrite the baseline (atomically), printing what "
                             "changed; review the diff and note it in CHANGELOG.md")
    parser.add_argument("--mode", choices=["exact", "statistical"], default="exact",
                        help="exact: same seed and version must give bit-identical numbers "
                             "(default); statistical: Welch t-test per metric with Holm "
                             "correction, for changes that reshuffle random numbers")
    parser.add_argument("--junit", type=Path, default=None, metavar="FILE",
                        help="also write JUnit XML (one testcase per metric)")
    parser.add_argument("--engine", choices=["numba", "simpy"], default=None,
                        help="engine to run (default: the file's run.engine)")


def run(args: argparse.Namespace) -> int:
    """Run the comparison (or the update); returns the exit code."""
    from queue_sim import regress
    from queue_sim.errors import ConfigError

    suite = f"queue-sim regress {args.target.as_posix()}"
    classname = f"regress.{args.target.stem}"
    try:
        target, baseline, notes = _prepare(args)
    except ConfigError as exc:
        if args.junit is not None:
            regress.write_junit(None, args.junit, suite=suite, classname=classname,
                                error=str(exc))
        raise
    print(f"regress {target.path.as_posix()}: {target.kind} {target.identity}, seed "
          f"{target.seed}, engine {target.engine}, {target.replications} replication(s)")
    started = time.perf_counter()
    new = regress.run_target(target)
    took = time.perf_counter() - started
    if args.update:
        return _update(args, baseline, new, notes, took)

    assert baseline is not None
    comparison = regress.compare(baseline, new, mode=args.mode)
    comparison.notes = notes
    print(f"baseline {args.baseline.as_posix()} ({args.mode} mode); ran in {took:.1f} s")
    for note in notes:
        print(f"note: {note}")
    if args.mode == "exact":
        _report_exact(comparison)
    else:
        _report_statistical(comparison)
    if args.junit is not None:
        properties = {"mode": args.mode, "baseline": args.baseline.as_posix(),
                      "seed": target.seed, "engine": target.engine,
                      "identity": target.identity,
                      **{f"version.{k}": v for k, v in new.versions.items()}}
        regress.write_junit(comparison, args.junit, suite=suite, classname=classname,
                            properties=properties)
        print(f"wrote {args.junit}")
    if comparison.regressed:
        print("FAIL: outputs moved.  If the change is intended, note it in CHANGELOG.md under "
              "'Changed outputs', rerun with --update and commit the reviewed baseline.")
        return 1
    print("OK")
    return 0


def _prepare(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    """Validate everything before running: the file, the engine, the baseline."""
    from queue_sim import regress
    from queue_sim.engines import EngineError, get_engine
    from queue_sim.errors import ConfigError, Problem

    target = regress.load_target(args.target, engine=args.engine)
    try:
        get_engine(target.engine)
    except EngineError as exc:
        raise ConfigError(Problem("--engine", f"must name an available engine ({exc})",
                                  target.engine)) from None
    if args.update:
        baseline = None
        if args.baseline.exists():
            try:
                baseline = regress.read_baseline(args.baseline)
            except ConfigError as exc:
                print(f"note: replacing an unreadable baseline ({exc})", file=sys.stderr)
        return target, baseline, []
    baseline = regress.read_baseline(args.baseline)
    notes = regress.check_comparable(baseline, target, mode=args.mode,
                                     baseline_path=args.baseline)
    return target, baseline, notes


def _update(args: argparse.Namespace, old: Any, new: Any, notes: list[str], took: float) -> int:
    from queue_sim import regress

    regress.write_baseline(new, args.baseline)
    rows = len(new.summary)
    if old is None:
        print(f"created {args.baseline.as_posix()}: {rows} summary rows; ran in {took:.1f} s")
    else:
        print(f"updated {args.baseline.as_posix()}; ran in {took:.1f} s")
        for what in ("kind", "identity", "seed", "engine", "replications", "versions"):
            before, after = getattr(old, what), getattr(new, what)
            if before != after:
                print(f"  {what}: {before} -> {after}")
        comparison = regress.compare_exact(old, new)
        if comparison.regressed:
            _report_exact(comparison)
        else:
            print(f"  all {rows} summary rows are bit-identical to the old baseline")
    if args.junit is not None:
        comparison = regress.compare_exact(new, new)
        regress.write_junit(comparison, args.junit,
                            suite=f"queue-sim regress {args.target.as_posix()} (update)",
                            classname=f"regress.{args.target.stem}")
    return 0


def _report_exact(comparison: Any) -> None:
    from queue_sim.regress import metric_label

    n = len(comparison.metrics)
    changes = comparison.changes
    print(f"{n} metrics compared bit for bit: {comparison.n_moved} moved "
          f"({len(changes)} numbers)")
    if changes.empty:
        return
    rows = [(metric_label(r), r["field"], _exact(r["old"]), _exact(r["new"]),
             r["note"] or _short(r["difference"])) for r in changes.to_dict("records")]
    _table(("metric", "field", "old", "new", "difference"), rows)


def _report_statistical(comparison: Any) -> None:
    from queue_sim.regress import metric_label

    m = comparison.metrics
    tested = m["p_value"].notna()
    print(f"{int(tested.sum())} metrics tested (Welch t-test on means, stds and replications; "
          f"Holm-Bonferroni at family-wise alpha {comparison.alpha}): {comparison.n_moved} "
          f"moved; {int((~tested).sum())} not tested (undefined or < 2 replications)")
    shown = comparison.changes if comparison.regressed else (
        m[tested].sort_values("p_adjusted", kind="stable").head(5))
    if not comparison.regressed:
        print("no metric moved; the smallest adjusted p-values:")
    rows = [(metric_label(r), _short(r["old_mean"]), _short(r["new_mean"]),
             f"{_short(r['difference'], sign=True)} [{_short(r['diff_ci_low'])}, "
             f"{_short(r['diff_ci_high'])}]",
             "" if math.isnan(r["rel_difference"]) else f"{r['rel_difference']:+.1%}",
             f"{r['p_value']:.2g}", f"{r['p_adjusted']:.2g}", "MOVED" if r["moved"] else "",
             r["note"]) for r in shown.head(MAX_STATISTICAL_ROWS).to_dict("records")]
    _table(("metric", "baseline", "new", "difference [95% CI]", "rel.", "p", "adjusted p",
            "", ""), rows)
    if comparison.regressed and len(shown) > MAX_STATISTICAL_ROWS:
        print(f"  ... and {len(shown) - MAX_STATISTICAL_ROWS} more moved metrics (--junit "
              f"lists them all)")


def _exact(value: Any) -> str:
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else repr(float(value))


def _short(value: float, sign: bool = False) -> str:
    if value is None or math.isnan(value):
        return "nan"
    return f"{value:+.4g}" if sign else f"{value:.4g}"


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for i, row in enumerate([headers, *rows]):
        print("  " + "  ".join(f"{str(c):<{w}}" for c, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``regress`` to a ``add_subparsers()`` object, with ``handler=run``."""
    parser = subparsers.add_parser("regress", help=HELP, description=HELP)
    configure(parser)
    parser.set_defaults(handler=run)
    return parser
