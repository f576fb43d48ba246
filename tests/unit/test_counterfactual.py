"""``counterfactual.compare`` and ``time_waiting`` on a hand-traced shift change.

A (arrives 0, service 2) and B (arrives 1.5, service 2) at one clerk who goes off duty from 1
to 3.  The counterfactual has no shift change: A is served 0-2 and B 2-4 (B waits 0.5).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from queue_sim.counterfactual import compare, time_waiting
from tests.model.hand_traced import build, run

ENGINES = ["simpy"] + (["numba"] if importlib.util.find_spec("queue_sim.kernels") else [])


def shift_change(tmp_path, on_shift_end: str | None):  # noqa: ANN001
    till = {"servers": 1}
    if on_shift_end:
        till |= {"on_shift_end": on_shift_end,
                 "schedule": [{"at": 1, "servers": 0}, {"at": 3, "servers": 1}]}
    return build(tmp_path, {"a": {"at": [0, 1.5], "service": 2}}, stations={"till": till})


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("on_shift_end, waiting, extra", [
    # hand_back: A is handed back at 1 (1 of 2 done) and waits in the queue until 3, ends at 4;
    # B waits 1.5-4.  finish: A ends at 2, B waits 1.5-3 and is served 3-5.
    ("hand_back", [2.0, 2.5], [2.0, 2.0]),
    ("finish", [0.0, 1.5], [0.0, 1.0]),
])
def test_a_customer_handed_back_waits_again(tmp_path, engine, on_shift_end, waiting, extra):
    actual = run(shift_change(tmp_path, on_shift_end), engine)
    baseline = run(shift_change(tmp_path, None), engine)
    assert time_waiting(actual).tolist() == waiting
    assert time_waiting(baseline).tolist() == baseline.wait_time.tolist() == [0.0, 0.5]
    metrics, customers = compare(actual, baseline, threshold=0.5)
    assert customers["extra_wait"].tolist() == extra
    assert metrics[("counterfactual", "all", "extra_wait_total")] == sum(extra)
    assert metrics[("counterfactual", "all", "n_delayed")] == float(np.sum(np.array(extra) > 0.5))
