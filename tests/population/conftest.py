"""A small, lightly loaded counter with a population, for the population tests."""

from __future__ import annotations

import pytest

from queue_sim.config import scenario_from_dict


def population_scenario(**population) -> dict:
    """Scenario mapping: 2 clerks and a manager, exponential service of mean 1 minute,
    orders wrong with probability 0.2, and ``population`` merged over small defaults."""
    return {
        "name": "population_test",
        "time_unit": "minute",
        "run": {"horizon": 240, "replications": 4, "seed": 11, "engine": "numba"},
        "stations": {"till": {"servers": 2}},
        "staff": {"managers": [{"name": "manager", "home": "till"}]},
        "recovery": {"policy": "queue"},
        "classes": {"walk_in": {
            "arrivals": {"kind": "poisson", "rate": 1.0},
            "service": {"till": {"kind": "exponential", "mean": 1.0}},
            "complaints": {"probability": 0.2,
                           "handling": {"kind": "exponential", "mean": 3.0}},
        }},
        "population": {"customers": 300, "days": 20, "visit_probability": 0.25,
                       **population},
    }


@pytest.fixture
def make_population():
    def make(overrides: dict | None = None, **population):
        data = population_scenario(**population)
        for key, value in (overrides or {}).items():
            node = data
            *parents, last = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        return scenario_from_dict(data)
    return make
