"""The people behind the counter: clerks and managers, and how they are numbered.

Imports config and trace only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from queue_sim.config import schema
from queue_sim.trace import StaffRoster

IDLE = -1


@dataclass(slots=True)
class StaffMember:
    """One clerk or manager and what they are doing right now."""

    idx: int
    station: int                 # home station, -1 for a floating manager
    is_manager: bool
    serves: bool                 # serves customers at the counter
    on_duty: bool = True
    leaving: bool = False        # goes off duty when the current customer is done
    away: bool = False           # broken down, pulled away or on vacation
    visit: int = IDLE            # visit in service (kept while away with a paused customer)
    segment_start: float = 0.0   # when the current service segment began
    token: int = 0               # invalidates a scheduled end of service after a pause
    handling: int = IDLE         # complaint (visit) being handled
    reserved: int = IDLE         # complaint promised under finish_current
    time_to_failure: float = 0.0  # remaining busy time before a busy-clock breakdown
    fail_token: int = 0
    episode: int = 0             # breakdown / vacation episode counter (draw index)
    fatigue: float = 0.0         # exponentially weighted busy fraction (service_dependence)
    fatigue_at: float = 0.0      # when ``fatigue`` was last brought up to date
    rudeness: float = 0.0        # rudeness level R met (service_dependence.rudeness_window)
    rudeness_at: float = 0.0     # when ``rudeness`` was last brought up to date
    on_duty_time: float = 0.0    # time integrals over the statistics window (trace columns)
    busy_time: float = 0.0
    handling_time: float = 0.0

    def is_free(self) -> bool:
        """Can take a customer from the queue now (the commonest "no", busy, tested first)."""
        return (self.visit == IDLE and self.serves and self.on_duty and not self.leaving
                and not self.away and self.handling == IDLE and self.reserved == IDLE)


def build_roster(scenario: schema.Scenario) -> tuple[list[StaffMember], StaffRoster]:
    """Number the staff: per station its clerk slots then its managers; floating managers last.

    Managers serve at their home station unless the policy is ``dedicated``.
    """
    dedicated = scenario.recovery.policy == "dedicated"
    members: list[StaffMember] = []
    names: list[str] = []
    for s, (sname, station) in enumerate(scenario.stations.items()):
        for k in range(station.max_servers):
            members.append(StaffMember(len(members), s, False, True, on_duty=k < station.servers))
            names.append(f"{sname}.clerk{k + 1}")
        for m in scenario.staff.managers:
            if m.home == sname:
                members.append(StaffMember(len(members), s, True, not dedicated))
                names.append(m.name)
    for m in scenario.staff.managers:
        if m.home is None:
            members.append(StaffMember(len(members), -1, True, False))
            names.append(m.name)
    roster = StaffRoster(
        names=names,
        station=np.array([m.station for m in members], dtype=np.int64),
        is_manager=np.array([m.is_manager for m in members], dtype=bool),
        serves=np.array([m.serves for m in members], dtype=bool),
    )
    return members, roster
