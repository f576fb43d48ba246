"""Scenarios in words: what ``queue-sim check`` prints, and the field list of ``--explain``.

The load figures are first-order (offered load / servers) so that a config can be sanity-checked
instantly, before any simulation; for classes with re-contacts (``resolution``) the visits and
work per customer are averaged over drawn visit plans (``PLAN_SAMPLE`` customers, seed 0), which
needs no simulation either.  Imports config and rng only; never simpy, numba or the runner.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from queue_sim.config import distributions, schema
from queue_sim.rng import NO_STATION, _visit_plans

PLAN_SAMPLE = 20_000

POLICY_TEXT = {
    "remake_only": "complaints take no manager time; the remake rejoins the queue",
    "drop_everything": "a manager leaves the customer in service at once to handle it",
    "finish_current": "a manager finishes the current customer, then handles it",
    "queue": "complaints wait for a free manager, ahead of customers",
    "dedicated": "managers handle complaints only and never serve customers",
}


@dataclass(frozen=True)
class StationLoad:
    """First-order load of one station; rates per time unit, loads in servers (Erlangs)."""

    station: str
    clerks: int
    managers: int          # managers serving here (home station, policy not dedicated)
    offered_load: float    # mean arrival rate x visits x mean service time, summed over classes
    peak_load: float       # the same at each class's peak arrival rate
    handling_share: float  # fraction of a home manager's time on complaints (mean rates)
    handling_share_peak: float  # the same at peak arrival rates

    @property
    def servers(self) -> int:
        return self.clerks + self.managers

    @property
    def rho(self) -> float:
        return self.offered_load / self.servers if self.servers else np.inf

    @property
    def rho_peak(self) -> float:
        return self.peak_load / self.servers if self.servers else np.inf

    def rho_net_of_complaints(self, peak: bool = False) -> float:
        """Utilisation when home managers' complaint time is taken out of serving capacity."""
        share = self.handling_share_peak if peak else self.handling_share
        capacity = self.clerks + self.managers * max(0.0, 1.0 - share)
        load = self.peak_load if peak else self.offered_load
        return load / capacity if capacity > 0 else np.inf


# ---------------------------------------------------------------------------------------------
# Rates, visits and loads


def arrival_rates(scenario: schema.Scenario, cls: schema.CustomerClass) -> tuple[float, float]:
    """(mean, peak) customer arrival rate of a class, batch sizes included.

    Poisson: the rate.  Schedule: the time-weighted mean over ``[0, run.horizon]`` (the last
    rate when the run is a customer count) and the largest rate.  Trace: n / last time.
    """
    arr = cls.arrivals
    if isinstance(arr, schema.PoissonArrivals):
        mean = peak = arr.rate
    elif isinstance(arr, schema.ScheduledArrivals):
        peak = max(arr.rates)
        horizon = scenario.run.horizon
        if horizon is None:
            mean = arr.rates[-1]
        else:
            edges = np.clip(np.append(arr.times, np.inf), 0, horizon)
            mean = float(np.dot(arr.rates, np.diff(edges)) / horizon)
    else:
        times = np.asarray(arr.times if arr.times is not None else [], float)
        mean = peak = len(times) / times[-1] if len(times) and times[-1] > 0 else np.nan
    if cls.batch is not None:
        w = np.asarray(cls.batch.weights or [1.0] * len(cls.batch.sizes), float)
        size = float(np.dot(w / w.sum(), cls.batch.sizes))
        mean, peak = mean * size, peak * size
    return mean, peak


def expected_visits(scenario: schema.Scenario, cls: schema.CustomerClass
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Expected (visits, remakes) per customer at each station, in ``station_names`` order.

    Visits follow the route or solve the traffic equations ``v = e + v P`` of the routing.  A
    wrong order either ends the customer's route (no rework) or adds one remake at that station,
    and a remake is never wrong again, so each ordinary visit there brings ``p`` remakes.
    """
    names = scenario.station_names
    idx = {n: i for i, n in enumerate(names)}
    comp = cls.complaints
    p = comp.probability if comp is not None else 0.0
    comp_station = idx[scenario.complaint_station(cls)] if comp is not None else -1
    stops = not (comp is not None and comp.rework)  # a wrong order ends the visit plan
    if cls.routing is not None:
        state_station = np.arange(len(names))
        moves = np.zeros((len(names), len(names)))
        for a, nxt in cls.routing.transitions.items():
            for b, q in nxt.items():
                moves[idx[a], idx[b]] = q
        entry = np.eye(len(names))[idx[cls.routing.start]]
    else:
        route = cls.route if cls.route is not None else list(cls.service)[:1]
        state_station = np.array([idx[s] for s in route])
        moves = np.eye(len(route), k=1)
        entry = np.eye(len(route))[0]
    if stops and p > 0:
        moves[state_station == comp_station] *= 1 - p
    try:
        per_state = np.linalg.solve((np.eye(len(entry)) - moves).T, entry)
    except np.linalg.LinAlgError:
        per_state = np.full(len(entry), np.inf)
    visits = np.bincount(state_station, weights=per_state, minlength=len(names))
    remakes = np.zeros(len(names))
    if comp is not None and comp.rework and p > 0:
        remakes[comp_station] = visits[comp_station] * p
    return visits, remakes


def planned_visits(scenario: schema.Scenario, cls: schema.CustomerClass, cidx: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(visits, remakes, work) per customer at each station, averaged over ``PLAN_SAMPLE``
    drawn visit plans: re-contacts, escalations and capped handle times included exactly as
    the engines will meet them (retries after abandonment are not: they depend on queues)."""
    n = PLAN_SAMPLE
    plans = _visit_plans(scenario, cls, cidx, n, seed=0, rep=0)
    station, rework = plans["station"], plans["is_rework"].astype(bool)
    real = station != NO_STATION
    size = len(scenario.station_names)
    count = lambda mask, w=None: np.bincount(  # noqa: E731
        station[mask], weights=None if w is None else w[mask], minlength=size) / n
    return (count(real & ~rework), count(real & rework),
            count(real, plans["service_time"]))


def station_loads(scenario: schema.Scenario) -> list[StationLoad]:
    """Offered load and utilisation of every station (see ``StationLoad``)."""
    names = scenario.station_names
    load, peak = np.zeros(len(names)), np.zeros(len(names))
    handling = np.zeros(2)  # manager-time per time unit spent on complaints (mean, peak)
    express = {st.express_for.station: (s, st.express_for.max_service)
               for s, st in enumerate(scenario.stations.values()) if st.express_for is not None}
    for cidx, cls in enumerate(scenario.classes.values()):
        mean_rate, peak_rate = arrival_rates(scenario, cls)
        if cls.resolution:  # drawn plans: express lanes included as the draws decide them
            visits, remakes, work = planned_visits(scenario, cls, cidx)
        else:
            visits, remakes = expected_visits(scenario, cls)
            work = np.zeros(len(names))
            for sname, dist in cls.service.items():
                work[names.index(sname)] += visits[names.index(sname)] * dist.moments()[0]
                lane = express.get(sname)
                if lane is not None:  # the short jobs' work goes to the express lane
                    moved = visits[names.index(sname)] * _short_job_work(dist, lane[1])
                    work[names.index(sname)] -= moved
                    work[lane[0]] += moved
        if cls.complaints is not None and cls.complaints.probability > 0:
            c = names.index(scenario.complaint_station(cls))
            remake_dist = cls.complaints.rework_service or cls.service[names[c]]
            if not cls.resolution:
                work[c] += remakes[c] * remake_dist.moments()[0]
            n_complaints = cls.complaints.probability * visits[c]  # a remake is never wrong
            handling += (np.array([mean_rate, peak_rate]) * n_complaints
                         * cls.complaints.handling.moments()[0])
        load += mean_rate * work
        peak += peak_rate * work
    managers = scenario.staff.managers
    serving = scenario.recovery.policy != "dedicated"
    takes_time = scenario.recovery.policy != "remake_only"
    share = handling / len(managers) if managers and takes_time else np.zeros(2)
    out = []
    for s, sname in enumerate(names):
        n_home = sum(m.home == sname for m in managers) if serving else 0
        out.append(StationLoad(sname, scenario.stations[sname].servers, n_home,
                               float(load[s]), float(peak[s]), float(share[0]) if n_home else 0.0,
                               float(share[1]) if n_home else 0.0))
    return out


def _short_job_work(dist: object, max_service: float, n: int = 4096) -> float:
    """E[S; S <= max_service] by the midpoint rule over the quantile function (first order)."""
    q = dist.quantile((np.arange(n) + 0.5) / n)  # type: ignore[attr-defined]
    return float(np.mean(np.where(q <= max_service, q, 0.0)))


# ---------------------------------------------------------------------------------------------
# check: the model in words


def _dist(d: object) -> str:
    fields = {k: v for k, v in d.model_dump().items() if k != "kind"}  # type: ignore[attr-defined]
    return f"{d.kind} " + ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"  # type: ignore[attr-defined]
                                    for k, v in fields.items())


def _arrivals(scenario: schema.Scenario, cls: schema.CustomerClass) -> str:
    mean, peak = arrival_rates(scenario, cls)
    unit = scenario.time_unit
    kind = cls.arrivals.kind
    text = f"{kind} arrivals, mean {mean:.4g}/{unit}"
    if kind == "schedule":
        text += f" (peak {peak:.4g}/{unit})"
    return text + (" in batches" if cls.batch else "")


def describe(scenario: schema.Scenario, path: str | None = None) -> list[str]:
    """The scenario in words, one line per item, ending with load figures and warnings."""
    run, unit = scenario.run, scenario.time_unit
    lines = [f"Scenario {scenario.name!r}" + (f" ({path})" if path else "") + " is valid."]
    if scenario.description:
        lines.append("  " + " ".join(scenario.description.split()))
    length = (f"horizon {run.horizon:g} {unit}s" if run.horizon is not None
              else f"{run.customers} customers")
    lines.append(f"Run: {length}, warmup {run.warmup:g}, {run.replications} replications, "
                 f"seed {run.seed if run.seed is not None else 'fresh (recorded)'}, "
                 f"engine {run.engine}.")
    loads = {ld.station: ld for ld in station_loads(_as_counted(scenario))}
    lines.append("Stations:")
    for sname, st in scenario.stations.items():
        ld = loads[sname]
        mgr = [m.name for m in scenario.staff.managers if m.home == sname]
        who = f"{st.servers} clerk" + ("" if st.servers == 1 else "s")
        if ld.managers:
            who += f" + {', '.join(mgr)} = {ld.servers} servers"
        room = "unlimited waiting room" if st.capacity is None else f"{st.capacity} waiting places"
        extra = [x for x, on in (("shift schedule", st.schedule), ("breakdowns", st.breakdowns),
                                 ("vacations", st.vacations)) if on]
        if st.lines is not None:
            extra.append(f"a line per server ({st.lines.join} join"
                         + (", jockeying)" if st.lines.jockeying else ")"))
        if st.express_for is not None:
            extra.append(f"express lane for jobs of {st.express_for.station} up to "
                         f"{st.express_for.max_service:g} {unit}s")
        if st.service_dependence is not None:
            dep = st.service_dependence
            extra.append(f"service + {dep.per_wait:g} per {unit} waited beyond "
                         f"{dep.wait_reference:g}" + (
                             f", x{dep.queue_factor:g} when {dep.queue_threshold}+ wait"
                             if dep.queue_threshold is not None else "") + (
                             f", fatigue above {dep.fatigue_threshold:g} busy over "
                             f"{dep.fatigue_window:g} {unit}s" if dep.fatigue_window is not None
                             else "") + (
                             f", difficult customers (p {dep.difficult_probability:g} + "
                             f"{dep.contagion:g} x rudeness, service x{dep.difficult_factor:g}, "
                             f"rudeness fades over {dep.rudeness_window:g} {unit}s)"
                             if dep.rudeness_window is not None else ""))
        lines.append(f"  {sname}: {who}; {st.discipline} queue, {room}"
                     + (f"; {', '.join(extra)}" if extra else ""))
    lines.append("Classes:")
    for cname, cls in scenario.classes.items():
        route = (" -> ".join(cls.route) if cls.route else
                 f"routing from {cls.routing.start}" if cls.routing else list(cls.service)[0])
        lines.append(f"  {cname}: {_arrivals(scenario, cls)}; route {route}; priority "
                     f"{cls.priority}")
        for sname, dist in cls.service.items():
            lines.append(f"    service at {sname}: {_dist(dist)}")
        if cls.patience is not None:
            lines.append(f"    patience: {_dist(cls.patience)}")
        if cls.balking is not None:
            lines.append(f"    balking: {cls.balking.model_dump(exclude_none=True)}")
        if cls.complaints is not None:
            c = cls.complaints
            lines.append(f"    complaints: probability {c.probability:g} at "
                         f"{scenario.complaint_station(cls)}, handling {_dist(c.handling)}, "
                         f"remake {'yes' if c.rework else 'no'}"
                         + (" (priority)" if c.rework and c.rework_priority else ""))
        lines += _contact_lines(cls)
    lines.append("Staff:")
    if not scenario.staff.managers:
        lines.append("  no managers; clerks only")
    for m in scenario.staff.managers:
        where = (f"serves at {m.home}" if m.home and scenario.recovery.policy != "dedicated"
                 else "floats (does not serve)")
        lines.append(f"  {m.name}: {where}; handles complaints")
    policy = scenario.recovery.policy
    if any(c.complaints and c.complaints.probability > 0 for c in scenario.classes.values()):
        lines.append(f"Recovery policy: {policy}: {POLICY_TEXT[policy]}"
                     + ("; waiting customers are acknowledged" if scenario.recovery.acknowledge
                        else "") + ".")
    else:
        lines.append("Recovery policy: not used (no complaints).")
    if scenario.population is not None:
        lines += _population_lines(scenario)
    lines += _load_lines(scenario, loads)
    return lines


def _as_counted(scenario: schema.Scenario) -> schema.Scenario:
    """Under a population only reported wrong orders (e * p_c) reach the manager; the load
    figures count those, at the population's average daily visit rate."""
    pop = scenario.population
    if pop is None:
        return scenario
    from queue_sim.config.load import derive

    name = scenario.population_class_name
    cls = scenario.classes[name]
    changes: dict[str, object] = {}
    if cls.complaints is not None:
        reported = pop.complaint_probability if pop.recovery != "none" else 0.0
        changes[f"classes.{name}.complaints.probability"] = cls.complaints.probability * reported
    rate = _population_visits(scenario) / scenario.run.horizon
    if isinstance(cls.arrivals, schema.PoissonArrivals):
        changes[f"classes.{name}.arrivals.rate"] = rate
    elif _mean_rate(cls.arrivals, scenario.run.horizon) > 0:
        scale = rate / _mean_rate(cls.arrivals, scenario.run.horizon)
        changes[f"classes.{name}.arrivals.rates"] = [r * scale for r in cls.arrivals.rates]
    return derive(scenario, changes)


def _population_visits(scenario: schema.Scenario) -> float:
    pop = scenario.population
    assert pop is not None
    new = (pop.new_customers if pop.new_customers is not None else pop.customers
           * pop.visit_probability * (1 - pop.retention.base) / pop.retention.base)
    return pop.customers * pop.visit_probability + new


def _mean_rate(arrivals, horizon: float) -> float:  # noqa: ANN001 - poisson or schedule
    if isinstance(arrivals, schema.PoissonArrivals):
        return arrivals.rate
    starts = list(arrivals.times) + [float("inf")]
    return sum(r * max(0.0, min(b, horizon) - a)
               for a, b, r in zip(starts, starts[1:], arrivals.rates)) / horizon


def _population_lines(scenario: schema.Scenario) -> list[str]:
    """The population in words, and how its daily visits compare with the class's own rate."""
    pop = scenario.population
    assert pop is not None and scenario.run.horizon is not None
    name = scenario.population_class_name
    arrivals = scenario.classes[name].arrivals
    horizon = scenario.run.horizon
    visits = _population_visits(scenario)
    new = visits - pop.customers * pop.visit_probability
    own = _mean_rate(arrivals, horizon)
    complaint = scenario.classes[name].complaints
    e = complaint.probability if complaint is not None else 0.0
    lines = [f"Population: {pop.customers} identified customers of class {name!r}, each "
             f"visiting with probability {pop.visit_probability:g} a day, plus {new:.3g} new "
             f"customers a day, for {pop.days} days of {horizon:g} {scenario.time_unit}s "
             f"(queue-sim population).",
             f"  about {visits:.4g} visits a day = {visits / horizon:.3g} per "
             f"{scenario.time_unit} on average; the class's own arrivals ({own:.3g} per "
             f"{scenario.time_unit} on average) give only the time-of-day profile",
             f"  wrong orders {e:g}, reported with probability {pop.complaint_probability:g}; "
             f"recovery {pop.recovery}; retention {pop.retention.base:g} after a visit "
             f"without problem"]
    lines.append("  the load figures below use the population's average visits and count "
                 "only reported wrong orders as complaints (the base changes over the days)")
    return lines


def _contact_lines(cls: schema.CustomerClass) -> list[str]:
    """Resolution, re-contact, escalation and retrial rules of a class, one line each."""
    lines = []
    for sname, res in (cls.resolution or {}).items():
        q = (f"q = {res.probability:g}" if res.curve is None else
             f"q(s) {_dist(res.curve)}")
        text = f"    resolution at {sname}: {q}"
        if res.handle_time_cap is not None:
            text += f", handle time capped at {res.handle_time_cap:g}"
        if res.repeat_extra:
            text += f", repeats take {res.repeat_extra:g} longer"
        if res.recontact is not None:
            text += (f"; unresolved: back with probability {res.recontact.probability:g} "
                     f"after {_dist(res.recontact.delay)}")
        else:
            text += "; unresolved customers defect"
        if res.escalation is not None:
            e = res.escalation
            text += (f"; after {e.after} failure(s) escalate to {e.to} with probability "
                     f"{e.probability:g}")
        lines.append(text)
    if cls.retrial is not None:
        r = cls.retrial
        tries = "unlimited" if r.max_attempts is None else f"at most {r.max_attempts}"
        lines.append(f"    retrial: when {', '.join(r.when)}, retry with probability "
                     f"{r.probability:g} after {_dist(r.delay)} ({tries} attempts)")
    return lines


def _load_lines(scenario: schema.Scenario, loads: dict[str, StationLoad]) -> list[str]:
    patience = any(c.patience is not None for c in scenario.classes.values())
    lines = ["Load (first-order: offered load = arrival rate x visits x mean service time, "
             "remakes included):",
             f"  {'station':<14}{'servers':>8}{'offered':>10}{'rho':>8}{'rho peak':>10}"]
    for ld in loads.values():
        lines.append(f"  {ld.station:<14}{ld.servers:>8}{ld.offered_load:>10.3f}{ld.rho:>8.3f}"
                     f"{ld.rho_peak:>10.3f}")
    for ld in loads.values():
        if ld.managers and ld.handling_share > 0:
            lines.append(f"  {ld.station}: managers spend {ld.handling_share:.0%} of their time "
                         f"on complaints ({ld.handling_share_peak:.0%} at the peak); with that "
                         f"time taken off the counter rho = {ld.rho_net_of_complaints():.3f} "
                         f"(peak {ld.rho_net_of_complaints(peak=True):.3f})")
    for ld in loads.values():
        for when, rho, net in (("on average", ld.rho, ld.rho_net_of_complaints()),
                               ("at the peak", ld.rho_peak, ld.rho_net_of_complaints(True))):
            if max(rho, net) < 1:
                continue
            why = (f"rho = {rho:.3f}" if rho >= 1 else
                   f"rho = {net:.3f} once managers' complaint time is taken off the counter")
            effect = ("queues are held in check only by abandonment" if patience else
                      "the queue grows without bound" if when == "on average" else
                      "the queue builds up during the peak")
            lines.append(f"WARNING: station {ld.station!r} is overloaded {when} ({why} >= 1): "
                         f"{effect}")
            break
    return lines


# ---------------------------------------------------------------------------------------------
# check --explain: every field of the schema


def _unwrap(annotation: object) -> tuple[object, list[object], bool]:
    """Strip Annotated/Optional: (inner type, constraint metadata, is_optional)."""
    meta: list[object] = []
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            for e in extra:
                meta += list(getattr(e, "metadata", []) or [])
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return typing.Union[tuple(args)], meta, optional  # type: ignore[return-value]
            annotation = args[0]
        else:
            return annotation, meta, optional


def _is_model(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _variants(tp: object) -> list[type[BaseModel]]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if all(_is_model(a) for a in args):
            return list(args)
    return []


def _is_distribution(tp: object) -> bool:
    return {v.__name__ for v in _variants(tp)} >= {"Exponential", "Lognormal"}


def _type_name(tp: object, extra: Sequence[object] = ()) -> str:
    tp, meta, optional = _unwrap(tp)
    meta = [*meta, *extra]
    origin = typing.get_origin(tp)
    if _is_distribution(tp):
        name = "distribution"
    elif _variants(tp):
        name = " | ".join(v.model_fields["kind"].default for v in _variants(tp))
    elif origin is typing.Literal:
        name = " | ".join(repr(a) for a in typing.get_args(tp))
    elif origin is list:
        name = f"list of {_type_name(typing.get_args(tp)[0])}"
    elif origin is dict:
        name = f"mapping of name to {_type_name(typing.get_args(tp)[1])}"
    elif _is_model(tp):
        name = "section"
    else:
        name = getattr(tp, "__name__", str(tp)).replace("PosixPath", "path").replace("Path",
                                                                                     "path")
    bounds = [f"{sym} {getattr(m, attr)}" for m in meta
              for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="),
                                ("min_length", "length >="))
              if getattr(m, attr, None) is not None]
    return name + "".join(f", {b}" for b in bounds) + (" or null" if optional else "")


def schema_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """Every field below ``model`` as ``(dotted name, type, default, description)``.

    Dict entries appear as ``<name>``, list items as ``<i>``; the variants of a tagged union
    are listed with ``[kind]`` before their description; distributions are listed once,
    separately (``DISTRIBUTIONS``).
    """
    rows = []
    for fname, info in model.model_fields.items():
        dotted = prefix + fname
        if info.is_required():
            default = "required"
        elif info.default_factory is not None:
            value = info.default_factory()
            default = "(defaults below)" if isinstance(value, BaseModel) else repr(value)
        else:
            default = "null" if info.default is None else repr(info.default)
        if info.default is PydanticUndefined and info.default_factory is None:
            default = "required"
        rows.append((dotted, _type_name(info.annotation, info.metadata), default,
                     info.description or ""))
        rows += _children(info.annotation, dotted)
    return rows


def _children(annotation: object, dotted: str) -> list[tuple[str, str, str, str]]:
    tp, _, _ = _unwrap(annotation)
    origin = typing.get_origin(tp)
    if _is_model(tp):
        return schema_fields(tp, dotted + ".")  # type: ignore[arg-type]
    if origin is dict:
        return _children(typing.get_args(tp)[1], dotted + ".<name>")
    if origin is list:
        return _children(typing.get_args(tp)[0], dotted + ".<i>")
    if _variants(tp) and not _is_distribution(tp):
        rows = []
        for v in _variants(tp):
            kind = v.model_fields["kind"].default
            rows += [(n, t, d, f"[{kind}] {desc}".strip()) for n, t, d, desc
                     in schema_fields(v, dotted + ".") if not n.endswith(".kind")]
        return rows
    return []


DISTRIBUTIONS = typing.get_args(typing.get_args(distributions.Distribution)[0])


def explain_lines() -> list[str]:
    """The ``--explain`` listing: scenario fields, then each distribution kind's fields."""
    rows = schema_fields(schema.Scenario)
    dist_rows = []
    for dist in DISTRIBUTIONS:
        kind = dist.model_fields["kind"].default
        dist_rows += [(f"{{kind: {kind}}}.{n}", t, d, desc)
                      for n, t, d, desc in schema_fields(dist) if n != "kind"]
    width = max(len(r[0]) for r in rows + dist_rows) + 2

    def render(table: list[tuple[str, str, str, str]]) -> list[str]:
        return [f"  {name:<{width}}{tp}; default {default}"
                + (f"\n  {'':<{width}}{desc}" if desc else "") for name, tp, default, desc in table]

    return (["Scenario fields (dotted names work in --set; times and rates are in time_unit):"]
            + render(rows)
            + ["", "Distributions (a field of type distribution is a mapping with a kind and "
                   "that kind's fields):"]
            + render(dist_rows))
