"""The Numba kernel of the service-system model: the fast path, equal to ``queue_sim.model``.

``simulate(scenario, draws) -> Trace`` has the reference's signature and output.  The kernel
mirrors ``model/counter.py`` handler by handler (``_handlers.py``), with the event calendar and
station queues as binary heaps in preallocated arrays (``_state.py``) and the main loop in
``_loop.py``.  Imports config, rng, trace and model.staff; never runner, results or plots.

Parity table
------------
Every feature of the reference model, whether the kernel has it, and the cross-check that
compares the two engines on identical draws (``tests/crosscheck/test_reference_vs_kernel.py``:
``configs`` = every ``configs/*.yaml``, ``combos`` = the hand-written feature grid,
``hypothesis`` = random small scenarios; ``edge`` = ``tests/kernels/test_edge_cases.py``).

==============================================  =========  ======  ==========================
feature                                          reference  kernel  cross-tested in
==============================================  =========  ======  ==========================
several classes and stations                     yes        yes     configs, combos, hypothesis
fixed routes, probabilistic routing, rework      yes        yes     combos, hypothesis
batch, scheduled (NHPP) and trace arrivals       yes        yes     configs, combos (via Draws)
patience (abandonment)                           yes        yes     configs, combos, hypothesis
balking: max_queue, join_probability             yes        yes     combos, hypothesis
capacity (lost customers)                        yes        yes     configs, combos, hypothesis
disciplines fifo / priority / preemptive         yes        yes     configs, combos, hypothesis
priority remakes (rework_priority)               yes        yes     combos, hypothesis
shift schedules, on_shift_end finish/hand_back   yes        yes     combos, hypothesis
breakdowns, clock always/busy                    yes        yes     combos, hypothesis
breakdowns, in_service wait/hand_back            yes        yes     combos, hypothesis
vacations multiple/single                        yes        yes     combos, hypothesis
recovery policies (all five)                     yes        yes     configs, combos, hypothesis
acknowledgements (per customer/announcement)     yes        yes     combos, hypothesis
floating and home managers                       yes        yes     combos, hypothesis
drain limit, end-of-run advance to the horizon   yes        yes     edge, combos
time integrals (queue/system area, staff time)   yes        yes     all of the above
==============================================  =========  ======  ==========================

Numba options
-------------
``NUMBA_OPTIONS`` is the one place every kernel function takes its options from: cached
compilation, no fastmath (equality with the reference matters more than a few percent), and
the GIL released so threads can run replications side by side.
"""

NUMBA_OPTIONS = {"cache": True, "fastmath": False, "nogil": True, "boundscheck": False}

from queue_sim.kernels.simulate import simulate  # noqa: E402 - needs NUMBA_OPTIONS first

__all__ = ["NUMBA_OPTIONS", "simulate"]
