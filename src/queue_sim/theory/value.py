"""Customer-value formulas: lifetime value under geometric retention and value lost per incident.

DOMAIN.md 1.5 and 3b.1-3b.2.  Imports theory._validation only; nothing from the rest of
queue_sim.  Money is in the margin's currency unit; rates are per period.
"""

from __future__ import annotations

import functools

import numpy as np

from queue_sim.theory import _validation as check


def clv(margin: float, retention: float, discount: float) -> float:
    """Customer lifetime value m r / (1 + i - r) (Gupta & Lehmann 2003).

    Parameters
    ----------
    margin : float
        m, margin per period (any currency unit; may be negative).
    retention : float
        r in [0, 1), probability of staying another period.
    discount : float
        i >= 0, discount rate per period.

    Returns
    -------
    float
        CLV in the unit of ``margin``; 2.667 m for r = 0.8, i = 0.1.
    """
    margin = check.finite("margin", margin)
    retention = check.probability("retention", retention, allow_one=False)
    discount = check.nonnegative("discount", discount)
    return margin * retention / (1.0 + discount - retention)


def incident_value_lost(margin: float, base_retention: float, outcome_retention: float,
                        discount: float) -> float:
    """First-order value lost by one incident, (r_base - r_outcome) CLV(m, r_base, i) / r_base.

    Valid when the incident changes only the next retention draw (DOMAIN.md 3b.2).

    Parameters
    ----------
    margin : float
        m, margin per period.
    base_retention : float
        r_base in (0, 1), retention without the incident.
    outcome_retention : float
        r_outcome in [0, 1], retention after the incident (e.g. from the TARP table).
    discount : float
        i >= 0, discount rate per period.
    """
    base = check.probability("base_retention", base_retention, allow_zero=False,
                             allow_one=False)
    outcome = check.probability("outcome_retention", outcome_retention)
    return (base - outcome) * clv(margin, base, discount) / base


def active_customer_value(margin: float, retention: float, discount: float) -> float:
    """Value of a customer who will make one more visit, a period from now: m / (1 + i - r).

    Equal to ``clv(m, r, i) / r``: the value of a retention draw that comes out "stays".  With
    discount ``i`` per visit cycle, the next visit is discounted once, every later one once
    more per visit.

    Parameters
    ----------
    margin : float
        m, margin per visit.
    retention : float
        r in [0, 1), probability of coming back after each visit.
    discount : float
        i >= 0, discount rate per visit cycle.
    """
    margin = check.finite("margin", margin)
    retention = check.probability("retention", retention)
    discount = check.nonnegative("discount", discount)
    if retention == 1.0 and discount == 0.0:
        raise ValueError("retention must be < 1 when discount is 0 (the value is infinite)")
    return margin / (1.0 + discount - retention)


def new_customer_value(margin: float, retention: float, discount: float) -> float:
    """Value of a customer at their first visit: that visit's margin plus CLV, m + CLV.

    CLV = r * ``active_customer_value``, which also allows r = 1 when i > 0 (CLV = m / i).
    """
    return check.finite("margin", margin) + retention * active_customer_value(
        margin, retention, discount)


def daily_discount_rate(annual_rate: float, days_per_year: float = 365.0) -> float:
    """Daily rate equivalent to an annual one: (1 + i)^(1/days) - 1."""
    annual_rate = check.nonnegative("annual_rate", annual_rate)
    days_per_year = check.positive("days_per_year", days_per_year)
    return (1.0 + annual_rate) ** (1.0 / days_per_year) - 1.0


def visit_cycle_discount_rate(daily_rate: float, visit_probability: float) -> float:
    """Discount rate per visit cycle when visits happen each day with probability nu.

    The gap G between visits is geometric on {1, 2, ...} with mean 1/nu days, and
    E[(1 + i_d)^-G] = nu / (nu + i_d) = 1 / (1 + i_d / nu), so one cycle discounts like a
    rate of ``i_d / nu``.  With it the Gupta-Lehmann formulas above hold exactly for a
    population that visits day by day.
    """
    daily_rate = check.nonnegative("daily_rate", daily_rate)
    nu = check.probability("visit_probability", visit_probability, allow_zero=False)
    return daily_rate / nu


def lag_discount_factor(mean_lag: float, daily_rate: float) -> float:
    """E[(1 + i_d)^-L] for a geometric lag L on {1, 2, ...} with mean ``mean_lag`` days."""
    mean_lag = check.positive("mean_lag", mean_lag)
    if mean_lag < 1.0:
        raise ValueError(f"mean_lag must be >= 1 day (got {mean_lag!r})")
    daily_rate = check.nonnegative("daily_rate", daily_rate)
    q = 1.0 / mean_lag
    return q / (q + daily_rate)


def steady_state_new_customers(customers: float, retention: float,
                               visit_probability: float) -> float:
    """New customers per day that keep a base of ``customers`` steady: N nu (1 - r) / r.

    Each active customer visits with probability nu a day and leaves after a visit with
    probability 1 - r, so N nu (1 - r) leave per day; a new customer joins the base only if
    they come back after their first visit (probability r).
    """
    customers = check.nonnegative("customers", customers)
    retention = check.probability("retention", retention, allow_zero=False)
    nu = check.probability("visit_probability", visit_probability)
    return customers * nu * (1.0 - retention) / retention


@functools.lru_cache(maxsize=64)
def word_of_mouth_negative_binomial(mean: float, share_above: float, threshold: int = 20
                                    ) -> tuple[float, float]:
    """Negative binomial (n, p) of people told, with the given mean and P(K > threshold).

    TARP: a dissatisfied customer tells 9-10 people and 13% tell more than 20 (DOMAIN.md 1.5,
    3a).  For a fixed mean, P(K > threshold) as a function of the shape n rises from 0 (n -> 0,
    all mass at 0 but for a far tail) to a maximum and falls to the Poisson value (n -> inf);
    the root on the falling side is returned, the less degenerate of the two.  scipy's
    parametrisation: mean = n (1 - p) / p.

    Parameters
    ----------
    mean : float
        Mean number told, > 0.
    share_above : float
        P(K > threshold), between the Poisson tail at ``mean`` and the largest reachable.
    threshold : int
        Count the share refers to (default 20).

    Returns
    -------
    (n, p)
        For ``scipy.stats.nbinom(n, p)``.

    Raises
    ------
    ValueError
        If no negative binomial with that mean reaches ``share_above``.
    """
    from scipy import optimize, stats

    mean = check.positive("mean", mean)
    share_above = check.probability("share_above", share_above, allow_zero=False,
                                     allow_one=False)
    threshold = check.integer("threshold", threshold, minimum=0)

    def tail(log_n: float) -> float:
        n = float(np.exp(log_n))
        return float(stats.nbinom.sf(threshold, n, n / (n + mean)))

    peak = optimize.minimize_scalar(lambda x: -tail(x), bounds=(-8.0, 8.0), method="bounded")
    poisson_tail = float(stats.poisson.sf(threshold, mean))
    if not poisson_tail < share_above < -peak.fun:
        raise ValueError(f"share_above must lie between {poisson_tail:.4g} and {-peak.fun:.4g} "
                         f"for a negative binomial with mean {mean:g} (got {share_above!r})")
    log_n = optimize.brentq(lambda x: tail(x) - share_above, peak.x, 20.0, xtol=1e-12)
    n = float(np.exp(log_n))
    return n, n / (n + mean)
