"""Erlang-A (Palm, M/M/n+M): exponential patience; closed form in log space plus the exact chain.

DOMAIN.md 7.10.  Everything is in units of theta: x = n mu / theta, y = lambda / theta.  An
arrival that finds n + m customers (m >= 0 waiting) has offered wait V_m, a sum of
Exp(theta (x + i)), i = 0..m, so V_m = -log(U) / theta with U ~ Beta(x, m + 1).  Hence
P(served | m) = x / (x + m + 1), E[W | m] = (m + 1) / (theta (x + m + 1)) and
P(V_m > t) = I_{exp(-theta t)}(x, m + 1), the per-state formulas of 7.10 in closed form.
The birth-death weights pi_{n+m} / pi_n = prod_{i=1}^{m} y / (x + i) are summed in log space,
truncated where the remaining mass is below 1e-12.  Imports numpy/scipy and sibling theory
modules only; nothing else from queue_sim.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from queue_sim.theory import _validation as check
from queue_sim.theory.markovian import erlang_b

_MAX_WAITING_STATES = 5_000_000
_LARGE_ARGUMENT = 1e8          # above this x or y, "auto" trusts the chain over the formula
_CANCELLATION_FLOOR = 1e-6     # below this P(Ab | wait) the closed form cancels; use the chain
_METHODS = ("auto", "formula", "chain")


@dataclass(frozen=True)
class ErlangAResult:
    """Stationary Erlang-A quantities; W is the time in queue until service or abandonment.

    Attributes
    ----------
    wait_probability : float
        P(W > 0), an arrival finds all n servers busy.
    abandonment_probability : float
        P(Ab), over all arrivals.
    abandonment_probability_given_wait : float
        P(Ab | W > 0).
    mean_wait : float
        E[W] over all arrivals (served or abandoned) = P(Ab) / theta.
    mean_wait_served : float
        E[W | served].
    mean_queue_length : float
        E[Q] = lambda E[W].
    mean_number_in_system : float
        E[Q] + mean number of busy servers.
    utilization : float
        Mean fraction of busy servers, lambda (1 - P(Ab)) / (n mu).
    method : str
        ``"formula"`` or ``"chain"``: what produced P(wait), P(Ab) and E[W].
    """

    wait_probability: float
    abandonment_probability: float
    abandonment_probability_given_wait: float
    mean_wait: float
    mean_wait_served: float
    mean_queue_length: float
    mean_number_in_system: float
    utilization: float
    method: str


def erlang_a(arrival_rate: float, service_rate: float, servers: int, abandonment_rate: float,
             *, method: str = "auto") -> ErlangAResult:
    """Erlang-A (M/M/n+M) stationary performance; always stable (DOMAIN.md 7.10).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_rate : float
        Service rate mu per server, per unit time.
    servers : int
        n >= 1.
    abandonment_rate : float
        theta > 0, so patience ~ Exp(theta) with mean 1/theta time units.
    method : {"auto", "formula", "chain"}
        ``"formula"``: A(x, y) = x e^y y^-x gamma(x, y) in log space with
        ``scipy.special.gammainc``.  ``"chain"``: the truncated birth-death stationary law.
        ``"auto"`` uses the formula unless it is not finite, x or y exceeds 1e8, or
        P(Ab | wait) < 1e-6 (where 1/(rho A) + 1 - 1/rho cancels).  E[W | served] always
        comes from the per-state formulas.

    Returns
    -------
    ErlangAResult

    Raises
    ------
    ValueError
        For invalid arguments, an unknown method, or a state space too large to truncate.
    """
    return _solve(arrival_rate, service_rate, servers, abandonment_rate, method)[0]


def erlang_a_wait_tail(t: float | Sequence[float], arrival_rate: float, service_rate: float,
                       servers: int, abandonment_rate: float) -> float | np.ndarray:
    """P(W > t) over all arrivals, W = time in queue until service or abandonment (7.10).

    P(W > t) = P(wait) e^{-theta t} sum_m P(m | wait) I_{exp(-theta t)}(x, m + 1).

    Parameters
    ----------
    t : float or array_like
        Time(s) >= 0, in time units.
    arrival_rate, service_rate, servers, abandonment_rate
        As in :func:`erlang_a`.

    Returns
    -------
    float or numpy.ndarray
    """
    times, is_scalar = check.times("t", t)
    result, waiting, weights, x, theta = _solve(arrival_rate, service_rate, servers,
                                                abandonment_rate, "auto")
    tail = np.empty_like(times)
    for index, time in enumerate(times):
        survival = math.exp(-theta * time)
        offered = weights @ special.betainc(x, waiting + 1.0, survival) if time > 0 else 1.0
        tail[index] = result.wait_probability * survival * offered
    return check.shaped(tail, is_scalar)


def erlang_a_qed_wait_probability(arrival_rate: float, service_rate: float, servers: int,
                                  abandonment_rate: float) -> float:
    """Garnett-Mandelbaum-Reiman QED approximation of the Erlang-A P(wait) (approximate).

    beta = (n - R) / sqrt(R), R = lambda / mu, h = standard normal hazard:
    P(wait) ~ [1 + sqrt(theta/mu) h(beta sqrt(mu/theta)) / h(-beta)]^-1.
    Gives 0.5858 against the exact 0.5967 at n = lambda = 100, mu = 1, theta = 0.5.
    """
    lam = check.positive("arrival_rate", arrival_rate)
    mu = check.positive("service_rate", service_rate)
    servers = check.integer("servers", servers)
    theta = check.positive("abandonment_rate", abandonment_rate)
    load = lam / mu
    beta = (servers - load) / math.sqrt(load)

    def log_hazard(z: float) -> float:
        return float(stats.norm.logpdf(z) - stats.norm.logsf(z))

    ratio = math.sqrt(theta / mu) * math.exp(log_hazard(beta * math.sqrt(mu / theta))
                                             - log_hazard(-beta))
    return 1.0 / (1.0 + ratio)


def _solve(arrival_rate: float, service_rate: float, servers: int, abandonment_rate: float,
           method: str) -> tuple[ErlangAResult, np.ndarray, np.ndarray, float, float]:
    lam = check.positive("arrival_rate", arrival_rate)
    mu = check.positive("service_rate", service_rate)
    servers = check.integer("servers", servers)
    theta = check.positive("abandonment_rate", abandonment_rate)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)} (got {method!r})")
    x, y = servers * mu / theta, lam / theta
    log_weights = _log_waiting_weights(x, y)
    waiting = np.arange(log_weights.size, dtype=float)
    log_total = float(special.logsumexp(log_weights))
    weights = np.exp(log_weights - log_total)

    used = "chain"
    log_a, ab_given_wait = log_total, float(weights @ ((waiting + 1.0) / (x + waiting + 1.0)))
    if method != "chain":
        closed = _closed_form(x, y)
        usable = (closed is not None and max(x, y) <= _LARGE_ARGUMENT
                  and closed[1] >= _CANCELLATION_FLOOR)
        if method == "formula":
            if closed is None:
                raise ValueError(f"the closed form is not finite for x = servers * service_rate"
                                 f" / abandonment_rate = {x!r}, y = {y!r}; use method='chain'")
            usable = True
        if usable:
            used = "formula"
            log_a, ab_given_wait = closed

    blocking = erlang_b(servers, lam / mu)
    # P(wait) = A B / (1 + (A - 1) B), written to stay finite for huge A
    wait_probability = blocking / (blocking + (1.0 - blocking) * math.exp(-log_a))
    abandonment = wait_probability * ab_given_wait
    # E[W 1{served} | m] = P(served | m) sum_{i<=m} 1 / (theta (x + i + 1))
    served_time = np.cumsum(1.0 / (x + waiting + 1.0)) * x / (x + waiting + 1.0)
    served_wait_sum = wait_probability * float(weights @ served_time) / theta
    mean_wait = abandonment / theta
    queue = lam * mean_wait
    busy = lam * (1.0 - abandonment) / mu
    result = ErlangAResult(
        wait_probability=wait_probability, abandonment_probability=abandonment,
        abandonment_probability_given_wait=ab_given_wait, mean_wait=mean_wait,
        mean_wait_served=served_wait_sum / (1.0 - abandonment), mean_queue_length=queue,
        mean_number_in_system=queue + busy, utilization=busy / servers, method=used)
    return result, waiting, weights, x, theta


def _closed_form(x: float, y: float) -> tuple[float, float] | None:
    """(log A(x, y), P(Ab | wait)) from the incomplete gamma function, or None if not finite."""
    regularized = float(special.gammainc(x, y))
    if not regularized > 0.0:
        return None
    if x >= 30.0:
        # lnGamma(x) by Stirling, so y - x log y + lnGamma(x) is formed without cancellation
        d = (y - x) / x
        series = (1.0 / (12.0 * x) - 1.0 / (360.0 * x ** 3) + 1.0 / (1260.0 * x ** 5)
                  - 1.0 / (1680.0 * x ** 7))
        log_a = (0.5 * math.log(x) + x * (d - math.log1p(d)) + 0.5 * math.log(2.0 * math.pi)
                 + series + math.log(regularized))
    else:
        log_a = (math.log(x) + y - x * math.log(y) + float(special.gammaln(x))
                 + math.log(regularized))
    if not math.isfinite(log_a):
        return None
    rho = y / x
    ab_given_wait = math.exp(-log_a) / rho + 1.0 - 1.0 / rho
    return log_a, ab_given_wait


def _log_waiting_weights(x: float, y: float) -> np.ndarray:
    """log(pi_{n+m} / pi_n) = sum_{i=1}^m log(y / (x + i)) for m = 0..M, tail mass < 1e-12."""
    mode = max(0.0, math.floor(y - x))
    spread = 20.0 * math.sqrt(y + 1.0)
    if y < x:                                   # weights fall at least as fast as (y / x)^m
        spread = min(spread, 40.0 / (1.0 - y / x))
    size = int(mode + spread + 64.0)
    while True:
        if size > _MAX_WAITING_STATES:
            raise ValueError("abandonment_rate is too small for this overload: the waiting "
                             f"queue would need more than {_MAX_WAITING_STATES} states "
                             f"(x = {x:.6g}, y = {y:.6g})")
        steps = np.arange(1.0, size + 1.0)
        log_weights = np.concatenate(([0.0], np.cumsum(np.log1p((y - x - steps) / (x + steps)))))
        ratio = y / (x + size + 1.0)
        tail = math.exp(log_weights[-1] - special.logsumexp(log_weights)) * ratio / (1 - ratio)
        if tail < 0.1 * check.TAIL_MASS:
            return log_weights
        size *= 2
