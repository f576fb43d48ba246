"""The queue-sim command line: run, check, and every kind of bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from queue_sim import cli, engines, results

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SMALL = ["--set", "run.customers=2000", "--set", "run.replications=3"]

BASE = {
    "name": "tiny",
    "stations": {"till": {"servers": 2}},
    "classes": {"walkin": {
        "arrivals": {"kind": "poisson", "rate": 1.5},
        "route": ["till"],
        "service": {"till": {"kind": "lognormal", "mean": 1.0, "cv": 0.5}},
        "patience": {"kind": "exponential", "mean": 10},
        "complaints": {"probability": 0.1, "handling": {"kind": "exponential", "mean": 3}},
    }},
    "staff": {"managers": [{"name": "boss", "home": "till"}]},
    "recovery": {"policy": "drop_everything"},
    "run": {"customers": 1000, "replications": 2, "warmup": 10, "seed": 11},
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder as the working directory, holding ``base.yaml`` and CSV files."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "empty.csv").write_text("t\n")
    (tmp_path / "blank.csv").write_text("")
    (tmp_path / "unsorted.csv").write_text("t\n1\n3\n2\n")
    (tmp_path / "text.csv").write_text("t\n1\nabc\n3\n")
    return tmp_path


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------
# run


def test_run_writes_the_folder_and_prints_key_metrics(workdir: Path, capsys) -> None:  # noqa: ANN001
    code, out, err = run_cli(capsys, "run", CONFIGS / "mm1.yaml", "--out", "out", *SMALL)
    assert code == 0, err
    assert {"summary.csv", "replications.parquet", "manifest.json",
            "scenario.resolved.yaml"} <= {p.name for p in (workdir / "out").iterdir()}
    assert "mean wait in queue" in out and "95% CI" in out and "utilisation [server]" in out
    assert "seed 1" in out
    res = results.read_results(workdir / "out")
    assert res.manifest["n_replications"] == 3
    assert res.manifest["scenario"]["run"]["customers"] == 2000
    assert res.metric("system", "all", "n_customers")["reps"] == 3
    assert 0.6 < res.metric("station", "server", "utilization")["mean"] < 1.0
    assert res.customers is None


def test_run_default_folder_and_customers(workdir: Path, capsys) -> None:  # noqa: ANN001
    code, _, err = run_cli(capsys, "run", "base.yaml", "--customers")
    assert code == 0, err
    res = results.read_results(workdir / "results" / "tiny")
    customers = res.customers
    assert sorted(customers["replication"].unique()) == [0, 1]
    assert {"customer", "class", "outcome", "wait_time", "station", "complained",
            "handling_started_at"} <= set(customers.columns)
    assert res.metric("system", "all", "n_complaints")["mean"] > 0


def test_one_replication_alone_reproduces_it(workdir: Path, capsys) -> None:  # noqa: ANN001
    assert run_cli(capsys, "run", "base.yaml", "--out", "all")[0] == 0
    code, _, err = run_cli(capsys, "run", "base.yaml", "--out", "one", "--replication", "1")
    assert code == 0, err
    every = pd.read_parquet(workdir / "all" / "replications.parquet")
    alone = pd.read_parquet(workdir / "one" / "replications.parquet")
    assert alone["replication"].tolist() == [1]
    pd.testing.assert_series_equal(alone.iloc[0], every.iloc[1], check_names=False)
    assert json.loads((workdir / "one" / "manifest.json").read_text())["replications"] == [1]


def test_seed_flag_and_fresh_seed(workdir: Path, capsys) -> None:  # noqa: ANN001
    code, out, _ = run_cli(capsys, "run", "base.yaml", "--out", "a", "--seed", "5",
                           "--replications", "1")
    assert code == 0 and "seed 5" in out
    code, out, _ = run_cli(capsys, "run", "base.yaml", "--out", "b", "--set", "run.seed=null",
                           "--replications", "1")
    assert code == 0
    seed = json.loads((workdir / "b" / "manifest.json").read_text())["seed"]
    assert isinstance(seed, int) and f"seed {seed}" in out


def test_engine_not_installed_exits_2_and_writes_nothing(workdir: Path, capsys,  # noqa: ANN001
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # base.yaml names no engine, so the default one (numba) is the one that fails
    monkeypatch.setitem(engines.ENGINES, "numba", "queue_sim.no_such_engine:simulate")
    code, _, err = run_cli(capsys, "run", "base.yaml", "--out", "out")
    assert code == 2
    assert "engine 'numba' is not available" in err
    assert not (workdir / "out").exists()
    monkeypatch.setitem(engines.ENGINES, "simpy", "queue_sim.no_such_engine:simulate")
    code, _, err = run_cli(capsys, "run", "base.yaml", "--out", "out", "--engine", "simpy")
    assert code == 2
    assert "engine 'simpy' is not available" in err
    assert not (workdir / "out").exists()


def test_threads_must_be_positive_and_do_not_change_results(workdir: Path,
                                                             capsys) -> None:  # noqa: ANN001
    code, _, err = run_cli(capsys, "run", "base.yaml", "--out", "bad", "--threads", "0")
    assert code == 2 and "--threads must be a positive integer (got 0)" in err
    assert not (workdir / "bad").exists()
    for threads in ("1", "2"):
        code, _, _ = run_cli(capsys, "run", "base.yaml", "--out", f"t{threads}",
                             "--replications", "3", "--threads", threads)
        assert code == 0
    one, two = (results.read_results(workdir / f"t{t}") for t in "12")
    assert (one.manifest["threads"], two.manifest["threads"]) == (1, 2)
    pd.testing.assert_frame_equal(one.replications, two.replications, check_exact=True)


def test_numba_is_the_default_engine_and_simpy_gives_the_same_numbers(
        workdir: Path, capsys) -> None:  # noqa: ANN001
    code, _, _ = run_cli(capsys, "run", "base.yaml", "--out", "fast", "--replications", "2")
    assert code == 0
    code, _, _ = run_cli(capsys, "run", "base.yaml", "--out", "ref", "--replications", "2",
                         "--engine", "simpy")
    assert code == 0
    fast, ref = (results.read_results(workdir / name) for name in ("fast", "ref"))
    assert fast.manifest["engine"] == "numba" and ref.manifest["engine"] == "simpy"
    pd.testing.assert_frame_equal(fast.replications, ref.replications, rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# check


def test_check_describes_the_counter(capsys) -> None:  # noqa: ANN001
    code, out, _ = run_cli(capsys, "check", CONFIGS / "counter_360.yaml")
    assert code == 0
    for text in ("till: 2 clerks + manager = 3 servers", "manager: serves at till",
                 "drop_everything", "complaints: probability 0.08", "rho peak"):
        assert text in out


@pytest.mark.parametrize("config", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_every_config_checks(config: str, capsys) -> None:  # noqa: ANN001
    code, out, err = run_cli(capsys, "check", CONFIGS / config)
    assert code == 0, err
    assert "is valid" in out


def test_check_warns_when_rho_reaches_one(capsys) -> None:  # noqa: ANN001
    code, out, _ = run_cli(capsys, "check", CONFIGS / "mm1.yaml",
                           "--set", "classes.customer.arrivals.rate=1.2")
    assert code == 0
    assert "WARNING: station 'server' is overloaded on average (rho = 1.200" in out


def test_check_load_counts_remakes_and_schedules(capsys) -> None:  # noqa: ANN001
    # schedule 0.9 for 90, 1.6 for 120, 0.9 for 90 over 300: mean 1.18; visits 1 + 0.08
    # (one remake per wrong order; a remake is never wrong again)
    code, out, _ = run_cli(capsys, "check", CONFIGS / "counter_360.yaml")
    row = next(line for line in out.splitlines() if line.strip().startswith("till ") and
               line.split()[1] == "3")
    offered, rho, peak = map(float, row.split()[2:5])
    visits = 1 + 0.08
    assert offered == pytest.approx(1.18 * visits * 1.2, abs=1e-3)
    assert peak == pytest.approx(1.6 * visits * 1.2 / 3, abs=1e-3)
    assert rho == pytest.approx(offered / 3, abs=1e-3)


def test_check_explain_lists_fields(capsys) -> None:  # noqa: ANN001
    code, out, _ = run_cli(capsys, "check", "--explain")
    assert code == 0
    for text in ("stations.<name>.servers", "int, >= 0; default 1", "run.warmup",
                 "classes.<name>.arrivals.rate", "[poisson]", "recovery.policy",
                 "{kind: lognormal}.cv", "staff.managers.<i>.home"):
        assert text in out


def test_module_entry_point(workdir: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "queue_sim", "check", "base.yaml"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Scenario 'tiny'" in done.stdout


# ---------------------------------------------------------------------------------------------
# bad input: exit 2, the file and the dotted key named, nothing written

BAD = [
    ("stations.till.servrs=2", "stations.till.servrs", "did you mean 'stations.till.servers'"),
    ("classes.walkin.arrivals.rate=0", "classes.walkin.arrivals.rate", "must be > 0"),
    ("classes.walkin.arrivals.rate=-2", "classes.walkin.arrivals.rate", "must be > 0"),
    ("classes.walkin.service.till.mean=-1", "classes.walkin.service.till.mean", "must be > 0"),
    ("classes.walkin.patience.mean=0", "classes.walkin.patience.mean", "must be > 0"),
    ("classes.walkin.service.till.cv=-0.5", "classes.walkin.service.till.cv", "must be >= 0"),
    ("classes.walkin.complaints.probability=1.5", "classes.walkin.complaints.probability",
     "must be <= 1"),
    ("classes.walkin.complaints.probability=-0.1", "classes.walkin.complaints.probability",
     "must be >= 0"),
    ("classes.walkin.patience.kind=exponentail", "classes.walkin.patience.kind",
     "did you mean 'exponential'"),
    ("classes.walkin.route=[tll]", "classes.walkin.route", "did you mean 'till'"),
    ("classes.walkin.arrivals={kind: trace, file: empty.csv}", "classes.walkin.arrivals.file",
     "at least one value"),
    ("classes.walkin.arrivals={kind: trace, file: blank.csv}", "classes.walkin.arrivals.file",
     "readable CSV"),
    ("classes.walkin.arrivals={kind: trace, file: unsorted.csv}", "classes.walkin.arrivals.file",
     "sorted in increasing order"),
    ("classes.walkin.arrivals={kind: trace, file: text.csv}", "classes.walkin.arrivals.file",
     "numbers only; row 3"),
    ("classes.walkin.arrivals={kind: trace, file: missing.csv}", "classes.walkin.arrivals.file",
     "existing CSV file"),
    ("classes.walkin.arrivals={kind: schedule, times: [0, 60, 30], rates: [1, 2, 1]}",
     "classes.walkin.arrivals", "strictly increasing"),
    ("classes.walkin.arrivals={kind: schedule, times: [0, 60, 60], rates: [1, 2, 1]}",
     "classes.walkin.arrivals", "strictly increasing"),
    ("run.replications=0", "run.replications", "must be >= 1"),
    ("run={horizon: 5, warmup: 10}", "run", "warmup (10.0) must be shorter than horizon"),
    ("staff.managers.0.home=kitchen", "staff.managers.0.home", "known station"),
]


@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize(("override", "key", "message"), BAD, ids=[b[0][:40] for b in BAD])
def test_bad_input_exits_2(workdir: Path, capsys, command: str, override: str,  # noqa: ANN001
                           key: str, message: str) -> None:
    extra = ["--out", "out"] if command == "run" else []
    code, out, err = run_cli(capsys, command, "base.yaml", *extra, "--set", override)
    assert code == 2
    assert f"base.yaml: {key} " in err
    assert message in err
    assert out == ""
    assert not (workdir / "out").exists() and not (workdir / "results").exists()


@pytest.mark.parametrize("flags", [["--replications", "0"], ["--replications", "-3"],
                                   ["--replication", "-1"], ["--set", "run.engine=fast"],
                                   ["--set", "nokey"]])
def test_bad_flags_exit_2(workdir: Path, capsys, flags: list[str]) -> None:  # noqa: ANN001
    code, _, err = run_cli(capsys, "run", "base.yaml", "--out", "out", *flags)
    assert code == 2 and err.startswith("error: ")
    assert not (workdir / "out").exists()


def test_missing_file_and_bad_yaml(workdir: Path, capsys) -> None:  # noqa: ANN001
    code, _, err = run_cli(capsys, "run", "nope.yaml")
    assert code == 2 and "nope.yaml" in err
    (workdir / "broken.yaml").write_text("stations: [unclosed\n")
    code, _, err = run_cli(capsys, "check", "broken.yaml")
    assert code == 2 and "broken.yaml: file must be valid YAML" in err
    assert not (workdir / "results").exists()


def test_usage_errors_exit_2(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "x.yaml", "--engine", "fast"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_public_api_is_curated_and_light() -> None:
    code = ("import sys, queue_sim; "
            "assert sorted(queue_sim.__all__) == sorted(['load_scenario', 'Scenario', 'simulate', "
            "'Results', 'read_results', 'Trace', 'ConfigError', 'QueueSimError', '__version__', "
            "'load_sweep', 'Sweep', 'run_sweep', 'SweepResult']); "
            "assert all(hasattr(queue_sim, name) for name in queue_sim.__all__); "
            "assert queue_sim.simulate.__module__ == 'queue_sim.runner'; "
            "assert queue_sim.run_sweep.__module__ == 'queue_sim.sweep'; "
            "assert queue_sim.load_sweep.__module__ == 'queue_sim.config.sweep'; "
            "assert 'numba' not in sys.modules and 'simpy' not in sys.modules, 'heavy import'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
