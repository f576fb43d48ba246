"""Truncated-CTMC oracles for server disruption: random interruptions and a fixed removal.

DOMAIN.md 7.16 (``mmc_interruptions``) and 2b.1 (``server_removal_extra_queue_time`` and its
fluid approximation).  Truncation levels are chosen so the neglected probability mass is below
1e-12.  Imports numpy/scipy and sibling theory modules only; nothing else from queue_sim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import polynomial as poly
from scipy import linalg, sparse, stats
from scipy.sparse import linalg as sparse_linalg

from queue_sim.theory import _validation as check
from queue_sim.theory.markovian import mmc

_DENSE_LIMIT = 300            # state-space size up to which dense expm is used
_MAX_LEVELS = 2_000_000


@dataclass(frozen=True)
class InterruptionsResult:
    """M/M/c with one server intermittently away (stationary, exact up to truncation).

    Attributes
    ----------
    wait_probability : float
        P(arrival finds every available server busy).
    mean_wait : float
        Lq / lambda, mean total time not in service (includes time after being preempted).
    mean_sojourn : float
        L / lambda.
    mean_queue_length : float
        E[customers not in service].
    mean_number_in_system : float
        E[customers in system].
    away_probability : float
        alpha / (alpha + beta).
    truncation_level : int
        Largest number in system kept in the state space.
    """

    wait_probability: float
    mean_wait: float
    mean_sojourn: float
    mean_queue_length: float
    mean_number_in_system: float
    away_probability: float
    truncation_level: int


def mmc_interruptions(arrival_rate: float, service_rate: float, servers: int,
                      away_rate: float, back_rate: float) -> InterruptionsResult:
    """Stationary M/M/c where one server leaves at rate alpha and returns at rate beta (7.16).

    State (n, u): u = 1 all servers up, u = 0 one away.  Removal is preemptive: a customer
    served by the leaving server rejoins the queue (exponential service, so nothing is lost).

    Parameters
    ----------
    arrival_rate : float
        lambda, per unit time.
    service_rate : float
        mu per server, per unit time.
    servers : int
        c >= 1 when all are present.
    away_rate : float
        alpha, rate at which the server leaves while present, per unit time.
    back_rate : float
        beta, rate at which it returns while away, per unit time.

    Returns
    -------
    InterruptionsResult

    Raises
    ------
    ValueError
        If an argument is invalid or lambda >= mu (c - alpha / (alpha + beta)).
    """
    lam = check.positive("arrival_rate", arrival_rate)
    mu = check.positive("service_rate", service_rate)
    servers = check.integer("servers", servers)
    alpha = check.positive("away_rate", away_rate)
    beta = check.positive("back_rate", back_rate)
    away = alpha / (alpha + beta)
    capacity = mu * (servers - away)
    check.require_stable(lam / capacity, f"arrival_rate must be < service_rate * (servers - "
                                         f"away_rate / (away_rate + back_rate)) = {capacity!r}"
                                         f" (got arrival_rate={lam!r})")
    decay = _interruption_decay(lam, mu, servers, alpha, beta)
    levels = servers + 1 + math.ceil(math.log(check.TAIL_MASS * 1e-3 * (1.0 - decay))
                                     / math.log(decay))
    while True:
        if levels > _MAX_LEVELS:
            raise ValueError("queue is too close to instability to truncate: more than "
                             f"{_MAX_LEVELS} levels needed (utilization {lam / capacity:.6g})")
        probabilities = _interruption_stationary(lam, mu, servers, alpha, beta, levels)
        if probabilities[-1].sum() < check.TAIL_MASS * (1.0 - decay):
            break
        levels *= 2
    numbers = np.arange(levels + 1)[:, None]
    available = np.array([servers - 1, servers])[None, :]
    queue = float((np.maximum(numbers - available, 0) * probabilities).sum())
    number = float((numbers * probabilities).sum())
    return InterruptionsResult(
        wait_probability=float(probabilities[numbers >= available].sum()),
        mean_wait=queue / lam, mean_sojourn=number / lam, mean_queue_length=queue,
        mean_number_in_system=number, away_probability=away, truncation_level=levels)


def _interruption_decay(lam: float, mu: float, servers: int, alpha: float,
                        beta: float) -> float:
    """Spectral radius of the QBD rate matrix R: largest root inside the unit disk of
    det(A0 + z A1 + z^2 A2) for the level blocks n >= c (after removing the root z = 1)."""
    up_block = poly.polyadd([lam], poly.polymul([0, 1], [-(lam + servers * mu + alpha)]))
    up_block = poly.polyadd(up_block, [0, 0, servers * mu])
    away_block = poly.polyadd([lam], [0, -(lam + (servers - 1) * mu + beta)])
    away_block = poly.polyadd(away_block, [0, 0, (servers - 1) * mu])
    determinant = poly.polysub(poly.polymul(up_block, away_block), [0, 0, alpha * beta])
    quotient, _ = poly.polydiv(determinant, [-1.0, 1.0])
    roots = poly.polyroots(np.trim_zeros(quotient, "b"))
    inside = [abs(root) for root in roots if abs(root) < 1.0]
    return float(min(max(inside), 1.0 - 1e-15)) if inside else 0.5


def _interruption_stationary(lam: float, mu: float, servers: int, alpha: float, beta: float,
                             levels: int) -> np.ndarray:
    """Stationary law of the (n, u) chain truncated at n <= levels, shape (levels + 1, 2)."""
    size = 2 * (levels + 1)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    rates: list[np.ndarray] = []
    n = np.arange(levels + 1)
    for u, working in ((1, servers), (0, servers - 1)):
        index = 2 * n + u
        rows += [index[:-1], index[1:], index]
        cols += [index[1:], index[:-1], 2 * n + (1 - u)]
        rates += [np.full(levels, lam), np.minimum(n[1:], working) * mu,
                  np.full(levels + 1, alpha if u == 1 else beta)]
    rows_all, cols_all = np.concatenate(rows), np.concatenate(cols)
    values = np.concatenate(rates).astype(float)
    keep = values > 0
    generator = sparse.coo_matrix((values[keep], (rows_all[keep], cols_all[keep])),
                                  shape=(size, size)).tocsr()
    generator = generator - sparse.diags(np.asarray(generator.sum(axis=1)).ravel())
    return _stationary(generator).reshape(levels + 1, 2)


def _stationary(generator: sparse.spmatrix) -> np.ndarray:
    """Solve pi Q = 0, pi 1 = 1 by replacing one balance equation with the normalisation."""
    system = generator.T.tolil()
    system[0, :] = 1.0
    rhs = np.zeros(generator.shape[0])
    rhs[0] = 1.0
    solution = sparse_linalg.spsolve(system.tocsc(), rhs)
    solution = np.maximum(solution, 0.0)
    return solution / solution.sum()


@dataclass(frozen=True)
class ServerRemovalResult:
    """Extra expected customer-time in queue caused by removing one of c servers for D.

    Attributes
    ----------
    extra_queue_time : float
        X(D) = integral over [0, inf) of E[Nq(t)] - E_pi[Nq], in customer x time units.
    during_removal : float
        The part over [0, D].
    after_return : float
        The part over (D, inf): borne after the server is back.
    truncation_level : int
        Largest number in system kept in the state space.
    """

    extra_queue_time: float
    during_removal: float
    after_return: float
    truncation_level: int


def server_removal_extra_queue_time(arrival_rate: float, service_rate: float, servers: int,
                                    duration: float) -> ServerRemovalResult:
    """Transient extra queueing after pulling one of c servers for a fixed time D (2b.1).

    Starts from the stationary M/M/c law pi; removal is preemptive (exponential service).
    X(D) = [pi int_0^D e^{Q_{c-1} s} ds] nq_{c-1} - D pi nq_c + x nq_c, where
    x Q_c = pi - p(D), x 1 = 0 and p(D) = pi e^{Q_{c-1} D}.  The D-integral comes from one
    matrix exponential of the generator augmented with the column nq_{c-1}.  Since x 1 = 0,
    x nq_c = (p(D) - pi) g where Q_c g = -(nq_c - pi nq_c 1), a Poisson equation that the
    birth-death structure solves by stable one-term recursions.

    Parameters
    ----------
    arrival_rate : float
        lambda, per unit time; needs lambda < c mu.
    service_rate : float
        mu per server, per unit time.
    servers : int
        c >= 1 before the removal (c - 1 serve during it).
    duration : float
        D >= 0, length of the removal, in time units.

    Returns
    -------
    ServerRemovalResult
    """
    base = mmc(arrival_rate, service_rate, servers)
    lam, mu = float(arrival_rate), float(service_rate)
    duration = check.nonnegative("duration", duration)
    rho = base.utilization
    stationary_levels = servers + math.ceil(math.log(check.TAIL_MASS * 1e-2 * (1.0 - rho))
                                            / math.log(rho))
    arrivals = stats.poisson.isf(check.TAIL_MASS * 1e-2, lam * duration) if duration else 0
    levels = int(stationary_levels + arrivals + 10)
    if levels > _MAX_LEVELS:
        raise ValueError(f"duration * arrival_rate is too large to truncate ({levels} levels)")
    n = np.arange(levels + 1)
    pi = _birth_death_stationary(lam, mu, servers, levels)
    queue_full = np.maximum(n - servers, 0).astype(float)
    queue_reduced = np.maximum(n - (servers - 1), 0).astype(float)
    generator = _birth_death_generator(lam, mu, servers - 1, levels)
    augmented = sparse.bmat([[generator, sparse.csr_matrix(queue_reduced[:, None])],
                             [None, sparse.csr_matrix((1, 1))]], format="csc")
    start = np.append(pi, 0.0)
    if levels + 2 <= _DENSE_LIMIT:
        row = start @ linalg.expm(augmented.toarray() * duration)
    else:
        row = sparse_linalg.expm_multiply(augmented.T * duration, start)
    at_return, queue_integral = row[:-1], float(row[-1])
    during = queue_integral - duration * float(pi @ queue_full)
    # x nq_c with x Q_c = pi - p(D), x 1 = 0 equals (p(D) - pi) g for Q_c g = -(nq_c - pi nq_c)
    after = (at_return - pi) @ _poisson_equation(lam, mu, servers, pi, queue_full)
    return ServerRemovalResult(extra_queue_time=float(during + after),
                               during_removal=float(during), after_return=float(after),
                               truncation_level=levels)


def server_removal_fluid_extra_queue_time(arrival_rate: float, service_rate: float,
                                          servers: int, duration: float) -> float:
    """Fluid approximation X ~ (lambda - (c-1) mu) mu D^2 / (2 (c mu - lambda)) (2b.1).

    Zero when lambda <= (c - 1) mu (no queue builds in the fluid limit).  Badly low at
    moderate D (8.3 vs the exact 45.2 at c = 3, rho = 0.8, D = 5); a large-D check only.
    """
    mmc(arrival_rate, service_rate, servers)
    duration = check.nonnegative("duration", duration)
    growth = arrival_rate - (servers - 1) * service_rate
    if growth <= 0.0:
        return 0.0
    return growth * service_rate * duration ** 2 / (2.0 * (servers * service_rate - arrival_rate))


def _birth_death_generator(lam: float, mu: float, working: int, levels: int) -> sparse.csr_matrix:
    n = np.arange(levels + 1)
    up = np.full(levels, lam)
    down = np.minimum(n[1:], working) * mu
    diagonal = -np.append(up, 0.0) - np.append(0.0, down)
    return sparse.diags([diagonal, up, down], [0, 1, -1], format="csr")


def _birth_death_stationary(lam: float, mu: float, servers: int, levels: int) -> np.ndarray:
    n = np.arange(1, levels + 1)
    log_weights = np.concatenate(([0.0], np.cumsum(np.log(lam / (np.minimum(n, servers) * mu)))))
    weights = np.exp(log_weights - log_weights.max())
    return weights / weights.sum()


def _poisson_equation(lam: float, mu: float, servers: int, pi: np.ndarray,
                      reward: np.ndarray) -> np.ndarray:
    """g with Q_c g = -(reward - pi.reward) for the truncated M/M/c generator (g up to a constant).

    With D_n = g_{n+1} - g_n, lambda D_n = -sum_{k<=n} pi_k f_k / pi_n = sum_{k>n} pi_k f_k / pi_n
    (f = reward - pi.reward).  The head sum is used below the mode of pi and the tail sum above
    it, so every ratio pi_k / pi_n in the recursions is <= 1 and no rounding error is amplified.
    """
    centred = reward - float(pi @ reward)
    size = centred.size
    down = np.minimum(np.arange(1, size), servers) * mu      # mu_{n+1} for n = 0..size-2
    split = min(servers, int(math.ceil(lam / mu)), size - 1)
    steps = np.zeros(size - 1)
    head = 0.0
    for n in range(split):                                  # pi_{n-1} / pi_n = mu_n / lam <= 1
        head = head * (down[n - 1] / lam if n else 0.0) + centred[n]
        steps[n] = -head / lam
    tail = 0.0
    for n in range(size - 2, split - 1, -1):                # pi_{n+1} / pi_n = lam / mu_{n+1} <= 1
        tail = lam / down[n] * (centred[n + 1] + tail)
        steps[n] = tail / lam
    return np.concatenate(([0.0], np.cumsum(steps)))
