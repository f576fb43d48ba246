"""Streamed runs (``kernels.stream``): block by block, in bounded memory, the statistics of the
whole-trace run: bit-identical while the columns are kept, within the stated accuracy beyond."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_sim import kernels, runner, streaming
from queue_sim.config import load_scenario, scenario_from_dict
from queue_sim.kernels import stream
from tests.crosscheck.test_reference_vs_kernel import (
    CONFIGS, EXTRAS, STAFFING, _counter, _shortened, scenarios,
)
from tests.kernels.test_edge_cases import PYTHON_MODE_SCENARIO

ROOT = Path(__file__).resolve().parents[2]


def whole_run(scenario, seed: int = 4) -> dict:  # noqa: ANN001
    """What the runner reports for a replication it keeps the trace of: ``stats.summarize``
    then ``experience.metrics`` of the whole kernel trace."""
    return runner.run_replication(scenario, seed, 0, kernels.simulate)[0]


def assert_identical(expected: dict, got: dict) -> None:
    assert list(got) == list(expected)
    np.testing.assert_array_equal(np.array(list(got.values())),
                                  np.array(list(expected.values())))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_configs_bit_identical(path: Path) -> None:
    scenario = _shortened(path)
    for block in (13, 400):
        assert_identical(whole_run(scenario), stream.summarize_streamed(scenario, 4, 0,
                                                                        block=block))


@pytest.mark.parametrize("name", list(EXTRAS))
def test_feature_combinations_bit_identical(name: str) -> None:
    scenario = scenario_from_dict(EXTRAS[name]())
    assert_identical(whole_run(scenario), stream.summarize_streamed(scenario, 4, 0, block=29))


@pytest.mark.parametrize("staffing", ["shifts_hand_back", "breakdowns_busy_hand_back",
                                      "vacations_single"])
@pytest.mark.parametrize("policy", ["drop_everything", "finish_current", "dedicated"])
def test_policies_and_staffing_bit_identical(policy: str, staffing: str) -> None:
    scenario = scenario_from_dict(_counter(policy, "preemptive", STAFFING[staffing],
                                           {"per_customer": 0.1}))
    assert_identical(whole_run(scenario), stream.summarize_streamed(scenario, 4, 0, block=37))


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=scenarios(), seed=st.integers(0, 2**31 - 1), block=st.integers(1, 200))
def test_random_scenarios_bit_identical(data: dict, seed: int, block: int) -> None:
    scenario = scenario_from_dict(data)
    assert_identical(whole_run(scenario, seed),
                     stream.summarize_streamed(scenario, seed, 0, block=block))


def test_beyond_the_exact_limit_sums_and_sketch_stay_within_their_accuracy() -> None:
    scenario = load_scenario("configs/counter_360.yaml", {"run.horizon": None,
                                                          "run.customers": 20_000})
    expected = whole_run(scenario)
    got = stream.summarize_streamed(scenario, 4, 0, block=3000, exact_customers=5000)
    assert list(got) == list(expected)
    for key, value in expected.items():
        sketched = key[2].startswith("wait_p") or key[2] == "satisfaction_p10"
        rel = streaming.RELATIVE_ACCURACY if sketched else 1e-12
        assert got[key] == pytest.approx(value, rel=rel, abs=1e-12, nan_ok=True), key


def test_the_window_stays_small(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = []
    rebase = stream._Window.rebase

    def spy(self, upto, block, run):  # noqa: ANN001, ANN202
        rebase(self, upto, block, run)
        sizes.append(self.n)

    monkeypatch.setattr(stream._Window, "rebase", spy)
    scenario = load_scenario("configs/counter_360.yaml", {"run.horizon": None,
                                                          "run.customers": 60_000})
    stream.summarize_streamed(scenario, 2, 0, block=1000, exact_customers=0)
    assert len(sizes) >= 60
    assert max(sizes) < 1500  # the block plus the customers still in the system


def test_a_shortfall_of_episode_draws_reruns_with_more(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = scenario_from_dict(_counter("queue", "fifo",
                                           STAFFING["breakdowns_always_hand_back"]))
    expected = whole_run(scenario)
    calls = []
    monkeypatch.setattr(stream, "_initial_episodes", lambda *a, **k: calls.append(1) or 2)
    assert_identical(expected, stream.summarize_streamed(scenario, 4, 0, block=50))
    assert calls == [1]


def test_no_customers_at_all() -> None:
    scenario = scenario_from_dict({
        "run": {"horizon": 10, "seed": 1}, "stations": {"s": {}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 1e-6},
                          "service": {"s": {"kind": "exponential", "mean": 1}}}}})
    assert_identical(whole_run(scenario), stream.summarize_streamed(scenario, 4, 0))


def test_streamed_run_as_plain_python_equals_the_jitted_one(tmp_path: Path) -> None:
    out = tmp_path / "metrics.json"
    script = textwrap.dedent(f"""
        import json
        from numba import config
        assert config.DISABLE_JIT
        from queue_sim.config import scenario_from_dict
        from queue_sim.kernels.stream import summarize_streamed
        scenario = scenario_from_dict(json.loads({json.dumps(json.dumps(PYTHON_MODE_SCENARIO))}))
        metrics = summarize_streamed(scenario, 4, 0, block=11)
        open({str(out)!r}, "w").write(json.dumps([[list(k), v] for k, v in metrics.items()]))
    """)
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT, timeout=300)
    saved = {tuple(k): v for k, v in json.loads(out.read_text())}
    scenario = scenario_from_dict(PYTHON_MODE_SCENARIO)
    expected = whole_run(scenario)
    assert list(saved) == list(expected)
    np.testing.assert_array_equal(np.array(list(saved.values()), float),
                                  np.array(list(expected.values())))
