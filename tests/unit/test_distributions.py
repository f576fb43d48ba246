"""The eight service-time distributions of a scenario: each ``quantile`` is the inverse CDF of
the law it names (checked against scipy's ``ppf``), and ``moments`` gives its mean and second
moment, which ``check`` uses for the offered load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from queue_sim.config.distributions import DISTRIBUTION_KINDS, Distribution

U = np.concatenate([[0.0, 1e-9], np.linspace(0.001, 0.999, 999), [1 - 1e-9]])

LAWS = [
    ({"kind": "exponential", "mean": 0.8}, stats.expon(scale=0.8)),
    ({"kind": "uniform", "low": 0.5, "high": 2.0}, stats.uniform(loc=0.5, scale=1.5)),
    ({"kind": "triangular", "low": 0.5, "mode": 1.0, "high": 3.0},
     stats.triang(c=0.2, loc=0.5, scale=2.5)),
    ({"kind": "triangular", "low": 0.0, "mode": 2.0, "high": 2.0}, stats.triang(c=1.0, scale=2)),
    ({"kind": "gamma", "mean": 2.0, "cv": 0.5}, stats.gamma(a=4.0, scale=0.5)),
    ({"kind": "gamma", "mean": 1.0, "cv": 2.0}, stats.gamma(a=0.25, scale=4.0)),
    ({"kind": "lognormal", "mean": 1.5, "cv": 0.6},
     stats.lognorm(s=math.sqrt(math.log(1.36)), scale=1.5 / math.sqrt(1.36))),
    ({"kind": "weibull", "shape": 1.5, "scale": 2.0}, stats.weibull_min(c=1.5, scale=2.0)),
    ({"kind": "weibull", "shape": 0.7, "scale": 1.0}, stats.weibull_min(c=0.7, scale=1.0)),
]


def parse(spec: dict):  # noqa: ANN201 - one of the Distribution classes
    return TypeAdapter(Distribution).validate_python(spec)


def test_every_kind_is_covered_here() -> None:
    covered = {spec["kind"] for spec, _ in LAWS} | {"deterministic", "empirical"}
    assert covered == set(DISTRIBUTION_KINDS)


@pytest.mark.parametrize(("spec", "law"), LAWS, ids=[str(s) for s, _ in LAWS])
def test_quantile_is_the_inverse_cdf(spec: dict, law) -> None:  # noqa: ANN001
    np.testing.assert_allclose(parse(spec).quantile(U), law.ppf(U), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("spec", "law"), LAWS, ids=[str(s) for s, _ in LAWS])
def test_moments_are_mean_and_second_moment(spec: dict, law) -> None:  # noqa: ANN001
    mean, second = parse(spec).moments()
    assert mean == pytest.approx(law.mean(), rel=1e-12)
    assert second == pytest.approx(law.moment(2), rel=1e-10)


def test_deterministic_and_lognormal_without_spread_are_constant() -> None:
    for spec in ({"kind": "deterministic", "value": 1.25},
                 {"kind": "lognormal", "mean": 1.25, "cv": 0.0}):
        dist = parse(spec)
        np.testing.assert_allclose(dist.quantile(U[1:-1]), 1.25, rtol=1e-15)
        assert dist.moments() == pytest.approx((1.25, 1.25**2), rel=1e-15)


def test_empirical_gives_each_observation_an_equal_share() -> None:
    dist = parse({"kind": "empirical", "file": "unused.csv"}).bind(np.array([3.0, 1.0, 2.0, 2.0]))
    u = (np.arange(4000) + 0.5) / 4000        # evenly spread uniforms
    values, counts = np.unique(dist.quantile(u), return_counts=True)
    assert values.tolist() == [1.0, 2.0, 3.0]
    assert counts.tolist() == [1000, 2000, 1000]
    assert dist.quantile(np.array([0.0, 1 - 1e-12])).tolist() == [1.0, 3.0]
    assert dist.moments() == pytest.approx((2.0, 4.5))
