"""Keyed uniform streams: any window of a stream equals the same slice of a longer draw, and
every block comes from its own SeedSequence, so the numbers never depend on how they are cut."""

from __future__ import annotations

import numpy as np
import pytest

from queue_sim import rng


@pytest.mark.parametrize(("start", "n"), [(0, 10), (5, 7), (rng.BLOCK - 3, 10),
                                          (rng.BLOCK, rng.BLOCK), (17, 2 * rng.BLOCK + 5),
                                          (3 * rng.BLOCK - 1, 1), (0, 0)])
def test_any_window_is_a_slice_of_the_whole_stream(start: int, n: int) -> None:
    whole = rng.stream_uniforms(9, 2, "service", (0, 1), 4 * rng.BLOCK)
    part = rng.stream_uniforms(9, 2, "service", (0, 1), n, start)
    np.testing.assert_array_equal(part, whole[start: start + n])


def test_each_block_is_its_own_seed_sequence() -> None:
    block = 2
    ss = np.random.SeedSequence(9, spawn_key=(2, rng.STREAMS.index("patience"), 1, 0, block))
    expected = np.random.Generator(np.random.PCG64(ss)).random(rng.BLOCK)
    got = rng.stream_uniforms(9, 2, "patience", (1, 0), rng.BLOCK, block * rng.BLOCK)
    np.testing.assert_array_equal(got, np.maximum(expected, np.finfo(float).tiny))
    assert (got > 0).all() and (got < 1).all()


def test_streams_and_keys_are_independent() -> None:
    a = rng.stream_uniforms(1, 0, "service", (0, 0), 1000)
    assert not np.array_equal(a, rng.stream_uniforms(1, 0, "patience", (0, 0), 1000))
    assert not np.array_equal(a, rng.stream_uniforms(1, 0, "service", (0, 1), 1000))
    assert not np.array_equal(a, rng.stream_uniforms(1, 1, "service", (0, 0), 1000))


def test_stream_ids_only_ever_grow_at_the_end() -> None:
    """A stream's id keys its numbers: the merged order keeps every earlier stream where it
    was (base, then the population and re-contact streams, then ``line``) and appends
    ``rudeness`` last."""
    assert rng.STREAMS == (
        "arrival", "batch", "routing", "service", "patience", "balking", "complaint",
        "handling", "uptime", "repair", "vacation",
        "population_day", "population_visit", "population_time", "population_retention",
        "population_word_of_mouth", "population_new",
        "resolution", "recontact", "recontact_delay", "escalation", "retrial",
        "retrial_delay", "retrial_patience", "retrial_balking",
        "line", "rudeness")
