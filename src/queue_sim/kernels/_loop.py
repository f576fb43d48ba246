"""The kernel's main loop: ``_run`` sets the state up, pops events in (time, priority, sequence)
order and calls the handler each one names, as ``model/simulate.py`` and SimPy do.

``_run_window`` is the same loop over a *window* of a long run (``kernels.stream``): the
arrays hold customers ``first_customer ..`` and visits ``first_visit ..`` only, read through
shifted pointers so every index stays the run's own; when the window's last customer has
arrived and more will come it pauses (``NEED_CUSTOMERS``), saving its counters and returning
its calendar, and a later call with the next window resumes exactly where it stopped.
``_run`` is one window holding the whole run.

Imports numba, numpy and the other kernel modules only.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._customers import _abandon, _arrive, _join
from queue_sim.kernels._handlers import (
    _announced, _end_handling, _end_service, _repaired, _vacation_over,
)
from queue_sim.kernels._staffing import (
    _break_down, _set_clerks, _start_breakdowns, _start_vacation,
)
from queue_sim.kernels._state import (
    BD_NONE, EV_ABANDON, EV_ANNOUNCED, EV_ARRIVAL, EV_BREAK_DOWN, EV_END_HANDLING,
    EV_END_SERVICE, EV_RECONTACT, EV_REPAIRED, EV_SHIFT, EV_VACATION_OVER, NEED_CUSTOMERS, OK,
    P_ARRIVAL, P_STAFF, VAC_NONE, W_CAL_SIZE, W_COMPLAINT_HEAD, W_COMPLAINT_TAIL,
    W_FIRST_CUSTOMER, W_FIRST_VISIT, W_MORE, W_N_LEFT, W_NEXT_ENTRY, W_PENDING, W_PLAIN, W_RESUME,
    W_SEQ,
    WINDOW_CLOCK, WINDOW_FIELDS, _advance, _new_model, _pop_event, _schedule, _set_calendar,
)
from queue_sim.kernels._plain import _loop_plain
from queue_sim.kernels._record import _borrow, _ptr, _ptr_from, _release


@njit(**NUMBA_OPTIONS)
def _run(arrival_at, class_idx, visit_ptr, station, service_time, patience, balk_u, is_wrong,
         handling_time, is_rework, delay_before, is_recontact, is_unresolved, line_u,
         rude_u, retry_row, retry_values, n_retries,
         classes, retry_probability, join_probability, class_level, stations, station_params,
         queues, schedule_at, schedule_servers, staff_lists, staff, episodes, visits, heaps,
         remaining, staff_times, complaints,
         policy, has_ack, ack_per_customer, ack_per_announcement, managers_start,
         managers_end, warmup, horizon, drain_at,
         arrived_at, left_at, outcome, acknowledged_at, queued_at, service_started_at,
         service_ended_at, server, n_preemptions, n_jockeys, complained, handling_started_at,
         handling_ended_at, handler, busy_time, handling_time_total, on_duty_time,
         queue_area, system_area, n_attempts, first_queued_at, work, plain):
    """Simulate one replication, writing the trace arrays in place.

    The first fifteen arrays are the ``Draws`` visit plan (booleans as uint8); ``retry_row``
    and ``retry_values`` (float64[4, rows, n_retries] flattened, plus one pad) are the
    ``rng.RetrialDraws``; ``retry_probability`` is per class.  ``classes``, ``stations``,
    ``queues``, ``staff`` and ``visits`` are field-major int64 tables whose rows follow
    ``CLASS_FIELDS``, ``STATION_FIELDS``, ``QUEUE_FIELDS``, ``STAFF_FIELDS`` and
    ``VISIT_FIELDS`` of ``kernels._state`` (``station_params``: float64, ``STATION_PARAMS``;
    ``heaps``: int64, ``HEAP_FIELDS``, one slice per queue with room for every attempt that can
    wait there); ``stations``, ``queues``, ``staff``, ``staff_times`` (rows ``STAFF_TIMES``;
    zeroed), ``visits`` (visit state zeroed), ``heaps``,
    ``remaining`` and ``complaints`` are the live
    state, so pass fresh ones.  ``episodes`` is float64[3, n_staff, n_episodes].  ``work`` is
    ``Trace.service_time``, filled with the plan's service times (service dependence overwrites
    a visit's when its service first starts).

    Returns ``(status, ended_at)``; status ``NEED_EPISODES`` asks for more episode draws,
    ``NEED_RETRIES`` for more retry draws.  ``plain`` (0 or 1) takes the fast path of
    ``kernels._plain``: only for a scenario ``kernels.simulate.is_plain`` accepts.
    """
    window = np.zeros(len(WINDOW_FIELDS), np.int64)
    window[W_PLAIN] = plain
    clock = np.zeros(len(WINDOW_CLOCK))
    status, ended_at, _, _ = _run_window(
        arrival_at, class_idx, visit_ptr, station, service_time, patience, balk_u, is_wrong,
        handling_time, is_rework, delay_before, is_recontact, is_unresolved, line_u,
        rude_u, retry_row, retry_values, n_retries,
        classes, retry_probability, join_probability, class_level, stations, station_params,
        queues, schedule_at, schedule_servers, staff_lists, staff, episodes, visits, heaps,
        remaining, staff_times, complaints,
        policy, has_ack, ack_per_customer, ack_per_announcement, managers_start,
        managers_end, warmup, horizon, drain_at,
        arrived_at, left_at, outcome, acknowledged_at, queued_at, service_started_at,
        service_ended_at, server, n_preemptions, n_jockeys, complained, handling_started_at,
        handling_ended_at, handler, busy_time, handling_time_total, on_duty_time,
        queue_area, system_area, n_attempts, first_queued_at, work,
        window, clock, np.empty(0), np.empty((4, 0), np.int64))
    return status, ended_at


@njit(**NUMBA_OPTIONS)
def _run_window(arrival_at, class_idx, visit_ptr, station, service_time, patience, balk_u,
                is_wrong, handling_time, is_rework, delay_before, is_recontact, is_unresolved,
                line_u, rude_u, retry_row, retry_values, n_retries,
                classes, retry_probability, join_probability, class_level, stations,
                station_params, queues, schedule_at, schedule_servers, staff_lists, staff,
                episodes, visits, heaps, remaining, staff_times, complaints,
                policy, has_ack, ack_per_customer, ack_per_announcement, managers_start,
                managers_end, warmup, horizon, drain_at,
                arrived_at, left_at, outcome, acknowledged_at, queued_at, service_started_at,
                service_ended_at, server, n_preemptions, n_jockeys, complained,
                handling_started_at, handling_ended_at, handler, busy_time,
                handling_time_total, on_duty_time, queue_area, system_area, n_attempts,
                first_queued_at, work, window, clock, cal_time_in, cal_int_in):
    """``_run`` over a window of a long run (see the module docstring).

    ``window`` (int64, ``WINDOW_FIELDS``) says where the window starts in the run's customer
    and visit numbers, whether more customers will come, and whether this call resumes a
    paused one (then its saved counters, ``clock`` and the calendar ``cal_time_in``,
    ``cal_int_in`` it returned are restored); a pause writes them back.  The live tables
    (``stations``, ``queues``, ``staff``, ``staff_times``, ``complaints``, ``heaps``) are
    rebased by the caller between calls.  Per-visit arrays (the plan, ``visits``,
    ``remaining``, ``retry_row`` and the per-visit trace) start at visit ``first_visit``; a
    window's ``retry_row`` indexes its own ``retry_values``.

    Returns ``(status, ended_at or the pause time, calendar times, calendar ints)``.
    """
    first = window[W_FIRST_CUSTOMER]   # the window's customer 0 is the run's customer ``first``
    first_visit = window[W_FIRST_VISIT]
    n_customers = first + arrival_at.shape[0]  # customers of the run loaded so far
    owner = _new_model()  # owns the record (and the calendar arrays); md is a borrowed view
    md = _borrow(owner)
    # the visit plan (Draws)
    md.arrival_at = _ptr_from(arrival_at, first)
    md.class_idx = _ptr_from(class_idx, first)
    md.visit_ptr = _ptr_from(visit_ptr, first)
    md.station = _ptr_from(station, first_visit)
    md.service_time = _ptr_from(service_time, first_visit)
    md.patience = _ptr_from(patience, first_visit)
    md.balk_u = _ptr_from(balk_u, first_visit)
    md.is_wrong = _ptr_from(is_wrong, first_visit)
    md.handling_time = _ptr_from(handling_time, first_visit)
    md.is_rework = _ptr_from(is_rework, first_visit)
    md.delay_before = _ptr_from(delay_before, first_visit)
    md.is_recontact = _ptr_from(is_recontact, first_visit)
    md.is_unresolved = _ptr_from(is_unresolved, first_visit)
    md.line_u = _ptr_from(line_u, first_visit)
    md.rude_u = _ptr_from(rude_u, first_visit)
    md.retry_row = _ptr_from(retry_row, first_visit)
    md.retry_values = _ptr(retry_values)
    md.n_retries = n_retries
    md.n_retry_rows = retry_values.shape[0] // (4 * n_retries) if n_retries > 0 else 0
    # the scenario; table rows in CLASS_FIELDS, STATION_FIELDS and STAFF_FIELDS order
    md.max_queue = _ptr(classes[0])
    md.join_start = _ptr(classes[1])
    md.join_end = _ptr(classes[2])
    md.has_balking = _ptr(classes[3])
    md.priority_remake = _ptr(classes[4])
    md.retry_on = _ptr(classes[5])
    md.retry_max = _ptr(classes[6])
    md.retry_probability = _ptr(retry_probability)
    md.join_probability = _ptr(join_probability)
    md.class_level = _ptr(class_level)
    md.schedule_at = _ptr(schedule_at)
    md.schedule_servers = _ptr(schedule_servers)
    md.staff_lists = _ptr(staff_lists)
    md.episodes = _ptr(episodes)
    md.capacity = _ptr(stations[0])
    md.discipline = _ptr(stations[1])
    md.breakdowns = _ptr(stations[2])
    md.bd_hand_back = _ptr(stations[3])
    md.vacations = _ptr(stations[4])
    md.shift_hand_back = _ptr(stations[5])
    md.sched_start = _ptr(stations[6])
    md.sched_end = _ptr(stations[7])
    md.servers_start = _ptr(stations[8])
    md.servers_end = _ptr(stations[9])
    md.clerks_start = _ptr(stations[10])
    md.clerks_end = _ptr(stations[11])
    md.queue_start = _ptr(stations[12])
    md.queue_end = _ptr(stations[13])
    md.join_rule = _ptr(stations[14])
    md.jockeying = _ptr(stations[15])
    md.has_dependence = _ptr(stations[16])
    md.queue_threshold = _ptr(stations[17])
    md.n_waiting = _ptr(stations[18])
    md.n_present = _ptr(stations[19])
    md.per_wait = _ptr(station_params[0])
    md.wait_reference = _ptr(station_params[1])
    md.queue_factor = _ptr(station_params[2])
    md.fatigue_window = _ptr(station_params[3])
    md.fatigue_threshold = _ptr(station_params[4])
    md.fatigue_factor = _ptr(station_params[5])
    md.rudeness_window = _ptr(station_params[6])
    md.difficult_probability = _ptr(station_params[7])
    md.contagion = _ptr(station_params[8])
    md.difficult_factor = _ptr(station_params[9])
    md.rudeness_factor = _ptr(station_params[10])
    md.witness_share = _ptr(station_params[11])
    md.heap_start = _ptr(queues[0])
    md.heap_size = _ptr(queues[1])
    md.line_waiting = _ptr(queues[2])
    md.line_server = _ptr(queues[3])
    md.staff_station = _ptr(staff[0])
    md.is_manager = _ptr(staff[1])
    md.serves = _ptr(staff[2])
    md.on_duty = _ptr(staff[3])
    md.leaving = _ptr(staff[4])
    md.away = _ptr(staff[5])
    md.staff_visit = _ptr(staff[6])
    md.token = _ptr(staff[7])
    md.handling = _ptr(staff[8])
    md.reserved = _ptr(staff[9])
    md.fail_token = _ptr(staff[10])
    md.episode = _ptr(staff[11])
    md.segment_start = _ptr(staff_times[0])
    md.time_to_failure = _ptr(staff_times[1])
    md.fatigue = _ptr(staff_times[2])
    md.fatigue_at = _ptr(staff_times[3])
    md.rudeness = _ptr(staff_times[4])
    md.rudeness_at = _ptr(staff_times[5])
    # visits: rows in VISIT_FIELDS order
    md.customer_of = _ptr_from(visits[0], first_visit)
    md.visit_state = _ptr_from(visits[1], first_visit)
    md.queue_key = _ptr_from(visits[2], first_visit)
    md.line_of = _ptr_from(visits[3], first_visit)
    md.heap_key = _ptr(heaps[0])
    md.heap_visit = _ptr(heaps[1])
    md.remaining = _ptr_from(remaining, first_visit)
    md.complaints = _ptr(complaints)
    # the trace
    md.arrived_at = _ptr_from(arrived_at, first)
    md.left_at = _ptr_from(left_at, first)
    md.outcome = _ptr_from(outcome, first)
    md.acknowledged_at = _ptr_from(acknowledged_at, first)
    md.queued_at = _ptr_from(queued_at, first_visit)
    md.service_started_at = _ptr_from(service_started_at, first_visit)
    md.service_ended_at = _ptr_from(service_ended_at, first_visit)
    md.server = _ptr_from(server, first_visit)
    md.n_preemptions = _ptr_from(n_preemptions, first_visit)
    md.n_jockeys = _ptr_from(n_jockeys, first_visit)
    md.complained = _ptr_from(complained, first_visit)
    md.handling_started_at = _ptr_from(handling_started_at, first_visit)
    md.handling_ended_at = _ptr_from(handling_ended_at, first_visit)
    md.handler = _ptr_from(handler, first_visit)
    md.busy_time = _ptr(busy_time)
    md.handling_time_total = _ptr(handling_time_total)
    md.on_duty_time = _ptr(on_duty_time)
    md.queue_area = _ptr(queue_area)
    md.system_area = _ptr(system_area)
    md.n_attempts = _ptr_from(n_attempts, first_visit)
    md.first_queued_at = _ptr_from(first_queued_at, first_visit)
    md.work = _ptr_from(work, first_visit)
    # sizes, settings, and the clock and counters of ServiceSystem
    md.n_customers = n_customers
    md.n_stations = stations.shape[1]
    md.n_staff = staff.shape[1]
    md.n_episodes = episodes.shape[2]
    md.policy = policy
    md.has_ack = has_ack
    md.ack_per_customer = ack_per_customer
    md.ack_per_announcement = ack_per_announcement
    md.managers_start = managers_start
    md.managers_end = managers_end
    md.warmup = warmup
    md.horizon = horizon
    md.now = clock[0]
    md.last_time = clock[1]
    md.n_left = window[W_N_LEFT]
    md.next_entry = window[W_NEXT_ENTRY]
    md.seq = window[W_SEQ]
    md.status = OK
    md.complaint_head = window[W_COMPLAINT_HEAD]
    md.complaint_tail = window[W_COMPLAINT_TAIL]
    for i in range(first, n_customers):
        for v in range(md.visit_ptr[i], md.visit_ptr[i + 1]):
            md.customer_of[v] = i
    # room for everything one event can schedule (each server starts at most a few services)
    headroom = 16 * (md.n_staff + md.n_stations) + 64
    md.cal_size = 0
    _set_calendar(owner, md, max(4 * headroom, 2 * window[W_CAL_SIZE]))
    if window[W_RESUME] != 0:  # a paused run: its calendar, then the arrival it owed
        for j in range(window[W_CAL_SIZE]):
            md.cal_time[j] = cal_time_in[j]
            md.cal_key[j] = cal_int_in[0, j]
            md.cal_kind[j] = cal_int_in[1, j]
            md.cal_a[j] = cal_int_in[2, j]
            md.cal_b[j] = cal_int_in[3, j]
        md.cal_size = window[W_CAL_SIZE]
        return _resume(owner, md, window, clock, n_customers, headroom, drain_at,
                       schedule_at, schedule_servers)

    # model.simulate.simulate: clerks start their breakdown clocks or vacations, in staff order
    for m in range(md.n_staff):
        if md.is_manager[m] != 0:
            continue
        s = md.staff_station[m]
        if md.breakdowns[s] != BD_NONE:
            _start_breakdowns(md, m)
        elif md.vacations[s] != VAC_NONE and md.on_duty[m] != 0:
            _start_vacation(md, m)
    if md.status != OK:
        _release(owner)
        return md.status, 0.0, owner.cal_time_store, owner.cal_int_store
    if n_customers > 0:
        # as model.simulate: each station's first shift change, then the first arrival
        for s in range(md.n_stations):
            first_change = md.sched_start[s]
            if first_change < md.sched_end[s]:
                _schedule(md, schedule_at[first_change] - 0.0, P_STAFF, EV_SHIFT, s,
                          first_change)
        _schedule(md, md.arrival_at[0] - 0.0, P_ARRIVAL, EV_ARRIVAL, 0, 0)
        return _loop(owner, md, window, clock, n_customers, headroom, drain_at,
                     schedule_at, schedule_servers)
    return _finish(owner, md)


@njit(**NUMBA_OPTIONS)
def _resume(owner, md, window, clock, n_customers, headroom, drain_at, schedule_at,
            schedule_servers):
    """Continue a paused run: the arrival its last event owed, then that event's checks."""
    pending = window[W_PENDING]
    if pending + 1 < n_customers:
        _schedule(md, md.arrival_at[pending + 1] - md.now, P_ARRIVAL, EV_ARRIVAL,
                  pending + 1, 0)
    if md.n_left == n_customers:  # system.finished: the owed event was the last
        return _finish(owner, md)
    return _loop(owner, md, window, clock, n_customers, headroom, drain_at, schedule_at,
                 schedule_servers)


@njit(**NUMBA_OPTIONS)
def _loop(owner, md, window, clock, n_customers, headroom, drain_at, schedule_at,
          schedule_servers):
    """Pop and handle events until every customer has left, the drain limit, or a pause."""
    if window[W_PLAIN] != 0:
        pending = _loop_plain(owner, md, n_customers, headroom, drain_at, window[W_MORE])
        if pending >= 0:
            return _pause(owner, md, window, clock, pending)
        return _finish(owner, md)
    while True:
        if md.cal_size + headroom > md.cal_capacity:
            _set_calendar(owner, md, 2 * md.cal_capacity)
        # the drain-limit timeout (a NORMAL SimPy event) goes before any tick at its time
        if md.cal_size == 0 or md.cal_time[0] >= drain_at:
            md.now = drain_at
            break
        t, kind, a, b = _pop_event(md)
        md.now = t
        _advance(md, t)  # ServiceSystem._fire: at every event, stale or not
        if kind == EV_END_SERVICE:
            _end_service(md, a, b)
        elif kind == EV_ARRIVAL:
            # ServiceSystem.arrive: the customer arrives, then the next arrival is scheduled
            _arrive(md, a)
            if a + 1 < n_customers:
                _schedule(md, md.arrival_at[a + 1] - t, P_ARRIVAL, EV_ARRIVAL, a + 1, 0)
            elif window[W_MORE] != 0 and md.status == OK:
                return _pause(owner, md, window, clock, a)
        elif kind == EV_ABANDON:
            _abandon(md, a, b)
        elif kind == EV_RECONTACT:
            _join(md, a)
        elif kind == EV_END_HANDLING:
            _end_handling(md, a)
        elif kind == EV_BREAK_DOWN:
            _break_down(md, a, b)
        elif kind == EV_REPAIRED:
            _repaired(md, a)
        elif kind == EV_VACATION_OVER:
            _vacation_over(md, a)
        elif kind == EV_ANNOUNCED:
            _announced(md, a)
        else:  # EV_SHIFT, ServiceSystem.change_shift: the change, then the next one
            _set_clerks(md, a, schedule_servers[b])
            if b + 1 < md.sched_end[a]:
                _schedule(md, schedule_at[b + 1] - t, P_STAFF, EV_SHIFT, a, b + 1)
        if md.status != OK:
            _release(owner)
            return md.status, t, owner.cal_time_store, owner.cal_int_store
        if md.n_left == n_customers:  # system.finished: stop after this event
            break
    return _finish(owner, md)


@njit(**NUMBA_OPTIONS)
def _finish(owner, md):
    """The end of the run: the final state holds until the horizon."""
    ended_at = md.now
    _advance(md, max(ended_at, md.horizon))
    _release(owner)
    return OK, ended_at, owner.cal_time_store, owner.cal_int_store


@njit(**NUMBA_OPTIONS)
def _pause(owner, md, window, clock, pending):
    """Save the counters and clock; the calendar goes back to the caller with the status."""
    window[W_PENDING] = pending
    window[W_N_LEFT] = md.n_left
    window[W_NEXT_ENTRY] = md.next_entry
    window[W_SEQ] = md.seq
    window[W_COMPLAINT_HEAD] = md.complaint_head
    window[W_COMPLAINT_TAIL] = md.complaint_tail
    window[W_CAL_SIZE] = md.cal_size
    window[W_RESUME] = 1
    clock[0] = md.now
    clock[1] = md.last_time
    _release(owner)
    return NEED_CUSTOMERS, md.now, owner.cal_time_store, owner.cal_int_store
