"""``queue-sim validate``: every validation case against its closed form, as a table and a figure.

Runs ``queue_sim.validation.validate`` (the catalogue and its pass rule live there), prints one
row per (case, engine, metric), and writes into ``--out`` (default ``results/validation/``):
``validation.csv`` (every row), ``validation.png`` (simulated against exact, and relative error
with confidence bars per metric, one marker per engine), ``validation_figure.csv`` (exactly
what the figure draws) and ``manifest.json`` (engines, quick, seed, versions, wall time).
Exit codes: 0 every case passed, 1 a case failed, 2 bad input (an unknown case, an engine
that cannot be imported).  Top layer: may import anything, lazily.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from pathlib import Path
from typing import Any

HELP = "simulate every validation case and compare each metric with queueing theory"
DEFAULT_OUT = Path("results/validation")
MARKERS = {"simpy": "o", "numba": "s"}


def numba_status() -> str | None:
    """None when the numba engine imports, else why it does not."""
    from queue_sim.engines import EngineError, get_engine

    try:
        get_engine("numba")
    except EngineError as exc:
        return str(exc)
    return None


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the validate command's arguments."""
    parser.add_argument("--engine", choices=["numba", "simpy", "both"], default=None,
                        help="engine(s) to validate (default: both when numba imports, "
                             "else simpy)")
    parser.add_argument("--quick", action="store_true",
                        help="a quarter of the customers and twice the relative bound "
                             "(what the test suite runs)")
    parser.add_argument("--case", dest="cases", action="extend", nargs="+", default=[],
                        metavar="NAME", help="only these cases (repeatable), e.g. 'M/M/1'")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the table and figure (default: {DEFAULT_OUT})")


def run(args: argparse.Namespace) -> int:
    """Validate, print the table, write the files; returns the exit code."""
    from queue_sim import validation

    cases = _cases(args.cases, validation.CASES)
    engines = _engines(args.engine)
    n = len(cases) * len(engines)
    done = iter(range(1, n + 1))
    from queue_sim.runner import git_revision

    revision = git_revision()  # of the code that runs, not of the tree when it ends
    started = time.perf_counter()

    def progress(label: str) -> None:
        print(f"[{next(done)}/{n}] {label} ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr, flush=True)

    table = validation.validate(engines=engines, quick=args.quick, cases=cases,
                                progress=progress)
    wall = time.perf_counter() - started
    print_table(table, validation.CONFIDENCE, quick=args.quick)
    files = write_outputs(table, args.out, engines=engines, quick=args.quick,
                          confidence=validation.CONFIDENCE, wall_time=wall,
                          revision=revision)
    per_case = table.groupby(["engine", "case"], sort=False)["passed"].all()
    for engine in engines:
        passed = per_case.loc[engine]
        print(f"{engine}: {int(passed.sum())}/{len(passed)} cases passed")
    print(f"{len(table)} comparisons in {wall:.0f} s; wrote "
          + ", ".join(str(f) for f in files))
    failed = per_case[~per_case]
    if not failed.empty:
        print("FAILED: " + ", ".join(f"{case} [{engine}]" for engine, case in failed.index),
              file=sys.stderr)
        return 1
    return 0


def _engines(choice: str | None) -> list[str]:
    from queue_sim.errors import ConfigError, Problem

    reason = numba_status()
    if choice is None:
        if reason is not None:
            print(f"note: validating simpy only; {reason}", file=sys.stderr)
        return ["simpy"] if reason is not None else ["simpy", "numba"]
    if choice in ("numba", "both") and reason is not None:
        raise ConfigError(Problem("--engine", f"needs the numba engine, which is unavailable "
                                  f"({reason}); use --engine simpy", choice))
    return ["simpy", "numba"] if choice == "both" else [choice]


def _cases(names: list[str], catalogue: list[Any]) -> list[Any]:
    from queue_sim.errors import ConfigError, Problem

    if not names:
        return list(catalogue)
    by_name = {c.name.lower(): c for c in catalogue}
    chosen, problems = [], []
    for name in names:
        case = by_name.get(name.lower())
        if case is None:
            close = difflib.get_close_matches(name.lower(), list(by_name), n=1, cutoff=0.5)
            problems.append(Problem("--case", "must name a validation case (one of "
                                    + ", ".join(c.name for c in catalogue) + ")", name,
                                    suggestion=by_name[close[0]].name if close else None))
        elif case not in chosen:
            chosen.append(case)
    if problems:
        raise ConfigError(problems)
    return chosen


# ---------------------------------------------------------------------------------------------
# The table


def table_rows(table: Any) -> list[tuple[str, ...]]:
    """(model, engine, metric, exact, simulated, CI, relative error, bound, pass) per row."""
    rows = []
    for r in table.to_dict("records"):
        rows.append((r["case"], r["engine"], metric_name(r), f"{r['exact']:.4g}",
                     f"{r['simulated']:.4g}", f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]",
                     f"{r['rel_error']:+.2%}", f"{r['tolerance']:.0%}",
                     "pass" if r["passed"] else "FAIL"))
    return rows


def metric_name(row: dict[str, Any]) -> str:
    """``mean_wait`` for the system, ``mean_wait [high]`` for a class, station or staff."""
    return row["metric"] if row["scope"] == "system" else f"{row['metric']} [{row['name']}]"


def print_table(table: Any, confidence: float, *, quick: bool, file: Any = None) -> None:
    """A rich table on a terminal, aligned plain text otherwise."""
    file = file or sys.stdout
    headers = ("model", "engine", "metric", "exact", "simulated", f"{confidence:.1%} CI",
               "rel. error", "bound", "pass")
    rows = table_rows(table)
    title = (f"Validation against theory ({'quick' if quick else 'full'} run): pass = exact "
             f"value inside the {confidence:.1%} CI and |relative error| <= bound")
    if file.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        out = Table(title=title)
        for i, header in enumerate(headers):
            out.add_column(header, justify="left" if i < 3 else "right")
        for row in rows:
            style = None if row[-1] == "pass" else "bold red"
            out.add_row(*(escape(cell) for cell in row), style=style)
        Console(file=file).print(out)
        return
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    print(title, file=file)
    for i, row in enumerate([headers, *rows]):
        cells = [f"{c:<{w}}" if j < 3 else f"{c:>{w}}"
                 for j, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip(), file=file)
        if i == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)), file=file)


# ---------------------------------------------------------------------------------------------
# Files and the figure


def write_outputs(table: Any, out: Path, *, engines: list[str], quick: bool, confidence: float,
                  wall_time: float, revision: str | None = None) -> list[Path]:
    """``validation.csv``, ``validation.png``, ``validation_figure.csv``, ``manifest.json``,
    each written atomically."""
    from queue_sim.results import atomic_write
    from queue_sim.runner import git_revision, package_versions

    files = [out / "validation.csv", out / "validation.png", out / "validation_figure.csv",
             out / "manifest.json"]
    frame = table.assign(confidence=confidence, quick=quick)
    atomic_write(files[0], lambda p: frame.to_csv(p, index=False))
    figure, drawn = draw_figure(table, confidence, quick=quick)
    atomic_write(files[1], lambda p: figure.savefig(p, dpi=150, format="png"))
    atomic_write(files[2], lambda p: drawn.to_csv(p, index=False))
    per_case = table.groupby(["engine", "case"], sort=False)["passed"].all()
    manifest = {"command": "queue-sim validate", "engines": engines, "quick": quick,
                "confidence": confidence, "cases": list(dict.fromkeys(table["case"])),
                "cases_passed": {e: int(per_case.loc[e].sum()) for e in engines},
                "cases_total": {e: int(len(per_case.loc[e])) for e in engines},
                "comparisons": len(table), "wall_time_s": round(wall_time, 1),
                "versions": package_versions(),
                "git_revision": revision if revision is not None else git_revision()}
    atomic_write(files[3], lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))
    return files


def draw_figure(table: Any, confidence: float, *, quick: bool) -> tuple[Any, Any]:
    """Left: simulated against exact (log-log, the diagonal is agreement).  Right: relative
    error of every metric with its confidence bar and the case's bound, one marker per engine.

    Returns the (Agg) figure and the table of what was drawn.
    """
    import numpy as np
    from matplotlib import style as mpl_style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = list(dict.fromkeys(f"{r['case']}: {metric_name(r)}"
                                for r in table.to_dict("records")))
    ypos = {label: i for i, label in enumerate(labels)}
    drawn = table.assign(label=[f"{r['case']}: {metric_name(r)}"
                                for r in table.to_dict("records")])
    drawn["y"] = drawn["label"].map(ypos)
    drawn["marker"] = drawn["engine"].map(lambda e: MARKERS.get(e, "^"))
    drawn = drawn[["label", "y", "case", "engine", "marker", "scope", "name", "metric", "exact",
                   "simulated", "ci_low", "ci_high", "rel_error", "rel_half_width", "tolerance",
                   "passed"]]
    style = Path(__file__).resolve().parents[1] / "plots" / "queue_sim.mplstyle"
    with mpl_style.context(str(style) if style.exists() else "default"):
        fig = Figure(figsize=(13, max(5.0, 0.22 * len(labels) + 1.5)), layout="constrained")
        FigureCanvasAgg(fig)
        left, right = fig.subplots(1, 2, width_ratios=[1, 1.5])
        engines = list(dict.fromkeys(drawn["engine"]))
        offsets = {e: (i - (len(engines) - 1) / 2) * 0.25 for i, e in enumerate(engines)}
        for engine in engines:
            part = drawn[drawn["engine"] == engine]
            ok = part["passed"].to_numpy(bool)
            positive = (part["exact"] > 0) & (part["simulated"] > 0)
            for mask, colour, suffix in ((ok, "C0" if engine == "simpy" else "C1", ""),
                                         (~ok, "red", " (failed)")):
                sel = part[mask & positive.to_numpy(bool)]
                if not sel.empty:
                    left.errorbar(sel["exact"], sel["simulated"],
                                  yerr=[sel["simulated"] - sel["ci_low"],
                                        sel["ci_high"] - sel["simulated"]],
                                  marker=MARKERS.get(engine, "^"), linestyle="none",
                                  color=colour, label=engine + suffix, markersize=4)
                sel = part[mask]
                if not sel.empty:
                    right.errorbar(sel["rel_error"], sel["y"] + offsets[engine],
                                   xerr=sel["rel_half_width"], marker=MARKERS.get(engine, "^"),
                                   linestyle="none", color=colour, label=engine + suffix,
                                   markersize=4, capsize=2)
        positive = drawn[(drawn["exact"] > 0) & (drawn["simulated"] > 0)]
        low = float(np.nanmin(positive[["exact", "ci_low"]].clip(lower=1e-12).to_numpy()))
        high = float(np.nanmax(positive[["exact", "ci_high"]].to_numpy()))
        left.plot([low, high], [low, high], color="0.5", linewidth=0.8, label="simulated = exact")
        left.set(xscale="log", yscale="log", xlabel="exact (theory)",
                 ylabel=f"simulated mean, {confidence:.1%} CI",
                 title="Simulated against exact, every metric")
        left.legend(loc="upper left", fontsize="small")
        bounds = drawn.groupby("y")["tolerance"].first()
        right.scatter(bounds, bounds.index, marker="|", color="0.3", s=60, label="± bound")
        right.scatter(-bounds, bounds.index, marker="|", color="0.3", s=60)
        right.axvline(0, color="0.5", linewidth=0.8)
        right.set_yticks(range(len(labels)), labels, fontsize="small")
        right.invert_yaxis()
        right.xaxis.set_major_formatter("{x:+.0%}")
        right.set(xlabel=f"relative error (simulated - exact) / exact, {confidence:.1%} CI",
                  title=f"Relative error per metric ({'quick' if quick else 'full'} run)")
        handles, names = right.get_legend_handles_labels()
        unique = dict(zip(names, handles))
        right.legend(unique.values(), unique.keys(), loc="lower right", fontsize="small")
    return fig, drawn


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``validate`` to a ``add_subparsers()`` object, with ``handler=run``."""
    parser = subparsers.add_parser("validate", help=HELP, description=HELP)
    configure(parser)
    parser.set_defaults(handler=run)
    return parser
