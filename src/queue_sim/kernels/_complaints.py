"""Complaints: the complaint queue, choosing a manager under the recovery policy, handling and
acknowledgements (``model/complaints.py`` and ``policies.assign_complaints``).

Each function names the method it mirrors; the statements are in the same order, because the
order in which events are scheduled inside a handler is what fixes their sequence numbers (the
last part of the tie-break key). ``md`` is the state record of ``kernels._state``. Imports
numba, kernels._state, kernels._service, kernels._customers only.
"""

from __future__ import annotations

import math

from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._customers import _next_visit_or_leave
from queue_sim.kernels._service import _dispatch, _end_segment, _hand_back
from queue_sim.kernels._state import (
    ACK_HANDLER, ACK_NONE, COMPLAINT, DROP_EVERYTHING, EV_ANNOUNCED, EV_END_HANDLING,
    FINISH_CURRENT, IDLE, P_END_HANDLING, P_STAFF, REMAKE_ONLY, WAITING, _schedule,
)


@njit(**NUMBA_OPTIONS)
def _complain(md, v):
    """ServiceSystem.complain: the order of visit ``v`` went wrong."""
    md.complained[v] = True
    if md.policy == REMAKE_ONLY:
        _next_visit_or_leave(md, v)
        return
    md.visit_state[v] = COMPLAINT
    tail = md.complaint_tail
    md.complaints[tail] = v
    md.complaint_tail = tail + 1
    _assign_complaints(md)


@njit(**NUMBA_OPTIONS)
def _first_manager(md, want_free):
    """policies._first: the first manager neither handling nor promised, who is free (on duty,
    here, not serving) if ``want_free`` and otherwise serving and here; -1 if none."""
    for j in range(md.managers_start, md.managers_end):
        m = md.staff_lists[j]
        if md.handling[m] != IDLE or md.reserved[m] != IDLE:
            continue
        if want_free:
            if md.on_duty[m] != 0 and md.away[m] == 0 and md.staff_visit[m] == IDLE:
                return m
        elif md.staff_visit[m] != IDLE and md.away[m] == 0:
            return m
    return -1


@njit(**NUMBA_OPTIONS)
def _assign_complaints(md):
    """policies.assign_complaints: hand waiting complaints, oldest first, to managers."""
    while md.complaint_tail > md.complaint_head:
        c = md.complaints[md.complaint_head]
        free = _first_manager(md, True)
        if free >= 0:
            md.complaint_head += 1
            _start_handling(md, free, c)
            continue
        serving = _first_manager(md, False)
        if serving < 0:
            return
        policy = md.policy
        if policy == DROP_EVERYTHING:
            md.complaint_head += 1
            s = md.staff_station[serving]
            _hand_back(md, serving)
            _start_handling(md, serving, c)
            _dispatch(md, s)
        elif policy == FINISH_CURRENT:
            md.complaint_head += 1
            md.reserved[serving] = c
        else:
            return


@njit(**NUMBA_OPTIONS)
def _start_handling(md, m, c):
    """ServiceSystem.start_handling: acknowledge the station's queue, then handle ``c``."""
    now = md.now
    md.handling[m] = c
    md.handling_started_at[c] = now
    md.handler[c] = m
    duration = md.handling_time[c]
    if md.has_ack != ACK_NONE:
        s = md.station[c]
        n_waiting = 0
        for q in range(md.queue_start[s], md.queue_end[s]):  # every line of the station
            base = md.heap_start[q]
            for j in range(base, base + md.heap_size[q]):
                w = md.heap_visit[j]
                if md.visit_state[w] == WAITING and md.heap_key[j] == md.queue_key[w]:
                    n_waiting += 1
        clerk = m if md.has_ack == ACK_HANDLER else _announcer(md, s)
        if n_waiting > 0 and clerk != IDLE:
            cost = md.ack_per_announcement + md.ack_per_customer * n_waiting
            if clerk == m:
                duration += cost
            else:
                _announce(md, clerk, cost)
            for q in range(md.queue_start[s], md.queue_end[s]):
                base = md.heap_start[q]
                for j in range(base, base + md.heap_size[q]):
                    w = md.heap_visit[j]
                    if md.visit_state[w] == WAITING and md.heap_key[j] == md.queue_key[w]:
                        i = md.customer_of[w]
                        if math.isnan(md.acknowledged_at[i]):
                            md.acknowledged_at[i] = now
    _schedule(md, duration, P_END_HANDLING, EV_END_HANDLING, m, 0)


@njit(**NUMBA_OPTIONS)
def _announcer(md, s):
    """Station.announcer: the lowest-numbered clerk on duty and present, or -1."""
    lists = md.staff_lists
    for j in range(md.clerks_start[s], md.clerks_end[s]):
        m = lists[j]
        if md.on_duty[m] != 0 and md.away[m] == 0:
            return m
    return IDLE


@njit(**NUMBA_OPTIONS)
def _announce(md, m, duration):
    """ServiceSystem.announce: the clerk stops; a customer in service waits meanwhile."""
    md.away[m] = 1
    if md.staff_visit[m] != IDLE:
        _end_segment(md, m)
        md.token[m] += 1
    _schedule(md, duration, P_STAFF, EV_ANNOUNCED, m, 0)
