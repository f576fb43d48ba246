"""Standard figures drawn from a results folder (a single run or a sweep), never from live runs.

Every public function has the form ``plot_*(results, *, ax=None, **kwargs) -> Axes``, where
``results`` is a results folder path or a ``ResultsFolder``.  Each one also attaches the table of
exactly what it drew to the axes (``drawn_data(ax)``); ``save_figure`` writes it as a CSV beside
the PNG/SVG.  Figures use the bundled ``queue_sim.mplstyle`` and the Agg canvas (no pyplot, no
global backend switch).  Imports plots.base and stats only; never the engines or runner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from queue_sim.plots.base import (
    DEFAULT_METRIC,
    STANDARD_METRICS,
    ResultsFolder,
    _attach,
    _axes,
    _choose_by,
    _choose_x,
    _fixed_title,
    _is_numeric,
    _plural,
    _select,
    _styled,
    _title,
    factor_label,
    is_continuous,
    metric_label,
    open_results,
    save_figure,
    slug,
)
from queue_sim.stats import parse_metric_column

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
    ax.set_xlabel(factor_label(res, x))
    ax.set_ylabel(metric_label(metric, res.time_unit))
    if by:
        ax.legend()
    title = _held_title(res, shown, fixed)
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
    if rows.duplicated([x, y]).any():
        varying = [f for f in res.factors if f not in (x, y) and f not in fixed]
        raise ValueError(f"{res.path}: a heatmap of {x} and {y} has several points per cell "
                         f"while {', '.join(varying)} vary; draw them against a factor "
                         f"(plot_metric_vs_factor)")
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
    ax.set_xlabel(factor_label(res, x))
    ax.set_ylabel(factor_label(res, y))
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label=metric_label(metric, res.time_unit))
    _title(ax, _held_title(res, [x, y], fixed) or "mean over replications")
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


def _held_title(res: ResultsFolder, shown: Sequence[str], fixed: dict[str, Any]) -> str:
    """The factors held (at their levels) and those left varying among the points drawn."""
    varying = [f for f in res.factors if f not in shown and f not in fixed
               and len(res.levels(f)) > 1]
    parts = [_fixed_title(fixed)] if fixed else []
    if varying:
        parts.append("varying: " + ", ".join(varying))
    return "; ".join(parts)


def _point_labels(res: ResultsFolder, rows: pd.DataFrame) -> list[str]:
    shown = [f for f in res.factors if len(res.levels(f)) > 1] or res.factors
    short = {f: f.rsplit(".", 1)[-1] for f in shown}
    if len(set(short.values())) < len(short):
        short = {f: f for f in shown}
    return [", ".join(f"{short[f]}={_short_value(row[f])}" for f in shown)
            for _, row in rows.iterrows()]


def _short_value(value: Any) -> str:
    """A factor value for a label: sampled floats to 4 significant digits, not 17."""
    if isinstance(value, (float, np.floating)) and not float(value).is_integer():
        return f"{value:.4g}"
    return str(value)


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
    The records hold when a visit first started service, not when a customer handed back
    (``drop_everything``, preemption, a shift end or breakdown) rejoined the queue and left it
    again, so those returns are not in the curve; the title says how many there were.
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
    n_returns = int(rows["n_preemptions"].sum()) if "n_preemptions" in rows else 0
    missing = (f"; not drawn: {n_returns} return(s) to the queue after a hand-back (times not "
               f"recorded)") if n_returns else ""
    _title(ax, _source_title(res, pid, replication) + missing)
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
    a heatmap of the first over two discrete factors (unless a sampled or many-valued factor
    varies, which would put several points in a cell), paired differences when there is a
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
        # a factor drawn as continuous is never held: its points would share heatmap cells
        scattered = any(is_continuous(res, f) and len(res.levels(f)) > 1 for f in res.factors)
        if len(discrete) >= 2 and metrics and not scattered:
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
