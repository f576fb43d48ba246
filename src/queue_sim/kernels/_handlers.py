"""The event handlers of the kernel, one function per method of ``model/counter.py``.

Each function names the method it mirrors; the statements are in the same order, because the
order in which events are scheduled inside a handler is what fixes their sequence numbers (the
last part of the tie-break key).  ``md`` is the state record of ``kernels._state``.  Imports numba and kernels._state only.
"""

from __future__ import annotations

import math

from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._state import (
    ACK_HANDLER, ACK_NONE, BD_ALWAYS, BD_BUSY, COMPLAINT, DONE, DROP_EVERYTHING, E_REPAIR,
    E_UPTIME, E_VACATION, ENTRY_SPAN, EV_ABANDON, EV_ANNOUNCED, EV_BREAK_DOWN, EV_END_HANDLING,
    EV_END_SERVICE, EV_RECONTACT, EV_REPAIRED, EV_VACATION_OVER, FINISH_CURRENT, GONE, IDLE,
    IN_SERVICE, JOIN_RANDOM, JOIN_SHARED, NEED_EPISODES, NEED_RETRIES, O_ABANDONED, O_BALKED,
    O_DEFECTED, O_LOST, O_SERVED, P_ABANDON, P_END_HANDLING, P_END_SERVICE, P_RECONTACT,
    P_STAFF, PLANNED, PREEMPTIVE, R_BALK, R_DELAY, R_PATIENCE, R_UNIFORM, REMAKE_ONLY,
    VAC_MULTIPLE, VAC_NONE, WAITING, _queue_pop, _queue_push, _queue_remove, _schedule,
)

# -- customers -----------------------------------------------------------------------------


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
    entry = md.next_entry
    md.next_entry = entry + 1
    key = (level + 1) * ENTRY_SPAN + entry
    md.queue_key[v] = key
    md.visit_state[v] = WAITING
    md.n_waiting[s] += 1
    md.n_present[s] += 1
    q = _choose_line(md, s, v)
    md.line_of[v] = q
    md.line_waiting[q] += 1
    _queue_push(md, q, key, v)
    if not md.is_rework[v] and math.isfinite(patience):
        _schedule(md, patience, P_ABANDON, EV_ABANDON, v, attempt)
    _dispatch(md, s)
    if md.discipline[s] == PREEMPTIVE and md.visit_state[v] == WAITING:
        _try_preempt(md, s, v)


@njit(inline="always", **NUMBA_OPTIONS)
def _line_length(md, q):
    """Station.line_length: waiting in line ``q``, plus one if its server is serving."""
    return md.line_waiting[q] + (1 if md.staff_visit[md.line_server[q]] != IDLE else 0)


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


# -- service -------------------------------------------------------------------------------


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
def _end_service(md, m, token):
    """ServiceSystem.end_service (stale if the service was paused or handed back)."""
    if token != md.token[m]:
        return
    v = md.staff_visit[m]
    _end_segment(md, m)
    md.staff_visit[m] = IDLE
    md.service_ended_at[v] = md.now
    md.server[v] = m
    md.visit_state[v] = DONE
    md.n_present[md.station[v]] -= 1
    if md.is_wrong[v]:
        _complain(md, v)
    else:
        _next_visit_or_leave(md, v)
    _staff_free(md, m)


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


@njit(**NUMBA_OPTIONS)
def _staff_free(md, m):
    """ServiceSystem.staff_free: off duty, a complaint, a vacation, or the next customer."""
    if md.staff_visit[m] != IDLE or md.handling[m] != IDLE or md.away[m] != 0:
        return
    if md.leaving[m] != 0:
        md.leaving[m] = 0
        md.on_duty[m] = 0
        return
    if md.is_manager[m] != 0:
        if md.reserved[m] != IDLE:
            c = md.reserved[m]
            md.reserved[m] = IDLE
            _start_handling(md, m, c)
            return
        if md.complaint_tail > md.complaint_head:
            _assign_complaints(md)
            if md.handling[m] != IDLE:
                return
    if md.serves[m] == 0 or md.on_duty[m] == 0:
        return
    s = md.staff_station[m]
    if md.vacations[s] != VAC_NONE and md.n_waiting[s] == 0:
        _start_vacation(md, m)
        return
    _dispatch(md, s)


# -- complaints (ServiceSystem and policies.assign_complaints) -------------------------------


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


@njit(**NUMBA_OPTIONS)
def _announced(md, m):
    """ServiceSystem.announced."""
    md.away[m] = 0
    if md.staff_visit[m] != IDLE:
        _begin_segment(md, m)
    else:
        _staff_free(md, m)


@njit(**NUMBA_OPTIONS)
def _end_handling(md, m):
    """ServiceSystem.end_handling."""
    c = md.handling[m]
    md.handling[m] = IDLE
    md.handling_ended_at[c] = md.now
    md.visit_state[c] = DONE
    _next_visit_or_leave(md, c)
    _staff_free(md, m)


# -- staffing: shifts, breakdowns, vacations ---------------------------------------------------


@njit(**NUMBA_OPTIONS)
def _set_clerks(md, s, n):
    """ServiceSystem.set_clerks: from now on ``n`` clerks of station ``s`` are on duty."""
    lists = md.staff_lists
    lo, hi = md.clerks_start[s], md.clerks_end[s]
    n_active = 0
    for j in range(lo, hi):
        m = lists[j]
        if md.on_duty[m] != 0 and md.leaving[m] == 0:
            n_active += 1
    if n > n_active:
        need = n - n_active
        for j in range(lo, hi):
            m = lists[j]
            if need and md.on_duty[m] != 0 and md.leaving[m] != 0:
                md.leaving[m] = 0
                need -= 1
        for j in range(lo, hi):
            m = lists[j]
            if need and md.on_duty[m] == 0:
                md.on_duty[m] = 1
                need -= 1
    else:
        # reversed(active[n:]): walk the clerks backwards; k is the position in ``active``
        k = n_active
        for j in range(hi - 1, lo - 1, -1):
            m = lists[j]
            if not (md.on_duty[m] != 0 and md.leaving[m] == 0):
                continue
            k -= 1
            if k < n:
                break
            if md.staff_visit[m] == IDLE:
                md.on_duty[m] = 0
            elif md.shift_hand_back[s] != 0:
                _hand_back(md, m)
                md.on_duty[m] = 0
            else:
                md.leaving[m] = 1
    _dispatch(md, s)


@njit(**NUMBA_OPTIONS)
def _episode(md, stream, m):
    """EpisodeDraws: the pre-transformed draw of ``m``'s current episode (flags a rerun with
    more draws when there are too few)."""
    k = md.episode[m]
    if k >= md.n_episodes:
        md.status = NEED_EPISODES
        return 1.0
    return md.episodes[(stream * md.n_staff + m) * md.n_episodes + k]


@njit(**NUMBA_OPTIONS)
def _start_breakdowns(md, m):
    """ServiceSystem.start_breakdowns (uptime(m) was transformed by the wrapper)."""
    if md.breakdowns[md.staff_station[m]] == BD_ALWAYS:
        _schedule(md, _episode(md, E_UPTIME, m), P_STAFF, EV_BREAK_DOWN, m,
                  md.fail_token[m])
    else:
        md.time_to_failure[m] = _episode(md, E_UPTIME, m)


@njit(**NUMBA_OPTIONS)
def _break_down(md, m, token):
    """ServiceSystem.break_down: a server fails; its customer waits or is handed back."""
    if token != md.fail_token[m]:
        return
    s = md.staff_station[m]
    md.away[m] = 1
    if md.staff_visit[m] != IDLE:
        _end_segment(md, m)
        md.token[m] += 1
        if md.bd_hand_back[s] != 0:
            _hand_back(md, m)
            _dispatch(md, s)
    _schedule(md, _episode(md, E_REPAIR, m), P_STAFF, EV_REPAIRED, m, 0)


@njit(**NUMBA_OPTIONS)
def _repaired(md, m):
    """ServiceSystem.repaired."""
    md.away[m] = 0
    md.episode[m] += 1
    _start_breakdowns(md, m)
    if md.staff_visit[m] != IDLE:
        _begin_segment(md, m)
    else:
        _staff_free(md, m)


@njit(**NUMBA_OPTIONS)
def _start_vacation(md, m):
    """ServiceSystem.start_vacation."""
    md.away[m] = 1
    length = _episode(md, E_VACATION, m)
    md.episode[m] += 1
    _schedule(md, length, P_STAFF, EV_VACATION_OVER, m, 0)


@njit(**NUMBA_OPTIONS)
def _vacation_over(md, m):
    """ServiceSystem.vacation_over."""
    md.away[m] = 0
    if md.is_manager[m] != 0 and md.complaint_tail > md.complaint_head:
        _assign_complaints(md)
        if md.handling[m] != IDLE:
            return
    s = md.staff_station[m]
    if md.n_waiting[s] > 0:
        _dispatch(md, s)
    elif md.vacations[s] == VAC_MULTIPLE and md.on_duty[m] != 0:
        _start_vacation(md, m)

