"""Sweep progress: a tqdm bar on a terminal, plain periodic lines otherwise (CI, nohup).

Both show points done, replications and replications per second, and the time left.  Imports
config only; never the engines, the runner or the results folder.
"""

from __future__ import annotations

import json
import sys
import time

from queue_sim.config.sweep import Point


class Progress:
    """A tqdm bar of points on a terminal; plain lines every ``interval`` seconds otherwise."""

    def __init__(self, total: int, skipped: int, enabled: bool | None, interval: float,
                 reps_per_point: int):
        self.total, self.done, self.reps, self.interval = total, skipped, 0, interval
        self.skipped, self.reps_per_point = skipped, reps_per_point
        self.started = self.last = time.perf_counter()
        self.use_bar = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if self.use_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=skipped, unit="point", desc="sweep",
                            file=sys.stderr, dynamic_ncols=True)
        elif skipped:
            self._line(f"{skipped} point(s) already finished; skipping them")

    def replications(self, n: int) -> None:
        self.reps += n
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self._rate():.1f} reps/s", refresh=False)

    def point_done(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)

    def failed(self, point: Point, error: str) -> None:
        message = f"point {point.point_id} {json.dumps(point.factors, default=str)} failed: " \
                  f"{error}"
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            self._line(message)

    def tick(self) -> None:
        now = time.perf_counter()
        if self.bar is None and now - self.last >= self.interval:
            self.last = now
            self._line(self.status())

    def status(self) -> str:
        elapsed = time.perf_counter() - self.started
        ran = self.done - self.skipped
        left = self.total - self.done
        eta = "?"
        if self.reps and left:
            rate = self._rate()
            eta = clock(left * self.reps_per_point / rate) if rate > 0 else "?"
        elif ran and left:
            eta = clock(elapsed / ran * left)
        return (f"{self.done}/{self.total} points, {self.reps} replications, "
                f"{self._rate():.1f} reps/s, elapsed {clock(elapsed)}, ETA {eta}")

    def _rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.reps / elapsed if elapsed > 0 else 0.0

    def _line(self, text: str) -> None:
        print(f"[sweep] {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            self._line(self.status())


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
