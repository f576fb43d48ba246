"""Builders for hand-traced scenarios: fixed arrival times and fixed service times.

Each customer class gets its own one-column arrival trace, so a test spells out exactly who
arrives when and how long they take.  Shared by the reference-model tests and the kernel tests.
"""

from __future__ import annotations

from pathlib import Path

from queue_sim.config import scenario_from_dict
from queue_sim.engines import get_engine
from queue_sim.rng import draw
from queue_sim.trace import Trace


def fixed(value: float) -> dict:
    return {"kind": "deterministic", "value": value}


def build(tmp_path: Path, classes: dict[str, dict], stations: dict | None = None,
          **top) -> object:
    """A scenario whose class ``name`` arrives at ``classes[name]['at']`` (list of times)."""
    data_classes = {}
    for name, spec in classes.items():
        spec = dict(spec)
        file = tmp_path / f"{name}.csv"
        file.write_text("time\n" + "\n".join(str(t) for t in spec.pop("at")) + "\n")
        service = spec.pop("service")
        if not isinstance(service, dict) or "kind" in service:
            service = {"till": service if isinstance(service, dict) else fixed(service)}
        data_classes[name] = {"arrivals": {"kind": "trace", "file": str(file)},
                              "service": service, **spec}
    data = {"run": {"horizon": 1000, "seed": 1, "replications": 1},
            "stations": stations or {"till": {"servers": 1}}, "classes": data_classes, **top}
    return scenario_from_dict(data, base_dir=tmp_path)


def run(scenario, engine: str = "simpy") -> Trace:  # noqa: ANN001
    return get_engine(engine)(scenario, draw(scenario, 1, 0))
