"""queue-sim validate: table, files, figure, exit codes (the cases themselves: tests/validation)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from queue_sim import cli, engines, validation
from queue_sim.commands import validate as command


def run_cli(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small_cases(monkeypatch: pytest.MonkeyPatch) -> dict[str, validation.Case]:
    """M/M/1 cut to 8000 customers x 5 replications, and a copy whose theory is wrong."""
    mm1 = next(c for c in validation.CASES if c.name == "M/M/1")
    small = dataclasses.replace(mm1, name="small M/M/1", customers=8000, quick_factor=4,
                                replications=5, checks=mm1.checks[-1:])  # utilization only
    wrong = dataclasses.replace(small, name="wrong", checks=[
        validation.Check("system", "all", "utilization", 0.9)])       # the truth is 0.8
    cases = {c.name: c for c in (small, wrong)}
    monkeypatch.setattr(validation, "CASES", [*validation.CASES, small, wrong])
    return cases


@pytest.fixture
def no_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(engines.ENGINES, "numba", "queue_sim.no_such_kernel:simulate")


def test_a_passing_case_writes_table_figure_and_manifest(capsys, tmp_path,  # noqa: ANN001
                                                         small_cases) -> None:
    code, out, err = run_cli(capsys, "validate", "--engine", "simpy", "--quick",
                             "--case", "small m/m/1", "--out", tmp_path)
    assert code == 0, out + err
    assert "99.9% CI" in out and "rel. error" in out and "pass" in out
    assert "simpy: 1/1 cases passed" in out
    table = pd.read_csv(tmp_path / "validation.csv")
    assert table[["case", "engine", "metric", "passed"]].values.tolist() == [
        ["small M/M/1", "simpy", "utilization", True]]
    assert table["exact"].iloc[0] == pytest.approx(0.8)
    assert (table["confidence"] == validation.CONFIDENCE).all() and table["quick"].all()
    drawn = pd.read_csv(tmp_path / "validation_figure.csv")
    assert {"label", "y", "marker", "exact", "simulated", "rel_error",
            "rel_half_width", "tolerance"} <= set(drawn.columns)
    assert (tmp_path / "validation.png").stat().st_size > 10_000
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["cases_passed"] == {"simpy": 1} and manifest["quick"] is True


def test_a_failing_case_exits_1(capsys, tmp_path, small_cases) -> None:  # noqa: ANN001
    code, out, err = run_cli(capsys, "validate", "--engine", "simpy", "--quick",
                             "--case", "wrong", "--out", tmp_path)
    assert code == 1
    assert "FAIL" in out and "FAILED: wrong [simpy]" in err
    assert not pd.read_csv(tmp_path / "validation.csv")["passed"].any()


def test_both_engines_without_numba_is_bad_input(capsys, tmp_path, no_numba) -> None:  # noqa: ANN001
    for engine in ("both", "numba"):
        code, _, err = run_cli(capsys, "validate", "--engine", engine, "--out", tmp_path)
        assert code == 2
        assert "--engine needs the numba engine, which is unavailable" in err
        assert "queue_sim.no_such_kernel" in err
    assert not list(tmp_path.iterdir())


def test_default_engine_is_simpy_without_numba(no_numba) -> None:  # noqa: ANN001
    assert command._engines(None) == ["simpy"]


def test_default_engine_is_both_with_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command, "numba_status", lambda: None)
    assert command._engines(None) == ["simpy", "numba"]


def test_an_unknown_case_is_bad_input_with_a_suggestion(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, _, err = run_cli(capsys, "validate", "--case", "mm1", "--case", "erlang a",
                           "--out", tmp_path)
    assert code == 2
    assert "(got 'mm1'); did you mean 'M/M/1'?" in err
    assert "(got 'erlang a'); did you mean 'Erlang-A'?" in err
