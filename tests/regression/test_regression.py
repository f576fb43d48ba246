"""queue-sim regress: the smoke scenario against its golden, and each comparison mode in isolation.

The golden ``golden/smoke_regression.json`` is written only by ``queue-sim regress
experiments/smoke_regression.yaml --baseline tests/regression/golden/smoke_regression.json
--update`` and its diff is reviewed in the PR (CHANGELOG.md, "Changed outputs").
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps

from queue_sim import cli, engines, regress

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "experiments" / "smoke_regression.yaml"
GOLDEN = ROOT / "tests" / "regression" / "golden" / "smoke_regression.json"

TINY = {
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
    "run": {"customers": 300, "replications": 3, "warmup": 10, "seed": 11},
}


def run_cli(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def smoke_run() -> regress.Record:
    return regress.run_target(regress.load_target(SMOKE))


@pytest.fixture(scope="module")
def golden() -> regress.Record:
    return regress.read_baseline(GOLDEN)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def _with(record: regress.Record, summary: pd.DataFrame) -> regress.Record:
    return regress.Record(**{**record.__dict__, "summary": summary})


def _row(summary: pd.DataFrame, scope: str, name: str, metric: str) -> pd.Series:
    return ((summary["scope"] == scope) & (summary["name"] == name)
            & (summary["metric"] == metric))


# ---------------------------------------------------------------------------------------------
# The dogfood: the smoke scenario against its committed golden


def test_smoke_regression_is_bit_identical_to_its_golden(capsys, tmp_path) -> None:  # noqa: ANN001
    report = tmp_path / "report.xml"
    code, out, err = run_cli(capsys, "regress", SMOKE, "--baseline", GOLDEN, "--junit", report)
    assert code == 0, out + err
    assert "0 moved (0 numbers)" in out and out.rstrip().endswith("OK")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("tests")) == len(
        regress.read_baseline(GOLDEN).summary)


def test_golden_exercises_the_counter(golden: regress.Record) -> None:
    s = golden.summary.set_index(["scope", "name", "metric"])["mean"]
    assert golden.kind == "scenario" and golden.seed == 20261122 and golden.engine == "simpy"
    assert golden.replications == 4
    for metric in ("abandonment_rate", "n_complaints", "n_bystanders", "mean_wait"):
        assert s[("system", "all", metric)] > 0, metric
    assert s[("staff", "manager", "complaint_time")] > 0


def test_same_run_is_not_flagged_in_either_mode(smoke_run, golden) -> None:  # noqa: ANN001
    assert not regress.compare_exact(golden, smoke_run).regressed
    statistical = regress.compare_statistical(golden, smoke_run)
    assert statistical.n_moved == 0
    tested = statistical.metrics["p_value"].notna()
    assert tested.all() and (statistical.metrics.loc[tested, "p_adjusted"] == 1.0).all()


# ---------------------------------------------------------------------------------------------
# Statistical mode


def test_a_shifted_metric_is_flagged_and_nothing_else(smoke_run) -> None:  # noqa: ANN001
    summary = smoke_run.summary.copy()
    at = _row(summary, "system", "all", "mean_wait")
    std, reps = summary.loc[at, "std"].item(), summary.loc[at, "reps"].item()
    shift = 12 * std * math.sqrt(2 / reps)          # 12 standard errors of the difference
    summary.loc[at, "mean"] += shift
    comparison = regress.compare_statistical(smoke_run, _with(smoke_run, summary))
    assert comparison.regressed
    moved = comparison.changes
    assert moved[["scope", "name", "metric"]].values.tolist() == [["system", "all", "mean_wait"]]
    row = moved.iloc[0]
    assert row["difference"] == pytest.approx(shift)
    assert row["diff_ci_low"] < shift < row["diff_ci_high"]
    assert row["rel_difference"] > 0 and row["p_adjusted"] <= regress.ALPHA


def test_noise_sized_differences_are_not_flagged(smoke_run) -> None:  # noqa: ANN001
    summary = smoke_run.summary.copy()
    # every metric moves by one standard error of the difference: consistent with noise
    se = summary["std"] * np.sqrt(2 / summary["reps"])
    summary["mean"] = summary["mean"] + se.fillna(0)
    comparison = regress.compare_statistical(smoke_run, _with(smoke_run, summary))
    assert comparison.n_moved == 0


def test_holm_matches_a_hand_computation() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max
    adjusted = regress.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(regress.holm([math.nan, 0.01, 0.02]), [math.nan, 0.02, 0.02])
    assert regress.holm([0.6, 0.9]).tolist() == [1.0, 1.0]


def test_holm_correction_decides_what_moves(smoke_run) -> None:  # noqa: ANN001
    """A p-value of about 0.004 is significant alone, but not among all the metrics."""
    summary = smoke_run.summary.copy()
    at = _row(summary, "system", "all", "mean_wait")
    std, reps = summary.loc[at, "std"].item(), summary.loc[at, "reps"].item()
    n = int(reps)
    t_wanted = sps.t.isf(0.002, 2 * n - 2)            # two-sided p = 0.004 (equal stds)
    summary.loc[at, "mean"] += t_wanted * std * math.sqrt(2 / n)
    comparison = regress.compare_statistical(smoke_run, _with(smoke_run, summary))
    row = comparison.metrics[_row(comparison.metrics, "system", "all", "mean_wait")].iloc[0]
    assert row["p_value"] == pytest.approx(0.004, rel=1e-6)
    m = int(comparison.metrics["p_value"].notna().sum())
    assert row["p_adjusted"] == pytest.approx(min(1.0, m * 0.004), rel=1e-6)
    assert not comparison.regressed                 # 0.004 * m > 0.01
    alone = regress.compare_statistical(smoke_run.summary[at], summary[at])
    assert alone.regressed                          # a family of one: 0.004 <= 0.01


def test_welch_agrees_with_scipy_and_handles_degenerate_samples() -> None:
    t, df, p = regress.welch(1.0, 0.5, 5, 1.8, 0.9, 7)
    ref = sps.ttest_ind_from_stats(1.8, 0.9, 7, 1.0, 0.5, 5, equal_var=False)
    assert t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert regress.welch(2.0, 0.0, 4, 2.0, 0.0, 4)[2] == 1.0
    assert regress.welch(2.0, 0.0, 4, 3.0, 0.0, 4)[2] == 0.0
    assert math.isnan(regress.welch(2.0, math.nan, 1, 3.0, 0.1, 4)[2])


def test_a_metric_defined_in_one_run_only_has_moved(smoke_run) -> None:  # noqa: ANN001
    summary = smoke_run.summary.copy()
    at = _row(summary, "system", "all", "mean_sojourn")
    summary.loc[at, ["mean", "ci_low", "ci_high", "std"]] = math.nan
    comparison = regress.compare_statistical(smoke_run, _with(smoke_run, summary))
    assert comparison.changes["metric"].tolist() == ["mean_sojourn"]
    assert comparison.changes["note"].iloc[0] == "defined only in the baseline"


# ---------------------------------------------------------------------------------------------
# Exact mode


def test_exact_mode_lists_every_number_that_moved(capsys, tmp_path, golden) -> None:  # noqa: ANN001
    doc = json.loads(GOLDEN.read_text())
    rows = {(r["scope"], r["name"], r["metric"]): r for r in doc["summary"]}
    wait = rows[("system", "all", "mean_wait")]
    true_wait = wait["mean"]
    wait["mean"] = float(np.nextafter(true_wait, 0))     # one ulp: still a regression
    rows[("station", "till", "n_visits")]["reps"] = 3
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc))

    comparison = regress.compare_exact(regress.read_baseline(changed), golden)
    assert comparison.n_moved == 2
    c = comparison.changes.set_index(["metric", "field"])
    assert c.loc[("mean_wait", "mean"), "new"] == true_wait
    assert c.loc[("mean_wait", "mean"), "old"] == wait["mean"]
    assert c.loc[("mean_wait", "mean"), "difference"] == true_wait - wait["mean"]
    assert c.loc[("n_visits", "reps"), ["old", "new", "difference"]].tolist() == [3, 4, 1]

    code, out, _ = run_cli(capsys, "regress", SMOKE, "--baseline", changed)
    assert code == 1
    assert "2 moved (2 numbers)" in out and "FAIL" in out
    assert repr(wait["mean"]) in out and repr(true_wait) in out
    assert "system:all:mean_wait" in out and "station:till:n_visits" in out


def test_exact_mode_reports_added_and_removed_metrics(smoke_run) -> None:  # noqa: ANN001
    fewer = smoke_run.summary[~_row(smoke_run.summary, "system", "all", "throughput")]
    comparison = regress.compare_exact(_with(smoke_run, fewer), smoke_run)
    assert comparison.metrics.loc[comparison.metrics["moved"], "fields"].tolist() == ["added"]
    assert set(comparison.changes["note"]) == {"metric added"}


# ---------------------------------------------------------------------------------------------
# JUnit XML


def test_junit_has_one_testcase_per_metric_and_failures_for_moved(smoke_run, tmp_path
                                                                  ) -> None:  # noqa: ANN001
    summary = smoke_run.summary.copy()
    summary.loc[_row(summary, "system", "all", "mean_wait"), "mean"] += 1.0
    summary.loc[_row(summary, "staff", "manager", "utilization"), "std"] *= 2
    comparison = regress.compare_exact(smoke_run, _with(smoke_run, summary))
    path = regress.write_junit(comparison, tmp_path / "out" / "junit.xml", suite="smoke",
                               classname="regress.smoke", properties={"mode": "exact"})
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "2"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(summary) == int(suite.get("tests"))
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {"system:all:mean_wait", "staff:manager:utilization"}
    assert "mean:" in failed["system:all:mean_wait"].text
    assert failed["staff:manager:utilization"].get("message").endswith("std")
    assert suite.find("properties/property").get("value") == "exact"


def test_junit_records_bad_input_as_an_error(capsys, tmp_path, tiny) -> None:  # noqa: ANN001
    report = tmp_path / "report.xml"
    code, _, err = run_cli(capsys, "regress", tiny, "--baseline", tmp_path / "none.json",
                           "--junit", report)
    assert code == 2 and "baseline must exist" in err
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("errors") == "1"
    assert "create it with --update" in suite.find("testcase/error").text


# ---------------------------------------------------------------------------------------------
# --update and bad input


def test_update_creates_then_reports_changes(capsys, tmp_path, tiny) -> None:  # noqa: ANN001
    baseline = tmp_path / "golden" / "tiny.json"
    code, out, _ = run_cli(capsys, "regress", tiny, "--baseline", baseline, "--update")
    assert code == 0 and "created" in out and baseline.exists()
    assert not list(baseline.parent.glob(".*.tmp"))          # the temporary file was renamed
    code, out, _ = run_cli(capsys, "regress", tiny, "--baseline", baseline, "--update")
    assert code == 0 and "bit-identical to the old baseline" in out
    assert run_cli(capsys, "regress", tiny, "--baseline", baseline)[0] == 0

    tiny.write_text(yaml.safe_dump({**TINY, "run": {**TINY["run"], "seed": 12}}))
    code, out, err = run_cli(capsys, "regress", tiny, "--baseline", baseline)
    assert code == 2 and "exact mode" in err                # another seed: no exact comparison
    code, out, _ = run_cli(capsys, "regress", tiny, "--baseline", baseline, "--mode",
                           "statistical")
    assert code == 0 and "note: baseline seed 11, this run 12" in out
    code, out, _ = run_cli(capsys, "regress", tiny, "--baseline", baseline, "--update")
    assert code == 0 and "seed: 11 -> 12" in out and "system:all:mean_wait" in out
    assert regress.read_baseline(baseline).seed == 12


def test_baseline_is_strict_json_one_row_per_line(tmp_path, smoke_run) -> None:  # noqa: ANN001
    summary = smoke_run.summary.copy()
    summary.loc[0, "std"] = math.nan
    path = regress.write_baseline(_with(smoke_run, summary), tmp_path / "b.json")
    text = path.read_text()
    assert "NaN" not in text and json.loads(text)["summary"][0]["std"] is None
    assert len(text.splitlines()) == len(summary) + 12   # 10 header lines, ], }
    back = regress.read_baseline(path)
    assert not regress.compare_exact(back, _with(smoke_run, summary)).regressed


BAD_YAML = "stations: {till: {servers: 2}\nclasses: [\n"


@pytest.mark.parametrize("case", ["missing target", "bad yaml", "invalid field", "no seed",
                                  "missing baseline", "corrupt baseline", "not a baseline",
                                  "other scenario", "unavailable engine"])
def test_bad_input_exits_2(case, capsys, tmp_path, tiny, monkeypatch) -> None:  # noqa: ANN001
    baseline = tmp_path / "b.json"
    regress.write_baseline(regress.run_target(regress.load_target(tiny)), baseline)
    target, expected = tiny, ""
    if case == "missing target":
        target, expected = tmp_path / "nope.yaml", "file must exist"
    elif case == "bad yaml":
        tiny.write_text(BAD_YAML)
        expected = "must be valid YAML"
    elif case == "invalid field":
        tiny.write_text(yaml.safe_dump({**TINY, "stations": {"till": {"servers": "two"}}}))
        expected = "stations.till.servers"
    elif case == "no seed":
        tiny.write_text(yaml.safe_dump({**TINY, "run": {**TINY["run"], "seed": None}}))
        expected = "run.seed must be set"
    elif case == "missing baseline":
        baseline.unlink()
        expected = "baseline must exist"
    elif case == "corrupt baseline":
        baseline.write_text("{not json")
        expected = "must be a readable JSON file"
    elif case == "not a baseline":
        baseline.write_text(json.dumps({"format": "something else"}))
        expected = "format must be"
    elif case == "other scenario":
        tiny.write_text(yaml.safe_dump({**TINY, "run": {**TINY["run"], "customers": 301}}))
        expected = "identity must match"
    elif case == "unavailable engine":  # tiny names no engine: the default (numba) is used
        monkeypatch.setitem(engines.ENGINES, "numba", "queue_sim.no_such_engine:simulate")
        expected = "--engine must name an available engine"
    code, out, err = run_cli(capsys, "regress", target, "--baseline", baseline)
    assert code == 2, out + err
    assert expected in err and err.startswith("error: ")
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Sweep files (when the sweep layer is installed)


def test_a_sweep_file_is_run_per_point(capsys, tmp_path, tiny) -> None:  # noqa: ANN001
    if not regress.sweep_support():
        pytest.skip("queue_sim.sweep is not installed")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"base": "tiny.yaml", "grid": {
        "stations.till.servers": [1, 2]}, "run": {"replications": 2, "seed": 5}}))
    baseline = tmp_path / "sweep.json"
    code, out, err = run_cli(capsys, "regress", sweep, "--baseline", baseline, "--update")
    assert code == 0, out + err
    doc = json.loads(baseline.read_text())
    assert doc["kind"] == "sweep" and len(doc["points"]) == 2
    assert [p["factors"] for p in doc["points"]] == [{"stations.till.servers": 1},
                                                     {"stations.till.servers": 2}]
    code, out, err = run_cli(capsys, "regress", sweep, "--baseline", baseline)
    assert code == 0, out + err
    # the same sweep's points are the same scenarios: the golden of the base is not a match
    code, _, err = run_cli(capsys, "regress", tiny, "--baseline", baseline)
    assert code == 2 and "identity must match" in err
