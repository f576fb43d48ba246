"""What every figure shares: reading a results folder, metric labels, the style, axes, saving
a figure with the table of what it draws, and choosing which factors to show.

Imports stats (for metric names) and the config schema (for the units of factors); never the
engines or runner.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import style as mpl_style
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from queue_sim.stats import parse_metric_column, read_tidy_csv

STYLE = Path(__file__).with_name("queue_sim.mplstyle")
DEFAULT_METRIC = "system:all:mean_wait"
STANDARD_METRICS = ("system:all:mean_wait", "system:all:wait_p90", "system:all:abandonment_rate",
                    "system:all:bystander_wait_difference")
MAX_LEVELS = 12      # a numeric factor with more distinct values is drawn as continuous
MAX_LINES = 8        # at most this many lines (levels of the second factor) per figure
_DRAWN = "_queue_sim_drawn"

# metric -> (label, unit kind): "time" is the results' time unit
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "mean_wait": ("mean wait in queue", "time"),
    "mean_wait_served": ("mean wait of served customers", "time"),
    "mean_sojourn": ("mean time in system", "time"),
    "bystander_mean_wait": ("mean wait of bystanders", "time"),
    "other_mean_wait": ("mean wait of other customers", "time"),
    "bystander_wait_difference": ("bystanders' extra mean wait", "time"),
    "complaint_time": ("manager time on complaints", "time"),
    "wait_probability": ("P(wait > 0)", "fraction"),
    "abandonment_rate": ("abandonment rate", "fraction"),
    "balking_rate": ("balking rate", "fraction"),
    "loss_rate": ("loss rate", "fraction"),
    "unfinished_rate": ("unfinished rate", "fraction"),
    "utilization": ("utilisation", "fraction"),
    "handling_share": ("complaint handling share", "fraction of time"),
    "throughput": ("throughput", "rate"),
    "mean_queue_length": ("mean number waiting", "customers"),
    "mean_in_system": ("mean number in system", "customers"),
    "n_customers": ("customers", "count"),
    "complaint_rate": ("complaints per customer", "per customer"),
    "defection_rate": ("defection rate", "fraction"),
    "resolution_rate": ("resolution rate", "fraction"),
    "contacts_per_case": ("contacts per case", "per customer"),
    "contacts_per_resolved_case": ("contacts per resolved case", "per resolved case"),
    "failure_demand_share": ("failure-demand share of contacts", "fraction"),
    "mean_time_to_resolution": ("mean time to resolution", "time"),
    "work_per_resolved_case": ("staff time per resolved case", "time"),
    "escalations_per_1000": ("escalations per 1,000 customers", "count"),
    "retrials_per_customer": ("retries per customer", "per customer"),
    "retried_share": ("share of customers who retried", "fraction"),
    "mean_retry_time": ("mean time from first to last attempt", "time"),
}


# ---------------------------------------------------------------------------------------------
# Reading a results folder


@dataclass
class ResultsFolder:
    """A results folder opened for plotting: manifest, tidy summary and what else is there."""

    path: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    _differences: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """``"sweep"`` or ``"run"``."""
        return "sweep" if self.manifest.get("kind") == "sweep" else "run"

    @property
    def factors(self) -> list[str]:
        """The sweep's factor columns (none for a single run)."""
        return list(self.manifest.get("factors", {})) if self.kind == "sweep" else []

    @property
    def time_unit(self) -> str:
        return str(self.manifest.get("time_unit")
                   or self.manifest.get("scenario", {}).get("time_unit") or "time unit")

    @property
    def baseline(self) -> dict[str, Any]:
        return dict(self.manifest.get("baseline") or {})

    @property
    def warmup(self) -> float:
        return float(self.manifest.get("scenario", {}).get("run", {}).get("warmup") or 0.0)

    def differences(self) -> pd.DataFrame | None:
        """``differences.csv`` of a sweep with a baseline, else None."""
        path = self.path / "differences.csv"
        if self._differences is None and path.exists():
            self._differences = read_tidy_csv(path)
        return self._differences

    def levels(self, factor: str) -> list[Any]:
        """Distinct values of a factor in the order the points were run."""
        return list(dict.fromkeys(self.summary[factor].tolist()))

    def customer_files(self) -> dict[str | None, Path]:
        """``{point_id or None: customers.parquet}`` for every point (or run) that kept them."""
        if self.kind == "run":
            path = self.path / "customers.parquet"
            return {None: path} if path.exists() else {}
        order = list(dict.fromkeys(self.summary["point_id"].astype(str))) \
            if "point_id" in self.summary else []
        files = {pid: self.path / "points" / pid / "customers.parquet" for pid in order}
        return {pid: f for pid, f in files.items() if f.exists()}

    def customers(self, point: str | None = None) -> tuple[str | None, pd.DataFrame]:
        """(point_id, visit rows) of a point's kept customers (a sweep's default point)."""
        files = self.customer_files()
        if not files:
            raise FileNotFoundError(f"{self.path} holds no customers.parquet (run with "
                                    f"--customers, or run.keep_customers in a sweep)")
        if point is None:
            point = default_point(self, among=list(files))
        if point not in files:
            raise KeyError(f"point {point!r} kept no customers; these did: "
                           f"{', '.join(map(str, files))}")
        return point, pd.read_parquet(files[point])


def open_results(results: str | Path | ResultsFolder) -> ResultsFolder:
    """Open a results folder (``manifest.json`` and ``summary.csv`` must exist)."""
    if isinstance(results, ResultsFolder):
        return results
    path = Path(results)
    for name in ("manifest.json", "summary.csv"):
        if not (path / name).exists():
            raise FileNotFoundError(f"{path} is not a results folder: {name} is missing")
    manifest = json.loads((path / "manifest.json").read_text())
    return ResultsFolder(path, manifest, read_tidy_csv(path / "summary.csv"))


# ---------------------------------------------------------------------------------------------
# Labels, axes and saving


def metric_label(metric: str, time_unit: str = "minute") -> str:
    """Axis label with unit, e.g. ``"mean wait in queue (minutes)"``."""
    key = parse_metric_column(metric)
    scope, name, short = key if key is not None else ("", "", metric)
    text, unit = METRIC_LABELS.get(short, (short.replace("_", " "), ""))
    if short.startswith("wait_p"):
        text, unit = f"{short[6:]}th percentile of wait", "time"
    units = {"time": _plural(time_unit), "rate": f"per {time_unit}"}.get(unit, unit)
    where = "" if scope in ("system", "") else f" [{name}]"
    return f"{text}{where} ({units})" if units else f"{text}{where}"


def factor_label(res: ResultsFolder, factor: str) -> str:
    """Axis label of a factor: its dotted key, with the unit its scenario field is in, e.g.
    ``"classes.walkin.arrivals.rate (per minute)"``; counts and probabilities stay bare."""
    text = _field_description(res.manifest.get("scenario") or {}, factor)
    if "per time_unit" in text:
        return f"{factor} (per {res.time_unit})"
    if "in time_unit" in text or "(time_unit)" in text:
        return f"{factor} ({_plural(res.time_unit)})"
    return factor


def _field_description(scenario: dict[str, Any], factor: str) -> str:
    """The schema description of the field a dotted key names in this scenario, or ''."""
    from queue_sim.config.load import _model_at
    from queue_sim.config.schema import Scenario

    *parent, name = factor.split(".")
    try:
        model = _model_at(Scenario, parent, scenario) if parent else Scenario
    except Exception:  # noqa: BLE001 - a label is a nicety; an odd key keeps its bare name
        return ""
    field = model.model_fields.get(name) if model is not None else None
    return (field.description or "") if field is not None else ""


def _plural(unit: str) -> str:
    return unit if unit.endswith("s") else unit + "s"


def _styled(func: Callable[..., Axes]) -> Callable[..., Axes]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Axes:
        with mpl_style.context(str(STYLE)):
            return func(*args, **kwargs)
    return wrapper


def _axes(ax: Axes | None, height: float | None = None) -> Axes:
    if ax is not None:
        return ax
    fig = Figure()
    FigureCanvasAgg(fig)
    if height is not None:
        fig.set_figheight(height)
    return fig.add_subplot()


def drawn_data(ax: Axes) -> pd.DataFrame:
    """The table of exactly what a ``plot_*`` function drew on ``ax``."""
    return getattr(ax, _DRAWN, pd.DataFrame())


def _attach(ax: Axes, table: pd.DataFrame) -> None:
    setattr(ax, _DRAWN, table.reset_index(drop=True))


def save_figure(ax: Axes, stem: str | Path, formats: Sequence[str] = ("png", "svg")
                ) -> list[Path]:
    """Write the figure of ``ax`` as ``<stem>.<format>`` plus ``<stem>.csv`` of what was drawn.

    Saved under the bundled style too: its ``savefig`` settings (150 dpi, a tight bounding
    box, so a label wider than its axes is not cut off) apply only while saving.
    """
    with mpl_style.context(str(STYLE)):
        return save_with_data(ax.figure, drawn_data(ax), stem, formats)


def save_with_data(fig: Figure, data: pd.DataFrame, stem: str | Path,
                   formats: Sequence[str] = ("png",), *, dpi: float | None = None,
                   close: bool = False) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` and ``<stem>.csv`` of ``data``, the table of what it
    draws, beside it (what the studies' figures do too).  ``close`` lays the figure out
    tightly first (unless it uses a constrained layout) and closes it after."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if close and not fig.get_constrained_layout():
        fig.tight_layout()
    files = []
    for fmt in formats:
        path = stem.parent / f"{stem.name}.{fmt}"
        fig.savefig(path, format=fmt, dpi=dpi)
        files.append(path)
    csv = stem.parent / f"{stem.name}.csv"
    data.to_csv(csv, index=False)
    files.append(csv)
    if close:  # a pyplot figure (the studies'); the package's own figures never use pyplot
        import matplotlib.pyplot as plt

        plt.close(fig)
    return files


def slug(text: str) -> str:
    """A file-name-safe version of a metric or factor name."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


# ---------------------------------------------------------------------------------------------
# Choosing factors and fixing the others


def _is_numeric(values: Iterable[Any]) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
               for v in values)


def is_continuous(res: ResultsFolder, factor: str) -> bool:
    """A sampled factor, or a numeric one with more than ``MAX_LEVELS`` values: drawn as
    scattered values, never held at one level."""
    info = res.manifest.get("factors", {}).get(factor, {})
    levels = res.levels(factor)
    return info.get("part") == "sample" or (_is_numeric(levels) and len(levels) > MAX_LEVELS)


def _choose_x(res: ResultsFolder, exclude: Sequence[str] = ()) -> str:
    candidates = [f for f in res.factors if f not in exclude and len(res.levels(f)) > 1]
    if not candidates:
        candidates = [f for f in res.factors if f not in exclude]
    if not candidates:
        raise ValueError(f"{res.path} has no factor to plot against")
    numeric = [f for f in candidates if _is_numeric(res.levels(f))]
    return max(numeric, key=lambda f: len(res.levels(f))) if numeric else candidates[0]


def _choose_by(res: ResultsFolder, x: str) -> str | None:
    candidates = [f for f in res.factors if f != x and not is_continuous(res, f)
                  and 1 < len(res.levels(f)) <= MAX_LINES]
    if not candidates:
        return None
    text = [f for f in candidates if not _is_numeric(res.levels(f))]  # policies make good lines
    return (text or candidates)[0]


def fixed_level(res: ResultsFolder, factor: str) -> Any:
    """The level a factor is held at when a figure does not show it: the baseline's value,
    else the middle level."""
    levels = res.levels(factor)
    if factor in res.baseline:
        wanted = res.baseline[factor]
        for level in levels:
            if level == wanted or str(level) == str(wanted):
                return level
    ordered = sorted(levels) if _is_numeric(levels) else levels
    return ordered[(len(ordered) - 1) // 2]


def default_point(res: ResultsFolder, among: Sequence[str] | None = None) -> str | None:
    """The point shown when one point is needed: every factor at its ``fixed_level``."""
    if res.kind == "run":
        return None
    table = res.summary.drop_duplicates("point_id")
    mask = np.ones(len(table), dtype=bool)
    for factor in res.factors:
        if not is_continuous(res, factor):
            mask &= (table[factor] == fixed_level(res, factor)).to_numpy()
    ids = table.loc[mask, "point_id"].astype(str).tolist()
    among = list(among) if among is not None else table["point_id"].astype(str).tolist()
    for pid in ids + among:
        if pid in among:
            return pid
    return None


def _select(res: ResultsFolder, table: pd.DataFrame, metric: str, shown: Sequence[str],
            where: dict[str, Any] | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows of ``metric`` with every discrete factor not ``shown`` held at one level."""
    key = parse_metric_column(metric)
    if key is None:
        raise ValueError(f"metric must look like scope:name:metric (got {metric!r})")
    rows = table[(table["scope"] == key[0]) & (table["name"] == key[1])
                 & (table["metric"] == key[2])]
    if rows.empty:
        raise KeyError(f"{res.path} has no metric {metric!r}")
    fixed = {}
    for factor in res.factors:
        if factor in shown:
            continue
        if where and factor in where:
            fixed[factor] = where[factor]
        elif not is_continuous(res, factor):
            fixed[factor] = fixed_level(res, factor)
        else:
            continue
        value = fixed[factor]
        rows = rows[(rows[factor] == value) | (rows[factor].astype(str) == str(value))]
    return rows, fixed


def _fixed_title(fixed: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in fixed.items())


def _title(ax: Axes, text: str, width: int = 72) -> None:
    """A title wrapped to the figure's width (long factor names would be clipped)."""
    ax.set_title(textwrap.fill(text, width=width, break_long_words=False))
