"""queue_sim: queue and wait-time discrete-event simulation (SimPy reference + Numba kernel).

The curated public API.  Importing it loads the config layer, the runner and pandas, but
never simpy or numba: engines are imported when a run first needs them.

>>> import queue_sim
>>> scenario = queue_sim.load_scenario("configs/mm1.yaml")      # doctest: +SKIP
>>> results = queue_sim.simulate(scenario, replications=5)      # doctest: +SKIP
>>> results.summary                                             # doctest: +SKIP
>>> sweep = queue_sim.load_sweep("experiments/complaint_policy.yaml")  # doctest: +SKIP
>>> queue_sim.run_sweep(sweep, "results/complaint_policy")      # doctest: +SKIP
"""

from __future__ import annotations

from importlib import metadata as _metadata

from queue_sim.config import Scenario, load_scenario
from queue_sim.config.sweep import Sweep, load_sweep
from queue_sim.errors import ConfigError, QueueSimError
from queue_sim.results import read_results
from queue_sim.runner import Results, simulate
from queue_sim.sweep import SweepResult, run_sweep
from queue_sim.trace import Trace

try:
    __version__ = _metadata.version("queue_sim")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "ConfigError",
    "QueueSimError",
    "Results",
    "Scenario",
    "Sweep",
    "SweepResult",
    "Trace",
    "__version__",
    "load_scenario",
    "load_sweep",
    "read_results",
    "run_sweep",
    "simulate",
]
