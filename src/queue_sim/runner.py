"""Running replications: draw -> engine -> summarize, on threads, into one ``Results``.

Imports config, rng, engines, stats and trace; never results (writing) or the CLI.

Replications run side by side on a pool of threads: the Numba kernel releases the GIL, and so
does numpy's bulk random generation, so threads scale without copying scenarios into other
processes.  Each replication depends only on (scenario, seed, replication index) and rows are
collected in replication order, so the results are bit-identical whatever the number of threads.

``Results.replications`` is *wide*: one row per replication, a ``replication`` column, then
one float column per metric named ``scope:name:metric`` (see ``queue_sim.stats``).  Wide keeps
one replication per row, which is what sweeps append factor columns to and what parquet
stores compactly; ``stats.to_long`` gives the long form.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from queue_sim import rng, stats
from queue_sim.config.schema import Scenario
from queue_sim.engines import get_engine
from queue_sim.trace import Trace


@dataclass
class Results:
    """Everything one ``simulate`` call produced.

    Attributes
    ----------
    summary
        Tidy table ``scope, name, metric, mean, ci_low, ci_high, std, reps`` (95% t-interval).
    replications
        One row per replication: ``replication`` then ``scope:name:metric`` columns.
    customers
        Customers joined with their visits (one row per visit) for the kept replications,
        with a ``replication`` column; None if none were kept.
    manifest
        Resolved scenario, seed, replications, engine, versions, git revision, wall time.
    """

    summary: pd.DataFrame
    replications: pd.DataFrame
    customers: pd.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def scenario_name(self) -> str:
        return str(self.manifest.get("scenario", {}).get("name", "scenario"))

    def metric(self, scope: str, name: str, metric: str) -> pd.Series:
        """The summary row of one metric (mean, ci_low, ci_high, std, reps)."""
        s = self.summary
        row = s[(s["scope"] == scope) & (s["name"] == name) & (s["metric"] == metric)]
        if row.empty:
            raise KeyError(f"no metric {stats.metric_column((scope, name, metric))!r}")
        return row.iloc[0]


def fresh_seed() -> int:
    """A new root seed from OS entropy, small enough for YAML, JSON and int64 columns."""
    return int(np.random.SeedSequence().entropy % 2**63)


def resolve_seed(scenario: Scenario, seed: int | None) -> int:
    """The seed a run uses: ``scenario.run.seed``, else ``seed``, else fresh entropy.

    Raises
    ------
    ValueError
        When both are given and differ: silently ignoring one would make a run
        irreproducible from what the caller believes it asked for.
    """
    if scenario.run.seed is not None:
        if seed is not None and int(seed) != scenario.run.seed:
            raise ValueError(f"seed={seed} conflicts with run.seed={scenario.run.seed} in the "
                             f"scenario; override run.seed instead")
        return int(scenario.run.seed)
    return int(seed) if seed is not None else fresh_seed()


def run_replication(scenario: Scenario, seed: int, replication: int,
                    engine: str | Callable[[Scenario, rng.Draws], Trace] = "numba"
                    ) -> tuple[dict[stats.Key, float], Trace]:
    """Draw, simulate and summarize one replication.

    Parameters
    ----------
    scenario
        Validated scenario.
    seed
        Root seed; replication ``r`` uses ``rng.draw(scenario, seed, r)``.
    replication
        Replication index ``r >= 0``.
    engine
        Engine name (see ``engines.ENGINES``) or a ``(scenario, draws) -> Trace`` callable.

    Returns
    -------
    (dict, Trace)
        The metrics of ``stats.summarize`` and the trace they came from.
    """
    simulate_one = get_engine(engine) if isinstance(engine, str) else engine
    draws = rng.draw(scenario, seed, replication)
    trace = simulate_one(scenario, draws)
    from queue_sim import experience  # compiles a numba loop: keep `import queue_sim` light

    metrics = stats.summarize(trace)
    metrics.update(experience.metrics(trace, scenario.experience))
    return metrics, trace


def summarize_replication(scenario: Scenario, seed: int, replication: int,
                          engine: str | Callable[[Scenario, rng.Draws], Trace] = "numba",
                          keep: bool = False) -> tuple[dict[stats.Key, float], Trace | None]:
    """The metrics of one replication, and its trace if ``keep``.

    Without the trace, an engine that offers ``simulate.summarize_streamed`` (the numba
    kernel: ``kernels.stream``) runs the replication streamed: memory stays bounded however
    many customers, and the metrics are those of ``stats.summarize`` of the trace
    (bit-identical up to ``streaming.EXACT_CUSTOMERS`` customers, to the stated accuracy
    beyond).
    """
    simulate_one = get_engine(engine) if isinstance(engine, str) else engine
    streamed = getattr(simulate_one, "summarize_streamed", None)
    if streamed is not None and not keep:
        return streamed(scenario, seed, replication), None
    return run_replication(scenario, seed, replication, simulate_one)


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None, engine: str | Callable, n_replications: int) -> int:
    """How many threads run replications: ``threads``, else every core for the numba engine
    and one for the others (the SimPy model holds the GIL, so threads only add overhead);
    never more than there are replications.

    Raises
    ------
    ValueError
        If ``threads`` is given and is not a positive integer.
    """
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) \
                or threads < 1:
            raise ValueError(f"threads must be a positive integer (got {threads!r})")
        wanted = int(threads)
    else:
        wanted = available_cores() if engine == "numba" else 1
    return max(1, min(wanted, n_replications))


def _replication_row(scenario: Scenario, seed: int, replication: int,
                     engine: str | Callable[[Scenario, rng.Draws], Trace], keep: bool
                     ) -> tuple[dict[str, float], pd.DataFrame | None]:
    """One replication reduced to its table row (and its customer rows if kept), so a
    thread never holds on to a whole trace longer than it needs it."""
    metrics, trace = summarize_replication(scenario, seed, replication, engine, keep)
    row = {"replication": replication,
           **{stats.metric_column(k): v for k, v in metrics.items()}}
    return row, customers_frame(trace, replication) if keep else None


def _in_order(tasks: list[Callable[[], object]], n_threads: int) -> Iterator[object]:
    """Results of ``tasks`` in their order, computed on ``n_threads`` threads with at most
    ``2 * n_threads`` in flight (finished results wait for the ones before them)."""
    if n_threads == 1:
        for task in tasks:
            yield task()
        return
    with ThreadPoolExecutor(n_threads, thread_name_prefix="queue_sim") as pool:
        pending: list[Future] = []
        queue = iter(tasks)
        try:
            for task in queue:
                pending.append(pool.submit(task))
                if len(pending) >= 2 * n_threads:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            for future in pending:
                future.cancel()


def replication_indices(scenario: Scenario, replications: int | Sequence[int] | None
                        ) -> list[int]:
    """Replication indices to run: ``range(n)`` for a count, the given indices, or
    ``scenario.run.replications`` when None.

    Raises
    ------
    ValueError
        For a count below 1 or a negative index.
    """
    if replications is None:
        replications = scenario.run.replications
    indices = (list(range(int(replications))) if isinstance(replications, (int, np.integer))
               else [int(r) for r in replications])
    if not indices or min(indices) < 0:
        raise ValueError(f"replications must be >= 1 (or non-negative indices); got "
                         f"{replications!r}")
    return indices


def simulate(scenario: Scenario, *, replications: int | Sequence[int] | None = None,
             seed: int | None = None, engine: str | None = None,
             keep_customers: bool | Sequence[int] = False,
             progress: bool | None = None, threads: int | None = None) -> Results:
    """Run independent replications of a scenario and summarise them.

    Parameters
    ----------
    scenario
        Validated scenario (``load_scenario``).
    replications
        How many (indices ``0..n-1``), or an explicit list of replication indices (to rerun
        one alone); default ``scenario.run.replications``.
    seed
        Root seed when the scenario has none; default fresh entropy, recorded in the manifest.
    engine
        ``"numba"`` (the compiled kernel) or ``"simpy"`` (the reference model); default
        ``scenario.run.engine``, itself ``"numba"`` unless the scenario says otherwise.
    keep_customers
        True to keep per-customer rows of every replication, or the replication indices to
        keep; False keeps none (the fast default).
    progress
        Show a tqdm bar; default: when stderr is a terminal.
    threads
        Threads running replications side by side; default every core for the numba engine
        and 1 for simpy (see ``resolve_threads``).  The results do not depend on it.

    Returns
    -------
    Results

    Raises
    ------
    ValueError
        If ``seed`` conflicts with ``scenario.run.seed``, ``replications`` is empty or
        ``threads`` is not a positive integer.
    queue_sim.engines.EngineError
        If the engine is unknown or unavailable.
    """
    started = time.perf_counter()
    seed = resolve_seed(scenario, seed)
    engine_name = engine or scenario.run.engine
    simulate_one = get_engine(engine_name)
    indices = replication_indices(scenario, replications)
    keep = (set(indices) if keep_customers is True
            else set() if keep_customers is False else {int(r) for r in keep_customers})
    if progress is None:
        progress = sys.stderr.isatty()
    n_threads = resolve_threads(threads, engine_name, len(indices))

    rows, kept = [], []
    tasks = [lambda r=r: _replication_row(scenario, seed, r, simulate_one, r in keep)
             for r in indices]
    bar = _progress_bar(len(indices), scenario.name, progress)
    try:
        for row, customers in _in_order(tasks, n_threads):
            rows.append(row)
            if customers is not None:
                kept.append(customers)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    replication_frame = pd.DataFrame(rows)
    summary = stats.across_replications(replication_frame)
    customers = pd.concat(kept, ignore_index=True) if kept else None
    resolved = scenario.model_copy(update={"run": scenario.run.model_copy(update={
        "seed": seed, "replications": len(indices), "engine": engine_name})})
    manifest = build_manifest(resolved, seed=seed, replications=indices, engine=engine_name,
                              wall_time=time.perf_counter() - started)
    manifest["threads"] = n_threads
    return Results(summary=summary, replications=replication_frame, customers=customers,
                   manifest=manifest)


def customers_frame(trace: Trace, replication: int) -> pd.DataFrame:
    """Customers joined with their visits (one row per visit), tagged with the replication."""
    customers = trace.customers_frame()
    visits = trace.visits_frame()
    frame = customers.merge(visits, on="customer", how="left", sort=False)
    frame.insert(0, "replication", replication)
    return frame


def _progress_bar(total: int, label: str, enabled: bool):  # noqa: ANN202 - tqdm or None
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="rep", file=sys.stderr, leave=False)


# ---------------------------------------------------------------------------------------------
# Manifest


def build_manifest(scenario: Scenario, *, seed: int, replications: Sequence[int], engine: str,
                   wall_time: float) -> dict[str, Any]:
    """Everything needed to reproduce and audit a run, JSON-serialisable."""
    return {
        "scenario": scenario.model_dump(mode="json"),
        "seed": int(seed),
        "replications": [int(r) for r in replications],
        "n_replications": len(replications),
        "engine": engine,
        "versions": package_versions(),
        "git_revision": git_revision(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(float(wall_time), 6),
        "replications_format": "wide: replication, then scope:name:metric columns",
    }


def package_versions() -> dict[str, str | None]:
    """Versions of queue_sim, python and the packages that shape results."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in ("queue_sim", "numpy", "numba", "simpy", "pandas", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def git_revision() -> str | None:
    """The source tree's git commit (with ``+dirty`` if modified), or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None
