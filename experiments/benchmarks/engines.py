"""Engine benchmark: the Numba kernel against the SimPy reference model, a minimal hand-written
SimPy loop, Ciw, and the random-number floor, side by side in one process.

Not a test.  Run from the repository root::

    python experiments/benchmarks/engines.py            # about 5 minutes on 2 cores
    python experiments/benchmarks/engines.py --quick    # about 1-2 minutes
    python experiments/benchmarks/engines.py --full     # adds 1e7 customers to the scaling

Scenarios: M/M/1 at rho 0.9, M/M/5 at rho 0.9 and ``configs/counter_360.yaml`` (run for a
number of customers instead of its horizon).  For every engine it reports customers per second
(the median of a few interleaved repeats, so all engines see the same machine load):

* ``numba_kernel``: the compiled ``_run`` alone, on prepared arrays, on the path the engine
  picks itself (what ``queue-sim run`` uses): the fast path of ``kernels._plain`` for a plain
  scenario (M/M/1, M/M/5), the general loop otherwise (``counter_360``);
* ``numba``: ``kernels.simulate(scenario, draws)`` (unpacking, episode draws, trace, kernel);
* ``numba_kernel_general``, ``numba_general``, ``numba_streamed_general`` (plain scenarios
  only): the same three with the fast path switched off (``fast_path=False``), so the fast path
  and the general loop are compared in the same run on the same customers;
* ``numba_with_draws``: ``rng.draw`` plus ``kernels.simulate``, one whole replication;
* ``numba_streamed``: a whole replication as ``queue-sim run`` makes it when no per-customer
  records are kept: ``kernels.summarize_streamed`` (draws in blocks, the kernel fed block by
  block, statistics accumulated; bounded memory);
* ``floor``: ``rng.draw`` alone, every uniform and variate the scenario needs, from the keyed
  streams the engines read (the random-number floor of the issue);
* ``numpy_floor`` (M/M/c only): two exponentials per customer from one numpy Generator, the
  least any simulator must spend on random numbers;
* ``simpy_reference``: ``model.simulate(scenario, draws)`` (draws made outside, like numba);
* ``simpy_replication``: ``rng.draw`` + ``model.simulate`` + ``stats.summarize``;
* ``simpy_minimal`` (M/M/c only): a Resource-based SimPy loop on pre-drawn numbers;
* ``ciw`` (M/M/c only, if installed): Ciw's ``simulate_until_max_customers`` (its own draws).

Every engine is timed by wall clock and by the CPU time of its thread (``time.thread_time``);
on a shared machine the CPU time is the steadier measure of one-thread speed, so ratios are
given both ways.  It also measures the kernel's first-call compile time with a cold cache and
its first call with a warm cache (each in a fresh subprocess with ``NUMBA_CACHE_DIR`` in a
temporary folder), the scaling of the kernel (1e5 to 1e6 customers, 1e7 with ``--full``) and
of the streamed engine (1e5 to 1e7; cost per customer should not grow), and replications on
threads (``runner.simulate(threads=1)`` against ``threads=2`` on 16 replications).  Writes
``results/benchmarks/engines.json`` (with the machine, its load, versions and git revision) and
``results/benchmarks/engines.png``.  Judge ratios, not absolute numbers: the machine is shared.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import simpy

from queue_sim import kernels, model, stats
from queue_sim.config import load_scenario, scenario_from_dict
from queue_sim.kernels import summarize_streamed
from queue_sim.rng import draw
from queue_sim.runner import git_revision, package_versions
from queue_sim.runner import simulate as run_replications

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "results" / "benchmarks"
kernel_module = importlib.import_module("queue_sim.kernels.simulate")

try:
    import ciw
except ImportError:  # optional: pip install ciw (the "bench" extra)
    ciw = None

GOALS = {"mm1_kernel_customers_per_s": 20e6, "mm1_numba_over_simpy": 300.0,
         "counter_360_kernel_customers_per_s": 3e6, "counter_360_numba_over_simpy": 100.0,
         "mmc_numba_over_ciw": 500.0, "kernel_over_floor_at_least": 1 / 3,
         "two_threads_over_one": 1.7, "per_customer_cost_1e7_over_1e5_within": 0.2}


# -- scenarios ------------------------------------------------------------------------------
def mmc(servers: int, rho: float, customers: int):
    """M/M/c with mean service 1 at load ``rho`` (arrival rate rho * c)."""
    return scenario_from_dict({
        "name": f"mm{servers}", "run": {"customers": customers, "seed": 1},
        "stations": {"counter": {"servers": servers}},
        "classes": {"customer": {"arrivals": {"kind": "poisson", "rate": rho * servers},
                                 "service": {"counter": {"kind": "exponential",
                                                         "mean": 1.0}}}}})


def counter_360(customers: int):
    """configs/counter_360.yaml, run for ``customers`` arrivals instead of its horizon."""
    return load_scenario(ROOT / "configs" / "counter_360.yaml",
                         {"run.horizon": None, "run.customers": customers})


SCENARIOS = {
    "mm1_rho0.9": (lambda n: mmc(1, 0.9, n), (1, 0.9)),
    "mm5_rho0.9": (lambda n: mmc(5, 0.9, n), (5, 0.9)),
    "counter_360": (counter_360, None),
}


# -- the engines ----------------------------------------------------------------------------
def simpy_minimal(n: int, servers: int, rho: float, seed: int) -> tuple[float, float]:
    """The smallest honest SimPy M/M/c: a process per customer and a Resource (numbers drawn
    before the clock starts, as for the engines).  Wall and CPU seconds."""
    gen = np.random.default_rng(seed)
    gaps, services = gen.exponential(1 / (rho * servers), n), gen.exponential(1.0, n)
    start, cpu = time.perf_counter(), time.thread_time()
    env = simpy.Environment()
    counter = simpy.Resource(env, servers)
    waits = np.empty(n)

    def customer(i: int):  # noqa: ANN202 - generator
        arrived = env.now
        with counter.request() as request:
            yield request
            waits[i] = env.now - arrived
            yield env.timeout(services[i])

    def arrivals():  # noqa: ANN202 - generator
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(arrivals())
    env.run()
    return time.perf_counter() - start, time.thread_time() - cpu


def ciw_mmc(n: int, servers: int, rho: float, seed: int) -> float:
    """Ciw's M/M/c until n customers have finished (Ciw seeds its global generators)."""
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rho * servers)],
        service_distributions=[ciw.dists.Exponential(rate=1.0)],
        number_of_servers=[servers])
    ciw.seed(seed)
    start = time.perf_counter()
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(n, method="Finish")
    simulation.get_all_records()
    return time.perf_counter() - start


def numpy_floor(n: int, servers: int, rho: float, seed: int) -> tuple[float, float]:
    """Two exponentials per customer from one numpy Generator (wall, CPU seconds)."""
    gen = np.random.default_rng(seed)
    start, cpu = time.perf_counter(), time.thread_time()
    gen.exponential(1 / (rho * servers), n)
    gen.exponential(1.0, n)
    return time.perf_counter() - start, time.thread_time() - cpu


def numba_kernel(scenario, draws, fast_path: bool = True) -> tuple[float, float]:  # noqa: ANN001
    """Seconds (wall, CPU) in the compiled ``_run`` alone (arguments prepared before)."""
    inputs = kernel_module.prepare(scenario, draws, fast_path=fast_path)
    n_episodes = inputs.n_episodes
    while True:
        _, args = kernel_module.kernel_arguments(scenario, draws, inputs, n_episodes)
        start, cpu = time.perf_counter(), time.thread_time()
        status, _ = kernel_module._run(*args)
        elapsed = time.perf_counter() - start, time.thread_time() - cpu
        if status == 0:
            return elapsed
        n_episodes *= 2


def timed(fn, *args) -> tuple[float, float]:  # noqa: ANN001
    """Wall and CPU seconds of ``fn(*args)``."""
    start, cpu = time.perf_counter(), time.thread_time()
    fn(*args)
    return time.perf_counter() - start, time.thread_time() - cpu


def numba_with_draws(scenario, seed: int) -> None:  # noqa: ANN001
    kernels.simulate(scenario, draw(scenario, seed, 0))


def numba_general(scenario, draws) -> None:  # noqa: ANN001
    kernels.simulate(scenario, draws, fast_path=False)


def numba_streamed_general(scenario, seed: int) -> None:  # noqa: ANN001
    summarize_streamed(scenario, seed, 0, fast_path=False)


def simpy_replication(scenario, seed: int) -> None:  # noqa: ANN001
    stats.summarize(model.simulate(scenario, draw(scenario, seed, 0)))


def measure(name: str, make, mmc_spec, sizes: dict[str, int], repeats: int,
            seed: int = 1) -> dict:  # noqa: ANN001
    """Interleaved repeats of every engine on one scenario; medians and customers/s."""
    runs: dict[str, list[tuple[float, float]]] = {}
    customers: dict[str, int] = {}
    big, simpy_n = make(sizes["numba"]), make(sizes["simpy"])
    big_draws, simpy_draws = draw(big, seed, 0), draw(simpy_n, seed, 0)
    kernels.simulate(big, big_draws)  # compile (or load) outside the clock
    summarize_streamed(simpy_n, seed, 0)
    plain = kernel_module.is_plain(big)  # the engine takes the fast path by itself

    def add(engine: str, n: int, seconds: tuple[float, float]) -> None:
        runs.setdefault(engine, []).append(seconds)
        customers[engine] = n

    n_big, n_small = big_draws.n_customers, simpy_draws.n_customers
    for rep in range(repeats):
        add("floor", n_big, timed(draw, big, seed, 0))
        add("numba_kernel", n_big, numba_kernel(big, big_draws))
        add("numba", n_big, timed(kernels.simulate, big, big_draws))
        add("numba_with_draws", n_big, timed(numba_with_draws, big, seed))
        add("numba_streamed", n_big, timed(summarize_streamed, big, seed, 0))
        if plain:  # the general loop on the same customers, side by side
            add("numba_kernel_general", n_big, numba_kernel(big, big_draws, fast_path=False))
            add("numba_general", n_big, timed(numba_general, big, big_draws))
            add("numba_streamed_general", n_big, timed(numba_streamed_general, big, seed))
        add("simpy_reference", n_small, timed(model.simulate, simpy_n, simpy_draws))
        add("simpy_replication", n_small, timed(simpy_replication, simpy_n, seed))
        if mmc_spec is not None:
            servers, rho = mmc_spec
            add("numpy_floor", n_big, numpy_floor(n_big, servers, rho, rep))
            add("simpy_minimal", sizes["simpy"],
                simpy_minimal(sizes["simpy"], servers, rho, rep))
            if ciw is not None:
                wall, cpu = timed(ciw_mmc, sizes["ciw"], servers, rho, rep)
                add("ciw", sizes["ciw"], (wall, cpu))
        print(f"  {name}: repeat {rep + 1}/{repeats} done", flush=True)
    engines = {}
    for engine, seconds in runs.items():
        wall = statistics.median(w for w, _ in seconds)
        cpu = statistics.median(c for _, c in seconds)
        engines[engine] = {"customers": customers[engine], "seconds_median": wall,
                           "cpu_seconds_median": cpu, "seconds": [w for w, _ in seconds],
                           "customers_per_s": customers[engine] / wall,
                           "customers_per_cpu_s": customers[engine] / cpu}
    return {"path": "fast" if plain else "general", "engines": engines,
            "ratios": ratios(engines, "customers_per_s"),
            "ratios_cpu": ratios(engines, "customers_per_cpu_s")}


def ratios(engines: dict, key: str) -> dict[str, float]:
    """Speed ratios from one kind of rate (wall or CPU customers per second)."""
    rate = {k: v[key] for k, v in engines.items()}
    # a whole replication with the reference: its draws plus its run, per customer
    ref_with_draws = 1 / (1 / rate["simpy_reference"] + 1 / rate["floor"])
    out = {"numba_over_simpy_reference": rate["numba"] / rate["simpy_reference"],
           "numba_kernel_over_simpy_reference": rate["numba_kernel"] / rate["simpy_reference"],
           "numba_kernel_over_floor": rate["numba_kernel"] / rate["floor"],
           "numba_over_floor": rate["numba"] / rate["floor"],
           "numba_with_draws_over_simpy_reference_with_draws":
               rate["numba_with_draws"] / ref_with_draws,
           "numba_streamed_over_simpy_replication":
               rate["numba_streamed"] / rate["simpy_replication"],
           "floor_over_simpy_reference": rate["floor"] / rate["simpy_reference"]}
    if "numpy_floor" in rate:
        out["numba_kernel_over_numpy_floor"] = rate["numba_kernel"] / rate["numpy_floor"]
        out["floor_over_numpy_floor"] = rate["floor"] / rate["numpy_floor"]
    if "simpy_minimal" in rate:
        out["numba_over_simpy_minimal"] = rate["numba"] / rate["simpy_minimal"]
        out["simpy_reference_over_simpy_minimal"] = (
            rate["simpy_reference"] / rate["simpy_minimal"])
    if "numba_kernel_general" in rate:
        out["fast_path_kernel_over_general_kernel"] = (
            rate["numba_kernel"] / rate["numba_kernel_general"])
        out["fast_path_over_general"] = rate["numba"] / rate["numba_general"]
        out["fast_path_streamed_over_general_streamed"] = (
            rate["numba_streamed"] / rate["numba_streamed_general"])
        out["numba_general_over_simpy_reference"] = (
            rate["numba_general"] / rate["simpy_reference"])
    if "ciw" in rate:
        out["numba_over_ciw"] = rate["numba"] / rate["ciw"]
        out["numba_kernel_over_ciw"] = rate["numba_kernel"] / rate["ciw"]
        out["numba_streamed_over_ciw"] = rate["numba_streamed"] / rate["ciw"]
    return out


def scaling(make, sizes: list[int], repeats: int, seed: int = 1) -> dict:  # noqa: ANN001
    """Kernel-only and whole-engine customers per CPU second at each size (medians)."""
    out = {}
    for n in sizes:
        scenario = make(n)
        draws = draw(scenario, seed, 0)
        kernel = statistics.median(numba_kernel(scenario, draws)[1] for _ in range(repeats))
        engine = statistics.median(timed(kernels.simulate, scenario, draws)[1]
                                   for _ in range(repeats))
        out[str(n)] = {"customers": draws.n_customers,
                       "numba_kernel_customers_per_cpu_s": draws.n_customers / kernel,
                       "numba_customers_per_cpu_s": draws.n_customers / engine}
        print(f"  scaling {n:,}: kernel {draws.n_customers / kernel / 1e6:.1f} M/s", flush=True)
    return out


def streamed_scaling(make, sizes: list[int], repeats: int, seed: int = 1) -> dict:  # noqa: ANN001
    """CPU seconds per customer of whole streamed replications at each size (medians)."""
    out = {}
    for n in sizes:
        scenario = make(n)
        # short runs are the most exposed to other load: more repeats for them
        times = max(1, repeats * 1_000_000 // n)
        cpu = statistics.median(timed(summarize_streamed, scenario, seed, 0)[1]
                                for _ in range(min(times, 15)))
        out[str(n)] = {"customers": n, "cpu_ns_per_customer": 1e9 * cpu / n,
                       "customers_per_cpu_s": n / cpu}
        print(f"  streamed {n:,}: {1e9 * cpu / n:.0f} ns per customer", flush=True)
    first, last = out[str(sizes[0])], out[str(sizes[-1])]
    out["last_over_first"] = last["cpu_ns_per_customer"] / first["cpu_ns_per_customer"]
    return out


def machine_parallelism(repeats: int) -> dict:
    """The control for ``threads``: a compiled loop that never holds the GIL, as much work
    on each of 2 threads as on 1.  Its throughput ratio is what two threads can gain on this
    machine at all (2.0 on two free cores; less when the cores are shared or throttled)."""
    from numba import njit

    @njit(nogil=True, cache=False)
    def spin(n):  # noqa: ANN001, ANN202
        total = 0.0
        for i in range(n):
            total += (i % 7) * 0.5
        return total

    spin(10)
    work = 200_000_000
    seconds: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for t in (1, 2):
            pool = [threading.Thread(target=spin, args=(work,)) for _ in range(t)]
            start = time.perf_counter()
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            seconds[t].append(time.perf_counter() - start)
    one, two = statistics.median(seconds[1]), statistics.median(seconds[2])
    print(f"  control (GIL-free loop): two threads do {2 * one / two:.2f}x the work of one",
          flush=True)
    return {"seconds": {str(k): v for k, v in seconds.items()},
            "two_over_one_throughput": 2 * one / two}


def threads(make, n: int, replications: int, repeats: int, seed: int = 1) -> dict:  # noqa: ANN001
    """Wall seconds of ``replications`` streamed replications on 1 and on 2 threads."""
    scenario = make(n)
    run_replications(scenario, replications=2, seed=seed, threads=2, progress=False)
    seconds: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    loads = []
    for _ in range(repeats):
        for t in (1, 2):
            loads.append(os.getloadavg()[0])
            start, used = time.perf_counter(), time.process_time()
            run_replications(scenario, replications=replications, seed=seed, threads=t,
                             progress=False)
            seconds[t].append(time.perf_counter() - start)
            cpu[t].append(time.process_time() - used)
    one, two = statistics.median(seconds[1]), statistics.median(seconds[2])
    # CPU seconds per wall second of the 2-thread run: how much of the work ran in parallel
    # (2.0 = both threads busy all the time; 1.0 = serialised by the GIL or by other load)
    busy = statistics.median(c / w for c, w in zip(cpu[2], seconds[2]))
    print(f"  threads: 1 -> {one:.2f} s, 2 -> {two:.2f} s, speed-up {one / two:.2f}x, "
          f"{busy:.2f} cores busy (load average {min(loads):.1f}-{max(loads):.1f})",
          flush=True)
    return {"customers_per_replication": n, "replications": replications,
            "seconds": {str(k): v for k, v in seconds.items()},
            "cpu_seconds": {str(k): v for k, v in cpu.items()},
            "seconds_median": {"1": one, "2": two}, "two_over_one": one / two,
            "two_threads_cores_busy": busy, "cpu_two_over_one": (
                statistics.median(cpu[2]) / statistics.median(cpu[1])),
            "load_average_during": [min(loads), max(loads)], "cores": os.cpu_count()}


# -- compile time ---------------------------------------------------------------------------
COMPILE_PROBE = textwrap.dedent("""
    import json, time
    t0 = time.perf_counter()
    from queue_sim import kernels
    from queue_sim.config import scenario_from_dict
    from queue_sim.rng import draw
    imported = time.perf_counter() - t0
    scenario = scenario_from_dict({"run": {"customers": 200, "seed": 1},
        "stations": {"s": {"servers": 1}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.9},
                          "service": {"s": {"kind": "exponential", "mean": 1.0}}}}})
    draws = draw(scenario, 1, 0)
    t = time.perf_counter(); kernels.simulate(scenario, draws); first = time.perf_counter() - t
    t = time.perf_counter(); kernels.simulate(scenario, draws); second = time.perf_counter() - t
    print(json.dumps({"import_s": imported, "first_call_s": first, "second_call_s": second}))
""")


def compile_times() -> dict:
    """First call with a cold cache, then (same cache folder) in a fresh process."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env, cwd=ROOT,
                                  capture_output=True, text=True, check=True, timeout=900)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    cold, warm = runs
    print(f"  compile: cold first call {cold['first_call_s']:.2f} s, cached first call "
          f"{warm['first_call_s']:.3f} s", flush=True)
    return {"cold_cache": cold, "warm_cache": warm,
            "cold_first_call_s": cold["first_call_s"],
            "cached_first_call_s": warm["first_call_s"],
            "warm_call_s": warm["second_call_s"]}


# -- output -----------------------------------------------------------------------------------
def machine() -> dict:
    info = {"platform": platform.platform(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "load_average_at_start": list(os.getloadavg())}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = ["numba_kernel", "numba_kernel_general", "numba", "numba_general",
             "numba_with_draws", "numba_streamed", "floor", "simpy_reference", "simpy_minimal",
             "ciw"]
    labels = {"numba_kernel": "numba kernel (as run)",
              "numba_kernel_general": "numba kernel, general loop",
              "numba": "numba engine (as run)", "numba_general": "numba engine, general loop",
              "numba_with_draws": "numba + draws", "numba_streamed": "numba, streamed run",
              "floor": "draws only (floor)", "simpy_reference": "SimPy reference",
              "simpy_minimal": "minimal SimPy", "ciw": "Ciw"}
    names = list(result["scenarios"])
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(order)
    for k, engine in enumerate(order):
        values = [result["scenarios"][s]["engines"].get(engine, {}).get(
            "customers_per_cpu_s", np.nan) for s in names]
        ax.bar(np.arange(len(names)) + (k - len(order) / 2 + 0.5) * width, values, width,
               label=labels[engine])
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel("customers per CPU second (log scale)")
    ax.set_title("queue_sim engines, median of interleaved repeats (one thread)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def goals_met(result: dict) -> dict[str, dict[str, bool]]:
    """Each goal of the issue, judged on wall-clock and on CPU-time rates."""
    mm1, c360 = result["scenarios"]["mm1_rho0.9"], result["scenarios"]["counter_360"]
    mm5 = result["scenarios"]["mm5_rho0.9"]
    out = {}
    for clock, rate, ratio in (("wall", "customers_per_s", "ratios"),
                               ("cpu", "customers_per_cpu_s", "ratios_cpu")):
        out[clock] = {
            "mm1_kernel_customers_per_s": mm1["engines"]["numba_kernel"][rate]
            >= GOALS["mm1_kernel_customers_per_s"],
            "mm1_numba_over_simpy": mm1[ratio]["numba_over_simpy_reference"]
            >= GOALS["mm1_numba_over_simpy"],
            "counter_360_kernel_customers_per_s": c360["engines"]["numba_kernel"][rate]
            >= GOALS["counter_360_kernel_customers_per_s"],
            "counter_360_numba_over_simpy": c360[ratio]["numba_over_simpy_reference"]
            >= GOALS["counter_360_numba_over_simpy"],
            "mmc_numba_over_ciw": mm5[ratio].get("numba_over_ciw", 0)
            >= GOALS["mmc_numba_over_ciw"],
            "kernel_over_floor_at_least": mm1[ratio]["numba_kernel_over_floor"]
            >= GOALS["kernel_over_floor_at_least"],  # the floor goal is on M/M/1
        }
    out["wall"]["two_threads_over_one"] = (result["threads"]["two_over_one"]
                                          >= GOALS["two_threads_over_one"])
    out["cpu"]["per_customer_cost_1e7_over_1e5_within"] = all(
        abs(s["last_over_first"] - 1) <= GOALS["per_customer_cost_1e7_over_1e5_within"]
        for s in result["streamed_scaling"].values())
    return out


def print_side_by_side(result: dict) -> None:
    """The fast path and the general loop in one table: customers per CPU second."""
    print("\nfast path vs general loop (customers per CPU second, same run, same customers)")
    print(f"  {'scenario':14s} {'path':8s} {'kernel':>10s} {'general':>10s} {'engine':>10s} "
          f"{'general':>10s} {'streamed':>10s} {'general':>10s}")
    for name, res in result["scenarios"].items():
        rate = {k: v["customers_per_cpu_s"] / 1e6 for k, v in res["engines"].items()}
        cells = [rate.get(k) for k in ("numba_kernel", "numba_kernel_general", "numba",
                                       "numba_general", "numba_streamed",
                                       "numba_streamed_general")]
        row = " ".join(f"{c:9.1f}M" if c is not None else f"{'(same)':>10s}" for c in cells)
        print(f"  {name:14s} {res['path']:8s} {row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller runs, about 2 minutes")
    mode.add_argument("--full", action="store_true", help="adds 1e7 customers to the scaling")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the JSON and PNG")
    args = parser.parse_args()
    if args.quick:
        sizes = {"numba": 1_000_000, "simpy": 20_000, "ciw": 10_000}
        repeats, scale_sizes, thread_n = 3, [100_000, 1_000_000], 200_000
    else:
        sizes = {"numba": 1_000_000, "simpy": 100_000, "ciw": 50_000}
        repeats, scale_sizes, thread_n = 5, [100_000, 1_000_000], 1_000_000
    if args.full:
        scale_sizes.append(10_000_000)
    stream_sizes = [100_000, 1_000_000, 10_000_000]
    started = time.perf_counter()
    result = {"mode": "quick" if args.quick else "full" if args.full else "default",
              "machine": machine(),
              "versions": {**package_versions(),
                           "ciw": getattr(ciw, "__version__", None) if ciw else None},
              "git_revision": git_revision(), "sizes": sizes, "repeats": repeats,
              "goals": GOALS}
    print("compile times (fresh processes)...", flush=True)
    result["compile"] = compile_times()
    result["scenarios"] = {}
    for name, (make, spec) in SCENARIOS.items():
        print(f"{name}...", flush=True)
        result["scenarios"][name] = measure(name, make, spec, sizes, repeats)
        result["scenarios"][name]["scaling"] = scaling(make, scale_sizes, max(2, repeats - 2))
    print("streamed replications (scaling)...", flush=True)
    result["streamed_scaling"] = {name: streamed_scaling(SCENARIOS[name][0], stream_sizes, 3)
                                  for name in ("mm1_rho0.9", "counter_360")}
    print("replications on threads...", flush=True)
    result["threads"] = threads(SCENARIOS["mm1_rho0.9"][0], thread_n, 16, repeats)
    result["threads"]["machine_control"] = machine_parallelism(repeats)
    result["goals_met"] = goals_met(result)
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    result["wall_s"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "engines.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out / "engines.png")
    print()
    for name, res in result["scenarios"].items():
        print(name)
        for engine, row in res["engines"].items():
            print(f"  {engine:18s} {row['customers_per_s']:14,.0f} customers/s "
                  f"{row['customers_per_cpu_s']:14,.0f} per CPU s "
                  f"({row['customers']:,} customers, median {row['seconds_median']:.3f} s)")
        for ratio, value in res["ratios"].items():
            print(f"  {ratio:50s} {value:10.2f} (CPU time: {res['ratios_cpu'][ratio]:.2f})")
    print_side_by_side(result)
    print("goals met (on the path queue-sim run takes):", result["goals_met"])
    print(f"wrote {args.out / 'engines.json'} and engines.png in {result['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
