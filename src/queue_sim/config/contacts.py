"""Scenario schema, contacts: whether a contact resolves the case, and what unresolved or
turned-away customers do next (re-contact, escalate, retry).

Part of ``config.schema`` (which re-exports every name); imports nothing from simpy or numba.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, model_validator
from scipy import special

from queue_sim.config.distributions import Distribution, Frozen

# ---------------------------------------------------------------------------------------------
# Resolution, re-contacts, escalation and retrials (DOMAIN.md 1.2, 4, 6)


class ExponentialCurve(Frozen):
    """Quality-speed curve ``q(s) = q_max (1 - exp(-s / tau))``: concave, so every extra minute
    of handle time buys less resolution (Anand, Pac & Veeraraghavan 2011; DOMAIN.md 6a)."""

    kind: Literal["exponential"] = "exponential"
    q_max: float = Field(gt=0, le=1, description="resolution probability of a very long contact")
    tau: float = Field(gt=0, description="handle time scale, in time_unit (q reaches 63% of "
                                         "q_max at s = tau)")

    def probability(self, s: np.ndarray) -> np.ndarray:
        return self.q_max * -np.expm1(-np.asarray(s, float) / self.tau)


class LogisticCurve(Frozen):
    """S-shaped quality-speed curve ``q(s) = q_max / (1 + exp(-(s - midpoint) / tau))``: short
    contacts resolve almost nothing, so cutting handle time can raise the cost per resolved case
    (DOMAIN.md 6b, case (a))."""

    kind: Literal["logistic"] = "logistic"
    q_max: float = Field(gt=0, le=1, description="resolution probability of a very long contact")
    midpoint: float = Field(ge=0, description="handle time at which q = q_max / 2, in time_unit")
    tau: float = Field(gt=0, description="steepness scale, in time_unit")

    def probability(self, s: np.ndarray) -> np.ndarray:
        return self.q_max * special.expit((np.asarray(s, float) - self.midpoint) / self.tau)


QualityCurve = Annotated[Union[ExponentialCurve, LogisticCurve], Field(discriminator="kind")]


class Recontact(Frozen):
    """What a customer whose contact did not resolve the case does: contact the same station
    again after a delay (failure demand), or give up and defect."""

    probability: float = Field(ge=0, le=1, description="probability of contacting again after "
                                                       "an unresolved contact; otherwise the "
                                                       "customer defects (outcome 'defected')")
    delay: Distribution = Field(description="time from the end of the unresolved contact to "
                                            "the next contact, in time_unit")


class Escalation(Frozen):
    """After repeated unresolved contacts at a station, the customer goes to another channel
    (the contact form, then social media, then an expert desk)."""

    to: str = Field(description="station the escalated contact goes to")
    after: int = Field(default=1, ge=1, description="consecutive unresolved contacts at this "
                                                    "station before escalating is possible")
    probability: float = Field(ge=0, le=1, description="probability of escalating after each "
                                                       "unresolved contact from the after-th on")
    delay: Distribution | None = Field(default=None, description="time from the end of the "
                                       "unresolved contact to the escalated contact, in "
                                       "time_unit; default: recontact.delay")


class Resolution(Frozen):
    """Whether a contact at a station resolves the customer's case, decided at its end.

    The resolution probability is a constant or a quality-speed curve evaluated on the contact's
    own handle time (after the cap).  Every draw is made up front from the customer's own
    uniforms, so a policy change (a cap, another curve) meets the same customers.  Unresolved
    contacts escalate (``escalation``), re-contact (``recontact``) or defect, in that order.
    """

    probability: float | None = Field(default=None, ge=0, le=1,
                                      description="constant resolution probability q")
    curve: QualityCurve | None = Field(default=None, description="quality-speed curve q(s) of "
                                       "the contact's handle time s (instead of probability)")
    handle_time_cap: float | None = Field(default=None, gt=0, description="AHT target: handle "
                                          "time is min(s, cap), in time_unit, and q is "
                                          "evaluated at the capped time; default: no cap")
    repeat_extra: float = Field(default=0.0, ge=0, description="extra handle time of a repeat "
                                "contact (re-explaining the case), in time_unit; it is not "
                                "capped and does not raise q")
    recontact: Recontact | None = Field(default=None, description="what unresolved customers "
                                        "do next; default: they defect")
    escalation: Escalation | None = Field(default=None, description="after repeated failures, "
                                          "go to another station instead; default: never")

    @model_validator(mode="after")
    def _one_probability(self) -> Resolution:
        if (self.probability is None) == (self.curve is None):
            raise ValueError("give exactly one of probability (a constant) or curve")
        if (self.escalation is not None and self.escalation.delay is None
                and self.recontact is None):
            raise ValueError("escalation.delay is required when there is no recontact "
                             "section to take the delay from")
        return self

    def probability_at(self, handle_time: np.ndarray) -> np.ndarray:
        """Resolution probability of contacts with these (capped) handle times."""
        if self.curve is not None:
            return self.curve.probability(handle_time)
        return np.full(np.shape(handle_time), float(self.probability))


class Retrial(Frozen):
    """Customers who abandon, balk or find the queue full try the same station again later
    (an orbit; the M/M/1 retrial queue of DOMAIN.md 7.14 is a station without waiting room)."""

    probability: float = Field(ge=0, le=1, description="probability of trying again after each "
                                                       "failed attempt")
    delay: Distribution = Field(description="time from the failed attempt to the next one, "
                                            "in time_unit")
    max_attempts: int | None = Field(default=None, ge=1, description="attempts at one visit, "
                                     "the first included; default: unlimited")
    when: list[Literal["abandoned", "balked", "lost"]] = Field(
        default_factory=lambda: ["abandoned", "balked", "lost"], min_length=1,
        description="which failed attempts are retried: abandoned (patience ran out), balked, "
                    "lost (queue full)")
