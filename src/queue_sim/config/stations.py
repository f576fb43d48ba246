"""Scenario schema, stations and staff: servers, schedules, interruptions, lines, managers
and what they do about complaints.

Part of ``config.schema`` (which re-exports every name); imports nothing from simpy or numba.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from queue_sim.config.distributions import Distribution, Frozen

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
    (``F' = (busy - F) / fatigue_window``, 0 at the start; KC & Terwiesch's sustained overwork).  Set once, when a visit
    first starts service; a resumed service keeps its remaining work.  ``per_wait = 0`` and
    ``queue_factor = 1`` is the plain model, bit for bit.  Without abandonment a single FCFS
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
