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

Given the scenario's ``experience`` parameters it also gives ``experience.metrics`` (what
``runner.run_replication`` adds to every summary): every experience metric is a mean of a
per-customer column (satisfaction, perceived wait, skips, slips ...) except the satisfaction
percentile, so the same two regimes apply: exact up to ``exact_customers``, then sums and a
``SignedSketch`` of satisfaction (relative error at most ``RELATIVE_ACCURACY``).  Skips and
slips compare a customer's wait with other customers' at the same station; the streamed run
computes them per chunk against every visit whose wait can still nest with the chunk's
(``kernels.stream``), which gives each customer's whole-run counts.

Imports experience, stats and trace only.
"""

from __future__ import annotations

import math

import numpy as np

from queue_sim import experience as exp
from queue_sim import stats
from queue_sim.config.schema import Experience
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


class SignedSketch:
    """Percentiles of values of either sign: a ``WaitSketch`` of the positive values, one of
    the magnitudes of the negative ones, and the zeros counted exactly (the same relative
    accuracy, for magnitudes in ``SKETCH_RANGE``)."""

    def __init__(self, alpha: float = RELATIVE_ACCURACY):
        self.positive, self.negative = WaitSketch(alpha), WaitSketch(alpha)

    @property
    def n(self) -> int:
        return self.positive.n + self.negative.n

    def add(self, values: np.ndarray) -> None:
        self.positive.add(values[values >= 0])
        self.negative.add(-values[values < 0])

    def order_statistics(self, ranks: np.ndarray) -> np.ndarray:
        n_negative = self.negative.n
        ranks = np.asarray(ranks, np.int64)
        below = ranks < n_negative
        out = np.empty(len(ranks))
        # the k-th smallest negative value is minus the (n_negative-1-k)-th smallest magnitude
        out[below] = -self.negative.order_statistics(n_negative - 1 - ranks[below])
        out[~below] = self.positive.order_statistics(ranks[~below] - n_negative)
        return out

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
    experience
        The scenario's experience parameters: add ``experience.metrics`` (each ``add`` then
        needs the chunk's trace, skips and slips); None: the ``summarize`` metrics only.
    """

    def __init__(self, n_classes: int, n_stations: int,
                 exact_customers: int = EXACT_CUSTOMERS,
                 experience: Experience | None = None):
        self.n_classes, self.n_stations = n_classes, n_stations
        self.exact_customers = exact_customers
        self.experience = experience
        self.n_customers = 0
        self._chunks: list[stats.CustomerColumns] | None = []
        self._experience_chunks: list[dict[str, np.ndarray]] = []
        self._sums: list[dict[str, float]] = [{} for _ in range(n_classes + 1)]
        self._sketches = [WaitSketch() for _ in range(n_classes + 1)]
        self._experience_sums: list[dict[str, float]] = [{} for _ in range(n_classes + 1)]
        self._satisfaction = [SignedSketch() for _ in range(n_classes + 1)]
        self._station_sums: list[np.ndarray] | None = None

    @property
    def is_exact(self) -> bool:
        return self._chunks is not None

    def add(self, columns: stats.CustomerColumns, chunk: Trace | None = None,
            skips: np.ndarray | None = None, slips: np.ndarray | None = None) -> None:
        """Add the columns of the next finished customers (in customer order); with
        ``experience``, also their trace (``chunk``) and their whole-run skips and slips."""
        self.n_customers += len(columns.wait)
        experience = None
        if self.experience is not None:
            if chunk is None or skips is None or slips is None:
                raise ValueError("a summary with experience metrics needs each chunk's trace, "
                                 "skips and slips")
            experience = exp.customer_columns(chunk, self.experience, skips, slips,
                                              columns.bystander, columns.complaints > 0)
        if self._chunks is not None:
            self._chunks.append(columns)
            if experience is not None:
                self._experience_chunks.append(experience)
            if self.n_customers <= self.exact_customers:
                return
            chunks, self._chunks = self._chunks, None  # too many to keep: fold into sums
            experience_chunks, self._experience_chunks = self._experience_chunks, []
            for k, chunk_columns in enumerate(chunks):
                self._fold(chunk_columns, experience_chunks[k] if experience_chunks else None)
            return
        self._fold(columns, experience)

    def _fold(self, c: stats.CustomerColumns, experience: dict[str, np.ndarray] | None
              ) -> None:
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
        station_sums = stats.station_visit_sums(c, self.n_stations)
        if self._station_sums is None:
            self._station_sums = [np.zeros_like(x) for x in station_sums]
        for total, part in zip(self._station_sums, station_sums):
            total += part
        if experience is not None:
            self._fold_experience(experience)

    def _fold_experience(self, columns: dict[str, np.ndarray]) -> None:
        s = columns["satisfaction"]
        names = [str(k) for k in range(self.n_classes)]
        for k, (_, mask) in enumerate(exp.scope_masks(columns, names)):
            total = self._experience_sums[k]

            def add(name: str, values: np.ndarray) -> None:
                total[name] = total.get(name, 0.0) + values.sum()
                total["n_" + name] = total.get("n_" + name, 0) + len(values)

            add("satisfaction", s[mask])
            for _, column in exp.MEAN_METRICS:
                add(column, columns[column][mask])
            add("bystander", s[mask & columns["bystander"]])
            add("complainer", s[mask & columns["complained"]])
            self._satisfaction[k].add(s[mask])

    def _experience_result(self, class_names: list[str] | None) -> dict[stats.Key, float]:
        if self._chunks is not None:
            columns = {name: np.concatenate([c[name] for c in self._experience_chunks])
                       for name in self._experience_chunks[0]} if self._experience_chunks \
                else exp.customer_columns(*_empty_experience(self.experience))
            return exp.reduce_columns(columns, class_names)
        out: dict[stats.Key, float] = {}
        scopes = [("system", "all")] + [("class", c) for c in class_names or []]
        for k, scope in enumerate(scopes):
            total = self._experience_sums[k]

            def mean(name: str) -> float:
                n = total.get("n_" + name, 0)
                return float(total[name] / n) if n else np.nan

            out[(*scope, "mean_satisfaction")] = mean("satisfaction")
            out[(*scope, "satisfaction_p10")] = float(self._satisfaction[k].percentiles(
                (exp.SATISFACTION_PERCENTILE,))[0])
            for metric, column in exp.MEAN_METRICS:
                out[(*scope, metric)] = mean(column)
            out[(*scope, "bystander_mean_satisfaction")] = mean("bystander")
            out[(*scope, "complainer_mean_satisfaction")] = mean("complainer")
        return out

    def result(self, trace: Trace) -> dict[stats.Key, float]:
        """The metrics; ``trace`` gives the context (window, names, staff) and the time
        integrals of the whole run (a streamed run's last window)."""
        if self._chunks is not None:
            columns = concatenate(self._chunks)
            out = stats.reduce_columns(lambda k: stats.exact_scope_stats(columns, k),
                                       stats.station_visit_sums(columns, self.n_stations),
                                       trace)
        else:
            def scope_stats(k: int | None) -> tuple[dict[str, float], list[float]]:
                position = 0 if k is None else k + 1
                return self._sums[position], self._sketches[position].percentiles(
                    stats.PERCENTILES)

            out = stats.reduce_columns(scope_stats, tuple(self._station_sums), trace)
        if self.experience is not None:
            out.update(self._experience_result(trace.class_names))
        return out


def _empty_experience(params: Experience) -> tuple:
    """Arguments of ``experience.customer_columns`` for a run without customers."""
    empty = Trace.empty(0, np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0, bool),
                        0, 0, warmup=0.0, horizon=0.0, ended_at=0.0)
    none = np.empty(0, np.int64)
    return empty, params, none, none, np.empty(0, bool), np.empty(0, bool)


def concatenate(chunks: list[stats.CustomerColumns]) -> stats.CustomerColumns:
    """The columns of consecutive chunks as one (at least one chunk)."""
    if len(chunks) == 1:
        return chunks[0]
    fields = stats.CustomerColumns.CUSTOMER_FIELDS + stats.CustomerColumns.VISIT_FIELDS
    return stats.CustomerColumns(**{name: np.concatenate([getattr(c, name) for c in chunks])
                                    for name in fields})
