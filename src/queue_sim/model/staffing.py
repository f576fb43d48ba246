"""Who is at the counter in the reference model: shift changes, breakdowns (or a server pulled
away) and repairs, and vacations.

A part of ``counter.ServiceSystem`` (a mixin, so the kernel's handlers still mirror one method
each).  Imports model.policies, model.staff and trace; never runner, results or plots.
"""

from __future__ import annotations

import math

import numpy as np

from queue_sim.model import policies
from queue_sim.model.staff import IDLE, StaffMember
from queue_sim.trace import Priority


class Staffing:
    """The staffing methods of ``counter.ServiceSystem``."""

    def set_clerks(self, s: int, n: int) -> None:
        """A shift change: from now on ``n`` clerks of station ``s`` are on duty."""
        st = self.stations[s]
        active = [m for m in st.clerks if m.on_duty and not m.leaving]
        if n > len(active):
            need = n - len(active)
            for m in st.clerks:
                if need and m.on_duty and m.leaving:
                    m.leaving, need = False, need - 1
            for m in st.clerks:
                if need and not m.on_duty:
                    m.on_duty, need = True, need - 1
        else:
            for m in reversed(active[n:]):
                if m.visit == IDLE:
                    m.on_duty = False
                elif st.spec.on_shift_end == "hand_back":
                    self.hand_back(m)
                    m.on_duty = False
                else:
                    m.leaving = True
        self.dispatch(s)

    def uptime(self, m: StaffMember) -> float:
        rate = self.stations[m.station].spec.breakdowns.rate
        return -math.log1p(-self.episode("uptime", m.station, m.idx, m.episode)) / rate

    def start_breakdowns(self, m: StaffMember) -> None:
        if self.stations[m.station].spec.breakdowns.clock == "always":
            self.at(self.uptime(m), Priority.STAFF, self.break_down, m, m.fail_token)
        else:
            m.time_to_failure = self.uptime(m)

    def break_down(self, m: StaffMember, token: int) -> None:
        """A server fails (or is pulled away); its customer waits or is handed back."""
        if token != m.fail_token:
            return
        spec = self.stations[m.station].spec.breakdowns
        m.away = True
        if m.visit != IDLE:
            self.end_segment(m)
            m.token += 1
            if spec.in_service == "hand_back":
                self.hand_back(m)
                self.dispatch(m.station)
        repair = float(spec.repair.quantile(
            np.array([self.episode("repair", m.station, m.idx, m.episode)]))[0])
        self.at(repair, Priority.STAFF, self.repaired, m)

    def repaired(self, m: StaffMember) -> None:
        m.away = False
        m.episode += 1
        self.start_breakdowns(m)
        if m.visit != IDLE:
            self.begin_segment(m)
        else:
            self.staff_free(m)

    def start_vacation(self, m: StaffMember) -> None:
        spec = self.stations[m.station].spec.vacations
        m.away = True
        length = float(spec.duration.quantile(
            np.array([self.episode("vacation", m.station, m.idx, m.episode)]))[0])
        m.episode += 1
        self.at(length, Priority.STAFF, self.vacation_over, m)

    def vacation_over(self, m: StaffMember) -> None:
        m.away = False
        if m.is_manager and self.complaints:  # a waiting complaint comes before customers
            policies.assign_complaints(self)
            if m.handling != IDLE:
                return
        st = self.stations[m.station]
        if st.n_waiting > 0:
            self.dispatch(st.idx)
        elif st.spec.vacations.mode == "multiple" and m.on_duty:
            self.start_vacation(m)
