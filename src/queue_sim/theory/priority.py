"""Priority queues: Cobham M/G/1 and M/M/c, non-preemptive and preemptive-resume; interruptions.

DOMAIN.md 7.6-7.9 and 7.15.  Class index 0 is the highest priority (DOMAIN.md numbers it 1).
For preemptive classes ``mean_waits`` is T_k - E[S_k] (DOMAIN.md section 0), not the time to
first service.  Imports numpy and sibling theory modules only; nothing else from queue_sim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from queue_sim.theory import _validation as check
from queue_sim.theory.markovian import erlang_c, mmc
from queue_sim.theory.general_service import MG1Result, _moments


@dataclass(frozen=True)
class PriorityResult:
    """Per-class means of a priority queue; index 0 is the highest class.

    Attributes
    ----------
    utilizations : tuple of float
        rho_k = lambda_k E[S_k] / c per class.
    wait_probabilities : tuple of float
        P(time to first service > 0) for an arrival of class k.
    mean_waits : tuple of float
        E[Wq_k]; for preemptive disciplines T_k - E[S_k].
    mean_sojourns : tuple of float
        E[T_k].
    """

    utilizations: tuple[float, ...]
    wait_probabilities: tuple[float, ...]
    mean_waits: tuple[float, ...]
    mean_sojourns: tuple[float, ...]


def mg1_nonpreemptive_priority(arrival_rates: Sequence[float], mean_services: Sequence[float],
                               second_moments: Sequence[float]) -> PriorityResult:
    """Cobham's K-class M/G/1 non-preemptive priority, FCFS within class (DOMAIN.md 7.6).

    Wq_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)), W0 = sum_i lambda_i E[S_i^2] / 2.

    Parameters
    ----------
    arrival_rates : sequence of float
        lambda_k > 0 per class, per unit time.
    mean_services : sequence of float
        E[S_k] per class, in time units.
    second_moments : sequence of float
        E[S_k^2] per class, in time units squared.

    Returns
    -------
    PriorityResult
        P(wait) = rho (total) for every class.
    """
    rates, means, seconds = _classes(arrival_rates, mean_services, second_moments)
    loads = rates * means
    before, upto = _cumulative(loads)
    residual = float(rates @ seconds) / 2.0
    waits = residual / ((1.0 - before) * (1.0 - upto))
    total = float(loads.sum())
    return _result(loads, [total] * len(loads), waits, waits + means)


def mg1_preemptive_resume_priority(arrival_rates: Sequence[float],
                                   mean_services: Sequence[float],
                                   second_moments: Sequence[float]) -> PriorityResult:
    """K-class M/G/1 preemptive-resume priority (DOMAIN.md 7.7).

    T_k = E[S_k] / (1 - sigma_{k-1}) + (sum_{i<=k} lambda_i E[S_i^2] / 2) /
    ((1 - sigma_{k-1}) (1 - sigma_k)); Wq_k := T_k - E[S_k].  Arguments as in
    :func:`mg1_nonpreemptive_priority`.  P(wait_k) = sigma_k (server busy with classes <= k).
    """
    rates, means, seconds = _classes(arrival_rates, mean_services, second_moments)
    loads = rates * means
    before, upto = _cumulative(loads)
    residual = np.cumsum(rates * seconds) / 2.0
    sojourns = means / (1.0 - before) + residual / ((1.0 - before) * (1.0 - upto))
    return _result(loads, upto, sojourns - means, sojourns)


def mmc_nonpreemptive_priority(arrival_rates: Sequence[float], service_rate: float,
                               servers: int) -> PriorityResult:
    """K-class M/M/c non-preemptive priority with a common service rate (DOMAIN.md 7.8).

    Wq_k = C(c, lambda/mu) / (c mu) / ((1 - sigma_{k-1}) (1 - sigma_k)),
    sigma_k = sum_{i<=k} lambda_i / (c mu).  Exact only for equal mu.

    Parameters
    ----------
    arrival_rates : sequence of float
        lambda_k > 0 per class, per unit time.
    service_rate : float
        mu per server, common to all classes, per unit time.
    servers : int
        c >= 1.
    """
    rates = check.positive_vector("arrival_rates", arrival_rates)
    total = mmc(float(rates.sum()), service_rate, servers)
    loads = rates / (servers * service_rate)
    before, upto = _cumulative(loads)
    waits = total.wait_probability / (servers * service_rate) / ((1.0 - before) * (1.0 - upto))
    return _result(loads, [total.wait_probability] * len(loads), waits,
                   waits + 1.0 / service_rate)


def mmc_preemptive_resume_priority(arrival_rates: Sequence[float], service_rate: float,
                                   servers: int) -> PriorityResult:
    """K-class M/M/c preemptive-resume priority with a common service rate (DOMAIN.md 7.9).

    Classes 0..k form an M/M/c with rate Lambda_k, so L_k = L(Lambda_k) - L(Lambda_{k-1}),
    T_k = L_k / lambda_k, Wq_k := T_k - 1/mu, P(wait_k) = C(c, Lambda_k / mu).  Arguments as
    in :func:`mmc_nonpreemptive_priority`.
    """
    rates = check.positive_vector("arrival_rates", arrival_rates)
    mmc(float(rates.sum()), service_rate, servers)         # validates and checks stability
    cumulative = np.cumsum(rates)
    numbers = np.array([mmc(rate, service_rate, servers).mean_number_in_system
                        for rate in cumulative])
    sojourns = np.diff(numbers, prepend=0.0) / rates
    wait_probabilities = [erlang_c(servers, rate / service_rate) for rate in cumulative]
    return _result(rates / (servers * service_rate), wait_probabilities,
                   sojourns - 1.0 / service_rate, sojourns)


def mg1_interruptions(arrival_rate: float, mean_service: float, second_moment_service: float,
                      interruption_rate: float, mean_interruption: float,
                      second_moment_interruption: float) -> MG1Result:
    """M/G/1 whose server is taken by Poisson interruptions arriving in any state (DOMAIN.md 7.15).

    Interruptions (rate alpha, work R, stacking) are exactly a preemptive-resume top class, so
    this is :func:`mg1_preemptive_resume_priority` with class 0 = interruptions.

    Parameters
    ----------
    arrival_rate : float
        Customer arrival rate lambda, per unit time.
    mean_service, second_moment_service : float
        E[S], E[S^2] of customers.
    interruption_rate : float
        alpha > 0, interruptions per unit time.
    mean_interruption, second_moment_interruption : float
        E[R], E[R^2] of one interruption.

    Returns
    -------
    MG1Result
        Customer means: ``mean_wait`` = T - E[S]; ``wait_probability`` = P(server occupied)
        = alpha E[R] + lambda E[S]; ``utilization`` is the total load.
    """
    mean_r, second_r, _ = _moments("interruption", mean_interruption,
                                   second_moment_interruption, None)
    mean_s, second_s, _ = _moments("service", mean_service, second_moment_service, None)
    alpha = check.positive("interruption_rate", interruption_rate)
    lam = check.positive("arrival_rate", arrival_rate)
    classes = mg1_preemptive_resume_priority([alpha, lam], [mean_r, mean_s], [second_r, second_s])
    sojourn = classes.mean_sojourns[1]
    return MG1Result(utilization=alpha * mean_r + lam * mean_s,
                     wait_probability=classes.wait_probabilities[1],
                     mean_wait=sojourn - mean_s, mean_sojourn=sojourn,
                     mean_queue_length=lam * (sojourn - mean_s),
                     mean_number_in_system=lam * sojourn)


def _classes(arrival_rates: Sequence[float], mean_services: Sequence[float],
             second_moments: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rates = check.positive_vector("arrival_rates", arrival_rates)
    means = check.positive_vector("mean_services", mean_services, length=rates.size)
    seconds = check.positive_vector("second_moments", second_moments, length=rates.size)
    for k in range(rates.size):
        try:
            _moments("service", means[k], seconds[k], None)
        except ValueError:
            raise ValueError(f"second_moments[{k}] must be >= mean_services[{k}]**2 = "
                             f"{means[k] ** 2!r} (got {seconds[k]!r})") from None
    load = float(rates @ means)
    check.require_stable(load, f"sum of arrival_rates * mean_services must be < 1 "
                               f"(got {load!r})")
    return rates, means, seconds


def _cumulative(loads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    upto = np.cumsum(loads)
    return upto - loads, upto


def _result(loads: Sequence[float], wait_probabilities: Sequence[float],
            waits: Sequence[float], sojourns: Sequence[float]) -> PriorityResult:
    return PriorityResult(utilizations=tuple(float(v) for v in loads),
                          wait_probabilities=tuple(float(v) for v in wait_probabilities),
                          mean_waits=tuple(float(v) for v in waits),
                          mean_sojourns=tuple(float(v) for v in sojourns))
