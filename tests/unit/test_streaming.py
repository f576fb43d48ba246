"""Streamed statistics: chunk by chunk they equal ``summarize`` of the whole trace (exactly
while the columns are kept, to summation rounding and the sketch's stated accuracy beyond)."""

from __future__ import annotations

import numpy as np
import pytest

from queue_sim import stats, streaming
from queue_sim.config import load_scenario
from queue_sim.kernels import simulate
from queue_sim.rng import draw

CONFIG = "configs/counter_360.yaml"


@pytest.fixture(scope="module")
def trace():  # noqa: ANN201
    scenario = load_scenario(CONFIG, {"run.horizon": None, "run.customers": 6000,
                                      "run.warmup": 20})
    return simulate(scenario, draw(scenario, 3, 0))


def streamed(trace, cuts: list[int], exact_customers: int) -> dict:  # noqa: ANN001
    every = stats.complaint_intervals(trace)
    intervals = (trace.station[every], trace.handling_started_at[every],
                 trace.handling_ended_at[every])
    summary = streaming.StreamingSummary(len(trace.class_names), len(trace.station_names),
                                         exact_customers=exact_customers)
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        summary.add(stats.customer_columns(trace.slice_customers(lo, hi), intervals))
    return summary.result(trace)


def test_streamed_columns_give_bit_identical_metrics(trace) -> None:  # noqa: ANN001
    whole = stats.summarize(trace)
    n = trace.n_customers
    got = streamed(trace, [0, 1, 777, 778, 4000, n], exact_customers=n)
    assert list(got) == list(whole)
    np.testing.assert_array_equal(np.array(list(got.values())),
                                  np.array(list(whole.values())))


def test_streamed_sums_and_sketch_are_within_their_accuracy(trace) -> None:  # noqa: ANN001
    whole = stats.summarize(trace)
    n = trace.n_customers
    got = streamed(trace, [0, 1000, 1001, 3500, n], exact_customers=500)
    assert list(got) == list(whole)
    for key, exact in whole.items():
        if key[2].startswith("wait_p"):
            assert got[key] == pytest.approx(exact, rel=streaming.RELATIVE_ACCURACY, abs=1e-12)
        else:
            assert got[key] == pytest.approx(exact, rel=1e-12, nan_ok=True), key
    # the sketch is approximate, not a copy: some percentile differs in the last digits
    assert any(got[k] != whole[k] for k in whole if k[2].startswith("wait_p") and whole[k])


def test_sketch_percentiles_are_within_alpha_of_numpy() -> None:
    gen = np.random.default_rng(5)
    values = np.concatenate([np.zeros(3000), gen.lognormal(0, 2, 20000),
                             gen.exponential(1e-5, 500), [1e-9, 5e8]])
    sketch = streaming.WaitSketch()
    for chunk in np.array_split(gen.permutation(values), 7):
        sketch.add(chunk)
    ps = (0, 1, 10, 12, 50, 90, 95, 99, 99.9, 100)
    exact = np.percentile(values, ps)
    got = np.array(sketch.percentiles(ps))
    assert sketch.n == len(values)
    np.testing.assert_allclose(got, exact, rtol=streaming.RELATIVE_ACCURACY * (1 + 1e-9))
    assert np.abs(got / np.where(exact > 0, exact, 1) - 1).max() > 1e-5  # really a sketch
    assert np.isnan(streaming.WaitSketch().percentiles((50,))[0])
    with pytest.raises(ValueError, match="alpha"):
        streaming.WaitSketch(alpha=0)
