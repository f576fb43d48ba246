"""Customers: arriving, joining a line (balking, capacity, patience), abandoning, retrying, moving
on to the next visit and leaving (``ServiceSystem``'s customer methods of ``model/counter.py``).

Each function names the method it mirrors; the statements are in the same order, because the
order in which events are scheduled inside a handler is what fixes their sequence numbers (the
last part of the tie-break key). ``md`` is the state record of ``kernels._state``. Imports
numba, kernels._state, kernels._service only.
"""

from __future__ import annotations

import math

from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._service import (
    _dispatch, _free_server, _line_length, _rebalance, _try_preempt,
)
from queue_sim.kernels._state import (
    EV_ABANDON, EV_RECONTACT, GONE, JOIN_RANDOM, JOIN_SHARED, NEED_RETRIES, O_ABANDONED,
    O_BALKED, O_DEFECTED, O_LOST, O_SERVED, P_ABANDON, P_RECONTACT, PLANNED, PREEMPTIVE,
    R_BALK, R_DELAY, R_PATIENCE, R_UNIFORM, WAITING, _enter_queue, _queue_push, _schedule,
)


@njit(**NUMBA_OPTIONS)
def _arrive(md, i):
    """ServiceSystem.arrive: customer ``i`` walks in and heads for its first station."""
    md.arrived_at[i] = md.now
    _join(md, md.visit_ptr[i])


@njit(inline="always", **NUMBA_OPTIONS)
def _retry_value(md, kind, v, a):
    """Retries(v, a)[kind]: a pre-drawn retry number (flags a rerun with more when the visit
    needs more retries than drawn)."""
    if a >= md.n_retries:
        md.status = NEED_RETRIES
        return 1.0
    return md.retry_values[(kind * md.n_retry_rows + md.retry_row[v]) * md.n_retries + a]


@njit(**NUMBA_OPTIONS)
def _join(md, v):
    """ServiceSystem.join: an attempt of visit ``v`` reaches its station: balk, be lost, or
    queue; a retry uses that attempt's patience and balking draws."""
    i = md.customer_of[v]
    s = md.station[v]
    now = md.now
    attempt = md.n_attempts[v]
    md.n_attempts[v] = attempt + 1
    if attempt == 0:
        md.first_queued_at[v] = now
        patience = md.patience[v]
        balk_u = md.balk_u[v]
    else:
        patience = _retry_value(md, R_PATIENCE, v, attempt - 1)
        balk_u = _retry_value(md, R_BALK, v, attempt - 1)
    md.queued_at[v] = now
    md.remaining[v] = md.service_time[v]
    if not md.is_rework[v] and _free_server(md, s) < 0:
        capacity = md.capacity[s]
        if capacity >= 0 and md.n_waiting[s] >= capacity:
            md.visit_state[v] = GONE
            _attempt_failed(md, v, O_LOST)
            return
        if _balks(md, i, v, md.n_waiting[s], balk_u):
            md.visit_state[v] = GONE
            _attempt_failed(md, v, O_BALKED)
            return
    c = md.class_idx[i]
    # _priority_remake: a remake of a class with rework_priority goes on top (level -1)
    level = -1 if (md.is_rework[v] and md.priority_remake[c] != 0) \
        else md.class_level[c * md.n_stations + s]
    key = _enter_queue(md, v, s, level)
    q = _choose_line(md, s, v)
    md.line_of[v] = q
    md.line_waiting[q] += 1
    _queue_push(md, q, key, v)
    if not md.is_rework[v] and math.isfinite(patience):
        _schedule(md, patience, P_ABANDON, EV_ABANDON, v, attempt)
    _dispatch(md, s)
    if md.discipline[s] == PREEMPTIVE and md.visit_state[v] == WAITING:
        _try_preempt(md, s, v)


@njit(**NUMBA_OPTIONS)
def _choose_line(md, s, v):
    """ServiceSystem.choose_line: the queue visit ``v`` joins (a global queue index)."""
    lo = md.queue_start[s]
    rule = md.join_rule[s]
    if rule == JOIN_SHARED:
        return lo
    n = md.queue_end[s] - lo
    if rule == JOIN_RANDOM:
        return lo + min(int(md.line_u[v] * n), n - 1)
    best = lo
    for q in range(lo + 1, lo + n):
        if _line_length(md, q) < _line_length(md, best):
            best = q
    return best


@njit(**NUMBA_OPTIONS)
def _balks(md, i, v, n_waiting, balk_u):
    """ServiceSystem._balks: the class's balking rule, given ``n_waiting`` in the queue."""
    c = md.class_idx[i]
    if md.has_balking[c] == 0:
        return False
    if md.max_queue[c] >= 0 and n_waiting >= md.max_queue[c]:
        return True
    lo, hi = md.join_start[c], md.join_end[c]
    if hi > lo:
        return balk_u >= md.join_probability[lo + min(n_waiting, hi - lo - 1)]
    return False


@njit(**NUMBA_OPTIONS)
def _abandon(md, v, attempt):
    """ServiceSystem.abandon: patience ran out; leave (or retry) if still waiting in that
    attempt and never served."""
    if (md.visit_state[v] != WAITING or not math.isnan(md.service_started_at[v])
            or attempt != md.n_attempts[v] - 1):
        return
    s = md.station[v]
    md.visit_state[v] = GONE
    md.n_waiting[s] -= 1
    md.line_waiting[md.line_of[v]] -= 1
    md.n_present[s] -= 1
    _attempt_failed(md, v, O_ABANDONED)
    if md.jockeying[s] != 0:
        _rebalance(md, s)


@njit(**NUMBA_OPTIONS)
def _attempt_failed(md, v, outcome):
    """ServiceSystem.attempt_failed: retry after a delay if the class retries this outcome
    and has attempts left, otherwise leave with it."""
    c = md.class_idx[md.customer_of[v]]
    attempt = md.n_attempts[v] - 1
    if (md.retry_on[c] >> outcome) & 1 and (md.retry_max[c] < 0
                                            or attempt + 1 < md.retry_max[c]):
        retry_u = _retry_value(md, R_UNIFORM, v, attempt)
        delay = _retry_value(md, R_DELAY, v, attempt)
        if retry_u < md.retry_probability[c]:
            md.visit_state[v] = PLANNED
            _schedule(md, delay, P_RECONTACT, EV_RECONTACT, v, 0)
            return
    _leave(md, md.customer_of[v], outcome)


@njit(inline="always", **NUMBA_OPTIONS)
def _leave(md, i, outcome):
    """ServiceSystem.leave (the main loop stops once every customer has left)."""
    md.left_at[i] = md.now
    md.outcome[i] = outcome
    md.n_left += 1


@njit(**NUMBA_OPTIONS)
def _next_visit_or_leave(md, v):
    """ServiceSystem.next_visit_or_leave: the next visit now, a repeat contact after its
    delay, or leave (served, or defected)."""
    i = md.customer_of[v]
    if v + 1 < md.visit_ptr[i + 1]:
        if md.is_recontact[v + 1]:
            _schedule(md, md.delay_before[v + 1], P_RECONTACT, EV_RECONTACT, v + 1, 0)
        else:
            _join(md, v + 1)
    else:
        _leave(md, i, O_DEFECTED if md.is_unresolved[v] else O_SERVED)
