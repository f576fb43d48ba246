"""Running a sweep: every (point, replication) through ``run_replication``, streamed to disk.

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
that file marks a finished point: a killed sweep loses nothing finished and a rerun (or
``--resume``) skips those points.  A folder holding another sweep (another ``sweep_hash``) is
refused.  Imports config, runner, stats and executors; never the CLI or plots.
"""

from __future__ import annotations

import json
import math
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from queue_sim import stats
from queue_sim.config.load import derive
from queue_sim.config.sweep import (
    Point, Sweep, SweepCounterfactual, expand, point_id, sweep_hash,
)
from queue_sim.engines import get_engine
from queue_sim.errors import ConfigError, Problem, QueueSimError
from queue_sim.results import atomic_write
from queue_sim.executors import Executor, SerialExecutor, is_executor_failure

DEFAULT_ROOT = Path("results")
PROGRESS_INTERVAL_S = 10.0
MANIFEST = "manifest.json"
Engine = str | Callable[..., Any]


class SweepFailed(QueueSimError):
    """A point failed and the sweep was run with ``fail_fast``."""


@dataclass
class SweepResult:
    """What a ``run_sweep`` call did."""

    folder: Path
    n_points: int
    n_skipped: int = 0
    n_finished: int = 0
    n_replications: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    wall_time_s: float = 0.0
    status: str = "running"
    error: str | None = None


# ---------------------------------------------------------------------------------------------
# The task every worker runs


def run_task(scenario: Any, seed: int, replications: list[int], engine: Engine,
             keep: list[int], counterfactual: SweepCounterfactual | None = None
             ) -> list[tuple[int, dict[str, float], pd.DataFrame | None]]:
    """Run some replications of one point: ``(replication, metrics, customers or None)`` each.

    Module-level and free of state, so processes and Dask workers can run it; the numbers
    depend only on the arguments.  With ``counterfactual``, each replication also runs the
    changed point on the same random numbers and adds the attribution metrics.
    """
    from queue_sim import counterfactual as cf
    from queue_sim.rng import draw
    from queue_sim.runner import customers_frame, summarize_replication

    other = derive(scenario, counterfactual.change) if counterfactual else None
    out = []
    for r in replications:
        # streamed (bounded memory) unless the customers are kept or the counterfactual
        # comparison needs the whole trace
        metrics, trace = summarize_replication(scenario, seed, r, engine,
                                               keep=r in keep or other is not None)
        if other is not None:
            simulate_one = get_engine(engine) if isinstance(engine, str) else engine
            paired = simulate_one(other, draw(other, seed, r))
            metrics.update(cf.compare(trace, paired, threshold=counterfactual.threshold)[0])
        row = {stats.metric_column(k): float(v) for k, v in metrics.items()}
        out.append((r, row, customers_frame(trace, r) if r in keep else None))
    return out


# ---------------------------------------------------------------------------------------------
# Running


def default_out(sweep: Sweep, root: str | Path = DEFAULT_ROOT) -> Path:
    """``results/<sweep name>/``."""
    return Path(root) / sweep.sweep_name


def run_sweep(sweep: Sweep, out: str | Path | None = None, *,
              executor: Executor | None = None, resume: bool = False,
              fail_fast: bool = False, progress: bool | None = None,
              engine: Engine | None = None, replications_per_task: int | None = None,
              progress_interval: float = PROGRESS_INTERVAL_S) -> SweepResult:
    """Run every point of a sweep and write its results folder.

    Parameters
    ----------
    sweep
        A validated sweep (``load_sweep``).
    out
        Results folder; default ``results/<sweep name>/``.  An existing folder must hold the
        same sweep (its finished points are skipped).
    executor
        Where tasks run; default ``SerialExecutor()``.  It is not closed here.
    resume
        Require ``out`` to hold a started run of this sweep.
    fail_fast
        Stop at the first failing point (raising ``SweepFailed``); otherwise failures are
        recorded and the other points go on.
    progress
        tqdm bar (True) or plain lines every ``progress_interval`` s (False); default: a bar
        when stderr is a terminal.
    engine
        Engine name or ``(scenario, draws) -> Trace`` callable; default ``run.engine`` of the
        sweep, else of the base scenario.
    replications_per_task
        Replications each task runs (fewer, larger tasks cost less overhead); default
        ``auto_replications_per_task``.  The numbers do not depend on it.

    Returns
    -------
    SweepResult

    Raises
    ------
    ConfigError
        Before anything is written: an invalid point, an unknown precision metric, a folder
        of another sweep.
    SweepFailed
        With ``fail_fast``, after recording the failure.
    """
    started = time.perf_counter()
    folder = Path(out) if out is not None else default_out(sweep)
    points, previous = preflight(sweep, folder, resume=resume, engine=engine)
    run = sweep.resolved_run()
    engine = engine or run["engine"]
    digest = sweep_hash(sweep)
    executor = executor or SerialExecutor()

    finished = {p.point_id for p in points if _is_finished(folder, p.point_id)}
    todo = [p for p in points if p.point_id not in finished]
    result = SweepResult(folder=folder, n_points=len(points), n_skipped=len(finished))
    manifest = _manifest(sweep, digest, points, run, engine, executor, previous)
    columns = factor_kinds(points)
    _write_manifest(folder, manifest, status="running")
    _write_front_matter(folder, sweep, points, columns, manifest)
    bar = _Progress(len(points), len(finished), progress, progress_interval,
                    reps_per_point=run["replications"])
    try:
        per_task = replications_per_task or auto_replications_per_task(
            len(todo), int(run["replications"]), executor.workers)
        _drive(sweep, todo, folder, columns, run, engine, executor, fail_fast,
               max(1, int(per_task)), bar, result)
        result.status = "failed" if result.failures else "complete"
    except KeyboardInterrupt:
        result.status = "interrupted"
        raise
    except SweepFailed:
        result.status = "failed"
        raise
    except BaseException as exc:
        result.status, result.error = "aborted", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        bar.close()
        result.wall_time_s = time.perf_counter() - started
        _finish(sweep, points, folder, columns, manifest, result)
    return result


def auto_replications_per_task(n_points: int, replications: int, workers: int) -> int:
    """Replications per task: at most half a point's first batch, and few enough that the
    sweep still makes about 8 tasks per worker.

    Larger tasks cut the per-task cost (pickling the scenario, a round trip to the worker),
    which matters for short replications and on Dask; enough tasks keep every worker busy.
    """
    total = n_points * replications
    return max(1, min(math.ceil(replications / 2), math.ceil(total / (8 * max(1, workers)))))


def preflight(sweep: Sweep, out: str | Path, *, resume: bool = False,
              engine: Engine | None = None) -> tuple[list[Point], dict[str, Any] | None]:
    """Every check that can refuse a sweep, writing nothing: the points, the engine, the
    precision metric and the results folder.  Returns the points and the folder's manifest.

    Raises
    ------
    ConfigError
        For an invalid point, precision metric or results folder.
    queue_sim.engines.EngineError
        When the engine cannot be loaded.
    """
    points = expand(sweep)
    engine = engine or sweep.resolved_run()["engine"]
    if isinstance(engine, str):
        from queue_sim.engines import get_engine

        get_engine(engine)  # fail now, not once per task, if the engine is missing
    _check_precision_metric(sweep, points)
    previous = prepare_folder(Path(out), sweep, sweep_hash(sweep), resume=resume)
    return points, previous


@dataclass
class _PointState:
    point: Point
    target: int                                  # replications wanted so far
    rows: dict[int, dict[str, float]] = field(default_factory=dict)
    customers: list[pd.DataFrame] = field(default_factory=list)
    outstanding: int = 0                          # tasks submitted and not yet back
    started: float = field(default_factory=time.perf_counter)
    failed: bool = False
    half_width: float = math.nan


def _drive(sweep: Sweep, todo: list[Point], folder: Path, columns: dict[str, str],
           run: dict[str, Any], engine: Engine, executor: Executor, fail_fast: bool,
           per_task: int, bar: _Progress, result: SweepResult) -> None:
    """Feed tasks to the executor, a bounded window at a time, and write points as they end."""
    seed, first = int(run["seed"]), int(run["replications"])
    keep = sorted(sweep.run.keep_customers)
    queue: deque[tuple[_PointState, list[int]]] = deque()
    for point in todo:
        state = _PointState(point, target=first)
        queue.extend((state, chunk) for chunk in _chunks(range(first), per_task))
    window = max(4, 3 * executor.workers)
    inflight: dict[Any, tuple[_PointState, list[int]]] = {}
    try:
        while queue or inflight:
            while queue and len(inflight) < window:
                state, reps = queue.popleft()
                if state.failed:
                    continue
                handle = executor.submit(run_task, state.point.scenario, seed, reps, engine,
                                         [r for r in reps if r in keep], sweep.counterfactual)
                state.outstanding += 1
                inflight[handle] = (state, reps)
            done, _ = executor.wait(set(inflight), timeout=bar.interval)
            for handle in done:
                state, reps = inflight.pop(handle)
                state.outstanding -= 1
                if state.failed:
                    continue
                try:
                    outputs = handle.result()
                except Exception as exc:  # noqa: BLE001 - a failing point is recorded
                    if is_executor_failure(exc):
                        raise
                    state.failed = True
                    cancel = [h for h, (s, _) in inflight.items() if s is state]
                    executor.cancel(cancel)
                    failure = _record_failure(folder, state.point, exc)
                    result.failures.append(failure)
                    bar.failed(state.point, failure["error"])
                    if fail_fast:
                        raise SweepFailed(f"point {state.point.point_id} "
                                          f"{json.dumps(state.point.factors)} failed: "
                                          f"{failure['error']}") from exc
                    continue
                for r, row, customers in outputs:
                    state.rows[r] = row
                    if customers is not None:
                        state.customers.append(customers)
                bar.replications(len(outputs))
                if state.outstanding == 0 and len(state.rows) >= state.target:
                    more = _more_replications(sweep, state)
                    if more:
                        state.target += len(more)
                        queue.extendleft(reversed([(state, c) for c in _chunks(more, per_task)]))
                    else:
                        write_point(folder, state.point, state.rows, columns, state.customers,
                                    info=_point_info(sweep, state, run, engine))
                        result.n_finished += 1
                        result.n_replications += len(state.rows)
                        bar.point_done()
                        state.rows, state.customers = {}, []
            bar.tick()
    except BaseException:
        executor.cancel(list(inflight))
        raise


def _chunks(values: Iterable[int], size: int) -> list[list[int]]:
    values = list(values)
    return [values[i:i + size] for i in range(0, len(values), size)]


def _more_replications(sweep: Sweep, state: _PointState) -> list[int]:
    """Precision mode: the next batch of replication indices, or [] when done."""
    precision = sweep.run.precision
    if precision is None:
        return []
    n = len(state.rows)
    values = np.array([state.rows[r].get(precision.metric, np.nan) for r in sorted(state.rows)])
    values = values[~np.isnan(values)]
    half, mean = half_width(values)
    state.half_width = half
    target = precision.absolute if precision.absolute is not None \
        else precision.relative * abs(mean)  # type: ignore[operator]
    if (not math.isnan(half) and half <= target) or n >= precision.max_replications:
        return []
    batch = precision.batch or sweep.resolved_run()["replications"]
    return list(range(n, min(n + batch, precision.max_replications)))


def half_width(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """(half-width of the t-interval, mean) of a sample; NaN half-width below 2 values."""
    from scipy import stats as sps

    n = len(values)
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return math.nan, mean
    t = sps.t.ppf(0.5 + confidence / 2, n - 1)
    return float(t * values.std(ddof=1) / math.sqrt(n)), mean


def _check_precision_metric(sweep: Sweep, points: list[Point]) -> None:
    """Is the precision metric one the engine reports?  Probed on a 20-customer run."""
    precision = sweep.run.precision
    if precision is None or not points:
        return
    from queue_sim.runner import run_replication

    scenario = points[0].scenario
    tiny = scenario.model_copy(update={"run": scenario.run.model_copy(
        update={"customers": 20, "horizon": None, "warmup": 0.0})})
    try:
        metrics, _ = run_replication(tiny, 0, 0, "simpy")
    except Exception:  # noqa: BLE001 - the probe is a convenience; the sweep reports failures
        return
    names = [stats.metric_column(k) for k in metrics]
    if precision.metric not in names:
        import difflib

        match = difflib.get_close_matches(precision.metric, names, n=1, cutoff=0.6)
        raise ConfigError(Problem("run.precision.metric", "must be a metric the simulation "
                                  "reports (scope:name:metric)", precision.metric,
                                  path=str(sweep.path), suggestion=match[0] if match else None))


# ---------------------------------------------------------------------------------------------
# Writing


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


def _is_finished(folder: Path, pid: str) -> bool:
    return (folder / "replications" / f"{pid}.parquet").exists()


def _point_info(sweep: Sweep, state: _PointState, run: dict[str, Any], engine: Engine
                ) -> dict[str, Any]:
    info: dict[str, Any] = {"seed": run["seed"], "engine": _engine_name(engine),
                            "wall_time_s": round(time.perf_counter() - state.started, 6)}
    if sweep.run.precision is not None:
        info["precision"] = {"metric": sweep.run.precision.metric,
                             "half_width": state.half_width}
    return info


def _record_failure(folder: Path, point: Point, exc: BaseException) -> dict[str, Any]:
    failure = {"point_id": point.point_id, "factors": point.factors,
               "error": f"{type(exc).__name__}: {exc}",
               "traceback": "".join(traceback.format_exception(exc)),
               "at": _now()}
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


def _engine_name(engine: Engine) -> str:
    return engine if isinstance(engine, str) else getattr(engine, "__qualname__", repr(engine))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _manifest(sweep: Sweep, digest: str, points: list[Point], run: dict[str, Any],
              engine: Engine, executor: Executor, previous: dict[str, Any] | None
              ) -> dict[str, Any]:
    from queue_sim.runner import git_revision, package_versions

    base = sweep.base_scenario()
    kinds = factor_kinds(points)
    runs = list((previous or {}).get("runs", []))
    runs.append({"started_at": _now(), "executor": executor.describe()})
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
        "engine": _engine_name(engine),
        "versions": package_versions(),
        "git_revision": git_revision(),
        "created_at": (previous or {}).get("created_at", _now()),
        "runs": runs,
        "replications_format": "replications/<point_id>.parquet: factor columns, point_id, "
                               "replication, then scope:name:metric columns",
    }


def _write_manifest(folder: Path, manifest: dict[str, Any], **update: Any) -> None:
    manifest.update(update, updated_at=_now())
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / MANIFEST,
                 lambda p: p.write_text(json.dumps(manifest, indent=2, default=str) + "\n"))


def _write_front_matter(folder: Path, sweep: Sweep, points: list[Point],
                        columns: dict[str, str], manifest: dict[str, Any]) -> None:
    atomic_write(folder / "sweep.yaml", lambda p: p.write_text(sweep.text))
    atomic_write(folder / "scenario.resolved.yaml", lambda p: p.write_text(
        yaml.safe_dump(manifest["scenario"], sort_keys=False, allow_unicode=True)))
    _write_points_table(folder, points, columns)


def _write_points_table(folder: Path, points: list[Point], columns: dict[str, str]
                        ) -> pd.DataFrame:
    table = pd.DataFrame([{**{k: factor_value(p.factors[k], columns[k]) for k in columns},
                           "point_id": p.point_id, "index": p.index,
                           "finished": _is_finished(folder, p.point_id)} for p in points])
    atomic_write(folder / "points.csv", lambda p: table.to_csv(p, index=False))
    return table


def _finish(sweep: Sweep, points: list[Point], folder: Path, columns: dict[str, str],
            manifest: dict[str, Any], result: SweepResult) -> None:
    """Write points.csv, the combined summary, differences and the final manifest."""
    table = _write_points_table(folder, points, columns)
    write_summary(folder, points, columns)
    if sweep.baseline is not None:
        write_differences(folder, sweep, points, columns)
    failures = [f for f in result.failures]
    failed_now = {f["point_id"] for f in failures}
    for p in points:  # failures of earlier runs that were not retried (e.g. interrupted)
        error = folder / "points" / p.point_id / "error.json"
        if p.point_id not in failed_now and error.exists() and not _is_finished(folder,
                                                                                 p.point_id):
            failures.append(json.loads(error.read_text()))
    n_done = int(table["finished"].sum()) if len(table) else 0
    manifest["runs"][-1].update(finished_at=_now(), status=result.status,
                                wall_time_s=round(result.wall_time_s, 3),
                                points_run=result.n_finished,
                                replications_run=result.n_replications)
    _write_manifest(folder, manifest, status=result.status, error=result.error,
                    n_finished=n_done,
                    failures=[{k: f[k] for k in ("point_id", "factors", "error", "traceback")}
                              for f in failures])


def write_summary(folder: Path, points: list[Point], columns: dict[str, str]) -> Path:
    """``summary.csv``: every finished point's tidy summary with its factor columns in front,
    streamed point by point (memory does not grow with the number of points)."""
    def parts() -> Iterator[pd.DataFrame]:
        for p in points:
            path = folder / "points" / p.point_id / "summary.csv"
            if not _is_finished(folder, p.point_id) or not path.exists():
                continue
            frame = _read_tidy(path)
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


def _read_tidy(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=["", "NaN", "nan"],
                       dtype={"scope": str, "name": str, "metric": str})


def read_point(folder: str | Path, pid: str) -> pd.DataFrame:
    """One point's replication rows."""
    return pd.read_parquet(Path(folder) / "replications" / f"{pid}.parquet")


def read_replications(folder: str | Path) -> pd.DataFrame:
    """Every finished point's replication rows, in point order (small sweeps; plots, tests)."""
    folder = Path(folder)
    order = (pd.read_csv(folder / "points.csv")["point_id"].astype(str).tolist()
             if (folder / "points.csv").exists() else
             sorted(p.stem for p in (folder / "replications").glob("*.parquet")))
    frames = [read_point(folder, pid) for pid in order if _is_finished(folder, pid)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_differences(folder: Path, sweep: Sweep, points: list[Point], columns: dict[str, str]
                      ) -> Path:
    """``differences.csv``: per point and metric, mean of (point - baseline) over common
    replications with its paired 95% t-interval; streamed, one point at a time in memory."""
    by_id = {p.point_id: p for p in points}

    def parts() -> Iterator[pd.DataFrame]:
        cache: dict[str, pd.DataFrame] = {}
        for p in points:
            base = by_id.get(point_id({**p.factors, **(sweep.baseline or {})}))
            if base is None or base is p or not (_is_finished(folder, p.point_id)
                                                  and _is_finished(folder, base.point_id)):
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


# ---------------------------------------------------------------------------------------------
# Progress


class _Progress:
    """A tqdm bar of points on a terminal; plain lines every ``interval`` seconds otherwise."""

    def __init__(self, total: int, skipped: int, enabled: bool | None, interval: float,
                 reps_per_point: int):
        self.total, self.done, self.reps, self.interval = total, skipped, 0, interval
        self.skipped, self.reps_per_point = skipped, reps_per_point
        self.started = self.last = time.perf_counter()
        self.use_bar = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if self.use_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=skipped, unit="point", desc="sweep",
                            file=sys.stderr, dynamic_ncols=True)
        elif skipped:
            self._line(f"{skipped} point(s) already finished; skipping them")

    def replications(self, n: int) -> None:
        self.reps += n
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self._rate():.1f} reps/s", refresh=False)

    def point_done(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)

    def failed(self, point: Point, error: str) -> None:
        message = f"point {point.point_id} {json.dumps(point.factors, default=str)} failed: " \
                  f"{error}"
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            self._line(message)

    def tick(self) -> None:
        now = time.perf_counter()
        if self.bar is None and now - self.last >= self.interval:
            self.last = now
            self._line(self.status())

    def status(self) -> str:
        elapsed = time.perf_counter() - self.started
        ran = self.done - self.skipped
        left = self.total - self.done
        eta = "?"
        if self.reps and left:
            rate = self._rate()
            eta = _clock(left * self.reps_per_point / rate) if rate > 0 else "?"
        elif ran and left:
            eta = _clock(elapsed / ran * left)
        return (f"{self.done}/{self.total} points, {self.reps} replications, "
                f"{self._rate():.1f} reps/s, elapsed {_clock(elapsed)}, ETA {eta}")

    def _rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.reps / elapsed if elapsed > 0 else 0.0

    def _line(self, text: str) -> None:
        print(f"[sweep] {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            self._line(self.status())


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
