"""``queue-sim plot RESULTS_DIR``: draw the standard figures of a run or sweep results folder.

Reads only the folder (nothing is rerun).  Exit code 2 when RESULTS_DIR is not a results folder
or a format is unknown.  Top layer: may import anything, lazily.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "draw the standard figures (PNG/SVG plus the CSV of what was drawn) of a results folder"
FORMATS = ("png", "svg", "pdf")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the plot command's arguments."""
    parser.add_argument("results", type=Path, metavar="RESULTS_DIR",
                        help="a run or sweep results folder")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the figures (default: RESULTS_DIR/figures)")
    parser.add_argument("--format", default="png,svg",
                        help="comma-separated image formats: png, svg, pdf (default png,svg)")


def run(args: argparse.Namespace) -> int:
    """Draw the figures and list the files written."""
    from queue_sim.errors import ConfigError, Problem

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(Problem("--format", "must list formats among " + ", ".join(FORMATS),
                                  args.format))
    for name in ("manifest.json", "summary.csv"):
        if not (args.results / name).exists():
            raise ConfigError(Problem("RESULTS_DIR", f"must be a results folder ({name} is "
                                      f"missing)", str(args.results)))
    from queue_sim.plots import draw_standard_figures

    files = draw_standard_figures(args.results, args.out, formats)
    if not files:
        print(f"no standard figure applies to {args.results} (a single run needs "
              f"customers.parquet: run it with --customers)")
    for path in files:
        print(path)
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``plot`` to a ``add_subparsers()`` object, with ``handler=run``."""
    parser = subparsers.add_parser("plot", help=HELP, description=HELP)
    configure(parser)
    parser.set_defaults(handler=run)
    return parser
