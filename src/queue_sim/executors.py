"""Where sweep tasks run: in this process, in local processes, or on a Dask cluster.

One small interface, ``Executor``: ``submit(fn, *args) -> handle``, ``wait(handles, timeout)
-> (done, pending)``, ``cancel(handles)`` and ``close()``; a handle has ``.result()``.  The
sweep runner drives all three the same way, and since every task's numbers depend only on its
arguments (the seeds are ``(seed, replication)``), results are bit-identical whatever runs
them.  Imports nothing from the rest of queue_sim.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib.util
import itertools
import multiprocessing
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any


class Executor(ABC):
    """Runs ``fn(*args)`` tasks somewhere; the handles it returns have ``.result()``."""

    name: str = "executor"
    workers: int = 1

    @abstractmethod
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """Start (or queue) one task and return its handle."""

    @abstractmethod
    def wait(self, handles: Collection[Any], timeout: float | None = None
             ) -> tuple[set[Any], set[Any]]:
        """Block until at least one handle is done (or ``timeout`` seconds pass).

        Returns
        -------
        (set, set)
            The handles that are done and those still pending.
        """

    def cancel(self, handles: Collection[Any]) -> None:
        """Cancel tasks that have not started; running ones may still finish."""
        for handle in handles:
            handle.cancel()

    def close(self) -> None:
        """Release workers, processes and connections."""

    def describe(self) -> dict[str, Any]:
        """What ran the tasks, for the manifest."""
        return {"kind": self.name, "workers": self.workers}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# In this process


class _Deferred:
    """A task the serial executor runs when someone waits for it."""

    _counter = itertools.count()

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]):
        self.fn, self.args, self.order = fn, args, next(self._counter)
        self._done, self._value, self._error = False, None, None
        self.cancelled = False

    def run(self) -> None:
        try:
            self._value = self.fn(*self.args)
        except Exception as exc:  # noqa: BLE001 - handed back by result(), like a future
            self._error = exc
        self._done = True
        self.fn = self.args = None  # type: ignore[assignment] - free the inputs

    def done(self) -> bool:
        return self._done

    def cancel(self) -> bool:
        self.cancelled = not self._done
        return self.cancelled

    def result(self) -> Any:
        if not self._done:
            self.run()
        if self._error is not None:
            raise self._error
        return self._value


class SerialExecutor(Executor):
    """Runs each task in this process, in submission order, when it is waited for."""

    name = "serial"
    workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> _Deferred:
        return _Deferred(fn, args)

    def wait(self, handles: Collection[Any], timeout: float | None = None
             ) -> tuple[set[Any], set[Any]]:
        pending = {h for h in handles if not h.done() and not h.cancelled}
        if pending:
            min(pending, key=lambda h: h.order).run()
        done = {h for h in handles if h.done() or h.cancelled}
        return done, set(handles) - done


# ---------------------------------------------------------------------------------------------
# Local processes


PRELOAD = ("queue_sim.sweep", "queue_sim.model")
"""Modules the fork server imports once, so that process workers start without import time."""


def default_workers() -> int:
    """Worker processes by default: one per CPU."""
    return os.cpu_count() or 1


class ProcessExecutor(Executor):
    """A ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` processes.

    Workers are started with ``forkserver`` where available (else ``spawn``), never ``fork``:
    forking a process that holds threads (progress bars, Dask) can deadlock.
    """

    name = "processes"

    def __init__(self, workers: int | None = None, preload: Sequence[str] = PRELOAD):
        self.workers = int(workers or default_workers())
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1 (got {self.workers})")
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            # imported once by the fork server, so each worker starts warm (takes effect
            # only before the server's first start)
            context.set_forkserver_preload(list(preload))
        else:
            context = multiprocessing.get_context("spawn")
        self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=context)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        return self._pool.submit(fn, *args)

    def wait(self, handles: Collection[Any], timeout: float | None = None
             ) -> tuple[set[Any], set[Any]]:
        done, pending = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done), set(pending)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------------------------
# Dask


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: an existing scheduler (``address``) or a ``LocalCluster``.

    Parameters
    ----------
    address
        ``tcp://host:8786`` of a running ``dask scheduler``; its workers need queue_sim installed
        (the same version, so the numbers are the same).
    n_local
        Start a ``LocalCluster(n_workers=n_local, threads_per_worker=1)`` instead.
    cluster_options
        More keyword arguments for ``LocalCluster`` (e.g. ``dashboard_address=":0"``
        for a dashboard on any free port).
    """

    name = "dask"

    def __init__(self, address: str | None = None, n_local: int | None = None,
                 **cluster_options: Any):
        from distributed import Client, LocalCluster

        if (address is None) == (n_local is None):
            raise ValueError("give exactly one of address or n_local")
        self._cluster = None
        if n_local is not None:
            options = {"n_workers": int(n_local), "threads_per_worker": 1, "processes": True,
                       **cluster_options}
            self._cluster = LocalCluster(**options)
            self._client = Client(self._cluster)
            self.address = self._cluster.scheduler_address
        else:
            self._client = Client(address)
            self.address = address
        self.workers = max(1, sum(self._client.nthreads().values()))

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        # pure=False: every task runs; hashing a scenario to deduplicate would only cost time
        return self._client.submit(fn, *args, pure=False)

    def wait(self, handles: Collection[Any], timeout: float | None = None
             ) -> tuple[set[Any], set[Any]]:
        from distributed import wait

        try:
            done, pending = wait(list(handles), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set(), set(handles)
        return set(done), set(pending)

    def cancel(self, handles: Collection[Any]) -> None:
        if handles:
            self._client.cancel(list(handles))

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.name, "workers": self.workers, "address": str(self.address),
                "local_cluster": self._cluster is not None}


def is_executor_failure(exc: BaseException) -> bool:
    """Did the executor itself break (a worker process died), rather than the task fail?

    The sweep then stops (finished points are kept) instead of blaming every pending point.
    """
    return isinstance(exc, cf.BrokenExecutor)


def map_tasks(fn: Callable[[Any], Any], tasks: Iterable[Any], workers: int) -> Iterator[Any]:
    """``fn(task)`` for every task, in order: in this process for one worker, else on local
    processes with a line on stderr per finished task (the studies' loop; sweeps drive an
    ``Executor`` instead, for resume and failures)."""
    tasks = list(tasks)
    if workers <= 1:
        yield from map(fn, tasks)
        return
    with cf.ProcessPoolExecutor(workers) as pool:
        for i, result in enumerate(pool.map(fn, tasks), 1):
            print(f"  {i}/{len(tasks)} tasks done", file=sys.stderr, flush=True)
            yield result


def make_executor(*, workers: int | None = None, dask_address: str | None = None,
                  dask_local: int | None = None, **cluster_options: Any) -> Executor:
    """The executor a command line asks for: Dask if named, else serial for one worker, else
    local processes (default: one per CPU)."""
    if dask_address is not None or dask_local is not None:
        return DaskExecutor(dask_address, dask_local, **cluster_options)
    if workers is not None and workers <= 1:
        return SerialExecutor()
    return ProcessExecutor(workers)


def study_arguments(description: str, *, sizes: Sequence[str] = ("smoke",),
                    workers: int | None = None, figures_only: bool = False
                    ) -> argparse.ArgumentParser:
    """The command line every study script shares: a size flag (``--smoke``, and ``--quick``
    where the study has one), ``--engine`` (default: numba when it imports, else simpy),
    ``--workers`` and ``--out``; ``figures_only`` adds ``--figures-only``."""
    helps = {"smoke": "tiny version (seconds)", "quick": "fewer points and replications"}
    parser = argparse.ArgumentParser(description=description)
    size = parser.add_mutually_exclusive_group()
    for name in sizes:
        size.add_argument(f"--{name}", action="store_true", help=helps[name])
    parser.add_argument("--engine",
                        default="numba" if importlib.util.find_spec("numba") else "simpy",
                        help="numba (default if available) or simpy")
    parser.add_argument("--workers", type=int, default=workers or os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None)
    if figures_only:
        parser.add_argument("--figures-only", action="store_true",
                            help="redraw the figures from the results folder without simulating")
    return parser
