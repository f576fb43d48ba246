"""The event handlers that free a staff member, and what the staff member does next: the end of a
service, of a handling, of an announcement, of a repair or of a vacation
(``ServiceSystem.staff_free`` and its callers in ``model/counter.py``, with its mixins
``model/complaints.py`` and ``model/staffing.py``).

Each function names the method it mirrors; the statements are in the same order, because the
order in which events are scheduled inside a handler is what fixes their sequence numbers (the
last part of the tie-break key). ``md`` is the state record of ``kernels._state``. Imports
numba, kernels._state, kernels._complaints, kernels._service, kernels._customers,
kernels._staffing only.
"""

from __future__ import annotations

from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._complaints import _assign_complaints, _complain, _start_handling
from queue_sim.kernels._customers import _next_visit_or_leave
from queue_sim.kernels._service import _begin_segment, _dispatch, _end_segment
from queue_sim.kernels._staffing import _start_breakdowns, _start_vacation
from queue_sim.kernels._state import DONE, IDLE, VAC_MULTIPLE, VAC_NONE


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
