"""Memory benchmark: peak resident memory of streamed replications from 1e5 to 1e8 customers.

Not a test.  Run from the repository root::

    python experiments/benchmarks/memory.py            # M/M/1 to 1e8, counter_360 to 1e7
    python experiments/benchmarks/memory.py --quick    # both to 1e7

Each size runs in a fresh process (so its peak is its own): the process imports queue_sim,
warms the compiled kernel up on a tiny run, notes its resident memory (the *baseline*: Python,
numpy, numba, scipy, pandas and the compiled code), then runs one replication with
``runner.summarize_replication`` as ``queue-sim run`` does when no per-customer records are
kept (streamed: blocks of draws, the kernel fed block by block, statistics accumulated) and
reports the peak resident memory (``ru_maxrss``), the wall and CPU time, and a few metrics
(M/M/1 at rho 0.9 has mean wait 9 exactly).  Writes ``results/benchmarks/memory.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "results" / "benchmarks"
sys.path.insert(0, str(Path(__file__).resolve().parent))

LIMIT_MB = 1024

PROBE = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, {here!r})
    from engines import SCENARIOS
    from queue_sim.runner import summarize_replication
    make = SCENARIOS[{scenario!r}][0]
    summarize_replication(make(2000), 1, 0)  # load the compiled kernel
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    scenario = make({n})
    wall, cpu = time.perf_counter(), time.process_time()
    metrics, trace = summarize_replication(scenario, 1, 0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert trace is None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    keys = [("system", "all", m) for m in ("n_customers", "mean_wait", "wait_p90", "wait_p99")]
    print(json.dumps({{"customers": {n}, "baseline_mb": baseline, "peak_mb": peak,
                      "growth_mb": peak - baseline, "wall_s": wall, "cpu_s": cpu,
                      "metrics": {{k[2]: metrics[k] for k in keys}}}}))
""")


def measure(scenario: str, n: int) -> dict:
    code = PROBE.format(here=str(Path(__file__).resolve().parent), scenario=scenario, n=n)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=3600)
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["customers_per_s_cpu"] = n / row["cpu_s"]
    print(f"  {scenario} {n:>11,}: peak {row['peak_mb']:6.0f} MB (baseline "
          f"{row['baseline_mb']:.0f} MB, +{row['growth_mb']:.0f} MB), {row['wall_s']:.1f} s wall, "
          f"{row['customers_per_s_cpu'] / 1e6:.1f} M customers/s (CPU time)", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 1e7 customers")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for memory.json")
    args = parser.parse_args()
    from engines import machine
    from queue_sim.runner import git_revision, package_versions

    sizes = {"mm1_rho0.9": [100_000, 1_000_000, 10_000_000],
             "counter_360": [100_000, 1_000_000, 10_000_000]}
    if not args.quick:
        sizes["mm1_rho0.9"].append(100_000_000)
    started = time.perf_counter()
    result = {"mode": "quick" if args.quick else "default", "machine": machine(),
              "versions": package_versions(), "git_revision": git_revision(),
              "limit_mb": LIMIT_MB, "runs": {}}
    for scenario, ns in sizes.items():
        result["runs"][scenario] = [measure(scenario, n) for n in ns]
    rows = [r for runs in result["runs"].values() for r in runs]
    result["largest_run"] = max(rows, key=lambda r: r["customers"])
    result["goal_met_peak_under_1gb"] = all(r["peak_mb"] < LIMIT_MB for r in rows)
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    result["wall_s"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.json").write_text(json.dumps(result, indent=2) + "\n")
    big = result["largest_run"]
    print(f"largest: {big['customers']:,} customers, peak {big['peak_mb']:.0f} MB; all under "
          f"{LIMIT_MB} MB: {result['goal_met_peak_under_1gb']}; wrote {args.out / 'memory.json'}")


if __name__ == "__main__":
    main()
