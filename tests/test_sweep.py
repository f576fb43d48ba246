"""Running sweeps: identical numbers on every executor, resume, refusal, failures, precision,
paired differences, the CLI's exit codes and the figures drawn from a results folder."""

from __future__ import annotations

import json
import os
import re
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.image import imread

from queue_sim import cli, stats
from queue_sim.config.sweep import expand, load_sweep, shrink_for_smoke
from queue_sim.counterfactual import counterfactual
from queue_sim.engines import get_engine
from queue_sim.errors import ConfigError
from queue_sim.executors import DaskExecutor, ProcessExecutor
from queue_sim.sweep import SweepFailed, read_replications, replications_dataset, run_sweep

ROOT = Path(__file__).resolve().parents[1]

BASE = {
    "name": "tiny",
    "stations": {"till": {"servers": 1}},
    "classes": {"walkin": {
        "arrivals": {"kind": "poisson", "rate": 0.8},
        "service": {"till": {"kind": "exponential", "mean": 1.0}},
        "patience": {"kind": "exponential", "mean": 10.0},
        "complaints": {"probability": 0.1, "handling": {"kind": "exponential", "mean": 2.0}},
    }},
    "staff": {"managers": [{"name": "manager", "home": "till"}]},
    "recovery": {"policy": "drop_everything"},
    "run": {"customers": 300, "warmup": 5.0, "replications": 3, "seed": 7},
}
GRID = {"stations.till.servers": [1, 2], "recovery.policy": ["drop_everything", "dedicated"]}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    return tmp_path


def write_sweep(folder: Path, name: str = "sweep.yaml", **parts: object) -> Path:
    data = {"base": "base.yaml", "grid": GRID, **parts}
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return folder / name


class CountingEngine:
    """The reference engine, counting its calls (and optionally interrupting after n)."""

    def __init__(self, interrupt_after: int | None = None):
        self.calls, self.interrupt_after = 0, interrupt_after
        self.simulate = get_engine("simpy")

    def __call__(self, scenario, draws):  # noqa: ANN001, ANN204
        if self.interrupt_after is not None and self.calls >= self.interrupt_after:
            raise KeyboardInterrupt
        self.calls += 1
        return self.simulate(scenario, draws)


def parquet_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "replications").glob("*.parquet"))}


# ---------------------------------------------------------------------------------------------
# Reading the replication rows back


def test_points_with_different_metrics_read_as_one_dataset(workdir: Path) -> None:
    one = {"name": "manager", "home": "till"}
    path = write_sweep(workdir, grid={"staff.managers": [[one], [one, {**one, "name": "second"}]]})
    run_sweep(load_sweep(path), "out", progress=False)
    second = "staff:second:utilization"
    files = sorted(Path("out/replications").glob("*.parquet"))
    assert [second in pd.read_parquet(f).columns for f in files].count(True) == 1
    rows = read_replications("out")
    table = replications_dataset("out").to_table().to_pandas()
    for frame in (rows, table):
        assert len(frame) == 2 * 3 and second in frame.columns
        lacking = ~frame["staff.managers"].str.contains("second")
        assert frame.loc[lacking, second].isna().all()
        assert frame.loc[~lacking, second].notna().all()
    pd.testing.assert_frame_equal(table.sort_values(["point_id", "replication"])[rows.columns]
                                  .reset_index(drop=True),
                                  rows.sort_values(["point_id", "replication"])
                                  .reset_index(drop=True), check_dtype=False)


def test_point_ids_that_look_like_numbers_are_read_back(workdir: Path) -> None:
    # '228e96698293' and '051915678269' read as numbers unless point ids are read as text
    path = write_sweep(workdir, grid={"classes.walkin.arrivals.rate": [0.5033, 0.7861]})
    ids = [p.point_id for p in expand(load_sweep(path))]
    assert ids == ["228e96698293", "051915678269"]
    run_sweep(load_sweep(path), "out", progress=False)
    assert read_replications("out")["point_id"].unique().tolist() == ids
    assert replications_dataset("out").count_rows() == 2 * 3


# ---------------------------------------------------------------------------------------------
# Executors give bit-identical results


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "base.yaml").write_text(yaml.safe_dump(BASE))
    path = write_sweep(folder, baseline={"recovery.policy": "drop_everything"},
                       run={"keep_customers": [0]})
    out = folder / "serial"
    run_sweep(load_sweep(path), out, progress=False)
    return path, out


def test_serial_results_folder(serial_run: tuple[Path, Path]) -> None:
    path, out = serial_run
    for name in ("manifest.json", "sweep.yaml", "scenario.resolved.yaml", "points.csv",
                 "summary.csv", "differences.csv"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_finished"] == 4
    assert manifest["sweep_text"] == path.read_text()
    assert manifest["seed"] == 7 and manifest["failures"] == []
    assert manifest["scenario"]["stations"]["till"]["servers"] == 1
    assert {"python", "queue_sim", "numpy"} <= set(manifest["versions"])
    rows = read_replications(out)
    assert list(rows.columns[:4]) == ["stations.till.servers", "recovery.policy", "point_id",
                                      "replication"]
    assert all(stats.parse_metric_column(c) for c in rows.columns[4:])
    assert len(rows) == 4 * 3 and rows["stations.till.servers"].dtype == np.int64
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["stations.till.servers", "recovery.policy", "point_id",
                                     *stats.SUMMARY_COLUMNS]
    point = expand(load_sweep(path))[3]
    tidy = pd.read_csv(out / "points" / point.point_id / "summary.csv")
    assert list(tidy.columns) == stats.SUMMARY_COLUMNS
    assert (out / "points" / point.point_id / "customers.parquet").exists()


def test_common_random_numbers_across_points(serial_run: tuple[Path, Path]) -> None:
    rows = read_replications(serial_run[1])
    arrivals = rows.pivot(index="replication", columns="point_id",
                          values="system:all:n_customers")
    assert (arrivals.nunique(axis=1) == 1).all()   # every point sees the same customers


def test_paired_differences(serial_run: tuple[Path, Path]) -> None:
    out = serial_run[1]
    diff = pd.read_csv(out / "differences.csv")
    rows = read_replications(out)
    assert set(diff["recovery.policy"]) == {"dedicated"} and diff["point_id"].nunique() == 2
    row = diff[(diff["stations.till.servers"] == 2) & (diff["metric"] == "mean_wait")
               & (diff["scope"] == "system")].iloc[0]
    a = rows[rows["point_id"] == row["point_id"]].set_index("replication")
    b = rows[rows["point_id"] == row["baseline_point_id"]].set_index("replication")
    paired = (a["system:all:mean_wait"] - b["system:all:mean_wait"]).to_numpy()
    assert row["mean"] == pytest.approx(paired.mean())
    assert row["reps"] == 3
    half = 4.302652729911275 * paired.std(ddof=1) / np.sqrt(3)   # t(0.975, 2)
    assert row["ci_high"] - row["mean"] == pytest.approx(half)


def test_processes_and_dask_are_bit_identical(serial_run: tuple[Path, Path]) -> None:
    path, serial = serial_run
    sweep = load_sweep(path)
    # the compiled kernel (the default engine) is what runs on every executor here
    assert json.loads((serial / "manifest.json").read_text())["engine"] == "numba"
    with ProcessExecutor(2) as executor:
        run_sweep(sweep, serial.parent / "processes", executor=executor, progress=False)
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
            DaskExecutor(cluster.scheduler_address) as executor:
        assert executor.workers == 2
        run_sweep(sweep, serial.parent / "dask", executor=executor, progress=False)
    expected = parquet_bytes(serial)
    assert len(expected) == 4
    for other in ("processes", "dask"):
        assert parquet_bytes(serial.parent / other) == expected
        pd.testing.assert_frame_equal(read_replications(serial.parent / other),
                                      read_replications(serial), check_exact=True)
        for name in ("summary.csv", "differences.csv"):
            assert (serial.parent / other / name).read_bytes() == (serial / name).read_bytes()


def test_reference_engine_gives_the_same_sweep(serial_run: tuple[Path, Path]) -> None:
    path, numba_run = serial_run
    run_sweep(load_sweep(path), numba_run.parent / "simpy", engine="simpy", progress=False)
    simpy_run = numba_run.parent / "simpy"
    assert json.loads((simpy_run / "manifest.json").read_text())["engine"] == "simpy"
    assert parquet_bytes(simpy_run) == parquet_bytes(numba_run)
    for name in ("summary.csv", "differences.csv"):
        assert (simpy_run / name).read_bytes() == (numba_run / name).read_bytes()


# ---------------------------------------------------------------------------------------------
# Resume, refusal, interruption, failures


def test_rerun_and_resume_skip_finished_points(workdir: Path) -> None:
    sweep = load_sweep(write_sweep(workdir))
    engine = CountingEngine()
    run_sweep(sweep, "out", progress=False, engine=engine)
    assert engine.calls == 4 * 3
    before = {p: p.stat().st_mtime_ns for p in Path("out/replications").glob("*.parquet")}
    engine.calls = 0
    result = run_sweep(sweep, "out", progress=False, engine=engine, resume=True)
    assert engine.calls == 0 and result.n_skipped == 4 and result.n_finished == 0
    after = {p: p.stat().st_mtime_ns for p in Path("out/replications").glob("*.parquet")}
    assert after == before
    victim = sorted(before)[0]
    victim.unlink()
    run_sweep(sweep, "out", progress=False, engine=engine)
    assert engine.calls == 3 and victim.exists()


def test_interrupted_sweep_keeps_finished_points(workdir: Path) -> None:
    sweep = load_sweep(write_sweep(workdir))
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, "out", progress=False, engine=CountingEngine(interrupt_after=7))
    finished = list(Path("out/replications").glob("*.parquet"))
    assert len(finished) == 2   # 7 replications: two whole points of 3
    manifest = json.loads(Path("out/manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["n_finished"] == 2
    assert not list(Path("out").rglob(".*tmp-*"))
    engine = CountingEngine()
    run_sweep(sweep, "out", progress=False, engine=engine, resume=True)
    assert engine.calls == 2 * 3
    reference = workdir / "reference"
    run_sweep(sweep, reference, progress=False)
    assert parquet_bytes(workdir / "out") == parquet_bytes(reference)


class CrashingEngine:
    """The reference engine, but the worker process dies on points with 2 servers."""

    def __call__(self, scenario, draws):  # noqa: ANN001, ANN204
        if scenario.stations["till"].servers == 2:
            os._exit(3)
        return get_engine("simpy")(scenario, draws)


def test_worker_crash_loses_nothing_finished(workdir: Path) -> None:
    sweep = load_sweep(write_sweep(workdir))
    with ProcessExecutor(2) as executor, pytest.raises(BrokenProcessPool):
        run_sweep(sweep, "out", executor=executor, progress=False, engine=CrashingEngine())
    manifest = json.loads(Path("out/manifest.json").read_text())
    assert manifest["status"] == "aborted" and "BrokenProcessPool" in manifest["error"]
    assert not list(Path("out").rglob(".*tmp-*"))
    kept = parquet_bytes(workdir / "out")
    assert manifest["n_finished"] == len(kept) <= 2   # only points with 1 server can finish
    engine = CountingEngine()
    result = run_sweep(sweep, "out", progress=False, engine=engine, resume=True)
    assert result.n_skipped == len(kept) and engine.calls == 3 * (4 - len(kept))
    reference = workdir / "reference"
    run_sweep(sweep, reference, progress=False, engine="simpy")
    assert parquet_bytes(workdir / "out") == parquet_bytes(reference)


def test_folder_of_another_sweep_is_refused(workdir: Path) -> None:
    run_sweep(load_sweep(write_sweep(workdir)), "out", progress=False)
    listing = sorted(str(p) for p in Path("out").rglob("*"))
    other = write_sweep(workdir, "other.yaml", grid={"stations.till.servers": [1, 3]})
    with pytest.raises(ConfigError, match="holds the results of a different sweep"):
        run_sweep(load_sweep(other), "out", progress=False)
    assert cli.main(["sweep", str(other), "--out", "out", "--workers", "1"]) == 2
    assert sorted(str(p) for p in Path("out").rglob("*")) == listing
    Path("junk").mkdir()
    (Path("junk") / "file.txt").write_text("x")
    with pytest.raises(ConfigError, match="without a sweep manifest"):
        run_sweep(load_sweep(other), "junk", progress=False)
    with pytest.raises(ConfigError, match="has no sweep to resume"):
        run_sweep(load_sweep(other), "fresh", progress=False, resume=True)
    assert not Path("fresh").exists()


def failing_sweep(folder: Path) -> Path:
    # max_visits=1 cannot hold a remade order: that point fails while drawing
    return write_sweep(folder, grid={"run.max_visits": [1, 8],
                                     "classes.walkin.complaints.probability": [0.0, 0.5]})


def test_failing_point_is_recorded_and_the_others_finish(workdir: Path) -> None:
    result = run_sweep(load_sweep(failing_sweep(workdir)), "out", progress=False)
    assert result.status == "failed" and result.n_finished == 3
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert failure["factors"] == {"run.max_visits": 1,
                                  "classes.walkin.complaints.probability": 0.5}
    assert failure["error"].startswith("SimulationError: ")
    manifest = json.loads(Path("out/manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["failures"][0]["error"] == failure["error"]
    assert "Traceback" in manifest["failures"][0]["traceback"]
    assert Path(f"out/points/{failure['point_id']}/error.json").exists()
    assert len(pd.read_csv("out/summary.csv")["point_id"].unique()) == 3


def test_fail_fast_stops_at_the_first_failure(workdir: Path) -> None:
    path = failing_sweep(workdir)
    with pytest.raises(SweepFailed, match="SimulationError"):
        run_sweep(load_sweep(path), "out", progress=False, fail_fast=True)
    manifest = json.loads(Path("out/manifest.json").read_text())
    assert manifest["status"] == "failed" and len(manifest["failures"]) == 1
    assert cli.main(["sweep", str(path), "--out", "out2", "--workers", "1"]) == 1
    assert cli.main(["sweep", str(path), "--out", "out3", "--workers", "1",
                     "--fail-fast"]) == 1


# ---------------------------------------------------------------------------------------------
# Progress


def test_progress_plain_lines_when_not_a_terminal(workdir: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    sweep = load_sweep(write_sweep(workdir))
    run_sweep(sweep, "out", progress=False, progress_interval=0.0, engine="simpy")
    lines = capsys.readouterr().err.strip().splitlines()
    status = re.compile(r"\[sweep\] (\d)/4 points, (\d+) replications, [\d.]+ reps/s, "
                        r"elapsed \d+:\d\d:\d\d, ETA (\d+:\d\d:\d\d|\?)$")
    matches = [status.match(line) for line in lines]
    assert lines and all(matches), lines
    assert matches[-1].group(1, 2) == ("4", "12")
    assert any(m.group(3) != "?" for m in matches[:-1])   # an ETA while points are left
    run_sweep(sweep, "out", progress=False, engine="simpy")
    assert "4 point(s) already finished; skipping them" in capsys.readouterr().err


def test_progress_bar_on_a_terminal(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    run_sweep(load_sweep(write_sweep(workdir)), "out", progress=True, engine="simpy")
    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    # points done of all, elapsed<time left (ETA), points and replications per second
    shape = r"sweep: 100%.*\| 4/4 \[\d\d:\d\d<00:00, .*point/s, [\d.]+ reps/s\]"
    assert re.search(shape, bar), bar


# ---------------------------------------------------------------------------------------------
# Precision mode


def test_precision_adds_batches_until_the_target(workdir: Path) -> None:
    precision = {"metric": "system:all:mean_wait", "relative": 0.15, "max_replications": 12,
                 "batch": 2}
    sweep = load_sweep(write_sweep(workdir, grid={"stations.till.servers": [1, 3]},
                                   run={"replications": 2, "precision": precision}))
    run_sweep(sweep, "out", progress=False)
    rows = read_replications("out")
    counts = rows.groupby("stations.till.servers")["replication"].agg(["count", "max"])
    for servers, (count, last) in counts.iterrows():
        assert count == last + 1 and count % 2 == 0 and 2 <= count <= 12
        wait = rows.loc[rows["stations.till.servers"] == servers, "system:all:mean_wait"]
        reached = stats.across_replications(wait.to_frame()).iloc[0]
        half = reached["ci_high"] - reached["mean"]
        assert half <= 0.15 * abs(reached["mean"]) or count == 12
        if count > 2:   # one batch fewer would not have reached the target
            fewer = stats.across_replications(wait.iloc[:-2].to_frame()).iloc[0]
            assert fewer["ci_high"] - fewer["mean"] > 0.15 * abs(fewer["mean"])
    assert counts["count"].max() > 2


def test_unknown_precision_metric_is_refused_before_running(workdir: Path) -> None:
    precision = {"metric": "system:all:mean_wiat", "relative": 0.1, "max_replications": 6}
    sweep = load_sweep(write_sweep(workdir, run={"precision": precision}))
    with pytest.raises(ConfigError, match="did you mean 'system:all:mean_wait'"):
        run_sweep(sweep, "out", progress=False)
    assert not Path("out").exists()


def test_counterfactual_in_a_sweep_equals_the_run_level_counterfactual(workdir: Path) -> None:
    change = {"classes.walkin.complaints.probability": 0}
    sweep = load_sweep(write_sweep(workdir, grid={"recovery.policy": ["drop_everything",
                                                                      "dedicated"]},
                                   counterfactual={"change": change, "threshold": 0.25}))
    run_sweep(sweep, "out", progress=False)
    rows = read_replications("out").sort_values(["recovery.policy", "replication"])
    column = "counterfactual:all:extra_wait_others_per_complaint"
    for point in expand(sweep):
        policy = point.factors["recovery.policy"]
        alone = counterfactual(point.scenario, change, seed=7, threshold=0.25, engine="simpy")
        mine = rows.loc[rows["recovery.policy"] == policy]
        assert np.array_equal(mine[column].to_numpy(), alone.replications[column].to_numpy(),
                              equal_nan=True)
        assert np.array_equal(mine["counterfactual:all:n_delayed"].to_numpy(),
                              alone.replications["counterfactual:all:n_delayed"].to_numpy())
    # the configured runs are the same as without the counterfactual
    assert "system:all:mean_wait" in rows


def test_counterfactual_with_an_unknown_key_is_refused(workdir: Path) -> None:
    path = write_sweep(workdir, counterfactual={
        "change": {"classes.walkin.complaints.probabilty": 0}})
    with pytest.raises(ConfigError, match="counterfactual.change.* did you mean"):
        load_sweep(path)


# ---------------------------------------------------------------------------------------------
# The command line


@pytest.mark.parametrize("parts", [
    {"grid": {"stations.till.serverz": [1, 2]}},
    {"grid": {"stations.till.servers": []}},
    {"grid": {"stations.till.servers": ["x"]}},
    {"sample": {"n": 3, "ranges": {"classes.walkin.arrivals.rate": [0.9, 0.1]}}},
    {"base": "missing.yaml"},
])
def test_cli_bad_sweep_exits_2_and_writes_nothing(workdir: Path, parts: dict,
                                                  capsys: pytest.CaptureFixture) -> None:
    path = write_sweep(workdir, **parts)
    assert cli.main(["sweep", str(path), "--out", "out"]) == 2
    assert not Path("out").exists() and not Path("results").exists()
    assert f"error: {path}: " in capsys.readouterr().err


def test_cli_sweep_with_an_invalid_base_exits_2_and_writes_nothing(
        workdir: Path, capsys: pytest.CaptureFixture) -> None:
    (workdir / "bad.yaml").write_text(yaml.safe_dump({**BASE, "stations": {"till": {
        "servers": -1}}}))
    path = write_sweep(workdir, base="bad.yaml")
    assert cli.main(["sweep", str(path), "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: base must be a valid scenario file" in err
    assert "stations.till.servers must be >= 0 (got -1)" in err
    assert not Path("out").exists() and not Path("results").exists()


def test_cli_sweep_with_an_engine_that_is_not_installed_exits_2(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from queue_sim import engines

    monkeypatch.setitem(engines.ENGINES, "numba", "queue_sim.no_such_kernel:simulate")
    path = write_sweep(workdir, run={"engine": "numba"})
    assert cli.main(["sweep", str(path), "--out", "out"]) == 2
    assert "'numba' is not available" in capsys.readouterr().err
    assert not Path("out").exists()


def test_cli_sweep_then_plot(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    path = write_sweep(workdir, baseline={"recovery.policy": "drop_everything"})
    assert cli.main(["sweep", str(path), "--workers", "1", "--smoke"]) == 0
    out = Path("results/sweep-smoke")
    assert len(list((out / "replications").glob("*.parquet"))) == 4
    assert "4 point(s) run" in capsys.readouterr().out
    assert cli.main(["sweep", str(path), "--workers", "1", "--smoke"]) == 0
    assert "4 already finished" in capsys.readouterr().out
    assert cli.main(["plot", str(out), "--format", "png"]) == 0
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert "mean_wait_vs_stations_till_servers.png" in pngs
    assert "differences_mean_wait.png" in pngs and "heatmap_mean_wait.png" in pngs
    for png in pngs:
        assert (out / "figures" / png).with_suffix(".csv").exists()
    assert cli.main(["plot", "nowhere"]) == 2
    assert cli.main(["plot", str(out), "--format", "gif"]) == 2


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_cli_on_a_local_dask_cluster(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    path = write_sweep(workdir, grid={"recovery.policy": ["queue", "dedicated"]})
    assert cli.main(["sweep", str(path), "--out", "out", "--dask-local", "1"]) == 0
    assert "on dask (1 worker(s))" in capsys.readouterr().out
    assert len(read_replications("out")) == 2 * 3
    with pytest.raises(SystemExit) as info:
        cli.main(["sweep", str(path), "--workers", "2", "--dask-local", "1"])
    assert info.value.code == 2


def test_smoke_runs_the_example_experiment(tmp_path: Path) -> None:
    sweep = shrink_for_smoke(load_sweep(ROOT / "experiments" / "complaint_policy.yaml"))
    result = run_sweep(sweep, tmp_path / "out", progress=False)
    assert result.status == "complete" and result.n_finished == len(expand(sweep))


# ---------------------------------------------------------------------------------------------
# Figures


def test_plot_functions_draw_what_they_save(serial_run: tuple[Path, Path], tmp_path: Path
                                            ) -> None:
    from queue_sim.plots import (
        draw_standard_figures,
        drawn_data,
        plot_differences,
        plot_heatmap,
        plot_metric_vs_factor,
        plot_queue_length,
        plot_wait_ecdf,
        save_figure,
    )

    out = serial_run[1]
    ax = plot_metric_vs_factor(out, metric="system:all:mean_wait",
                               x="stations.till.servers", by="recovery.policy")
    drawn = drawn_data(ax)
    summary = pd.read_csv(out / "summary.csv")
    wait = summary[(summary["scope"] == "system") & (summary["metric"] == "mean_wait")]
    assert sorted(drawn["mean"]) == sorted(wait["mean"])
    assert ax.get_ylabel() == "mean wait in queue (minutes)"
    assert len(ax.get_legend().get_texts()) == 2
    assert len(drawn_data(plot_heatmap(out))) == 4
    assert len(drawn_data(plot_differences(out))) == 2
    ecdf = drawn_data(plot_wait_ecdf(out))
    assert ecdf["ecdf"].iloc[-1] == 1.0 and ecdf["wait_time"].is_monotonic_increasing
    queue = drawn_data(plot_queue_length(out, replication=0))
    lengths = queue.loc[queue["series"] == "queue_length", "queue_length"]
    assert lengths.min() >= 0 and lengths.iloc[0] == 0
    for point in expand(load_sweep(serial_run[0])):   # the title owns up to what is not drawn
        visits = pd.read_parquet(out / "points" / point.point_id / "customers.parquet")
        returns = int(visits.loc[visits["replication"] == 0, "n_preemptions"].sum())
        title = plot_queue_length(out, point=point.point_id, replication=0).get_title()
        assert (f"not drawn: {returns} return(s)" in title.replace("\n", " ")) == (returns > 0)
        if point.factors["recovery.policy"] == "drop_everything":
            assert returns > 0   # the manager leaves the counter for each complaint
    ax = plot_differences(out)
    png = save_figure(ax, tmp_path / "differences", ["png"])[0]
    height, width = imread(png).shape[:2]   # the style's 150 dpi and tight box, label included
    box = ax.figure.get_tightbbox(ax.figure.canvas.get_renderer())
    assert ax.xaxis.label.get_window_extent().x1 / ax.figure.dpi <= box.x1
    assert box.width * 150 <= width <= (box.width + 0.3) * 150
    assert box.height * 150 <= height <= (box.height + 0.3) * 150
    files = draw_standard_figures(out, tmp_path / "figures")
    names = {f.name for f in files}
    assert {"wait_ecdf.png", "wait_ecdf.svg", "wait_ecdf.csv", "queue_length.png"} <= names
    assert all(f.stat().st_size > 0 for f in files)


def test_paired_differences_of_a_sampled_sweep_have_short_labels(workdir: Path) -> None:
    from queue_sim.plots import drawn_data, plot_differences

    path = write_sweep(workdir, grid={"recovery.policy": ["drop_everything", "dedicated"]},
                       sample={"n": 3, "ranges": {"classes.walkin.arrivals.rate": [0.3, 0.9]}},
                       baseline={"recovery.policy": "drop_everything"})
    run_sweep(load_sweep(path), "out", progress=False)
    drawn = drawn_data(plot_differences("out"))
    assert len(drawn) == 3
    for label, rate in zip(drawn["label"], drawn["classes.walkin.arrivals.rate"]):
        assert label == f"policy=dedicated, rate={rate:.4g}" and len(label) < 35


def test_grid_with_a_sampled_factor_draws_no_mixed_heatmap(workdir: Path) -> None:
    from queue_sim.plots import draw_standard_figures, drawn_data, plot_heatmap
    from queue_sim.plots import plot_metric_vs_factor

    path = write_sweep(workdir, sample={"n": 2, "ranges": {
        "classes.walkin.arrivals.rate": [0.3, 0.9]}}, run={"replications": 2})
    run_sweep(load_sweep(path), "out", progress=False)
    with pytest.raises(ValueError, match="several points per cell while "
                                         "classes.walkin.arrivals.rate vary"):
        plot_heatmap("out")
    names = {f.name for f in draw_standard_figures("out", formats=["png"])}
    assert not any(name.startswith("heatmap") for name in names)
    ax = plot_metric_vs_factor("out", x="stations.till.servers", by="recovery.policy")
    assert "varying: classes.walkin.arrivals.rate" in ax.get_title().replace("\n", " ")
    assert len(drawn_data(ax)) == 2 * 2 * 2   # both sampled rates of every grid point
    assert ax.get_xlabel() == "stations.till.servers"   # a count: no unit
    ax = plot_metric_vs_factor("out", x="classes.walkin.arrivals.rate")
    assert ax.get_xlabel() == "classes.walkin.arrivals.rate (per minute)"


def test_plot_single_run_folder(tmp_path: Path) -> None:
    from queue_sim.config.load import load_scenario
    from queue_sim.plots import draw_standard_figures, drawn_data, plot_queue_length
    from queue_sim.results import write_run_dir
    from queue_sim.runner import simulate

    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    scenario = load_scenario(tmp_path / "base.yaml")
    folder = write_run_dir(simulate(scenario, replications=2, keep_customers=[1]),
                           tmp_path / "run")
    files = draw_standard_figures(folder)
    assert sorted(f.name for f in files if f.suffix == ".png") == ["queue_length.png",
                                                                   "wait_ecdf.png"]
    drawn = drawn_data(plot_queue_length(folder))
    assert set(drawn["replication"]) == {1}
    episodes = drawn[drawn["series"] == "complaint_handling"]
    assert (episodes["end"] >= episodes["time"]).all()
    assert os.path.getsize(folder / "figures" / "queue_length.svg") > 0


def test_factor_labels_carry_the_unit_of_their_field(serial_run: tuple[Path, Path]) -> None:
    from queue_sim.plots.base import factor_label, open_results

    res = open_results(serial_run[1])
    assert factor_label(res, "classes.walkin.service.till.mean") == \
        "classes.walkin.service.till.mean (minutes)"
    assert factor_label(res, "classes.walkin.arrivals.rate") == \
        "classes.walkin.arrivals.rate (per minute)"
    assert factor_label(res, "classes.walkin.complaints.probability") == \
        "classes.walkin.complaints.probability"
    assert factor_label(res, "no.such.key") == "no.such.key"
