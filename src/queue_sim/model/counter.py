"""The service system as SimPy sees it: stations with queues, staff, customers and complaints.

Every state change happens inside the callback of one prioritised SimPy event (``Tick``), so
simultaneous events follow the rule written in ``queue_sim.trace``; the Numba kernel repeats
each method here branch for branch.  Customers are integers indexing the ``Draws`` plan; a
customer's visit ``v`` is one row of the plan and of the ``Trace``.  This module holds the event
calendar, the customers and their service; complaints (``complaints.py``) and staffing
(``staffing.py``) are mixed into ``ServiceSystem``.

Imports config, rng, trace and the model's modules; never runner, results or plots.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from functools import partial

import numpy as np
import simpy
from simpy.events import Event

from queue_sim.config import schema
from queue_sim.model import policies
from queue_sim.model.complaints import ComplaintHandling
from queue_sim.model.draw_readers import EpisodeDraws, Retries
from queue_sim.model.staff import IDLE, StaffMember, build_roster
from queue_sim.model.staffing import Staffing
from queue_sim.model.station import DONE, GONE, IN_SERVICE, PLANNED, WAITING, Station
from queue_sim.rng import Draws
from queue_sim.trace import Outcome, Priority, Trace

# Tick priorities sit above SimPy's own URGENT/NORMAL (0/1), so the stop condition, which is a
# NORMAL event, is seen before any tick at the same time.
PRIORITY_BASE = 10


class Tick(Event):
    """A timeout with an explicit priority (the event kind of the tie-break rule)."""

    def __init__(self, env: simpy.Environment, delay: float, priority: Priority):
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, PRIORITY_BASE + int(priority), delay)


class ServiceSystem(ComplaintHandling, Staffing):
    """Stations, staff and customers of one replication, and everything that happens to them."""

    def __init__(self, env: simpy.Environment, scenario: schema.Scenario, draws: Draws):
        self.env, self.scenario, self.draws = env, scenario, draws
        self.staff, roster = build_roster(scenario)
        self.stations = [Station(i, spec, self.staff)
                         for i, spec in enumerate(scenario.stations.values())]
        self.managers = [m for m in self.staff if m.is_manager]
        self.policy = scenario.recovery.policy
        self.acknowledge = scenario.recovery.acknowledge
        self.complaints: deque[int] = deque()
        self.episode = EpisodeDraws(draws)
        self.retries = Retries(scenario, draws)
        self.classes = list(scenario.classes.values())
        self.trace = Trace.empty(
            draws.n_customers, draws.visit_ptr, draws.station, draws.is_rework,
            n_staff=len(self.staff), n_stations=len(self.stations),
            service_time=draws.service_time, is_recontact=draws.is_recontact,
            is_escalation=draws.is_escalation, is_unresolved=draws.is_unresolved,
            warmup=scenario.run.warmup, horizon=draws.horizon, ended_at=0.0,
            station_names=scenario.station_names, class_names=scenario.class_names,
            staff=roster)
        self.trace.class_idx[:] = draws.class_idx
        n_visits = len(draws.station)
        self.customer_of = np.repeat(np.arange(draws.n_customers), np.diff(draws.visit_ptr))
        self.state = np.zeros(n_visits, np.int64)
        self.remaining = np.zeros(n_visits)
        self.level = np.zeros(n_visits, np.int64)
        self.entry = np.zeros(n_visits, np.int64)
        self.line_of = np.zeros(n_visits, np.int64)   # line of the station the visit waits in
        self.next_entry = 0
        self.class_level = self._class_levels()
        self.n_left = 0
        self.last_time = 0.0
        self.finished = env.event()

    def _class_levels(self) -> np.ndarray:
        """Queue level of each (class, station) for ordinary visits; remakes may jump to -1."""
        prio = [c.priority for c in self.scenario.classes.values()]
        top = min(prio)
        levels = np.zeros((len(prio), len(self.stations)), np.int64)
        for s, st in enumerate(self.stations):
            if st.spec.discipline != "fifo":
                levels[:, s] = [p - top + 1 for p in prio]  # >= 1, so -1 stays on top
        return levels

    # -- the event calendar ------------------------------------------------------------------
    def at(self, delay: float, priority: Priority, handler, *args) -> Tick:  # noqa: ANN001
        """Schedule ``handler(*args)`` after ``delay``; time integrals are brought up to date
        first, at every event, stale or not (the kernel does exactly the same)."""
        tick = Tick(self.env, delay, priority)
        tick.callbacks.append(partial(self._fire, handler, args))
        return tick

    def _fire(self, handler, args, _event) -> None:  # noqa: ANN001
        self.advance()
        handler(*args)

    def advance(self, now: float | None = None) -> None:
        """Accumulate the time integrals of the statistics window up to ``now``."""
        now = self.env.now if now is None else now
        lo = max(self.last_time, self.trace.warmup)
        hi = min(now, self.trace.horizon)
        if hi > lo:
            dt = hi - lo
            t = self.trace
            for st in self.stations:
                t.queue_area[st.idx] += st.n_waiting * dt
                t.system_area[st.idx] += st.n_present * dt
            for m in self.staff:
                if m.on_duty:
                    t.on_duty_time[m.idx] += dt
                if m.visit != IDLE and not m.away:
                    t.busy_time[m.idx] += dt
                if m.handling != IDLE:
                    t.handling_time[m.idx] += dt
        self.last_time = now

    # -- customers ---------------------------------------------------------------------------
    def arrive(self, i: int) -> None:
        """Customer ``i`` walks in and heads for its first station."""
        self.trace.arrived_at[i] = self.env.now
        self.join(self.draws.visit_ptr[i])

    def join(self, v: int) -> None:
        """An attempt of visit ``v`` reaches its station: balk, be lost, or queue (and maybe be
        served).  A retry (attempt a >= 1) uses that attempt's patience and balking draws."""
        d, t = self.draws, self.trace
        i, s = self.customer_of[v], d.station[v]
        st = self.stations[s]
        now = self.env.now
        attempt = t.n_attempts[v]
        t.n_attempts[v] = attempt + 1
        if attempt == 0:
            t.first_queued_at[v] = now
            patience, balk_u = d.patience[v], d.balk_u[v]
        else:
            _, _, patience, balk_u = self.retries(v, attempt - 1)
        t.queued_at[v] = now
        self.remaining[v] = d.service_time[v]
        if not d.is_rework[v] and st.free_server() is None:
            if st.spec.capacity is not None and st.n_waiting >= st.spec.capacity:
                self.state[v] = GONE
                return self.attempt_failed(v, Outcome.LOST)
            if self._balks(i, v, st.n_waiting, balk_u):
                self.state[v] = GONE
                return self.attempt_failed(v, Outcome.BALKED)
        self.level[v] = -1 if self._priority_remake(v) else self.class_level[d.class_idx[i], s]
        self.entry[v] = self.next_entry
        self.next_entry += 1
        self.state[v] = WAITING
        st.n_waiting += 1
        st.n_present += 1
        q = self.choose_line(st, v)
        self.line_of[v] = q
        st.line_waiting[q] += 1
        heapq.heappush(st.lines[q], (self.level[v], self.entry[v], v))
        if not d.is_rework[v] and math.isfinite(patience):
            self.at(patience, Priority.ABANDON, self.abandon, v, attempt)
        self.dispatch(s)
        if st.spec.discipline == "preemptive" and self.state[v] == WAITING:
            self.try_preempt(st, v)

    def choose_line(self, st: Station, v: int) -> int:
        """The line visit ``v`` joins: 0 under a shared line; else the shortest (ties to the
        lowest-numbered server) or the one its ``line`` uniform picks."""
        if not st.separate:
            return 0
        n = len(st.lines)
        if st.spec.lines.join == "random":
            return min(int(self.draws.line_u[v] * n), n - 1)
        best = 0
        for q in range(1, n):
            if st.line_length(q) < st.line_length(best):
                best = q
        return best

    def _priority_remake(self, v: int) -> bool:
        comp = self.scenario_class(v).complaints
        return bool(self.draws.is_rework[v] and comp is not None and comp.rework_priority)

    def scenario_class(self, v: int) -> schema.CustomerClass:
        return self.classes[self.draws.class_idx[self.customer_of[v]]]

    def _balks(self, i: int, v: int, n_waiting: int, balk_u: float) -> bool:
        rule = self.scenario_class(v).balking
        if rule is None:
            return False
        if rule.max_queue is not None and n_waiting >= rule.max_queue:
            return True
        if rule.join_probability is not None:
            jp = rule.join_probability
            return bool(balk_u >= jp[min(n_waiting, len(jp) - 1)])
        return False

    def abandon(self, v: int, attempt: int) -> None:
        """Patience ran out: leave (or retry later) if still waiting in that attempt and never
        served."""
        if (self.state[v] != WAITING or not math.isnan(self.trace.service_started_at[v])
                or attempt != self.trace.n_attempts[v] - 1):
            return
        st = self.stations[self.draws.station[v]]
        self.state[v] = GONE
        st.n_waiting -= 1
        st.line_waiting[self.line_of[v]] -= 1
        st.n_present -= 1
        self.attempt_failed(v, Outcome.ABANDONED)
        if st.separate and st.spec.lines.jockeying:
            self.rebalance(st)

    def attempt_failed(self, v: int, outcome: Outcome) -> None:
        """An attempt was lost, balked or abandoned: try again after a delay if the class
        retries this outcome (and has attempts left), otherwise leave with it."""
        rule = self.scenario_class(v).retrial
        attempt = self.trace.n_attempts[v] - 1
        if (rule is not None and outcome.name.lower() in rule.when
                and (rule.max_attempts is None or attempt + 1 < rule.max_attempts)):
            retry_u, delay, _, _ = self.retries(v, attempt)
            if retry_u < rule.probability:
                self.state[v] = PLANNED
                self.at(delay, Priority.RECONTACT, self.join, v)
                return
        self.leave(self.customer_of[v], outcome)

    def leave(self, i: int, outcome: Outcome) -> None:
        self.trace.left_at[i] = self.env.now
        self.trace.outcome[i] = outcome
        self.n_left += 1
        if self.n_left == self.draws.n_customers:
            self.finished.succeed()

    def next_visit_or_leave(self, v: int) -> None:
        """After visit ``v``: the next visit now, a repeat contact after its delay, or leave
        (served, or defected when the last contact left the case unresolved)."""
        i = self.customer_of[v]
        d = self.draws
        if v + 1 < d.visit_ptr[i + 1]:
            if d.is_recontact[v + 1]:
                self.at(d.delay_before[v + 1], Priority.RECONTACT, self.join, v + 1)
            else:
                self.join(v + 1)
        else:
            self.leave(i, Outcome.DEFECTED if d.is_unresolved[v] else Outcome.SERVED)

    # -- service -----------------------------------------------------------------------------
    def dispatch(self, s: int) -> None:
        """Give waiting customers (head of the queue first) to free servers (lowest first);
        with separate lines each free server takes the head of its own line (servers in
        order), then the lines are rebalanced if customers jockey."""
        st = self.stations[s]
        if st.separate:
            for q, server in enumerate(st.servers):
                if st.line_waiting[q] > 0 and server.is_free():
                    self.start_service(server, self.pop_line(st, q))
            if st.spec.lines.jockeying:
                self.rebalance(st)
            return
        while st.n_waiting > 0:
            server = st.free_server()
            if server is None:
                return
            self.start_service(server, self.pop_line(st, 0))

    def pop_line(self, st: Station, q: int) -> int:
        """The head of line ``q`` (lazy deletion: entries of visits gone, or back with a new
        entry, are skipped)."""
        while True:
            _, entry, v = heapq.heappop(st.lines[q])
            if self.state[v] == WAITING and entry == self.entry[v]:
                return v

    def rebalance(self, st: Station) -> None:
        """Jockeying: while the longest line (ties: lowest-numbered) is at least 2 longer than
        the shortest (ties: lowest-numbered), the customer at its tail (largest key) moves to
        the back of the shortest line (a new entry number), and is served at once if that
        line's server is free."""
        n = len(st.lines)
        while True:
            longest = shortest = 0
            for q in range(1, n):
                if st.line_length(q) > st.line_length(longest):
                    longest = q
                if st.line_length(q) < st.line_length(shortest):
                    shortest = q
            if st.line_length(longest) - st.line_length(shortest) < 2:
                return
            tail = max(item for item in st.lines[longest]
                       if self.state[item[2]] == WAITING and item[1] == self.entry[item[2]])
            st.lines[longest].remove(tail)
            heapq.heapify(st.lines[longest])
            v = tail[2]
            st.line_waiting[longest] -= 1
            self.entry[v] = self.next_entry
            self.next_entry += 1
            self.line_of[v] = shortest
            st.line_waiting[shortest] += 1
            heapq.heappush(st.lines[shortest], (self.level[v], self.entry[v], v))
            self.trace.n_jockeys[v] += 1
            server = st.servers[shortest]
            if server.is_free():
                self.start_service(server, self.pop_line(st, shortest))

    def start_service(self, m: StaffMember, v: int) -> None:
        st = self.stations[self.draws.station[v]]
        self.state[v] = IN_SERVICE
        st.n_waiting -= 1
        st.line_waiting[self.line_of[v]] -= 1
        if math.isnan(self.trace.service_started_at[v]):
            self.trace.service_started_at[v] = self.env.now
            if st.spec.service_dependence is not None:
                self.remaining[v] = self.dependent_service(st, m, v)
                self.trace.service_time[v] = self.remaining[v]  # the work this visit needs
        m.visit = v
        self.begin_segment(m)

    def dependent_service(self, st: Station, m: StaffMember, v: int) -> float:
        """``S0 * f * g + per_wait * max(0, W - wait_reference)`` (schema.ServiceDependence);
        ``m`` is idle until now, so its busy fraction has decayed since ``m.fatigue_at``."""
        dep = st.spec.service_dependence
        base = self.remaining[v]
        if dep.queue_threshold is not None and st.n_waiting >= dep.queue_threshold:
            base = base * dep.queue_factor
        if dep.fatigue_window is not None:
            busy = m.fatigue * math.exp(-(self.env.now - m.fatigue_at) / dep.fatigue_window)
            base = base * (1.0 + dep.fatigue_factor * max(0.0, busy - dep.fatigue_threshold))
        waited = self.env.now - self.trace.queued_at[v]
        return base + dep.per_wait * max(0.0, waited - dep.wait_reference)

    def update_fatigue(self, m: StaffMember, busy: float) -> None:
        """Bring ``m``'s busy fraction up to now; ``busy`` (0 or 1) is what ``m`` was doing
        since the last update: ``F <- busy + (F - busy) exp(-dt / window)``."""
        dep = self.stations[m.station].spec.service_dependence
        if dep is None or dep.fatigue_window is None:
            return
        decay = math.exp(-(self.env.now - m.fatigue_at) / dep.fatigue_window)
        m.fatigue = busy + (m.fatigue - busy) * decay
        m.fatigue_at = self.env.now

    def begin_segment(self, m: StaffMember) -> None:
        """(Re)start serving ``m.visit``: schedule its end, and a busy-clock breakdown."""
        self.update_fatigue(m, 0.0)
        m.segment_start = self.env.now
        m.token += 1
        self.at(self.remaining[m.visit], Priority.END_SERVICE, self.end_service, m, m.token)
        bd = self.stations[m.station].spec.breakdowns
        if bd is not None and bd.clock == "busy" and not m.is_manager:
            m.fail_token += 1
            self.at(m.time_to_failure, Priority.STAFF, self.break_down, m, m.fail_token)

    def end_segment(self, m: StaffMember) -> None:
        """Stop serving for now: keep the remaining work (and busy-clock failure time)."""
        self.update_fatigue(m, 1.0)
        elapsed = self.env.now - m.segment_start
        self.remaining[m.visit] -= elapsed
        bd = self.stations[m.station].spec.breakdowns
        if bd is not None and bd.clock == "busy" and not m.is_manager:
            m.time_to_failure -= elapsed
            m.fail_token += 1

    def end_service(self, m: StaffMember, token: int) -> None:
        if token != m.token:
            return  # the service was paused or handed back after this was scheduled
        v = m.visit
        self.end_segment(m)
        m.visit = IDLE
        t = self.trace
        t.service_ended_at[v] = self.env.now
        t.server[v] = m.idx
        self.state[v] = DONE
        self.stations[self.draws.station[v]].n_present -= 1
        if self.draws.is_wrong[v]:
            self.complain(v)
        else:
            self.next_visit_or_leave(v)
        self.staff_free(m)

    def hand_back(self, m: StaffMember) -> None:
        """The customer ``m`` serves goes back to the queue with its remaining service, ahead
        of later arrivals of its level (it keeps its entry number)."""
        v = m.visit
        if not m.away:
            self.end_segment(m)
        m.visit = IDLE
        m.token += 1
        st = self.stations[self.draws.station[v]]
        self.state[v] = WAITING
        st.n_waiting += 1
        st.line_waiting[self.line_of[v]] += 1
        self.trace.n_preemptions[v] += 1
        heapq.heappush(st.lines[self.line_of[v]], (self.level[v], self.entry[v], v))

    def try_preempt(self, st: Station, v: int) -> None:
        """Preemptive-resume: bump the worst customer in service if ``v`` outranks it."""
        victim, worst = None, None
        for m in st.servers:
            if m.visit != IDLE and not m.away and not m.leaving and m.reserved == IDLE:
                key = (self.level[m.visit], self.entry[m.visit])
                if worst is None or key > worst:
                    victim, worst = m, key
        if victim is not None and worst[0] > self.level[v]:
            self.hand_back(victim)
            self.dispatch(st.idx)

    def staff_free(self, m: StaffMember) -> None:
        """``m`` has just finished something: go off duty, handle a complaint, take a
        vacation, or serve the next customer."""
        if m.visit != IDLE or m.handling != IDLE or m.away:
            return
        if m.leaving:
            m.leaving = False
            m.on_duty = False
            return
        if m.is_manager:
            if m.reserved != IDLE:
                c, m.reserved = m.reserved, IDLE
                return self.start_handling(m, c)
            if self.complaints:
                policies.assign_complaints(self)
                if m.handling != IDLE:
                    return
        if not m.serves or not m.on_duty:
            return
        st = self.stations[m.station]
        if st.spec.vacations is not None and st.n_waiting == 0:
            return self.start_vacation(m)
        self.dispatch(st.idx)
