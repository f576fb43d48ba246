"""Complaint-handling policies: which manager takes the oldest complaint, and when.

* ``drop_everything``: a free manager takes it; if none is free, a manager serving a customer
  leaves now and that customer goes back to the head of the queue with its remaining service.
* ``finish_current``: a free manager takes it; if none is free, a serving manager is promised
  to it and goes as soon as the current customer is done (taking no one else meanwhile).
* ``queue``: complaints wait, ahead of ordinary customers, for the first manager to be free.
  With one manager this coincides with ``finish_current``.
* ``dedicated``: like ``queue``, but managers never serve at the counter.
* ``remake_only``: no manager time at all (handled in ``complaints.complain``).

Managers are tried in the order of ``staff.managers``.  Imports nothing but typing helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from queue_sim.model.staff import IDLE

if TYPE_CHECKING:
    from queue_sim.model.counter import ServiceSystem


def assign_complaints(system: ServiceSystem) -> None:
    """Hand waiting complaints, oldest first, to managers as the policy allows."""
    while system.complaints:
        c = system.complaints[0]
        free = _first(system, lambda m: m.on_duty and not m.away and m.visit == IDLE)
        if free is not None:
            system.complaints.popleft()
            system.start_handling(free, c)
            continue
        serving = _first(system, lambda m: m.visit != IDLE and not m.away)
        if serving is None:
            return
        if system.policy == "drop_everything":
            system.complaints.popleft()
            station = serving.station
            system.hand_back(serving)
            system.start_handling(serving, c)
            system.dispatch(station)
        elif system.policy == "finish_current":
            system.complaints.popleft()
            serving.reserved = c
        else:
            return


def _first(system: ServiceSystem, condition):  # noqa: ANN001, ANN202
    for m in system.managers:
        if m.handling == IDLE and m.reserved == IDLE and condition(m):
            return m
    return None
