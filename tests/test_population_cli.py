"""``queue-sim population``: the results folder, the printed table, and bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from queue_sim import cli
from tests.population.conftest import population_scenario


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    data = population_scenario(days=5, complaint_probability=0.5, recovery="full",
                               bystander_counterfactual=True)
    (tmp_path / "pop.yaml").write_text(yaml.safe_dump(data))
    plain = population_scenario()
    del plain["population"]
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(plain))
    return tmp_path


def run_cli(capsys, *argv) -> tuple[int, str, str]:  # noqa: ANN001
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_population_writes_the_folder_and_prints_x(workdir: Path, capsys) -> None:  # noqa: ANN001
    code, out, err = run_cli(capsys, "population", "pop.yaml", "--out", "out",
                             "--replications", "2", "--measure-x", "--no-progress")
    assert code == 0, err
    files = {p.name for p in (workdir / "out").iterdir()}
    assert files == {"summary.csv", "replications.parquet", "series.parquet", "manifest.json",
                     "scenario.resolved.yaml", "value_lost.csv"}
    summary = pd.read_csv(workdir / "out" / "summary.csv")
    assert {"x", "loss_per_incident", "value_lost"} <= set(
        summary.loc[summary["name"] == "vs_no_wrong_orders", "metric"])
    series = pd.read_parquet(workdir / "out" / "series.parquet")
    assert len(series) == 2 * 5 and {"replication", "day", "active"} <= set(series.columns)
    manifest = json.loads((workdir / "out" / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["kind"] == "population"
    assert "x, measured" in out and "customers left after the last day" in out
    assert "extra waiting of others per complaint" in out


@pytest.mark.parametrize("argv, words", [
    (["plain.yaml"], "population is required"),
    (["pop.yaml", "--set", "population.recovery=quick"], "population.recovery must be one of"),
    (["pop.yaml", "--days", "0"], "population.days must be >= 1"),
    (["pop.yaml", "--set", "population.retention.base=1.5"], "population.retention.base"),
    (["missing.yaml"], "must exist"),
])
def test_bad_input_exits_2_and_writes_nothing(workdir: Path, capsys, argv, words) -> None:  # noqa: ANN001
    code, out, err = run_cli(capsys, "population", *argv, "--out", "out")
    assert code == 2
    assert words in err
    assert not (workdir / "out").exists()


def test_check_describes_the_population(workdir: Path, capsys) -> None:  # noqa: ANN001
    code, out, _ = run_cli(capsys, "check", "pop.yaml")
    assert code == 0
    assert "Population: 300 identified customers of class 'walk_in'" in out
    assert "reported with probability 0.5; recovery full" in out
