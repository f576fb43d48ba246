"""The fast path: the main loop of a *plain* scenario, whose only events are arrivals and ends
of service.

A plain scenario (``kernels.simulate.is_plain`` decides) has stations with a FIFO or priority
(non-preemptive) discipline and no schedule, capacity, breakdowns, vacations, separate lines or
service dependence, and classes with no patience, balking, complaints, retrials, re-contacts or
escalations; arrivals, batches, routes, distributions, server counts, managers serving at their
home station and unresolved contacts (defections) are any.  In such a run no staff member is
ever away, leaving, handling or reserved, no visit is ever stale in its queue, handed back or
preempted, and every service runs in one segment: each handler of the general kernel reduces,
statement for statement, to the few lines below.  The state record, calendar, queues, sequence
numbers and the order of every floating-point operation are those of the general kernel, so the
trace is the same bit for bit (``tests/crosscheck/test_fast_path.py``) and a streamed run pauses
and resumes the same way; only the scratch fields that matter for interrupted services
(``remaining``, ``segment_start``) are left unwritten: a service here is never interrupted, so it
lasts its planned ``service_time``.  Imports numba and kernels._state only.
"""

from __future__ import annotations

from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._state import (
    DONE, EV_ARRIVAL, EV_END_SERVICE, IDLE, IN_SERVICE, O_DEFECTED, O_SERVED, P_ARRIVAL,
    P_END_SERVICE, _advance, _enter_queue, _pop_event, _queue_pop, _queue_push, _schedule,
    _set_calendar,
)


@njit(**NUMBA_OPTIONS)
def _loop_plain(owner, md, n_customers, headroom, drain_at, more):
    """``_loop._loop`` for a plain scenario: pop and handle events until every customer has
    left or the drain limit; returns -1 then, or, when ``more`` customers will come, the
    window's last customer once it has arrived (the caller pauses)."""
    while True:
        if md.cal_size + headroom > md.cal_capacity:
            _set_calendar(owner, md, 2 * md.cal_capacity)
        if md.cal_size == 0 or md.cal_time[0] >= drain_at:
            md.now = drain_at
            return -1
        t, kind, a, _ = _pop_event(md)
        md.now = t
        _advance(md, t)  # at every event, as the general loop
        if kind == EV_END_SERVICE:
            _end_service_plain(md, a)
        else:  # EV_ARRIVAL: the customer arrives, then the next arrival is scheduled
            md.arrived_at[a] = t
            _join_plain(md, md.visit_ptr[a])
            if a + 1 < n_customers:
                _schedule(md, md.arrival_at[a + 1] - t, P_ARRIVAL, EV_ARRIVAL, a + 1, 0)
            elif more != 0:
                return a
        if md.n_left == n_customers:
            return -1


@njit(inline="always", **NUMBA_OPTIONS)
def _join_plain(md, v):
    """_customers._join of a first attempt that can neither balk, be lost nor abandon."""
    s = md.station[v]
    now = md.now
    md.n_attempts[v] = 1
    md.first_queued_at[v] = now
    md.queued_at[v] = now
    level = md.class_level[md.class_idx[md.customer_of[v]] * md.n_stations + s]
    key = _enter_queue(md, v, s, level)
    q = md.queue_start[s]
    md.line_of[v] = q
    md.line_waiting[q] += 1
    _queue_push(md, q, key, v)
    _dispatch_plain(md, s)


@njit(inline="always", **NUMBA_OPTIONS)
def _dispatch_plain(md, s):
    """_service._dispatch on one shared line without stale entries: the head of the queue to
    the lowest-numbered free server, while both exist."""
    q = md.queue_start[s]
    lists = md.staff_lists
    lo, hi = md.servers_start[s], md.servers_end[s]
    while md.n_waiting[s] > 0:
        if md.n_present[s] - md.n_waiting[s] >= hi - lo:
            return  # as many in service as servers: nobody is free (skip the search)
        m = -1
        for j in range(lo, hi):
            if md.staff_visit[lists[j]] == IDLE and md.on_duty[lists[j]] != 0:
                m = lists[j]
                break
        if m < 0:
            return
        v = _queue_pop(md, q)
        md.visit_state[v] = IN_SERVICE
        md.n_waiting[s] -= 1
        md.line_waiting[q] -= 1
        md.service_started_at[v] = md.now
        md.staff_visit[m] = v
        md.token[m] += 1
        _schedule(md, md.service_time[v], P_END_SERVICE, EV_END_SERVICE, m, md.token[m])


@njit(inline="always", **NUMBA_OPTIONS)
def _end_service_plain(md, m):
    """_handlers._end_service of a service in one segment, then ``_staff_free``: the next
    visit (or leaving), and the server takes the head of its queue."""
    v = md.staff_visit[m]
    now = md.now
    md.staff_visit[m] = IDLE
    md.service_ended_at[v] = now
    md.server[v] = m
    md.visit_state[v] = DONE
    md.n_present[md.station[v]] -= 1
    i = md.customer_of[v]
    if v + 1 < md.visit_ptr[i + 1]:
        _join_plain(md, v + 1)
    else:
        md.left_at[i] = now
        md.outcome[i] = O_DEFECTED if md.is_unresolved[v] else O_SERVED
        md.n_left += 1
    if md.staff_visit[m] == IDLE:
        _dispatch_plain(md, md.staff_station[m])
