"""The Numba kernel of the service-system model: the fast path, equal to ``queue_sim.model``.

``simulate(scenario, draws) -> Trace`` has the reference's signature and output, record for
record.  ``simulate.py`` validates, unpacks the scenario into arrays, pre-draws each server's
episode values and packs the trace; ``_loop._run`` is the main loop (event calendar popped in
``(time, priority, sequence)`` order); ``_service.py`` (servers, queues, dispatching),
``_customers.py`` (joining, balking, abandoning, retrying, leaving), ``_staffing.py`` (shifts,
breakdowns, vacations), ``_complaints.py`` (complaint queue, managers, acknowledgements) and
``_handlers.py`` (what a staff member does once free) mirror ``model/counter.py`` (with its
mixins ``model/complaints.py`` and ``model/staffing.py``) and ``model/policies.py`` method by
method, statement order included (it fixes the sequence numbers); ``_plain.py`` is the fast
path, the main loop of a plain scenario (only arrivals and ends of service), chosen by
``simulate.is_plain``;
``_state.py`` holds the codes, the state layout, the calendar and the station queues (binary
heaps in preallocated arrays, lazy deletion); ``_record.py`` the two numba types that make the
state cheap to pass.  Imports config, rng, trace, model.staff and model.simulate.drain_limit;
never runner, results or plots.

Parity table
------------
Every feature of the reference model, and where the two engines are compared on identical draws:
``configs`` = every ``configs/*.yaml`` (shortened), ``grid`` = the 5 policies x 3 disciplines x 11
staffing variants, ``extras`` = the hand-written combinations, ``hypothesis`` = 40 random small
scenarios (all in ``tests/crosscheck/test_reference_vs_kernel.py``), ``edge`` =
``tests/kernels/test_edge_cases.py``, ``hand`` = the hand-traced logs of ``tests/model`` and the
exact properties of ``tests/model/test_queue_structure.py``, run on both engines,
``population`` = ``tests/population/test_population.py`` (a population day's traces are equal
record for record, and so are whole population histories of ``queue-sim population``, which
runs one engine call per day).  Nothing is left unported.

================================================  =========  ======  ===========================
feature                                           reference  kernel  cross-tested in
================================================  =========  ======  ===========================
several classes and stations                      yes        yes     configs, grid, hypothesis
fixed routes, probabilistic routing, remakes      yes        yes     grid, extras, hypothesis
Poisson, scheduled, trace arrivals; batches       yes        yes     configs, grid, extras
empirical and every parametric distribution       yes        yes     extras, hypothesis
patience (abandonment)                            yes        yes     configs, grid, edge
balking: max_queue, join_probability              yes        yes     grid, extras, hypothesis
capacity (lost customers)                         yes        yes     configs, grid, extras
disciplines fifo / priority / preemptive          yes        yes     configs, grid, hypothesis
priority remakes (rework_priority), rework off    yes        yes     grid, extras, hypothesis
shift schedules, on_shift_end finish / hand_back  yes        yes     grid, extras, hypothesis
breakdowns: clock always / busy                   yes        yes     grid, hypothesis, edge
breakdowns: in_service wait / hand_back           yes        yes     grid, hypothesis
vacations: multiple / single (managers too)       yes        yes     grid, extras, hypothesis
recovery: all five policies                       yes        yes     configs, grid, hypothesis
acknowledgements by handler or by a clerk        yes        yes     grid, extras, hypothesis
home, floating and several managers               yes        yes     extras, hypothesis
separate lines: shortest / random join            yes        yes     configs, extras, hypothesis
jockeying (tail of the longest line moves)        yes        yes     configs, extras, hypothesis
state-dependent service (wait, queue, fatigue)    yes        yes     extras, hypothesis, hand
rudeness contagion (difficult customers)          yes        yes     extras, hypothesis, hand
express lanes (decided in the draws)              yes        yes     configs, extras, hand
resolution: probability, curves, cap, extra time  yes        yes     extras, hypothesis, hand
re-contacts after a delay; defections             yes        yes     extras, hypothesis, hand
escalation to another station                     yes        yes     extras, hypothesis, hand
retrials after abandon / balk / loss; max tries   yes        yes     extras, hypothesis, hand
retry draws growing on demand (rerun)             yes        yes     edge (test_recontact_edges)
lines + retrials, re-contacts, clerk acks        yes        yes     extras, hypothesis
service dependence + retrials, re-contacts        yes        yes     extras, hypothesis
drain limit; end-of-run advance to the horizon    yes        yes     grid, edge
time integrals (queue/system area, staff times)   yes        yes     every test above
the kernel run as Python (NUMBA_DISABLE_JIT=1)    n/a        yes     edge, stream
population days, draws keyed by customer id       yes        yes     population
streamed runs: blocks, windows, bounded memory    n/a        yes     stream (vs whole kernel runs)
fast path for plain scenarios (``_plain``)        n/a        yes     fast, edge
================================================  =========  ======  ===========================

``fast`` = ``tests/crosscheck/test_fast_path.py``: the fast path equals the general loop bit for
bit, and the reference record for record, on the plain configs, random plain scenarios and
streamed runs.  ``stream`` = ``tests/kernels/test_stream.py``: ``summarize_streamed`` (what the runner uses when
no per-customer records are kept) gives ``stats.summarize`` of the whole kernel trace, bit for
bit, on every config, the extras, policy x staffing variants and random scenarios.

Numba options
-------------
``NUMBA_OPTIONS`` is the one place every kernel function takes its options from: cached
compilation, no fastmath (equality with the reference matters more than a few percent), and
the GIL released, so threads can run replications side by side.  numba's cache watches only
the file of each cached function; the kernel's caches are stamped with every file of this
package instead (``_stamp_caches_with_every_kernel_module``), so editing a handler recompiles
the main loop that inlines it.
"""

from pathlib import Path

NUMBA_OPTIONS = {"cache": True, "fastmath": False, "nogil": True, "boundscheck": False}

_HERE = Path(__file__).resolve().parent


def _sources_stamp() -> tuple:
    """Modification time and size of every module of this package that holds compiled code
    (all but the pure-Python wrapper, simulate.py)."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                 for p in sorted(_HERE.glob("*.py")) if p.name != "simulate.py")


def _stamp_caches_with_every_kernel_module() -> None:
    """numba reuses a cached function while *its own* file is unchanged, even if a function
    it calls (compiled into it) changed in another module; stamp the kernel's caches with all
    of this package's files instead.  Uses numba's cache locator classes; a no-op where
    numba lacks them."""
    try:
        from numba.core import caching

        registry = caching.CacheImpl._locator_classes
        bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator)
    except (ImportError, AttributeError):  # pragma: no cover - other numba versions
        return

    class _WholePackageStamp:
        def get_source_stamp(self):  # noqa: ANN202
            return _sources_stamp()

        @classmethod
        def from_function(cls, py_func, py_file):  # noqa: ANN001, ANN206
            if Path(py_file).resolve().parent != _HERE:
                return None
            return super().from_function(py_func, py_file)

    ours = [type(f"Kernel{base.__name__}", (_WholePackageStamp, base), {}) for base in bases]
    registry[:] = ours + [c for c in registry if not c.__name__.startswith("Kernel")]


_stamp_caches_with_every_kernel_module()

from queue_sim.kernels.simulate import simulate  # noqa: E402 - needs the two above first
from queue_sim.kernels.stream import summarize_streamed  # noqa: E402

# the runner streams a replication whose records are not kept through this (bounded memory)
simulate.summarize_streamed = summarize_streamed

__all__ = ["NUMBA_OPTIONS", "simulate", "summarize_streamed"]
