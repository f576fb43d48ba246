"""The scenario schema: every field a scenario file may hold, with units, defaults and checks.

Defaults live here and only here.  Imports nothing from simpy or numba, so validating a config is
instant.  Times and rates are in the scenario's ``time_unit``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, PrivateAttr, model_validator
from scipy import special

from queue_sim.config.distributions import Distribution, Frozen
from queue_sim.config.population import Population
from queue_sim.errors import InvalidField


def _plain(value: object) -> object:
    """A config object as plain data, for error messages."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.model_dump() if hasattr(value, "model_dump") else value

# ---------------------------------------------------------------------------------------------
# Arrivals


class PoissonArrivals(Frozen):
    """Poisson arrivals at a constant rate."""

    kind: Literal["poisson"] = "poisson"
    rate: float = Field(gt=0, description="arrivals per time_unit")


class ScheduledArrivals(Frozen):
    """Poisson arrivals with a piecewise-constant rate (e.g. a lunch peak), sampled exactly.

    ``rates[j]`` holds from ``times[j]`` until ``times[j+1]``; the last rate holds for ever.
    Arrival times are the inverse of the cumulative rate at unit-rate Poisson points, which is
    exact and gives one draw per customer.
    """

    kind: Literal["schedule"] = "schedule"
    times: list[float] = Field(min_length=1, description="start of each period; first must be 0")
    rates: list[float] = Field(min_length=1, description="arrivals per time_unit in each period")

    @model_validator(mode="after")
    def _consistent(self) -> ScheduledArrivals:
        if len(self.times) != len(self.rates):
            raise ValueError(f"times and rates must have the same length "
                             f"(got {len(self.times)} and {len(self.rates)})")
        if self.times[0] != 0:
            raise ValueError(f"times must start at 0 (got {self.times[0]})")
        if any(b <= a for a, b in zip(self.times, self.times[1:])):
            raise ValueError(f"times must be strictly increasing (got {self.times})")
        if any(r < 0 for r in self.rates) or self.rates[-1] <= 0:
            raise ValueError(f"rates must be >= 0 and the last one > 0 (got {self.rates})")
        return self


class TraceArrivals(Frozen):
    """Arrival times read from a CSV file (path relative to the scenario file)."""

    kind: Literal["trace"] = "trace"
    file: Path = Field(description="CSV file of arrival times, sorted, relative to the scenario")
    column: str | None = Field(default=None, description="column to use; default: the first")
    _times: object = PrivateAttr(default=None)

    def bind(self, times) -> TraceArrivals:  # noqa: ANN001 - numpy array
        self._times = times
        return self

    @property
    def times(self):  # noqa: ANN201 - numpy array
        return self._times


Arrivals = Annotated[Union[PoissonArrivals, ScheduledArrivals, TraceArrivals],
                     Field(discriminator="kind")]


class Batch(Frozen):
    """Customers arriving together: a size drawn from ``sizes`` with ``weights``."""

    sizes: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, description="possible sizes")
    weights: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None, description="relative weights of the sizes; default: equal")

    @model_validator(mode="after")
    def _weights(self) -> Batch:
        if self.weights is not None:
            if len(self.weights) != len(self.sizes):
                raise ValueError("weights must have one entry per size")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self


# ---------------------------------------------------------------------------------------------
# Customer behaviour


class Routing(Frozen):
    """Probabilistic routing: start station, then per station the probabilities of the next one.

    Whatever probability is left over at a station means leaving the system.  A station may route
    to itself (rework, Bernoulli feedback).
    """

    start: str = Field(description="first station visited")
    transitions: dict[str, dict[str, Annotated[float, Field(ge=0, le=1)]]] = Field(
        default_factory=dict, description="station -> {next station: probability}")

    @model_validator(mode="after")
    def _sums(self) -> Routing:
        for station, nxt in self.transitions.items():
            if sum(nxt.values()) > 1 + 1e-12:
                raise ValueError(f"probabilities out of {station!r} sum to more than 1")
        return self


class Balking(Frozen):
    """Refusal to join a queue, decided on arrival when every server is busy."""

    max_queue: int | None = Field(default=None, ge=0,
                                  description="never join when this many or more are waiting")
    join_probability: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, min_length=1,
        description="probability of joining when n are waiting, n = 0, 1, ...; the last repeats")


class Complaints(Frozen):
    """Orders that go wrong: found at the end of service, then handled and optionally remade.

    A remake is always right (it is not checked again); repeated failures are modelled with
    routing probabilities instead.
    """

    probability: float = Field(ge=0, le=1, description="probability that an order goes wrong")
    handling: Distribution = Field(description="time a manager spends handling the complaint")
    station: str | None = Field(default=None,
                                description="where orders can go wrong; default: first station")
    rework: bool = Field(default=True, description="the order is remade by another service")
    rework_priority: bool = Field(default=False,
                                  description="the remake goes ahead of every waiting customer")
    rework_service: Distribution | None = Field(
        default=None, description="service time of the remake; default: the station's")


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


class CustomerClass(Frozen):
    """One kind of customer: how they arrive, where they go, how long they take and wait."""

    arrivals: Arrivals
    batch: Batch | None = None
    route: list[str] | None = Field(default=None, min_length=1,
                                    description="fixed sequence of stations")
    routing: Routing | None = Field(default=None, description="probabilistic routing")
    service: dict[str, Distribution] = Field(min_length=1,
                                             description="station -> service-time distribution")
    patience: Distribution | None = Field(
        default=None, description="time a customer waits in a queue before abandoning")
    balking: Balking | None = None
    priority: int = Field(default=0, description="smaller is served first (priority disciplines)")
    complaints: Complaints | None = None
    resolution: dict[str, Resolution] | None = Field(
        default=None, description="station -> whether its contacts resolve the case, and what "
                                  "unresolved customers do (re-contact, escalate, defect)")
    retrial: Retrial | None = Field(default=None, description="retry after abandoning, "
                                    "balking or finding the queue full; default: leave")

    @model_validator(mode="after")
    def _one_route(self) -> CustomerClass:
        if (self.route is None) == (self.routing is None):
            if self.route is None and len(self.service) == 1:
                return self  # a single-station class may leave the route implicit
            raise ValueError("give exactly one of route (fixed sequence) or routing")
        return self

    def stations_visited(self) -> list[str]:
        if self.route is not None:
            names = list(self.route)
        elif self.routing is not None:
            names = [self.routing.start] + list(self.routing.transitions)
            names += [n for nxt in self.routing.transitions.values() for n in nxt]
        else:
            return list(self.service)
        return list(dict.fromkeys(names + self.escalation_targets()))

    def escalation_targets(self) -> list[str]:
        return [r.escalation.to for r in (self.resolution or {}).values()
                if r.escalation is not None]


# ---------------------------------------------------------------------------------------------
# Stations and staff


class ShiftChange(Frozen):
    """From time ``at`` on, ``servers`` clerks are on duty."""

    at: float = Field(ge=0, description="time of the change, in time_unit")
    servers: int = Field(ge=0, description="clerks on duty from then on")


class Breakdowns(Frozen):
    """Servers that fail and are repaired (or are pulled away) and then come back."""

    rate: float = Field(gt=0, description="failures per time_unit of up (or busy) time")
    repair: Distribution = Field(description="time away per failure")
    clock: Literal["always", "busy"] = Field(
        default="always", description="failure clock runs all the time, or only while serving")
    in_service: Literal["wait", "hand_back"] = Field(
        default="wait", description="the customer in service waits for this server, or goes "
                                    "back to the head of the queue for anyone")


class Vacations(Frozen):
    """A server leaves for a vacation whenever its station's queue is empty."""

    duration: Distribution = Field(description="length of one vacation")
    mode: Literal["multiple", "single"] = Field(
        default="multiple", description="repeat while the queue is empty, or take one and wait")


class SeparateLines(Frozen):
    """One line per server instead of one shared line (DOMAIN.md 5a, E1).

    An arriving customer joins the line of the server with the fewest customers (``shortest``:
    the length of a line is the number waiting in it plus one if its server is busy; ties go to
    the lowest-numbered server) or a line drawn uniformly at random (``random``: a pre-drawn
    uniform of the ``line`` stream, so the choice is common to every policy).  With
    ``jockeying``, whenever some line is at least 2 longer than another, the customer at the
    tail of the longest line moves to the back of the shortest (ties: lowest-numbered line for
    both), repeated until no such pair is left; an idle server with an empty line is the case
    "shorter by 2" when another line has someone waiting, so no server idles while anyone waits.
    """

    join: Literal["shortest", "random"] = Field(
        default="shortest", description="which line an arriving customer joins: the shortest "
                                        "(waiting + in service; ties to the lowest-numbered "
                                        "server) or one at random (default: shortest)")
    jockeying: bool = Field(default=False,
                            description="the tail of the longest line moves to the shortest "
                                        "whenever they differ by 2 or more (default: false)")


class ServiceDependence(Frozen):
    """Service time that depends on the state when service starts (DOMAIN.md 1.6, 3b.3).

    ``S = S0 * f * g + per_wait * max(0, W - wait_reference)``, where ``S0`` is the drawn
    service time (so common random numbers still pair policies), ``W`` the customer's wait at
    this station so far, ``f = queue_factor`` if at least ``queue_threshold`` customers are still
    waiting at the station (this one not counted) and 1 otherwise, and ``g = 1 + fatigue_factor
    * max(0, F - fatigue_threshold)`` with ``F`` the server's recent busy fraction: busy time
    exponentially weighted over the past with time constant ``fatigue_window``
    (``F' = (busy - F) / fatigue_window``, 0 at the start; KC & Terwiesch's sustained overwork).
    Rudeness contagion (when ``rudeness_window`` is set) multiplies ``S0`` once more by ``(1 +
    rudeness_factor * R) * (difficult_factor if the customer is difficult)``: ``R`` is the
    server's rudeness level (0 at the start, fading as ``exp(-dt / rudeness_window)``), the
    customer is difficult when its drawn uniform is below ``min(1, difficult_probability +
    contagion * R)`` (rudely treated customers turn difficult), and a difficult customer adds 1
    to its server's ``R`` and ``witness_share`` to every other server of the station.  Set
    once, when a visit first starts service; a resumed service keeps its remaining work.
    ``per_wait = 0``, ``queue_factor = 1`` and no rudeness rule is the plain model, bit for bit.  Without abandonment a single FCFS
    server with ``per_wait > 0`` has no steady state: once a wait passes about
    ``(1/lambda - E[S0]) / per_wait`` the waits grow geometrically (the snowball of Selen et
    al. 2016), so read such runs per horizon (a day), not as long-run averages.
    """

    per_wait: float = Field(default=0.0, ge=0,
                            description="kappa: extra service per time_unit waited beyond "
                                        "wait_reference (Webb et al.: up to 21 s per minute, "
                                        "0.35); default 0")
    wait_reference: float = Field(default=0.0, ge=0,
                                  description="a: waits up to this (time_unit) add nothing; "
                                              "default 0")
    queue_threshold: int | None = Field(
        default=None, ge=0, description="load rule: when at least this many are still waiting "
                                        "at service start, S0 is multiplied by queue_factor; "
                                        "default none (no load rule)")
    queue_factor: float = Field(default=1.0, gt=0,
                                description="multiplier of S0 under load: < 1 speed-up "
                                            "(KC & Terwiesch), > 1 slow-down; default 1")
    fatigue_window: float | None = Field(
        default=None, gt=0, description="time constant (time_unit) of the server's "
                                        "exponentially weighted busy fraction F; default none "
                                        "(no fatigue rule)")
    fatigue_threshold: float = Field(default=0.8, ge=0, le=1,
                                     description="busy fraction above which service slows; "
                                                 "default 0.8 [A]")
    fatigue_factor: float = Field(default=0.0, ge=0,
                                  description="S0 is multiplied by 1 + fatigue_factor * max(0, "
                                              "F - fatigue_threshold); default 0 [A]")
    # rudeness contagion (DOMAIN.md 1.6, 3a): the rule is on when rudeness_window is set
    rudeness_window: float | None = Field(
        default=None, gt=0, description="time constant (time_unit) over which a server's "
                                        "rudeness level R fades; default none (no rudeness "
                                        "rule)")
    difficult_probability: float = Field(default=0.0, ge=0, le=1,
                                         description="p0: chance a customer is difficult when "
                                                     "served by a calm server (R = 0); "
                                                     "default 0 [A]")
    contagion: float = Field(default=0.0, ge=0,
                             description="p_r: added chance per unit of the server's R, so a "
                                         "customer is difficult with probability min(1, p0 + "
                                         "contagion * R); default 0 [A: 0-0.3]")
    difficult_factor: float = Field(default=1.0, gt=0,
                                    description="kappa: S0 of a difficult customer is "
                                                "multiplied by this; default 1 [A: 1.0-1.3]")
    rudeness_factor: float = Field(default=0.0, ge=0,
                                   description="S0 is multiplied by 1 + rudeness_factor * R: "
                                               "a server slows after meeting rudeness (Porath "
                                               "& Erez); default 0 [A]")
    witness_share: float = Field(default=0.0, ge=0,
                                 description="R added to every other server of the station "
                                             "for each difficult customer (witnessed "
                                             "rudeness); the server itself gets 1; default 0")


class ExpressLane(Frozen):
    """This station takes the visits to ``station`` whose drawn service time is at most
    ``max_service`` (the "10 items or fewer" till): decided in the draws, so the customer's
    service time is the one drawn for ``station`` and the same under every policy."""

    station: str = Field(description="the regular station whose short jobs come here")
    max_service: float = Field(gt=0, description="largest drawn service time (time_unit) "
                                                 "that goes to the express lane")


class Station(Frozen):
    """A counter: clerks serving one queue (plus any managers whose home it is)."""

    servers: int = Field(default=1, ge=0, description="clerks at the start")
    schedule: list[ShiftChange] | None = Field(
        default=None, description="changes in the number of clerks on duty over time")
    on_shift_end: Literal["finish", "hand_back"] = Field(
        default="finish", description="a clerk going off duty mid-service finishes the customer, "
                                      "or hands it back to the head of the queue")
    capacity: int | None = Field(default=None, ge=0,
                                 description="waiting places; arrivals to a full queue are lost")
    discipline: Literal["fifo", "priority", "preemptive"] = Field(
        default="fifo", description="first come first served, non-preemptive priority, or "
                                    "preemptive-resume priority")
    breakdowns: Breakdowns | None = None
    vacations: Vacations | None = None
    lines: SeparateLines | None = Field(
        default=None, description="separate lines per server (join rule, jockeying); "
                                  "default none: one shared line")
    service_dependence: ServiceDependence | None = Field(
        default=None, description="service time set from the wait and the queue at service "
                                  "start; default none")
    express_for: ExpressLane | None = Field(
        default=None, description="make this an express lane for the short jobs of another "
                                  "station; default none")

    @model_validator(mode="after")
    def _schedule_increasing(self) -> Station:
        if self.breakdowns is not None and self.vacations is not None:
            raise ValueError("breakdowns and vacations cannot be combined at one station (a "
                             "server cannot break down while away on vacation)")
        if self.schedule:
            times = [c.at for c in self.schedule]
            if any(b <= a for a, b in zip(times, times[1:])):
                raise ValueError(f"schedule times must be strictly increasing (got {times})")
        return self

    @property
    def max_servers(self) -> int:
        return max([self.servers] + [c.servers for c in self.schedule or []])


class Manager(Frozen):
    """A manager: serves at a home station like a clerk, and handles complaints."""

    name: str = Field(default="manager", description="label used in outputs")
    home: str | None = Field(default=None,
                             description="station where the manager also serves; none = floats")


class Acknowledgement(Frozen):
    """When handling of a complaint starts, someone acknowledges the customers waiting at
    that station: the handler (the time is added to the handling) or a clerk of the station
    (the lowest-numbered clerk on duty and not away stops for the announcement; a customer in
    service waits with its remaining service, as in a breakdown)."""

    per_customer: float = Field(default=0.0, ge=0, description="time per waiting customer")
    per_announcement: float = Field(default=0.0, ge=0, description="time per announcement")
    by: Literal["handler", "clerk"] = Field(
        default="handler", description=(
            "handler: whoever handles the complaint announces first; clerk: a clerk of the "
            "complaint's station announces (no clerk on duty and present = no announcement)"))


class Recovery(Frozen):
    """What managers do when a complaint arrives."""

    policy: Literal["remake_only", "drop_everything", "finish_current", "queue", "dedicated"] = (
        Field(default="queue", description=(
            "remake_only: no manager time, the remake rejoins the queue; drop_everything: a "
            "manager leaves the customer in service now; finish_current: a manager finishes "
            "the current customer, then goes; queue: complaints wait for a free manager, ahead "
            "of customers; dedicated: managers handle complaints only and never serve")))
    acknowledge: Acknowledgement | None = Field(
        default=None, description="acknowledge the customers waiting when handling starts")


class Staff(Frozen):
    """Managers (clerks are counted per station)."""

    managers: list[Manager] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# How waiting feels (DOMAIN.md 1.3): actual wait -> perceived wait -> satisfaction


class Experience(Frozen):
    """Perceived wait and satisfaction of each customer, computed from the trace.

    Perceived wait ``P = overestimation * W**exponent * m``, where ``m`` is ``unexplained`` for a
    customer who waited without being acknowledged (1 otherwise) times ``uncertain`` for one who
    was not told the expected wait (1 otherwise) (Maister: unexplained and uncertain waits feel
    longer).  A customer told a wait ``A`` expects ``(1 - anchoring) * acceptable_wait +
    anchoring * A`` instead of ``acceptable_wait`` (expectation management).  Satisfaction ``S = baseline - disconfirmation * max(0, P - acceptable_wait)
    + confirmation * max(0, acceptable_wait - P) - per_skip * skips`` (Maister's First Law:
    satisfaction = perception - expectation; Larson's skips for unfairness).
    """

    overestimation: float = Field(default=1.36, gt=0,
                                  description="k: unoccupied waits feel 36% longer (Hornik)")
    exponent: float = Field(default=1.0, gt=0,
                            description="b of the power law P ~ W^b (sweep 0.7-1.1)")
    unexplained: float = Field(default=1.2, ge=1,
                               description="multiplier for waits nobody acknowledged [A]")
    uncertain: float = Field(default=1.0, ge=1,
                             description="m_unc: multiplier for waits of unannounced length "
                                         "(Maister 1985; sweep 1.0-1.5 [A]); default 1 (off)")
    acceptable_wait: float = Field(default=5.0, ge=0,
                                   description="E, the wait a customer accepts, in time_unit [A]")
    anchoring: float = Field(default=1.0, ge=0, le=1,
                             description="weight of an announced wait in the expectation: 0 "
                                         "announcements move nothing, 1 the announced wait "
                                         "becomes E (Maister's expectation management) [A]; "
                                         "default 1")
    baseline: float = Field(default=7.0, description="satisfaction at P = E (0-10 scale)")
    disconfirmation: float = Field(default=0.5, ge=0,
                                   description="satisfaction lost per time_unit beyond E [A]")
    confirmation: float = Field(default=0.1, ge=0,
                                description="satisfaction gained per time_unit under E [A]")
    per_skip: float = Field(default=0.3, ge=0,
                            description="satisfaction lost per customer who jumped ahead [A]")
    tolerance: float = Field(default=10.0, ge=0,
                             description="report the share of customers waiting longer than this")
    dissatisfied_below: float = Field(default=5.0,
                                      description="satisfaction under which a customer counts "
                                                  "as dissatisfied")


# ---------------------------------------------------------------------------------------------
# Run control and the scenario


class RunControl(Frozen):
    """How long, how often and with which seed and engine to simulate."""

    horizon: float | None = Field(default=None, gt=0,
                                  description="arrivals stop at this time; those inside finish")
    customers: int | None = Field(default=None, ge=1,
                                  description="or: stop after this many arrivals")
    warmup: float = Field(default=0.0, ge=0,
                          description="statistics exclude customers arriving before this time")
    replications: int = Field(default=10, ge=1, description="independent replications")
    seed: int | None = Field(default=None, ge=0,
                             description="root seed; none draws one from entropy and records it")
    engine: Literal["simpy", "numba"] = Field(
        default="numba", description="simulation engine: numba (the compiled kernel, default) "
                                     "or simpy (the readable reference model); both give the "
                                     "same records on the same seed")
    max_visits: int = Field(default=64, ge=1,
                            description="cap on station visits per customer (routing loops)")

    @model_validator(mode="after")
    def _one_horizon(self) -> RunControl:
        if (self.horizon is None) == (self.customers is None):
            raise ValueError("give exactly one of horizon (a time) or customers (a count)")
        if self.horizon is not None and self.warmup >= self.horizon:
            raise ValueError(f"warmup ({self.warmup}) must be shorter than horizon "
                             f"({self.horizon})")
        return self


class Scenario(Frozen):
    """A complete model: stations, customer classes, staff, complaint policy and run control."""

    name: str = Field(default="scenario", description="used for the results folder")
    description: str = ""
    time_unit: str = Field(default="minute", description="unit of every time and rate")
    run: RunControl
    stations: dict[str, Station] = Field(min_length=1)
    classes: dict[str, CustomerClass] = Field(min_length=1)
    staff: Staff = Field(default_factory=Staff)
    recovery: Recovery = Field(default_factory=Recovery)
    experience: Experience = Field(default_factory=Experience)
    population: Population | None = Field(
        default=None, description="identified customers who come back day after day "
                                  "(queue-sim population); none = a single run of the counter")
    _base_dir: Path = PrivateAttr(default=Path("."))  # where its data files are resolved

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        stations = list(self.stations)
        for cname, cls in self.classes.items():
            _check_resolution(cname, cls, stations, self)
            where = "route" if cls.route is not None else "routing" if cls.routing else "service"
            for s in cls.stations_visited():
                if s not in stations:
                    raise InvalidField(f"classes.{cname}.{where}", "must name known stations",
                                       s, stations)
                if s not in cls.service:
                    raise InvalidField(f"classes.{cname}.service.{s}",
                                       "must give a service-time distribution for every station "
                                       "the class visits", None)
            for s in cls.service:
                if s not in stations:
                    raise InvalidField(f"classes.{cname}.service", "must name known stations",
                                       s, stations)
            if cls.complaints and cls.complaints.station not in (None, *stations):
                raise InvalidField(f"classes.{cname}.complaints.station",
                                   "must name a known station", cls.complaints.station, stations)
        for i, m in enumerate(self.staff.managers):
            if m.home is not None and m.home not in stations:
                raise InvalidField(f"staff.managers.{i}.home", "must name a known station",
                                   m.home, stations)
        self._check_lines_and_express()
        self._check_feature_combinations()
        has_complaints = any(c.complaints and c.complaints.probability > 0
                             for c in self.classes.values())
        if has_complaints and self.recovery.policy != "remake_only" and not self.staff.managers:
            raise InvalidField("recovery.policy", "needs at least one manager in "
                               "staff.managers (or use 'remake_only')", self.recovery.policy)
        ack = self.recovery.acknowledge
        if ack is not None and ack.by == "clerk":
            for cls in self.classes.values():
                if not cls.complaints:
                    continue
                name = self.complaint_station(cls)
                station = self.stations[name]
                if station.breakdowns is not None or station.vacations is not None:
                    raise InvalidField(
                        "recovery.acknowledge.by", f"'handler' while station {name!r} has "
                        "breakdowns or vacations (a clerk away for an announcement and for a "
                        "breakdown at once is not modelled)", ack.by)
        if self.population is not None:
            self._check_population(self.population)
        return self

    def _check_lines_and_express(self) -> None:
        """Separate lines: refuse what would take a line's server away or re-route its line
        (not approximated); express lanes: name a different, known station."""
        for sname, st in self.stations.items():
            key = f"stations.{sname}"
            if st.lines is not None:
                for name in ("schedule", "breakdowns", "vacations", "capacity"):
                    if getattr(st, name) is not None:
                        raise InvalidField(f"{key}.{name}", "cannot be combined with separate "
                                           "lines (each line belongs to one server for the "
                                           "whole run)", _plain(getattr(st, name)))
                if st.discipline == "preemptive":
                    raise InvalidField(f"{key}.discipline", "must be 'fifo' or 'priority' with "
                                       "separate lines", st.discipline)
                if st.servers < 1:
                    raise InvalidField(f"{key}.servers", "must be at least 1 with separate "
                                       "lines (one line per server)", st.servers)
                if self.recovery.policy not in ("dedicated", "remake_only"):
                    for i, m in enumerate(self.staff.managers):
                        if m.home == sname:
                            raise InvalidField(f"staff.managers.{i}.home", "must not be a "
                                               "station with separate lines (a manager leaving "
                                               "for complaints would strand a line) unless "
                                               "recovery.policy is 'dedicated' or "
                                               "'remake_only'", m.home)
                for cname, cls in self.classes.items():
                    if cls.balking is not None and sname in self._reachable(cls):
                        raise InvalidField(f"classes.{cname}.balking", "cannot be used by a "
                                           f"class that visits {sname!r}, which has separate "
                                           "lines", _plain(cls.balking))
            if st.express_for is not None:
                target = st.express_for.station
                if target not in self.stations or target == sname:
                    raise InvalidField(f"{key}.express_for.station", "must name another known "
                                       "station", target,
                                       [n for n in self.stations if n != sname])
                if self.stations[target].express_for is not None:
                    raise InvalidField(f"{key}.express_for.station", "must not itself be an "
                                       "express lane", target)
                names = list(self.stations)
                other = [n for n in names[:names.index(sname)]  # the earlier lane keeps it
                         if self.stations[n].express_for is not None
                         and self.stations[n].express_for.station == target]
                if other:
                    raise InvalidField(f"{key}.express_for.station", f"already has the "
                                       f"express lane {other[0]!r} (one per station)", target)

    def _reachable(self, cls: CustomerClass) -> list[str]:
        """Stations a class can visit, express lanes included."""
        visited = cls.stations_visited()
        return visited + [n for n, st in self.stations.items()
                          if st.express_for is not None and st.express_for.station in visited]
    def _check_population(self, pop: Population) -> None:
        """The population's class must exist and arrive one by one over a day's horizon."""
        if pop.customer_class is not None and pop.customer_class not in self.classes:
            raise InvalidField("population.customer_class", "must name a class",
                               pop.customer_class, list(self.classes))
        name = self.population_class_name
        cls = self.classes[name]
        if isinstance(cls.arrivals, TraceArrivals):
            raise InvalidField(f"classes.{name}.arrivals.kind", "must be poisson or schedule "
                               "for the population's class (it is the time-of-day profile of "
                               "visits)", cls.arrivals.kind)
        if cls.batch is not None:
            raise InvalidField(f"classes.{name}.batch", "must be absent for the population's "
                               "class (identified customers come one by one)", "batch",)
        if self.run.horizon is None:
            raise InvalidField("run.horizon", "must be set for a population (one day's "
                               "opening time, in time_unit)", None)

    def _check_feature_combinations(self) -> None:
        """Refuse combinations of separate lines, express lanes and state-dependent service with
        re-contacts and retrials whose meaning would be a guess (not approximated)."""
        lanes = {st.express_for.station: n for n, st in self.stations.items()
                 if st.express_for is not None}
        for cname, cls in self.classes.items():
            for sname in cls.resolution or {}:
                st = self.stations[sname]
                if st.express_for is not None or sname in lanes:
                    field = (f"stations.{sname}.express_for" if st.express_for is not None
                             else f"stations.{lanes[sname]}.express_for")
                    raise InvalidField(
                        f"classes.{cname}.resolution.{sname}", f"cannot be combined with "
                        f"{field} (the lane is chosen from the drawn service time, the "
                        "resolution from the capped handle time of the station it was drawn "
                        "for: which applies to a contact moved to the lane is not modelled)",
                        sname)
                if st.service_dependence is not None:
                    raise InvalidField(
                        f"classes.{cname}.resolution.{sname}", f"cannot be combined with "
                        f"stations.{sname}.service_dependence (resolution is decided in the "
                        "draws from the planned handle time, so a service time changed by the "
                        "wait, the queue or fatigue would not move it)", sname)
            if cls.retrial is None:
                continue
            for sname in self._reachable(cls):
                lines = self.stations[sname].lines
                if lines is not None and lines.join == "random":
                    raise InvalidField(
                        f"classes.{cname}.retrial", f"cannot be combined with "
                        f"stations.{sname}.lines.join 'random' (a retry would reuse its "
                        "visit's line uniform, so the same line; use join 'shortest')",
                        _plain(cls.retrial))

    # Convenient ordered views used by both engines -----------------------------------------
    @property
    def station_names(self) -> list[str]:
        return list(self.stations)

    @property
    def class_names(self) -> list[str]:
        return list(self.classes)

    @property
    def population_class_name(self) -> str:
        """The class of the population's identified customers (the first by default)."""
        pop = self.population
        return pop.customer_class if pop and pop.customer_class else next(iter(self.classes))

    def complaint_station(self, cls: CustomerClass) -> str:
        assert cls.complaints is not None
        return cls.complaints.station or cls.stations_visited()[0]


def _check_resolution(cname: str, cls: CustomerClass, stations: list[str],
                      scenario: Scenario) -> None:
    """Resolution specs name stations the class can reach and has service times for; a station
    does not both resolve cases and take complaints (the two would decide the same visit)."""
    for sname, res in (cls.resolution or {}).items():
        key = f"classes.{cname}.resolution"
        if sname not in stations:
            raise InvalidField(key, "must name known stations", sname, stations)
        if sname not in cls.service:
            raise InvalidField(f"classes.{cname}.service.{sname}", "must give a service-time "
                               "distribution for every station with a resolution section", None)
        if res.escalation is not None:
            target = res.escalation.to
            if target not in stations:
                raise InvalidField(f"{key}.{sname}.escalation.to", "must name a known station",
                                   target, stations)
            if target not in cls.service:
                raise InvalidField(f"classes.{cname}.service.{target}", "must give a "
                                   "service-time distribution for the escalation target", None)
        if cls.complaints is not None and scenario.complaint_station(cls) == sname:
            raise InvalidField(f"{key}.{sname}", "must not be the station where the class's "
                               "orders can go wrong (complaints); use one or the other", sname)
