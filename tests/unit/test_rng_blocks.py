"""Draws in blocks: concatenated, the blocks are exactly ``rng.draw``'s arrays, whatever the
block size, for every kind of arrival process, batches, routing and several classes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_sim.config import load_scenario, scenario_from_dict
from queue_sim.rng import draw
from queue_sim.rng_blocks import draw_blocks
from tests.crosscheck.test_reference_vs_kernel import CONFIGS, EXTRAS, _shortened, scenarios

FIELDS = ("arrived_at", "class_idx", "station", "service_time", "patience", "balk_u",
          "is_wrong", "handling_time", "is_rework")


def assert_blocks_make_the_draw(scenario, seed: int, block: int) -> int:  # noqa: ANN001
    whole = draw(scenario, seed, 1)
    blocks = list(draw_blocks(scenario, seed, 1, block))
    assert blocks[-1].is_last and not any(b.is_last for b in blocks[:-1])
    assert all(b.draws.n_customers <= block for b in blocks)
    assert all(b.draws.n_customers for b in blocks[:-1])
    for name in FIELDS:
        got = np.concatenate([getattr(b.draws, name) for b in blocks])
        np.testing.assert_array_equal(got, getattr(whole, name), err_msg=name)
    ptr = np.concatenate([[0]] + [b.draws.visit_ptr[1:] + b.first_visit for b in blocks])
    np.testing.assert_array_equal(ptr, whole.visit_ptr)
    assert [b.first for b in blocks] == np.cumsum(
        [0] + [b.draws.n_customers for b in blocks[:-1]]).tolist()
    assert blocks[-1].draws.horizon == whole.horizon
    return len(blocks)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_configs(path) -> None:  # noqa: ANN001
    for block in (1, 7, 1 << 16):
        assert_blocks_make_the_draw(_shortened(path), 5, block)


@pytest.mark.parametrize("name", ["balking_both_rules", "rework_service_no_priority",
                                  "no_rework_complaints_at_kitchen"])
def test_two_classes_batches_routing(name: str) -> None:
    assert assert_blocks_make_the_draw(scenario_from_dict(EXTRAS[name]()), 3, 50) > 3


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=scenarios(), seed=st.integers(0, 2**31 - 1), block=st.integers(1, 300))
def test_random_scenarios(data: dict, seed: int, block: int) -> None:
    assert_blocks_make_the_draw(scenario_from_dict(data), seed, block)


@pytest.mark.parametrize("overrides", [{"run.horizon": None, "run.customers": 150_000},
                                       {"run.horizon": 200_000.0}])
def test_many_stream_blocks(overrides: dict) -> None:
    scenario = load_scenario("configs/counter_360.yaml", overrides)
    assert assert_blocks_make_the_draw(scenario, 2, 40_000) >= 4


def test_block_must_be_positive() -> None:
    with pytest.raises(ValueError, match="block must be >= 1"):
        next(draw_blocks(load_scenario("configs/mm1.yaml"), 1, 0, 0))
