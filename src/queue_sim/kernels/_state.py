"""Kernel state layout: integer codes, the state record, the event calendar and station queues.

The state ``md`` is a record (``kernels._record``) whose array fields are raw pointers into
arrays the caller owns and whose scalar fields are the simulation clock and counters; under
``NUMBA_DISABLE_JIT=1`` it is a plain namespace of numpy arrays, so the same handler code runs
as Python.  Imports numba, numpy, trace and kernels._record only.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._record import DataPtr, ModelType, _ptr, new_record
from queue_sim.trace import Outcome, Priority

# -- codes mirroring queue_sim.trace and queue_sim.model ------------------------------------
P_END_SERVICE = int(Priority.END_SERVICE)
P_END_HANDLING = int(Priority.END_HANDLING)
P_STAFF = int(Priority.STAFF)
P_ABANDON = int(Priority.ABANDON)
P_ARRIVAL = int(Priority.ARRIVAL)
P_RECONTACT = int(Priority.RECONTACT)

O_SERVED = int(Outcome.SERVED)
O_ABANDONED = int(Outcome.ABANDONED)
O_BALKED = int(Outcome.BALKED)
O_LOST = int(Outcome.LOST)
O_DEFECTED = int(Outcome.DEFECTED)

IDLE = -1
# visit states (model.station): PLANNED, WAITING, IN_SERVICE, DONE, GONE, COMPLAINT
PLANNED, WAITING, IN_SERVICE, DONE, GONE, COMPLAINT = range(6)

# event kinds: which handler a calendar entry calls
EV_ARRIVAL = 0        # ServiceSystem.arrive
EV_SHIFT = 1          # ServiceSystem.change_shift -> set_clerks
EV_END_SERVICE = 2    # ServiceSystem.end_service
EV_END_HANDLING = 3   # ServiceSystem.end_handling
EV_ABANDON = 4        # ServiceSystem.abandon
EV_BREAK_DOWN = 5     # ServiceSystem.break_down
EV_REPAIRED = 6       # ServiceSystem.repaired
EV_VACATION_OVER = 7  # ServiceSystem.vacation_over
EV_ANNOUNCED = 8      # ServiceSystem.announced
EV_RECONTACT = 9      # ServiceSystem.join of a repeat contact or a retry

# scenario literals, coded by their position here
POLICIES = ("remake_only", "drop_everything", "finish_current", "queue", "dedicated")
REMAKE_ONLY, DROP_EVERYTHING, FINISH_CURRENT, QUEUE, DEDICATED = range(5)
DISCIPLINES = ("fifo", "priority", "preemptive")
FIFO, PRIORITY, PREEMPTIVE = range(3)
BREAKDOWN_CLOCKS = ("none", "always", "busy")
BD_NONE, BD_ALWAYS, BD_BUSY = range(3)
VACATION_MODES = ("none", "multiple", "single")
VAC_NONE, VAC_MULTIPLE, VAC_SINGLE = range(3)
JOIN_RULES = ("shared", "shortest", "random")  # shared: one line; else stations.<s>.lines.join
JOIN_SHARED, JOIN_SHORTEST, JOIN_RANDOM = range(3)
ACK_BY = ("none", "handler", "clerk")  # md.has_ack: who acknowledges the queue
ACK_NONE, ACK_HANDLER, ACK_CLERK = range(3)

# kernel return status
OK = 0
NEED_EPISODES = 1  # a server used more episode draws than given: rerun with more
NEED_RETRIES = 2   # a visit needed more retry draws than given: rerun with more
NEED_CUSTOMERS = 3  # a window's last customer arrived and more will come: pause (streaming)

# a streamed run's window (int64 array): where it starts, whether more customers come, the
# counters saved at a pause, and whether the run takes the fast path (``kernels._plain``);
# WINDOW_CLOCK (float64 array) saves the clock
WINDOW_FIELDS = ("first_customer", "first_visit", "more", "resume", "pending", "n_left",
                 "next_entry", "seq", "complaint_head", "complaint_tail", "cal_size", "plain")
(W_FIRST_CUSTOMER, W_FIRST_VISIT, W_MORE, W_RESUME, W_PENDING, W_N_LEFT, W_NEXT_ENTRY, W_SEQ,
 W_COMPLAINT_HEAD, W_COMPLAINT_TAIL, W_CAL_SIZE, W_PLAIN) = range(len(WINDOW_FIELDS))
WINDOW_CLOCK = ("now", "last_time")

# calendar key = priority * SEQ_SPAN + sequence; queue key = (level + 1) * ENTRY_SPAN + entry
SEQ_SPAN = 1 << 58
ENTRY_SPAN = 1 << 40

# episode streams: md.episodes[(stream * n_staff + m) * n_episodes + k], already transformed
E_UPTIME, E_REPAIR, E_VACATION = range(3)
# retry draws: md.retry_values[(kind * n_retry_rows + retry_row[v]) * n_retries + attempt]
R_UNIFORM, R_DELAY, R_PATIENCE, R_BALK = range(4)

# rows of the field-major tables the wrapper passes to _run
STAFF_FIELDS = ("staff_station", "is_manager", "serves", "on_duty", "leaving", "away",
                "staff_visit", "token", "handling", "reserved", "fail_token", "episode")
# a station's lines are queues queue_start .. queue_end - 1 (one for a shared line); the
# service-dependence settings: queue_threshold -1 = no load rule, and STATION_PARAMS (floats)
STATION_FIELDS = ("capacity", "discipline", "breakdowns", "bd_hand_back", "vacations",
                  "shift_hand_back", "sched_start", "sched_end", "servers_start",
                  "servers_end", "clerks_start", "clerks_end", "queue_start", "queue_end",
                  "join_rule", "jockeying", "has_dependence", "queue_threshold",
                  "n_waiting", "n_present")
STATION_PARAMS = ("per_wait", "wait_reference", "queue_factor", "fatigue_window",
                  "fatigue_threshold", "fatigue_factor",  # fatigue_window 0: no fatigue rule
                  "rudeness_window", "difficult_probability", "contagion", "difficult_factor",
                  "rudeness_factor", "witness_share")  # rudeness_window 0: no rudeness rule
# rows of the per-server float table: service segment start, time to failure, the fatigue
# and rudeness levels and when each was last brought up to date
STAFF_TIMES = ("segment_start", "time_to_failure", "fatigue", "fatigue_at", "rudeness",
               "rudeness_at")
# per queue: its heap slice, the number waiting in it, and its server (-1 for a shared line)
QUEUE_FIELDS = ("heap_start", "heap_size", "line_waiting", "line_server")
CLASS_FIELDS = ("max_queue", "join_start", "join_end", "has_balking", "priority_remake",
                "retry_on", "retry_max")
VISIT_FIELDS = ("customer_of", "visit_state", "queue_key", "line_of")
# the queues' heaps side by side (QUEUE_FIELDS heap_start / heap_size give each one's slice)
HEAP_FIELDS = ("heap_key", "heap_visit")

_F8, _I8, _U8 = DataPtr(types.float64), DataPtr(types.int64), DataPtr(types.uint8)
_FIELDS = (
    # the visit plan (Draws), read only
    [("arrival_at", _F8), ("class_idx", _I8), ("visit_ptr", _I8), ("station", _I8),
     ("service_time", _F8), ("patience", _F8), ("balk_u", _F8), ("is_wrong", _U8),
     ("handling_time", _F8), ("is_rework", _U8), ("delay_before", _F8),
     ("is_recontact", _U8), ("is_unresolved", _U8), ("retry_row", _I8), ("retry_values", _F8),
     ("line_u", _F8), ("rude_u", _F8)]
    # the scenario, read only (class_level[c * n_stations + s])
    + [(name, _I8) for name in CLASS_FIELDS]
    + [("join_probability", _F8), ("class_level", _I8), ("schedule_at", _F8),
       ("schedule_servers", _I8), ("staff_lists", _I8), ("episodes", _F8),
       ("retry_probability", _F8)]
    # live state: stations, staff, visits, complaints
    + [(name, _F8) for name in STATION_PARAMS]
    + [(name, _I8) for name in STATION_FIELDS + QUEUE_FIELDS + STAFF_FIELDS + VISIT_FIELDS
       + HEAP_FIELDS]
    + [(name, _F8) for name in STAFF_TIMES]
    + [("remaining", _F8),
       ("complaints", _I8)]
    # the trace being written
    + [("arrived_at", _F8), ("left_at", _F8), ("outcome", _I8), ("acknowledged_at", _F8),
       ("queued_at", _F8), ("service_started_at", _F8), ("service_ended_at", _F8),
       ("server", _I8), ("n_preemptions", _I8), ("n_jockeys", _I8), ("complained", _U8),
       ("handling_started_at", _F8), ("handling_ended_at", _F8), ("handler", _I8),
       ("busy_time", _F8), ("handling_time_total", _F8), ("on_duty_time", _F8),
       ("queue_area", _F8), ("system_area", _F8), ("n_attempts", _I8),
       ("first_queued_at", _F8), ("work", _F8)]  # work: Trace.service_time
    # the event calendar: arrays owned by the record (it grows), pointers for the heap code
    + [("cal_time_store", types.float64[::1]), ("cal_int_store", types.int64[:, ::1]),
       ("cal_time", _F8), ("cal_key", _I8), ("cal_kind", _I8), ("cal_a", _I8),
       ("cal_b", _I8)]
    # scalars: sizes and settings, then the clock and counters (ServiceSystem attributes)
    + [(name, types.int64) for name in (
        "n_customers", "n_stations", "n_staff", "n_episodes", "n_retry_rows", "n_retries",
        "policy", "has_ack",
        "managers_start", "managers_end", "n_left", "next_entry", "seq", "complaint_head",
        "complaint_tail", "status", "cal_size", "cal_capacity")]
    + [(name, types.float64) for name in (
        "ack_per_customer", "ack_per_announcement", "warmup", "horizon", "now", "last_time")]
)

MODEL_TYPE = ModelType(_FIELDS) if ModelType is not None else None


@njit(**NUMBA_OPTIONS)
def _new_model():  # noqa: ANN202
    """A new, uninitialised state record (its owner: keep it alive while ``_borrow`` views
    of it are in use)."""
    return new_record(MODEL_TYPE)


# -- the event calendar: a binary heap keyed (time, priority * SEQ_SPAN + sequence) ----------
@njit(**NUMBA_OPTIONS)
def _set_calendar(owner, md, capacity):
    """Give the calendar room for ``capacity`` events, keeping the ones it holds (the arrays
    belong to ``owner``; ``md`` is its borrowed view)."""
    time = np.empty(capacity)
    ints = np.empty((4, capacity), np.int64)
    for j in range(md.cal_size):  # a loop, not slices: slices cost seconds of compile time
        time[j] = md.cal_time[j]
        ints[0, j] = md.cal_key[j]
        ints[1, j] = md.cal_kind[j]
        ints[2, j] = md.cal_a[j]
        ints[3, j] = md.cal_b[j]
    owner.cal_time_store = time
    owner.cal_int_store = ints
    md.cal_time = _ptr(time)
    md.cal_key = _ptr(ints[0])
    md.cal_kind = _ptr(ints[1])
    md.cal_a = _ptr(ints[2])
    md.cal_b = _ptr(ints[3])
    md.cal_capacity = capacity


@njit(inline="always", **NUMBA_OPTIONS)
def _schedule(md, delay, priority, kind, a, b):
    """ServiceSystem.at: an event ``delay`` from now; its sequence is the order scheduled."""
    seq = md.seq
    md.seq = seq + 1
    t = md.now + delay
    key = priority * SEQ_SPAN + seq
    n = md.cal_size
    if n == md.cal_capacity:
        raise RuntimeError("event calendar full (the main loop keeps headroom; a kernel bug)")
    md.cal_size = n + 1
    time, keys, kinds, aa, bb = md.cal_time, md.cal_key, md.cal_kind, md.cal_a, md.cal_b
    j = n
    while j > 0:  # sift the hole up
        p = (j - 1) >> 1
        pt = time[p]
        if pt < t or (pt == t and keys[p] < key):
            break
        time[j] = pt
        keys[j] = keys[p]
        kinds[j] = kinds[p]
        aa[j] = aa[p]
        bb[j] = bb[p]
        j = p
    time[j] = t
    keys[j] = key
    kinds[j] = kind
    aa[j] = a
    bb[j] = b


@njit(inline="always", **NUMBA_OPTIONS)
def _pop_event(md):
    """Remove the first event; returns (time, kind, a, b)."""
    time, keys, kinds, aa, bb = md.cal_time, md.cal_key, md.cal_kind, md.cal_a, md.cal_b
    t0, kind0, a0, b0 = time[0], kinds[0], aa[0], bb[0]
    n = md.cal_size - 1
    md.cal_size = n
    if n > 0:
        t, key, kind, a, b = time[n], keys[n], kinds[n], aa[n], bb[n]
        j = 0
        while True:  # sift the hole down
            c = 2 * j + 1
            if c >= n:
                break
            if c + 1 < n and (time[c + 1] < time[c] or (
                    time[c + 1] == time[c] and keys[c + 1] < keys[c])):
                c += 1
            ct = time[c]
            if t < ct or (t == ct and key < keys[c]):
                break
            time[j] = ct
            keys[j] = keys[c]
            kinds[j] = kinds[c]
            aa[j] = aa[c]
            bb[j] = bb[c]
            j = c
        time[j] = t
        keys[j] = key
        kinds[j] = kind
        aa[j] = a
        bb[j] = b
    return t0, kind0, a0, b0


# -- queues (a station's shared line, or one line per server): binary heaps keyed
# (level, entry), lazy deletion of stale entries (visits gone, or back with a new entry) -----
@njit(inline="always", **NUMBA_OPTIONS)
def _enter_queue(md, v, s, level):
    """ServiceSystem.join's bookkeeping for visit ``v`` queueing at station ``s`` at ``level``:
    a new entry number, its key, the counts (the caller picks the line and pushes the key)."""
    entry = md.next_entry
    md.next_entry = entry + 1
    key = (level + 1) * ENTRY_SPAN + entry
    md.queue_key[v] = key
    md.visit_state[v] = WAITING
    md.n_waiting[s] += 1
    md.n_present[s] += 1
    return key


@njit(inline="always", **NUMBA_OPTIONS)
def _queue_push(md, q, key, v):
    """heapq.heappush(st.lines[q], (level, entry, v)) on queue ``q``'s slice of the heap."""
    base = md.heap_start[q]
    n = md.heap_size[q]
    md.heap_size[q] = n + 1
    hk, hv = md.heap_key, md.heap_visit
    j = n
    while j > 0:
        p = (j - 1) >> 1
        if hk[base + p] < key:
            break
        hk[base + j] = hk[base + p]
        hv[base + j] = hv[base + p]
        j = p
    hk[base + j] = key
    hv[base + j] = v


@njit(inline="always", **NUMBA_OPTIONS)
def _queue_pop(md, q):
    """heapq.heappop(st.lines[q]): the visit with the smallest (level, entry) key."""
    base = md.heap_start[q]
    top = md.heap_visit[base]
    _queue_remove(md, q, 0)
    return top


@njit(inline="always", **NUMBA_OPTIONS)
def _queue_remove(md, q, i):
    """Remove the item at position ``i`` of queue ``q``'s heap: the last item fills the hole
    and sifts down (or up, when removing from the middle)."""
    base = md.heap_start[q]
    hk, hv = md.heap_key, md.heap_visit
    n = md.heap_size[q] - 1
    md.heap_size[q] = n
    if i < n:
        key, v = hk[base + n], hv[base + n]
        j = i
        while j > 0:  # sift up (only possible when i > 0)
            p = (j - 1) >> 1
            if hk[base + p] < key:
                break
            hk[base + j] = hk[base + p]
            hv[base + j] = hv[base + p]
            j = p
        while True:
            c = 2 * j + 1
            if c >= n:
                break
            if c + 1 < n and hk[base + c + 1] < hk[base + c]:
                c += 1
            if key < hk[base + c]:
                break
            hk[base + j] = hk[base + c]
            hv[base + j] = hv[base + c]
            j = c
        hk[base + j] = key
        hv[base + j] = v


@njit(inline="always", **NUMBA_OPTIONS)
def _advance(md, now):
    """ServiceSystem.advance: accumulate the time integrals of [warmup, horizon] up to now."""
    lo = max(md.last_time, md.warmup)
    hi = min(now, md.horizon)
    if hi > lo:
        dt = hi - lo
        for s in range(md.n_stations):
            md.queue_area[s] += md.n_waiting[s] * dt
            md.system_area[s] += md.n_present[s] * dt
        for m in range(md.n_staff):
            if md.on_duty[m]:
                md.on_duty_time[m] += dt
            if md.staff_visit[m] != IDLE and not md.away[m]:
                md.busy_time[m] += dt
            if md.handling[m] != IDLE:
                md.handling_time_total[m] += dt
    md.last_time = now
