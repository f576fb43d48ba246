"""Scenario schema, customers: how each class arrives, where it goes, how long it waits.

Part of ``config.schema`` (which re-exports every name); imports nothing from simpy or numba.
Times and rates are in the scenario's ``time_unit``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, PrivateAttr, model_validator

from queue_sim.config.contacts import Resolution, Retrial
from queue_sim.config.distributions import Distribution, Frozen

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
