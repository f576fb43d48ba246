"""Pre-drawn numbers the reference model reads lazily: each server's episode uniforms
(breakdowns, repairs, vacations) and each visit's retry draws.

Imports config and rng only.
"""

from __future__ import annotations

from queue_sim.config import schema
from queue_sim.rng import Draws, RetrialDraws, initial_retries, retrial_draws


class EpisodeDraws:
    """Per-server episode uniforms (breakdowns, repairs, vacations), read block by block."""

    def __init__(self, draws: Draws):
        self._draws, self._cache = draws, {}

    def __call__(self, stream: str, station: int, server: int, k: int) -> float:
        key = (stream, station, server)
        values = self._cache.get(key)
        if values is None or k >= len(values):
            n = max(1024, 2 * (k + 1))
            values = self._cache[key] = self._draws.staff_stream(stream, station, server, n)
        return float(values[k])


class Retries:
    """Pre-drawn retry numbers (``rng.retrial_draws``), drawn again twice as long when a visit
    needs more retries than drawn (the longer draw starts with the same numbers)."""

    def __init__(self, scenario: schema.Scenario, draws: Draws):
        self._scenario, self._draws = scenario, draws
        self._table: RetrialDraws | None = None
        self._n = max(initial_retries(scenario), 1)

    def __call__(self, v: int, a: int) -> tuple[float, float, float, float]:
        """(retry uniform, delay, next patience, next balking uniform) after attempt ``a``."""
        if self._table is None or a >= self._table.n_retries:
            while a >= self._n:
                self._n *= 2
            self._table = retrial_draws(self._scenario, self._draws, self._n)
        t, r = self._table, self._table.row[v]
        return (float(t.retry_u[r, a]), float(t.delay[r, a]), float(t.patience[r, a]),
                float(t.balk_u[r, a]))
