"""The README's Python example runs as written (from the repository root) and gives what its
comments say: a tidy summary, one row per replication, and the kept replication's visits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # the scenario example (the sweep example runs a whole experiment: tests/test_sweep.py)
    blocks = [b for b in python_blocks() if "queue_sim.simulate(" in b]
    assert len(blocks) == 1, "the README's Python example of simulate is missing"
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 - our own README
    results = namespace["results"]
    assert list(results.summary.columns) == ["scope", "name", "metric", "mean", "ci_low",
                                             "ci_high", "std", "reps"]
    assert len(results.replications) == 10
    assert set(results.customers["replication"]) == {0}
    assert results.manifest["seed"] == 2026
    assert namespace["scenario"].recovery.policy == "queue"
