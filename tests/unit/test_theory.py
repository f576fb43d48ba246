"""Unit tests for queue_sim.theory: DOMAIN.md worked numbers, limits, and independent CTMC solves.

The CTMC oracles below are written here from the model descriptions (generic state
enumeration + sparse solve), independently of the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, sparse, special, stats
from scipy.sparse import linalg as sparse_linalg

from queue_sim import theory as T
from queue_sim.theory import ctmc as theory_ctmc
from queue_sim.theory import abandonment as theory_abandonment

# --------------------------------------------------------------------------------------
# independent oracles


def generator_matrix(states, transitions):
    """(index of each state, sparse generator) of a CTMC on ``states``; transitions leaving
    the set are dropped."""
    index = {state: i for i, state in enumerate(states)}
    rows, cols, rates = [], [], []
    for state in states:
        for target, rate in transitions(state):
            if rate > 0 and target in index:
                rows.append(index[state])
                cols.append(index[target])
                rates.append(rate)
    size = len(states)
    generator = sparse.coo_matrix((rates, (rows, cols)), shape=(size, size)).tocsr()
    return index, generator - sparse.diags(np.asarray(generator.sum(axis=1)).ravel())


def stationary(states, transitions):
    """Stationary law of a CTMC on ``states``; transitions leaving the set are dropped."""
    index, generator = generator_matrix(states, transitions)
    size = len(states)
    system = generator.T.tolil()
    system[0, :] = 1.0
    rhs = np.zeros(size)
    rhs[0] = 1.0
    pi = sparse_linalg.spsolve(system.tocsc(), rhs)
    return {state: pi[index[state]] for state in states}


def birth_death(birth, death, top):
    """pi_0..pi_top of a birth-death chain by a dense null-space solve of its generator."""
    size = top + 1
    generator = np.zeros((size, size))
    for j in range(size):
        if j < top:
            generator[j, j + 1] = birth(j)
        if j > 0:
            generator[j, j - 1] = death(j)
        generator[j, j] = -generator[j].sum()
    system = np.vstack([generator.T, np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1.0
    return np.linalg.lstsq(system, rhs, rcond=None)[0]


def two_class_priority(lam1, lam2, mu1, mu2, servers, preemptive, cap=60):
    """Exact (truncated) CTMC on (q1, q2, b1, b2) for two priority classes, class 1 first."""
    states = [(q1, q2, b1, b2) for q1 in range(cap + 1) for q2 in range(cap + 1)
              for b1 in range(servers + 1) for b2 in range(servers + 1 - b1)]

    def moves(state):
        q1, q2, b1, b2 = state
        free = servers - b1 - b2
        if free:
            yield (q1, q2, b1 + 1, b2), lam1
            yield (q1, q2, b1, b2 + 1), lam2
        else:
            if preemptive and b2 > 0:
                yield (q1, q2 + 1, b1 + 1, b2 - 1), lam1
            else:
                yield (q1 + 1, q2, b1, b2), lam1
            yield (q1, q2 + 1, b1, b2), lam2
        for rate, after in ((b1 * mu1, (b1 - 1, b2)), (b2 * mu2, (b1, b2 - 1))):
            n1, n2 = after
            if q1 > 0:
                yield (q1 - 1, q2, n1 + 1, n2), rate
            elif q2 > 0:
                yield (q1, q2 - 1, n1, n2 + 1), rate
            else:
                yield (q1, q2, n1, n2), rate

    pi = stationary(states, moves)
    number1 = sum(p * (s[0] + s[2]) for s, p in pi.items())
    number2 = sum(p * (s[1] + s[3]) for s, p in pi.items())
    return number1 / lam1, number2 / lam2          # mean sojourns by Little's law


# --------------------------------------------------------------------------------------
# M/M/1, Erlang B/C, M/M/c


def test_mm1_matches_geometric_law():
    lam, mu = 0.7, 1.3
    result = T.mm1(lam, mu)
    rho = lam / mu
    n = np.arange(2000)
    pmf = (1 - rho) * rho ** n
    assert result.mean_number_in_system == pytest.approx(n @ pmf, rel=1e-12)
    assert result.mean_queue_length == pytest.approx(np.maximum(n - 1, 0) @ pmf, rel=1e-12)
    assert result.mean_sojourn == pytest.approx(1 / (mu - lam))
    assert result.mean_wait == pytest.approx(rho / (mu - lam))
    assert result.wait_probability == pytest.approx(rho)
    assert T.mm1_wait_tail(2.0, lam, mu) == pytest.approx(rho * math.exp(-(mu - lam) * 2))
    assert T.mm1_sojourn_tail([0.0, 1.0], lam, mu) == pytest.approx([1.0, math.exp(-0.6)])
    assert T.mm1_mean_sojourn(lam, mu) == pytest.approx(result.mean_sojourn)


def test_mm1_sojourn_power_moment_by_quadrature():
    lam, mu, b = 0.5, 1.0, 0.7
    numeric = integrate.quad(lambda t: t ** b * (mu - lam) * math.exp(-(mu - lam) * t),
                             0, np.inf)[0]
    assert T.mm1_sojourn_moment(b, lam, mu) == pytest.approx(numeric, rel=1e-9)


def test_erlang_b_and_c_against_factorial_sums():
    for servers, load in [(1, 0.5), (3, 2.4), (7, 5.5), (12, 10.0)]:
        terms = [load ** k / math.factorial(k) for k in range(servers + 1)]
        assert T.erlang_b(servers, load) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)
        rho = load / servers
        top = terms[-1] / (1 - rho)
        assert T.erlang_c(servers, load) == pytest.approx(top / (sum(terms[:-1]) + top),
                                                          rel=1e-12)
    assert T.erlang_b(0, 3.0) == 1.0
    assert 0.0 < T.erlang_b(2000, 1900.0) < 1.0          # recursion: no factorial overflow


def test_pooled_versus_separate_lines_and_power_moment():
    # DOMAIN.md 5b.1 / 5b.2: M/M/3, lambda = 2.4, mu = 1
    assert T.mmc(2.4, 1, 3).mean_wait == pytest.approx(1.0787, abs=5e-5)
    assert T.mm1(2.4 / 3, 1).mean_wait == pytest.approx(4.0)
    assert T.mmc_wait_moment(0.5, 2.4, 1, 3) == pytest.approx(0.74046, abs=5e-6)
    assert T.mmc_wait_moment(1.0, 2.4, 1, 3) == pytest.approx(T.mmc_mean_wait(2.4, 1, 3))
    second = integrate.quad(lambda t: 2 * t * T.mmc_wait_tail(t, 2.4, 1, 3), 0, np.inf)[0]
    assert T.mmc_wait_moment(2.0, 2.4, 1, 3) == pytest.approx(second, rel=1e-8)


@pytest.mark.parametrize("lam, mu, servers", [(2.4, 1.0, 3), (1.0, 1.0, 2), (3.5, 0.9, 5)])
def test_mmc_sojourn_tail_by_convolution(lam, mu, servers):
    # T = Wq + S independent: P(T <= t) = int_0^t P(Wq <= t - s) f_S(s) ds
    wait_probability = T.mmc_wait_probability(lam, mu, servers)
    gamma = servers * mu - lam
    for t in (0.0, 0.3, 2.0, 7.5):
        cdf = integrate.quad(lambda s: (1 - wait_probability * math.exp(-gamma * (t - s)))
                             * mu * math.exp(-mu * s), 0, t)[0]
        assert T.mmc_sojourn_tail(t, lam, mu, servers) == pytest.approx(1 - cdf, abs=1e-10)
    mean = integrate.quad(lambda t: T.mmc_sojourn_tail(t, lam, mu, servers), 0, np.inf)[0]
    assert mean == pytest.approx(T.mmc(lam, mu, servers).mean_sojourn, rel=1e-8)


def test_halfin_whitt_reference_numbers():
    assert T.halfin_whitt_wait_probability(100, 90) == pytest.approx(0.2027, abs=5e-5)
    assert T.erlang_c(100, 90) == pytest.approx(0.2169, abs=5e-5)


# --------------------------------------------------------------------------------------
# M/M/c/K, M/M/inf


@pytest.mark.parametrize("lam, mu, servers, capacity", [(2.0, 1.0, 2, 6), (5.0, 1.0, 3, 10),
                                                         (0.4, 1.0, 1, 1), (9.0, 1.5, 4, 4)])
def test_mmck_against_birth_death_chain(lam, mu, servers, capacity):
    pi = birth_death(lambda j: lam, lambda j: min(j, servers) * mu, capacity)
    n = np.arange(capacity + 1)
    result = T.mmck(lam, mu, servers, capacity)
    lam_eff = lam * (1 - pi[-1])
    assert result.blocking_probability == pytest.approx(pi[-1], rel=1e-9)
    assert result.mean_number_in_system == pytest.approx(n @ pi, rel=1e-9)
    queue = np.maximum(n - servers, 0) @ pi
    assert result.mean_queue_length == pytest.approx(queue, rel=1e-9, abs=1e-14)
    assert result.mean_wait == pytest.approx(queue / lam_eff, rel=1e-9, abs=1e-14)
    assert result.mean_sojourn == pytest.approx(n @ pi / lam_eff, rel=1e-9)
    assert result.wait_probability == pytest.approx(pi[servers:capacity].sum() / (1 - pi[-1]),
                                                    rel=1e-9, abs=1e-14)
    # P(Wq > t | admitted): n - c + 1 exponential(c mu) phases
    t = 0.7
    expected = sum(pi[k] / (1 - pi[-1]) * stats.gamma.sf(t, k - servers + 1,
                                                          scale=1 / (servers * mu))
                   for k in range(servers, capacity))
    assert T.mmck_wait_tail(t, lam, mu, servers, capacity) == pytest.approx(expected, abs=1e-12)


def test_mmck_limits():
    # c = K is Erlang B; huge K is M/M/c
    assert T.mmck(7.0, 1.0, 5, 5).blocking_probability == pytest.approx(T.erlang_b(5, 7.0))
    big = T.mmck(2.4, 1.0, 3, 400)
    plain = T.mmc(2.4, 1.0, 3)
    assert big.mean_wait == pytest.approx(plain.mean_wait, rel=1e-10)
    assert big.wait_probability == pytest.approx(plain.wait_probability, rel=1e-10)


def test_mm_infinity():
    result = T.mm_infinity(3.0, 0.5)
    assert (result.offered_load, result.mean_number_in_system) == (6.0, 6.0)
    assert (result.wait_probability, result.mean_wait, result.mean_sojourn) == (0.0, 0.0, 2.0)


# --------------------------------------------------------------------------------------
# M/G/1, service moments, M/D/1


def test_mg1_reduces_to_mm1_and_takacs_second_moment():
    lam, mu = 0.6, 1.0
    result = T.mg1(lam, *T.service_moments("exponential", mean=1 / mu))
    assert result.mean_wait == pytest.approx(T.mm1(lam, mu).mean_wait)
    # M/M/1: P(Wq > t) = rho e^{-(mu-lam)t}  =>  E[Wq^2] = 2 rho / (mu - lam)^2
    assert result.wait_second_moment == pytest.approx(2 * 0.6 / 0.4 ** 2)
    assert T.mg1(lam, 1.0, 2.0).wait_second_moment is None


@pytest.mark.parametrize("kind, params, law", [
    ("lognormal", {"mean": 1.5, "cv": 0.6},
     stats.lognorm(s=math.sqrt(math.log(1.36)), scale=1.5 / math.sqrt(1.36))),
    ("gamma", {"mean": 2.0, "cv": 0.5}, stats.gamma(a=4.0, scale=0.5)),
    ("uniform", {"low": 0.5, "high": 2.0}, stats.uniform(loc=0.5, scale=1.5)),
    ("triangular", {"low": 0.5, "mode": 1.0, "high": 3.0},
     stats.triang(c=0.2, loc=0.5, scale=2.5)),
    ("triangular", {"low": 0.0, "mode": 0.0, "high": 2.0}, stats.triang(c=0.0, scale=2.0)),
    ("exponential", {"mean": 0.8}, stats.expon(scale=0.8)),
])
def test_service_moments_against_quadrature(kind, params, law):
    moments = T.service_moments(kind, **params)
    for k, value in enumerate(moments, start=1):
        numeric = integrate.quad(lambda s: s ** k * law.pdf(s), *law.support(), limit=200)[0]
        assert value == pytest.approx(numeric, rel=1e-8)
    assert T.service_moments("deterministic", mean=2.0) == (2.0, 4.0, 8.0)


def test_md1_mean_and_crommelin_cdf():
    lam, d = 0.5, 1.0
    result = T.md1(lam, d)
    assert result.mean_wait == pytest.approx(0.5 * 1.0 / (2 * 0.5))
    assert T.md1_wait_cdf(0.0, lam, d) == pytest.approx(1 - 0.5)
    # below one service time the CDF is (1 - rho) e^{lambda t}
    assert T.md1_wait_cdf(0.6, lam, d) == pytest.approx(0.5 * math.exp(0.3))
    # integral of the tail recovers E[Wq]: quadrature over [0, 10 D] plus the geometric
    # remainder tail(10) / s, with the decay rate s read off tail(9) / tail(10)
    tail_area = integrate.quad(lambda t: 1 - T.md1_wait_cdf(t, lam, d), 0, 10,
                               points=list(range(1, 10)), limit=200, epsabs=1e-12)[0]
    tail9, tail10 = 1 - T.md1_wait_cdf(9.0, lam, d), 1 - T.md1_wait_cdf(10.0, lam, d)
    decay = math.log(tail9 / tail10)
    assert decay == pytest.approx(1.2564312086, rel=1e-4)     # root of 0.5 (e^s - 1) = s
    assert tail_area + tail10 / decay == pytest.approx(result.mean_wait, abs=1e-8)
    values = T.md1_wait_cdf(np.linspace(0, 10, 101), 0.9, d)
    assert np.all(np.diff(values) >= -1e-12) and values[-1] <= 1.0
    with pytest.raises(ValueError, match="t must be <= 10"):
        T.md1_wait_cdf(10.5, lam, d)


def test_md1_cdf_against_lindley_recursion():
    rng = np.random.default_rng(12345)
    lam, d, customers = 0.7, 1.0, 400_000
    gaps = rng.exponential(1 / lam, customers)
    waits = np.empty(customers)
    w = 0.0
    for i in range(customers):           # plain loop over a modest sample, about 0.3 s
        waits[i] = w
        w = max(0.0, w + d - gaps[i])
    for t in (0.5, 1.5, 3.0):
        assert T.md1_wait_cdf(t, lam, d) == pytest.approx(np.mean(waits <= t), abs=6e-3)


def test_vacations_and_breakdowns():
    lam, mean_s, second_s = 0.5, 1.0, 2.0
    base = T.mg1(lam, mean_s, second_s)
    multiple = T.mg1_multiple_vacations(lam, mean_s, second_s, 2.0, 8.0)
    assert multiple.mean_wait == pytest.approx(base.mean_wait + 8.0 / 4.0)
    assert multiple.wait_probability == 1.0
    beta = 0.5                                   # exponential vacation, mean 2
    single = T.mg1_single_vacation(lam, mean_s, second_s, 2.0, 8.0, beta / (beta + lam))
    star = beta / (beta + lam)
    assert single.mean_wait == pytest.approx(base.mean_wait + lam * 8.0 / (2 * (lam * 2 + star)))
    assert single.wait_probability == pytest.approx(1 - 0.5 * star / (lam * 2 + star))
    # breakdowns: completion time of Exp(1) work with Poisson(alpha) stops of Exp(mean r)
    alpha, r = 0.1, 2.0
    mean_c, second_c = T.completion_time_moments(1.0, 2.0, alpha, r, 2 * r * r)
    assert mean_c == pytest.approx(1.2)
    assert second_c == pytest.approx(2.0 * 1.2 ** 2 + alpha * 1.0 * 8.0)
    broken = T.mg1_breakdowns(0.5, 1.0, 2.0, alpha, r, 2 * r * r)
    assert broken.wait_probability == pytest.approx(0.6)
    assert broken.mean_wait == pytest.approx(0.5 * second_c / (2 * 0.4))
    assert T.mg1_breakdowns(0.5, 1.0, 2.0, 0.0, 1.0, 1.0).mean_wait == pytest.approx(
        base.mean_wait)


# --------------------------------------------------------------------------------------
# priorities


def test_preemptive_resume_regression_case():
    # DOMAIN.md 8: lambda = (0.2, 0.5), S1 ~ Exp(1), S2 = 1  ->  T = (1.25, 3.125)
    result = T.mg1_preemptive_resume_priority([0.2, 0.5], [1.0, 1.0], [2.0, 1.0])
    assert result.mean_sojourns == pytest.approx((1.25, 3.125))
    assert result.mean_waits == pytest.approx((0.25, 2.125))


@pytest.mark.parametrize("rho2, lam1, repair, row", [
    (0.6, 0.01, 5, (2.50, 3.23, 3.61, 3.18, 3.07)),
    (0.6, 0.02, 5, (2.50, 4.26, 5.19, 4.15, 3.83)),
    (0.75, 0.02, 5, (4.00, 8.52, 10.37, 8.41, 7.67)),
    (0.75, 0.05, 3, (4.00, 12.65, 15.29, 12.47, 10.75)),
])
def test_recovery_as_priority_class_table(rho2, lam1, repair, row):
    # DOMAIN.md 2b.3: class 1 = recovery jobs of length R, class 2 = Exp(1) customers
    rates, means = [lam1, rho2], [repair, 1.0]
    deterministic, exponential = [repair ** 2, 2.0], [2 * repair ** 2, 2.0]
    lam = lam1 + rho2
    mixed = T.mg1(lam, (lam1 * repair + rho2) / lam, (lam1 * repair ** 2 + 2 * rho2) / lam)
    computed = (
        T.mm1(rho2, 1.0).mean_sojourn,
        T.mg1_preemptive_resume_priority(rates, means, deterministic).mean_sojourns[1],
        T.mg1_preemptive_resume_priority(rates, means, exponential).mean_sojourns[1],
        T.mg1_nonpreemptive_priority(rates, means, deterministic).mean_sojourns[1],
        mixed.mean_wait + 1.0,
    )
    assert computed == pytest.approx(row, abs=0.005 + 1e-12)


def test_nonpreemptive_conservation_law():
    rates, means, seconds = [0.1, 0.2, 0.15], [1.0, 0.5, 2.0], [1.5, 0.5, 6.0]
    result = T.mg1_nonpreemptive_priority(rates, means, seconds)
    loads = np.multiply(rates, means)
    residual = np.dot(rates, seconds) / 2
    rho = loads.sum()
    assert np.dot(loads, result.mean_waits) == pytest.approx(rho * residual / (1 - rho))
    assert result.wait_probabilities == pytest.approx((rho,) * 3)


def test_mg1_priorities_against_ctmc_with_unequal_rates():
    lam1, lam2, mu1, mu2 = 0.25, 0.2, 1.0, 0.6
    args = ([lam1, lam2], [1 / mu1, 1 / mu2], [2 / mu1 ** 2, 2 / mu2 ** 2])
    for preemptive, formula in ((False, T.mg1_nonpreemptive_priority),
                                (True, T.mg1_preemptive_resume_priority)):
        exact = two_class_priority(lam1, lam2, mu1, mu2, 1, preemptive)
        assert formula(*args).mean_sojourns == pytest.approx(exact, rel=1e-7)


def test_mmc_priorities_against_ctmc():
    lam1, lam2, mu, servers = 0.5, 0.7, 1.0, 2
    exact_np = two_class_priority(lam1, lam2, mu, mu, servers, preemptive=False)
    exact_pr = two_class_priority(lam1, lam2, mu, mu, servers, preemptive=True)
    np_result = T.mmc_nonpreemptive_priority([lam1, lam2], mu, servers)
    pr_result = T.mmc_preemptive_resume_priority([lam1, lam2], mu, servers)
    assert np_result.mean_sojourns == pytest.approx(exact_np, rel=1e-7)
    assert pr_result.mean_sojourns == pytest.approx(exact_pr, rel=1e-7)
    assert pr_result.mean_waits[0] == pytest.approx(T.mmc(lam1, mu, servers).mean_wait)


def test_interruptions_are_a_preemptive_top_class():
    result = T.mg1_interruptions(0.5, 1.0, 1.0, 0.05, 3.0, 9.0)
    classes = T.mg1_preemptive_resume_priority([0.05, 0.5], [3.0, 1.0], [9.0, 1.0])
    assert result.mean_sojourn == pytest.approx(classes.mean_sojourns[1])
    assert result.mean_wait == pytest.approx(classes.mean_sojourns[1] - 1.0)
    assert result.wait_probability == pytest.approx(0.65)


# --------------------------------------------------------------------------------------
# Erlang-A


def erlang_a_oracle(lam, mu, n, theta, top):
    """Birth-death solve plus the tagged customer's absorbing chain (served / abandoned)."""
    pi = birth_death(lambda j: lam, lambda j: min(j, n) * mu + max(j - n, 0) * theta, top)
    ahead = top - n
    rates = n * mu + theta * np.arange(ahead + 1)            # r_m: progress rate with m ahead
    transient = np.diag(-(rates + theta)) + np.diag(rates[1:], k=-1)
    served_exit = np.zeros(ahead + 1)
    served_exit[0] = n * mu
    start = pi[n:]                                           # arrival finds n + m (PASTA)
    queue = np.arange(ahead + 1) @ start
    served_time = start @ np.linalg.solve(transient, np.linalg.solve(transient, served_exit))
    abandon = theta * queue / lam
    return {
        "wait_probability": start.sum(), "mean_queue_length": queue,
        "abandonment_probability": abandon, "mean_wait": queue / lam,
        "mean_wait_served": served_time / (1 - abandon),
        "tail": lambda t: start @ sparse_linalg.expm_multiply(sparse.csr_matrix(transient) * t,
                                                              np.ones(ahead + 1)),
    }


@pytest.mark.parametrize("lam, mu, n, theta, top", [
    (12.0, 1.0, 10, 0.5, 150), (8.0, 1.0, 10, 0.2, 150), (15.0, 1.0, 10, 0.1, 260),
    (3.0, 0.5, 4, 2.0, 60),
])
def test_erlang_a_against_birth_death_chain(lam, mu, n, theta, top):
    exact = erlang_a_oracle(lam, mu, n, theta, top)
    for method in ("formula", "chain", "auto"):
        result = T.erlang_a(lam, mu, n, theta, method=method)
        for key in ("wait_probability", "abandonment_probability", "mean_wait",
                    "mean_queue_length", "mean_wait_served"):
            assert getattr(result, key) == pytest.approx(exact[key], rel=1e-8), (method, key)
    times = [0.0, 0.2, 1.0, 4.0]
    assert T.erlang_a_wait_tail(times, lam, mu, n, theta) == pytest.approx(
        [exact["tail"](t) for t in times], rel=1e-8, abs=1e-14)
    result = T.erlang_a(lam, mu, n, theta)
    assert result.abandonment_probability == pytest.approx(theta * result.mean_wait)


@settings(max_examples=40, deadline=None)
@given(load=st.floats(0.2, 3.0), servers=st.integers(1, 40), theta=st.floats(0.01, 5.0))
def test_erlang_a_formula_and_chain_agree(load, servers, theta):
    lam = load * servers
    # the closed form underflows (gammainc -> 0) far below saturation; "auto" then uses the chain
    assume(theory_abandonment._closed_form(servers / theta, lam / theta) is not None)
    formula = T.erlang_a(lam, 1.0, servers, theta, method="formula")
    chain = T.erlang_a(lam, 1.0, servers, theta, method="chain")
    assert formula.wait_probability == pytest.approx(chain.wait_probability, rel=1e-9)
    assert formula.mean_wait == pytest.approx(chain.mean_wait, rel=1e-7, abs=1e-12)


def test_erlang_a_theta_equal_mu_is_poisson():
    result = T.erlang_a(10.0, 1.0, 10, 1.0)
    assert result.wait_probability == pytest.approx(0.542070, abs=5e-7)
    assert result.wait_probability == pytest.approx(stats.poisson.sf(9, 10.0), rel=1e-12)
    assert result.mean_number_in_system == pytest.approx(10.0)


def test_erlang_a_tends_to_erlang_c():
    # the gap closes linearly in theta (slope about -1.52 for P(wait), -18.7 for E[W])
    plain = T.mmc(2.4, 1.0, 3)
    for theta in (1e-4, 1e-6, 1e-9):
        result = T.erlang_a(2.4, 1.0, 3, theta)
        assert abs(result.wait_probability - plain.wait_probability) < 2.0 * theta
        assert abs(result.mean_wait - plain.mean_wait) < 20.0 * theta
        assert abs(result.mean_wait_served - plain.mean_wait) < 20.0 * theta
    formula = T.erlang_a(2.4, 1.0, 3, 1e-4, method="formula")
    chain = T.erlang_a(2.4, 1.0, 3, 1e-4, method="chain")
    assert formula.mean_wait == pytest.approx(chain.mean_wait, rel=1e-8)


def test_erlang_a_qed_and_reference_exact():
    assert T.erlang_a(100.0, 1.0, 100, 0.5).wait_probability == pytest.approx(0.5967, abs=5e-5)
    assert T.erlang_a_qed_wait_probability(100.0, 1.0, 100, 0.5) == pytest.approx(
        0.5858, abs=5e-5)


@pytest.mark.parametrize("x, y", [(0.5, 3.0), (10.0, 8.0), (10.0, 14.0), (40.0, 35.0),
                                  (300.0, 320.0), (2e4, 2.01e4), (2e4, 1.98e4)])
def test_log_space_a_matches_chain_sum(x, y):
    closed = theory_abandonment._closed_form(x, y)
    chain = special.logsumexp(theory_abandonment._log_waiting_weights(x, y))
    assert closed is not None
    assert closed[0] == pytest.approx(chain, rel=1e-10, abs=1e-10)


def test_erlang_a_large_arguments_fall_back_to_chain():
    # x = y = 2e8 would cancel in the closed form; "auto" must switch to the chain
    result = T.erlang_a(1e4, 1.0, 10_000, 5e-5)
    assert result.method == "chain"
    assert 0.0 < result.wait_probability < 1.0
    # moderate overload with tiny theta: queue ~ (lambda - n mu) / theta
    over = T.erlang_a(11.0, 1.0, 10, 1e-3)
    assert over.mean_queue_length == pytest.approx(1000.0, rel=0.02)
    assert over.abandonment_probability == pytest.approx(1 / 11, rel=0.02)


# --------------------------------------------------------------------------------------
# feedback, retrials, networks


def test_mm1_feedback_means():
    lam, mu, p = 0.3, 1.0, 0.4
    result = T.mm1_feedback(lam, mu, p)
    assert result.mean_sojourn_total == pytest.approx(1 / (mu * (1 - p) - lam))
    assert result.mean_visits == pytest.approx(1 / 0.6)
    assert result.mean_number_in_system == pytest.approx(T.mm1(lam / (1 - p), mu)
                                                         .mean_number_in_system)
    assert result.mean_wait_total == pytest.approx(result.mean_sojourn_total - 1 / 0.6)
    network = T.jackson_network([lam], [[p]], [mu], 1)
    assert network.mean_sojourn == pytest.approx(result.mean_sojourn_total)


def test_mm1_retrial_against_ctmc():
    lam, mu, theta, cap = 0.5, 1.0, 0.8, 250
    states = [(busy, k) for busy in (0, 1) for k in range(cap + 1)]

    def moves(state):
        busy, k = state
        if busy:
            yield (1, k + 1), lam
            yield (0, k), mu
        else:
            yield (1, k), lam
            yield (1, k - 1), k * theta

    pi = stationary(states, moves)
    orbit = sum(p * s[1] for s, p in pi.items())
    result = T.mm1_retrial(lam, mu, theta)
    assert result.mean_orbit_size == pytest.approx(orbit, rel=1e-9)
    assert result.mean_orbit_time == pytest.approx(orbit / lam, rel=1e-9)
    assert result.blocking_probability == pytest.approx(sum(pi[(1, k)] for k in range(cap + 1)))


def test_tandem_and_network_agree():
    lam, rates = 0.8, [1.0, 1.5, 1.2]
    tandem = T.jackson_tandem(lam, rates)
    routing = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    network = T.jackson_network([lam, 0, 0], routing, rates, [1, 1, 1])
    assert network.mean_sojourn == pytest.approx(tandem.mean_sojourn)
    assert network.mean_waits == pytest.approx(tandem.mean_waits)
    assert tandem.mean_waits[0] == pytest.approx(0.8 / (1.0 * 0.2))
    # hypoexponential tail: explicit formula for distinct rates, integral = mean
    nu = np.array(rates) - lam
    t = 1.7
    explicit = sum(math.exp(-nu[i] * t) * np.prod([nu[j] / (nu[j] - nu[i])
                                                   for j in range(3) if j != i])
                   for i in range(3))
    assert T.jackson_tandem_sojourn_tail(t, lam, rates) == pytest.approx(explicit, rel=1e-10)
    mean = integrate.quad(lambda s: T.jackson_tandem_sojourn_tail(s, lam, rates), 0, np.inf)[0]
    assert mean == pytest.approx(tandem.mean_sojourn, rel=1e-7)


@pytest.mark.parametrize("service, q, row", [
    (6, 0.60, (0.40, 0.833, 0.449, 1.35, 1.67, 52.2, 10.0)),
    (6, 0.70, (0.30, 0.714, 0.205, 0.36, 1.43, 34.8, 8.57)),
    (8, 0.80, (0.20, 0.833, 0.449, 1.80, 1.25, 27.2, 10.0)),
    (9, 0.90, (0.10, 0.833, 0.449, 2.02, 1.11, 18.9, 10.0)),
])
def test_failure_demand_table(service, q, row):
    # DOMAIN.md 4b.1: lambda = 1/min, c = 12, d = 60 min
    result = T.failure_demand_network(1.0, service, q, 12, 60.0)
    computed = (result.failure_share, result.utilization, result.wait_probability,
                result.mean_wait_per_contact, result.contacts_per_case,
                result.mean_time_to_resolution, result.work_per_case)
    decimals = (2, 3, 3, 2, 2, 1, 2)
    for value, expected, places in zip(computed, row, decimals, strict=True):
        assert value == pytest.approx(expected, abs=0.5 * 10 ** -places + 1e-9)
    # the same network as a Jackson network with an infinite-server re-contact node
    network = T.jackson_network([1.0, 0.0], [[0.0, 1 - q], [1.0, 0.0]],
                                [1 / service, 1 / 60.0], [12, math.inf])
    assert network.mean_sojourn == pytest.approx(result.mean_time_to_resolution)


# --------------------------------------------------------------------------------------
# server disruption


def test_mmc_interruptions_against_ctmc():
    lam, mu, c, alpha, beta, cap = 2.0, 1.0, 3, 0.1, 0.4, 260
    states = [(n, u) for n in range(cap + 1) for u in (0, 1)]

    def moves(state):
        n, u = state
        yield (n + 1, u), lam
        yield (n - 1, u), min(n, c - 1 + u) * mu
        yield (n, 1 - u), alpha if u else beta

    pi = stationary(states, moves)
    queue = sum(p * max(n - (c - 1 + u), 0) for (n, u), p in pi.items())
    number = sum(p * n for (n, u), p in pi.items())
    waiting = sum(p for (n, u), p in pi.items() if n >= c - 1 + u)
    result = T.mmc_interruptions(lam, mu, c, alpha, beta)
    assert result.mean_queue_length == pytest.approx(queue, rel=1e-9)
    assert result.mean_wait == pytest.approx(queue / lam, rel=1e-9)
    assert result.mean_number_in_system == pytest.approx(number, rel=1e-9)
    assert result.wait_probability == pytest.approx(waiting, rel=1e-9)
    assert result.away_probability == pytest.approx(sum(p for (n, u), p in pi.items() if not u))
    # a server that almost never leaves: plain M/M/c
    rare = T.mmc_interruptions(lam, mu, c, 1e-9, 1.0)
    assert rare.mean_wait == pytest.approx(T.mmc(lam, mu, c).mean_wait, rel=1e-6)
    with pytest.raises(ValueError, match="arrival_rate"):
        T.mmc_interruptions(2.9, 1.0, 3, 0.5, 0.5)


def test_server_removal_reference_numbers():
    # DOMAIN.md 2b.1: c = 3, rho = 0.8, D = 5
    result = T.server_removal_extra_queue_time(2.4, 1.0, 3, 5.0)
    assert result.extra_queue_time == pytest.approx(45.19, abs=0.005)
    assert result.after_return == pytest.approx(34.9, abs=0.05)
    assert result.during_removal + result.after_return == pytest.approx(result.extra_queue_time)
    assert T.server_removal_fluid_extra_queue_time(2.4, 1.0, 3, 5.0) == pytest.approx(25 / 3)
    assert T.server_removal_fluid_extra_queue_time(1.0, 1.0, 3, 5.0) == 0.0
    assert T.server_removal_extra_queue_time(2.4, 1.0, 3, 0.0).extra_queue_time == pytest.approx(
        0.0, abs=1e-9)


@pytest.mark.parametrize("lam, mu, c, duration", [(2.4, 1.0, 3, 5.0), (1.2, 1.0, 2, 3.0),
                                                  (0.6, 1.0, 1, 2.0)])
def test_server_removal_against_forward_equations(lam, mu, c, duration):
    top = 160
    n = np.arange(top + 1)

    def generator(servers):
        q = np.diag(np.full(top, lam), 1) + np.diag(np.minimum(n[1:], servers) * mu, -1)
        return q - np.diag(q.sum(axis=1))

    pi = birth_death(lambda j: lam, lambda j: min(j, c) * mu, top)
    baseline = pi @ np.maximum(n - c, 0)
    pieces = []
    start = pi
    for servers, span in ((c - 1, duration), (c, 400.0)):
        q, queue = generator(servers), np.maximum(n - servers, 0)

        def rhs(_, state, q=q, queue=queue):
            p = state[:-1]
            return np.append(p @ q, p @ queue - baseline)

        solution = integrate.solve_ivp(rhs, (0, span), np.append(start, 0.0), method="LSODA",
                                       rtol=1e-11, atol=1e-13)
        start = solution.y[:-1, -1]
        pieces.append(solution.y[-1, -1])
    result = T.server_removal_extra_queue_time(lam, mu, c, duration)
    assert result.during_removal == pytest.approx(pieces[0], rel=1e-6, abs=1e-8)
    assert result.after_return == pytest.approx(pieces[1], rel=1e-6)


def test_server_removal_sparse_path(monkeypatch):
    dense = T.server_removal_extra_queue_time(2.4, 1.0, 3, 5.0)
    monkeypatch.setattr(theory_ctmc, "_DENSE_LIMIT", 10)
    sparse_result = T.server_removal_extra_queue_time(2.4, 1.0, 3, 5.0)
    assert sparse_result.extra_queue_time == pytest.approx(dense.extra_queue_time, rel=1e-9)
    # long removals approach the fluid limit from above (relative gap shrinks)
    long_exact = T.server_removal_extra_queue_time(2.4, 1.0, 3, 400.0).extra_queue_time
    long_fluid = T.server_removal_fluid_extra_queue_time(2.4, 1.0, 3, 400.0)
    assert 1.0 < long_exact / long_fluid < 1.1


# --------------------------------------------------------------------------------------
# value


def test_clv_and_incident_value():
    assert T.clv(1.0, 0.8, 0.1) == pytest.approx(2.6667, abs=5e-5)
    assert T.incident_value_lost(10.0, 0.8, 0.46, 0.1) == pytest.approx(
        0.34 * T.clv(10.0, 0.8, 0.1) / 0.8)


# --------------------------------------------------------------------------------------
# argument validation


@pytest.mark.parametrize("call, parameter", [
    (lambda: T.mm1(1.0, 1.0), "arrival_rate"),
    (lambda: T.mm1(-1.0, 1.0), "arrival_rate"),
    (lambda: T.mmc(2.0, 0.0, 3), "service_rate"),
    (lambda: T.mmc(2.0, 1.0, 0), "servers"),
    (lambda: T.mmc(2.0, 1.0, 2.5), "servers"),
    (lambda: T.erlang_c(3, 3.0), "offered_load"),
    (lambda: T.erlang_b(-1, 1.0), "servers"),
    (lambda: T.mmck(1.0, 1.0, 3, 2), "capacity"),
    (lambda: T.mmc_wait_tail(-1.0, 1.0, 1.0, 2), "t"),
    (lambda: T.mmc_wait_moment(0.0, 1.0, 1.0, 2), "exponent"),
    (lambda: T.mg1(1.0, 1.0, 2.0), "arrival_rate"),
    (lambda: T.mg1(0.5, 1.0, 0.5), "second_moment_service"),
    (lambda: T.mg1(0.5, 1.0, 2.0, 1.0), "third_moment_service"),
    (lambda: T.service_moments("weibull", mean=1.0), "kind"),
    (lambda: T.service_moments("lognormal", mean=1.0), "cv"),
    (lambda: T.md1(0.5, -1.0), "service_time"),
    (lambda: T.mg1_nonpreemptive_priority([0.5, 0.6], [1, 1], [2, 2]), "arrival_rates"),
    (lambda: T.mg1_preemptive_resume_priority([0.1], [1, 1], [2, 2]), "mean_services"),
    (lambda: T.mmc_nonpreemptive_priority([1.0, 1.5], 1.0, 2), "arrival_rate"),
    (lambda: T.erlang_a(10.0, 1.0, 10, 0.0), "abandonment_rate"),
    (lambda: T.erlang_a(10.0, 1.0, 10, 1.0, method="exact"), "method"),
    (lambda: T.mm1_feedback(0.5, 1.0, 0.6), "feedback_probability"),
    (lambda: T.mm1_feedback(0.5, 1.0, 1.0), "feedback_probability"),
    (lambda: T.mm1_retrial(0.5, 1.0, 0.0), "retrial_rate"),
    (lambda: T.jackson_tandem(1.0, [2.0, 0.9]), "service_rates"),
    (lambda: T.jackson_network([1.0], [[1.0]], [2.0]), "routing_matrix"),
    (lambda: T.failure_demand_network(1.0, 6.0, 0.0, 12, 60.0), "resolution_probability"),
    (lambda: T.failure_demand_network(1.0, 6.0, 0.4, 12, 60.0), "arrival_rate"),
    (lambda: T.server_removal_extra_queue_time(2.4, 1.0, 3, -1.0), "duration"),
    (lambda: T.mmc_interruptions(1.0, 1.0, 2, 0.0, 1.0), "away_rate"),
    (lambda: T.clv(1.0, 1.0, 0.1), "retention"),
])
def test_invalid_arguments_raise_value_error_naming_the_parameter(call, parameter):
    with pytest.raises(ValueError, match=parameter):
        call()
