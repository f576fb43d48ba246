"""The columnar record both engines produce, and the one rule that orders simultaneous events.

Tie-break rule (implemented by both engines; the kernel's cross-check depends on it)
--------------------------------------------------------------------------------------
Events are processed in order of the key ``(time, priority, sequence)``:

* ``priority`` is the event kind, in this order: ``END_SERVICE`` (0), ``END_HANDLING`` (1),
  ``STAFF`` (2: shift changes, breakdowns, repairs, vacation ends), ``ABANDON`` (3),
  ``ARRIVAL`` (4), ``RECONTACT`` (5: a customer back from the orbit, i.e. a re-contact after
  an unresolved contact, an escalated contact, or a retry after a failed attempt).  Releases
  go before seizes, so a customer arriving just as a server frees up finds it free, and a
  customer whose patience ends at the very moment a server frees up is served, not lost; new
  customers go before returning ones at the same instant.
* ``sequence`` is the order in which the events were scheduled (SimPy's event id).

Separate lines, jockeying, express lanes and state-dependent service add no event kind: they
change what happens inside the events above (express lanes are decided in the draws).  The
announcement of ``recovery.acknowledge.by: clerk`` ends with a ``STAFF`` event.  The kernel's
event codes (``kernels._state.EV_*``) only name handlers; the order is this priority alone.

Within one event, work is done in a fixed order: the state change, then dispatching free
servers to waiting customers (head of the queue to the lowest-numbered free server), then
scheduling follow-up events.  Queues are ordered by ``(level, entry)``: ``level`` is 0 under
FIFO or the class priority under priority disciplines (-1 for a priority remake), ``entry`` a
counter taken when a visit first joins the queue, which a preempted customer keeps, so it goes
back ahead of later arrivals of its own level.  A retry (after abandoning, balking or finding the
queue full) joins again with a new entry number; the entry its abandoned attempt left in the
heap is stale and skipped when popped (lazy deletion compares the entry with the visit's
current one), and so is every entry of a visit no longer waiting.

Separate lines (``stations.<s>.lines``): each server has its own queue, ordered the same way.
The *length* of a line is the number waiting in it plus one if its server is serving.  A
joining visit takes its entry number, then picks its line (``shortest``: the smallest length,
ties to the lowest-numbered server; ``random``: line ``floor(u * c)`` of the visit's ``line``
uniform), is pushed, and the station is dispatched: lines in server order, each free server
taking the head of its own line.  With jockeying, dispatching then rebalances: while the longest
line (ties: lowest-numbered) is at least 2 longer than the shortest (ties: lowest-numbered), the
tail of the longest (its largest ``(level, entry)`` key) takes a new entry number, moves to the
back of the shortest and, if that line's server is free, starts service at once.  An abandonment
at such a station rebalances too, after the customer has left (or, if it retries, after its
return has been scheduled).  A retry picks its line again like any arrival (``shortest`` only: a
retry at a station with a ``random`` join is refused by the schema).  An acknowledgement counts
the customers waiting in every line of the station; with ``by: clerk`` the announcing clerk's own
line waits while the clerk is away.

State-dependent service (``stations.<s>.service_dependence``) is applied when a visit first
starts service, after it has left the queue, so "the number still waiting" excludes it; the
server's busy fraction (fatigue) is brought up to date at the start and end of every service
segment, and read, decayed to the present, just before the segment that starts.  The wait
``W`` is the wait of the attempt being served (``queued_at``: a retry's wait starts when it
returns), and the service time so set is written to the trace's ``service_time``.

Imports nothing from the engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import IntEnum

import numpy as np
import pandas as pd


class Priority(IntEnum):
    """Event kinds in tie-break order at equal times."""

    END_SERVICE = 0
    END_HANDLING = 1
    STAFF = 2
    ABANDON = 3
    ARRIVAL = 4
    RECONTACT = 5


class Outcome(IntEnum):
    """How a customer's stay ended."""

    SERVED = 0      # completed every visit of its plan
    ABANDONED = 1   # patience ran out while waiting
    BALKED = 2      # refused to join a queue
    LOST = 3        # found the waiting room full
    UNFINISHED = 4  # still in the system when the simulation stopped (no server came back)
    DEFECTED = 5    # its last contact did not resolve the case and it gave up (no re-contact)


@dataclass(frozen=True)
class StaffRoster:
    """Every staff member, numbered globally: per station its clerk slots, then its managers,
    then floating managers.  ``station`` is -1 for a floating manager."""

    names: list[str]
    station: np.ndarray      # int64[g]
    is_manager: np.ndarray   # bool[g]
    serves: np.ndarray       # bool[g]  serves customers at the counter


@dataclass
class Trace:
    """Per-customer, per-visit and per-staff records of one replication.

    Visit rows are aligned with the ``Draws`` visit plan: row j is planned visit j, and a visit
    never reached keeps NaN times.  Time integrals (``*_area``, ``busy_time`` ...) cover the
    statistics window ``[warmup, horizon]`` only.
    """

    # customers
    class_idx: np.ndarray
    arrived_at: np.ndarray
    left_at: np.ndarray
    outcome: np.ndarray
    acknowledged_at: np.ndarray
    visit_ptr: np.ndarray
    # visits
    station: np.ndarray
    is_rework: np.ndarray
    queued_at: np.ndarray
    service_started_at: np.ndarray
    service_ended_at: np.ndarray
    server: np.ndarray
    n_preemptions: np.ndarray
    n_jockeys: np.ndarray          # moves to another line (separate lines with jockeying)
    complained: np.ndarray
    handling_started_at: np.ndarray
    handling_ended_at: np.ndarray
    handler: np.ndarray
    service_time: np.ndarray     # work of the visit: the plan's, or as set by
    #                              stations.<s>.service_dependence when its service first starts
    is_recontact: np.ndarray     # a repeat contact after an unresolved one (plan)
    is_escalation: np.ndarray    # a contact escalated to another station (plan)
    is_unresolved: np.ndarray    # the contact does not resolve the case (plan)
    n_attempts: np.ndarray       # attempts at this visit (retrials); 0 = never reached
    first_queued_at: np.ndarray  # when the first attempt reached the station
    # staff (global staff index)
    busy_time: np.ndarray
    handling_time: np.ndarray
    on_duty_time: np.ndarray
    # stations: time integrals of the number waiting and the number present
    queue_area: np.ndarray
    system_area: np.ndarray
    # context
    warmup: float
    horizon: float
    ended_at: float
    station_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    staff: StaffRoster | None = None

    ARRAYS = ("class_idx", "arrived_at", "left_at", "outcome", "acknowledged_at", "visit_ptr",
              "station", "is_rework", "queued_at", "service_started_at", "service_ended_at",
              "server", "n_preemptions", "n_jockeys", "complained", "handling_started_at",
              "handling_ended_at", "handler", "service_time", "is_recontact", "is_escalation",
              "is_unresolved", "n_attempts", "first_queued_at", "busy_time", "handling_time",
              "on_duty_time", "queue_area", "system_area")

    @classmethod
    def empty(cls, n_customers: int, visit_ptr: np.ndarray, station: np.ndarray,
              is_rework: np.ndarray, n_staff: int, n_stations: int, *,
              service_time: np.ndarray | None = None, is_recontact: np.ndarray | None = None,
              is_escalation: np.ndarray | None = None, is_unresolved: np.ndarray | None = None,
              **context) -> Trace:
        """Preallocate a trace for the given plan; every time starts as NaN.  The plan columns
        (``service_time`` and the contact flags) are copied; they default to 0 / False."""
        v = len(station)
        nan = lambda k: np.full(k, np.nan)  # noqa: E731

        def plan(values: np.ndarray | None, dtype: type) -> np.ndarray:
            return np.zeros(v, dtype) if values is None else np.asarray(values, dtype).copy()

        return cls(
            class_idx=np.zeros(n_customers, np.int64), arrived_at=nan(n_customers),
            left_at=nan(n_customers), outcome=np.full(n_customers, Outcome.UNFINISHED, np.int64),
            acknowledged_at=nan(n_customers), visit_ptr=visit_ptr.copy(),
            station=station.copy(), is_rework=is_rework.copy(), queued_at=nan(v),
            service_started_at=nan(v), service_ended_at=nan(v), server=np.full(v, -1, np.int64),
            n_preemptions=np.zeros(v, np.int64), n_jockeys=np.zeros(v, np.int64),
            complained=np.zeros(v, bool),
            handling_started_at=nan(v), handling_ended_at=nan(v),
            handler=np.full(v, -1, np.int64), service_time=plan(service_time, float),
            is_recontact=plan(is_recontact, bool), is_escalation=plan(is_escalation, bool),
            is_unresolved=plan(is_unresolved, bool), n_attempts=np.zeros(v, np.int64),
            first_queued_at=nan(v), busy_time=np.zeros(n_staff),
            handling_time=np.zeros(n_staff), on_duty_time=np.zeros(n_staff),
            queue_area=np.zeros(n_stations), system_area=np.zeros(n_stations), **context)

    # Derived per-customer quantities ---------------------------------------------------------
    @property
    def n_customers(self) -> int:
        return len(self.arrived_at)

    @property
    def visit_customer(self) -> np.ndarray:
        """Customer index of each visit row."""
        return np.repeat(np.arange(self.n_customers), np.diff(self.visit_ptr))

    @property
    def visit_wait(self) -> np.ndarray:
        """Wait in queue of each visit: queue entry to first service start, or to leaving
        (abandonment); NaN for visits never reached."""
        end = np.where(np.isnan(self.service_started_at),
                       self.left_at[self.visit_customer], self.service_started_at)
        return end - self.queued_at

    @property
    def wait_time(self) -> np.ndarray:
        """Total wait in queues per customer, over all visits it reached."""
        w = np.nan_to_num(self.visit_wait, nan=0.0)
        return np.add.reduceat(w, self.visit_ptr[:-1]) if len(w) else np.zeros(self.n_customers)

    @property
    def sojourn_time(self) -> np.ndarray:
        return self.left_at - self.arrived_at

    def customers_frame(self) -> pd.DataFrame:
        """One row per customer."""
        return pd.DataFrame({
            "customer": np.arange(self.n_customers),
            "class": pd.Categorical.from_codes(self.class_idx, self.class_names)
            if self.class_names else self.class_idx,
            "arrived_at": self.arrived_at, "left_at": self.left_at,
            "outcome": pd.Categorical.from_codes(self.outcome, [o.name.lower() for o in Outcome]),
            "wait_time": self.wait_time, "sojourn_time": self.sojourn_time,
            "acknowledged_at": self.acknowledged_at,
            "n_visits": np.diff(self.visit_ptr),
            "n_contacts": self.contacts_per_customer,
            "is_resolved": self.outcome == Outcome.SERVED,
        })

    @property
    def contacts_per_customer(self) -> np.ndarray:
        """Handled contacts (visits whose service ended) per customer."""
        handled = (~np.isnan(self.service_ended_at)).astype(float)
        return np.bincount(self.visit_customer, weights=handled,
                           minlength=self.n_customers).astype(np.int64)

    def visits_frame(self) -> pd.DataFrame:
        """One row per planned station visit (never-reached visits have NaN times)."""
        staff_names = self.staff.names if self.staff else None
        def who(idx: np.ndarray) -> object:
            if staff_names is None:
                return idx
            return np.array([staff_names[i] if i >= 0 else "" for i in idx], dtype=object)
        return pd.DataFrame({
            "customer": self.visit_customer,
            "station": np.array(self.station_names, dtype=object)[self.station]
            if self.station_names else self.station,
            "is_rework": self.is_rework, "queued_at": self.queued_at,
            "service_started_at": self.service_started_at,
            "service_ended_at": self.service_ended_at, "server": who(self.server),
            "n_preemptions": self.n_preemptions, "n_jockeys": self.n_jockeys,
            "complained": self.complained,
            "handling_started_at": self.handling_started_at,
            "handling_ended_at": self.handling_ended_at, "handler": who(self.handler),
            "service_time": self.service_time, "is_recontact": self.is_recontact,
            "is_escalation": self.is_escalation, "is_unresolved": self.is_unresolved,
            "n_attempts": self.n_attempts, "first_queued_at": self.first_queued_at,
        })

    CUSTOMER_ARRAYS = ("class_idx", "arrived_at", "left_at", "outcome", "acknowledged_at")
    WHOLE_RUN_ARRAYS = ("busy_time", "handling_time", "on_duty_time", "queue_area",
                        "system_area")

    def slice_customers(self, lo: int, hi: int, **context) -> Trace:
        """Customers ``lo .. hi-1`` and their visits as a trace of views (``visit_ptr``
        rebased to 0; staff and station integrals shared); ``context`` overrides fields such
        as ``horizon``."""
        v_lo, v_hi = int(self.visit_ptr[lo]), int(self.visit_ptr[hi])
        parts = {}
        for name in self.ARRAYS:
            value = getattr(self, name)
            if name == "visit_ptr":
                value = value[lo: hi + 1] - v_lo
            elif name in self.CUSTOMER_ARRAYS:
                value = value[lo:hi]
            elif name not in self.WHOLE_RUN_ARRAYS:
                value = value[v_lo:v_hi]
            parts[name] = value
        rest = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.ARRAYS}
        return Trace(**parts, **{**rest, **context})

    def array_fields(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in self.ARRAYS}
