"""Run the Numba kernel of one replication: (scenario, draws) -> Trace.

The boundary work lives here: validate, turn the scenario into arrays, pre-draw and transform
each server's episode uniforms exactly as the reference does, call ``_loop._run``, and pack the
``Trace``.  Imports config, rng, trace, model.staff and the kernel modules; never runner,
results or plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from queue_sim.config import schema
from queue_sim.errors import UnsupportedByKernelError
from queue_sim.kernels import _state as K
from queue_sim.kernels._loop import _run
from queue_sim.model.simulate import drain_limit
from queue_sim.model.staff import build_roster
from queue_sim.rng import Draws, RetrialDraws, initial_retries, retrial_draws
from queue_sim.trace import Outcome, StaffRoster, Trace

MIN_EPISODES = 256
MAX_INITIAL_EPISODES = 1 << 16


@dataclass
class KernelInputs:
    """The scenario as arrays, ready for ``_run`` (built once per (scenario, draws))."""

    classes: np.ndarray
    retry_probability: np.ndarray
    join_probability: np.ndarray
    class_level: np.ndarray
    stations: np.ndarray
    station_params: np.ndarray
    queues: np.ndarray
    queue_station: np.ndarray
    schedule_at: np.ndarray
    schedule_servers: np.ndarray
    staff_lists: np.ndarray
    staff: np.ndarray
    policy: int
    has_ack: int
    ack_per_customer: float
    ack_per_announcement: float
    managers_start: int
    managers_end: int
    roster: StaffRoster
    n_episodes: int
    n_retries: int
    plain: bool = False  # run the fast path of kernels._plain (see is_plain)


def simulate(scenario: schema.Scenario, draws: Draws, *, fast_path: bool = True) -> Trace:
    """Simulate one replication with the Numba kernel (same model and trace as the reference).

    Parameters
    ----------
    scenario
        Validated scenario.
    draws
        Every random quantity of the replication (``queue_sim.rng.draw``).
    fast_path
        Run a plain scenario (``is_plain``) on the fast path of ``kernels._plain``; False
        forces the general loop (the same trace, bit for bit: for tests and benchmarks).

    Returns
    -------
    Trace
        Per-customer, per-visit and per-staff records, equal to ``queue_sim.model.simulate``'s.

    Raises
    ------
    UnsupportedByKernelError
        If the scenario names a feature value the kernel does not know.
    ValueError
        If ``draws`` do not fit the scenario (stations, classes, visit plan).
    """
    inputs = prepare(scenario, draws, fast_path=fast_path)
    n_episodes, n_retries = inputs.n_episodes, inputs.n_retries
    while True:
        trace, status = run_kernel(scenario, draws, inputs, n_episodes, n_retries)
        if status == K.OK:
            return trace
        # prefix-consistent streams: the longer draw starts with the shorter
        if status == K.NEED_EPISODES:
            n_episodes *= 2
        else:
            n_retries *= 2


def is_plain(scenario: schema.Scenario) -> bool:
    """Whether the scenario's only events are arrivals and ends of service, so the fast path
    (``kernels._plain``) runs it: FIFO or non-preemptive priority stations with no schedule,
    capacity, breakdowns, vacations, separate lines or service dependence; classes with no
    patience, balking, complaints, retrials, re-contacts or escalations (arrivals, batches,
    routes, distributions, server counts, managers and unresolved contacts are any)."""
    for st in scenario.stations.values():
        if (st.discipline not in ("fifo", "priority") or st.schedule or st.capacity is not None
                or st.breakdowns is not None or st.vacations is not None
                or st.lines is not None or st.service_dependence is not None):
            return False
    for c in scenario.classes.values():
        if (c.patience is not None or c.balking is not None or c.complaints is not None
                or c.retrial is not None):
            return False
        for res in (c.resolution or {}).values():
            if res.recontact is not None or res.escalation is not None:
                return False
    return True


def prepare(scenario: schema.Scenario, draws: Draws, *, fast_path: bool = True
            ) -> KernelInputs:
    """Validate and unpack the scenario into the arrays the kernel reads (``fast_path``: mark
    a plain scenario for the fast path)."""
    _validate(scenario, draws)
    specs = list(scenario.stations.values())
    classes = list(scenario.classes.values())
    n_stations, n_classes = len(specs), len(classes)

    # classes: balking tables, priority remakes and retrials (rows: CLASS_FIELDS)
    cls = _table(K.CLASS_FIELDS, n_classes)
    retry_probability = np.zeros(n_classes)
    join: list[float] = []
    for c, spec in enumerate(classes):
        row = _Row(cls, K.CLASS_FIELDS, c)
        row["max_queue"] = -1
        row["retry_max"] = -1
        if spec.retrial is not None:
            row["retry_on"] = sum(1 << int(Outcome[name.upper()]) for name in spec.retrial.when)
            if spec.retrial.max_attempts is not None:
                row["retry_max"] = spec.retrial.max_attempts
            retry_probability[c] = spec.retrial.probability
        if spec.balking is not None:
            row["has_balking"] = 1
            if spec.balking.max_queue is not None:
                row["max_queue"] = spec.balking.max_queue
            if spec.balking.join_probability is not None:
                row["join_start"] = len(join)
                join.extend(spec.balking.join_probability)
                row["join_end"] = len(join)
        comp = spec.complaints
        row["priority_remake"] = int(comp is not None and comp.rework_priority)

    # queue levels: 0 under fifo, else the rank of the class priority + 1 (the same order as
    # the reference's ``priority - top + 1``; a priority remake is -1)
    ranks = np.unique([c.priority for c in classes], return_inverse=True)[1].ravel()
    level = np.zeros((n_classes, n_stations), np.int64)
    for s, st in enumerate(specs):
        key = f"stations.{scenario.station_names[s]}.discipline"
        if _code(st.discipline, K.DISCIPLINES, key) != K.FIFO:
            level[:, s] = ranks + 1

    members, roster = build_roster(scenario)
    staff = _table(K.STAFF_FIELDS, len(members))
    for m in members:
        row = _Row(staff, K.STAFF_FIELDS, m.idx)
        row["staff_station"] = m.station
        row["is_manager"] = m.is_manager
        row["serves"] = m.serves
        row["on_duty"] = m.on_duty
        for name in ("staff_visit", "handling", "reserved"):
            row[name] = K.IDLE

    # stations: spec, server and clerk lists, schedules, lines (rows: STATION_FIELDS); queues:
    # one per shared station, one per server of a station with separate lines, each with heap
    # room for every visit to its station (rows: QUEUE_FIELDS)
    stations = _table(K.STATION_FIELDS, n_stations)
    params = np.zeros((len(K.STATION_PARAMS), n_stations))
    queue_rows: list[tuple[int, int]] = []  # (station, server or -1)
    lists: list[int] = []
    sched_at: list[float] = []
    sched_servers: list[int] = []
    for s, st in enumerate(specs):
        key = f"stations.{scenario.station_names[s]}"
        row = _Row(stations, K.STATION_FIELDS, s)
        row["capacity"] = -1 if st.capacity is None else st.capacity
        row["discipline"] = _code(st.discipline, K.DISCIPLINES, key + ".discipline")
        row["shift_hand_back"] = _code(st.on_shift_end, ("finish", "hand_back"),
                                       key + ".on_shift_end")
        if st.breakdowns is not None:
            row["breakdowns"] = _code(st.breakdowns.clock, K.BREAKDOWN_CLOCKS,
                                      key + ".breakdowns.clock")
            row["bd_hand_back"] = _code(st.breakdowns.in_service, ("wait", "hand_back"),
                                        key + ".breakdowns.in_service")
        if st.vacations is not None:
            row["vacations"] = _code(st.vacations.mode, K.VACATION_MODES,
                                     key + ".vacations.mode")
        row["sched_start"] = len(sched_at)
        for change in st.schedule or []:
            sched_at.append(change.at)
            sched_servers.append(change.servers)
        row["sched_end"] = len(sched_at)
        servers = [m.idx for m in members if m.station == s and m.serves]
        row["servers_start"] = len(lists)
        lists.extend(servers)
        row["servers_end"] = len(lists)
        row["clerks_start"] = len(lists)
        lists.extend(g for g in servers if not members[g].is_manager)
        row["clerks_end"] = len(lists)
        row["queue_start"] = len(queue_rows)
        if st.lines is None:
            queue_rows.append((s, -1))
        else:
            row["join_rule"] = _code(st.lines.join, K.JOIN_RULES, key + ".lines.join")
            row["jockeying"] = int(st.lines.jockeying)
            queue_rows.extend((s, m) for m in servers)
        row["queue_end"] = len(queue_rows)
        dep = st.service_dependence
        row["queue_threshold"] = -1
        if dep is not None:
            row["has_dependence"] = 1
            if dep.queue_threshold is not None:
                row["queue_threshold"] = dep.queue_threshold
            params[:, s] = [getattr(dep, name) or 0.0 for name in K.STATION_PARAMS]
    queues = _table(K.QUEUE_FIELDS, len(queue_rows))
    queues[K.QUEUE_FIELDS.index("line_server")] = [m for _, m in queue_rows]
    queue_station = np.array([s for s, _ in queue_rows], np.int64)
    managers_start = len(lists)
    lists.extend(m.idx for m in members if m.is_manager)

    recovery = scenario.recovery
    ack = recovery.acknowledge
    return KernelInputs(
        classes=cls, retry_probability=retry_probability,
        join_probability=np.asarray(join + [0.0], float),
        class_level=level.ravel(), stations=stations, station_params=params, queues=queues,
        queue_station=queue_station,
        schedule_at=np.asarray(sched_at + [0.0], float),
        schedule_servers=np.asarray(sched_servers + [0], np.int64),
        staff_lists=np.asarray(lists + [0], np.int64), staff=staff,
        policy=_code(recovery.policy, K.POLICIES, "recovery.policy"),
        has_ack=K.ACK_BY.index(ack.by) if ack is not None else K.ACK_NONE,
        ack_per_customer=float(ack.per_customer) if ack is not None else 0.0,
        ack_per_announcement=float(ack.per_announcement) if ack is not None else 0.0,
        managers_start=managers_start, managers_end=len(lists), roster=roster,
        n_episodes=_initial_episodes(scenario, draws), n_retries=initial_retries(scenario),
        plain=fast_path and is_plain(scenario))


def run_kernel(scenario: schema.Scenario, draws: Draws, inputs: KernelInputs,
               n_episodes: int, n_retries: int | None = None) -> tuple[Trace, int]:
    """One call of ``_run`` with ``n_episodes`` draws per server and ``n_retries`` retry
    draws per visit; returns (trace, status)."""
    trace, args = kernel_arguments(scenario, draws, inputs, n_episodes, n_retries)
    status, ended_at = _run(*args)
    trace.ended_at = float(ended_at)
    return trace, int(status)


def kernel_arguments(scenario: schema.Scenario, draws: Draws, inputs: KernelInputs,
                     n_episodes: int, n_retries: int | None = None) -> tuple[Trace, tuple]:
    """A fresh trace and the arguments of ``_run`` that fill it (fresh live state too)."""
    n_retries = inputs.n_retries if n_retries is None else n_retries
    episodes = episode_draws(scenario, draws, n_episodes)
    retries = retrial_draws(scenario, draws, n_retries)
    queues, heaps = _queue_heaps(inputs, draws, retries)
    trace = Trace.empty(
        draws.n_customers, draws.visit_ptr, draws.station, draws.is_rework,
        n_staff=inputs.staff.shape[1], n_stations=inputs.stations.shape[1],
        service_time=draws.service_time, is_recontact=draws.is_recontact,
        is_escalation=draws.is_escalation, is_unresolved=draws.is_unresolved,
        warmup=scenario.run.warmup, horizon=draws.horizon, ended_at=0.0,
        station_names=scenario.station_names, class_names=scenario.class_names,
        staff=inputs.roster)
    trace.class_idx[:] = draws.class_idx
    n_visits = len(draws.station)
    n_staff = inputs.staff.shape[1]
    visits = np.empty((len(K.VISIT_FIELDS), n_visits), np.int64)
    visits[K.VISIT_FIELDS.index("visit_state")] = K.PLANNED
    args = (
        draws.arrived_at, draws.class_idx, draws.visit_ptr, draws.station, draws.service_time,
        draws.patience, draws.balk_u, _bytes(draws.is_wrong), draws.handling_time,
        _bytes(draws.is_rework), draws.delay_before, _bytes(draws.is_recontact),
        _bytes(draws.is_unresolved), draws.line_u, draws.rude_u, retries.row,
        np.concatenate([retries.retry_u.ravel(), retries.delay.ravel(),
                        retries.patience.ravel(), retries.balk_u.ravel(), [0.0]]),
        retries.n_retries,
        inputs.classes, inputs.retry_probability, inputs.join_probability,
        inputs.class_level, inputs.stations.copy(), inputs.station_params, queues,
        inputs.schedule_at, inputs.schedule_servers, inputs.staff_lists, inputs.staff.copy(),
        episodes, visits, heaps, np.empty(n_visits), np.zeros((len(K.STAFF_TIMES), n_staff)),
        np.empty(int(np.count_nonzero(draws.is_wrong)) + 1, np.int64),
        inputs.policy, inputs.has_ack, inputs.ack_per_customer, inputs.ack_per_announcement,
        inputs.managers_start, inputs.managers_end,
        float(scenario.run.warmup), float(draws.horizon), float(drain_limit(draws.horizon)),
        trace.arrived_at, trace.left_at, trace.outcome, trace.acknowledged_at,
        trace.queued_at, trace.service_started_at, trace.service_ended_at, trace.server,
        trace.n_preemptions, trace.n_jockeys, _bytes(trace.complained),
        trace.handling_started_at, trace.handling_ended_at, trace.handler, trace.busy_time,
        trace.handling_time, trace.on_duty_time, trace.queue_area, trace.system_area,
        trace.n_attempts, trace.first_queued_at, trace.service_time, int(inputs.plain))
    return trace, args


def _queue_heaps(inputs: KernelInputs, draws: Draws, retries: RetrialDraws
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A fresh queue table with each queue's slice of the heap storage, and the storage.

    A slice holds one entry per attempt that can wait in that queue: every visit to its station
    once, plus one per pre-drawn retry of visits that may retry (an abandoned attempt leaves a
    stale entry behind, skipped when popped); with separate lines each line of a station gets
    the room of the whole station (jockeying removes the entry it moves)."""
    n_stations = inputs.stations.shape[1]
    attempts = 1 + retries.n_retries * (retries.row >= 0)
    per_station = np.bincount(draws.station, weights=attempts,
                              minlength=n_stations).astype(np.int64)
    sizes = per_station[inputs.queue_station]
    queues = inputs.queues.copy()
    queues[K.QUEUE_FIELDS.index("heap_start")] = np.cumsum(sizes) - sizes
    heaps = np.empty((len(K.HEAP_FIELDS), max(int(sizes.sum()), 1)), np.int64)
    return queues, heaps


def episode_draws(scenario: schema.Scenario, draws: Draws, n: int) -> np.ndarray:
    """Per-server episode values ``[uptime, repair, vacation][staff, episode]``, transformed as
    ``ServiceSystem.uptime``, ``break_down`` and ``start_vacation`` do with the same uniforms."""
    specs = list(scenario.stations.values())
    members, _ = build_roster(scenario)
    out = np.zeros((3, len(members), n))
    for m in members:
        if m.station < 0:
            continue
        spec = specs[m.station]
        if spec.breakdowns is not None and not m.is_manager:
            rate = spec.breakdowns.rate
            u = draws.staff_stream("uptime", m.station, m.idx, n)
            # math.log1p, as the reference: numpy's vectorised log1p may differ in the last bit
            out[K.E_UPTIME, m.idx] = [-math.log1p(-x) / rate for x in u.tolist()]
            u = draws.staff_stream("repair", m.station, m.idx, n)
            out[K.E_REPAIR, m.idx] = spec.breakdowns.repair.quantile(u)
        if spec.vacations is not None and m.serves:
            u = draws.staff_stream("vacation", m.station, m.idx, n)
            out[K.E_VACATION, m.idx] = spec.vacations.duration.quantile(u)
    return out


def _initial_episodes(scenario: schema.Scenario, draws: Draws,
                      cap: float = MAX_INITIAL_EPISODES) -> int:
    """Enough episode draws for a typical run, at most ``cap`` (a rerun with twice as many
    fixes a shortfall, so extreme scenarios do not allocate on a guess)."""
    span = max(draws.horizon, 1.0)
    expected = 0.0
    for spec in scenario.stations.values():
        if spec.breakdowns is not None:
            expected = max(expected, span * spec.breakdowns.rate)
        if spec.vacations is not None:
            expected = max(expected, span / max(spec.vacations.duration.moments()[0], 1e-12))
    need = int(min(max(MIN_EPISODES, int(1.5 * expected) + 64), cap))
    return 1 << (need - 1).bit_length()


def _table(fields: tuple[str, ...], n: int) -> np.ndarray:
    """A zeroed field-major int64 table: one row per field, one column per item."""
    return np.zeros((len(fields), n), np.int64)


class _Row:
    """Write access to column ``j`` of a field-major table by field name."""

    def __init__(self, table: np.ndarray, fields: tuple[str, ...], j: int):
        self.table, self.fields, self.j = table, fields, j

    def __setitem__(self, name: str, value: int) -> None:
        self.table[self.fields.index(name), self.j] = value


def _bytes(flags: np.ndarray) -> np.ndarray:
    """A bool array as uint8 (a view: writes go through), the kernel's pointer type."""
    return np.ascontiguousarray(flags).view(np.uint8)


def _code(value: str, choices: tuple[str, ...], key: str) -> int:
    if value not in choices:
        raise UnsupportedByKernelError(
            f"kernel does not support {key}={value!r} yet; use engine='simpy'")
    return choices.index(value)


def _validate(scenario: schema.Scenario, draws: Draws) -> None:
    n = draws.n_customers
    v = len(draws.station)
    if len(draws.visit_ptr) != n + 1 or (n and draws.visit_ptr[-1] != v) or draws.visit_ptr[0]:
        raise ValueError("draws.visit_ptr must run from 0 to the number of visits, one entry "
                         "per customer plus one")
    for name in ("service_time", "patience", "balk_u", "is_wrong", "handling_time",
                 "is_rework", "delay_before", "is_recontact", "is_unresolved", "line_u",
                 "rude_u"):
        if len(getattr(draws, name)) != v:
            raise ValueError(f"draws.{name} must have one entry per visit ({v})")
    if len(draws.class_idx) != n:
        raise ValueError(f"draws.class_idx must have one entry per customer ({n})")
    if v and (draws.station.min() < 0 or draws.station.max() >= len(scenario.stations)):
        raise ValueError("draws.station names a station the scenario does not have; were "
                         "the draws made for this scenario?")
    if n and (draws.class_idx.min() < 0 or draws.class_idx.max() >= len(scenario.classes)):
        raise ValueError("draws.class_idx names a class the scenario does not have")
    if n > 1 and np.any(np.diff(draws.arrived_at) < 0):
        raise ValueError("draws.arrived_at must be sorted")
