"""Reference (SimPy) vs kernel (Numba) on identical draws: every Trace array must agree.

Integers and flags exactly, times to ``rtol=1e-9`` with NaN in the same places.  Parametrised
over every ``configs/*.yaml`` (shortened), a hand-written grid of feature combinations
(policy x discipline x staffing variant, plus extras), and small random scenarios drawn by
hypothesis.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_sim import kernels, model
from queue_sim.config import load_scenario, scenario_from_dict
from queue_sim.rng import draw
from queue_sim.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
MAX_CUSTOMERS = 1500


def assert_same_trace(reference: Trace, kernel: Trace) -> None:
    """Every array of the two traces agrees (times to 1e-9), and so does the context."""
    for name in Trace.ARRAYS:
        a, b = getattr(reference, name), getattr(kernel, name)
        assert a.shape == b.shape, name
        assert a.dtype == b.dtype, name
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True,
                                       err_msg=name)
        else:
            np.testing.assert_array_equal(b, a, err_msg=name)
    assert kernel.ended_at == pytest.approx(reference.ended_at, rel=1e-12, abs=1e-12)
    assert (kernel.warmup, kernel.horizon) == (reference.warmup, reference.horizon)
    assert kernel.station_names == reference.station_names
    assert kernel.class_names == reference.class_names
    assert kernel.staff.names == reference.staff.names
    for name in ("station", "is_manager", "serves"):
        np.testing.assert_array_equal(getattr(kernel.staff, name),
                                      getattr(reference.staff, name))


def run_both(scenario, seed: int = 3, replication: int = 0) -> tuple[Trace, Trace]:
    draws = draw(scenario, seed, replication)
    return model.simulate(scenario, draws), kernels.simulate(scenario, draws)


# -- every config file ----------------------------------------------------------------------
def _shortened(path: Path):
    """The config with at most ~MAX_CUSTOMERS customers, so both engines run in well under 2 s."""
    scenario = load_scenario(path)
    run = scenario.run
    if run.customers is not None:
        return load_scenario(path, {"run.customers": min(run.customers, MAX_CUSTOMERS)})
    n = draw(scenario, 0, 0).n_customers
    if n <= MAX_CUSTOMERS:
        return scenario
    horizon = run.horizon * MAX_CUSTOMERS / n
    return load_scenario(path, {"run.horizon": horizon,
                                "run.warmup": min(run.warmup, horizon / 2)})


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
@pytest.mark.parametrize("seed", [1, 2])
def test_config(path: Path, seed: int):
    reference, kernel = run_both(_shortened(path), seed)
    assert_same_trace(reference, kernel)


def test_configs_exist():
    assert CONFIGS, "no configs/*.yaml to cross-check"


# -- hand-written feature combinations ------------------------------------------------------
def _counter(policy: str, discipline: str, staffing: dict | None = None,
             acknowledge: dict | None = None, **station) -> dict:
    """Two classes through a till (then a kitchen): patience, balking, capacity, batches,
    routing with rework, complaints with priority remakes, a home manager."""
    till = {"servers": 2, "discipline": discipline, "capacity": 6, **station, **(staffing or {})}
    return {
        "run": {"horizon": 240, "warmup": 10},
        "stations": {"till": till, "kitchen": {"servers": 1}},
        "classes": {
            "a": {"arrivals": {"kind": "schedule", "times": [0, 100], "rates": [1.0, 2.0]},
                  "route": ["till", "kitchen"],
                  "service": {"till": {"kind": "lognormal", "mean": 1, "cv": 0.6},
                              "kitchen": {"kind": "gamma", "mean": 0.3, "cv": 0.5}},
                  "patience": {"kind": "exponential", "mean": 8}, "priority": 1,
                  "balking": {"join_probability": [1, 1, 0.9, 0.5]},
                  "complaints": {"probability": 0.1,
                                 "handling": {"kind": "uniform", "low": 2, "high": 6},
                                 "rework_priority": True}},
            "b": {"arrivals": {"kind": "poisson", "rate": 0.3}, "batch": {"sizes": [1, 2]},
                  "routing": {"start": "till", "transitions": {"till": {"till": 0.2}}},
                  "service": {"till": {"kind": "weibull", "shape": 1.5, "scale": 1}},
                  "priority": 0}},
        "staff": {"managers": [{"home": "till"}]},
        "recovery": {"policy": policy, "acknowledge": acknowledge},
    }


SCHEDULE = [{"at": 50, "servers": 1}, {"at": 120, "servers": 3}, {"at": 200, "servers": 0}]
REPAIR = {"kind": "exponential", "mean": 3}
RUDENESS = {"rudeness_window": 8, "difficult_probability": 0.1, "contagion": 0.3,
            "difficult_factor": 1.3, "rudeness_factor": 0.2, "witness_share": 0.5}
VACATION = {"kind": "exponential", "mean": 1}
STAFFING = {
    "plain": None,
    "shifts_hand_back": {"schedule": SCHEDULE, "on_shift_end": "hand_back"},
    "shifts_finish": {"schedule": SCHEDULE},
    "breakdowns_always_wait": {"breakdowns": {"rate": 0.05, "repair": REPAIR}},
    "breakdowns_busy_hand_back": {"breakdowns": {"rate": 0.05, "repair": REPAIR,
                                                 "clock": "busy", "in_service": "hand_back"}},
    "breakdowns_always_hand_back": {"breakdowns": {"rate": 0.1, "repair": REPAIR,
                                                   "in_service": "hand_back"}},
    "breakdowns_busy_wait": {"breakdowns": {"rate": 0.1, "repair": REPAIR, "clock": "busy"}},
    "vacations_multiple": {"vacations": {"duration": VACATION}},
    "vacations_single": {"vacations": {"duration": VACATION, "mode": "single"}},
    "shifts_and_vacations": {"schedule": SCHEDULE, "vacations": {"duration": VACATION}},
    "shifts_and_breakdowns": {"schedule": SCHEDULE, "on_shift_end": "hand_back",
                              "breakdowns": {"rate": 0.08, "repair": REPAIR}},
}
POLICIES = ["remake_only", "drop_everything", "finish_current", "queue", "dedicated"]
DISCIPLINES = ["fifo", "priority", "preemptive"]


@pytest.mark.parametrize("staffing", list(STAFFING))
@pytest.mark.parametrize("discipline", DISCIPLINES)
@pytest.mark.parametrize("policy", POLICIES)
def test_feature_grid(policy: str, discipline: str, staffing: str):
    scenario = scenario_from_dict(_counter(policy, discipline, STAFFING[staffing],
                                           {"per_customer": 0.1}))
    assert_same_trace(*run_both(scenario))


EXTRAS = {
    # exact ties everywhere: deterministic arrivals gaps are not possible, but deterministic
    # service and handling put many ends of service on the same instants
    "deterministic_ties": lambda: _with(_counter("drop_everything", "preemptive"), [
        ("classes.a.service.till", {"kind": "deterministic", "value": 1.0}),
        ("classes.b.service.till", {"kind": "deterministic", "value": 1.0}),
        ("classes.a.complaints.handling", {"kind": "deterministic", "value": 2.0})]),
    "floating_and_two_managers": lambda: _with(_counter("finish_current", "priority"), [
        ("staff.managers", [{"name": "floor", "home": None}, {"name": "boss", "home": "till"},
                            {"name": "cook", "home": "kitchen"}])]),
    "floating_manager_drop": lambda: _with(_counter("drop_everything", "fifo"), [
        ("staff.managers", [{"name": "floor"}, {"name": "boss", "home": "till"}])]),
    "no_rework_complaints_at_kitchen": lambda: _with(_counter("queue", "fifo"), [
        ("classes.a.complaints.rework", False),
        ("classes.a.complaints.station", "kitchen")]),
    "rework_service_no_priority": lambda: _with(_counter("finish_current", "preemptive"), [
        ("classes.a.complaints.rework_priority", False),
        ("classes.a.complaints.rework_service", {"kind": "triangular", "low": 0.1,
                                                 "mode": 0.3, "high": 1.0})]),
    "balking_max_queue_capacity_zero": lambda: _with(_counter("queue", "fifo"), [
        ("stations.till.capacity", 0),
        ("classes.b.balking", {"max_queue": 2})]),
    "balking_both_rules": lambda: _with(_counter("queue", "priority"), [
        ("classes.a.balking", {"max_queue": 3, "join_probability": [1, 0.7]})]),
    "acknowledge_announcements": lambda: _counter(
        "drop_everything", "fifo", acknowledge={"per_customer": 0.2, "per_announcement": 1}),
    "acknowledge_by_clerk": lambda: _counter(
        "drop_everything", "fifo",
        acknowledge={"per_customer": 0.2, "per_announcement": 1, "by": "clerk"}),
    "acknowledge_by_clerk_shifts_preemptive": lambda: _counter(
        "finish_current", "preemptive", schedule=SCHEDULE, on_shift_end="hand_back",
        acknowledge={"per_customer": 0.3, "per_announcement": 0.5, "by": "clerk"}),
    "no_patience_overload": lambda: _with(_counter("queue", "fifo"), [
        ("classes.a.patience", None), ("classes.a.balking", None),
        ("stations.till.capacity", None), ("stations.till.servers", 1)]),
    "zero_servers_then_shift": lambda: _with(_counter("dedicated", "fifo"), [
        ("stations.till.servers", 0),
        ("stations.till.schedule", [{"at": 30, "servers": 2}, {"at": 90, "servers": 1}])]),
    "manager_vacations": lambda: _counter(
        "queue", "fifo", {"vacations": {"duration": {"kind": "uniform", "low": 0.5,
                                                     "high": 2}, "mode": "single"}}),
    # queue structure and state-dependent service
    "separate_lines_random_priority_floating": lambda: _separate(
        _counter("queue", "priority", acknowledge={"per_customer": 0.1}),
        {"join": "random"}, floating=True),
    "separate_lines_shortest_jockeying_dedicated": lambda: _separate(
        _counter("dedicated", "fifo", acknowledge={"per_customer": 0.2,
                                                   "per_announcement": 0.5}),
        {"join": "shortest", "jockeying": True}),
    "separate_lines_random_jockeying_remakes": lambda: _separate(
        _counter("remake_only", "priority"), {"join": "random", "jockeying": True}),
    "separate_lines_shortest_three_servers": lambda: _with(_separate(
        _counter("drop_everything", "fifo"), {"join": "shortest"}, floating=True),
        [("stations.till.servers", 3)]),
    "service_dependence_preemptive_breakdowns": lambda: _counter(
        "drop_everything", "preemptive",
        {"breakdowns": {"rate": 0.08, "repair": REPAIR, "in_service": "hand_back"},
         "service_dependence": {"per_wait": 0.3, "wait_reference": 1, "queue_threshold": 2,
                                "queue_factor": 0.8, "fatigue_window": 10,
                                "fatigue_threshold": 0.5, "fatigue_factor": 0.6}}),
    "service_dependence_separate_lines": lambda: _with(_separate(
        _counter("finish_current", "fifo"), {"join": "shortest", "jockeying": True},
        floating=True), [("stations.till.service_dependence", {"per_wait": 0.35}),
                         ("stations.kitchen.service_dependence",
                          {"queue_threshold": 1, "queue_factor": 1.3})]),
    # rudeness contagion (DOMAIN.md 1.6, 3a): a manager at the till, witnesses, preemption,
    # breakdowns, and with the other service rules, separate lines and retrials
    "rudeness_preemptive_breakdowns": lambda: _counter(
        "drop_everything", "preemptive",
        {"breakdowns": {"rate": 0.08, "repair": REPAIR, "in_service": "hand_back"},
         "service_dependence": RUDENESS | {"fatigue_window": 10, "fatigue_factor": 0.5,
                                           "fatigue_threshold": 0.5}}),
    "rudeness_separate_lines_retrials": lambda: _with(_separate(
        _counter("finish_current", "priority"), {"join": "shortest", "jockeying": True},
        floating=True), [
        ("stations.till.servers", 3),
        ("stations.till.service_dependence", RUDENESS | {"per_wait": 0.2,
                                                         "queue_threshold": 2,
                                                         "queue_factor": 0.9}),
        ("stations.kitchen.service_dependence", {"rudeness_window": 5, "contagion": 1.0,
                                                 "difficult_probability": 0.05,
                                                 "difficult_factor": 2.0}),
        ("classes.a.patience", {"kind": "exponential", "mean": 3}),
        ("classes.a.retrial", {"probability": 0.8, "delay": {"kind": "exponential",
                                                             "mean": 1}})]),
    "express_lane": lambda: _with(_counter("drop_everything", "fifo"), [
        ("stations.express", {"servers": 1, "express_for": {"station": "till",
                                                            "max_service": 0.7}})]),
    "express_lane_with_separate_lines": lambda: _with(_separate(
        _counter("remake_only", "fifo"), {"join": "random", "jockeying": True}), [
        ("stations.express", {"servers": 1, "lines": {"join": "shortest"},
                              "express_for": {"station": "till", "max_service": 0.5}})]),
    # re-contacts, escalation and retrials (issue 7)
    "contact_tiers": lambda: _contact_tiers(),
    "retrial_no_waiting_room": lambda: {
        "run": {"horizon": 300},
        "stations": {"s": {"servers": 1, "capacity": 0}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.7},
                          "service": {"s": {"kind": "exponential", "mean": 1}},
                          "retrial": {"probability": 1.0,
                                      "delay": {"kind": "exponential", "mean": 0.5}}}}},
    "recontact_retrial_counter": lambda: _with(_counter("drop_everything", "preemptive"), [
        ("classes.a.resolution", {"kitchen": {
            "curve": {"kind": "logistic", "q_max": 0.9, "midpoint": 0.2, "tau": 0.1},
            "handle_time_cap": 0.4, "repeat_extra": 0.1,
            "recontact": {"probability": 0.7, "delay": {"kind": "exponential", "mean": 5}},
            "escalation": {"to": "till", "after": 2, "probability": 0.5,
                           "delay": {"kind": "deterministic", "value": 1}}}}),
        ("classes.a.retrial", {"probability": 0.6, "delay": {"kind": "exponential", "mean": 2},
                               "when": ["abandoned", "balked"]}),
        ("classes.b.retrial", {"probability": 0.5, "max_attempts": 3,
                               "delay": {"kind": "deterministic", "value": 1.0}})]),
    # both branches together: separate lines, express lanes and state-dependent service with
    # re-contacts, retrials and clerk acknowledgements
    "separate_lines_retrials_recontacts_clerk_ack": lambda: _with(_separate(
        _counter("dedicated", "fifo", acknowledge={"per_customer": 0.2, "per_announcement": 0.5,
                                                   "by": "clerk"}),
        {"join": "shortest", "jockeying": True}), [
        ("classes.a.retrial", {"probability": 0.7, "delay": {"kind": "exponential", "mean": 2},
                               "max_attempts": 3}),
        ("classes.a.resolution", {"kitchen": {
            "probability": 0.6, "repeat_extra": 0.1,
            "recontact": {"probability": 0.8, "delay": {"kind": "exponential", "mean": 4}}}})]),
    "separate_lines_random_recontacts_clerk_ack": lambda: _with(_separate(
        _counter("dedicated", "priority", acknowledge={"per_customer": 0.3, "by": "clerk"}),
        {"join": "random", "jockeying": True}), [
        ("classes.a.resolution", {"kitchen": {
            "curve": {"kind": "exponential", "q_max": 0.9, "tau": 0.3},
            "recontact": {"probability": 0.9, "delay": {"kind": "exponential", "mean": 3}},
            "escalation": {"to": "till", "probability": 0.5}}})]),
    "service_dependence_retrials_separate_lines": lambda: _with(_separate(
        _counter("finish_current", "fifo"), {"join": "shortest"}, floating=True), [
        ("stations.till.service_dependence", {"per_wait": 0.3, "wait_reference": 0.5,
                                              "queue_threshold": 2, "queue_factor": 0.8,
                                              "fatigue_window": 10, "fatigue_threshold": 0.4,
                                              "fatigue_factor": 0.5}),
        ("classes.a.patience", {"kind": "exponential", "mean": 3}),
        ("classes.a.retrial", {"probability": 0.8, "delay": {"kind": "uniform", "low": 0.5,
                                                             "high": 2}}),
        ("classes.a.resolution", {"kitchen": {
            "probability": 0.7,
            "recontact": {"probability": 1.0, "delay": {"kind": "exponential", "mean": 2}}}})]),
    "service_dependence_retrials_shared_line": lambda: _with(
        _counter("drop_everything", "preemptive",
                 acknowledge={"per_customer": 0.1, "by": "clerk"}), [
        ("stations.till.service_dependence", {"per_wait": 0.2, "queue_threshold": 1,
                                              "queue_factor": 1.2}),
        ("classes.a.retrial", {"probability": 0.6, "delay": {"kind": "exponential", "mean": 1}}),
        ("classes.b.retrial", {"probability": 0.9, "max_attempts": 2,
                               "delay": {"kind": "deterministic", "value": 1.0},
                               "when": ["lost"]})]),
    "express_lane_recontacts_retrials": lambda: _with(_counter("drop_everything", "fifo"), [
        ("stations.express", {"servers": 1, "capacity": 2,
                              "express_for": {"station": "till", "max_service": 0.7}}),
        ("classes.a.retrial", {"probability": 0.7, "delay": {"kind": "exponential", "mean": 2}}),
        ("classes.b.retrial", {"probability": 0.5, "delay": {"kind": "exponential", "mean": 1},
                               "when": ["balked", "lost"]}),
        ("classes.a.resolution", {"kitchen": {
            "probability": 0.5,
            "recontact": {"probability": 0.7, "delay": {"kind": "exponential", "mean": 5}}}})]),
}


def _separate(data: dict, lines: dict, floating: bool = False) -> dict:
    """The counter with separate lines at the till: no capacity, no balking (refused with
    separate lines), and a floating manager unless the policy keeps managers off the till."""
    data["stations"]["till"]["lines"] = lines
    data["stations"]["till"].pop("capacity", None)
    for cls in data["classes"].values():
        cls.pop("balking", None)
    if floating:
        data["staff"]["managers"] = [{"name": "floor", "home": None}]
    return data


def _contact_tiers() -> dict:
    """Contact form (impatient callers retry) -> social media -> expert desk (DOMAIN.md 4a)."""
    exp = lambda m: {"kind": "exponential", "mean": m}  # noqa: E731
    return {
        "run": {"horizon": 400, "warmup": 20},
        "stations": {"form": {"servers": 2, "capacity": 4}, "social": {"servers": 1},
                     "expert": {"servers": 1}},
        "classes": {"case": {
            "arrivals": {"kind": "poisson", "rate": 0.5}, "route": ["form"],
            "service": {"form": exp(3), "social": exp(1), "expert": exp(5)},
            "patience": exp(5),
            "resolution": {
                "form": {"curve": {"kind": "exponential", "q_max": 0.9, "tau": 3},
                         "handle_time_cap": 4, "repeat_extra": 0.5,
                         "recontact": {"probability": 0.8, "delay": exp(20)},
                         "escalation": {"to": "social", "after": 2, "probability": 0.5}},
                "social": {"probability": 0.0, "escalation": {
                    "to": "expert", "probability": 1.0,
                    "delay": {"kind": "deterministic", "value": 2}}},
                "expert": {"probability": 0.95,
                           "recontact": {"probability": 1, "delay": exp(10)}}},
            "retrial": {"probability": 0.7, "delay": exp(3), "max_attempts": 4}}}}


def _with(data: dict, changes: list[tuple[str, object]]) -> dict:
    for key, value in changes:
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


@pytest.mark.parametrize("name", list(EXTRAS))
@pytest.mark.parametrize("seed", [3, 11])
def test_extra_combination(name: str, seed: int):
    assert_same_trace(*run_both(scenario_from_dict(EXTRAS[name]()), seed))


def test_trace_arrivals_and_empirical_service(tmp_path: Path):
    (tmp_path / "arrivals.csv").write_text("t\n" + "\n".join(
        str(x) for x in np.round(np.cumsum(np.full(300, 0.7)), 6)) + "\n")
    (tmp_path / "service.csv").write_text("s\n" + "\n".join(
        str(x) for x in [0.2, 0.5, 0.9, 1.4, 2.0, 0.7]) + "\n")
    data = {"run": {"horizon": 150},
            "stations": {"desk": {"servers": 1, "breakdowns": {"rate": 0.05,
                                                               "repair": REPAIR}}},
            "classes": {"walk": {"arrivals": {"kind": "trace", "file": "arrivals.csv"},
                                 "service": {"desk": {"kind": "empirical",
                                                      "file": "service.csv"}},
                                 "patience": {"kind": "exponential", "mean": 4}}}}
    scenario = scenario_from_dict(data, base_dir=tmp_path)
    assert_same_trace(*run_both(scenario))


# -- random small scenarios -----------------------------------------------------------------
CONTINUOUS = st.one_of(
    st.builds(lambda m: {"kind": "exponential", "mean": m}, st.floats(0.2, 3)),
    st.builds(lambda lo, w: {"kind": "uniform", "low": lo, "high": lo + w},
              st.floats(0, 1), st.floats(0.1, 3)),
    st.builds(lambda lo, a, b: {"kind": "triangular", "low": lo, "mode": lo + a,
                                "high": lo + a + b}, st.floats(0, 1), st.floats(0, 1),
              st.floats(0.1, 2)),
    st.builds(lambda m, cv: {"kind": "gamma", "mean": m, "cv": cv},
              st.floats(0.2, 3), st.floats(0.2, 2)),
    st.builds(lambda m, cv: {"kind": "lognormal", "mean": m, "cv": cv},
              st.floats(0.2, 3), st.floats(0.1, 1.5)),
    st.builds(lambda k, s: {"kind": "weibull", "shape": k, "scale": s},
              st.floats(0.7, 3), st.floats(0.2, 3)),
)


def draw_class(draw_, names: list[str]) -> tuple[dict, set[str]]:  # noqa: ANN001
    """A class's Poisson arrivals, priority, a fixed route or probabilistic routing over the
    stations ``names``, and a service distribution at each station it can visit; returns the
    class and those stations."""
    cls: dict = {"arrivals": {"kind": "poisson", "rate": draw_(st.floats(0.2, 2.5))},
                 "priority": draw_(st.integers(0, 2))}
    if draw_(st.booleans()):
        cls["route"] = draw_(st.lists(st.sampled_from(names), min_size=1, max_size=3))
        visited = set(cls["route"])
    else:
        start = draw_(st.sampled_from(names))
        transitions = {}
        for a in names:
            if draw_(st.booleans()):
                b = draw_(st.sampled_from(names))
                transitions[a] = {b: draw_(st.floats(0.05, 0.5))}
        cls["routing"] = {"start": start, "transitions": transitions}
        visited = set(names)
    cls["service"] = {s: draw_(CONTINUOUS) for s in sorted(visited)}
    return cls, visited


@st.composite
def scenarios(draw_):  # noqa: ANN001, ANN201 - hypothesis strategy
    """A small valid scenario dict: 1-3 stations, 1-2 classes, any mix of features."""
    n_stations = draw_(st.integers(1, 3))
    names = [f"s{i}" for i in range(n_stations)]
    stations = {}
    for name in names:
        spec: dict = {"servers": draw_(st.integers(0, 3)),
                      "discipline": draw_(st.sampled_from(DISCIPLINES))}
        if spec["servers"] == 0 or draw_(st.booleans()):
            times = sorted(draw_(st.sets(st.integers(1, 60), min_size=1, max_size=3)))
            spec["schedule"] = [{"at": float(t), "servers": draw_(st.integers(0, 3))}
                                for t in times]
            spec["on_shift_end"] = draw_(st.sampled_from(["finish", "hand_back"]))
        if draw_(st.booleans()):
            spec["capacity"] = draw_(st.integers(0, 6))
        if draw_(st.integers(0, 3)) == 0:
            spec["breakdowns"] = {"rate": draw_(st.floats(0.02, 0.3)), "repair": draw_(CONTINUOUS),
                                  "clock": draw_(st.sampled_from(["always", "busy"])),
                                  "in_service": draw_(st.sampled_from(["wait", "hand_back"]))}
        if "breakdowns" not in spec and draw_(st.integers(0, 3)) == 0:
            spec["vacations"] = {"duration": draw_(CONTINUOUS),
                                 "mode": draw_(st.sampled_from(["multiple", "single"]))}
        if draw_(st.integers(0, 2)) == 0:
            spec["service_dependence"] = {
                "per_wait": draw_(st.floats(0, 0.5)), "wait_reference": draw_(st.floats(0, 2)),
                "queue_threshold": draw_(st.integers(0, 3)),
                "queue_factor": draw_(st.floats(0.5, 1.5))}
            if draw_(st.booleans()):
                spec["service_dependence"].update(
                    fatigue_window=draw_(st.floats(1, 30)),
                    fatigue_threshold=draw_(st.floats(0, 1)),
                    fatigue_factor=draw_(st.floats(0, 1)))
            if draw_(st.booleans()):
                spec["service_dependence"].update(
                    rudeness_window=draw_(st.floats(1, 30)),
                    difficult_probability=draw_(st.floats(0, 1)),
                    contagion=draw_(st.floats(0, 1)),
                    difficult_factor=draw_(st.floats(0.5, 2)),
                    rudeness_factor=draw_(st.floats(0, 1)),
                    witness_share=draw_(st.floats(0, 1)))
        if draw_(st.integers(0, 2)) == 0:  # separate lines replace what they cannot combine with
            for key in ("schedule", "on_shift_end", "capacity", "breakdowns", "vacations"):
                spec.pop(key, None)
            spec["servers"] = max(spec["servers"], 1)
            if spec["discipline"] == "preemptive":
                spec["discipline"] = "priority"
            spec["lines"] = {"join": draw_(st.sampled_from(["shortest", "random"])),
                             "jockeying": draw_(st.booleans())}
        stations[name] = spec
    separate = {n for n, spec in stations.items() if "lines" in spec}
    random_lines = {n for n in separate if stations[n]["lines"]["join"] == "random"}
    dependent = {n for n, spec in stations.items() if "service_dependence" in spec}
    classes = {}
    any_complaints = False
    for c in range(draw_(st.integers(1, 2))):
        cls, visited = draw_class(draw_, names)
        if draw_(st.booleans()):
            cls["patience"] = draw_(CONTINUOUS)
        if draw_(st.integers(0, 2)) == 0:
            cls["batch"] = {"sizes": [1, draw_(st.integers(2, 3))]}
        if draw_(st.integers(0, 2)) == 0 and not visited & separate:
            rule: dict = {}
            if draw_(st.booleans()):
                rule["max_queue"] = draw_(st.integers(0, 4))
            if not rule or draw_(st.booleans()):
                rule["join_probability"] = draw_(st.lists(st.floats(0, 1), min_size=1,
                                                          max_size=4))
            cls["balking"] = rule
        # a retry at a line picked at random is refused (it would reuse its line uniform)
        if draw_(st.integers(0, 2)) == 0 and not visited & random_lines:
            cls["retrial"] = {"probability": draw_(st.floats(0, 1)),
                              "delay": draw_(CONTINUOUS),
                              "when": draw_(st.lists(st.sampled_from(["abandoned", "balked",
                                                                    "lost"]),
                                                   min_size=1, max_size=3, unique=True))}
            if draw_(st.booleans()):
                cls["retrial"]["max_attempts"] = draw_(st.integers(1, 4))
        has_complaints = draw_(st.booleans())
        first = cls["route"][0] if "route" in cls else cls["routing"]["start"]
        # resolution where service depends on the state is refused (decided in the draws)
        if draw_(st.integers(0, 2)) == 0 and visited - dependent:
            where = draw_(st.sampled_from(sorted(visited - dependent)))
            res: dict = {"probability": draw_(st.floats(0.3, 1))} if draw_(st.booleans()) else {
                "curve": {"kind": "exponential", "q_max": draw_(st.floats(0.5, 1)),
                          "tau": draw_(st.floats(0.2, 2))}}
            if draw_(st.booleans()):
                res["handle_time_cap"] = draw_(st.floats(0.2, 3))
            res["repeat_extra"] = draw_(st.floats(0, 0.5))
            if draw_(st.booleans()):
                res["recontact"] = {"probability": draw_(st.floats(0, 0.9)),
                                    "delay": draw_(CONTINUOUS)}
            if draw_(st.booleans()):
                res["escalation"] = {"to": draw_(st.sampled_from(sorted(visited))),
                                     "after": draw_(st.integers(1, 2)),
                                     "probability": draw_(st.floats(0, 1)),
                                     "delay": draw_(CONTINUOUS)}
            cls["resolution"] = {where: res}
            if where == first:  # complaints and resolution at one station are refused
                has_complaints = False
        if has_complaints:
            any_complaints = True
            comp = {"probability": draw_(st.floats(0.05, 0.4)), "handling": draw_(CONTINUOUS),
                    "rework": draw_(st.booleans()), "rework_priority": draw_(st.booleans())}
            allowed = sorted(visited - set(cls.get("resolution", {})))
            if allowed and draw_(st.booleans()):
                comp["station"] = draw_(st.sampled_from(allowed))
            if draw_(st.integers(0, 2)) == 0:
                comp["rework_service"] = draw_(CONTINUOUS)
            cls["complaints"] = comp
        classes[f"c{c}"] = cls
    managers = [{"name": f"m{k}", "home": draw_(st.sampled_from([None, *names]))}
                for k in range(draw_(st.integers(0, 2)))]
    policies = POLICIES if managers or not any_complaints else ["remake_only"]
    recovery: dict = {"policy": draw_(st.sampled_from(policies))}
    if recovery["policy"] not in ("dedicated", "remake_only"):  # a manager who may leave
        # the counter for a complaint cannot serve a line of their own
        for m in managers:
            if m["home"] in separate:
                m["home"] = None
    if draw_(st.booleans()):
        recovery["acknowledge"] = {"per_customer": draw_(st.floats(0, 0.5)),
                                   "per_announcement": draw_(st.floats(0, 1))}
        if not any("breakdowns" in s or "vacations" in s for s in stations.values()):
            recovery["acknowledge"]["by"] = draw_(st.sampled_from(["handler", "clerk"]))
    horizon = draw_(st.floats(20, 80))
    return {"run": {"horizon": horizon, "warmup": draw_(st.floats(0, horizon / 4)),
                    "max_visits": 200},
            "stations": stations, "classes": classes, "staff": {"managers": managers},
            "recovery": recovery}


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_random_scenarios(data: dict, seed: int):
    assert_same_trace(*run_both(scenario_from_dict(data), seed))


def test_the_grid_covers_every_policy_discipline_and_variant():
    assert len(list(itertools.product(POLICIES, DISCIPLINES, STAFFING))) == 165
