"""The engine registry: a name -> a ``simulate(scenario, draws) -> Trace`` callable.

Engines are imported lazily, so importing queue_sim (or validating a config) never pulls in
simpy or numba.  Imports nothing from stats, runner, results or the CLI.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from queue_sim.errors import QueueSimError

if TYPE_CHECKING:
    from queue_sim.config.schema import Scenario
    from queue_sim.rng import Draws
    from queue_sim.trace import Trace

    Engine = Callable[[Scenario, Draws], Trace]

ENGINES: dict[str, str] = {
    "simpy": "queue_sim.model.simulate:simulate",    # the readable reference model
    "numba": "queue_sim.kernels.simulate:simulate",  # the fast kernel of the same model
}
"""Engine name -> ``"module:function"``, naming the module that defines the function (a
package that re-exports it briefly holds the submodule under that name while it imports);
add an entry to register another engine."""

# Tasks on a Dask worker's threads ask for the engine at the same moment; one import at a time
# keeps a thread from seeing the other's half-imported package.
_IMPORT_LOCK = threading.Lock()


class EngineError(QueueSimError):
    """An engine name is unknown or its module cannot be imported."""


def get_engine(name: str) -> Engine:
    """Return the ``simulate(scenario, draws) -> Trace`` function of an engine.

    Parameters
    ----------
    name
        A key of ``ENGINES`` (``"simpy"`` or ``"numba"``).

    Raises
    ------
    EngineError
        For an unknown name, or when the engine's module is missing or fails to import
        (the message says which, and what the original error was).
    """
    target = ENGINES.get(name)
    if target is None:
        raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    module_name, func_name = target.split(":")
    try:
        with _IMPORT_LOCK:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineError(f"engine {name!r} is not available: cannot import {module_name} "
                          f"({exc})") from exc
    func = getattr(module, func_name, None)
    if not callable(func):
        raise EngineError(f"engine {name!r} is not available: {module_name} has no "
                          f"{func_name}() yet")
    return func
