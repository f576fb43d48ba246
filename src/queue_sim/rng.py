"""Common random numbers by construction: every random quantity drawn up front, per customer.

``draw(scenario, seed, replication)`` returns ``Draws``: the arrival time of every customer and
a *visit plan* for each (station, service time, patience, balking uniform, whether the order
goes wrong, complaint handling time, whether the visit is a remake).  Both engines only read it,
so customer i of replication r meets the same numbers whatever the policy or engine.

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

from dataclasses import dataclass

import numpy as np

from queue_sim.config import schema
from queue_sim.errors import SimulationError

STREAMS = ("arrival", "batch", "routing", "service", "patience", "balking", "complaint",
           "handling", "uptime", "repair", "vacation")
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


def _visit_plans(scenario: schema.Scenario, cls: schema.CustomerClass, cidx: int, n: int,
                 seed: int, rep: int, start: int = 0) -> dict[str, np.ndarray]:
    """Plan every visit of customers ``start .. start+n-1`` of one class, one visit index at
    a time.

    A visit whose order goes wrong (with rework) is followed by a remake at the same station;
    otherwise the route or routing decides the next station.  Returns per-customer visit
    columns as (n, K) arrays with NO_STATION after the last visit.
    """
    names = scenario.station_names
    sidx = {name: i for i, name in enumerate(names)}
    max_visits = scenario.run.max_visits
    comp = cls.complaints
    comp_station = sidx[scenario.complaint_station(cls)] if comp else NO_STATION
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
        "is_rework")}
    station = np.full(n, route[0] if route is not None else sidx[cls.routing.start],
                      dtype=np.int64)
    position = np.zeros(n, dtype=np.int64)
    rework = np.zeros(n, dtype=bool)
    # balking uniforms are read only by a join_probability rule: skip the stream otherwise
    uses_balk_u = cls.balking is not None and cls.balking.join_probability is not None
    for k in range(max_visits):
        active = station != NO_STATION
        all_active = bool(active.all())
        if not all_active and not active.any():
            break
        def u(stream: str) -> np.ndarray:
            return stream_uniforms(seed, rep, stream, (cidx, k), n, start)

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
        patience = (transform(cls.patience, u("patience"), None if all_active else active)
                    if cls.patience is not None else np.full(n, np.inf))
        wrong = np.zeros(n, dtype=bool)
        handling = np.zeros(n)
        if comp is not None and comp.probability > 0:
            wrong = (station == comp_station) & ~rework & (u("complaint") < comp.probability)
            handling = transform(comp.handling, u("handling"), wrong)  # read for complaints only
        balk_u = u("balking") if uses_balk_u else np.zeros(n)
        for key, col in (("station", station), ("service_time", service),
                         ("patience", patience), ("balk_u", balk_u),
                         ("is_wrong", wrong if all_active else wrong & active),
                         ("handling_time", handling),
                         ("is_rework", rework if all_active else rework & active)):
            columns[key].append(np.where(active, col, NO_STATION)
                                if key == "station" and not all_active else col)
        # where next: a remake, the next stop on the route, or a routing draw
        remake = wrong & active & (comp is not None and comp.rework)
        moves = active & ~remake
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
        n = len(times)
        plans = _visit_plans(scenario, cls, cidx, n, seed, replication)
        parts.append((times, np.full(n, cidx, dtype=np.int64), plans))

    times, classes, stacked = _merge_classes(parts, run.customers)
    horizon = run.horizon if run.horizon is not None else (float(times[-1]) if len(times)
                                                           else 0.0)
    return flatten(times, classes, stacked, horizon, seed, replication)


def flatten(times: np.ndarray, classes: np.ndarray, stacked: dict[str, np.ndarray],
            horizon: float, seed: int, replication: int) -> Draws:
    """``Draws`` of customers in arrival order from their (customer, visit) plan columns."""
    if stacked["station"].shape[1] == 1:  # one visit each, all made: the columns as they are
        ptr = np.arange(len(times) + 1, dtype=np.int64)
        flat = {k: v[:, 0] for k, v in stacked.items()}
    else:
        valid = stacked["station"] != NO_STATION
        counts = valid.sum(axis=1)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = {k: v[valid] for k, v in stacked.items()}
    return Draws(arrived_at=times, class_idx=classes, visit_ptr=ptr,
                 station=flat["station"].astype(np.int64, copy=False),
                 service_time=flat["service_time"], patience=flat["patience"],
                 balk_u=flat["balk_u"], is_wrong=flat["is_wrong"].astype(bool, copy=False),
                 handling_time=flat["handling_time"],
                 is_rework=flat["is_rework"].astype(bool, copy=False), horizon=horizon,
                 seed=seed, replication=replication)


def _merge_classes(parts: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]],
                   customers: int | None
                   ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Every class's customers in arrival order (time, then class, then index), their plans
    padded to one width; the first ``customers`` of them when a count is given.  One class
    is already in that order (its times are sorted), so it is returned as it is."""
    if len(parts) == 1:
        return parts[0]
    times = np.concatenate([p[0] for p in parts])
    classes = np.concatenate([p[1] for p in parts])
    order = np.lexsort((np.arange(len(times)), classes, times))  # time, then class, then index
    if customers is not None:
        order = order[: customers]
    width = max(p[2]["station"].shape[1] for p in parts)
    stacked = {}
    for key in parts[0][2]:
        fill = NO_STATION if key == "station" else 0
        dtype = np.result_type(*(p[2][key].dtype for p in parts))
        merged = np.full((len(times), width), fill, dtype=dtype)
        row = 0
        for p in parts:
            col = p[2][key]
            merged[row: row + len(col), : col.shape[1]] = col
            row += len(col)
        stacked[key] = merged[order]
    return times[order], classes[order], stacked
