"""Complaints in the reference model: an order found wrong, its handling by a manager, and the
acknowledgement of the customers waiting meanwhile (by the handler or by a clerk).

A part of ``counter.ServiceSystem`` (a mixin, so the kernel's handlers still mirror one method
each); which manager takes a complaint, and when, is ``policies.assign_complaints``.  Imports
model.policies, model.station, model.staff and trace; never runner, results or plots.
"""

from __future__ import annotations

import math

from queue_sim.model import policies
from queue_sim.model.staff import IDLE, StaffMember
from queue_sim.model.station import COMPLAINT, DONE, WAITING
from queue_sim.trace import Priority


class ComplaintHandling:
    """The complaint methods of ``counter.ServiceSystem``."""

    def complain(self, v: int) -> None:
        """The order of visit ``v`` went wrong."""
        self.trace.complained[v] = True
        if self.policy == "remake_only":
            return self.next_visit_or_leave(v)
        self.state[v] = COMPLAINT
        self.complaints.append(v)
        policies.assign_complaints(self)

    def start_handling(self, m: StaffMember, c: int) -> None:
        t = self.trace
        m.handling = c
        now = self.env.now
        t.handling_started_at[c] = now
        t.handler[c] = m.idx
        duration = self.draws.handling_time[c]
        ack = self.acknowledge
        if ack is not None:
            st = self.stations[self.draws.station[c]]
            waiting = [w for line in st.lines for _, e, w in line
                       if self.state[w] == WAITING and e == self.entry[w]]
            clerk = st.announcer() if ack.by == "clerk" else m
            if waiting and clerk is not None:
                cost = ack.per_announcement + ack.per_customer * len(waiting)
                if clerk is m:
                    duration += cost
                else:
                    self.announce(clerk, cost)
                for w in waiting:
                    i = self.customer_of[w]
                    if math.isnan(t.acknowledged_at[i]):
                        t.acknowledged_at[i] = now
        self.at(duration, Priority.END_HANDLING, self.end_handling, m)

    def announce(self, m: StaffMember, duration: float) -> None:
        """Clerk ``m`` stops for an announcement; a customer in service waits meanwhile."""
        m.away = True
        if m.visit != IDLE:
            self.end_segment(m)
            m.token += 1
        self.at(duration, Priority.STAFF, self.announced, m)

    def announced(self, m: StaffMember) -> None:
        m.away = False
        if m.visit != IDLE:
            self.begin_segment(m)
        else:
            self.staff_free(m)

    def end_handling(self, m: StaffMember) -> None:
        c, m.handling = m.handling, IDLE
        self.trace.handling_ended_at[c] = self.env.now
        self.state[c] = DONE
        self.next_visit_or_leave(c)
        self.staff_free(m)
