"""Simulated means against closed-form queueing results (DOMAIN.md section 7), both engines.

The quick version runs in the default suite; the full version (four times the customers,
half the tolerance) is marked slow.  See ``queue_sim.validation`` for the pass rule.
"""

from __future__ import annotations

import importlib.util

import pytest

from queue_sim.validation import CASES, run_case

ENGINES = ["simpy"] + (["numba"] if importlib.util.find_spec("queue_sim.kernels")
                       else [])
IDS = [c.name for c in CASES]


def assert_case(case, engine, quick):
    table = run_case(case, engine=engine, quick=quick)
    failed = table[~table["passed"]]
    assert failed.empty, "\n" + failed.to_string()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_quick(case, engine):
    assert_case(case, engine, quick=True)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_full(case, engine):
    assert_case(case, engine, quick=False)
