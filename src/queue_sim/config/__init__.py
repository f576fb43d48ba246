"""Scenario configuration: schema, distributions and loading (no simpy or numba here)."""

from queue_sim.config.load import load_scenario, scenario_from_dict
from queue_sim.config.schema import Scenario

__all__ = ["Scenario", "load_scenario", "scenario_from_dict"]
