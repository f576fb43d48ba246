"""Bounded memory (slow): a streamed replication of 1e7 customers grows the process by far
less than its trace would need (about 2.5 GB).  ``experiments/benchmarks/memory.py`` measures
1e8 customers and records it in ``results/benchmarks/memory.json``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import json, resource
    from queue_sim.config import scenario_from_dict
    from queue_sim.runner import summarize_replication

    def mm1(n):
        return scenario_from_dict({"run": {"customers": n, "seed": 1},
            "stations": {"counter": {"servers": 1}},
            "classes": {"c": {"arrivals": {"kind": "poisson", "rate": 0.9},
                              "service": {"counter": {"kind": "exponential", "mean": 1.0}}}}})

    summarize_replication(mm1(2000), 1, 0)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    metrics, trace = summarize_replication(mm1(10_000_000), 1, 0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"growth_mb": peak - baseline, "kept_trace": trace is not None,
                      "mean_wait": metrics[("system", "all", "mean_wait")]}))
""")


@pytest.mark.slow
def test_ten_million_customers_in_bounded_memory() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=600)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not out["kept_trace"]
    assert out["growth_mb"] < 256, out
    assert out["mean_wait"] == pytest.approx(9.0, rel=0.05)  # M/M/1, rho 0.9: W_q = 9
