"""Customer-value formulas: lifetime value under geometric retention and value lost per incident.

DOMAIN.md 1.5 and 3b.1-3b.2.  Imports theory._validation only; nothing from the rest of
queue_sim.  Money is in the margin's currency unit; rates are per period.
"""

from __future__ import annotations

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
