"""The fast path for plain scenarios (``kernels._plain``) against the general kernel loop and the
SimPy reference, record for record.

Against the general kernel the trace must be the same *bit for bit* (the fast path does the same
floating-point operations in the same order); against the reference, as every cross-check, to
``rtol=1e-9``.  On every bundled plain config, on hypothesis-generated plain scenarios, and on
streamed runs that pause and resume at every block.
"""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_sim import kernels, model
from queue_sim.config import load_scenario, scenario_from_dict
from queue_sim.kernels import stream
from queue_sim.rng import draw
from queue_sim.trace import Trace
from tests.crosscheck.test_reference_vs_kernel import (
    CONFIGS, ROOT, _shortened, assert_same_trace, draw_class,
)

kernel_module = importlib.import_module("queue_sim.kernels.simulate")
PLAIN_CONFIGS = [p for p in CONFIGS if kernel_module.is_plain(load_scenario(p))]


def assert_bit_identical(general: Trace, fast: Trace) -> None:
    for name, value in general.array_fields().items():
        np.testing.assert_array_equal(getattr(fast, name), value, err_msg=name)
    assert fast.ended_at == general.ended_at


def run_three(scenario, seed: int) -> tuple[Trace, Trace, Trace]:  # noqa: ANN001
    """(reference, general kernel, fast path) on the same draws; checks the fast path ran."""
    draws = draw(scenario, seed, 0)
    assert kernel_module.prepare(scenario, draws).plain
    assert not kernel_module.prepare(scenario, draws, fast_path=False).plain
    return (model.simulate(scenario, draws), kernels.simulate(scenario, draws, fast_path=False),
            kernels.simulate(scenario, draws))


def test_the_bundled_plain_configs_are_the_expected_ones():
    assert {p.stem for p in PLAIN_CONFIGS} >= {"mm1", "mmc", "md1", "mg1_lognormal",
                                                "priority_nonpreemptive"}
    assert "counter_360" not in {p.stem for p in PLAIN_CONFIGS}


@pytest.mark.parametrize("path", PLAIN_CONFIGS, ids=[p.stem for p in PLAIN_CONFIGS])
@pytest.mark.parametrize("seed", [1, 2])
def test_plain_config(path, seed: int):  # noqa: ANN001
    reference, general, fast = run_three(_shortened(path), seed)
    assert_bit_identical(general, fast)
    assert_same_trace(reference, fast)


# -- what is plain --------------------------------------------------------------------------
BASE = {"run": {"horizon": 50},
        "stations": {"s": {"servers": 2}, "t": {"servers": 1}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 1.0}, "route": ["s", "t"],
                          "service": {"s": {"kind": "exponential", "mean": 1},
                                      "t": {"kind": "exponential", "mean": 0.5}}}},
        "recovery": {"policy": "remake_only"}}
EXP = {"kind": "exponential", "mean": 1}
NOT_PLAIN = {
    "preemptive": ("stations.s.discipline", "preemptive"),
    "schedule": ("stations.s.schedule", [{"at": 10, "servers": 1}]),
    "capacity": ("stations.s.capacity", 5),
    "breakdowns": ("stations.s.breakdowns", {"rate": 0.1, "repair": EXP}),
    "vacations": ("stations.s.vacations", {"duration": EXP}),
    "lines": ("stations.s.lines", {"join": "shortest"}),
    "service_dependence": ("stations.s.service_dependence", {"per_wait": 0.1}),
    "patience": ("classes.a.patience", EXP),
    "balking": ("classes.a.balking", {"max_queue": 3}),
    "complaints": ("classes.a.complaints", {"probability": 0.1, "handling": EXP}),
    "retrial": ("classes.a.retrial", {"probability": 0.5, "delay": EXP}),
    "recontact": ("classes.a.resolution", {"t": {"probability": 0.5, "recontact": {
        "probability": 0.5, "delay": EXP}}}),
    "escalation": ("classes.a.resolution", {"s": {"probability": 0.5, "escalation": {
        "to": "t", "probability": 0.5, "delay": EXP}}}),
}


def _set(data: dict, key: str, value: object) -> dict:
    node = data
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return data


def _base() -> dict:
    return copy.deepcopy(BASE)


def test_a_plain_scenario_is_plain():
    assert kernel_module.is_plain(scenario_from_dict(_base()))
    defections = _set(_base(), "classes.a.resolution", {"t": {"probability": 0.5}})
    assert kernel_module.is_plain(scenario_from_dict(defections))


@pytest.mark.parametrize("feature", list(NOT_PLAIN))
def test_each_other_feature_takes_the_general_loop(feature: str):
    scenario = scenario_from_dict(_set(_base(), *NOT_PLAIN[feature]))
    assert not kernel_module.is_plain(scenario)
    assert not kernel_module.prepare(scenario, draw(scenario, 1, 0)).plain


# -- random plain scenarios -----------------------------------------------------------------
@st.composite
def plain_scenarios(draw_):  # noqa: ANN001, ANN201 - hypothesis strategy
    """A small plain scenario: 1-3 FIFO or priority stations of 0-3 servers, 1-2 classes with
    routes or routing, batches, any distributions, defections, managers serving or not."""
    n_stations = draw_(st.integers(1, 3))
    names = [f"s{i}" for i in range(n_stations)]
    stations = {name: {"servers": draw_(st.integers(0, 3)),
                       "discipline": draw_(st.sampled_from(["fifo", "priority"]))}
                for name in names}
    classes = {}
    for c in range(draw_(st.integers(1, 2))):
        cls, visited = draw_class(draw_, names)
        if draw_(st.integers(0, 2)) == 0:
            cls["batch"] = {"sizes": [1, draw_(st.integers(2, 3))]}
        if draw_(st.integers(0, 2)) == 0:
            where = draw_(st.sampled_from(sorted(visited)))
            cls["resolution"] = {where: {"probability": draw_(st.floats(0.3, 1))}}
        classes[f"c{c}"] = cls
    data = {"run": {"horizon": draw_(st.floats(20, 80)), "warmup": draw_(st.floats(0, 10))},
            "stations": stations, "classes": classes}
    if draw_(st.booleans()):
        data["staff"] = {"managers": [{"home": draw_(st.sampled_from(names + [None]))}]}
        data["recovery"] = {"policy": draw_(st.sampled_from(["remake_only", "dedicated"]))}
    return data


@given(plain_scenarios(), st.integers(0, 2**16))
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_random_plain_scenarios(data: dict, seed: int):
    reference, general, fast = run_three(scenario_from_dict(data), seed)
    assert_bit_identical(general, fast)
    assert_same_trace(reference, fast)


# -- streamed runs: the fast path pauses and resumes at every block --------------------------
@pytest.mark.parametrize("name", ["mm1", "mmc", "priority_nonpreemptive"])
def test_streamed_fast_path_equals_the_streamed_general_loop(name: str):
    scenario = load_scenario(ROOT / "configs" / f"{name}.yaml", {"run.customers": 3000})
    fast = stream.summarize_streamed(scenario, 4, 0, block=97)
    general = stream.summarize_streamed(scenario, 4, 0, block=97, fast_path=False)
    assert list(fast) == list(general)
    np.testing.assert_array_equal(np.array(list(fast.values())),
                                  np.array(list(general.values())))
