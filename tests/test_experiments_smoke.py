"""Every study runs end to end in its smoke version, so it can never silently break."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

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
                 "boundary_map", "timeline", "bystander_delays"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.csv").exists()


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
