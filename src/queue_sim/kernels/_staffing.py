"""Staffing: shift changes, breakdown clocks and failures, the start of vacations, and the per-
server episode draws they read (``ServiceSystem``'s staffing methods, ``model/staffing.py``).

Each function names the method it mirrors; the statements are in the same order, because the
order in which events are scheduled inside a handler is what fixes their sequence numbers (the
last part of the tie-break key). ``md`` is the state record of ``kernels._state``. Imports
numba, kernels._state, kernels._service only.
"""

from __future__ import annotations

from numba import njit

from queue_sim.kernels import NUMBA_OPTIONS
from queue_sim.kernels._service import _dispatch, _end_segment, _hand_back
from queue_sim.kernels._state import (
    BD_ALWAYS, E_REPAIR, E_UPTIME, E_VACATION, EV_BREAK_DOWN, EV_REPAIRED, EV_VACATION_OVER,
    IDLE, NEED_EPISODES, P_STAFF, _schedule,
)


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
def _start_vacation(md, m):
    """ServiceSystem.start_vacation."""
    md.away[m] = 1
    length = _episode(md, E_VACATION, m)
    md.episode[m] += 1
    _schedule(md, length, P_STAFF, EV_VACATION_OVER, m, 0)
