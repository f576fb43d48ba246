"""Exact results for Markovian single-station queues: M/M/1, Erlang B/C, M/M/c, M/M/c/K, M/M/inf.

Also M/M/1 with Bernoulli feedback (Takacs) and the M/M/1 retrial queue (DOMAIN.md 7.1-7.3,
7.11, 7.12, 7.14, 5b).  Imports numpy/scipy and theory._validation only; nothing from the rest
of queue_sim.  Rates are per unit of time; times are in the same unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from queue_sim.theory import _validation as check


@dataclass(frozen=True)
class MMcResult:
    """Stationary means of a single-station queue (also used for M/M/1 and M/G/1).

    Attributes
    ----------
    utilization : float
        Per-server utilisation rho = lambda / (c mu).
    wait_probability : float
        P(Wq > 0) seen by an arrival (PASTA).
    mean_wait : float
        E[Wq], time from arrival to start of service.
    mean_sojourn : float
        E[T] = E[Wq] + E[S].
    mean_queue_length : float
        E[Lq], customers waiting (not in service).
    mean_number_in_system : float
        E[L], customers waiting or in service.
    """

    utilization: float
    wait_probability: float
    mean_wait: float
    mean_sojourn: float
    mean_queue_length: float
    mean_number_in_system: float


def mm1(arrival_rate: float, service_rate: float) -> MMcResult:
    """Stationary M/M/1 FCFS means (DOMAIN.md 7.1).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_rate : float
        Exponential service rate mu, per unit time; needs lambda < mu.

    Returns
    -------
    MMcResult

    Raises
    ------
    ValueError
        If a rate is not positive and finite, or lambda >= mu.
    """
    return mmc(arrival_rate, service_rate, 1)


def mm1_wait_tail(t: float | Sequence[float], arrival_rate: float,
                  service_rate: float) -> float | np.ndarray:
    """P(Wq > t) = rho exp(-(mu - lambda) t) for M/M/1; ``t`` in time units, scalar or array."""
    return mmc_wait_tail(t, arrival_rate, service_rate, 1)


def mm1_sojourn_tail(t: float | Sequence[float], arrival_rate: float,
                     service_rate: float) -> float | np.ndarray:
    """P(T > t) = exp(-(mu - lambda) t) for M/M/1 FCFS; ``t`` in time units, scalar or array."""
    return mmc_sojourn_tail(t, arrival_rate, service_rate, 1)


def mm1_sojourn_moment(exponent: float, arrival_rate: float, service_rate: float) -> float:
    """E[T^b] = Gamma(b + 1) / (mu - lambda)^b for M/M/1 FCFS, ``exponent`` b > 0 (5b.2)."""
    exponent = check.positive("exponent", exponent)
    _mmc_rates(arrival_rate, service_rate, 1)
    return float(math.exp(special.gammaln(exponent + 1.0)
                          - exponent * math.log(service_rate - arrival_rate)))


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability B(c, a) by the stable recursion (DOMAIN.md 7.2).

    Parameters
    ----------
    servers : int
        Number of servers c >= 0.
    offered_load : float
        Offered load a = lambda / mu in Erlangs, >= 0.

    Returns
    -------
    float
        B(c, a); B(0, a) = 1.

    Raises
    ------
    ValueError
        If ``servers`` is not a non-negative integer or ``offered_load`` is negative.
    """
    servers = check.integer("servers", servers, minimum=0)
    offered_load = check.nonnegative("offered_load", offered_load)
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C probability of waiting C(c, a) for M/M/c, from Erlang B (DOMAIN.md 7.2).

    Parameters
    ----------
    servers : int
        Number of servers c >= 1.
    offered_load : float
        Offered load a = lambda / mu in Erlangs; needs a < c.

    Returns
    -------
    float
        C(c, a) = B / (1 - rho (1 - B)), rho = a / c.

    Raises
    ------
    ValueError
        If the arguments are invalid or a >= c (unstable queue).
    """
    servers = check.integer("servers", servers)
    offered_load = check.nonnegative("offered_load", offered_load)
    rho = offered_load / servers
    check.require_stable(rho, f"offered_load must be < servers (got offered_load="
                              f"{offered_load!r}, servers={servers!r})")
    blocking = erlang_b(servers, offered_load)
    return blocking / (1.0 - rho * (1.0 - blocking))


def mmc(arrival_rate: float, service_rate: float, servers: int) -> MMcResult:
    """Stationary M/M/c FCFS means via Erlang C (DOMAIN.md 7.2).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_rate : float
        Service rate mu per server, per unit time.
    servers : int
        Number of servers c >= 1; needs lambda < c mu.

    Returns
    -------
    MMcResult

    Raises
    ------
    ValueError
        If an argument is invalid or the queue is unstable.
    """
    servers = _mmc_rates(arrival_rate, service_rate, servers)
    offered_load = arrival_rate / service_rate
    wait_probability = erlang_c(servers, offered_load)
    mean_wait = wait_probability / (servers * service_rate - arrival_rate)
    return MMcResult(
        utilization=offered_load / servers,
        wait_probability=wait_probability,
        mean_wait=mean_wait,
        mean_sojourn=mean_wait + 1.0 / service_rate,
        mean_queue_length=arrival_rate * mean_wait,
        mean_number_in_system=arrival_rate * mean_wait + offered_load,
    )


def mmc_wait_probability(arrival_rate: float, service_rate: float, servers: int) -> float:
    """P(Wq > 0) for M/M/c (Erlang C); see :func:`mmc`."""
    return mmc(arrival_rate, service_rate, servers).wait_probability


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """E[Wq] for M/M/c FCFS; see :func:`mmc`."""
    return mmc(arrival_rate, service_rate, servers).mean_wait


def mm1_mean_sojourn(arrival_rate: float, service_rate: float) -> float:
    """E[T] = 1 / (mu - lambda) for M/M/1; see :func:`mm1`."""
    return mm1(arrival_rate, service_rate).mean_sojourn


def mmc_wait_tail(t: float | Sequence[float], arrival_rate: float, service_rate: float,
                  servers: int) -> float | np.ndarray:
    """P(Wq > t) = C exp(-(c mu - lambda) t) for M/M/c FCFS (DOMAIN.md 7.2).

    Parameters
    ----------
    t : float or array_like
        Time(s) >= 0, in time units.
    arrival_rate, service_rate, servers
        As in :func:`mmc`.

    Returns
    -------
    float or numpy.ndarray
        Float for scalar ``t``, else an array of the same length.
    """
    times, is_scalar = check.times("t", t)
    result = mmc(arrival_rate, service_rate, servers)
    gamma = servers * service_rate - arrival_rate
    return check.shaped(result.wait_probability * np.exp(-gamma * times), is_scalar)


def mmc_sojourn_tail(t: float | Sequence[float], arrival_rate: float, service_rate: float,
                     servers: int) -> float | np.ndarray:
    """P(T > t) for M/M/c FCFS, including the gamma = c mu - lambda = mu case (DOMAIN.md 7.2).

    Written as exp(-mu t) [1 + C mu (1 - exp(-(gamma - mu) t)) / (gamma - mu)], which is
    continuous (and computed without cancellation) through gamma = mu.

    Parameters
    ----------
    t : float or array_like
        Time(s) >= 0, in time units.
    arrival_rate, service_rate, servers
        As in :func:`mmc`.

    Returns
    -------
    float or numpy.ndarray
    """
    times, is_scalar = check.times("t", t)
    wait_probability = mmc(arrival_rate, service_rate, servers).wait_probability
    mu = service_rate
    difference = servers * service_rate - arrival_rate - mu          # gamma - mu
    # delayed = exp(-mu t) (1 - exp(-(gamma - mu) t)) / (gamma - mu), factored by the slower rate
    if difference > 0.0:
        delayed = np.exp(-mu * times) * -np.expm1(-difference * times) / difference
    elif difference < 0.0:
        delayed = np.exp(-(mu + difference) * times) * -np.expm1(difference * times) / -difference
    else:
        delayed = times * np.exp(-mu * times)
    return check.shaped(np.exp(-mu * times) + wait_probability * mu * delayed, is_scalar)


def mmc_wait_moment(exponent: float, arrival_rate: float, service_rate: float,
                    servers: int) -> float:
    """E[Wq^b] = C Gamma(b + 1) / (c mu - lambda)^b for M/M/c FCFS (DOMAIN.md 5b.2).

    Parameters
    ----------
    exponent : float
        Power b > 0 (perceived wait k Wq^b).
    arrival_rate, service_rate, servers
        As in :func:`mmc`.

    Returns
    -------
    float
        E[Wq^b], in (time units)^b.
    """
    exponent = check.positive("exponent", exponent)
    wait_probability = mmc(arrival_rate, service_rate, servers).wait_probability
    gamma = servers * service_rate - arrival_rate
    return float(wait_probability * math.exp(special.gammaln(exponent + 1.0)
                                             - exponent * math.log(gamma)))


def halfin_whitt_wait_probability(servers: int, offered_load: float) -> float:
    """Halfin-Whitt approximation [1 + beta Phi(beta) / phi(beta)]^-1 of Erlang C (approximate).

    beta = (c - a) / sqrt(a).  Gives 0.2027 against the exact 0.2169 at c = 100, a = 90.
    """
    servers = check.integer("servers", servers)
    offered_load = check.positive("offered_load", offered_load)
    beta = (servers - offered_load) / math.sqrt(offered_load)
    ratio = beta * math.exp(stats.norm.logcdf(beta) - stats.norm.logpdf(beta))
    return 1.0 / (1.0 + ratio)


@dataclass(frozen=True)
class MMcKResult:
    """Stationary M/M/c/K quantities (K = system capacity).

    Attributes
    ----------
    blocking_probability : float
        P(arrival finds K in system) = p_K.
    effective_arrival_rate : float
        lambda (1 - p_K), admitted customers per unit time.
    utilization : float
        Mean fraction of busy servers, lambda_eff / (c mu).
    wait_probability : float
        P(Wq > 0 | admitted).
    mean_wait : float
        E[Wq] over admitted customers.
    mean_sojourn : float
        E[T] over admitted customers.
    mean_queue_length : float
        E[Lq].
    mean_number_in_system : float
        E[L].
    """

    blocking_probability: float
    effective_arrival_rate: float
    utilization: float
    wait_probability: float
    mean_wait: float
    mean_sojourn: float
    mean_queue_length: float
    mean_number_in_system: float


def mmck(arrival_rate: float, service_rate: float, servers: int,
         capacity: int) -> MMcKResult:
    """Stationary M/M/c/K with system capacity K >= c; any load is allowed (DOMAIN.md 7.3).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_rate : float
        Service rate mu per server, per unit time.
    servers : int
        Number of servers c >= 1.
    capacity : int
        System capacity K >= c (places in service plus waiting room).

    Returns
    -------
    MMcKResult

    Raises
    ------
    ValueError
        If an argument is invalid or ``capacity`` < ``servers``.
    """
    probabilities, servers = _mmck_distribution(arrival_rate, service_rate, servers, capacity)
    states = np.arange(capacity + 1)
    blocking = float(probabilities[-1])
    admitted = 1.0 - blocking
    effective_rate = arrival_rate * admitted
    number = float(states @ probabilities)
    queue = float(np.maximum(states - servers, 0) @ probabilities)
    return MMcKResult(
        blocking_probability=blocking,
        effective_arrival_rate=effective_rate,
        utilization=effective_rate / (servers * service_rate),
        wait_probability=float(probabilities[servers:capacity].sum() / admitted),
        mean_wait=queue / effective_rate,
        mean_sojourn=number / effective_rate,
        mean_queue_length=queue,
        mean_number_in_system=number,
    )


def mmck_wait_tail(t: float | Sequence[float], arrival_rate: float, service_rate: float,
                   servers: int, capacity: int) -> float | np.ndarray:
    """P(Wq > t | admitted) for M/M/c/K FCFS (DOMAIN.md 7.3); ``t`` in time units.

    An admitted arrival finding n >= c waits for n - c + 1 completions at rate c mu, so
    P(Wq > t | n) = P(Poisson(c mu t) <= n - c).
    """
    times, is_scalar = check.times("t", t)
    probabilities, servers = _mmck_distribution(arrival_rate, service_rate, servers, capacity)
    admitted = 1.0 - probabilities[-1]
    ahead = np.arange(0, capacity - servers)                 # n - c for n = c .. K-1
    weights = probabilities[servers:capacity] / admitted
    rate = servers * service_rate
    tail = np.array([weights @ special.gammaincc(ahead + 1.0, rate * time) if time > 0
                     else weights.sum() for time in times])
    return check.shaped(tail, is_scalar)


def _mmck_distribution(arrival_rate: float, service_rate: float, servers: int,
                       capacity: int) -> tuple[np.ndarray, int]:
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    service_rate = check.positive("service_rate", service_rate)
    servers = check.integer("servers", servers)
    capacity = check.integer("capacity", capacity)
    if capacity < servers:
        raise ValueError(f"capacity must be >= servers (got capacity={capacity!r}, "
                         f"servers={servers!r})")
    states = np.arange(1, capacity + 1)
    log_ratio = math.log(arrival_rate / service_rate) - np.log(np.minimum(states, servers))
    log_weights = np.concatenate(([0.0], np.cumsum(log_ratio)))
    return np.exp(log_weights - special.logsumexp(log_weights)), servers


@dataclass(frozen=True)
class InfiniteServerResult:
    """M/M/inf (and M/G/inf) stationary quantities: N ~ Poisson(a), no waiting.

    Attributes
    ----------
    offered_load : float
        a = lambda E[S], also E[N] and Var[N].
    wait_probability : float
        Always 0.
    mean_wait : float
        Always 0.
    mean_sojourn : float
        E[S].
    mean_number_in_system : float
        a.
    """

    offered_load: float
    wait_probability: float
    mean_wait: float
    mean_sojourn: float
    mean_number_in_system: float


def mm_infinity(arrival_rate: float, service_rate: float) -> InfiniteServerResult:
    """M/M/inf stationary law, also M/G/inf by insensitivity with mu = 1/E[S] (DOMAIN.md 7.12).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_rate : float
        1 / E[S], per unit time.

    Returns
    -------
    InfiniteServerResult
    """
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    service_rate = check.positive("service_rate", service_rate)
    load = arrival_rate / service_rate
    return InfiniteServerResult(offered_load=load, wait_probability=0.0, mean_wait=0.0,
                                mean_sojourn=1.0 / service_rate, mean_number_in_system=load)


@dataclass(frozen=True)
class FeedbackResult:
    """M/M/1 with Bernoulli feedback to the end of the queue (Takacs 1963).

    Attributes
    ----------
    utilization : float
        rho = Lambda / mu, Lambda = lambda / (1 - p).
    total_arrival_rate : float
        Lambda, visits per unit time.
    mean_visits : float
        E[N] = 1 / (1 - p) services per customer.
    wait_probability : float
        P(Wq > 0) for an external arrival = rho.
    mean_sojourn_total : float
        E[T_total], first arrival to final departure.
    mean_wait_total : float
        E[Wq_total], summed queueing time over all visits.
    mean_sojourn_per_visit : float
        L / Lambda.
    mean_wait_per_visit : float
        L / Lambda - 1 / mu.
    mean_number_in_system : float
        L = rho / (1 - rho).
    """

    utilization: float
    total_arrival_rate: float
    mean_visits: float
    wait_probability: float
    mean_sojourn_total: float
    mean_wait_total: float
    mean_sojourn_per_visit: float
    mean_wait_per_visit: float
    mean_number_in_system: float


def mm1_feedback(arrival_rate: float, service_rate: float,
                 feedback_probability: float) -> FeedbackResult:
    """M/M/1 with Bernoulli feedback probability p (DOMAIN.md 7.11); means only.

    Parameters
    ----------
    arrival_rate : float
        External Poisson arrival rate lambda, per unit time.
    service_rate : float
        Service rate mu per visit, per unit time; needs lambda / (1 - p) < mu.
    feedback_probability : float
        p in [0, 1): probability of returning to the end of the queue after each service.

    Returns
    -------
    FeedbackResult
    """
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    service_rate = check.positive("service_rate", service_rate)
    p = check.probability("feedback_probability", feedback_probability, allow_one=False)
    total_rate = arrival_rate / (1.0 - p)
    rho = total_rate / service_rate
    check.require_stable(rho, f"arrival_rate / (1 - feedback_probability) must be < "
                              f"service_rate (got {total_rate:.6g} vs {service_rate:.6g})")
    number = rho / (1.0 - rho)
    total = number / arrival_rate
    per_visit = number / total_rate
    return FeedbackResult(
        utilization=rho, total_arrival_rate=total_rate, mean_visits=1.0 / (1.0 - p),
        wait_probability=rho, mean_sojourn_total=total,
        mean_wait_total=total - 1.0 / (service_rate * (1.0 - p)),
        mean_sojourn_per_visit=per_visit, mean_wait_per_visit=per_visit - 1.0 / service_rate,
        mean_number_in_system=number)


@dataclass(frozen=True)
class RetrialResult:
    """M/M/1 retrial queue with linear retrial rate theta per orbiting customer.

    Attributes
    ----------
    blocking_probability : float
        P(first attempt finds the server busy) = rho.
    mean_orbit_time : float
        E[time in orbit].
    mean_retrials : float
        E[number of retrials per customer] = theta E[orbit time].
    mean_orbit_size : float
        E[customers in orbit] = lambda E[orbit time].
    mean_sojourn : float
        E[orbit time] + 1 / mu.
    mean_number_in_system : float
        E[orbit size] + rho.
    """

    blocking_probability: float
    mean_orbit_time: float
    mean_retrials: float
    mean_orbit_size: float
    mean_sojourn: float
    mean_number_in_system: float


def mm1_retrial(arrival_rate: float, service_rate: float, retrial_rate: float) -> RetrialResult:
    """Classical M/M/1 retrial queue (DOMAIN.md 7.14).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_rate : float
        Service rate mu, per unit time; needs lambda < mu.
    retrial_rate : float
        theta, retrial rate of each orbiting customer, per unit time.

    Returns
    -------
    RetrialResult
    """
    _mmc_rates(arrival_rate, service_rate, 1)
    theta = check.positive("retrial_rate", retrial_rate)
    rho = arrival_rate / service_rate
    orbit_time = rho / (service_rate - arrival_rate) + rho / (theta * (1.0 - rho))
    return RetrialResult(
        blocking_probability=rho, mean_orbit_time=orbit_time,
        mean_retrials=theta * orbit_time, mean_orbit_size=arrival_rate * orbit_time,
        mean_sojourn=orbit_time + 1.0 / service_rate,
        mean_number_in_system=arrival_rate * orbit_time + rho)


def _mmc_rates(arrival_rate: float, service_rate: float, servers: int) -> int:
    """Validate (lambda, mu, c) for a stable M/M/c and return c as an int."""
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    service_rate = check.positive("service_rate", service_rate)
    servers = check.integer("servers", servers)
    check.require_stable(arrival_rate / (servers * service_rate),
                         f"arrival_rate must be < servers * service_rate (got arrival_rate="
                         f"{arrival_rate!r}, servers * service_rate={servers * service_rate!r})")
    return servers
