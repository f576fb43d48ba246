"""What a visit's outcome does next: retention by TARP outcome, word of mouth, and its value.

Pure functions of the ``population`` config and per-customer arrays; no engine, no RNG of its
own (every uniform is passed in).  Imports config and theory only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from queue_sim.config.population import OUTCOMES, Population
from queue_sim.theory import value as V

NO_PROBLEM, LONG_WAIT, DID_NOT_COMPLAIN, NOT_SATISFIED, SATISFIED, RESOLVED_QUICKLY = range(6)
NEGATIVE = np.array([False, True, True, True, False, False])   # dissatisfied: tell bad news
POSITIVE = np.array([False, False, False, False, True, True])  # satisfied complainants
DAYS_PER_YEAR = 365.0


def retention_by_outcome(pop: Population) -> np.ndarray:
    """Probability of coming back after each outcome (``OUTCOMES`` order).

    Table values are interpolated between the minor and major columns by severity and capped
    at ``base``: a problem never makes a customer more loyal than no problem.  The two
    satisfied outcomes then get ``recovery_uplift`` on top (the service-recovery paradox,
    off by default), capped at 1.
    """
    ret = pop.retention

    def table(pair: tuple[float, float], severity: float) -> float:
        return min(ret.base, (1.0 - severity) * pair[0] + severity * pair[1])

    return np.array([
        ret.base,
        table(ret.did_not_complain, pop.long_wait.severity),
        table(ret.did_not_complain, ret.severity),
        table(ret.complained_not_satisfied, ret.severity),
        min(1.0, table(ret.complained_satisfied, ret.severity) + ret.recovery_uplift),
        min(1.0, table(ret.resolved_quickly, ret.severity) + ret.recovery_uplift),
    ])


def classify(pop: Population, *, failed: np.ndarray, complained: np.ndarray,
             response_time: np.ndarray, served: np.ndarray, satisfaction: np.ndarray,
             dissatisfied_below: float) -> np.ndarray:
    """Outcome code of each visit (see ``OUTCOMES``).

    A wrong order dominates: not complained about -> did_not_complain; complained -> by the
    recovery policy (lacklustre -> not satisfied; full -> resolved quickly when handling began
    within ``quick_response`` of the wrong order, else satisfied).  Without a wrong order, a
    visit ending unserved or below ``dissatisfied_below`` is a long-wait problem (when
    ``long_wait.is_problem``).
    """
    out = np.full(len(failed), NO_PROBLEM, dtype=np.int64)
    if pop.long_wait.is_problem:
        out[~served | (satisfaction < dissatisfied_below)] = LONG_WAIT
    out[failed] = DID_NOT_COMPLAIN
    handled = failed & complained
    if pop.recovery == "lacklustre":
        out[handled] = NOT_SATISFIED
    elif pop.recovery == "full":
        quick = response_time <= pop.quick_response
        out[handled & quick] = RESOLVED_QUICKLY
        out[handled & ~quick] = SATISFIED
    return out


def people_told(pop: Population, outcome: np.ndarray, u: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(bad news, good news) people told by each customer, by inverse CDF of ``u``.

    Dissatisfied customers tell a negative binomial number fitted to the TARP moments;
    satisfied complainants a Poisson number with mean ``positive_mean``.
    """
    wom = pop.word_of_mouth
    negative = np.zeros(len(outcome), np.int64)
    positive = np.zeros(len(outcome), np.int64)
    bad, good = NEGATIVE[outcome], POSITIVE[outcome]
    if bad.any():
        n, p = wom.negative_binomial()
        negative[bad] = sps.nbinom.ppf(u[bad], n, p).astype(np.int64)
    if good.any() and wom.positive_mean > 0:
        positive[good] = sps.poisson.ppf(u[good], wom.positive_mean).astype(np.int64)
    return negative, positive


@dataclass(frozen=True)
class ValueModel:
    """The money constants of a population, per day and per visit cycle (see theory.value).

    ``active`` is the value of a customer who will visit again (m / (1 + i_c - r)),
    ``new`` that of a customer at a first visit (m + CLV), ``lag`` the discount of a telling's
    effect, all with the no-problem retention ``base``.
    """

    margin: float
    daily_rate: float
    cycle_rate: float
    active: float
    new: float
    lag: float
    retention: np.ndarray

    @classmethod
    def of(cls, pop: Population) -> ValueModel:
        daily = V.daily_discount_rate(pop.value.discount_rate, DAYS_PER_YEAR)
        cycle = V.visit_cycle_discount_rate(daily, pop.visit_probability)
        base = pop.retention.base
        return cls(margin=pop.value.margin, daily_rate=daily, cycle_rate=cycle,
                   active=V.active_customer_value(pop.value.margin, base, cycle),
                   new=V.new_customer_value(pop.value.margin, base, cycle),
                   lag=V.lag_discount_factor(pop.word_of_mouth.delay, daily),
                   retention=retention_by_outcome(pop))

    def discount(self, day: int | np.ndarray) -> float | np.ndarray:
        """Discount factor of a margin earned on ``day`` (day 0 is one day from now)."""
        return (1.0 + self.daily_rate) ** -(np.asarray(day, dtype=float) + 1.0)

    def expected_loss(self, pop: Population) -> np.ndarray:
        """First-order value lost per visit of each outcome (DOMAIN.md 3b.2 plus word of mouth).

        ``(base - r_outcome) * active`` (the incident changes only the next retention draw)
        plus ``influence * (mean bad news - mean good news) * new * lag`` (each told prospect
        is ``influence`` more or less likely to become a new customer).  At the visit's time.
        """
        wom = pop.word_of_mouth
        told = NEGATIVE * wom.negative_mean - POSITIVE * wom.positive_mean
        return ((pop.retention.base - self.retention) * self.active
                + wom.influence * told * self.new * self.lag)


__all__ = ["OUTCOMES", "ValueModel", "classify", "people_told", "retention_by_outcome"]
