"""stats: per-replication metrics on hand-built traces, the bystander overlap, CI arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from queue_sim import stats
from queue_sim.trace import Outcome, StaffRoster, Trace

S, A, B, L, U = Outcome.SERVED, Outcome.ABANDONED, Outcome.BALKED, Outcome.LOST, Outcome.UNFINISHED
nan = np.nan
TILL, KITCHEN = 0, 1
CLASS_A, CLASS_B = 0, 1

# One row per customer: class, arrived, left, outcome, and its visits as
# (station, queued_at, service_started_at, service_ended_at, complained, handling start, end)
CUSTOMERS = [
    (CLASS_A, 5, 12, S, [(TILL, 5, 10, 12, False, nan, nan)]),          # 0 before warmup
    (CLASS_A, 10, 12, S, [(TILL, 10, 10, 12, False, nan, nan)]),        # 1 wait 0
    (CLASS_A, 20, 25, S, [(TILL, 20, 23, 25, False, nan, nan)]),        # 2 wait 3
    (CLASS_B, 30, 34, A, [(TILL, 30, nan, nan, False, nan, nan)]),      # 3 abandons after 4
    (CLASS_B, 40, 40, B, [(TILL, nan, nan, nan, False, nan, nan)]),     # 4 balks
    (CLASS_A, 50, 50, L, [(TILL, nan, nan, nan, False, nan, nan)]),     # 5 lost
    (CLASS_A, 60, 82, S, [(TILL, 60, 66, 70, True, 70, 80),             # 6 complains, then
                          (TILL, 70, 81, 82, False, nan, nan)]),        #   its remake waits 11
    (CLASS_B, 72, 77, S, [(TILL, 72, 75, 77, False, nan, nan)]),        # 7 bystander (wait 3)
    (CLASS_A, 105, 115, S, [(KITCHEN, 105, 108, 115, False, nan, nan)]),  # 8 leaves after horizon
    (CLASS_A, 110, 112, S, [(TILL, 110, 110, 112, False, nan, nan)]),   # 9 arrives at horizon
    (CLASS_B, 90, 91, S, [(KITCHEN, 90, 90, 91, True, 91, 100)]),       # 10 complains (no remake)
    (CLASS_B, 92, 96, S, [(TILL, 92, 95, 96, False, nan, nan)]),        # 11 waits, other station
]


def build_trace(customers=CUSTOMERS, warmup=10.0, horizon=110.0) -> Trace:  # noqa: ANN001
    n_visits = [len(c[4]) for c in customers]
    ptr = np.concatenate([[0], np.cumsum(n_visits)]).astype(np.int64)
    visits = [v for c in customers for v in c[4]]
    roster = StaffRoster(names=["till.clerk1", "till.clerk2", "manager", "kitchen.clerk1"],
                         station=np.array([0, 0, 0, 1]),
                         is_manager=np.array([False, False, True, False]),
                         serves=np.array([True, True, True, True]))
    trace = Trace.empty(len(customers), ptr, np.array([v[0] for v in visits], np.int64),
                        np.array([k == 1 for c in customers for k in range(len(c[4]))]),
                        n_staff=4, n_stations=2, warmup=warmup, horizon=horizon,
                        ended_at=115.0, station_names=["till", "kitchen"],
                        class_names=["a", "b"], staff=roster)
    trace.class_idx[:] = [c[0] for c in customers]
    trace.arrived_at[:] = [c[1] for c in customers]
    trace.left_at[:] = [c[2] for c in customers]
    trace.outcome[:] = [c[3] for c in customers]
    for j, (_, q, s, e, comp, hs, he) in enumerate(visits):
        trace.queued_at[j], trace.service_started_at[j], trace.service_ended_at[j] = q, s, e
        trace.complained[j] = comp
        trace.handling_started_at[j], trace.handling_ended_at[j] = hs, he
        trace.handler[j] = 2 if comp else -1
    trace.busy_time[:] = [60, 40, 20, 30]
    trace.on_duty_time[:] = [100, 100, 100, 50]
    trace.handling_time[:] = [0, 0, 19, 0]
    trace.queue_area[:] = [50, 10]
    trace.system_area[:] = [150, 20]
    return trace


@pytest.fixture
def metrics() -> dict:
    return stats.summarize(build_trace())


def test_system_customer_metrics(metrics: dict) -> None:
    m = {k[2]: v for k, v in metrics.items() if k[:2] == ("system", "all")}
    # window customers: 1-8, 10, 11; waits 0 3 4 0 0 17 3 3 0 3
    assert m["n_customers"] == 10
    assert m["mean_wait"] == pytest.approx(3.3)
    assert m["wait_p50"] == pytest.approx(3.0)
    assert m["wait_p90"] == pytest.approx(5.3)     # sorted[8] + 0.1 * (17 - 4)
    assert m["wait_p95"] == pytest.approx(11.15)
    assert m["wait_p99"] == pytest.approx(15.83)
    assert m["mean_wait_served"] == pytest.approx(29 / 7)
    assert m["mean_sojourn"] == pytest.approx(49 / 7)
    assert m["wait_probability"] == pytest.approx(0.6)
    assert m["abandonment_rate"] == m["balking_rate"] == m["loss_rate"] == pytest.approx(0.1)
    assert m["unfinished_rate"] == 0
    # departures in [10, 110): customers 0 1 2 6 7 10 11 (customer 0 arrived before warmup)
    assert m["throughput"] == pytest.approx(7 / 100)
    assert m["n_complaints"] == 2
    assert m["complaint_rate"] == pytest.approx(0.2)


def test_bystanders_exclude_own_complaint_and_other_stations(metrics: dict) -> None:
    m = {k[2]: v for k, v in metrics.items() if k[:2] == ("system", "all")}
    # only customer 7 waited at the till during customer 6's handling [70, 80); customer 6's
    # own remake is not a bystander, nor customer 11 (till) during the kitchen complaint
    assert m["n_bystanders"] == 1
    assert m["bystander_mean_wait"] == pytest.approx(3.0)
    assert m["other_mean_wait"] == pytest.approx(30 / 9)
    assert m["bystander_wait_difference"] == pytest.approx(3.0 - 30 / 9)
    assert stats.bystanders(build_trace()).tolist() == [i == 7 for i in range(12)]


def test_class_scope(metrics: dict) -> None:
    a = {k[2]: v for k, v in metrics.items() if k[:2] == ("class", "a")}
    b = {k[2]: v for k, v in metrics.items() if k[:2] == ("class", "b")}
    assert a["n_customers"] == 5 and b["n_customers"] == 5
    assert a["mean_wait"] == pytest.approx(23 / 5)
    assert b["mean_wait"] == pytest.approx(2.0)
    assert a["throughput"] == pytest.approx(4 / 100)
    assert b["throughput"] == pytest.approx(3 / 100)
    assert a["loss_rate"] == pytest.approx(0.2) and b["balking_rate"] == pytest.approx(0.2)
    assert a["n_bystanders"] == 0 and b["n_bystanders"] == 1
    assert np.isnan(a["bystander_mean_wait"])


def test_station_staff_and_time_averages(metrics: dict) -> None:
    assert metrics[("station", "till", "utilization")] == pytest.approx(120 / 300)
    assert metrics[("station", "kitchen", "utilization")] == pytest.approx(30 / 50)
    assert metrics[("station", "till", "mean_queue_length")] == pytest.approx(0.5)
    assert metrics[("station", "till", "mean_in_system")] == pytest.approx(1.5)
    assert metrics[("station", "kitchen", "mean_queue_length")] == pytest.approx(0.1)
    assert metrics[("system", "all", "mean_queue_length")] == pytest.approx(0.6)
    assert metrics[("system", "all", "mean_in_system")] == pytest.approx(1.7)
    assert metrics[("system", "all", "utilization")] == pytest.approx(150 / 350)
    # visits reached at the till by window customers: waits 0 3 4 6 11 3 3
    assert metrics[("station", "till", "n_visits")] == 7
    assert metrics[("station", "till", "mean_wait")] == pytest.approx(30 / 7)
    assert metrics[("station", "kitchen", "mean_wait")] == pytest.approx(1.5)
    assert metrics[("staff", "till.clerk1", "utilization")] == pytest.approx(0.6)
    assert metrics[("staff", "manager", "utilization")] == pytest.approx(0.2)
    assert metrics[("staff", "manager", "complaint_time")] == 19
    assert metrics[("staff", "manager", "handling_share")] == pytest.approx(0.19)
    assert ("staff", "till.clerk1", "handling_share") not in metrics
    assert metrics[("system", "all", "complaint_time")] == 19


def test_empty_window_gives_nan_not_errors() -> None:
    trace = build_trace(CUSTOMERS[:1], warmup=10.0, horizon=110.0)  # only a pre-warmup arrival
    m = stats.summarize(trace)
    assert m[("system", "all", "n_customers")] == 0
    assert np.isnan(m[("system", "all", "mean_wait")])
    assert np.isnan(m[("system", "all", "wait_p99")])
    assert m[("system", "all", "throughput")] == pytest.approx(1 / 100)


def brute_force_bystanders(trace: Trace) -> np.ndarray:
    """O(n m) reference: does any visit wait overlap another customer's handling there?"""
    cust = trace.visit_customer
    a = trace.queued_at
    b = a + trace.visit_wait
    comp = np.flatnonzero(trace.complained & (trace.handling_ended_at > trace.handling_started_at))
    out = np.zeros(trace.n_customers, bool)
    for v in range(len(a)):
        if not b[v] > a[v]:
            continue
        for j in comp:
            if (cust[j] != cust[v] and trace.station[j] == trace.station[v]
                    and a[v] < trace.handling_ended_at[j] and trace.handling_started_at[j] < b[v]):
                out[cust[v]] = True
    return out


@pytest.mark.parametrize("seed", range(5))
def test_bystanders_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, per = 300, 2
    ptr = np.arange(0, n * per + 1, per)
    station = rng.integers(0, 3, n * per)
    trace = Trace.empty(n, ptr, station, np.zeros(n * per, bool), n_staff=1, n_stations=3,
                        warmup=0.0, horizon=1000.0, ended_at=1000.0)
    trace.arrived_at[:] = np.sort(rng.uniform(0, 900, n))
    queued = trace.arrived_at[trace.visit_customer] + rng.uniform(0, 20, n * per)
    wait = np.where(rng.random(n * per) < 0.3, 0.0, rng.exponential(5, n * per))
    trace.queued_at[:] = queued
    trace.service_started_at[:] = queued + wait
    trace.left_at[:] = trace.service_started_at[ptr[1:] - 1] + 1
    trace.complained[:] = rng.random(n * per) < 0.1
    trace.handling_started_at[:] = np.where(trace.complained, trace.service_started_at + 1, nan)
    trace.handling_ended_at[:] = trace.handling_started_at + rng.exponential(10, n * per)
    np.testing.assert_array_equal(stats.bystanders(trace), brute_force_bystanders(trace))


# ---------------------------------------------------------------------------------------------
# across replications


def test_across_replications_t_interval_matches_scipy() -> None:
    values = np.array([3.1, 2.7, 3.5, 4.0, 2.9])
    frame = pd.DataFrame({"replication": range(5), "system:all:mean_wait": values,
                          "station:till:utilization": [0.5] * 5})
    out = stats.across_replications(frame)
    assert list(out.columns) == stats.SUMMARY_COLUMNS
    row = out[out["metric"] == "mean_wait"].iloc[0]
    low, high = sps.t.interval(0.95, 4, loc=values.mean(), scale=sps.sem(values))
    assert (row["scope"], row["name"], row["reps"]) == ("system", "all", 5)
    assert row["mean"] == pytest.approx(values.mean())
    assert row["std"] == pytest.approx(values.std(ddof=1))
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    flat = out[out["metric"] == "utilization"].iloc[0]
    assert flat["ci_low"] == flat["ci_high"] == 0.5


def test_across_replications_is_nan_safe() -> None:
    frame = pd.DataFrame({"replication": range(4),
                          "class:a:mean_wait": [1.0, nan, 3.0, 5.0],
                          "class:b:mean_wait": [nan, 2.0, nan, nan],
                          "class:c:mean_wait": [nan] * 4})
    out = stats.across_replications(frame).set_index("name")
    assert out.loc["a", "reps"] == 3 and out.loc["a", "mean"] == pytest.approx(3.0)
    low, _ = sps.t.interval(0.95, 2, loc=3.0, scale=sps.sem([1.0, 3.0, 5.0]))
    assert out.loc["a", "ci_low"] == pytest.approx(low)
    assert out.loc["b", "reps"] == 1 and out.loc["b", "mean"] == 2.0
    assert np.isnan(out.loc["b", "ci_low"]) and np.isnan(out.loc["b", "std"])
    assert out.loc["c", "reps"] == 0 and np.isnan(out.loc["c", "mean"])


def test_across_replications_groups_and_long_input() -> None:
    frame = pd.DataFrame({"point": ["x", "x", "y", "y"], "replication": [0, 1, 0, 1],
                          "system:all:mean_wait": [1.0, 3.0, 10.0, 20.0],
                          "station:a:b:utilization": [0.1, 0.3, 0.5, 0.7]})
    out = stats.across_replications(frame, by=["point"])
    assert list(out.columns) == ["point", *stats.SUMMARY_COLUMNS]
    got = out.set_index(["point", "metric"])["mean"]
    assert got[("y", "mean_wait")] == 15.0 and got[("x", "utilization")] == pytest.approx(0.2)
    assert set(out["name"]) == {"all", "a:b"}  # separators inside names survive
    long = stats.to_long(frame)
    assert len(long) == 8
    again = stats.across_replications(long, by=["point"])
    pd.testing.assert_frame_equal(again.reset_index(drop=True), out.reset_index(drop=True))


def test_metric_columns_round_trip() -> None:
    key = ("station", "till", "utilization")
    assert stats.parse_metric_column(stats.metric_column(key)) == key
    assert stats.parse_metric_column("replication") is None
    assert stats.parse_metric_column("factor:x:y") is None


def test_summarize_is_fast_on_a_million_customers() -> None:
    """Vectorised: a 10^6-customer trace with complaints summarises in well under a minute."""
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    ptr = np.arange(n + 1)
    trace = Trace.empty(n, ptr, np.zeros(n, np.int64), np.zeros(n, bool), n_staff=1,
                        n_stations=1, warmup=0.0, horizon=float(n), ended_at=float(n))
    trace.arrived_at[:] = np.arange(n, dtype=float)
    trace.queued_at[:] = trace.arrived_at
    trace.service_started_at[:] = trace.arrived_at + rng.exponential(2, n)
    trace.left_at[:] = trace.service_started_at + 1
    trace.outcome[:] = S
    trace.complained[:] = rng.random(n) < 0.05
    trace.handling_started_at[:] = np.where(trace.complained, trace.left_at, nan)
    trace.handling_ended_at[:] = trace.handling_started_at + 5
    started = time.perf_counter()
    m = stats.summarize(trace)
    assert time.perf_counter() - started < 20
    assert m[("system", "all", "n_customers")] == n
    assert 0 < m[("system", "all", "n_bystanders")] < n
