"""How far is the SimPy reference model from a minimal hand-written SimPy loop on M/M/1?

Runs both side by side in one process on the same number of customers and prints customers
per second and their ratio (medians of several repeats; judge the ratio, the machine is noisy).
Writes results/benchmarks/reference.json.

    python experiments/benchmarks/reference.py [--customers 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import simpy

from queue_sim.config import scenario_from_dict
from queue_sim.model import simulate
from queue_sim.rng import draw

OUT = Path(__file__).resolve().parents[2] / "results" / "benchmarks" / "reference.json"


def minimal_mm1(n: int, arrival_rate: float, service_rate: float, seed: int) -> float:
    """The smallest honest SimPy M/M/1: one process per customer and a Resource."""
    gen = np.random.default_rng(seed)
    gaps = gen.exponential(1 / arrival_rate, n)
    services = gen.exponential(1 / service_rate, n)
    env = simpy.Environment()
    server = simpy.Resource(env, 1)
    waits = np.empty(n)

    def customer(i: int):  # noqa: ANN202 - generator
        arrived = env.now
        with server.request() as req:
            yield req
            waits[i] = env.now - arrived
            yield env.timeout(services[i])

    def arrivals():  # noqa: ANN202 - generator
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(arrivals())
    env.run()
    return float(waits.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n = args.customers
    scenario = scenario_from_dict({
        "run": {"customers": n, "seed": 1},
        "stations": {"s": {"servers": 1}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.9},
                          "service": {"s": {"kind": "exponential", "mean": 1.0}}}}})
    draws = draw(scenario, 1, 0)
    reference, minimal = [], []
    for rep in range(args.repeats):  # interleaved, so both see the same machine load
        t = time.perf_counter()
        simulate(scenario, draws)
        reference.append(time.perf_counter() - t)
        t = time.perf_counter()
        minimal_mm1(n, 0.9, 1.0, rep)
        minimal.append(time.perf_counter() - t)
    ref_rate = n / statistics.median(reference)
    min_rate = n / statistics.median(minimal)
    result = {"scenario": "M/M/1 rho 0.9", "customers": n, "repeats": args.repeats,
              "reference_customers_per_s": ref_rate, "minimal_simpy_customers_per_s": min_rate,
              "reference_over_minimal": ref_rate / min_rate,
              "machine": platform.platform(), "python": platform.python_version(),
              "simpy": simpy.__version__}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"reference model  {ref_rate:12,.0f} customers/s")
    print(f"minimal SimPy    {min_rate:12,.0f} customers/s")
    print(f"ratio reference / minimal = {ref_rate / min_rate:.2f}  (draws made outside both)")


if __name__ == "__main__":
    main()
