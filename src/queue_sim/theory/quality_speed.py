"""Quality-speed curves and the cost of a resolved case (DOMAIN.md 6a-6b, the geometric model).

Each contact of a case has its own handle time S (capped: min(S, cap)) and resolves the case with
probability q(min(S, cap)); unresolved customers contact again, and repeat contacts take
``repeat_extra`` longer (re-explaining the case) without raising q.  Contacts are independent
and identically distributed, so by Wald's identity the staff time per resolved case is

    kappa = E[min(S, cap)] / qbar + repeat_extra (1 / qbar - 1),   qbar = E[q(min(S, cap))].

With a deterministic handle time s and no extra this is DOMAIN.md 6b's kappa(s) = s / q(s):
cutting s lowers cost exactly where the elasticity s q'(s) / q(s) < 1; with repeat extra o the
break-even is q(s) = (s + o) q'(s) (6b writes q(s)^2 = s_r q'(s) for a repeat cost s_r that does
not shrink with s).  Imports numpy and scipy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special

from queue_sim.theory import _validation as check

Curve = Callable[[np.ndarray], np.ndarray]


def exponential_quality(s: float | np.ndarray, q_max: float, tau: float) -> np.ndarray:
    """q(s) = q_max (1 - exp(-s / tau)), concave (Anand, Pac & Veeraraghavan 2011)."""
    return q_max * -np.expm1(-np.asarray(s, float) / tau)


def exponential_quality_slope(s: float | np.ndarray, q_max: float, tau: float) -> np.ndarray:
    """q'(s) of ``exponential_quality``."""
    return q_max / tau * np.exp(-np.asarray(s, float) / tau)


def logistic_quality(s: float | np.ndarray, q_max: float, midpoint: float,
                     tau: float) -> np.ndarray:
    """q(s) = q_max / (1 + exp(-(s - midpoint) / tau)), S-shaped (a threshold)."""
    return q_max * special.expit((np.asarray(s, float) - midpoint) / tau)


def logistic_quality_slope(s: float | np.ndarray, q_max: float, midpoint: float,
                           tau: float) -> np.ndarray:
    """q'(s) of ``logistic_quality``."""
    p = special.expit((np.asarray(s, float) - midpoint) / tau)
    return q_max * p * (1 - p) / tau


def elasticity(q: Curve, slope: Curve, s: float | np.ndarray) -> np.ndarray:
    """epsilon(s) = s q'(s) / q(s); cutting a deterministic handle time lowers s / q(s) where
    it is below 1 (DOMAIN.md 6b)."""
    s = np.asarray(s, float)
    return s * slope(s) / q(s)


@dataclass(frozen=True)
class ContactCost:
    """The geometric model of one channel under a handle-time cap.

    Attributes
    ----------
    handle_time : float
        E[min(S, cap)], mean productive handle time per contact.
    resolution_probability : float
        qbar = E[q(min(S, cap))], first-contact resolution.
    contacts_per_case : float
        1 / qbar.
    failure_share : float
        1 - qbar, repeat contacts / all contacts.
    work_per_case : float
        kappa, staff time per resolved case (repeat extra included).
    """

    handle_time: float
    resolution_probability: float
    contacts_per_case: float
    failure_share: float
    work_per_case: float


def contact_cost(q: Curve, service_quantile: Callable[[np.ndarray], np.ndarray],
                 cap: float = math.inf, repeat_extra: float = 0.0) -> ContactCost:
    """Cost per resolved case when every contact (first or repeat) has handle time min(S, cap).

    Parameters
    ----------
    q : callable
        Resolution probability of a contact of (capped) handle time s; vectorised.
    service_quantile : callable
        Inverse CDF of the uncapped handle time S on (0, 1) (``Distribution.quantile``).
    cap : float
        Handle-time cap (AHT target), in time units; ``math.inf`` for none.
    repeat_extra : float
        Extra time of each repeat contact, in time units (>= 0).

    Returns
    -------
    ContactCost
    """
    cap = check.positive("cap", cap) if not math.isinf(cap) else cap
    extra = check.nonnegative("repeat_extra", repeat_extra)

    def mean(f: Callable[[np.ndarray], np.ndarray]) -> float:
        # E[f(min(S, cap))] as an integral over the uniform that draws S
        g = lambda u: float(f(np.minimum(service_quantile(np.array([u])), cap))[0])  # noqa: E731
        return integrate.quad(g, 0.0, 1.0, limit=200, points=[0.5])[0]

    handle = mean(lambda s: s)
    qbar = mean(q)
    if not qbar > 0:
        raise ValueError(f"q must be positive somewhere below the cap (got qbar = {qbar!r})")
    return ContactCost(handle_time=handle, resolution_probability=qbar,
                       contacts_per_case=1.0 / qbar, failure_share=1.0 - qbar,
                       work_per_case=handle / qbar + extra * (1.0 / qbar - 1.0))


def break_even_handle_times(q: Curve, slope: Curve, repeat_extra: float = 0.0,
                           upper: float = 1e3) -> list[float]:
    """Deterministic handle times in (0, upper] where the staff time per resolved case
    ``(s + o) / q(s) - o`` is flat: roots of ``q(s) = (s + o) q'(s)`` (DOMAIN.md 6b with
    o = 0: elasticity 1).  Below a root where the cost turns from falling to rising, cutting s
    raises cost.  Empty for a concave q with o = 0: there every cut lowers cost."""
    extra = check.nonnegative("repeat_extra", repeat_extra)
    g = lambda s: float(q(np.array([s]))[0] - (s + extra) * slope(np.array([s]))[0])  # noqa: E731
    grid = np.geomspace(1e-6, upper, 2000)
    values = np.array([g(x) for x in grid])
    roots = []
    for k in np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0):
        roots.append(float(optimize.brentq(g, grid[k], grid[k + 1], xtol=1e-12)))
    return roots
