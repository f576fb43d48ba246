"""A sweep's results folder: its layout, writing each finished point atomically, the manifest,
the combined summary and paired differences, and reading the replication rows back.

A sweep folder holds::

    manifest.json            sweep text and hash, resolved base scenario, seeds, versions,
                             git revision, executor, status and failures (error text)
    sweep.yaml               the sweep file as given
    scenario.resolved.yaml   the base scenario with the sweep's overrides, defaults filled in
    points.csv               point_id and factor values of every point
    replications/<id>.parquet  one file per finished point: factor columns, point_id,
                             replication, then scope:name:metric columns
    points/<id>/summary.csv  the point's tidy summary (scope, name, metric, mean, ci_low,
                             ci_high, std, reps); point.json; error.json if it failed;
                             customers.parquet if run.keep_customers names replications
    summary.csv              factor columns, point_id, then the tidy columns, every point
    differences.csv          with a baseline: each point minus its baseline point, paired over
                             common replications, with 95% t-intervals

Each point's files are written atomically when the point finishes, its parquet file last, so
that file marks a finished point (``is_finished``).  A folder holding another sweep (another
``sweep_hash``) is refused.  Imports config, stats and results; never the engines, the
executors, the CLI or plots.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from queue_sim import stats
from queue_sim.config.sweep import Point, Sweep, point_id
from queue_sim.errors import ConfigError, Problem
from queue_sim.results import atomic_write

if TYPE_CHECKING:
    from queue_sim.executors import Executor

MANIFEST = "manifest.json"
Engine = str | Callable[..., Any]


def factor_kinds(points: list[Point]) -> dict[str, str]:
    """Column type of each factor: ``bool``, ``int``, ``float`` or ``str`` (JSON for lists)."""
    kinds: dict[str, str] = {}
    for key in (points[0].factors if points else {}):
        values = [p.factors[key] for p in points]
        if all(isinstance(v, bool) for v in values):
            kinds[key] = "bool"
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            kinds[key] = "int"
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            kinds[key] = "float"
        else:
            kinds[key] = "str"
    return kinds


def factor_value(value: Any, kind: str) -> Any:
    """A factor value as stored in a table column of the given kind."""
    if kind == "float":
        return float(value)
    if kind == "str":
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return value


def _factor_frame(point: Point, columns: dict[str, str], n: int) -> pd.DataFrame:
    dtypes = {"bool": "bool", "int": "int64", "float": "float64", "str": "object"}
    return pd.DataFrame({key: pd.Series([factor_value(point.factors[key], kind)] * n,
                                        dtype=dtypes[kind]) for key, kind in columns.items()})


def write_point(folder: Path, point: Point, rows: dict[int, dict[str, float]],
                columns: dict[str, str], customers: list[pd.DataFrame] | None = None,
                info: dict[str, Any] | None = None) -> None:
    """Write one finished point: summary, point.json, customers, then its parquet file last."""
    order = sorted(rows)
    metric_names = list(rows[order[0]])
    metrics = pd.DataFrame([[rows[r].get(m, np.nan) for m in metric_names] for r in order],
                           columns=metric_names, dtype="float64")
    frame = pd.concat([_factor_frame(point, columns, len(order)),
                       pd.DataFrame({"point_id": [point.point_id] * len(order),
                                     "replication": np.array(order, dtype="int64")}),
                       metrics], axis=1)
    summary = tidy_summary(metrics)
    where = folder / "points" / point.point_id
    where.mkdir(parents=True, exist_ok=True)
    (where / "error.json").unlink(missing_ok=True)
    atomic_write(where / "summary.csv", lambda p: summary.to_csv(p, index=False))
    atomic_write(where / "point.json", lambda p: p.write_text(
        json.dumps({**(info or {}), "point_id": point.point_id, "index": point.index,
                    "factors": point.factors, "n_replications": len(order)},
                   indent=2, default=str) + "\n"))
    if customers:
        table = pd.concat(customers, ignore_index=True).sort_values("replication", kind="stable")
        atomic_write(where / "customers.parquet", lambda p: table.to_parquet(p, index=False))
    atomic_write(folder / "replications" / f"{point.point_id}.parquet",
                 lambda p: frame.to_parquet(p, index=False))


def tidy_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """``stats.across_replications`` of wide ``scope:name:metric`` columns, handed over in long
    form built directly (pandas' melt costs more than the statistics for one point)."""
    keys = [stats.parse_metric_column(c) for c in metrics.columns]
    n = len(metrics)
    long = pd.DataFrame({
        "scope": np.repeat([k[0] for k in keys], n), "name": np.repeat([k[1] for k in keys], n),
        "metric": np.repeat([k[2] for k in keys], n),
        "value": metrics.to_numpy(dtype=float).ravel(order="F")})
    return stats.across_replications(long)


def is_finished(folder: Path, pid: str) -> bool:
    """Whether point ``pid`` finished: its parquet file, written last, exists."""
    return (folder / "replications" / f"{pid}.parquet").exists()


def record_failure(folder: Path, point: Point, exc: BaseException) -> dict[str, Any]:
    """Write the point's ``error.json`` (error text and traceback) and return it."""
    failure = {"point_id": point.point_id, "factors": point.factors,
               "error": f"{type(exc).__name__}: {exc}",
               "traceback": "".join(traceback.format_exception(exc)),
               "at": utc_now()}
    atomic_write(folder / "points" / point.point_id / "error.json",
                 lambda p: p.write_text(json.dumps(failure, indent=2, default=str) + "\n"))
    return failure


def prepare_folder(folder: Path, sweep: Sweep, digest: str, *, resume: bool
                   ) -> dict[str, Any] | None:
    """Check ``folder`` may receive this sweep; return its previous manifest if any.

    Raises
    ------
    ConfigError
        When it holds another sweep or something that is not a sweep folder, or when
        ``resume`` finds nothing to resume.  Nothing is written in that case.
    """
    manifest_path = folder / MANIFEST
    if manifest_path.exists():
        try:
            previous = json.loads(manifest_path.read_text())
        except (OSError, json.JSONDecodeError):
            previous = {}
        if previous.get("kind") != "sweep" or previous.get("sweep_hash") != digest:
            raise ConfigError(Problem("--out", f"holds the results of a different sweep "
                                      f"(hash {previous.get('sweep_hash')}, this sweep {digest}); "
                                      f"choose another folder or delete it", str(folder),
                                      path=str(sweep.path)))
        return previous
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(Problem("--out", "is a non-empty folder without a sweep manifest; "
                                  "choose another folder", str(folder), path=str(sweep.path)))
    if resume:
        raise ConfigError(Problem("--out", "has no sweep to resume", str(folder),
                                  path=str(sweep.path)))
    return None


def engine_name(engine: Engine) -> str:
    """An engine's name, or a callable engine's qualified name, for the manifest."""
    return engine if isinstance(engine, str) else getattr(engine, "__qualname__", repr(engine))


def utc_now() -> str:
    """Now, in UTC, to the second (ISO 8601)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build_manifest(sweep: Sweep, digest: str, points: list[Point], run: dict[str, Any],
                   engine: Engine, executor: Executor, previous: dict[str, Any] | None
                   ) -> dict[str, Any]:
    """The manifest of a run starting now; ``previous`` (the folder's) keeps its history."""
    from queue_sim.runner import git_revision, package_versions

    base = sweep.base_scenario()
    kinds = factor_kinds(points)
    runs = list((previous or {}).get("runs", []))
    runs.append({"started_at": utc_now(), "executor": executor.describe()})
    return {
        "kind": "sweep",
        "name": sweep.sweep_name,
        "sweep_file": str(sweep.path),
        "sweep_text": sweep.text,
        "sweep_hash": digest,
        "sweep": sweep.model_dump(mode="json"),
        "base_file": str(sweep.base_path),
        "scenario": base.model_dump(mode="json"),
        "time_unit": base.time_unit,
        "factors": {k: {"kind": kinds[k], "part": sweep.factor_parts[k],
                        "levels": list(dict.fromkeys(factor_value(p.factors[k], kinds[k])
                                                     for p in points))} for k in kinds},
        "baseline": sweep.baseline,
        "n_points": len(points),
        "seed": run["seed"],
        "seeds": {"root": run["seed"], "replications": run["replications"],
                  "spawn": "rng.draw(scenario, seed, replication): per-customer streams keyed "
                           "(seed, replication, stream, class, block, visit), the same for "
                           "every point (common random numbers)"},
        "precision": sweep.run.precision.model_dump(mode="json") if sweep.run.precision
        else None,
        "engine": engine_name(engine),
        "versions": package_versions(),
        "git_revision": git_revision(),
        "created_at": (previous or {}).get("created_at", utc_now()),
        "runs": runs,
        "replications_format": "replications/<point_id>.parquet: factor columns, point_id, "
                               "replication, then scope:name:metric columns",
    }


def write_manifest(folder: Path, manifest: dict[str, Any], **update: Any) -> None:
    """Update ``manifest`` in place and write it atomically."""
    manifest.update(update, updated_at=utc_now())
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / MANIFEST,
                 lambda p: p.write_text(json.dumps(manifest, indent=2, default=str) + "\n"))


def write_front_matter(folder: Path, sweep: Sweep, points: list[Point],
                       columns: dict[str, str], manifest: dict[str, Any]) -> None:
    """What a run writes before any point: sweep.yaml, scenario.resolved.yaml, points.csv."""
    atomic_write(folder / "sweep.yaml", lambda p: p.write_text(sweep.text))
    atomic_write(folder / "scenario.resolved.yaml", lambda p: p.write_text(
        yaml.safe_dump(manifest["scenario"], sort_keys=False, allow_unicode=True)))
    write_points_table(folder, points, columns)


def write_points_table(folder: Path, points: list[Point], columns: dict[str, str]
                       ) -> pd.DataFrame:
    """``points.csv``: factor values, point_id, index and whether each point finished."""
    table = pd.DataFrame([{**{k: factor_value(p.factors[k], columns[k]) for k in columns},
                           "point_id": p.point_id, "index": p.index,
                           "finished": is_finished(folder, p.point_id)} for p in points])
    atomic_write(folder / "points.csv", lambda p: table.to_csv(p, index=False))
    return table


def finish_folder(folder: Path, sweep: Sweep, points: list[Point], columns: dict[str, str],
                  manifest: dict[str, Any], *, status: str, error: str | None,
                  failures: list[dict[str, Any]], run_record: dict[str, Any]) -> None:
    """Write points.csv, the combined summary, differences and the final manifest.

    ``failures`` are this run's; failures of earlier runs whose points were not retried (e.g.
    after an interruption) are read back from their ``error.json``.  ``run_record`` is added
    to this run's entry of ``manifest["runs"]``.
    """
    table = write_points_table(folder, points, columns)
    write_summary(folder, points, columns)
    if sweep.baseline is not None:
        write_differences(folder, sweep, points, columns)
    failures = list(failures)
    failed_now = {f["point_id"] for f in failures}
    for p in points:
        error_file = folder / "points" / p.point_id / "error.json"
        if (p.point_id not in failed_now and error_file.exists()
                and not is_finished(folder, p.point_id)):
            failures.append(json.loads(error_file.read_text()))
    n_done = int(table["finished"].sum()) if len(table) else 0
    manifest["runs"][-1].update(finished_at=utc_now(), status=status, **run_record)
    write_manifest(folder, manifest, status=status, error=error, n_finished=n_done,
                   failures=[{k: f[k] for k in ("point_id", "factors", "error", "traceback")}
                             for f in failures])


def write_summary(folder: Path, points: list[Point], columns: dict[str, str]) -> Path:
    """``summary.csv``: every finished point's tidy summary with its factor columns in front,
    streamed point by point (memory does not grow with the number of points)."""
    def parts() -> Iterator[pd.DataFrame]:
        for p in points:
            path = folder / "points" / p.point_id / "summary.csv"
            if not is_finished(folder, p.point_id) or not path.exists():
                continue
            frame = stats.read_tidy_csv(path)
            front = _factor_frame(p, columns, len(frame))
            front["point_id"] = p.point_id
            yield pd.concat([front, frame], axis=1)

    header = [*columns, "point_id", *stats.SUMMARY_COLUMNS]
    atomic_write(folder / "summary.csv", lambda path: _stream_csv(path, parts(), header))
    return folder / "summary.csv"


def _stream_csv(path: Path, parts: Iterable[pd.DataFrame], header: list[str]) -> None:
    """Write tables one after another under one header line."""
    with open(path, "w", newline="") as file:
        pd.DataFrame(columns=header).to_csv(file, index=False)
        for part in parts:
            part[header].to_csv(file, index=False, header=False)


def read_point(folder: str | Path, pid: str) -> pd.DataFrame:
    """One point's replication rows."""
    return pd.read_parquet(Path(folder) / "replications" / f"{pid}.parquet")


def finished_points(folder: str | Path) -> list[str]:
    """Ids of the finished points, in point order (``points.csv``; else sorted)."""
    folder = Path(folder)
    # ids are hex digits: read as text, or '0123...' and '12e45...' would turn into numbers
    order = (pd.read_csv(folder / "points.csv", dtype={"point_id": str})["point_id"].tolist()
             if (folder / "points.csv").exists() else
             sorted(p.stem for p in (folder / "replications").glob("*.parquet")))
    return [pid for pid in order if is_finished(folder, pid)]


def read_replications(folder: str | Path) -> pd.DataFrame:
    """Every finished point's replication rows, in point order (small sweeps; plots, tests).

    A metric some points lack (a staff member or class they do not have) is NaN in their rows.
    """
    frames = [read_point(folder, pid) for pid in finished_points(folder)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def replications_dataset(folder: str | Path) -> Any:
    """Every finished point's replication rows as one lazy ``pyarrow.dataset.Dataset``.

    Its schema is the union of the points' files (reading only their footers), so a metric that
    only some points report is a column of the whole dataset, null elsewhere; reading the folder
    ``replications/`` directly would take the first file's columns and drop it.  For sweeps too
    large for ``read_replications``: filter and project before ``to_table()``.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    files = [str(Path(folder) / "replications" / f"{pid}.parquet")
             for pid in finished_points(folder)]
    schema = pa.unify_schemas([pq.read_schema(f).remove_metadata() for f in files]) if files \
        else pa.schema([])
    return ds.dataset(files, schema=schema, format="parquet")


def write_differences(folder: Path, sweep: Sweep, points: list[Point], columns: dict[str, str]
                      ) -> Path:
    """``differences.csv``: per point and metric, mean of (point - baseline) over common
    replications with its paired 95% t-interval; streamed, one point at a time in memory."""
    by_id = {p.point_id: p for p in points}

    def parts() -> Iterator[pd.DataFrame]:
        cache: dict[str, pd.DataFrame] = {}
        for p in points:
            base = by_id.get(point_id({**p.factors, **(sweep.baseline or {})}))
            if base is None or base is p or not (is_finished(folder, p.point_id)
                                                  and is_finished(folder, base.point_id)):
                continue
            if base.point_id not in cache:
                cache = {base.point_id: _metric_frame(read_point(folder, base.point_id))}
            b = cache[base.point_id]
            a = _metric_frame(read_point(folder, p.point_id))
            common = a.index.intersection(b.index)
            shared = [c for c in a.columns if c in b.columns]
            table = tidy_summary(a.loc[common, shared] - b.loc[common, shared])
            front = _factor_frame(p, columns, len(table))
            front["point_id"] = p.point_id
            front["baseline_point_id"] = base.point_id
            yield pd.concat([front, table], axis=1)

    header = [*columns, "point_id", "baseline_point_id", *stats.SUMMARY_COLUMNS]
    atomic_write(folder / "differences.csv", lambda path: _stream_csv(path, parts(), header))
    return folder / "differences.csv"


def _metric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    metric_cols = [c for c in frame.columns if stats.parse_metric_column(c) is not None]
    return frame.set_index("replication")[metric_cols]
