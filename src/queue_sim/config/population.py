"""The ``population:`` section of a scenario: identified customers who come back (DOMAIN.md 1.5, 3a).

A population runs the scenario's counter once per day (one period) for ``days`` days.  Each day
the active customers of ``customer_class`` visit with probability ``visit_probability``; what
happens to them at the counter (wait, a wrong order, a complaint and how it was handled)
decides whether they come back (``retention``) and how many people they tell
(``word_of_mouth``), which moves the arrival rate of new customers.  Money is in the unit of
``value.margin``.  Imports config and the value formulas of ``queue_sim.theory`` only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from queue_sim.config.distributions import Frozen
from queue_sim.errors import InvalidField
from queue_sim.theory.value import word_of_mouth_negative_binomial

OUTCOMES = ("no_problem", "long_wait", "did_not_complain", "complained_not_satisfied",
            "complained_satisfied", "resolved_quickly")
"""Outcome of a visit, in code order (``queue_sim.population`` stores the index)."""

Pair = tuple[float, float]


def _pair(minor: float, major: float, what: str):  # noqa: ANN202 - a pydantic Field
    return Field(default=(minor, major), description=(
        f"probability of coming back after a problem {what}: (minor problem, loss < $5; major "
        f"problem, loss > $100); default TARP 1979/1986 ({minor:g}, {major:g})"))


class Retention(Frozen):
    """Probability of coming back after a visit, by what happened (TARP repurchase figures).

    After a problem the table value for the visit's outcome, interpolated between the minor and
    major columns by the problem's severity, replaces ``base`` for that one retention draw;
    it never exceeds ``base``, except by ``recovery_uplift`` for satisfied complainants.
    """

    base: float = Field(default=0.9, gt=0, le=1, description=(
        "r: probability of coming back after a visit without a problem (per visit) [A]; 1 "
        "needs value.discount_rate > 0; default 0.9"))
    severity: float = Field(default=0.5, ge=0, le=1, description=(
        "weight of the major column for a wrong order: 0 = minor, 1 = major; a restaurant meal "
        "lies between [A]; default 0.5"))
    did_not_complain: Pair = _pair(0.37, 0.09, "the customer did not complain about")
    complained_not_satisfied: Pair = _pair(0.46, 0.19, "complained about, not satisfied "
                                                       "(lacklustre concern)")
    complained_satisfied: Pair = _pair(0.70, 0.54, "complained about and resolved")
    resolved_quickly: Pair = _pair(0.95, 0.82, "complained about and resolved quickly")
    recovery_uplift: float = Field(default=0.0, ge=0, le=1, description=(
        "service-recovery paradox: added to the retention of satisfied complainants (after "
        "the cap at base), so a recovered customer can be more loyal than one without a "
        "problem; default 0 (no effect on repurchase, de Matos et al. 2007), sweep 0-0.05"))

    @model_validator(mode="after")
    def _probabilities(self) -> Retention:
        for name in OUTCOMES[2:]:
            pair = getattr(self, name)
            if not all(0.0 <= v <= 1.0 for v in pair):
                raise InvalidField(f"population.retention.{name}", "must hold two "
                                   "probabilities in [0, 1] (minor, major)", list(pair))
        return self


class VisitTiming(Frozen):
    """How soon a retained customer comes back, by what happened at the last visit: the daily
    visit probability is multiplied by the outcome's factor until the next visit (< 1: comes
    back later).  No survey figure exists for this [A]; default 1 for every outcome (timing
    unchanged, only the chance of coming back moves).  The first-order values
    (``expected_loss``) assume unchanged timing."""

    no_problem: float = Field(default=1.0, gt=0, description="factor after a visit without "
                                                             "a problem; default 1")
    long_wait: float = Field(default=1.0, gt=0, description="factor after a long wait; "
                                                            "default 1")
    did_not_complain: float = Field(default=1.0, gt=0, description=(
        "factor after a problem the customer did not complain about; default 1"))
    complained_not_satisfied: float = Field(default=1.0, gt=0, description=(
        "factor after lacklustre concern; default 1"))
    complained_satisfied: float = Field(default=1.0, gt=0, description=(
        "factor after a resolved complaint; default 1"))
    resolved_quickly: float = Field(default=1.0, gt=0, description=(
        "factor after a complaint resolved quickly; default 1"))

    def factors(self) -> tuple[float, ...]:
        """The factors in ``OUTCOMES`` order."""
        return tuple(getattr(self, name) for name in OUTCOMES)


class LongWait(Frozen):
    """Visits that went badly without a wrong order: a long wait, or leaving unserved."""

    is_problem: bool = Field(default=True, description=(
        "a visit whose satisfaction (experience section) falls below "
        "experience.dissatisfied_below, or that ends unserved (abandoned, balked, lost), is a "
        "problem the customer did not complain about; default true"))
    severity: float = Field(default=0.0, ge=0, le=1, description=(
        "weight of the major column of retention.did_not_complain for such a problem; "
        "default 0 (minor)"))


class WordOfMouth(Frozen):
    """How many people customers tell, and what that does to prospective customers."""

    negative_mean: float = Field(default=9.5, gt=0, description=(
        "mean number of people a dissatisfied customer tells (TARP: 9-10); default 9.5"))
    negative_above_20: float = Field(default=0.13, gt=0, lt=1, description=(
        "share of dissatisfied customers who tell more than 20 (TARP: 13%); with "
        "negative_mean it fixes the negative binomial of the number told; default 0.13"))
    positive_mean: float = Field(default=5.0, ge=0, description=(
        "mean number of people a satisfied complainant tells (Poisson; TARP: about 5); "
        "default 5"))
    influence: float = Field(default=0.02, ge=0, le=1, description=(
        "delta: change in a told prospect's probability of becoming a customer, down for bad "
        "news and up for good (sweep 0-0.05) [A]; default 0.02"))
    delay: float = Field(default=30.0, ge=1, description=(
        "mean days between a telling and the told prospect's first visit (geometric lag) [A]; "
        "default 30"))

    @model_validator(mode="after")
    def _fits(self) -> WordOfMouth:
        try:
            word_of_mouth_negative_binomial(self.negative_mean, self.negative_above_20)
        except ValueError as exc:
            expected = str(exc).split(" (got")[0].replace("share_above must", "must")
            raise InvalidField("population.word_of_mouth.negative_above_20", expected,
                               self.negative_above_20) from None
        return self

    def negative_binomial(self) -> tuple[float, float]:
        """scipy ``nbinom(n, p)`` of the number a dissatisfied customer tells."""
        return word_of_mouth_negative_binomial(self.negative_mean, self.negative_above_20)


class Value(Frozen):
    """Money: margin per visit, discounting and the cost of recovery."""

    margin: float = Field(default=5.0, gt=0, description=(
        "m: margin of one served visit (currency unit of every amount here); default 5"))
    discount_rate: float = Field(default=0.10, ge=0, description=(
        "i: discount rate per year of 365 days (applied per day); default 0.10"))
    certificate: float = Field(default=10.0, ge=0, description=(
        "cost of the gift certificates of one full recovery [A]; default 10"))
    staff_cost: float = Field(default=0.5, ge=0, description=(
        "cost of one time_unit of manager time spent handling complaints [A]; default 0.5 "
        "(30 an hour when time_unit is minute)"))


class Population(Frozen):
    """Identified customers visiting day after day; see the module docstring."""

    customer_class: str | None = Field(default=None, description=(
        "class whose customers are the identified population; its arrivals give only the "
        "time-of-day profile of visits; default: the first class"))
    customers: int = Field(default=1000, ge=1, description=(
        "N: identified customers active on day 0; default 1000"))
    days: int = Field(default=365, ge=1, description=(
        "periods simulated, one counter run (run.horizon) each; default 365"))
    visit_probability: float = Field(default=0.07, gt=0, le=1, description=(
        "nu: probability that an active customer visits on a given day (visits per day); "
        "default 0.07 (about one visit a fortnight)"))
    new_customers: float | None = Field(default=None, ge=0, description=(
        "prospects making a first visit per day before word of mouth; default "
        "N nu (1 - retention.base) / retention.base, which keeps the base steady when "
        "nothing goes wrong"))
    complaint_probability: float = Field(default=0.04, ge=0, le=1, description=(
        "p_c: probability that a customer whose order went wrong complains (the order goes "
        "wrong with the class's complaints.probability); TARP about 0.04, sweep 0.04-0.5; "
        "default 0.04"))
    recovery: Literal["none", "lacklustre", "full"] = Field(default="lacklustre", description=(
        "how complaints are handled: none = no complaint channel (H0: nobody complains, no "
        "manager time); lacklustre = concern without inquiry (H1: complained, not satisfied); "
        "full = full inquiry and gift certificates (H2: complained and satisfied, or resolved "
        "quickly); the manager's time is the class's complaints.handling under the scenario's "
        "recovery.policy; default lacklustre"))
    quick_response: float = Field(default=5.0, ge=0, description=(
        "under full recovery, a complaint whose handling starts within this time of the wrong "
        "order (time_unit) counts as resolved quickly; default 5"))
    bystander_counterfactual: bool = Field(default=False, description=(
        "also run every day with recovery.policy remake_only on the same customers, to "
        "measure what the manager's complaint time costs the other customers (twice the "
        "counter runs); default false"))
    retention: Retention = Field(default_factory=Retention)
    visit_timing: VisitTiming = Field(default_factory=VisitTiming)
    long_wait: LongWait = Field(default_factory=LongWait)
    word_of_mouth: WordOfMouth = Field(default_factory=WordOfMouth)
    value: Value = Field(default_factory=Value)

    @model_validator(mode="after")
    def _finite_value(self) -> Population:
        for name, factor in zip(OUTCOMES, self.visit_timing.factors()):
            if self.visit_probability * factor > 1.0:
                raise InvalidField(f"population.visit_timing.{name}", "must keep "
                                   "visit_probability x factor <= 1 (a daily probability)",
                                   factor)
        if self.retention.base == 1.0 and self.value.discount_rate == 0.0:
            raise InvalidField("population.value.discount_rate", "must be > 0 when "
                               "retention.base is 1 (customers who never leave are worth an "
                               "infinite undiscounted amount)", 0.0)
        return self
