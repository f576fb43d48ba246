"""The SimPy reference model: readable, complete, and the place new behaviour lands first."""

from queue_sim.model.simulate import simulate

__all__ = ["simulate"]
