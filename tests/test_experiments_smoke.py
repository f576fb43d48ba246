"""Every study runs end to end in its smoke version, so it can never silently break."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_study_360_smoke(tmp_path):
    out = tmp_path / "study_360"
    subprocess.run([sys.executable, str(ROOT / "experiments/study_360/study.py"), "--smoke",
                    "--engine", "simpy", "--workers", "1", "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    summary = pd.read_csv(out / "summary.csv")
    extra = summary[summary["metric"] == "extra_wait_others_per_complaint"]
    # P0 is the baseline of every comparison, so its extra waiting is zero by construction
    assert (extra.loc[extra["policy"] == "P0 remake only", "mean"] == 0).all()
    # taking the manager off the till must cost the others something at rho = 0.8
    p1 = extra[(extra["policy"] == "P1 leaves now") & (extra["rho"] == 0.8)]
    assert (p1["mean"] > 0).all()
    for name in ("extra_minutes_vs_utilisation", "downstream_share", "satisfaction",
                 "boundary_map", "value_map", "timeline", "bystander_delays"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.csv").exists()
    # the map values the line's loss with study_recovery's loyalty model: a recovery that
    # turns "complained, not satisfied" into "resolved quickly" keeps 40.9 (its REPORT, first
    # order), and each extra dissatisfied bystander costs a long-wait problem (34.7)
    value_map = pd.read_csv(out / "value_map.csv")
    assert value_map["recovered_value"].to_numpy() == pytest.approx(40.9, abs=0.05)
    assert value_map["cost_mean"].to_numpy() == pytest.approx(34.67 * value_map["mean"], rel=1e-3)


def test_study_waits_smoke(tmp_path):
    out = tmp_path / "study_waits"
    subprocess.run([sys.executable, str(ROOT / "experiments/study_waits/study.py"), "--smoke",
                    "--engine", "simpy", "--workers", "1", "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    summary = pd.read_csv(out / "summary.csv")
    skips = summary[summary["metric"] == "mean_skips"].set_index("policy")["mean"]
    # DOMAIN.md 5b.5: one FCFS line never lets anyone jump ahead; separate lines do
    assert skips["single line"] == 0 and skips["separate, random"] > 0
    waits = summary[summary["metric"] == "mean_wait"].set_index("policy")["mean"]
    # the psychology levers leave every wait exactly as it was (same trace)
    assert waits["greeter (all three)"] == waits["single line"]
    assert waits["+1 server"] < waits["single line"]
    ranking = pd.read_csv(out / "ranking.csv")
    assert ranking["kendall_tau"].between(-1, 1).all()
    for name in ("structure", "levers", "expectations", "ranking_map", "snowball"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.csv").exists()


def test_study_first_time_smoke(tmp_path):
    out = tmp_path / "study_first_time"
    subprocess.run([sys.executable, str(ROOT / "experiments/study_first_time/study.py"),
                    "--smoke", "--engine", "simpy", "--workers", "1", "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    reps = pd.read_csv(out / "replications.csv")
    single = reps[reps["experiment"] == "single"]
    capped = single[single["cap"] == 2.0].set_index("replication")
    free = single[single["cap"].isna()].set_index("replication")
    # common random numbers and q increasing in s: a cap can only add failed contacts, so no
    # customer needs fewer contacts, and every replication shows at least as many per case
    assert (capped["contacts_per_resolved_case"] >= free["contacts_per_resolved_case"]).all()
    assert (capped["first_contact_resolution"] < free["first_contact_resolution"]).all()
    tiers = reps[reps["experiment"] == "tiers"]
    assert set(tiers["policy"]) == {"A status quo", "B expertise first", "C open routing",
                                    "D AHT cap"}
    # open routing sends every failure to the expert desk: nobody goes public
    assert (tiers.loc[tiers["policy"] == "C open routing", "public_escalations_per_1000"]
            == 0).all()
    analytic = pd.read_csv(out / "analytic_single.csv")
    assert (analytic["work_per_resolved_case"] > 0).all()
    assert (out / "break_even.csv").exists()
    for name in ("cost_vs_cap", "tier_policies"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.csv").exists()


def test_study_recovery_smoke(tmp_path):
    out = tmp_path / "study_recovery"
    subprocess.run([sys.executable, str(ROOT / "experiments/study_recovery/study.py"), "--smoke",
                    "--engine", "simpy", "--workers", "1", "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    summary = pd.read_csv(out / "summary.csv")
    x = summary[summary["metric"] == "x"]
    # the world without wrong orders has no incidents, so no x; every policy has one
    assert x.loc[x["world"] == "no wrong orders", "mean"].isna().all()
    assert x.loc[x["world"] != "no wrong orders", "mean"].notna().all()
    retention = summary[(summary["metric"] == "retention_complained_not_satisfied")
                        & (summary["world"] == "H2 full, longer")]
    assert retention["mean"].isna().all()  # a full recovery never leaves a complaint unsatisfied
    for name in ("customer_base", "retention_by_outcome", "x_multiplier", "net_value",
                 "bystander_minutes", "sensitivity", "rudeness"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.csv").exists()
    base = pd.read_csv(out / "customer_base.csv")
    assert set(base["world"]) == {"H0 no channel", "H1 lacklustre", "H2 full, equal time",
                                  "H2 full, longer", "no wrong orders"}
    # the rudeness sub-experiment (rudeness.py)
    days = pd.read_csv(out / "rudeness_replications.csv")
    plain = days[days["world"] == "plain"]
    # kappa = 1 and no slowdown of the server: the rule changes nobody's order time
    assert (plain["difficult_share"] == 0).all() and (plain["work_inflation"] == 1).all()
    rude = days[days["world"] == "rudeness"].groupby("contagion")["difficult_share"].mean()
    # without contagion about p0 = 5% are difficult; contagion spreads it to many more
    assert 0 < rude[0.0] < 0.15 and rude[0.2] > 2 * rude[0.0]
    summary = pd.read_csv(out / "rudeness_summary.csv")
    assert {"plain", "rudeness", "proportional", "paired"} <= set(summary["world"])

