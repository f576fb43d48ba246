"""Common random numbers by construction: every random quantity drawn up front, per customer.

``draw(scenario, seed, replication)`` returns ``Draws``: the arrival time of every customer and
a *visit plan* for each (station, service time, patience, balking uniform, whether the order
goes wrong, complaint handling time, whether the visit is a remake; whether the contact
resolves the case, and for a repeat or escalated contact the delay before it; the uniform that
picks a line at a station with separate lines and a random join; the uniform that decides
whether the customer is difficult at a station with a rudeness rule).  Express lanes are decided
here too: a visit to a station whose drawn service time is at most an express lane's
``max_service`` is planned at the lane instead, with the same service time.  Both engines only
read it, so customer i of replication r meets the same numbers whatever the policy or engine.
Retrials are dynamic (whether an attempt fails depends on the queue), so their numbers are
pre-drawn per visit and attempt (``retrial_draws``), keyed ``(class, visit, attempt)``.

Streams are keyed, never shared: the uniforms of stream ``s``, class ``c``, visit ``k`` come
from ``SeedSequence(seed, spawn_key=(r, s, c, block, k))`` in blocks of ``BLOCK`` customers, so
customer i's numbers depend only on (seed, r, class, i), not on how many customers there are or
in which order events happen.  Every random variate is an inverse-CDF transform of a uniform,
which also couples a customer across parameter values (a sweep over the service CV keeps each
customer's rank).  Staff streams (breakdowns, vacations) are keyed by (station, server, episode).
New streams are appended to ``STREAMS`` so existing results stay the same.

Imports config only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from queue_sim.config import schema
from queue_sim.errors import SimulationError

STREAMS = ("arrival", "batch", "routing", "service", "patience", "balking", "complaint",
           "handling", "uptime", "repair", "vacation",
           # population layer (queue_sim.population): keyed by (day, customer id)
           "population_day", "population_visit", "population_time", "population_retention",
           "population_word_of_mouth", "population_new",
           # re-contacts and retrials
           "resolution", "recontact", "recontact_delay", "escalation", "retrial",
           "retrial_delay", "retrial_patience", "retrial_balking",
           # separate lines (stations.<s>.lines, join: random)
           "line",
           # rudeness contagion (stations.<s>.service_dependence.rudeness_window)
           "rudeness")
BLOCK = 1 << 16
NO_STATION = -1


def stream_uniforms(seed: int, replication: int, stream: str, keys: tuple[int, ...],
                    n: int, start: int = 0) -> np.ndarray:
    """Uniforms ``start .. start+n`` of a keyed stream, drawn block by block (open (0, 1)).

    A block's numbers come out of its generator in order, so a partial block is the prefix
    of the whole one: only what is asked for is generated, straight into the output.
    """
    sid = STREAMS.index(stream)
    out = np.empty(n)
    if n == 0:
        return out
    for block in range(start // BLOCK, (start + n - 1) // BLOCK + 1):
        ss = np.random.SeedSequence(seed, spawn_key=(replication, sid, *keys, block))
        gen = np.random.Generator(np.random.PCG64(ss))
        lo, hi = max(start, block * BLOCK), min(start + n, (block + 1) * BLOCK)
        if lo == block * BLOCK:
            gen.random(out=out[lo - start: hi - start])
        else:
            out[lo - start: hi - start] = gen.random(hi - block * BLOCK)[lo - block * BLOCK:]
    # random() lies in [0, 1); map an exact 0 to the smallest positive double so log() is finite
    np.maximum(out, np.finfo(float).tiny, out=out)
    return out


@dataclass(frozen=True)
class Draws:
    """Everything random in one replication, as plain arrays (customers in arrival order).

    Customer ``i`` arrives at ``arrived_at[i]`` and makes visits ``visit_ptr[i] ..
    visit_ptr[i+1]-1`` (CSR layout) until it leaves or abandons.  ``staff`` holds per-server
    episode streams keyed ``(stream, station_idx, server_idx)``.
    """

    arrived_at: np.ndarray        # float64[n]
    class_idx: np.ndarray         # int64[n]
    visit_ptr: np.ndarray         # int64[n+1]
    station: np.ndarray           # int64[v]
    service_time: np.ndarray      # float64[v]
    patience: np.ndarray          # float64[v]   inf = never abandons
    balk_u: np.ndarray            # float64[v]
    is_wrong: np.ndarray          # bool[v]      the order goes wrong at the end of this visit
    handling_time: np.ndarray     # float64[v]
    is_rework: np.ndarray         # bool[v]
    horizon: float                # arrivals stop here (time of last arrival for counts)
    seed: int
    replication: int
    # re-contacts (default: none); a repeat contact starts delay_before after the previous
    # visit of the customer ended
    delay_before: np.ndarray | None = None    # float64[v]
    is_recontact: np.ndarray | None = None    # bool[v]  a repeat (or escalated) contact
    is_escalation: np.ndarray | None = None   # bool[v]  escalated to another station
    is_unresolved: np.ndarray | None = None   # bool[v]  the contact does not resolve the case
    visit_index: np.ndarray | None = None     # int64[v] k: the customer's k-th visit
    class_position: np.ndarray | None = None  # int64[v] the customer's index in its class
    # separate lines (default: zeros): picks a line at a station with lines.join random
    line_u: np.ndarray | None = None          # float64[v]
    # rudeness contagion (default: zeros): the customer is difficult when below its chance
    rude_u: np.ndarray | None = None          # float64[v]

    def __post_init__(self) -> None:
        v = len(self.station)
        for name, dtype in (("delay_before", float), ("is_recontact", bool),
                            ("is_escalation", bool), ("is_unresolved", bool),
                            ("line_u", float), ("rude_u", float)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(v, dtype))
        if self.visit_index is None:  # visit k of customer i, and i within its class
            starts = np.repeat(self.visit_ptr[:-1], np.diff(self.visit_ptr))
            object.__setattr__(self, "visit_index", np.arange(v, dtype=np.int64) - starts)
        if self.class_position is None:
            position = np.zeros(len(self.class_idx), np.int64)
            for c in np.unique(self.class_idx):
                at = self.class_idx == c
                position[at] = np.arange(int(at.sum()))
            object.__setattr__(self, "class_position",
                               np.repeat(position, np.diff(self.visit_ptr)))

    @property
    def n_customers(self) -> int:
        return len(self.arrived_at)

    def staff_stream(self, stream: str, station_idx: int, server_idx: int, n: int,
                     start: int = 0) -> np.ndarray:
        """Uniforms for a server's breakdown/repair/vacation episodes ``start..start+n``."""
        return stream_uniforms(self.seed, self.replication, stream,
                               (station_idx, server_idx), n, start)


# ---------------------------------------------------------------------------------------------
# Arrivals


def _arrival_times(cls: schema.CustomerClass, seed: int, rep: int, cidx: int,
                   horizon: float | None, limit: int | None) -> np.ndarray:
    """Arrival times of one class's arrival events (batches), up to a time or a count."""
    arr = cls.arrivals
    if isinstance(arr, schema.TraceArrivals):
        times = np.asarray(arr.times, dtype=float)
    else:
        chunks, total, drawn = [], 0.0, 0
        while True:
            n = BLOCK
            gaps = -np.log1p(-stream_uniforms(seed, rep, "arrival", (cidx,), n, drawn))
            drawn += n
            points = total + np.cumsum(gaps)  # unit-rate Poisson points
            total = points[-1]
            chunks.append(points)
            if (limit is not None and drawn >= limit) or (
                    horizon is not None and _invert_cumulative_rate(arr, total) > horizon):
                break
        times = _invert_cumulative_rate(arr, np.concatenate(chunks))
    if horizon is not None:
        times = times[times < horizon]
    if limit is not None:
        times = times[:limit]
    return times


def _invert_cumulative_rate(arr, points):  # noqa: ANN001, ANN202
    """Map unit-rate Poisson points through the inverse cumulative rate (exact NHPP)."""
    if isinstance(arr, schema.PoissonArrivals):
        return points / arr.rate
    starts = np.asarray(arr.times, float)
    rates = np.asarray(arr.rates, float)
    cum = np.concatenate([[0.0], np.cumsum(rates[:-1] * np.diff(starts))])  # Lambda at starts
    j = np.searchsorted(cum, points, side="right") - 1
    # skip periods of zero rate: searchsorted on a flat stretch lands at its last start
    with np.errstate(divide="ignore", invalid="ignore"):
        return starts[j] + (points - cum[j]) / rates[j]


def _batch_sizes(cls: schema.CustomerClass, seed: int, rep: int, cidx: int, n: int,
                 start: int = 0) -> np.ndarray:
    """Sizes of arrival events ``start .. start+n-1`` of a class."""
    if cls.batch is None:
        return np.ones(n, dtype=np.int64)
    w = np.asarray(cls.batch.weights or [1.0] * len(cls.batch.sizes), float)
    cum = np.cumsum(w / w.sum())
    u = stream_uniforms(seed, rep, "batch", (cidx,), n, start)
    idx = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
    return np.asarray(cls.batch.sizes, dtype=np.int64)[idx]


# ---------------------------------------------------------------------------------------------
# Visit plans


Uniforms = Callable[[str, int], np.ndarray]
"""``uniforms(stream, k)``: the uniforms of ``stream`` for visit index ``k``, one per customer."""


def keyed_uniforms(seed: int, rep: int, cidx: int, n: int, start: int = 0) -> Uniforms:
    """The standard uniform source: stream ``s``, visit ``k`` keyed ``(rep, s, class, k)``,
    for the class's customers ``start .. start+n-1``."""
    def uniforms(stream: str, k: int) -> np.ndarray:
        return stream_uniforms(seed, rep, stream, (cidx, k), n, start)
    return uniforms


def _visit_plans(scenario: schema.Scenario, cls: schema.CustomerClass, cidx: int, n: int,
                 seed: int, rep: int, uniforms: Uniforms | None = None, start: int = 0
                 ) -> dict[str, np.ndarray]:
    """Plan every visit of customers ``start .. start+n-1`` of one class, one visit index at
    a time.

    A visit whose order goes wrong (with rework) is followed by a remake at the same station;
    a contact that does not resolve the case (``resolution``) is followed by an escalated
    contact, a repeat contact at the same station, or nothing (the customer defects);
    otherwise the route or routing decides the next station.  ``uniforms`` supplies the random
    numbers (default: ``keyed_uniforms`` from customer ``start``, customers numbered in
    arrival order).  Returns per-customer visit columns as (n, K) arrays with NO_STATION after
    the last visit.
    """
    if uniforms is None:
        uniforms = keyed_uniforms(seed, rep, cidx, n, start)
    names = scenario.station_names
    sidx = {name: i for i, name in enumerate(names)}
    max_visits = scenario.run.max_visits
    comp = cls.complaints
    comp_station = sidx[scenario.complaint_station(cls)] if comp else NO_STATION
    resolution = {sidx[name]: res for name, res in (cls.resolution or {}).items()}
    express = [(sidx[name], sidx[st.express_for.station], st.express_for.max_service)
               for name, st in scenario.stations.items() if st.express_for is not None]
    # line uniforms are read only at a station with separate lines and a random join
    uses_line_u = any(st.lines is not None and st.lines.join == "random"
                      for st in scenario.stations.values())
    uses_rude_u = any(st.service_dependence is not None
                      and st.service_dependence.rudeness_window is not None
                      for st in scenario.stations.values())
    if cls.route is not None:
        route = np.array([sidx[s] for s in cls.route], dtype=np.int64)
    elif cls.routing is not None:
        route = None
        trans = np.zeros((len(names), len(names)))
        for a, nxt in cls.routing.transitions.items():
            for b, p in nxt.items():
                trans[sidx[a], sidx[b]] = p
        cum_trans = np.cumsum(trans, axis=1)
    else:
        route = np.array([sidx[next(iter(cls.service))]], dtype=np.int64)

    columns: dict[str, list[np.ndarray]] = {k: [] for k in (
        "station", "service_time", "patience", "balk_u", "is_wrong", "handling_time",
        "is_rework", "delay_before", "is_recontact", "is_escalation", "is_unresolved",
        "line_u", "rude_u")}
    station = np.full(n, route[0] if route is not None else sidx[cls.routing.start],
                      dtype=np.int64)
    position = np.zeros(n, dtype=np.int64)
    rework = np.zeros(n, dtype=bool)
    # balking uniforms are read only by a join_probability rule: skip the stream otherwise
    uses_balk_u = cls.balking is not None and cls.balking.join_probability is not None
    delay = np.zeros(n)                      # before the current visit
    recontact = np.zeros(n, dtype=bool)      # the current visit is a repeat contact
    escalated = np.zeros(n, dtype=bool)      # ... escalated from another station
    streak = np.zeros(n, dtype=np.int64)     # consecutive unresolved contacts at this station
    for k in range(max_visits):
        active = station != NO_STATION
        all_active = bool(active.all())
        if not all_active and not active.any():
            break
        def u(stream: str) -> np.ndarray:
            return uniforms(stream, k)

        def transform(dist, uniforms: np.ndarray, where: np.ndarray | None):  # noqa: ANN001, ANN202
            """dist.quantile(uniforms) at ``where`` (None: everywhere), 0 elsewhere: the
            values of visits that are not made are never read."""
            if where is None:
                return dist.quantile(uniforms)
            out = np.zeros(n)
            out[where] = dist.quantile(uniforms[where])
            return out

        service = np.zeros(n)
        u_service = u("service")
        for name, dist in cls.service.items():
            at = station == sidx[name]
            service = (transform(dist, u_service, None) if len(cls.service) == 1 and all_active
                       else np.where(at, transform(dist, u_service, at), service))
        if comp is not None and comp.rework_service is not None:
            service[rework] = comp.rework_service.quantile(u_service[rework])
        unresolved = np.zeros(n, dtype=bool)
        if resolution:
            service, unresolved = _resolve(resolution, station, service, recontact & active,
                                           u("resolution"))
            unresolved &= active
        patience = (transform(cls.patience, u("patience"), None if all_active else active)
                    if cls.patience is not None else np.full(n, np.inf))
        wrong = np.zeros(n, dtype=bool)
        handling = np.zeros(n)
        if comp is not None and comp.probability > 0:
            wrong = (station == comp_station) & ~rework & (u("complaint") < comp.probability)
            handling = transform(comp.handling, u("handling"), wrong)  # read for complaints only
        balk_u = u("balking") if uses_balk_u else np.zeros(n)
        line_u = u("line") if uses_line_u else np.zeros(n)
        rude_u = u("rudeness") if uses_rude_u else np.zeros(n)
        # express lanes: a visit whose drawn service is short enough goes to the lane instead
        # (routing below still follows the regular station)
        at_station = station
        if express:
            at_station = station.copy()
            for lane, regular, max_service in express:
                at_station[(station == regular) & (service <= max_service)] = lane
        for key, col in (("station", at_station), ("service_time", service),
                         ("patience", patience), ("balk_u", balk_u),
                         ("is_wrong", wrong if all_active else wrong & active),
                         ("handling_time", handling),
                         ("is_rework", rework if all_active else rework & active),
                         ("delay_before", delay),
                         ("is_recontact", recontact if all_active else recontact & active),
                         ("is_escalation", escalated if all_active else escalated & active),
                         ("is_unresolved", unresolved), ("line_u", line_u),
                         ("rude_u", rude_u)):
            columns[key].append(np.where(active, col, NO_STATION)
                                if key == "station" and not all_active else col)
        # where next: a remake, a repeat or escalated contact, the next stop on the route, or
        # a routing draw
        remake = wrong & active & (comp is not None and comp.rework)
        moves = active & ~remake & ~unresolved
        nxt = np.full(n, NO_STATION, dtype=np.int64)
        if route is not None:
            position = np.where(moves, position + 1, position)
            more = moves & (position < len(route))
            nxt[more] = route[position[more]]
        else:
            u_route = u("routing")
            rows = cum_trans[np.where(active, station, 0)]
            choice = (u_route[:, None] >= rows).sum(axis=1)
            goes = moves & (choice < len(names))
            nxt[goes] = choice[goes]
        if comp is not None and not comp.rework:
            nxt[wrong & active] = NO_STATION
        nxt[remake] = station[remake]
        delay = np.zeros(n)
        recontact = np.zeros(n, dtype=bool)
        escalated = np.zeros(n, dtype=bool)
        if unresolved.any():
            streak = np.where(unresolved, streak + 1, 0)
            u_recontact, u_escalation = u("recontact"), u("escalation")
            u_delay = u("recontact_delay")
            for s, res in resolution.items():
                failed = unresolved & (station == s)
                esc = np.zeros(n, dtype=bool)
                if res.escalation is not None:
                    e = res.escalation
                    esc = failed & (streak >= e.after) & (u_escalation < e.probability)
                    nxt[esc] = sidx[e.to]
                    delay[esc] = (e.delay or res.recontact.delay).quantile(u_delay[esc])
                    escalated |= esc
                again = failed & ~esc
                if res.recontact is not None:
                    again &= u_recontact < res.recontact.probability
                    nxt[again] = s
                    delay[again] = res.recontact.delay.quantile(u_delay[again])
                else:
                    again[:] = False
                recontact |= esc | again
            streak = np.where(escalated, 0, streak)
        else:
            streak[:] = 0
        station, rework = nxt, remake
    else:
        if (station != NO_STATION).any():
            raise SimulationError(f"a customer of class {scenario.class_names[cidx]!r} needed "
                                  f"more than run.max_visits={max_visits} station visits; "
                                  f"raise run.max_visits or check the routing probabilities")
    if not columns["station"]:  # no customers: an empty plan of width 0
        return {k: np.empty((n, 0), dtype=np.int64 if k == "station" else float)
                for k in columns}
    return {k: v[0][:, None] if len(v) == 1 else np.stack(v, axis=1)
            for k, v in columns.items()}


def _resolve(resolution: dict[int, schema.Resolution], station: np.ndarray,
             service: np.ndarray, is_repeat: np.ndarray, u: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Handle times after the cap (plus a repeat contact's extra) and which contacts fail to
    resolve: ``u >= q(capped handle time)``, one uniform per contact."""
    service = service.copy()
    unresolved = np.zeros(len(service), dtype=bool)
    for s, res in resolution.items():
        at = station == s
        handle = service[at]
        if res.handle_time_cap is not None:
            handle = np.minimum(handle, res.handle_time_cap)
        unresolved[at] = u[at] >= res.probability_at(handle)
        service[at] = handle + np.where(is_repeat[at], res.repeat_extra, 0.0)
    return service, unresolved


def draw(scenario: schema.Scenario, seed: int, replication: int) -> Draws:
    """Draw every random quantity of one replication (see the module docstring).

    Parameters
    ----------
    scenario
        Validated scenario.
    seed
        Root seed of the run.
    replication
        Replication index r >= 0; replications use disjoint streams.
    """
    run = scenario.run
    parts = []
    for cidx, cls in enumerate(scenario.classes.values()):
        events = _arrival_times(cls, seed, replication, cidx, run.horizon, run.customers)
        sizes = _batch_sizes(cls, seed, replication, cidx, len(events))
        times = np.repeat(events, sizes)
        if run.customers is not None:
            times = times[: run.customers]
        plans = _visit_plans(scenario, cls, cidx, len(times), seed, replication)
        parts.append((times, plans))
    return assemble(scenario, parts, seed=seed, replication=replication, limit=run.customers)


def plan_class(scenario: schema.Scenario, cidx: int, arrived_at: np.ndarray, seed: int,
               replication: int, uniforms: Uniforms | None = None
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One class's part of a ``Draws``: given arrival times, and visit plans from ``uniforms``.

    With ``uniforms=None`` the arrival times are the class's own (``seed``, ``replication``)
    stream and ``arrived_at`` is ignored; otherwise ``arrived_at`` is used as given (one entry
    per customer, in the order ``uniforms`` numbers them).  For ``assemble``.
    """
    cls = list(scenario.classes.values())[cidx]
    if uniforms is None:
        events = _arrival_times(cls, seed, replication, cidx, scenario.run.horizon, None)
        arrived_at = np.repeat(events, _batch_sizes(cls, seed, replication, cidx, len(events)))
    arrived_at = np.asarray(arrived_at, dtype=float)
    return arrived_at, _visit_plans(scenario, cls, cidx, len(arrived_at), seed, replication,
                                    uniforms)


def assemble(scenario: schema.Scenario, parts: list[tuple[np.ndarray, dict[str, np.ndarray]]],
             *, seed: int, replication: int, limit: int | None = None,
             horizon: float | None = None) -> Draws:
    """Merge per-class ``(arrival times, visit plans)`` into one ``Draws`` in arrival order.

    Customers are ordered by time, then class, then their index within the class; ``limit``
    keeps the first ones.  ``seed`` and ``replication`` key the staff (breakdown, vacation)
    streams.  ``horizon`` defaults to ``scenario.run.horizon`` (or the last arrival when the
    run is a customer count).
    """
    times, classes, stacked = _merge_classes(parts, limit)
    if horizon is None:
        horizon = scenario.run.horizon
    if horizon is None:
        horizon = float(times[-1]) if len(times) else 0.0
    return flatten(times, classes, stacked, horizon, seed, replication)


def flatten(times: np.ndarray, classes: np.ndarray, stacked: dict[str, np.ndarray],
            horizon: float, seed: int, replication: int,
            class_start: np.ndarray | None = None) -> Draws:
    """``Draws`` of customers in arrival order from their (customer, visit) plan columns.

    ``class_start`` (per class): the class index of the first customer of each class here
    (default 0: these are the first customers of the run), for ``Draws.class_position``.
    """
    if stacked["station"].shape[1] == 1:  # one visit each, all made: the columns as they are
        ptr = np.arange(len(times) + 1, dtype=np.int64)
        flat = {k: v[:, 0] for k, v in stacked.items()}
    else:
        valid = stacked["station"] != NO_STATION
        counts = valid.sum(axis=1)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = {k: v[valid] for k, v in stacked.items()}
    class_position = None
    if class_start is not None and len(times):
        position = np.zeros(len(times), np.int64)
        for c in np.unique(classes):
            at = classes == c
            position[at] = class_start[c] + np.arange(int(at.sum()))
        class_position = np.repeat(position, np.diff(ptr))
    return Draws(arrived_at=times, class_idx=classes, visit_ptr=ptr,
                 station=flat["station"].astype(np.int64, copy=False),
                 service_time=flat["service_time"], patience=flat["patience"],
                 balk_u=flat["balk_u"], is_wrong=flat["is_wrong"].astype(bool, copy=False),
                 handling_time=flat["handling_time"],
                 is_rework=flat["is_rework"].astype(bool, copy=False), horizon=float(horizon),
                 seed=seed, replication=replication,
                 delay_before=flat["delay_before"].astype(float, copy=False),
                 is_recontact=flat["is_recontact"].astype(bool, copy=False),
                 is_escalation=flat["is_escalation"].astype(bool, copy=False),
                 is_unresolved=flat["is_unresolved"].astype(bool, copy=False),
                 line_u=flat["line_u"].astype(float, copy=False),
                 rude_u=flat["rude_u"].astype(float, copy=False),
                 class_position=class_position)


def _merge_classes(parts: list[tuple[np.ndarray, dict[str, np.ndarray]]], limit: int | None
                   ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Every class's customers in arrival order (time, then class, then index), their plans
    padded to one width; the first ``limit`` of them when a count is given.  One class whose
    times are already sorted is in that order, so it is returned as it is."""
    if len(parts) == 1 and bool(np.all(parts[0][0][1:] >= parts[0][0][:-1])):
        times, plans = parts[0]
        keep = slice(None) if limit is None else slice(0, limit)
        return (times[keep], np.zeros(len(times[keep]), dtype=np.int64),
                {k: v[keep] for k, v in plans.items()})
    times = np.concatenate([p[0] for p in parts])
    classes = np.concatenate([np.full(len(p[0]), c, dtype=np.int64)
                              for c, p in enumerate(parts)])
    order = np.lexsort((np.arange(len(times)), classes, times))  # time, then class, then index
    if limit is not None:
        order = order[:limit]
    width = max(p[1]["station"].shape[1] for p in parts)
    stacked = {}
    for key in parts[0][1]:
        fill = NO_STATION if key == "station" else 0
        dtype = np.result_type(*(p[1][key].dtype for p in parts))
        merged = np.full((len(times), width), fill, dtype=dtype)
        row = 0
        for _, plans in parts:
            col = plans[key]
            merged[row: row + len(col), : col.shape[1]] = col
            row += len(col)
        stacked[key] = merged[order]
    return times[order], classes[order], stacked


# ---------------------------------------------------------------------------------------------
# Retrials


@dataclass(frozen=True)
class RetrialDraws:
    """Pre-drawn numbers of retries: for visit ``v`` with ``row[v] = r >= 0`` and its failed
    attempt ``a`` (0 = the first), ``retry_u[r, a]`` decides whether it tries again,
    ``delay[r, a]`` is the time until attempt ``a + 1``, whose patience and balking uniform are
    ``patience[r, a]`` and ``balk_u[r, a]``.  ``n_retries`` columns are drawn; a run that needs
    more asks for a longer draw, which starts with the same numbers (keyed by attempt)."""

    row: np.ndarray        # int64[v]: -1 where the class never retries
    n_retries: int
    retry_u: np.ndarray    # float64[R, n_retries]
    delay: np.ndarray
    patience: np.ndarray
    balk_u: np.ndarray


def retrial_draws(scenario: schema.Scenario, draws: Draws, n_retries: int) -> RetrialDraws:
    """The first ``n_retries`` retries of every visit of a class with a ``retrial`` section.

    Streams are keyed ``(class, visit index, attempt)`` and indexed by the customer's position
    in its class, like the visit plan, so a customer's retries never depend on others.
    """
    classes = list(scenario.classes.values())
    has_retrial = np.array([c.retrial is not None for c in classes], dtype=bool)
    visit_class = np.repeat(draws.class_idx, np.diff(draws.visit_ptr))
    rows = np.flatnonzero(has_retrial[visit_class] & ~draws.is_rework) if len(visit_class) \
        else np.empty(0, np.int64)
    row = np.full(len(draws.station), -1, np.int64)
    row[rows] = np.arange(len(rows))
    shape = (len(rows), n_retries)
    out = {k: np.zeros(shape) for k in ("retry_u", "delay", "patience", "balk_u")}
    seed, rep = draws.seed, draws.replication
    for c, cls in enumerate(classes):
        if cls.retrial is None:
            continue
        mine = visit_class[rows] == c
        for k in np.unique(draws.visit_index[rows[mine]]):
            at = np.flatnonzero(mine & (draws.visit_index[rows] == k))
            pos = draws.class_position[rows[at]]
            lo = int(pos.min())  # a block of a long run: only the positions it needs
            n = int(pos.max()) + 1 - lo
            for a in range(n_retries):
                def u(stream: str) -> np.ndarray:
                    return stream_uniforms(seed, rep, stream, (c, int(k), a), n, lo)[pos - lo]
                out["retry_u"][at, a] = u("retrial")
                out["delay"][at, a] = cls.retrial.delay.quantile(u("retrial_delay"))
                out["patience"][at, a] = (cls.patience.quantile(u("retrial_patience"))
                                          if cls.patience is not None else np.inf)
                out["balk_u"][at, a] = u("retrial_balking")
    return RetrialDraws(row=row, n_retries=n_retries, **out)


def initial_retries(scenario: schema.Scenario) -> int:
    """How many retries per visit to draw first: enough for every capped class, else 16."""
    caps = [c.retrial.max_attempts for c in scenario.classes.values() if c.retrial is not None]
    if not caps:
        return 0
    if any(m is None for m in caps):
        return 16
    return max(1, max(caps) - 1)
