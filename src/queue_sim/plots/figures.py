"""Standard figures drawn from a results folder (a single run or a sweep), never from live runs.

Every public function has the form ``plot_*(results, *, ax=None, **kwargs) -> Axes``, where
``results`` is a results folder path or a ``ResultsFolder``.  Each one also attaches the table of
exactly what it drew to the axes (``drawn_data(ax)``); ``save_figure`` writes it as a CSV beside
the PNG/SVG.  Figures use the bundled ``queue_sim.mplstyle`` and the Agg canvas (no pyplot, no
global backend switch).  Imports stats (for metric names) only; never the engines or runner.
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

from queue_sim.stats import parse_metric_column

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
            self._differences = _read_tidy(path)
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
    return ResultsFolder(path, manifest, _read_tidy(path / "summary.csv"))


def _read_tidy(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=["", "NaN", "nan"],
                       dtype={"scope": str, "name": str, "metric": str, "point_id": str,
                              "baseline_point_id": str})


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
    """Write the figure of ``ax`` as ``<stem>.<format>`` plus ``<stem>.csv`` of what was drawn."""
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


# ---------------------------------------------------------------------------------------------
# Figures from the summary


@_styled
def plot_metric_vs_factor(results: str | Path | ResultsFolder, *, metric: str = DEFAULT_METRIC,
                          x: str | None = None, by: str | None = None,
                          where: dict[str, Any] | None = None, ax: Axes | None = None,
                          **kwargs: Any) -> Axes:
    """A metric against one factor with 95% CI error bars, one line per level of another.

    Parameters
    ----------
    results
        Sweep results folder (or ``ResultsFolder``).
    metric
        ``scope:name:metric`` column of the summary.
    x, by
        Factor on the x axis and factor whose levels are the lines; default: the numeric factor
        with most levels, and a factor with at most ``MAX_LINES`` levels (text first).
    where
        Levels at which to hold the other factors; default the baseline's, else the middle.
    ax
        Axes to draw on; default a new figure.
    kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    res = open_results(results)
    x = x or _choose_x(res)
    by = by if by is not None else _choose_by(res, x)
    shown = [x] + ([by] if by else [])
    rows, fixed = _select(res, res.summary, metric, shown, where)
    ax = _axes(ax)
    x_levels = res.levels(x)
    categorical = not _is_numeric(x_levels)
    position = {level: i for i, level in enumerate(x_levels)}
    groups = [(level, rows[rows[by] == level]) for level in res.levels(by)] if by \
        else [(None, rows)]
    drawn = []
    for level, group in groups:
        if group.empty:
            continue
        group = group.assign(_x=group[x].map(position) if categorical else group[x])
        group = group.sort_values("_x", kind="stable")
        low = (group["mean"] - group["ci_low"]).clip(lower=0).fillna(0)
        high = (group["ci_high"] - group["mean"]).clip(lower=0).fillna(0)
        one_per_x = not group["_x"].duplicated().any() and not is_continuous(res, x)
        options = {"marker": "o", "linestyle": "-" if one_per_x else "none", **kwargs}
        ax.errorbar(group["_x"], group["mean"], yerr=[low, high],
                    label=f"{by} = {level}" if by else None, **options)
        table = group[[x, "mean", "ci_low", "ci_high", "reps"]].copy()
        if by:
            table.insert(0, by, level)
        drawn.append(table)
    if categorical:
        ax.set_xticks(range(len(x_levels)), [str(v) for v in x_levels])
    elif not is_continuous(res, x):
        ax.set_xticks(sorted(x_levels), [f"{v:g}" for v in sorted(x_levels)])
    ax.set_xlabel(x)
    ax.set_ylabel(metric_label(metric, res.time_unit))
    if by:
        ax.legend()
    title = _fixed_title(fixed)
    _title(ax, ("95% CI; " + title) if title else "95% CI")
    table = pd.concat(drawn, ignore_index=True) if drawn else pd.DataFrame()
    for factor, value in fixed.items():
        table[factor] = value
    table.insert(0, "metric", metric)
    _attach(ax, table)
    return ax


@_styled
def plot_heatmap(results: str | Path | ResultsFolder, *, metric: str = DEFAULT_METRIC,
                 x: str | None = None, y: str | None = None,
                 where: dict[str, Any] | None = None, ax: Axes | None = None,
                 **kwargs: Any) -> Axes:
    """The mean of a metric over two factors, one cell per combination (value written in it).

    Other factors are held as in ``plot_metric_vs_factor``; ``kwargs`` go to ``imshow``.
    """
    res = open_results(results)
    discrete = [f for f in res.factors if not is_continuous(res, f) and len(res.levels(f)) > 1]
    x = x or (discrete[0] if discrete else _choose_x(res))
    y = y or next((f for f in discrete if f != x), None)
    if y is None:
        raise ValueError(f"{res.path} needs two factors with several levels for a heatmap")
    rows, fixed = _select(res, res.summary, metric, [x, y], where)
    ax = _axes(ax)
    xs, ys = res.levels(x), res.levels(y)
    if _is_numeric(xs):
        xs = sorted(xs)
    if _is_numeric(ys):
        ys = sorted(ys)
    grid = np.full((len(ys), len(xs)), np.nan)
    for _, row in rows.iterrows():
        grid[ys.index(row[y]), xs.index(row[x])] = row["mean"]
    image = ax.imshow(grid, origin="lower", aspect="auto", **kwargs)
    finite = grid[np.isfinite(grid)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3g}", ha="center", va="center", fontsize=8,
                        color="white" if grid[i, j] < middle else "black")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [str(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label=metric_label(metric, res.time_unit))
    _title(ax, _fixed_title(fixed) or "mean over replications")
    table = rows[[y, x, "mean", "ci_low", "ci_high", "reps"]].copy()
    for factor, value in fixed.items():
        table[factor] = value
    table.insert(0, "metric", metric)
    _attach(ax, table)
    return ax


@_styled
def plot_differences(results: str | Path | ResultsFolder, *, metric: str = DEFAULT_METRIC,
                     where: dict[str, Any] | None = None, ax: Axes | None = None,
                     **kwargs: Any) -> Axes:
    """Each point's paired difference from its baseline point, with 95% CIs (differences.csv).

    ``where`` keeps only points with those factor values; ``kwargs`` go to ``Axes.errorbar``.
    """
    res = open_results(results)
    table = res.differences()
    if table is None:
        raise FileNotFoundError(f"{res.path} has no differences.csv (give the sweep a baseline)")
    key = parse_metric_column(metric)
    if key is None:
        raise ValueError(f"metric must look like scope:name:metric (got {metric!r})")
    rows = table[(table["scope"] == key[0]) & (table["name"] == key[1])
                 & (table["metric"] == key[2])]
    for factor, value in (where or {}).items():
        rows = rows[(rows[factor] == value) | (rows[factor].astype(str) == str(value))]
    if rows.empty:
        raise KeyError(f"{res.path}/differences.csv has no rows for {metric!r}")
    labels = _point_labels(res, rows)
    ax = _axes(ax, height=max(3.0, 0.3 * len(rows) + 1.4))
    ypos = np.arange(len(rows))[::-1]
    low = (rows["mean"] - rows["ci_low"]).clip(lower=0).fillna(0)
    high = (rows["ci_high"] - rows["mean"]).clip(lower=0).fillna(0)
    ax.errorbar(rows["mean"], ypos, xerr=[low, high], **{"marker": "o", "linestyle": "none",
                                                          **kwargs})
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.set_yticks(ypos, labels)
    ax.set_xlabel("difference in " + metric_label(metric, res.time_unit))
    baseline = _fixed_title(res.baseline)
    _title(ax, f"paired 95% CI vs baseline {baseline}" if baseline else "paired 95% CI", 40)
    drawn = rows[[*res.factors, "point_id", "baseline_point_id", "mean", "ci_low", "ci_high",
                  "reps"]].copy()
    drawn.insert(0, "label", labels)
    drawn.insert(0, "metric", metric)
    _attach(ax, drawn)
    return ax


def _point_labels(res: ResultsFolder, rows: pd.DataFrame) -> list[str]:
    shown = [f for f in res.factors if len(res.levels(f)) > 1] or res.factors
    short = {f: f.rsplit(".", 1)[-1] for f in shown}
    if len(set(short.values())) < len(short):
        short = {f: f for f in shown}
    return [", ".join(f"{short[f]}={row[f]}" for f in shown) for _, row in rows.iterrows()]


# ---------------------------------------------------------------------------------------------
# Figures from customers.parquet


def _per_customer(visits: pd.DataFrame) -> pd.DataFrame:
    return visits.drop_duplicates(["replication", "customer"])


@_styled
def plot_wait_ecdf(results: str | Path | ResultsFolder, *, point: str | None = None,
                   replication: int | None = None, ax: Axes | None = None,
                   **kwargs: Any) -> Axes:
    """Empirical CDF of the total wait in queue, one line per customer class.

    Customers arriving after the warmup, from ``customers.parquet`` (a sweep point's when
    ``point`` is given; else its default point), pooled over the kept replications unless
    ``replication`` is given.  ``kwargs`` go to ``Axes.step``.
    """
    res = open_results(results)
    pid, visits = res.customers(point)
    customers = _per_customer(visits)
    if replication is not None:
        customers = customers[customers["replication"] == replication]
    customers = customers[customers["arrived_at"] >= res.warmup]
    ax = _axes(ax)
    drawn = []
    for cname in list(dict.fromkeys(customers["class"].astype(str))):
        wait = np.sort(customers.loc[customers["class"].astype(str) == cname,
                                     "wait_time"].to_numpy(float))
        wait = wait[~np.isnan(wait)]
        if not len(wait):
            continue
        ecdf = np.arange(1, len(wait) + 1) / len(wait)
        ax.step(wait, ecdf, where="post", label=cname, **kwargs)
        drawn.append(pd.DataFrame({"class": cname, "wait_time": wait, "ecdf": ecdf}))
    ax.set_xlabel(f"wait in queue ({_plural(res.time_unit)})")
    ax.set_ylabel("fraction of customers waiting at most this long")
    ax.set_ylim(0, 1.02)
    ax.legend(title="class")
    _title(ax, _source_title(res, pid, replication))
    table = pd.concat(drawn, ignore_index=True) if drawn else pd.DataFrame()
    if pid is not None:
        table.insert(0, "point_id", pid)
    _attach(ax, table)
    return ax


def queue_length_steps(visits: pd.DataFrame, station: str | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Number waiting over time from visit rows: +1 at ``queued_at``, -1 at service start or,
    for a visit never served, when the customer left (abandoned).  Returns (times, lengths),
    the length holding from each time to the next; at equal times departures go first.
    A visit's rows record its first service start only, so a customer sent back to the queue
    (preempted, or handed back at a shift end or breakdown) is not counted again."""
    rows = visits if station is None else visits[visits["station"].astype(str) == station]
    rows = rows[rows["queued_at"].notna()]
    end = rows["service_started_at"].where(rows["service_started_at"].notna(), rows["left_at"])
    times = np.concatenate([rows["queued_at"].to_numpy(float), end.dropna().to_numpy(float)])
    steps = np.concatenate([np.ones(len(rows)), -np.ones(int(end.notna().sum()))])
    order = np.lexsort((steps, times))
    times, lengths = times[order], np.cumsum(steps[order])
    last = np.r_[times[1:] != times[:-1], True]   # one value per distinct time
    return np.r_[0.0, times[last]], np.r_[0.0, lengths[last]]


@_styled
def plot_queue_length(results: str | Path | ResultsFolder, *, point: str | None = None,
                      replication: int | None = None, station: str | None = None,
                      ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Number of customers waiting over time in one replication, complaint handling shaded.

    Reconstructed from ``customers.parquet`` visit rows (see ``queue_length_steps``); complaint
    episodes are ``[handling_started_at, handling_ended_at)`` of complained visits.
    ``station`` limits both to one station; default all.  ``kwargs`` go to ``Axes.step``.
    """
    res = open_results(results)
    pid, visits = res.customers(point)
    if replication is None:
        replication = int(visits["replication"].min())
    visits = visits[visits["replication"] == replication]
    times, lengths = queue_length_steps(visits, station)
    ax = _axes(ax)
    ax.step(times, lengths, where="post", label="waiting", **kwargs)
    rows = visits if station is None else visits[visits["station"].astype(str) == station]
    episodes = rows[rows["complained"].astype(bool) & rows["handling_started_at"].notna()]
    episodes = episodes.sort_values("handling_started_at")
    for i, (_, e) in enumerate(episodes.iterrows()):
        end = e["handling_ended_at"] if pd.notna(e["handling_ended_at"]) else times[-1]
        ax.axvspan(e["handling_started_at"], end, color="#D55E00", alpha=0.18, linewidth=0,
                   label="complaint handling" if i == 0 else None)
    ax.set_xlabel(f"time ({_plural(res.time_unit)})")
    ax.set_ylabel("customers waiting" + (f" at {station}" if station else ""))
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    _title(ax, _source_title(res, pid, replication))
    table = pd.concat([
        pd.DataFrame({"series": "queue_length", "time": times, "queue_length": lengths,
                      "end": np.nan}),
        pd.DataFrame({"series": "complaint_handling",
                      "time": episodes["handling_started_at"].to_numpy(float),
                      "queue_length": np.nan,
                      "end": episodes["handling_ended_at"].to_numpy(float)}),
    ], ignore_index=True)
    table.insert(0, "replication", replication)
    if pid is not None:
        table.insert(0, "point_id", pid)
    _attach(ax, table)
    return ax


def _source_title(res: ResultsFolder, pid: str | None, replication: int | None) -> str:
    parts = []
    if pid is not None:
        point = res.summary[res.summary["point_id"].astype(str) == pid].iloc[0]
        parts.append(", ".join(f"{f} = {point[f]}" for f in res.factors))
    parts.append(f"replication {replication}" if replication is not None
                 else "kept replications pooled")
    return "; ".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------
# The standard set


def draw_standard_figures(results_dir: str | Path, out: str | Path | None = None,
                          formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw every standard figure that applies to a results folder.

    Sweeps: each of ``STANDARD_METRICS`` present (and not all zero or NaN) against a factor,
    a heatmap of the first over two discrete factors, paired differences when there is a
    baseline.  Any folder with ``customers.parquet``: wait ECDF per class and queue length
    over time.

    Parameters
    ----------
    results_dir
        A run or sweep results folder.
    out
        Folder for the figures; default ``<results_dir>/figures``.
    formats
        Image formats; each figure also gets a CSV of what was drawn.

    Returns
    -------
    list of pathlib.Path
        Every file written.
    """
    res = open_results(results_dir)
    out = Path(out) if out is not None else res.path / "figures"
    files: list[Path] = []

    def save(name: str, plot: Callable[..., Axes], **options: Any) -> None:
        ax = plot(res, **options)
        files.extend(save_figure(ax, out / name, formats))

    metrics = [m for m in STANDARD_METRICS if _has_values(res.summary, m)]
    if res.kind == "sweep" and res.factors:
        x = _choose_x(res)
        for metric in metrics:
            save(f"{slug(metric.split(':')[-1])}_vs_{slug(x)}", plot_metric_vs_factor,
                 metric=metric, x=x)
        discrete = [f for f in res.factors if not is_continuous(res, f)
                    and len(res.levels(f)) > 1]
        if len(discrete) >= 2 and metrics:
            save(f"heatmap_{slug(metrics[0].split(':')[-1])}", plot_heatmap, metric=metrics[0])
        differences = res.differences()
        if differences is not None and not differences.empty:
            for metric in metrics[:1] + [m for m in metrics[1:] if "bystander" in m]:
                if _has_values(differences, metric, nonzero=False):
                    save(f"differences_{slug(metric.split(':')[-1])}", plot_differences,
                         metric=metric)
    if res.customer_files():
        save("wait_ecdf", plot_wait_ecdf)
        save("queue_length", plot_queue_length)
    return files


def _has_values(table: pd.DataFrame, metric: str, nonzero: bool = True) -> bool:
    key = parse_metric_column(metric)
    if key is None or "scope" not in table:
        return False
    values = table.loc[(table["scope"] == key[0]) & (table["name"] == key[1])
                       & (table["metric"] == key[2]), "mean"].to_numpy(float)
    values = values[~np.isnan(values)]
    return bool(len(values)) and (not nonzero or bool(np.any(values != 0)))
