"""Queue structure and state-dependent service: separate lines against one shared line, and the
fluid fixed point of service that grows with the wait (DOMAIN.md 5b.1, 3b.3).

Imports theory.markovian and theory._validation only; nothing from the rest of queue_sim.
"""

from __future__ import annotations

import math

from queue_sim.theory import _validation as check
from queue_sim.theory.markovian import MMcResult, mm1, mmc


def separate_lines_random_split(arrival_rate: float, service_rate: float,
                                servers: int) -> MMcResult:
    """c separate lines, each customer joining one at random, no jockeying (DOMAIN.md 5b.1).

    A Bernoulli split of a Poisson stream gives c independent M/M/1 queues with rate
    lambda / c each, so ``Wq = rho / (mu (1 - rho))``: 4.0 for c = 3, lambda = 2.4, mu = 1,
    against 1.0787 for one shared line (``mmc``).

    Parameters
    ----------
    arrival_rate : float
        Total Poisson arrival rate lambda, per unit time.
    service_rate : float
        Exponential service rate mu of each server, per unit time; needs lambda < c mu.
    servers : int
        Number of servers (and lines) c >= 1.

    Returns
    -------
    MMcResult
        Per-customer means (the same in every line); queue lengths summed over the lines.

    Raises
    ------
    ValueError
        If an argument is invalid or a line is unstable.
    """
    servers = check.integer("servers", servers, minimum=1)
    line = mm1(check.positive("arrival_rate", arrival_rate) / servers, service_rate)
    return MMcResult(
        utilization=line.utilization, wait_probability=line.wait_probability,
        mean_wait=line.mean_wait, mean_sojourn=line.mean_sojourn,
        mean_queue_length=servers * line.mean_queue_length,
        mean_number_in_system=servers * line.mean_number_in_system)


def separate_lines_jockeying(arrival_rate: float, service_rate: float,
                             servers: int) -> MMcResult:
    """c separate lines with jockeying whenever two lines differ by 2 or more.

    Jockeying makes the system work-conserving (an idle server with an empty line is 2 shorter
    than any line with someone waiting, so that customer moves), so the number in system is
    the M/M/c birth-death process and, by Little's law, the mean wait is Erlang C's, whatever
    the join rule; only the order of service (and so the spread of waits, and the skips)
    differs from one shared line.

    Parameters and Raises as ``mmc``.
    """
    return mmc(arrival_rate, service_rate, servers)


def wait_dependent_fluid_wait(arrival_rate: float, mean_service: float,
                              second_moment: float, per_wait: float) -> float:
    """Fluid fixed point of the mean wait of an M/G/1 with ``S = S0 + kappa Wq`` (DOMAIN.md 3b.3).

    Solves ``w = lambda E[S_eff^2] / (2 (1 - lambda (E S0 + kappa w)))`` with
    ``E[S_eff^2] ~ E[S0^2] + 2 kappa E[S0] w + kappa^2 w^2`` (the wait replaced by its mean, an
    approximation [A]), a quadratic whose smaller root is the metastable operating point.  At
    kappa = 0 it is the Pollaczek-Khinchine mean wait exactly.  It is not a steady state: the
    sample path grows geometrically once a wait passes ``(1/lambda - E S0) / kappa``, so
    compare it with waits over a finite horizon.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    mean_service, second_moment : float
        E[S0] and E[S0^2] of the drawn service time.
    per_wait : float
        kappa >= 0, extra service per unit of time waited.

    Returns
    -------
    float
        The approximate mean wait w.

    Raises
    ------
    ValueError
        If an argument is invalid or there is no fixed point (the snowball has no operating
        point: every queue eventually explodes).
    """
    lam = check.positive("arrival_rate", arrival_rate)
    m1 = check.positive("mean_service", mean_service)
    m2 = check.positive("second_moment", second_moment)
    kappa = check.nonnegative("per_wait", per_wait)
    a = lam * kappa * (2.0 + kappa)
    b = 2.0 * (1.0 - lam * m1 * (1.0 + kappa))
    c = lam * m2
    if b <= 0:
        raise ValueError(f"arrival_rate * mean_service * (1 + per_wait) must be < 1 for a "
                         f"fluid fixed point (got {lam * m1 * (1 + kappa)!r})")
    if a == 0.0:
        return c / b
    disc = b * b - 4.0 * a * c
    if disc < 0:
        raise ValueError(f"no fluid fixed point: the wait snowballs at this per_wait "
                         f"(got {kappa!r})")
    return 2.0 * c / (b + math.sqrt(disc))  # the smaller root, stable as a -> 0
