"""Servers and queues: who is free, dispatching, the start and end of service segments, hand-backs,
preemption and jockeying (``ServiceSystem``'s service methods of ``model/counter.py``).

Each function names the method it mirrors; the statements are in the same order, because the
order in which events are scheduled inside a handler is what fixes their sequence numbers (the
last part of the tie-break key). ``md`` is the state record of ``kernels._state``. Imports
numba, kernels._state only.
"""

from __future__ import annotations

import math

from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._state import (
    BD_BUSY, ENTRY_SPAN, EV_BREAK_DOWN, EV_END_SERVICE, IDLE, IN_SERVICE, JOIN_SHARED,
    P_END_SERVICE, P_STAFF, WAITING, _queue_pop, _queue_push, _queue_remove, _schedule,
)


@njit(inline="always", **NUMBA_OPTIONS)
def _is_free(md, m):
    """StaffMember.is_free: can take a customer from the queue now (the same conjunction,
    busiest test first)."""
    return (md.staff_visit[m] == IDLE and md.serves[m] != 0 and md.on_duty[m] != 0
            and md.leaving[m] == 0 and md.away[m] == 0 and md.handling[m] == IDLE
            and md.reserved[m] == IDLE)


@njit(inline="always", **NUMBA_OPTIONS)
def _free_server(md, s):
    """Station.free_server: the lowest-numbered server who can take a customer, or -1."""
    lists = md.staff_lists
    for j in range(md.servers_start[s], md.servers_end[s]):
        m = lists[j]
        if _is_free(md, m):
            return m
    return -1


@njit(inline="always", **NUMBA_OPTIONS)
def _line_length(md, q):
    """Station.line_length: waiting in line ``q``, plus one if its server is serving."""
    return md.line_waiting[q] + (1 if md.staff_visit[md.line_server[q]] != IDLE else 0)


@njit(**NUMBA_OPTIONS)
def _dispatch(md, s):
    """ServiceSystem.dispatch: head of the queue to the lowest-numbered free server; with
    separate lines, each free server takes the head of its own line, then rebalance."""
    if md.join_rule[s] != JOIN_SHARED:
        for q in range(md.queue_start[s], md.queue_end[s]):
            m = md.line_server[q]
            if md.line_waiting[q] > 0 and _is_free(md, m):
                _start_service(md, m, _pop_line(md, q))
        if md.jockeying[s] != 0:
            _rebalance(md, s)
        return
    q = md.queue_start[s]
    while md.n_waiting[s] > 0:
        m = _free_server(md, s)
        if m < 0:
            return
        _start_service(md, m, _pop_line(md, q))


@njit(inline="always", **NUMBA_OPTIONS)
def _pop_line(md, q):
    """ServiceSystem.pop_line: the head of queue ``q`` (lazy deletion: skip visits gone, or
    back with a new entry)."""
    while True:
        key = md.heap_key[md.heap_start[q]]
        v = _queue_pop(md, q)
        if md.visit_state[v] == WAITING and key == md.queue_key[v]:
            return v


@njit(**NUMBA_OPTIONS)
def _rebalance(md, s):
    """ServiceSystem.rebalance: jockeying from the tail of the longest line to the back of the
    shortest while they differ by 2 or more (ties: lowest-numbered line)."""
    lo, hi = md.queue_start[s], md.queue_end[s]
    while True:
        longest = lo
        shortest = lo
        for q in range(lo + 1, hi):
            if _line_length(md, q) > _line_length(md, longest):
                longest = q
            if _line_length(md, q) < _line_length(md, shortest):
                shortest = q
        if _line_length(md, longest) - _line_length(md, shortest) < 2:
            return
        base = md.heap_start[longest]
        pos = -1
        tail_key = 0
        for j in range(base, base + md.heap_size[longest]):
            w = md.heap_visit[j]
            if md.visit_state[w] == WAITING and md.heap_key[j] == md.queue_key[w] and (
                    pos < 0 or md.heap_key[j] > tail_key):
                pos = j
                tail_key = md.heap_key[j]
        v = md.heap_visit[pos]
        _queue_remove(md, longest, pos - base)
        md.line_waiting[longest] -= 1
        entry = md.next_entry
        md.next_entry = entry + 1
        key = (tail_key // ENTRY_SPAN) * ENTRY_SPAN + entry  # same level, a new entry
        md.queue_key[v] = key
        md.line_of[v] = shortest
        md.line_waiting[shortest] += 1
        _queue_push(md, shortest, key, v)
        md.n_jockeys[v] += 1
        m = md.line_server[shortest]
        if _is_free(md, m):
            _start_service(md, m, _pop_line(md, shortest))


@njit(inline="always", **NUMBA_OPTIONS)
def _start_service(md, m, v):
    """ServiceSystem.start_service."""
    s = md.station[v]
    md.visit_state[v] = IN_SERVICE
    md.n_waiting[s] -= 1
    md.line_waiting[md.line_of[v]] -= 1
    if math.isnan(md.service_started_at[v]):
        md.service_started_at[v] = md.now
        if md.has_dependence[s] != 0:
            md.remaining[v] = _dependent_service(md, s, m, v)
            md.work[v] = md.remaining[v]
    md.staff_visit[m] = v
    _begin_segment(md, m)


@njit(inline="always", **NUMBA_OPTIONS)
def _dependent_service(md, s, m, v):
    """ServiceSystem.dependent_service: ``S0 * f * g * r + per_wait * max(0, W - reference)``."""
    base = md.remaining[v]
    if md.queue_threshold[s] >= 0 and md.n_waiting[s] >= md.queue_threshold[s]:
        base = base * md.queue_factor[s]
    window = md.fatigue_window[s]
    if window > 0.0:
        busy = md.fatigue[m] * math.exp(-(md.now - md.fatigue_at[m]) / window)
        base = base * (1.0 + md.fatigue_factor[s] * max(0.0, busy - md.fatigue_threshold[s]))
    if md.rudeness_window[s] > 0.0:
        base = base * _meet_customer(md, s, m, v)
    waited = md.now - md.queued_at[v]
    return base + md.per_wait[s] * max(0.0, waited - md.wait_reference[s])


@njit(inline="always", **NUMBA_OPTIONS)
def _meet_customer(md, s, m, v):
    """ServiceSystem.meet_customer: the rudeness multiplier of ``S0``; a difficult customer
    raises ``m``'s rudeness level by 1 and every other server's of the station by
    ``witness_share``."""
    window = md.rudeness_window[s]
    level = _rudeness_now(md, m, window)
    factor = 1.0 + md.rudeness_factor[s] * level
    if md.rude_u[v] < min(1.0, md.difficult_probability[s] + md.contagion[s] * level):
        factor = factor * md.difficult_factor[s]
        for k in range(md.servers_start[s], md.servers_end[s]):
            other = md.staff_lists[k]
            raised = 1.0 if other == m else md.witness_share[s]
            md.rudeness[other] = _rudeness_now(md, other, window) + raised
            md.rudeness_at[other] = md.now
    return factor


@njit(inline="always", **NUMBA_OPTIONS)
def _rudeness_now(md, m, window):
    """ServiceSystem.rudeness_now: ``R exp(-dt / window)``."""
    return md.rudeness[m] * math.exp(-(md.now - md.rudeness_at[m]) / window)


@njit(inline="always", **NUMBA_OPTIONS)
def _update_fatigue(md, m, busy):
    """ServiceSystem.update_fatigue: the busy fraction brought up to now (``busy``: what ``m``
    was doing since the last update)."""
    if md.staff_station[m] < 0:
        return
    window = md.fatigue_window[md.staff_station[m]]
    if window > 0.0:
        decay = math.exp(-(md.now - md.fatigue_at[m]) / window)
        md.fatigue[m] = busy + (md.fatigue[m] - busy) * decay
        md.fatigue_at[m] = md.now


@njit(inline="always", **NUMBA_OPTIONS)
def _begin_segment(md, m):
    """ServiceSystem.begin_segment: schedule the end of service, and a busy-clock breakdown."""
    _update_fatigue(md, m, 0.0)
    md.segment_start[m] = md.now
    md.token[m] += 1
    _schedule(md, md.remaining[md.staff_visit[m]], P_END_SERVICE, EV_END_SERVICE, m,
              md.token[m])
    if md.breakdowns[md.staff_station[m]] == BD_BUSY and md.is_manager[m] == 0:
        md.fail_token[m] += 1
        _schedule(md, md.time_to_failure[m], P_STAFF, EV_BREAK_DOWN, m, md.fail_token[m])


@njit(inline="always", **NUMBA_OPTIONS)
def _end_segment(md, m):
    """ServiceSystem.end_segment: keep the remaining work (and busy-clock failure time)."""
    _update_fatigue(md, m, 1.0)
    elapsed = md.now - md.segment_start[m]
    md.remaining[md.staff_visit[m]] -= elapsed
    if md.breakdowns[md.staff_station[m]] == BD_BUSY and md.is_manager[m] == 0:
        md.time_to_failure[m] -= elapsed
        md.fail_token[m] += 1


@njit(**NUMBA_OPTIONS)
def _hand_back(md, m):
    """ServiceSystem.hand_back: the customer goes back to the queue, keeping its entry."""
    v = md.staff_visit[m]
    if md.away[m] == 0:
        _end_segment(md, m)
    md.staff_visit[m] = IDLE
    md.token[m] += 1
    s = md.station[v]
    md.visit_state[v] = WAITING
    md.n_waiting[s] += 1
    md.line_waiting[md.line_of[v]] += 1
    md.n_preemptions[v] += 1
    _queue_push(md, md.line_of[v], md.queue_key[v], v)


@njit(**NUMBA_OPTIONS)
def _try_preempt(md, s, v):
    """ServiceSystem.try_preempt: bump the worst customer in service if ``v`` outranks it."""
    victim, worst = -1, 0
    for j in range(md.servers_start[s], md.servers_end[s]):
        m = md.staff_lists[j]
        if (md.staff_visit[m] != IDLE and md.away[m] == 0 and md.leaving[m] == 0
                and md.reserved[m] == IDLE):
            key = md.queue_key[md.staff_visit[m]]
            if victim < 0 or key > worst:
                victim, worst = m, key
    if victim >= 0 and worst // ENTRY_SPAN > md.queue_key[v] // ENTRY_SPAN:
        _hand_back(md, victim)
        _dispatch(md, s)
