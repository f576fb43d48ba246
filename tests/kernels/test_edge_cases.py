"""Kernel edge cases: an empty system, zero service times, everyone abandoning, the horizon
cut-off and the drain limit, the growth paths (calendar, episode draws), the wrapper's checks,
and the kernel run as plain Python (``NUMBA_DISABLE_JIT=1``) giving the jitted result."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numba
import numpy as np
import pytest

from queue_sim import kernels, model
from queue_sim.config import scenario_from_dict
from queue_sim.errors import UnsupportedByKernelError
from queue_sim.model.simulate import drain_limit
from queue_sim.rng import Draws, draw
from queue_sim.trace import Outcome, Trace
from tests.crosscheck.test_reference_vs_kernel import assert_same_trace

kernel_module = importlib.import_module("queue_sim.kernels.simulate")
ROOT = Path(__file__).resolve().parents[2]


def _scenario(servers: int = 1, service: dict | None = None, patience: dict | None = None,
              rate: float = 1.0, horizon: float = 50.0, warmup: float = 0.0, **station):
    cls: dict = {"arrivals": {"kind": "poisson", "rate": rate},
                 "service": {"desk": service or {"kind": "exponential", "mean": 0.8}}}
    if patience is not None:
        cls["patience"] = patience
    return scenario_from_dict({"run": {"horizon": horizon, "warmup": warmup},
                               "stations": {"desk": {"servers": servers, **station}},
                               "classes": {"walk": cls}})


def _both(scenario, seed: int = 5) -> tuple[Trace, Trace]:
    draws = draw(scenario, seed, 0)
    reference, kernel = model.simulate(scenario, draws), kernels.simulate(scenario, draws)
    assert_same_trace(reference, kernel)
    return reference, kernel


def _no_customers(horizon: float, seed: int = 5) -> Draws:
    """Draws of a replication in which nobody arrives before the horizon.  (Built by hand:
    ``rng.draw`` itself fails on an empty plan, np.stack of no visit columns.)"""
    f, i, b = np.empty(0), np.empty(0, np.int64), np.empty(0, bool)
    return Draws(arrived_at=f, class_idx=i, visit_ptr=np.zeros(1, np.int64), station=i,
                 service_time=f, patience=f, balk_u=f, is_wrong=b, handling_time=f,
                 is_rework=b, line_u=f, horizon=horizon, seed=seed, replication=0)


def test_empty_system_no_arrivals_before_the_horizon():
    scenario = _scenario(servers=2, rate=1e-6, horizon=10.0, warmup=2.0,
                         vacations={"duration": {"kind": "exponential", "mean": 1}},
                         schedule=[{"at": 4, "servers": 1}])
    draws = _no_customers(10.0)
    reference, trace = model.simulate(scenario, draws), kernels.simulate(scenario, draws)
    assert_same_trace(reference, trace)
    assert trace.ended_at == 0.0
    assert len(trace.arrived_at) == len(trace.station) == 0
    # nothing runs, so both clerks stay on duty for the whole window [warmup, horizon]
    np.testing.assert_array_equal(trace.on_duty_time, [8.0, 8.0])
    np.testing.assert_array_equal(trace.busy_time, [0.0, 0.0])
    np.testing.assert_array_equal(trace.queue_area, [0.0])


def test_zero_service_times():
    _, trace = _both(_scenario(service={"kind": "deterministic", "value": 0.0}))
    assert (trace.outcome == Outcome.SERVED).all()
    np.testing.assert_array_equal(trace.service_ended_at, trace.service_started_at)
    np.testing.assert_array_equal(trace.service_started_at, trace.arrived_at)
    assert trace.busy_time.sum() == 0.0 and trace.system_area.sum() == 0.0


def test_all_customers_abandon():
    scenario = _scenario(servers=0, patience={"kind": "exponential", "mean": 2.0})
    draws = draw(scenario, 5, 0)
    _, trace = _both(scenario)
    assert (trace.outcome == Outcome.ABANDONED).all()
    np.testing.assert_allclose(trace.left_at, draws.arrived_at + draws.patience, rtol=1e-12)
    assert np.isnan(trace.service_started_at).all()
    assert trace.ended_at == trace.left_at.max()


def test_drain_limit_when_no_server_ever_comes():
    scenario = _scenario(servers=0, horizon=20.0)
    draws = draw(scenario, 5, 0)
    _, trace = _both(scenario)
    assert (trace.outcome == Outcome.UNFINISHED).all()
    assert trace.ended_at == drain_limit(20.0)
    assert np.isnan(trace.left_at).all()
    # everyone who arrived waits until the end; the integral stops at the horizon
    expected = np.sum(20.0 - draws.arrived_at)
    np.testing.assert_allclose(trace.queue_area, [expected], rtol=1e-9)
    np.testing.assert_allclose(trace.system_area, [expected], rtol=1e-9)


def test_horizon_cut_off_integrals_stop_at_the_horizon():
    scenario = _scenario(servers=1, rate=1.2, horizon=60.0, warmup=5.0)
    _, trace = _both(scenario)
    assert trace.ended_at > trace.horizon  # customers inside at the horizon still finish
    assert (trace.outcome == Outcome.SERVED).all()
    lo = np.maximum(trace.arrived_at, trace.warmup)
    hi = np.minimum(trace.left_at, trace.horizon)
    np.testing.assert_allclose(trace.system_area, [np.clip(hi - lo, 0, None).sum()],
                               rtol=1e-9)
    np.testing.assert_allclose(trace.on_duty_time, [trace.horizon - trace.warmup])


def test_calendar_grows_with_many_pending_abandonments():
    # overload with long patience: ~1000 customers wait at once, each with an abandon event
    scenario = _scenario(servers=1, rate=4.0, horizon=300.0,
                         service={"kind": "exponential", "mean": 1.0},
                         patience={"kind": "exponential", "mean": 2000.0})
    reference, _ = _both(scenario)
    assert reference.queue_area[0] / 300.0 > 300  # the calendar held far more than its start


def test_rerun_with_more_episode_draws(monkeypatch):
    scenario = _scenario(servers=2, rate=1.5, horizon=80.0,
                         breakdowns={"rate": 0.2, "repair": {"kind": "exponential",
                                                             "mean": 0.5}})
    calls: list[int] = []
    real = kernel_module.run_kernel

    def spy(scenario, draws, inputs, n_episodes, *more):  # noqa: ANN001, ANN202
        calls.append(n_episodes)
        return real(scenario, draws, inputs, n_episodes, *more)

    monkeypatch.setattr(kernel_module, "_initial_episodes", lambda scenario, draws: 2)
    monkeypatch.setattr(kernel_module, "run_kernel", spy)
    _both(scenario)
    assert calls[:3] == [2, 4, 8] and len(calls) >= 4


def test_unknown_feature_value_is_refused_with_its_field():
    scenario = _scenario()
    recovery = scenario.recovery.model_copy(update={"policy": "callback_later"})
    odd = scenario.model_copy(update={"recovery": recovery})
    with pytest.raises(UnsupportedByKernelError, match="recovery.policy='callback_later'"):
        kernels.simulate(odd, draw(scenario, 1, 0))


def test_draws_of_another_scenario_are_refused():
    two = scenario_from_dict({
        "run": {"horizon": 20}, "stations": {"a": {}, "b": {}},
        "classes": {"c": {"arrivals": {"kind": "poisson", "rate": 1}, "route": ["a", "b"],
                          "service": {"a": {"kind": "exponential", "mean": 1},
                                      "b": {"kind": "exponential", "mean": 1}}}}})
    with pytest.raises(ValueError, match="station"):
        kernels.simulate(_scenario(horizon=20.0), draw(two, 1, 0))


def test_kernel_releases_the_gil_and_threads_agree():
    if not numba.config.DISABLE_JIT:  # (under NUMBA_DISABLE_JIT=1 the kernel is plain Python)
        assert kernel_module._run.targetoptions["nogil"] is True
    scenario = _scenario(servers=2, rate=1.5, horizon=200.0,
                         patience={"kind": "exponential", "mean": 3.0})
    draws = draw(scenario, 9, 0)
    expected = kernels.simulate(scenario, draws)
    results: list[Trace] = [None, None, None]  # type: ignore[list-item]

    def work(k: int) -> None:
        results[k] = kernels.simulate(scenario, draws)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for trace in results:
        assert_same_trace(expected, trace)


# A scenario that reaches most kernel branches: shifts with hand-backs, busy-clock breakdowns,
# preemption, balking, capacity, complaints with acknowledgements and priority remakes.
PYTHON_MODE_SCENARIO = {
    "run": {"horizon": 60, "warmup": 5},
    "stations": {"till": {"servers": 2, "discipline": "preemptive", "capacity": 5,
                          "schedule": [{"at": 20, "servers": 1}, {"at": 40, "servers": 3}],
                          "on_shift_end": "hand_back",
                          "breakdowns": {"rate": 0.1, "clock": "busy",
                                         "in_service": "hand_back",
                                         "repair": {"kind": "exponential", "mean": 2}}},
                 "kitchen": {"servers": 1, "vacations": {"duration": {"kind": "exponential",
                                                                      "mean": 1}}}},
    "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 1.5}, "priority": 1,
                      "route": ["till", "kitchen"],
                      "service": {"till": {"kind": "lognormal", "mean": 1, "cv": 0.6},
                                  "kitchen": {"kind": "gamma", "mean": 0.4, "cv": 0.5}},
                      "patience": {"kind": "exponential", "mean": 6},
                      "balking": {"max_queue": 4, "join_probability": [1, 0.8]},
                      "retrial": {"probability": 0.8, "delay": {"kind": "exponential",
                                                                "mean": 2}},
                      "complaints": {"probability": 0.2, "rework_priority": True,
                                     "handling": {"kind": "uniform", "low": 1, "high": 3}}},
                "b": {"arrivals": {"kind": "poisson", "rate": 0.4}, "priority": 0,
                      "service": {"till": {"kind": "weibull", "shape": 1.5, "scale": 1}},
                      "resolution": {"till": {"probability": 0.6, "recontact": {
                          "probability": 0.7, "delay": {"kind": "exponential", "mean": 4}}}}}},
    "staff": {"managers": [{"name": "boss", "home": "till"}, {"name": "floor"}]},
    "recovery": {"policy": "drop_everything",
                 "acknowledge": {"per_customer": 0.1, "per_announcement": 0.5}},
}


# A plain scenario (kernels._plain, the fast path): routes, priorities, a batch, a manager
# serving at home, defections, and a station whose servers are all busy at times.
PLAIN_PYTHON_MODE_SCENARIO = {
    "run": {"horizon": 40, "warmup": 3},
    "stations": {"till": {"servers": 2, "discipline": "priority"}, "kitchen": {"servers": 1}},
    "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 1.5}, "priority": 1,
                      "route": ["till", "kitchen"], "batch": {"sizes": [1, 2]},
                      "service": {"till": {"kind": "lognormal", "mean": 1, "cv": 0.6},
                                  "kitchen": {"kind": "gamma", "mean": 0.6, "cv": 0.5}},
                      "resolution": {"kitchen": {"probability": 0.7}}},
                "b": {"arrivals": {"kind": "poisson", "rate": 0.5}, "priority": 0,
                      "service": {"till": {"kind": "weibull", "shape": 1.5, "scale": 1}}}},
    "staff": {"managers": [{"name": "boss", "home": "kitchen"}]},
    "recovery": {"policy": "remake_only"},
}


def test_kernel_as_plain_python_equals_the_jitted_kernel(tmp_path: Path):
    out = tmp_path / "trace.npz"
    out_plain = tmp_path / "plain.npz"
    script = textwrap.dedent(f"""
        import json, numpy as np
        from numba import config
        assert config.DISABLE_JIT
        from queue_sim import kernels
        from queue_sim.config import scenario_from_dict
        from queue_sim.rng import Draws, draw
        for data, out in [({json.dumps(json.dumps(PYTHON_MODE_SCENARIO))}, {str(out)!r}),
                          ({json.dumps(json.dumps(PLAIN_PYTHON_MODE_SCENARIO))},
                           {str(out_plain)!r})]:
            scenario = scenario_from_dict(json.loads(data))
            trace = kernels.simulate(scenario, draw(scenario, 4, 0))
            np.savez(out, ended_at=trace.ended_at, **trace.array_fields())
    """)
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT, timeout=300)
    _assert_plain_python_run(out_plain)
    scenario = scenario_from_dict(PYTHON_MODE_SCENARIO)
    draws = draw(scenario, 4, 0)
    jitted = kernels.simulate(scenario, draws)
    assert_same_trace(model.simulate(scenario, draws), jitted)
    saved = np.load(out)
    assert float(saved["ended_at"]) == jitted.ended_at
    for name, value in jitted.array_fields().items():
        np.testing.assert_array_equal(saved[name], value, err_msg=name)
    assert (jitted.complained.any() and jitted.n_preemptions.any()
            and np.isfinite(jitted.acknowledged_at).any())
    assert jitted.is_recontact.any() and (jitted.n_attempts > 1).any()


def _assert_plain_python_run(saved_path: Path) -> None:
    """The fast path run as Python equals the jitted fast path, the general loop and the
    reference."""
    scenario = scenario_from_dict(PLAIN_PYTHON_MODE_SCENARIO)
    draws = draw(scenario, 4, 0)
    assert kernel_module.is_plain(scenario)
    fast = kernels.simulate(scenario, draws)
    general = kernels.simulate(scenario, draws, fast_path=False)
    assert_same_trace(model.simulate(scenario, draws), fast)
    saved = np.load(saved_path)
    assert float(saved["ended_at"]) == fast.ended_at == general.ended_at
    for name, value in fast.array_fields().items():
        np.testing.assert_array_equal(saved[name], value, err_msg=name)
        np.testing.assert_array_equal(getattr(general, name), value, err_msg=name)
    assert (fast.outcome == int(Outcome.DEFECTED)).any() and (fast.server == 3).any()
