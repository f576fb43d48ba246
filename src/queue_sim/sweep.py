"""Running a sweep: every (point, replication) through ``run_replication``, streamed to disk.

``run_sweep`` feeds tasks (some replications of one point) to an executor a bounded window at a
time, adds replications to a point in precision mode, and hands each finished point to
``sweep_folder.write_point`` at once, so memory does not grow with the number of points and a
killed sweep loses nothing finished.  The folder layout is ``sweep_folder``'s; progress
reporting is ``sweep_progress``'s.  Imports config, runner, stats, executors and those two;
never the CLI or plots.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from queue_sim import stats
from queue_sim.config.load import derive
from queue_sim.config.sweep import Point, Sweep, SweepCounterfactual, expand, sweep_hash
from queue_sim.engines import get_engine
from queue_sim.errors import ConfigError, Problem, QueueSimError
from queue_sim.executors import Executor, SerialExecutor, is_executor_failure
from queue_sim.sweep_folder import (
    Engine,
    build_manifest,
    engine_name,
    factor_kinds,
    finish_folder,
    is_finished,
    prepare_folder,
    read_point,
    read_replications,
    record_failure,
    replications_dataset,
    write_front_matter,
    write_manifest,
    write_point,
)
from queue_sim.sweep_progress import Progress

DEFAULT_ROOT = Path("results")
PROGRESS_INTERVAL_S = 10.0


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

    finished = {p.point_id for p in points if is_finished(folder, p.point_id)}
    todo = [p for p in points if p.point_id not in finished]
    result = SweepResult(folder=folder, n_points=len(points), n_skipped=len(finished))
    manifest = build_manifest(sweep, digest, points, run, engine, executor, previous)
    columns = factor_kinds(points)
    write_manifest(folder, manifest, status="running")
    write_front_matter(folder, sweep, points, columns, manifest)
    bar = Progress(len(points), len(finished), progress, progress_interval,
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
        finish_folder(folder, sweep, points, columns, manifest, status=result.status,
                      error=result.error, failures=result.failures,
                      run_record={"wall_time_s": round(result.wall_time_s, 3),
                                  "points_run": result.n_finished,
                                  "replications_run": result.n_replications})
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
           per_task: int, bar: Progress, result: SweepResult) -> None:
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
                    failure = record_failure(folder, state.point, exc)
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


def _point_info(sweep: Sweep, state: _PointState, run: dict[str, Any], engine: Engine
                ) -> dict[str, Any]:
    info: dict[str, Any] = {"seed": run["seed"], "engine": engine_name(engine),
                            "wall_time_s": round(time.perf_counter() - state.started, 6)}
    if sweep.run.precision is not None:
        info["precision"] = {"metric": sweep.run.precision.metric,
                             "half_width": state.half_width}
    return info


__all__ = [
    "DEFAULT_ROOT",
    "SweepFailed",
    "SweepResult",
    "auto_replications_per_task",
    "default_out",
    "half_width",
    "preflight",
    "read_point",
    "read_replications",
    "replications_dataset",
    "run_sweep",
    "run_task",
]
