"""Statistics of a run accumulated chunk by chunk, so a long run never holds its whole trace.

A streamed run (``queue_sim.kernels.stream``) hands finished customers over in chunks, as
``stats.CustomerColumns``; ``StreamingSummary`` turns them into the same metrics dict as
``stats.summarize`` of the whole trace:

* up to ``exact_customers`` customers (default ``EXACT_CUSTOMERS``) it keeps the columns and
  reduces their concatenation exactly as ``summarize`` does: bit-identical results;
* beyond, it keeps only per-scope sums and counts (means, rates, throughput ...: equal to the
  whole-trace values up to floating-point summation order, about 1e-12 relative) and one
  ``WaitSketch`` per scope for the wait percentiles (relative error at most
  ``RELATIVE_ACCURACY``, see ``WaitSketch``).  Memory then stays constant however long the run.

Imports stats and trace only.
"""

from __future__ import annotations

import math

import numpy as np

from queue_sim import stats
from queue_sim.trace import Trace

EXACT_CUSTOMERS = 1 << 20
RELATIVE_ACCURACY = 1e-3
SKETCH_RANGE = (1e-9, 1e9)


class WaitSketch:
    """Wait percentiles from a log-bucketed histogram (the DDSketch idea, fixed buckets).

    Bucket ``j`` holds the values in ``(gamma**(j-1), gamma**j]`` with
    ``gamma = (1 + alpha) / (1 - alpha)``, and stands for ``2 gamma**j / (gamma + 1)``, which
    lies within ``alpha`` (relative) of every value in it; zeros are counted exactly.

    Accuracy: for waits in ``SKETCH_RANGE`` (1e-9 to 1e9 time units), every order statistic
    is returned within relative error ``alpha`` (default ``RELATIVE_ACCURACY`` = 0.1%), up to
    floating-point rounding of the bucket boundaries; a percentile interpolates linearly
    between two order statistics as ``numpy.percentile`` does, so it too is within ``alpha``
    of the exact percentile.  Values outside the range are clamped to its ends.  Memory:
    about 21,000 counters (165 kB) whatever the number of values.
    """

    def __init__(self, alpha: float = RELATIVE_ACCURACY,
                 value_range: tuple[float, float] = SKETCH_RANGE):
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1) (got {alpha!r})")
        self.alpha = alpha
        self.gamma = (1 + alpha) / (1 - alpha)
        self._log_gamma = math.log(self.gamma)
        self._range = value_range
        self._offset = math.floor(math.log(value_range[0]) / self._log_gamma)
        top = math.ceil(math.log(value_range[1]) / self._log_gamma)
        self.counts = np.zeros(top - self._offset + 1, dtype=np.int64)
        self.n_zeros = 0

    @property
    def n(self) -> int:
        return self.n_zeros + int(self.counts.sum())

    def add(self, values: np.ndarray) -> None:
        """Count non-negative values (a zero wait is counted exactly)."""
        positive = values[values > 0]
        self.n_zeros += len(values) - len(positive)
        if len(positive):
            lo, hi = self._range
            j = np.ceil(np.log(np.clip(positive, lo, hi)) / self._log_gamma).astype(np.int64)
            self.counts += np.bincount(j - self._offset, minlength=len(self.counts))

    def order_statistics(self, ranks: np.ndarray) -> np.ndarray:
        """Approximate values at 0-based ranks of the sorted values."""
        cumulative = self.n_zeros + np.cumsum(self.counts)
        bucket = np.searchsorted(cumulative, ranks, side="right")
        values = 2 * self.gamma ** (bucket + self._offset) / (self.gamma + 1)
        return np.where(ranks < self.n_zeros, 0.0, values)

    def percentiles(self, ps: tuple[float, ...]) -> list[float]:
        """Percentiles with ``numpy.percentile``'s linear interpolation; NaN when empty."""
        n = self.n
        if n == 0:
            return [np.nan] * len(ps)
        h = (n - 1) * np.asarray(ps, float) / 100
        below = np.floor(h).astype(np.int64)
        x = self.order_statistics(below)
        y = self.order_statistics(np.minimum(below + 1, n - 1))
        return list(x + (h - below) * (y - x))


class StreamingSummary:
    """The ``stats.summarize`` metrics of a run fed chunk by chunk (see the module docstring).

    Parameters
    ----------
    n_classes, n_stations
        Sizes of the scenario (the scopes to keep sums for).
    exact_customers
        Keep the per-customer columns, and give results bit-identical to ``summarize``, while
        the run has at most this many customers.
    """

    def __init__(self, n_classes: int, n_stations: int,
                 exact_customers: int = EXACT_CUSTOMERS):
        self.n_classes, self.n_stations = n_classes, n_stations
        self.exact_customers = exact_customers
        self.n_customers = 0
        self._chunks: list[stats.CustomerColumns] | None = []
        self._sums: list[dict[str, float]] = [{} for _ in range(n_classes + 1)]
        self._sketches = [WaitSketch() for _ in range(n_classes + 1)]
        self._station_visits = np.zeros(n_stations, dtype=np.int64)
        self._station_wait = np.zeros(n_stations)

    @property
    def is_exact(self) -> bool:
        return self._chunks is not None

    def add(self, columns: stats.CustomerColumns) -> None:
        """Add the columns of the next finished customers (in customer order)."""
        self.n_customers += len(columns.wait)
        if self._chunks is not None:
            self._chunks.append(columns)
            if self.n_customers <= self.exact_customers:
                return
            chunks, self._chunks = self._chunks, None  # too many to keep: fold into sums
            for chunk in chunks:
                self._fold(chunk)
            return
        self._fold(columns)

    def _fold(self, c: stats.CustomerColumns) -> None:
        for k in range(self.n_classes + 1):
            if k == 1 and self.n_classes == 1:  # one class is the whole system
                self._sums[1], self._sketches[1] = self._sums[0], self._sketches[0]
                break
            members = None if k == 0 else c.class_idx == k - 1
            mask = c.in_window if members is None else c.in_window & members
            total = self._sums[k]
            for name, value in stats.scope_sums(c, mask, members).items():
                total[name] = total.get(name, 0) + value
            self._sketches[k].add(c.wait[mask])
        visits, wait = stats.station_visit_sums(c, self.n_stations)
        self._station_visits += visits
        self._station_wait += wait

    def result(self, trace: Trace) -> dict[stats.Key, float]:
        """The metrics; ``trace`` gives the context (window, names, staff) and the time
        integrals of the whole run (a streamed run's last window)."""
        if self._chunks is not None:
            columns = concatenate(self._chunks)
            return stats.reduce_columns(lambda k: stats.exact_scope_stats(columns, k),
                                        stats.station_visit_sums(columns, self.n_stations),
                                        trace)

        def scope_stats(k: int | None) -> tuple[dict[str, float], list[float]]:
            position = 0 if k is None else k + 1
            return self._sums[position], self._sketches[position].percentiles(
                stats.PERCENTILES)

        return stats.reduce_columns(scope_stats, (self._station_visits, self._station_wait),
                                    trace)


def concatenate(chunks: list[stats.CustomerColumns]) -> stats.CustomerColumns:
    """The columns of consecutive chunks as one (at least one chunk)."""
    if len(chunks) == 1:
        return chunks[0]
    fields = stats.CustomerColumns.CUSTOMER_FIELDS + stats.CustomerColumns.VISIT_FIELDS
    return stats.CustomerColumns(**{name: np.concatenate([getattr(c, name) for c in chunks])
                                    for name in fields})
