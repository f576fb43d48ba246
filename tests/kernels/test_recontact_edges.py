"""Kernel growth path for retries: a visit that needs more retry draws than were drawn makes
the wrapper run again with twice as many (the longer draw starts with the same numbers)."""

from __future__ import annotations

import importlib

from queue_sim import kernels, model
from queue_sim.config import scenario_from_dict
from queue_sim.rng import draw, retrial_draws
from tests.crosscheck.test_reference_vs_kernel import assert_same_trace

kernel_module = importlib.import_module("queue_sim.kernels.simulate")
readers_module = importlib.import_module("queue_sim.model.draw_readers")

RETRIAL_QUEUE = {
    "run": {"horizon": 200},
    "stations": {"s": {"servers": 1, "capacity": 0}},
    "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.9},
                      "service": {"s": {"kind": "exponential", "mean": 1}},
                      "retrial": {"probability": 1.0,
                                  "delay": {"kind": "exponential", "mean": 2}}}},
}


def test_rerun_with_more_retry_draws(monkeypatch):
    scenario = scenario_from_dict(RETRIAL_QUEUE)
    draws = draw(scenario, 3, 0)
    calls: list[int | None] = []
    real = kernel_module.run_kernel

    def spy(scenario, draws, inputs, n_episodes, n_retries=None):  # noqa: ANN001, ANN202
        calls.append(n_retries)
        return real(scenario, draws, inputs, n_episodes, n_retries)

    monkeypatch.setattr(kernel_module, "initial_retries", lambda scenario: 1)
    monkeypatch.setattr(readers_module, "initial_retries", lambda scenario: 1)
    monkeypatch.setattr(kernel_module, "run_kernel", spy)
    kernel = kernels.simulate(scenario, draws)
    assert_same_trace(model.simulate(scenario, draws), kernel)
    assert calls[:2] == [1, 2] and kernel.n_attempts.max() > 2


def test_retry_draws_are_keyed_by_attempt():
    scenario = scenario_from_dict(RETRIAL_QUEUE)
    draws = draw(scenario, 3, 0)
    short, long = retrial_draws(scenario, draws, 2), retrial_draws(scenario, draws, 5)
    for name in ("retry_u", "delay", "patience", "balk_u"):
        assert (getattr(long, name)[:, :2] == getattr(short, name)).all(), name
    assert (short.row == long.row).all() and (short.row >= 0).all()
