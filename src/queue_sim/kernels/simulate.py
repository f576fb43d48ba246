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
from queue_sim.rng import Draws
from queue_sim.trace import StaffRoster, Trace

MIN_EPISODES = 256
MAX_INITIAL_EPISODES = 1 << 16


@dataclass
class KernelInputs:
    """The scenario as arrays, ready for ``_run`` (built once per (scenario, draws))."""

    classes: np.ndarray
    join_probability: np.ndarray
    class_level: np.ndarray
    stations: np.ndarray
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


def simulate(scenario: schema.Scenario, draws: Draws) -> Trace:
    """Simulate one replication with the Numba kernel (same model and trace as the reference).

    Parameters
    ----------
    scenario
        Validated scenario.
    draws
        Every random quantity of the replication (``queue_sim.rng.draw``).

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
    inputs = prepare(scenario, draws)
    n_episodes = inputs.n_episodes
    while True:
        trace, status = run_kernel(scenario, draws, inputs, n_episodes)
        if status == K.OK:
            return trace
        n_episodes *= 2  # prefix-consistent streams: the longer draw starts with the shorter


def prepare(scenario: schema.Scenario, draws: Draws) -> KernelInputs:
    """Validate and unpack the scenario into the arrays the kernel reads."""
    _validate(scenario, draws)
    specs = list(scenario.stations.values())
    classes = list(scenario.classes.values())
    n_stations, n_classes = len(specs), len(classes)

    # classes: balking tables and priority remakes (rows: CLASS_FIELDS)
    cls = _table(K.CLASS_FIELDS, n_classes)
    join: list[float] = []
    for c, spec in enumerate(classes):
        row = _Row(cls, K.CLASS_FIELDS, c)
        row["max_queue"] = -1
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

    # stations: spec, server and clerk lists, schedules, queue slices (rows: STATION_FIELDS)
    stations = _table(K.STATION_FIELDS, n_stations)
    lists: list[int] = []
    sched_at: list[float] = []
    sched_servers: list[int] = []
    heap_sizes = np.bincount(draws.station, minlength=n_stations)
    heap_starts = np.concatenate([[0], np.cumsum(heap_sizes)[:-1]])
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
        row["heap_start"] = heap_starts[s]
    managers_start = len(lists)
    lists.extend(m.idx for m in members if m.is_manager)

    recovery = scenario.recovery
    ack = recovery.acknowledge
    return KernelInputs(
        classes=cls, join_probability=np.asarray(join + [0.0], float),
        class_level=level.ravel(), stations=stations,
        schedule_at=np.asarray(sched_at + [0.0], float),
        schedule_servers=np.asarray(sched_servers + [0], np.int64),
        staff_lists=np.asarray(lists + [0], np.int64), staff=staff,
        policy=_code(recovery.policy, K.POLICIES, "recovery.policy"),
        has_ack=int(ack is not None),
        ack_per_customer=float(ack.per_customer) if ack is not None else 0.0,
        ack_per_announcement=float(ack.per_announcement) if ack is not None else 0.0,
        managers_start=managers_start, managers_end=len(lists), roster=roster,
        n_episodes=_initial_episodes(scenario, draws))


def run_kernel(scenario: schema.Scenario, draws: Draws, inputs: KernelInputs,
               n_episodes: int) -> tuple[Trace, int]:
    """One call of ``_run`` with ``n_episodes`` draws per server; returns (trace, status)."""
    trace, args = kernel_arguments(scenario, draws, inputs, n_episodes)
    status, ended_at = _run(*args)
    trace.ended_at = float(ended_at)
    return trace, int(status)


def kernel_arguments(scenario: schema.Scenario, draws: Draws, inputs: KernelInputs,
                     n_episodes: int) -> tuple[Trace, tuple]:
    """A fresh trace and the arguments of ``_run`` that fill it (fresh live state too)."""
    episodes = episode_draws(scenario, draws, n_episodes)
    trace = Trace.empty(
        draws.n_customers, draws.visit_ptr, draws.station, draws.is_rework,
        n_staff=inputs.staff.shape[1], n_stations=inputs.stations.shape[1],
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
        _bytes(draws.is_rework),
        inputs.classes, inputs.join_probability, inputs.class_level, inputs.stations.copy(),
        inputs.schedule_at, inputs.schedule_servers, inputs.staff_lists, inputs.staff.copy(),
        episodes, visits, np.empty(n_visits), np.zeros((2, n_staff)),
        np.empty(int(np.count_nonzero(draws.is_wrong)) + 1, np.int64),
        inputs.policy, inputs.has_ack, inputs.ack_per_customer, inputs.ack_per_announcement,
        inputs.managers_start, inputs.managers_end,
        float(scenario.run.warmup), float(draws.horizon), float(drain_limit(draws.horizon)),
        trace.arrived_at, trace.left_at, trace.outcome, trace.acknowledged_at,
        trace.queued_at, trace.service_started_at, trace.service_ended_at, trace.server,
        trace.n_preemptions, _bytes(trace.complained), trace.handling_started_at,
        trace.handling_ended_at, trace.handler, trace.busy_time, trace.handling_time,
        trace.on_duty_time, trace.queue_area, trace.system_area)
    return trace, args


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
                 "is_rework"):
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
