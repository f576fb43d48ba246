"""Theory of queue structure (DOMAIN.md 5b.1) and the wait-dependent fluid fixed point (3b.3)."""

from __future__ import annotations

import pytest
from scipy import optimize

from queue_sim import theory as T


def test_random_split_is_three_mm1_queues_of_the_domain_example():
    r = T.separate_lines_random_split(2.4, 1.0, 3)
    assert r.mean_wait == pytest.approx(4.0, rel=1e-12)
    assert r.wait_probability == pytest.approx(0.8, rel=1e-12)
    assert r.mean_queue_length == pytest.approx(3 * 3.2, rel=1e-12)  # Lq = rho^2/(1-rho) each
    pooled = T.mmc(2.4, 1.0, 3)
    assert pooled.mean_wait == pytest.approx(1.0787, abs=5e-5)
    assert T.separate_lines_jockeying(2.4, 1.0, 3) == pooled


def test_fluid_fixed_point_is_pollaczek_khinchine_at_zero_kappa():
    assert T.wait_dependent_fluid_wait(0.7, 1.0, 3.25, 0.0) == pytest.approx(
        T.mg1(0.7, 1.0, 3.25).mean_wait, rel=1e-12)


@pytest.mark.parametrize("kappa", [0.01, 0.05, 0.1])
def test_fluid_fixed_point_solves_its_equation(kappa):
    lam, m1, m2 = 0.5, 1.0, 2.0
    w = T.wait_dependent_fluid_wait(lam, m1, m2, kappa)

    def gap(x: float) -> float:
        second = m2 + 2 * kappa * m1 * x + kappa**2 * x**2
        return x - lam * second / (2 * (1 - lam * (m1 + kappa * x)))

    assert w == pytest.approx(optimize.brentq(gap, 0.0, w * 1.5), rel=1e-10)
    assert w > T.mg1(lam, m1, m2).mean_wait  # slower service when waits are long


def test_fluid_fixed_point_vanishes_when_the_wait_snowballs():
    with pytest.raises(ValueError, match="per_wait"):
        T.wait_dependent_fluid_wait(0.8, 1.0, 2.0, 0.3)
    with pytest.raises(ValueError, match="arrival_rate"):
        T.separate_lines_random_split(3.0, 1.0, 3)
