"""Figures of study_first_time, each saved as PNG with the CSV of exactly what was drawn."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from queue_sim.plots import save_with_data  # noqa: E402

NO_CAP_X = 13.0  # where the uncapped point sits on the cap axis


def _save(fig, data: pd.DataFrame, out: Path, name: str) -> Path:  # noqa: ANN001
    return save_with_data(fig, data, out / name, dpi=130, close=True)[0]


def _errorbar(ax, x, g: pd.DataFrame, **kw) -> None:  # noqa: ANN001
    ax.errorbar(x, g["mean"], yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
                capsize=3, **kw)


def cost_vs_cap(summary: pd.DataFrame, analytic: pd.DataFrame, out: Path) -> Path:
    """Staff time and time to resolution per resolved case against the AHT cap (single channel),
    simulated with 95% CIs, and the exact geometric-model cost."""
    sim = summary[(summary["experiment"] == "single")
                  & summary["metric"].isin(["work_per_resolved_case",
                                            "mean_time_to_resolution"])].copy()
    sim["x"] = sim["cap"].fillna(NO_CAP_X)
    exact = analytic.assign(x=analytic["cap"].fillna(NO_CAP_X))
    families = [f for f in ("concave", "S-shaped") if f in set(sim["family"])]
    fig, axes = plt.subplots(2, len(families), figsize=(5.5 * len(families), 7.5),
                             squeeze=False)
    for j, family in enumerate(families):
        for i, metric in enumerate(["work_per_resolved_case", "mean_time_to_resolution"]):
            ax = axes[i, j]
            for o, g in sim[(sim["family"] == family) & (sim["metric"] == metric)].groupby(
                    "repeat_extra"):
                g = g.sort_values("x")
                _errorbar(ax, g["x"], g, marker="o", ls="none",
                          label=f"simulated, repeat +{o:g} min")
                if metric == "work_per_resolved_case":
                    e = exact[(exact["family"] == family) & (exact["repeat_extra"] == o)]
                    e = e.sort_values("x")
                    ax.plot(e["x"], e["work_per_resolved_case"], lw=1, color="grey")
            if metric == "work_per_resolved_case":
                ax.plot([], [], lw=1, color="grey", label="exact (Wald, DOMAIN.md 6b)")
            ax.axvline(6.0, color="grey", ls=":", lw=1)
            ax.set_xticks([2, 4, 6, 8, 10, NO_CAP_X], ["2", "4", "6\n(mean AHT)", "8", "10",
                                                        "no cap"])
            ax.set(xlabel="AHT cap: handle time = min(S, cap) (minutes)",
                   ylabel=("staff minutes per resolved case" if i == 0
                           else "mean time to resolution (minutes)"),
                   title=f"{family} quality-speed curve", yscale="log")
            if i == 0:
                ax.legend(fontsize=8)
    data = sim.drop(columns=["x"]).merge(
        analytic.rename(columns={"work_per_resolved_case": "exact_work_per_resolved_case"})[
            ["family", "repeat_extra", "cap", "exact_work_per_resolved_case"]],
        on=["family", "repeat_extra", "cap"], how="left")
    return _save(fig, data, out, "cost_vs_cap")


TIER_METRICS = [
    ("work_per_resolved_case", "staff minutes per resolved case\n(handle time)"),
    ("paid_time_per_resolved_case", "paid staff minutes per resolved case\n(headcount x time)"),
    ("contacts_per_resolved_case", "contacts per resolved case"),
    ("mean_time_to_resolution", "mean time to resolution (minutes)"),
    ("public_escalations_per_1000", "public escalations per 1,000 cases"),
    ("failure_demand_share", "failure-demand share of contacts"),
]


def tier_policies(summary: pd.DataFrame, out: Path) -> Path:
    """Policies A-D of the tiered network, per curve family (repeat contacts cost no extra
    time, and +4 min, side by side), 95% CIs."""
    data = summary[(summary["experiment"] == "tiers")
                   & summary["metric"].isin([m for m, _ in TIER_METRICS])]
    default_b = ~data["policy"].str.startswith("B") | (data["form_handle_time"] == 8.0)
    data = data[default_b]
    families = [f for f in ("concave", "S-shaped") if f in set(data["family"])]
    extras = sorted(data["repeat_extra"].unique())
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    width = 0.8 / (len(families) * len(extras))
    for ax, (metric, label) in zip(axes.ravel(), TIER_METRICS):
        d = data[data["metric"] == metric]
        policies = list(dict.fromkeys(d["policy"]))
        for k, (family, o) in enumerate([(f, o) for f in families for o in extras]):
            g = d[(d["family"] == family) & (d["repeat_extra"] == o)].set_index("policy")
            g = g.reindex(policies)
            x = np.arange(len(policies)) + (k - (len(families) * len(extras) - 1) / 2) * width
            ax.bar(x, g["mean"], width, label=f"{family}, repeat +{o:g} min", alpha=0.8)
            _errorbar(ax, x, g, ls="none", color="black", lw=1)
        ax.set_xticks(np.arange(len(policies)), [p.split(" ", 1)[0] for p in policies])
        ax.set(ylabel=label)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Policies: A status quo, B expertise at first contact, C open routing to the "
                 "expert desk, D AHT cap 3 min at tier 1 (square-root staffing each)")
    return _save(fig, data, out, "tier_policies")


def expertise_boundary(summary: pd.DataFrame, out: Path) -> Path:
    """Policy B against the status quo as the expert's handle time grows (95% CIs)."""
    tiers = summary[summary["experiment"] == "tiers"]
    b = tiers[tiers["policy"].str.startswith("B")]
    a = tiers[tiers["policy"].str.startswith("A")]
    panels = [("paid_time_per_resolved_case", "paid staff minutes per resolved case"),
              ("work_per_resolved_case", "staff minutes per resolved case"),
              ("mean_time_to_resolution", "mean time to resolution (minutes)")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    drawn = []
    for ax, (metric, label) in zip(axes, panels):
        for (family, o), g in b[b["metric"] == metric].groupby(["family", "repeat_extra"]):
            g = g.sort_values("form_handle_time")
            line = ax.errorbar(g["form_handle_time"], g["mean"],
                               yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
                               marker="o", capsize=3, label=f"B, {family}, repeat +{o:g}")
            ref = a[(a["metric"] == metric) & (a["family"] == family)
                    & (a["repeat_extra"] == o)]
            if len(ref):
                ax.axhline(float(ref["mean"].iloc[0]), ls="--", lw=1,
                           color=line.lines[0].get_color())
            drawn += [g, ref]
        ax.set(xlabel="tier-1 mean handle time with expertise at first contact (minutes)",
               ylabel=label)
    axes[0].legend(fontsize=7, title="dashed: status quo A", title_fontsize=7)
    return _save(fig, pd.concat(drawn), out, "expertise_boundary")


def draw_all(summary: pd.DataFrame, analytic: pd.DataFrame, out: Path) -> list[Path]:
    paths = [cost_vs_cap(summary, analytic, out), tier_policies(summary, out)]
    tiers = summary[(summary["experiment"] == "tiers")
                    & summary["policy"].astype(str).str.startswith("B")]
    if tiers["form_handle_time"].nunique() > 1:
        paths.append(expertise_boundary(summary, out))
    return paths
