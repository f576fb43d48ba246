"""The scenario schema: every field a scenario file may hold, with units, defaults and checks.

Defaults live here and only here: the sections are defined in ``config.customers`` (arrivals,
routes, behaviour, complaints), ``config.contacts`` (resolution, re-contacts, retrials) and
``config.stations`` (stations, staff, recovery), and re-exported from this module, which holds
the scenario itself, its run control and the checks that span sections.  Imports nothing from
simpy or numba, so validating a config is instant.  Times and rates are in the scenario's
``time_unit``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from queue_sim.config.contacts import (
    Escalation, ExponentialCurve, LogisticCurve, QualityCurve, Recontact, Resolution, Retrial,
)
from queue_sim.config.customers import (
    Arrivals, Balking, Batch, Complaints, CustomerClass, PoissonArrivals, Routing,
    ScheduledArrivals, TraceArrivals,
)
from queue_sim.config.distributions import Frozen
from queue_sim.config.population import Population
from queue_sim.config.stations import (
    Acknowledgement, Breakdowns, ExpressLane, Manager, Recovery, SeparateLines,
    ServiceDependence, ShiftChange, Staff, Station, Vacations,
)
from queue_sim.errors import InvalidField, InvalidSubfield

__all__ = [
    "Acknowledgement", "Arrivals", "Balking", "Batch", "Breakdowns", "Complaints",
    "CustomerClass", "Escalation", "Experience", "ExponentialCurve", "ExpressLane",
    "LogisticCurve", "Manager", "PoissonArrivals", "Population", "QualityCurve", "Recontact",
    "Recovery", "Resolution", "Retrial", "Routing", "RunControl", "Scenario",
    "ScheduledArrivals", "SeparateLines", "ServiceDependence", "ShiftChange", "Staff",
    "Station", "TraceArrivals", "Vacations",
]


def _plain(value: object) -> object:
    """A config object as plain data, for error messages."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.model_dump() if hasattr(value, "model_dump") else value


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
                                  description="arrivals stop at this time, in time_unit; those "
                                              "inside finish")
    customers: int | None = Field(default=None, ge=1,
                                  description="or: stop after this many arrivals")
    warmup: float = Field(default=0.0, ge=0,
                          description="statistics exclude customers arriving before this "
                                      "time, in time_unit")
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
            raise InvalidSubfield("warmup", f"must be shorter than run.horizon ({self.horizon})",
                                  self.warmup)
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
