"""Replications on threads: the same numbers whatever the number of threads, in order."""

from __future__ import annotations

import pandas as pd
import pytest

from queue_sim import runner, simulate
from queue_sim.config import load_scenario

CONFIG = "configs/counter_360.yaml"
SHORT = {"run.horizon": None, "run.customers": 1500, "run.warmup": 10, "run.seed": 4}


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_replications_are_bit_identical_on_1_2_and_3_threads(engine: str) -> None:
    scenario = load_scenario(CONFIG, SHORT)
    n = 7 if engine == "numba" else 3
    runs = {t: simulate(scenario, replications=n, engine=engine, threads=t, progress=False,
                        keep_customers=[0, n - 1])
            for t in (1, 2, 3)}
    one = runs[1]
    assert one.replications["replication"].tolist() == list(range(n))
    for t in (2, 3):
        assert runs[t].manifest["threads"] == min(t, n)
        pd.testing.assert_frame_equal(runs[t].replications, one.replications, check_exact=True)
        pd.testing.assert_frame_equal(runs[t].summary, one.summary, check_exact=True)
        pd.testing.assert_frame_equal(runs[t].customers, one.customers, check_exact=True)


def test_explicit_replication_indices_keep_their_order_on_threads() -> None:
    scenario = load_scenario(CONFIG, SHORT)
    picked = simulate(scenario, replications=[5, 2, 3], threads=3, progress=False)
    alone = simulate(scenario, replications=[2], threads=1, progress=False)
    assert picked.replications["replication"].tolist() == [5, 2, 3]
    pd.testing.assert_frame_equal(picked.replications.iloc[[1]].reset_index(drop=True),
                                  alone.replications, check_exact=True)


def test_thread_defaults_and_bad_values() -> None:
    cores = runner.available_cores()
    assert runner.resolve_threads(None, "numba", 100) == cores
    assert runner.resolve_threads(None, "numba", 1) == 1          # never more than reps
    assert runner.resolve_threads(None, "simpy", 100) == 1        # the GIL: no gain
    assert runner.resolve_threads(4, "simpy", 100) == 4
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            runner.resolve_threads(bad, "numba", 10)


def test_results_come_in_task_order_and_an_error_propagates() -> None:
    import time

    def task(k: int):  # noqa: ANN202 - later tasks finish first
        time.sleep(0.02 * (5 - k))
        if k == 4:
            raise RuntimeError("task 4 broke")
        return k

    tasks = [lambda k=k: task(k) for k in range(5)]
    results = runner._in_order(tasks, 3)
    assert [next(results) for _ in range(4)] == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="task 4 broke"):
        next(results)
