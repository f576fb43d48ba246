"""Sweep benchmark: executor overhead per point and per replication, a counter_360 scale run on
1 and 2 local worker processes and a 2-worker Dask LocalCluster, and coordinator memory.

Not a test.  Run from the repository root::

    python experiments/benchmarks/sweeps.py            # 200 points x 30 reps x 10,000 customers
    python experiments/benchmarks/sweeps.py --quick    # 8 points: a few minutes

Writes ``results/benchmarks/sweeps.json`` (``--out`` to change).  Times are wall-clock seconds
on whatever machine runs it; the JSON records its CPU count and load so runs can be compared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

from queue_sim.config.sweep import expand, sweep_from_dict
from queue_sim.executors import DaskExecutor, Executor, ProcessExecutor, SerialExecutor
from queue_sim.runner import git_revision, package_versions
from queue_sim.sweep import run_sweep, run_task

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "configs" / "counter_360.yaml"


def rss_mb() -> float:
    """Resident memory of this process (the coordinator), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class MemorySampler:
    """Samples this process's RSS every ``every`` seconds in a thread."""

    def __init__(self, every: float = 0.1):
        self.every, self.samples = every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.perf_counter()
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - start, rss_mb()))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> dict[str, float]:
        t, m = np.array(self.samples).T
        half = len(m) // 2
        return {"rss_start_mib": round(float(m[0]), 1), "rss_peak_mib": round(float(m.max()), 1),
                "rss_end_mib": round(float(m[-1]), 1),
                "rss_first_half_max_mib": round(float(m[:half].max()), 1),
                "rss_second_half_max_mib": round(float(m[half:].max()), 1),
                "rss_slope_mib_per_min": round(float(np.polyfit(t, m, 1)[0] * 60), 2)
                if len(m) > 2 else 0.0,
                "rss_at_quarters_mib": [round(float(m[min(len(m) - 1, int(q * len(m)))]), 1)
                                        for q in (0.25, 0.5, 0.75, 1.0)]}


ENGINE = "numba"  # set by --engine


def make_sweep(folder: Path, n_points: int, replications: int, customers: int) -> object:
    """A sweep of ``n_points`` (LHS over complaint probability and service mean) of counter_360."""
    shutil.copy(BASE, folder / "counter_360.yaml")
    data = {"base": "counter_360.yaml",
            "overrides": {"run.horizon": None, "run.customers": customers},
            "run": {"replications": replications, "seed": 2026, "engine": ENGINE}}
    if n_points > 1:
        data["sample"] = {"method": "lhs", "n": n_points, "seed": 1, "ranges": {
            "classes.walkin.complaints.probability": [0.0, 0.2],
            "classes.walkin.service.till.mean": [1.0, 1.3]}}
    path = folder / f"sweep_{n_points}x{replications}x{customers}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return sweep_from_dict(data, path=path, text=path.read_text())


def make_executor(kind: str) -> Executor:
    """Start an executor and warm every worker, so start-up is timed apart."""
    if kind == "serial":
        return SerialExecutor()
    if kind.startswith("processes"):
        return ProcessExecutor(int(kind.split("-")[1]))
    return DaskExecutor(n_local=int(kind.split("-")[1]), dashboard_address=":0")


def warm(executor: Executor, sweep: object) -> None:
    point = expand(sweep)[0]
    handles = [executor.submit(run_task, point.scenario, 0, [r], ENGINE, [])
               for r in range(2 * executor.workers)]
    pending = set(handles)
    while pending:
        _, pending = executor.wait(pending)
    for h in handles:
        h.result()


def timed_sweep(sweep: object, executor: Executor, out: Path) -> tuple[float, dict]:
    with MemorySampler() as memory:
        started = time.perf_counter()
        result = run_sweep(sweep, out, executor=executor, progress=False,
                           progress_interval=60.0)
        wall = time.perf_counter() - started
    assert result.status == "complete", result.failures
    shutil.rmtree(out)
    return wall, memory.report()


def bare_replication_time(sweep: object, n: int, repeats: int = 3) -> float:
    """Seconds per replication of run_task in this process, no executor and no files (the
    best of ``repeats`` rounds of ``n``, so that a busy moment does not inflate it)."""
    point = expand(sweep)[0]
    run_task(point.scenario, 2026, [0], ENGINE, [])   # imports, caches
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        run_task(point.scenario, 2026, list(range(n)), ENGINE, [])
        best = min(best, (time.perf_counter() - started) / n)
    return best


def overhead(executors: list[str], work: Path, n: int) -> dict:
    """Per-replication and per-point overhead: tiny (20-customer) replications, so what is
    measured is the executor, the bookkeeping and the files, not the simulation."""
    many_reps = make_sweep(work, 1, n, 20)
    many_points = make_sweep(work, n, 1, 20)
    bare = bare_replication_time(many_reps, n)
    out = {"customers_per_replication": 20, "n": n,
           "bare_replication_s": round(bare, 6), "executors": {}}
    for kind in executors:
        started = time.perf_counter()
        executor = make_executor(kind)
        warm(executor, many_reps)
        startup = time.perf_counter() - started
        with executor:
            reps_wall, _ = timed_sweep(many_reps, executor, work / "o1")
            points_wall, _ = timed_sweep(many_points, executor, work / "o2")
        workers = executor.workers
        ideal = n * bare / workers
        out["executors"][kind] = {
            "workers": workers, "startup_s": round(startup, 3),
            "one_point_n_reps_wall_s": round(reps_wall, 4),
            "n_points_one_rep_wall_s": round(points_wall, 4),
            # wall time beyond the simulation itself, shared out over the replications/points
            "overhead_per_replication_ms": round((reps_wall - ideal) / n * 1e3, 3),
            "overhead_per_point_ms": round((points_wall - reps_wall) / n * 1e3, 3),
        }
        print(f"overhead {kind}: {out['executors'][kind]}", flush=True)
    return out


def scale(executors: list[str], work: Path, n_points: int, replications: int,
          customers: int) -> dict:
    sweep = make_sweep(work, n_points, replications, customers)
    bare = bare_replication_time(sweep, 5)
    total = n_points * replications
    out = {"points": n_points, "replications": replications, "customers": customers,
           "replications_total": total, "bare_replication_s": round(bare, 4),
           "serial_estimate_s": round(bare * total, 1), "executors": {}}
    for kind in executors:
        started = time.perf_counter()
        executor = make_executor(kind)
        warm(executor, sweep)
        startup = time.perf_counter() - started
        with executor:
            wall, memory = timed_sweep(sweep, executor, work / "scale")
        out["executors"][kind] = {"workers": executor.workers, "startup_s": round(startup, 3),
                                  "wall_s": round(wall, 2),
                                  "replications_per_s": round(total / wall, 3),
                                  "customers_per_s": round(total * customers / wall),
                                  "speedup_vs_bare_serial": round(bare * total / wall, 3),
                                  "coordinator_memory": memory}
        print(f"scale {kind}: {out['executors'][kind]}", flush=True)
    reference = out["executors"].get(executors[0], {}).get("wall_s")
    for entry in out["executors"].values():
        if reference:
            entry[f"speedup_vs_{executors[0]}"] = round(reference / entry["wall_s"], 3)
    return out


def memory_flat(work: Path, n_points: int) -> dict:
    """Coordinator RSS over a long sweep of tiny points on 2 processes: should not grow."""
    sweep = make_sweep(work, n_points, 2, 20)
    with ProcessExecutor(2) as executor:
        warm(executor, sweep)
        wall, memory = timed_sweep(sweep, executor, work / "memory")
    return {"points": n_points, "replications": 2, "customers": 20, "wall_s": round(wall, 2),
            **memory}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 points instead of 200")
    parser.add_argument("--points", type=int, default=None)
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--engine", choices=["numba", "simpy"], default="numba",
                        help="engine of every point (default numba, the sweep engine)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" /
                        "sweeps.json")
    args = parser.parse_args(argv)
    n_points = args.points or (8 if args.quick else 200)
    global ENGINE
    ENGINE = args.engine
    executors = ["processes-1", "processes-2", "dask-2"]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report = {
            "benchmark": "sweeps", "mode": "quick" if args.quick else "full",
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                        "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
            "engine": args.engine,
            "versions": package_versions(), "git_revision": git_revision(),
            "overhead": overhead(["serial", *executors], work, 100 if args.quick else 400),
            "scale": scale(executors, work, n_points, args.replications, args.customers),
            "memory": memory_flat(work, 300 if args.quick else 2000),
        }
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    busy = max(report["machine"]["load_average_at_start"][0],
               report["machine"]["load_average_at_end"][0])
    if busy > 0.5 * (os.cpu_count() or 1):
        report["note"] = (f"load average reached {busy} on {os.cpu_count()} CPUs: other work "
                          f"shared the machine, so the timings (and any speedup) are contended")
    report["total_wall_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
