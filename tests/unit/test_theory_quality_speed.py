"""Quality-speed curves and the cost per resolved case (DOMAIN.md 6b) against closed forms."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from queue_sim import theory as T


def test_exponential_elasticity_is_below_one_as_domain_states():
    # epsilon = x / (e^x - 1) with x = s / tau: 0.77 at 0.5, 0.58 at 1, 0.31 at 2
    q = partial(T.exponential_quality, q_max=0.9, tau=4.0)
    dq = partial(T.exponential_quality_slope, q_max=0.9, tau=4.0)
    eps = T.elasticity(q, dq, np.array([2.0, 4.0, 8.0]))
    np.testing.assert_allclose(eps, [0.5 / math.expm1(0.5), 1 / math.expm1(1), 2 / math.expm1(2)])
    assert eps.round(2).tolist() == [0.77, 0.58, 0.31]


def test_cost_with_exponential_handle_times_has_a_closed_form():
    # S ~ Exp(mean m): E[q(S)] = q_max m / (m + tau), kappa = m / qbar
    m, q_max, tau = 6.0, 0.9, 4.0
    q = partial(T.exponential_quality, q_max=q_max, tau=tau)
    cost = T.contact_cost(q, lambda u: -m * np.log1p(-u))
    qbar = q_max * m / (m + tau)
    assert cost.resolution_probability == pytest.approx(qbar, rel=1e-7)
    assert cost.handle_time == pytest.approx(m, rel=1e-7)
    assert cost.work_per_case == pytest.approx(m / qbar, rel=1e-7)
    assert cost.contacts_per_case == pytest.approx(1 / qbar, rel=1e-7)


def test_cap_and_repeat_extra_with_a_deterministic_handle_time():
    q = partial(T.logistic_quality, q_max=0.8, midpoint=4.0, tau=1.0)
    cost = T.contact_cost(q, lambda u: np.full(np.shape(u), 6.0), cap=3.0, repeat_extra=2.0)
    q3 = 0.8 / (1 + math.exp(1.0))
    assert cost.handle_time == pytest.approx(3.0)
    assert cost.resolution_probability == pytest.approx(q3)
    assert cost.work_per_case == pytest.approx(3 / q3 + 2 * (1 / q3 - 1))


def test_break_even_handle_times_solve_the_6b_condition():
    qe = partial(T.exponential_quality, q_max=0.9, tau=4.0)
    dqe = partial(T.exponential_quality_slope, q_max=0.9, tau=4.0)
    assert T.break_even_handle_times(qe, dqe) == []  # concave q: every cut lowers s / q(s)
    (s,) = T.break_even_handle_times(qe, dqe, repeat_extra=3.0)
    assert qe(s) == pytest.approx((s + 3.0) * dqe(s), rel=1e-6)
    cost = lambda x: (x + 3.0) / qe(x)  # noqa: E731 - a minimum: higher on both sides
    assert cost(s) < cost(0.9 * s) and cost(s) < cost(1.1 * s)
    ql = partial(T.logistic_quality, q_max=0.9, midpoint=4.0, tau=1.0)
    dql = partial(T.logistic_quality_slope, q_max=0.9, midpoint=4.0, tau=1.0)
    low, high = T.break_even_handle_times(ql, dql)  # a local maximum, then the minimum
    assert low < 4.0 < high
    np.testing.assert_allclose(T.elasticity(ql, dql, np.array([low, high])), 1.0, rtol=1e-6)


def test_bad_arguments_name_the_parameter():
    q = partial(T.exponential_quality, q_max=0.9, tau=4.0)
    with pytest.raises(ValueError, match="cap"):
        T.contact_cost(q, lambda u: u, cap=0.0)
    with pytest.raises(ValueError, match="repeat_extra"):
        T.contact_cost(q, lambda u: u, repeat_extra=-1.0)
