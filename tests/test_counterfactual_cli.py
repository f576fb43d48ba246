"""``queue-sim run --counterfactual``: paired attribution written beside the run's results."""

from __future__ import annotations

import pandas as pd

from queue_sim.cli import main

ARGS = ["run", "configs/counter_360.yaml", "--replications", "3", "--no-progress",
        "--set", "run.horizon=90", "--set", "run.warmup=10"]


def test_counterfactual_reports_paired_extra_waiting(tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*ARGS, "--out", str(out),
                 "--counterfactual", "classes.walkin.complaints.probability=0"])
    assert code == 0
    summary = pd.read_csv(out / "counterfactual_summary.csv").set_index("metric")
    reps = pd.read_csv(out / "counterfactual_replications.csv")
    assert len(reps) == 3
    # complaints add manager time and remakes, so on the same customers waiting goes up
    assert summary.loc["n_complaints", "mean"] > 0
    assert summary.loc["extra_wait_total", "mean"] > 0
    assert "Against the counterfactual" in capsys.readouterr().out


def test_bad_counterfactual_key_is_a_config_error(tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*ARGS, "--out", str(out), "--counterfactual", "recovery.polcy=queue"])
    assert code == 2
    assert "recovery.polcy" in capsys.readouterr().err
    assert not out.exists()
