"""A station's lines as the reference model keeps them, and the states a visit goes through.

Imports config and model.staff only.
"""

from __future__ import annotations

from queue_sim.config import schema
from queue_sim.model.staff import IDLE, StaffMember

# Visit states
PLANNED, WAITING, IN_SERVICE, DONE, GONE, COMPLAINT = range(6)


class Station:
    """A counter's queue (or one line per server) and the staff who serve from it."""

    def __init__(self, idx: int, spec: schema.Station, staff: list[StaffMember]):
        self.idx, self.spec = idx, spec
        self.servers = [m for m in staff if m.station == idx and m.serves]
        self.clerks = [m for m in self.servers if not m.is_manager]
        self.separate = spec.lines is not None
        n_lines = len(self.servers) if self.separate else 1
        # heaps of (level, entry, visit): the shared queue, or line q of server servers[q]
        self.lines: list[list[tuple[int, int, int]]] = [[] for _ in range(n_lines)]
        self.line_waiting = [0] * n_lines
        self.n_waiting = 0
        self.n_present = 0

    def line_length(self, q: int) -> int:
        """Customers in line ``q``: waiting, plus one if its server is serving."""
        return self.line_waiting[q] + (self.servers[q].visit != IDLE)

    def free_server(self) -> StaffMember | None:
        """The lowest-numbered server who can take a customer now."""
        for m in self.servers:
            if m.is_free():
                return m
        return None

    def announcer(self) -> StaffMember | None:
        """The clerk who acknowledges the queue: the lowest-numbered one on duty and present."""
        for m in self.clerks:
            if m.on_duty and not m.away:
                return m
        return None
