"""More of ``queue_sim.theory`` against truncated CTMC solves written here from the model
descriptions: vacations and breakdowns of DOMAIN.md 7.15 (exponential times make them Markov)
and priority queues with three classes (7.6, 7.7), where test_theory checks two.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.sparse import linalg as sparse_linalg

from queue_sim import theory as T
from tests.unit.test_theory import generator_matrix, stationary

LAM, MU = 0.5, 1.0  # M/M/1 at rho = 0.5 unless said otherwise
CAP = 120           # truncation: P(N > 120) is far below the tolerances


def mean_number(pi: dict) -> float:
    return sum(p * state[0] for state, p in pi.items())


def test_multiple_vacations_against_ctmc():
    beta = 0.5  # vacations Exp(mean 2); (n, on_vacation)
    states = [(n, 1) for n in range(CAP + 1)] + [(n, 0) for n in range(1, CAP + 1)]

    def moves(state):
        n, away = state
        yield (n + 1, away), LAM
        if away:
            yield ((n, 0) if n else (n, 1)), beta      # back, or straight into another one
        else:
            yield ((n - 1, 0) if n > 1 else (0, 1)), MU  # the last departure starts a vacation

    pi = stationary(states, moves)
    result = T.mg1_multiple_vacations(LAM, 1 / MU, 2 / MU ** 2, 1 / beta, 2 / beta ** 2)
    assert result.mean_sojourn == pytest.approx(mean_number(pi) / LAM, rel=1e-9)
    assert result.mean_wait == pytest.approx(mean_number(pi) / LAM - 1 / MU, rel=1e-9)


def test_single_vacation_against_ctmc():
    beta = 0.5  # one vacation after each busy period, then idle; (n, 0 serving/1 away/2 idle)
    states = ([(n, 1) for n in range(CAP + 1)] + [(n, 0) for n in range(1, CAP + 1)]
              + [(0, 2)])

    def moves(state):
        n, mode = state
        if mode == 2:
            yield (1, 0), LAM                           # an arrival to an idle server is served
            return
        yield (n + 1, mode), LAM
        if mode == 1:
            yield ((n, 0) if n else (0, 2)), beta
        else:
            yield ((n - 1, 0) if n > 1 else (0, 1)), MU

    pi = stationary(states, moves)
    result = T.mg1_single_vacation(LAM, 1 / MU, 2 / MU ** 2, 1 / beta, 2 / beta ** 2,
                                   beta / (beta + LAM))
    assert result.mean_sojourn == pytest.approx(mean_number(pi) / LAM, rel=1e-9)
    assert result.wait_probability == pytest.approx(1 - pi[(0, 2)], rel=1e-9)  # PASTA


def test_breakdowns_while_busy_against_ctmc():
    alpha, repair = 0.1, 2.0  # failures only while serving, Exp(mean 2) repairs, resume
    lam = 0.4
    states = [(0, 1)] + [(n, up) for n in range(1, CAP + 1) for up in (0, 1)]

    def moves(state):
        n, up = state
        yield (n + 1, up), lam
        if up and n:
            yield (n - 1, 1), MU
            yield (n, 0), alpha
        elif not up:
            yield (n, 1), 1 / repair

    pi = stationary(states, moves)
    result = T.mg1_breakdowns(lam, 1 / MU, 2 / MU ** 2, alpha, repair, 2 * repair ** 2)
    assert result.mean_sojourn == pytest.approx(mean_number(pi) / lam, rel=1e-9)
    assert result.wait_probability == pytest.approx(1 - pi[(0, 1)], rel=1e-9)


# three classes, class 1 first; unequal exponential services; total load 0.36, so the
# truncation at 18 per class (P(N > 18) about 1e-8) is far below the tolerance
RATES, MEANS = (0.12, 0.09, 0.06), (1.0, 4 / 3, 2.0)
TOP = 18


def _three_class_sojourns(preemptive: bool) -> tuple[float, ...]:
    """Mean sojourn per class of a 1-server 3-class priority queue, by Little's law.

    State (n1, n2, n3, j): customers of each class present (in service included) and the
    class in service (0: idle).  Preemptive: the server always serves the highest class
    present; non-preemptive: it finishes the current customer first.
    """
    states = [(*n, j) for n in itertools.product(range(TOP + 1), repeat=3)
              for j in range(4) if (j == 0) == (sum(n) == 0) and (j == 0 or n[j - 1] > 0)]

    def first_present(n):  # noqa: ANN001, ANN202
        return next((k + 1 for k in range(3) if n[k] > 0), 0)

    def moves(state):
        *n, j = state
        for k in range(3):
            after = list(n)
            after[k] += 1
            nxt = (k + 1 if j == 0 else min(j, k + 1)) if preemptive else (j or k + 1)
            yield (*after, nxt), RATES[k]
        if j:
            after = list(n)
            after[j - 1] -= 1
            yield (*after, first_present(after)), 1 / MEANS[j - 1]

    pi = pinned_stationary(states, moves)
    return tuple(sum(p * s[k] for s, p in pi.items()) / RATES[k] for k in range(3))


def pinned_stationary(states, transitions):  # noqa: ANN001, ANN201
    """Stationary law with pi[states[0]] pinned to 1, then normalised: the balance equation of
    states[0] is dropped instead of replaced by a dense row of ones, which keeps the sparse LU
    of a 3-D lattice cheap (``stationary`` is the same law for small chains)."""
    index, generator = generator_matrix(states, transitions)
    balance = generator.T.tocsc()
    rest = sparse_linalg.spsolve(balance[1:, 1:], -balance[1:, 0].toarray().ravel())
    pi = np.concatenate([[1.0], rest])
    pi /= pi.sum()
    return {state: pi[index[state]] for state in states}


def test_pinned_stationary_agrees_with_stationary():
    def moves(state):  # noqa: ANN001, ANN202  M/M/1 at rho 0.7
        return [((state[0] + 1,), 0.7), ((state[0] - 1,), 1.0)]

    states = [(n,) for n in range(40)]
    pinned, plain = pinned_stationary(states, moves), stationary(states, moves)
    assert [pinned[s] for s in states] == pytest.approx([plain[s] for s in states], rel=1e-9)


@pytest.mark.parametrize("preemptive, formula", [
    (False, T.mg1_nonpreemptive_priority), (True, T.mg1_preemptive_resume_priority)])
def test_three_class_priorities_against_ctmc(preemptive, formula):
    seconds = [2 * m ** 2 for m in MEANS]
    result = formula(list(RATES), list(MEANS), seconds)
    assert result.mean_sojourns == pytest.approx(_three_class_sojourns(preemptive), rel=1e-6)


@pytest.mark.parametrize("servers, load", [(500, 520.0), (2000, 1900.0), (10_000, 9_990.0)])
def test_erlang_b_and_c_for_large_systems_against_poisson_ratio(servers, load):
    # B(c, a) = P(X = c) / P(X <= c) for X ~ Poisson(a); scipy evaluates it in log space, so
    # this checks the recursion where factorial sums overflow
    from scipy import stats

    blocking = stats.poisson.pmf(servers, load) / stats.poisson.cdf(servers, load)
    assert T.erlang_b(servers, load) == pytest.approx(blocking, rel=1e-9)
    if load < servers:
        waiting = servers * blocking / (servers - load * (1.0 - blocking))
        assert T.erlang_c(servers, load) == pytest.approx(waiting, rel=1e-9)
