"""A replication of any length in bounded memory: the kernel fed block by block, statistics
accumulated as customers finish.

``summarize_streamed(scenario, seed, replication)`` returns what
``stats.summarize(kernels.simulate(scenario, rng.draw(scenario, seed, replication)))`` returns
(bit-identical up to ``streaming.EXACT_CUSTOMERS`` customers, within the accuracy
``queue_sim.streaming`` states beyond), without ever holding the whole run:

1. ``rng_blocks.draw_blocks`` draws the customers a block at a time;
2. the *window* holds the customers still needed plus the new block, and ``_run_window``
   runs it until the block's last customer has arrived, then pauses (its state persists);
3. the customers that can no longer change a statistic are *released* from the front of the
   window into ``streaming.StreamingSummary``: they have left, no calendar event names them,
   no complaint handling still in progress could have overlapped their waits (so their
   bystander flags are final), and, in a run for a number of customers whose horizon is not
   known yet, they left before the last arrival so far;
4. the window is rebased: released customers dropped, the block appended, station queues
   compacted (entries of customers who abandoned are dropped; the others, sorted by key, are
   a heap again) and the complaint queue moved to the front.

Memory: one block of draws, the window (the block plus customers still in the system or
named by a pending abandonment), the complaint intervals that can still overlap a waiting
customer, the statistics (constant beyond ``EXACT_CUSTOMERS``) and the per-server episode
draws (proportional to the horizon, for breakdowns and vacations only).

Imports config, rng_blocks, stats, streaming, trace and the kernel modules; never runner,
results or plots.
"""

from __future__ import annotations

import math

import numpy as np

from queue_sim import experience, stats, streaming
from queue_sim.config import schema
from queue_sim.kernels import _state as K
from queue_sim.kernels._loop import _run_window
from queue_sim.kernels.simulate import (
    _bytes, _initial_episodes, _validate, episode_draws, prepare,
)
from queue_sim.model.simulate import drain_limit
from queue_sim.rng import retrial_draws
from queue_sim.rng_blocks import Block, draw_blocks
from queue_sim.trace import Outcome, Trace

BLOCK_CUSTOMERS = 1 << 16
MAX_STREAM_EPISODES = 1 << 26

# window arrays: name -> (dtype, value of a customer or visit not yet reached)
CUSTOMER_ARRAYS = {"arrival_at": (np.float64, None), "class_idx": (np.int64, None),
                   "arrived_at": (np.float64, np.nan), "left_at": (np.float64, np.nan),
                   "outcome": (np.int64, int(Outcome.UNFINISHED)),
                   "acknowledged_at": (np.float64, np.nan)}
VISIT_ARRAYS = {"station": (np.int64, None), "service_time": (np.float64, None),
                "patience": (np.float64, None), "balk_u": (np.float64, None),
                "is_wrong": (np.bool_, None), "handling_time": (np.float64, None),
                "is_rework": (np.bool_, None), "delay_before": (np.float64, None),
                "is_recontact": (np.bool_, None), "is_escalation": (np.bool_, None),
                "is_unresolved": (np.bool_, None), "line_u": (np.float64, None),
                "rude_u": (np.float64, None),
                "remaining": (np.float64, 0.0),
                "queued_at": (np.float64, np.nan), "service_started_at": (np.float64, np.nan),
                "service_ended_at": (np.float64, np.nan), "server": (np.int64, -1),
                "n_preemptions": (np.int64, 0), "n_jockeys": (np.int64, 0),
                "complained": (np.bool_, False),
                "handling_started_at": (np.float64, np.nan),
                "handling_ended_at": (np.float64, np.nan), "handler": (np.int64, -1),
                "n_attempts": (np.int64, 0), "first_queued_at": (np.float64, np.nan),
                "work": (np.float64, None)}
# window name -> Draws field, where they differ ("work" is Trace.service_time: the plan's
# service time until service dependence sets it)
DRAWN = {"arrival_at": "arrived_at", "work": "service_time"}
# retry draws per visit: rng.RetrialDraws columns in the kernel's R_* order
RETRY_KINDS = ("retry_u", "delay", "patience", "balk_u")


def summarize_streamed(scenario: schema.Scenario, seed: int, replication: int, *,
                       block: int = BLOCK_CUSTOMERS,
                       exact_customers: int = streaming.EXACT_CUSTOMERS,
                       fast_path: bool = True) -> dict[stats.Key, float]:
    """The metrics of one replication, run in blocks of ``block`` customers.

    Parameters
    ----------
    scenario, seed, replication
        As for ``rng.draw``.
    block
        Customers drawn and simulated per step (memory and speed; never the results).
    exact_customers
        Up to this many customers the metrics are bit-identical to ``stats.summarize``'s
        followed by ``experience.metrics`` (what ``runner.run_replication`` returns).
    fast_path
        As for ``kernels.simulate``: a plain scenario takes the fast path unless False.

    Returns
    -------
    dict
        ``{(scope, name, metric): value}`` as ``runner.run_replication``.
    """
    n_episodes, n_retries = 0, None
    while True:
        result, n_episodes, n_retries = _attempt(scenario, seed, replication, block,
                                                 exact_customers, n_episodes, n_retries,
                                                 fast_path)
        if result is not None:
            return result


def _attempt(scenario: schema.Scenario, seed: int, replication: int, block_size: int,
             exact_customers: int, n_episodes: int, n_retries: int | None,
             fast_path: bool = True) -> tuple[dict[stats.Key, float] | None, int, int]:
    """One streamed run; (None, episodes, retries to use next) when a server needed more
    episode draws or a visit more retry draws (prefix-consistent streams: the longer draw
    starts with the shorter, so the rerun is the same run with enough numbers)."""
    blocks = draw_blocks(scenario, seed, replication, block_size)
    block = next(blocks)
    _validate(scenario, block.draws)
    inputs = prepare(scenario, block.draws, fast_path=fast_path)
    if not n_episodes:
        n_episodes = _initial_episodes(scenario, _HorizonGuess(_horizon_guess(scenario, block)),
                                       cap=MAX_STREAM_EPISODES)
    if n_retries is None:
        n_retries = inputs.n_retries
    run = _Run(scenario, inputs, episode_draws(scenario, block.draws, n_episodes), n_retries)
    summary = streaming.StreamingSummary(len(scenario.classes), len(scenario.stations),
                                         exact_customers, experience=scenario.experience)
    while True:
        known = scenario.run.horizon is not None or block.is_last
        horizon = block.draws.horizon if known else math.inf
        run.window.rebase(run.release_from, block, run)
        status, now = run.step(horizon, more=not block.is_last)
        if status == K.NEED_EPISODES:
            return None, 2 * n_episodes, n_retries
        if status == K.NEED_RETRIES:
            return None, n_episodes, 2 * n_retries
        if status == K.OK:
            run.release(summary, run.window.first + run.window.n, horizon, now, final=True)
            return summary.result(run.window.trace(horizon, now)), n_episodes, n_retries
        # paused: the block's last customer has arrived
        run.release(summary, run.releasable(now, None if known else block.draws.horizon),
                    horizon if known else block.draws.horizon, now)
        block = next(blocks)
        _validate(scenario, block.draws)


class _HorizonGuess:
    """Stands in for ``Draws`` where only a horizon is read."""

    def __init__(self, horizon: float):
        self.horizon = horizon


def _horizon_guess(scenario: schema.Scenario, first: Block) -> float:
    """The run's horizon, or its extrapolation from the first block (episode draws)."""
    if scenario.run.horizon is not None or first.is_last:
        return first.draws.horizon
    n = max(first.draws.n_customers, 1)
    return first.draws.horizon * scenario.run.customers / n


def _concat(parts: tuple[np.ndarray, ...], extra: tuple[np.ndarray, ...]) -> tuple:
    return tuple(np.concatenate([a, b]) for a, b in zip(parts, extra))


class _Run:
    """The state of a streamed run that persists between windows."""

    def __init__(self, scenario: schema.Scenario, inputs, episodes: np.ndarray,  # noqa: ANN001
                 n_retries: int):
        self.scenario, self.inputs, self.episodes = scenario, inputs, episodes
        self.n_retries = n_retries
        n_staff, n_stations = inputs.staff.shape[1], inputs.stations.shape[1]
        self.stations, self.staff = inputs.stations.copy(), inputs.staff.copy()
        self.queues = inputs.queues.copy()
        self.staff_times = np.zeros((len(K.STAFF_TIMES), n_staff))
        self.integrals = {"busy_time": np.zeros(n_staff), "handling_time": np.zeros(n_staff),
                          "on_duty_time": np.zeros(n_staff), "queue_area": np.zeros(n_stations),
                          "system_area": np.zeros(n_stations)}
        self.state = np.zeros(len(K.WINDOW_FIELDS), np.int64)
        self.state[K.W_PLAIN] = int(inputs.plain)
        self.clock = np.zeros(len(K.WINDOW_CLOCK))
        self.calendar = (np.empty(0), np.empty((4, 0), np.int64))
        self.complaints = np.zeros(1, np.int64)
        self.history = (np.empty(0, np.int64), np.empty(0), np.empty(0))  # released complaints
        # released visits that can still be overtaken by, or overtake, a later one (Larson's
        # skips and slips, ``experience``): station, queued_at, wait end, service started
        self.overtake_history = (np.empty(0, np.int64), np.empty(0), np.empty(0),
                                 np.empty(0, bool))
        self.release_from = 0
        self.window = _Window(self)

    def step(self, horizon: float, more: bool) -> tuple[int, float]:
        """Run the window until its last customer has arrived (or the run ends)."""
        w, inputs = self.window, self.inputs
        self.state[K.W_FIRST_CUSTOMER] = w.first
        self.state[K.W_FIRST_VISIT] = w.first_visit
        self.state[K.W_MORE] = int(more)
        c, v, i = w.customers, w.visits, self.integrals
        retry_row, retry_values = w.retry_arrays()
        status, now, cal_time, cal_int = _run_window(
            c["arrival_at"], c["class_idx"], w.visit_ptr, v["station"], v["service_time"],
            v["patience"], v["balk_u"], _bytes(v["is_wrong"]), v["handling_time"],
            _bytes(v["is_rework"]), v["delay_before"], _bytes(v["is_recontact"]),
            _bytes(v["is_unresolved"]), v["line_u"], v["rude_u"], retry_row, retry_values,
            self.n_retries,
            inputs.classes, inputs.retry_probability, inputs.join_probability,
            inputs.class_level, self.stations, inputs.station_params, self.queues,
            inputs.schedule_at, inputs.schedule_servers, inputs.staff_lists, self.staff,
            self.episodes, w.table, w.heaps, v["remaining"], self.staff_times, self.complaints,
            inputs.policy, inputs.has_ack, inputs.ack_per_customer, inputs.ack_per_announcement,
            inputs.managers_start, inputs.managers_end, float(self.scenario.run.warmup),
            float(horizon), float(drain_limit(horizon)),
            c["arrived_at"], c["left_at"], c["outcome"], c["acknowledged_at"], v["queued_at"],
            v["service_started_at"], v["service_ended_at"], v["server"], v["n_preemptions"],
            v["n_jockeys"], _bytes(v["complained"]), v["handling_started_at"],
            v["handling_ended_at"], v["handler"], i["busy_time"], i["handling_time"],
            i["on_duty_time"], i["queue_area"], i["system_area"], v["n_attempts"],
            v["first_queued_at"], v["work"], self.state, self.clock, *self.calendar)
        self.calendar = (cal_time, cal_int)
        return int(status), float(now)

    def releasable(self, now: float, last_arrival: float | None) -> int:
        """The run's number of the first customer that must stay in the window.

        A customer is released once it left before ``now`` (strictly: events at ``now`` may
        still be pending), no complaint handling in progress started before it left, no
        pending timer names a visit of it or of a later customer, and (with retrials) none
        of its visits queued at or after the earliest visit whose queue entry may still move
        (a waiting attempt that may abandon and retry, or an attempt in orbit): such a
        visit's final ``queued_at`` is not known yet, and skips and slips compare it."""
        w = self.window
        left_at = w.customers["left_at"]
        safe = now  # no handling still in progress started before a released customer left
        handling = self.staff[K.STAFF_FIELDS.index("handling")]
        for c in handling[handling != K.IDLE]:
            safe = min(safe, w.visits["handling_started_at"][c - w.first_visit])
        done = ~np.isnan(left_at) & (left_at <= safe) & (left_at < now)
        if last_arrival is not None:  # in_window needs the horizon: leave before any candidate
            done &= left_at < last_arrival
        cal_time, cal_int = self.calendar
        size = self.state[K.W_CAL_SIZE]
        kinds = cal_int[1, :size]
        named = cal_int[2, :size][(kinds == K.EV_ABANDON) | (kinds == K.EV_RECONTACT)]
        if len(named):  # visits of pending timers
            oldest = w.table[0, int(named.min()) - w.first_visit]
            done[oldest - w.first:] = False
        if self.n_retries > 0 and w.n:
            v = w.visits
            state = w.table[K.VISIT_FIELDS.index("visit_state")]
            unsettled = (((state == K.WAITING) & w.retry_has
                          & np.isnan(v["service_started_at"]))
                         | ((state == K.PLANNED) & (v["n_attempts"] > 0)))
            if unsettled.any():
                first_unsettled = v["queued_at"][unsettled].min()
                late = (~np.isnan(v["queued_at"]) & (v["queued_at"] >= first_unsettled)
                        & ~v["is_rework"])
                customer = np.repeat(np.arange(w.n), np.diff(w.visit_ptr))
                done &= np.bincount(customer[late], minlength=w.n) == 0
        stay = np.flatnonzero(~done)
        return w.first + (int(stay[0]) if len(stay) else w.n)

    def release(self, summary: streaming.StreamingSummary, upto: int, horizon: float,
                now: float, final: bool = False) -> None:
        """Hand customers ``window.first .. upto-1`` to the statistics."""
        w = self.window
        k = upto - w.first
        trace = w.trace(horizon, now)
        every = stats.complaint_intervals(trace)
        intervals = _concat(self.history, (
            trace.station[every], trace.handling_started_at[every],
            trace.handling_ended_at[every]))
        chunk = trace.slice_customers(0, k)
        columns = stats.customer_columns(chunk, intervals)
        kv = int(trace.visit_ptr[k])
        context = _concat(self.overtake_history, experience.overtake_columns(trace))
        reached = np.concatenate([np.ones(len(self.overtake_history[0]), bool),
                                  experience.overtake_rows(trace)])
        n_old = len(self.overtake_history[0])
        skipped, slipped = experience.visit_overtakes(*context, reached)
        chunk_customer = chunk.visit_customer
        skips = np.bincount(chunk_customer, weights=skipped[n_old: n_old + kv],
                            minlength=k).astype(np.int64)
        slips = np.bincount(chunk_customer, weights=slipped[n_old: n_old + kv],
                            minlength=k).astype(np.int64)
        summary.add(columns, chunk, skips, slips)
        own = stats.complaint_intervals(chunk)
        history = _concat(self.history, (
            chunk.station[own], chunk.handling_started_at[own], chunk.handling_ended_at[own]))
        mine = experience.overtake_rows(chunk)
        overtakes = _concat(self.overtake_history,
                            tuple(x[mine] for x in experience.overtake_columns(chunk)))
        if w.n and not final:
            # later customers arrive after this: intervals ending before cannot overlap, and
            # waits ending before cannot be overtaken by (nor overtake) a later one
            start = w.customers["arrival_at"][min(k, w.n - 1)]
            keep = history[2] > start
            history = tuple(h[keep] for h in history)
            keep = overtakes[2] >= start
            overtakes = tuple(h[keep] for h in overtakes)
        self.history = history
        self.overtake_history = overtakes
        self.release_from = upto


class _Window:
    """The customers a streamed run still needs, with their visits, as the kernel's arrays."""

    def __init__(self, run: _Run):
        self.run = run
        self.first = self.first_visit = 0
        self.customers = {k: np.empty(0, dt) for k, (dt, _) in CUSTOMER_ARRAYS.items()}
        self.visits = {k: np.empty(0, dt) for k, (dt, _) in VISIT_ARRAYS.items()}
        self.retry_has = np.empty(0, bool)  # the visit has retry draws (rng.RetrialDraws.row)
        self.retry_values = np.empty((0, len(RETRY_KINDS), run.n_retries))
        self.visit_ptr = np.zeros(1, np.int64)  # the run's visit numbers
        self.table = np.zeros((len(K.VISIT_FIELDS), 0), np.int64)
        self.heaps = np.zeros((len(K.HEAP_FIELDS), 1), np.int64)

    @property
    def n(self) -> int:
        return len(self.customers["arrival_at"])

    def retry_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The window's ``retry_row`` and flattened ``retry_values`` (kernel layout)."""
        rows = np.flatnonzero(self.retry_has)
        row = np.full(len(self.retry_has), -1, np.int64)
        row[rows] = np.arange(len(rows))
        values = self.retry_values[rows].transpose(1, 0, 2).ravel()
        return row, np.concatenate([values, [0.0]])

    def rebase(self, upto: int, block: Block, run: _Run) -> None:
        """Drop customers before ``upto``, append ``block``, rebuild queues and complaints."""
        k = upto - self.first
        kv = int(self.visit_ptr[k] - self.first_visit)
        live = self._live_queue_entries()
        state = run.state
        head, tail = state[K.W_COMPLAINT_HEAD], state[K.W_COMPLAINT_TAIL]
        pending = run.complaints[head:tail].copy()
        if block.first != upto + self.n - k:
            raise RuntimeError("streamed blocks out of order (a bug)")
        d = block.draws
        for name, (dtype, fill) in CUSTOMER_ARRAYS.items():
            new = (getattr(d, DRAWN.get(name, name)) if fill is None
                   else np.full(d.n_customers, fill, dtype))
            self.customers[name] = np.concatenate([self.customers[name][k:], new])
        n_new = len(d.station)
        for name, (dtype, fill) in VISIT_ARRAYS.items():
            new = (np.asarray(getattr(d, DRAWN.get(name, name)), dtype) if fill is None
                   else np.full(n_new, fill, dtype))
            self.visits[name] = np.concatenate([self.visits[name][kv:], new])
        has, values = self._retry_draws(d)
        self.retry_has = np.concatenate([self.retry_has[kv:], has])
        self.retry_values = np.concatenate([self.retry_values[kv:], values])
        self.visit_ptr = np.concatenate([self.visit_ptr[k:], d.visit_ptr[1:] + block.first_visit])
        kept = self.table.shape[1] - kv
        table = np.zeros((len(K.VISIT_FIELDS), kept + n_new), np.int64)
        table[:, :kept] = self.table[:, kv:]
        table[K.VISIT_FIELDS.index("visit_state"), kept:] = K.PLANNED
        self.table = table
        self.first, self.first_visit = upto, int(self.visit_ptr[0])
        self._build_queues(live)
        run.complaints = np.zeros(len(pending) + int(self.visits["is_wrong"].sum()) + 1,
                                  np.int64)
        run.complaints[: len(pending)] = pending
        state[K.W_COMPLAINT_HEAD], state[K.W_COMPLAINT_TAIL] = 0, len(pending)

    def _retry_draws(self, d) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        """Per visit of a block: whether it has retry draws, and its ``n_retries`` of each
        kind (``rng.retrial_draws`` of the block: keyed by the run's class positions)."""
        run = self.run
        n_visits = len(d.station)
        values = np.zeros((n_visits, len(RETRY_KINDS), run.n_retries))
        if run.n_retries == 0:
            return np.zeros(n_visits, bool), values
        draws = retrial_draws(run.scenario, d, run.n_retries)
        has = draws.row >= 0
        values[has] = np.stack([getattr(draws, name) for name in RETRY_KINDS],
                               axis=1)[draws.row[has]]
        return has, values

    def _live_queue_entries(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per queue, the (key, visit) entries of visits still waiting in it (stale entries,
        of visits gone or back with a new entry, are dropped)."""
        queues, rows = self.run.queues, K.QUEUE_FIELDS
        start, size = queues[rows.index("heap_start")], queues[rows.index("heap_size")]
        keys, visits = self.heaps[0], self.heaps[1]
        fields = K.VISIT_FIELDS
        state = self.table[fields.index("visit_state")]
        queue_key = self.table[fields.index("queue_key")]
        line_of = self.table[fields.index("line_of")]
        out = []
        for q in range(queues.shape[1]):
            slot = slice(start[q], start[q] + size[q])
            v = visits[slot]
            j = v - self.first_visit
            live = (state[j] == K.WAITING) & (keys[slot] == queue_key[j]) & (line_of[j] == q)
            out.append((keys[slot][live], v[live]))
        return out

    def _build_queues(self, live: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Each queue: its waiting entries sorted by key (a valid heap), with room for an
        entry per attempt of every visit of the window to its station (each line of a station
        gets the room of the whole station, as ``kernels.simulate`` sizes them)."""
        run = self.run
        queues, rows = run.queues, K.QUEUE_FIELDS
        attempts = 1 + run.n_retries * self.retry_has
        per_station = np.bincount(self.visits["station"], weights=attempts,
                                  minlength=run.stations.shape[1]).astype(np.int64)
        sizes = per_station[run.inputs.queue_station]
        starts = np.cumsum(sizes) - sizes
        heaps = np.zeros((len(K.HEAP_FIELDS), max(int(sizes.sum()), 1)), np.int64)
        for q, (keys, visits) in enumerate(live):
            order = np.argsort(keys, kind="stable")
            lo = starts[q]
            heaps[0, lo: lo + len(keys)] = keys[order]
            heaps[1, lo: lo + len(keys)] = visits[order]
        self.heaps = heaps
        queues[rows.index("heap_start")] = starts
        queues[rows.index("heap_size")] = [len(keys) for keys, _ in live]

    def trace(self, horizon: float, now: float) -> Trace:
        """The window as a trace (the run's time integrals so far) with this horizon."""
        run, c, v = self.run, self.customers, self.visits
        return Trace(
            class_idx=c["class_idx"], arrived_at=c["arrived_at"], left_at=c["left_at"],
            outcome=c["outcome"], acknowledged_at=c["acknowledged_at"],
            visit_ptr=self.visit_ptr - self.first_visit, station=v["station"],
            is_rework=v["is_rework"], queued_at=v["queued_at"],
            service_started_at=v["service_started_at"],
            service_ended_at=v["service_ended_at"], server=v["server"],
            n_preemptions=v["n_preemptions"], n_jockeys=v["n_jockeys"],
            complained=v["complained"],
            handling_started_at=v["handling_started_at"],
            handling_ended_at=v["handling_ended_at"], handler=v["handler"],
            service_time=v["work"], is_recontact=v["is_recontact"],
            is_escalation=v["is_escalation"], is_unresolved=v["is_unresolved"],
            n_attempts=v["n_attempts"], first_queued_at=v["first_queued_at"],
            **run.integrals, warmup=run.scenario.run.warmup, horizon=horizon, ended_at=now,
            station_names=run.scenario.station_names, class_names=run.scenario.class_names,
            staff=run.inputs.roster)
