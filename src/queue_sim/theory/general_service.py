"""M/G/1 FCFS results: Pollaczek-Khinchine, service-time moments, M/D/1, vacations, breakdowns.

DOMAIN.md 7.4, 7.5, 7.15.  Imports numpy/scipy and theory._validation only; nothing from the
rest of queue_sim.  Rates are per unit of time; times and moments are in that time unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special

from queue_sim.theory import _validation as check

_MOMENT_TOLERANCE = 1e-12


@dataclass(frozen=True)
class MG1Result:
    """Stationary M/G/1-type means.

    Attributes
    ----------
    utilization : float
        rho = lambda E[S] (or lambda E[C] with breakdowns).
    wait_probability : float
        P(Wq > 0) seen by an arrival.
    mean_wait : float
        E[Wq].
    mean_sojourn : float
        E[T].
    mean_queue_length : float
        E[Lq] = lambda E[Wq].
    mean_number_in_system : float
        E[L] = lambda E[T].
    wait_second_moment : float or None
        E[Wq^2] (Takacs) when the third service moment was given, else None.
    """

    utilization: float
    wait_probability: float
    mean_wait: float
    mean_sojourn: float
    mean_queue_length: float
    mean_number_in_system: float
    wait_second_moment: float | None = None


class ServiceMoments(NamedTuple):
    """Raw moments (E[S], E[S^2], E[S^3]) of a service-time law, in time units^k."""

    mean: float
    second_moment: float
    third_moment: float


_SERVICE_PARAMETERS = {
    "exponential": ("mean",),
    "deterministic": ("mean",),
    "lognormal": ("mean", "cv"),
    "gamma": ("mean", "cv"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
}


def service_moments(kind: str, **params: float) -> ServiceMoments:
    """First three raw moments of a named service-time distribution.

    Parameters
    ----------
    kind : str
        One of ``exponential(mean)``, ``deterministic(mean)``, ``lognormal(mean, cv)``,
        ``gamma(mean, cv)``, ``uniform(low, high)``, ``triangular(low, mode, high)``.
    **params : float
        The parameters named above; times in time units, ``cv`` dimensionless.

    Returns
    -------
    ServiceMoments
        (E[S], E[S^2], E[S^3]); a NamedTuple, so it unpacks as a 3-tuple.

    Raises
    ------
    ValueError
        For an unknown kind, missing or extra parameters, or invalid values.
    """
    if kind not in _SERVICE_PARAMETERS:
        raise ValueError(f"kind must be one of {sorted(_SERVICE_PARAMETERS)} (got {kind!r})")
    expected = _SERVICE_PARAMETERS[kind]
    if set(params) != set(expected):
        raise ValueError(f"service_moments(kind={kind!r}) needs parameters {list(expected)} "
                         f"(got {sorted(params)})")
    if kind in ("uniform", "triangular"):
        low = check.nonnegative("low", params["low"])
        high = check.positive("high", params["high"])
        mode = check.nonnegative("mode", params.get("mode", low))
        if not low <= mode <= high or low >= high:
            raise ValueError(f"{kind} needs low <= mode <= high and low < high (got {params!r})")
        if kind == "uniform":
            return ServiceMoments(*[(high ** (k + 1) - low ** (k + 1)) / ((k + 1) * (high - low))
                                    for k in (1, 2, 3)])
        return ServiceMoments(*[_triangular_moment(low, mode, high, k) for k in (1, 2, 3)])
    mean = check.positive("mean", params["mean"])
    if kind == "exponential":
        return ServiceMoments(mean, 2.0 * mean ** 2, 6.0 * mean ** 3)
    if kind == "deterministic":
        return ServiceMoments(mean, mean ** 2, mean ** 3)
    cv2 = check.nonnegative("cv", params["cv"]) ** 2
    if kind == "lognormal":
        return ServiceMoments(mean, mean ** 2 * (1.0 + cv2), mean ** 3 * (1.0 + cv2) ** 3)
    return ServiceMoments(mean, mean ** 2 * (1.0 + cv2),
                          mean ** 3 * (1.0 + cv2) * (1.0 + 2.0 * cv2))


def _triangular_moment(low: float, mode: float, high: float, k: int) -> float:
    """E[X^k] for the triangular law, integrating x^k times each linear piece exactly."""
    width = high - low

    def piece(a: float, b: float, slope: float, intercept: float) -> float:
        # integral over [a, b] of x^k (intercept + slope x)
        return (slope * (b ** (k + 2) - a ** (k + 2)) / (k + 2)
                + intercept * (b ** (k + 1) - a ** (k + 1)) / (k + 1))

    total = 0.0
    if mode > low:
        scale = 2.0 / (width * (mode - low))
        total += piece(low, mode, scale, -scale * low)
    if high > mode:
        scale = 2.0 / (width * (high - mode))
        total += piece(mode, high, -scale, scale * high)
    return total


def mg1(arrival_rate: float, mean_service: float, second_moment_service: float,
        third_moment_service: float | None = None) -> MG1Result:
    """M/G/1 FCFS via Pollaczek-Khinchine; E[Wq^2] by Takacs if E[S^3] given (DOMAIN.md 7.4).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    mean_service : float
        E[S], in time units; needs lambda E[S] < 1.
    second_moment_service : float
        E[S^2] >= E[S]^2, in time units squared.
    third_moment_service : float, optional
        E[S^3] >= E[S^2]^2 / E[S], in time units cubed.

    Returns
    -------
    MG1Result
    """
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    mean, second, third = _moments("service", mean_service, second_moment_service,
                                   third_moment_service)
    rho = arrival_rate * mean
    check.require_stable(rho, f"arrival_rate * mean_service must be < 1 (got arrival_rate="
                              f"{arrival_rate!r}, mean_service={mean!r})")
    wait = arrival_rate * second / (2.0 * (1.0 - rho))
    wait2 = None if third is None else 2.0 * wait ** 2 + arrival_rate * third / (3.0 * (1 - rho))
    return MG1Result(utilization=rho, wait_probability=rho, mean_wait=wait,
                     mean_sojourn=wait + mean, mean_queue_length=arrival_rate * wait,
                     mean_number_in_system=arrival_rate * (wait + mean),
                     wait_second_moment=wait2)


def md1(arrival_rate: float, service_time: float) -> MG1Result:
    """M/D/1: Wq = rho D / (2 (1 - rho)), with E[Wq^2] (DOMAIN.md 7.5).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_time : float
        Constant service time D, in time units; needs lambda D < 1.
    """
    service_time = check.positive("service_time", service_time)
    return mg1(arrival_rate, *service_moments("deterministic", mean=service_time))


def md1_wait_cdf(t: float | Sequence[float], arrival_rate: float,
                 service_time: float) -> float | np.ndarray:
    """P(Wq <= t) for M/D/1 FCFS by the Erlang/Crommelin series (DOMAIN.md 7.5).

    P(Wq <= t) = (1 - rho) sum_{k=0}^{floor(t/D)} [lambda (kD - t)]^k / k! exp(-lambda (kD - t)).
    The series alternates and cancels in float64 for large t, so only t <= 10 D is accepted.

    Parameters
    ----------
    t : float or array_like
        Time(s) in [0, 10 D], in time units.
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_time : float
        Constant service time D, in time units.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    ValueError
        If t > 10 D, or the queue is unstable.
    """
    times, is_scalar = check.times("t", t)
    rho = md1(arrival_rate, service_time).utilization
    limit = 10.0 * service_time
    if (times > limit * (1.0 + 1e-12)).any():
        raise ValueError(f"t must be <= 10 * service_time = {limit!r} for the float64 "
                         f"Crommelin series (got max t = {times.max()!r})")
    values = np.empty_like(times)
    for index, time in enumerate(times):
        terms = [1.0 if time == 0.0 else math.exp(arrival_rate * time)]
        for k in range(1, int(math.floor(time / service_time + 1e-12)) + 1):
            gap = arrival_rate * (time - k * service_time)
            if gap <= 0.0:
                continue
            magnitude = math.exp(k * math.log(gap) - special.gammaln(k + 1.0) + gap)
            terms.append(-magnitude if k % 2 else magnitude)
        values[index] = min(1.0, max(0.0, (1.0 - rho) * math.fsum(terms)))
    return check.shaped(values, is_scalar)


def mg1_multiple_vacations(arrival_rate: float, mean_service: float,
                           second_moment_service: float, mean_vacation: float,
                           second_moment_vacation: float) -> MG1Result:
    """M/G/1 with multiple exhaustive vacations (Fuhrmann-Cooper decomposition, DOMAIN.md 7.15).

    Wq = lambda E[S^2] / (2 (1 - rho)) + E[V^2] / (2 E[V]); P(wait) = 1 for continuous V.

    Parameters
    ----------
    arrival_rate : float
        lambda, per unit time.
    mean_service, second_moment_service : float
        E[S] and E[S^2], in time units (squared).
    mean_vacation, second_moment_vacation : float
        E[V] and E[V^2] of one vacation, in time units (squared).
    """
    base = mg1(arrival_rate, mean_service, second_moment_service)
    mean_v, second_v, _ = _moments("vacation", mean_vacation, second_moment_vacation, None)
    return _shifted(base, arrival_rate, second_v / (2.0 * mean_v), wait_probability=1.0)


def mg1_single_vacation(arrival_rate: float, mean_service: float,
                        second_moment_service: float, mean_vacation: float,
                        second_moment_vacation: float,
                        vacation_transform: float) -> MG1Result:
    """M/G/1 with a single exhaustive vacation after each busy period (DOMAIN.md 7.15).

    Wq = lambda E[S^2] / (2 (1 - rho)) + lambda E[V^2] / (2 (lambda E[V] + V*(lambda))).

    Parameters
    ----------
    arrival_rate : float
        lambda, per unit time.
    mean_service, second_moment_service : float
        E[S] and E[S^2].
    mean_vacation, second_moment_vacation : float
        E[V] and E[V^2].
    vacation_transform : float
        V*(lambda) = E[exp(-lambda V)] in (0, 1], e.g. beta / (beta + lambda) for Exp(beta)
        or exp(-lambda v) for a constant v.

    Returns
    -------
    MG1Result
        ``wait_probability`` = 1 - (1 - rho) V* / (lambda E[V] + V*), the chance that the
        server is not idle-and-available at an arrival.
    """
    base = mg1(arrival_rate, mean_service, second_moment_service)
    mean_v, second_v, _ = _moments("vacation", mean_vacation, second_moment_vacation, None)
    transform = check.probability("vacation_transform", vacation_transform, allow_zero=False)
    denominator = arrival_rate * mean_v + transform
    idle = (1.0 - base.utilization) * transform / denominator
    return _shifted(base, arrival_rate, arrival_rate * second_v / (2.0 * denominator),
                    wait_probability=1.0 - idle)


def completion_time_moments(mean_service: float, second_moment_service: float,
                            breakdown_rate: float, mean_repair: float,
                            second_moment_repair: float) -> tuple[float, float]:
    """(E[C], E[C^2]) of C = S + sum of N(S) repairs, N(S) | S ~ Poisson(alpha S) (7.15).

    Parameters
    ----------
    mean_service, second_moment_service : float
        E[S], E[S^2].
    breakdown_rate : float
        alpha >= 0, breakdowns per unit of busy time.
    mean_repair, second_moment_repair : float
        E[R], E[R^2] of one repair (preemptive-resume).
    """
    mean_s, second_s, _ = _moments("service", mean_service, second_moment_service, None)
    alpha = check.nonnegative("breakdown_rate", breakdown_rate)
    mean_r, second_r, _ = _moments("repair", mean_repair, second_moment_repair, None)
    factor = 1.0 + alpha * mean_r
    return mean_s * factor, second_s * factor ** 2 + alpha * mean_s * second_r


def mg1_breakdowns(arrival_rate: float, mean_service: float, second_moment_service: float,
                   breakdown_rate: float, mean_repair: float,
                   second_moment_repair: float) -> MG1Result:
    """M/G/1 whose server breaks down only while busy, repair R general (DOMAIN.md 7.15).

    P-K with the completion time C of :func:`completion_time_moments`: Wq = lambda E[C^2] /
    (2 (1 - lambda E[C])), T = Wq + E[C], P(wait) = lambda E[C].  Arguments as there, plus
    ``arrival_rate`` lambda per unit time.
    """
    mean_c, second_c = completion_time_moments(mean_service, second_moment_service,
                                               breakdown_rate, mean_repair,
                                               second_moment_repair)
    try:
        return mg1(arrival_rate, mean_c, second_c)
    except ValueError as error:
        raise ValueError(f"{error}; with breakdowns the load is arrival_rate * mean_service "
                         "* (1 + breakdown_rate * mean_repair)") from None


def _shifted(base: MG1Result, arrival_rate: float, extra_wait: float,
             wait_probability: float) -> MG1Result:
    wait = base.mean_wait + extra_wait
    service = base.mean_sojourn - base.mean_wait
    return MG1Result(utilization=base.utilization, wait_probability=wait_probability,
                     mean_wait=wait, mean_sojourn=wait + service,
                     mean_queue_length=arrival_rate * wait,
                     mean_number_in_system=arrival_rate * (wait + service))


def _moments(what: str, mean: float, second: float,
             third: float | None) -> tuple[float, float, float | None]:
    """Validate raw moments of a positive random variable (Jensen / Cauchy-Schwarz)."""
    mean = check.positive(f"mean_{what}", mean)
    second = check.positive(f"second_moment_{what}", second)
    if second < mean ** 2 * (1.0 - _MOMENT_TOLERANCE):
        raise ValueError(f"second_moment_{what} must be >= mean_{what}**2 = {mean ** 2!r} "
                         f"(got {second!r})")
    if third is not None:
        third = check.positive(f"third_moment_{what}", third)
        if third < second ** 2 / mean * (1.0 - _MOMENT_TOLERANCE):
            raise ValueError(f"third_moment_{what} must be >= second_moment_{what}**2 / "
                             f"mean_{what} = {second ** 2 / mean!r} (got {third!r})")
    return mean, second, third
