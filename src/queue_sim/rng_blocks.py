"""The draws of one replication in blocks of customers, for runs too long to draw at once.

``draw_blocks(scenario, seed, replication, block)`` yields ``Block``s: consecutive customers in
arrival order with their visit plans.  Every number comes from the same keyed stream position
as in ``rng.draw`` (customer i of class c always uses uniform i of its streams), so the
blocks, concatenated, are exactly ``rng.draw``'s arrays (tested), and a block never needs the
customers after it.  ``Draws.class_position`` is the run's (a customer's index in its class
over the whole run), so ``rng.retrial_draws`` of a block gives that block's rows of the
whole run's retrial draws.  Memory is one block plus one stream block of arrival times per class.

Imports config and rng only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from queue_sim import rng
from queue_sim.config import schema


@dataclass(frozen=True)
class Block:
    """Customers ``first .. first + draws.n_customers - 1`` of a replication.

    ``draws.visit_ptr`` starts at 0 (add ``first_visit`` for the run's visit numbers);
    ``draws.horizon`` is the run's horizon, or, in a run for a number of customers, the last
    arrival so far (the run's last arrival once ``is_last``).
    """

    draws: rng.Draws
    first: int
    first_visit: int
    is_last: bool


class _ClassArrivals:
    """One class's customers generated a stream block of arrival events at a time."""

    def __init__(self, scenario: schema.Scenario, cidx: int, seed: int, replication: int):
        self.cls = list(scenario.classes.values())[cidx]
        self.cidx, self.seed, self.replication = cidx, seed, replication
        self.horizon, self.limit = scenario.run.horizon, scenario.run.customers
        self.events_drawn = 0     # unit-rate points drawn (uniforms of the arrival stream)
        self.total = 0.0          # the last unit-rate point
        self.n_events = 0         # arrival events kept (index into the batch stream)
        self.n_made = 0           # customers generated
        self.n_out = 0            # customers handed out (class index of the next one)
        self.times = np.empty(0)  # generated, not yet handed out
        self.exhausted = False

    def extend(self) -> None:
        """Generate the next stream block of arrival events (rng._arrival_times, in steps)."""
        arr = self.cls.arrivals
        if isinstance(arr, schema.TraceArrivals):
            events = np.asarray(arr.times, dtype=float)
            self.exhausted = True
        else:
            uniforms = rng.stream_uniforms(self.seed, self.replication, "arrival",
                                           (self.cidx,), rng.BLOCK, self.events_drawn)
            self.events_drawn += rng.BLOCK
            points = self.total + np.cumsum(-np.log1p(-uniforms))  # unit-rate Poisson points
            self.total = points[-1]
            events = rng._invert_cumulative_rate(arr, points)
            self.exhausted = (
                (self.limit is not None and self.events_drawn >= self.limit)
                or (self.horizon is not None
                    and rng._invert_cumulative_rate(arr, self.total) > self.horizon))
        if self.horizon is not None:
            events = events[events < self.horizon]
        if self.limit is not None:
            events = events[: self.limit - self.n_events]
        sizes = rng._batch_sizes(self.cls, self.seed, self.replication, self.cidx,
                                 len(events), self.n_events)
        self.n_events += len(events)
        times = np.repeat(events, sizes)
        if self.limit is not None:
            times = times[: self.limit - self.n_made]
            self.exhausted |= self.n_made + len(times) >= self.limit
        self.n_made += len(times)
        self.times = np.concatenate([self.times, times])

    def take(self, n: int) -> np.ndarray:
        taken, self.times = self.times[:n], self.times[n:]
        self.n_out += n
        return taken


def draw_blocks(scenario: schema.Scenario, seed: int, replication: int,
                block: int = rng.BLOCK) -> Iterator[Block]:
    """Blocks of at most ``block`` customers, in arrival order, the last one marked.

    Parameters
    ----------
    scenario, seed, replication
        As for ``rng.draw``.
    block
        Most customers per block (>= 1).
    """
    if block < 1:
        raise ValueError(f"block must be >= 1 (got {block!r})")
    run = scenario.run
    classes = [_ClassArrivals(scenario, c, seed, replication)
               for c in range(len(scenario.classes))]
    quota = run.customers if run.customers is not None else np.inf
    first = first_visit = 0
    last_time = 0.0
    while True:
        for c in classes:  # every class that may still arrive has something to compare
            while not c.exhausted and not len(c.times):
                c.extend()
        live = [c.times[-1] for c in classes if not c.exhausted]
        cutoff = min(live) if live else np.inf  # later customers arrive at or after it
        eligible = [int(np.searchsorted(c.times, cutoff, side="left")) for c in classes]
        if sum(eligible) == 0 and live:
            for c in classes:  # customers only at the cutoff: draw further first
                if not c.exhausted and c.times[-1] == cutoff:
                    c.extend()
            continue
        counts = _first_in_order(classes, eligible, int(min(block, quota - first)))
        parts = []
        class_start = np.array([c.n_out for c in classes], np.int64)
        for c, n in zip(classes, counts):
            start = c.n_out
            times = c.take(n)
            plans = rng._visit_plans(scenario, c.cls, c.cidx, n, seed, replication,
                                     start=start)
            parts.append((times, plans))
        times, class_idx, stacked = rng._merge_classes(parts, None)
        n = len(times)
        if n:
            last_time = float(times[-1])
        is_last = first + n >= quota or all(c.exhausted and not len(c.times) for c in classes)
        horizon = run.horizon if run.horizon is not None else last_time
        draws = rng.flatten(times, class_idx, stacked, horizon, seed, replication, class_start)
        yield Block(draws, first, first_visit, is_last)
        if is_last:
            return
        first += n
        first_visit += int(draws.visit_ptr[-1])


def _first_in_order(classes: list[_ClassArrivals], eligible: list[int], n: int) -> list[int]:
    """How many of each class's eligible customers are among the first ``n`` of them in
    arrival order (time, then class, then index), as ``rng.draw`` orders them."""
    total = sum(eligible)
    if total <= n:
        return eligible
    times = np.concatenate([c.times[:k] for c, k in zip(classes, eligible)])
    class_idx = np.repeat(np.arange(len(classes)), eligible)
    order = np.lexsort((np.arange(total), class_idx, times))[:n]
    return np.bincount(class_idx[order], minlength=len(classes)).tolist()
