"""results: atomic run folders and the read-back round trip; runner seeds and kept customers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from queue_sim import engines, results, runner, stats
from queue_sim.config.load import scenario_from_dict
from queue_sim.runner import Results

TINY = {
    "name": "tiny",
    "stations": {"till": {"servers": 1}},
    "classes": {"walkin": {"arrivals": {"kind": "poisson", "rate": 0.5},
                           "service": {"till": {"kind": "exponential", "mean": 1.0}}}},
    "run": {"customers": 300, "replications": 2},
}


def make_results(with_customers: bool = True) -> Results:
    """A small Results built by hand (no engine needed)."""
    reps = pd.DataFrame({"replication": [0, 1, 2],
                         "system:all:mean_wait": [1.0, 2.0, np.nan],
                         "station:NA:utilization": [0.5, 0.6, 0.7]})
    customers = None
    if with_customers:
        customers = pd.DataFrame({
            "replication": [0, 0], "customer": [0, 1],
            "class": pd.Categorical(["walkin", "walkin"]),
            "outcome": pd.Categorical(["served", "abandoned"]),
            "wait_time": [0.0, 1.5], "station": ["till", "till"]})
    manifest = {"scenario": {"name": "tiny", "run": {"seed": 3}}, "seed": 3,
                "replications": [0, 1, 2], "engine": "simpy"}
    return Results(summary=stats.across_replications(reps), replications=reps,
                   customers=customers, manifest=manifest)


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_round_trip(tmp_path: Path) -> None:
    original = make_results()
    folder = results.write_run_dir(original, tmp_path / "run")
    assert set(siblings(folder)) == set(results.FILES)
    back = results.read_results(folder)
    pd.testing.assert_frame_equal(back.summary, original.summary, check_dtype=False)
    pd.testing.assert_frame_equal(back.replications, original.replications)
    pd.testing.assert_frame_equal(back.customers, original.customers)
    assert back.manifest == original.manifest
    assert back.metric("station", "NA", "utilization")["mean"] == pytest.approx(0.6)
    resolved = (folder / "scenario.resolved.yaml").read_text()
    assert "name: tiny" in resolved
    assert siblings(tmp_path) == ["run"]


def test_without_customers_and_default_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.chdir(tmp_path)
    folder = results.write_run_dir(make_results(with_customers=False))
    assert folder == Path("results/tiny")
    assert not (folder / "customers.parquet").exists()
    assert results.read_results(folder).customers is None


def test_failure_mid_write_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)  # after summary.csv is written
    with pytest.raises(OSError, match="disk full"):
        results.write_run_dir(make_results(), tmp_path / "run")
    assert siblings(tmp_path) == []


def test_failure_keeps_the_previous_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = results.write_run_dir(make_results(), tmp_path / "run")
    before = (folder / "manifest.json").read_text()
    monkeypatch.setattr(results, "_write_files", lambda res, where: (
        (where / "summary.csv").write_text("partial"), 1 / 0))
    with pytest.raises(ZeroDivisionError):
        results.write_run_dir(make_results(), folder)
    assert siblings(tmp_path) == ["run"]
    assert (folder / "manifest.json").read_text() == before


def test_failed_rename_puts_the_previous_run_back(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = results.write_run_dir(make_results(), tmp_path / "run")
    real_replace = os.replace
    calls = []

    def flaky(src, dst):  # noqa: ANN001, ANN202
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # the new folder moving into place
            raise OSError("rename failed")
        return real_replace(src, dst)

    monkeypatch.setattr(results.os, "replace", flaky)
    with pytest.raises(OSError, match="rename failed"):
        results.write_run_dir(make_results(with_customers=False), folder)
    assert siblings(tmp_path) == ["run"]
    assert (folder / "customers.parquet").exists()  # the old run, intact


def test_rewrite_replaces_the_whole_folder(tmp_path: Path) -> None:
    folder = results.write_run_dir(make_results(), tmp_path / "run")
    (folder / "stale.txt").write_text("old")
    results.write_run_dir(make_results(with_customers=False), folder)
    assert set(siblings(folder)) == set(results.FILES) - {"customers.parquet"}
    assert siblings(tmp_path) == ["run"]


def test_read_results_rejects_other_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="summary.csv"):
        results.read_results(tmp_path)


# ---------------------------------------------------------------------------------------------
# runner pieces that do not need the engine


def test_seed_resolution() -> None:
    with_seed = scenario_from_dict({**TINY, "run": {**TINY["run"], "seed": 9}})
    without = scenario_from_dict(TINY)
    assert runner.resolve_seed(with_seed, None) == 9
    assert runner.resolve_seed(with_seed, 9) == 9
    assert runner.resolve_seed(without, 4) == 4
    fresh = runner.resolve_seed(without, None)
    assert isinstance(fresh, int) and 0 <= fresh < 2**63
    with pytest.raises(ValueError, match="run.seed"):
        runner.resolve_seed(with_seed, 5)


def test_unknown_and_missing_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(engines.EngineError, match="unknown engine 'fast'.*simpy"):
        engines.get_engine("fast")
    monkeypatch.setitem(engines.ENGINES, "numba", "queue_sim.no_such_kernel:simulate")
    with pytest.raises(engines.EngineError, match="'numba' is not available"):
        engines.get_engine("numba")


def test_manifest_contents() -> None:
    manifest = runner.build_manifest(scenario_from_dict(TINY), seed=1, replications=[0, 1],
                                     engine="simpy", wall_time=0.5)
    json.dumps(manifest)  # serialisable as is
    assert manifest["scenario"]["name"] == "tiny"
    assert {"queue_sim", "python", "numpy", "numba", "simpy", "pandas"} <= set(
        manifest["versions"])
    assert manifest["seed"] == 1 and manifest["n_replications"] == 2


def test_simulate_with_a_stub_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's plumbing (seeds, kept customers, columns) with a trivial engine."""
    from queue_sim.trace import Outcome, Trace

    def instant(scenario, draws):  # noqa: ANN001, ANN202 - every customer served at once
        n = draws.n_customers
        trace = Trace.empty(n, draws.visit_ptr, draws.station, draws.is_rework, n_staff=0,
                            n_stations=1, warmup=0.0, horizon=draws.horizon,
                            ended_at=draws.horizon, station_names=["till"],
                            class_names=["walkin"])
        trace.arrived_at[:] = trace.left_at[:] = draws.arrived_at
        trace.queued_at[:] = trace.service_started_at[:] = draws.arrived_at[trace.visit_customer]
        trace.outcome[:] = Outcome.SERVED
        return trace

    monkeypatch.setattr(runner, "get_engine", lambda name: instant)
    res = runner.simulate(scenario_from_dict(TINY), seed=5, keep_customers=[1], progress=False)
    assert res.replications["replication"].tolist() == [0, 1]
    assert res.manifest["seed"] == 5 and res.manifest["scenario"]["run"]["seed"] == 5
    assert res.customers["replication"].unique().tolist() == [1]
    assert {"customer", "wait_time", "station", "queued_at"} <= set(res.customers.columns)
    assert res.metric("system", "all", "mean_wait")["mean"] == 0
    assert res.metric("system", "all", "n_customers")["reps"] == 2
    again = runner.simulate(scenario_from_dict(TINY), seed=5, replications=[1], progress=False)
    pd.testing.assert_series_equal(again.replications.iloc[0], res.replications.iloc[1],
                                   check_names=False)
    with pytest.raises(ValueError, match="replications"):
        runner.simulate(scenario_from_dict(TINY), seed=5, replications=0)
