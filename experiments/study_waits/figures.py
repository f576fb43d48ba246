"""Figures of study_waits, each saved as PNG with the CSV of exactly what was drawn."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from queue_sim.plots import save_with_data  # noqa: E402

E1 = ["single line", "separate, random", "separate, shortest", "separate, jockeying",
      "express lane"]
E2 = ["+1 server", "+1 server, half day", "acknowledge", "position display", "occupied wait",
      "greeter (all three)"]


def _save(fig, data: pd.DataFrame, out: Path, name: str) -> Path:  # noqa: ANN001
    return save_with_data(fig, data, out / name, dpi=130, close=True)[0]


def _bars(ax, data: pd.DataFrame, policies: list[str], ylabel: str) -> None:  # noqa: ANN001
    """Grouped bars: utilisation on the x axis, one bar per policy, 95% CI whiskers."""
    rhos = sorted(data["rho"].unique())
    width = 0.8 / len(policies)
    for k, policy in enumerate(policies):
        g = data[data["policy"] == policy].set_index("rho").reindex(rhos)
        x = np.arange(len(rhos)) + (k - (len(policies) - 1) / 2) * width
        ax.bar(x, g["mean"], width, label=policy,
               yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]], capsize=2)
    ax.set_xticks(np.arange(len(rhos)), [f"rho {r:g}" for r in rhos])
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="black", lw=0.6)


def structure(summary: pd.DataFrame, out: Path) -> Path:
    """E1: the same staff arranged five ways; waits against satisfaction and fairness."""
    panels = [("mean_wait", "mean wait (minutes)"), ("p90_wait", "90th percentile wait (min)"),
              ("mean_satisfaction", "mean satisfaction (0-10)"),
              ("mean_skips", "skips per customer (Larson)")]
    data = summary[summary["policy"].isin(E1) & summary["metric"].isin([m for m, _ in panels])]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for ax, (metric, label) in zip(axes.ravel(), panels):
        _bars(ax, data[data["metric"] == metric], E1, label)
    axes[1, 1].legend(fontsize=7)
    fig.suptitle("E1, structure at equal staff (3 servers): one line, separate lines, express "
                 "lane\n(means over replications, 95% CIs)", fontsize=10)
    return _save(fig, data, out, "structure")


def levers(differences: pd.DataFrame, out: Path) -> Path:
    """E2: one more person on a till (or half a day of one) against psychology levers, as
    paired differences from the single line."""
    metrics = [("mean_wait", "change in mean wait (min)"),
               ("mean_satisfaction", "change in mean satisfaction"),
               ("dissatisfied", "change in share dissatisfied")]
    data = differences[differences["policy"].isin(E2)
                       & differences["metric"].isin([m for m, _ in metrics])]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, (metric, label) in zip(axes, metrics):
        _bars(ax, data[data["metric"] == metric], E2, label)
    # the levers reuse the single line's trace: their change in wait is 0 exactly, not missing
    axes[0].set_xlabel("acknowledge, position display, occupied wait, greeter: 0 by\n"
                       "construction (every wait exactly as in the single line)", fontsize=8)
    axes[1].legend(fontsize=7)
    fig.suptitle("E2, capacity against psychology (vs the single line, same customers; "
                 "a greeter costs what a 4th server costs)", fontsize=10)
    return _save(fig, data, out, "levers")


def expectations(summary: pd.DataFrame, out: Path) -> Path:
    """E3: telling customers (1 + m) x the predicted wait."""
    told = summary[summary["policy"].str.startswith("told wait")].copy()
    told["margin"] = told["policy"].str.replace("told wait ", "").astype(float)
    plain = summary[summary["policy"] == "single line"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, metric, label in ((axes[0], "mean_satisfaction", "mean satisfaction (0-10)"),
                              (axes[1], "dissatisfied", "share dissatisfied (S < 5)")):
        for rho, g in told[told["metric"] == metric].groupby("rho"):
            g = g.sort_values("margin")
            line = ax.errorbar(g["margin"], g["mean"], yerr=[g["mean"] - g["ci_low"],
                                                             g["ci_high"] - g["mean"]],
                               marker="o", capsize=3, label=f"told, rho {rho:g}")
            ref = plain[(plain["metric"] == metric) & np.isclose(plain["rho"], rho)]
            if len(ref):
                ax.axhline(ref["mean"].iloc[0], color=line[0].get_color(), ls=":", lw=1)
        ax.set(xlabel="announcement margin m (told (1 + m) x predicted wait)", ylabel=label)
    axes[0].legend(fontsize=8, title="dotted: nobody told", title_fontsize=8)
    fig.suptitle("E3, expectation setting at zero capacity cost", fontsize=10)
    data = pd.concat([told, plain[plain["metric"].isin(["mean_satisfaction", "dissatisfied"])]])
    return _save(fig, data, out, "expectations")


def ranking_map(ranking: pd.DataFrame, out: Path) -> Path:
    """Where ranking by mean wait and by satisfaction disagree, over the fairness weight and
    the Maister multipliers (k = 1.36, b = 1); rows: how far announcements move expectations."""
    sel = ranking[np.isclose(ranking["overestimation"], 1.36)
                  & np.isclose(ranking["exponent"], 1.0)]
    rhos = sorted(sel["rho"].unique())
    anchors = sorted(sel["anchoring"].unique())
    phis = sorted(sel["per_skip"].unique())
    mults = sorted(sel["multiplier"].unique())
    fig, axes = plt.subplots(len(anchors), len(rhos), figsize=(3.8 * len(rhos) + 1,
                                                               3.0 * len(anchors)),
                             squeeze=False, constrained_layout=True)
    top = max(1, int(sel["n_discordant"].max()))
    for i, anchor in enumerate(anchors):
        for j, rho in enumerate(rhos):
            g = sel[np.isclose(sel["anchoring"], anchor) & np.isclose(sel["rho"], rho)]
            grid = g.pivot(index="multiplier", columns="per_skip",
                           values="n_discordant").reindex(index=mults, columns=phis)
            tau = g.pivot(index="multiplier", columns="per_skip",
                          values="kendall_tau").reindex(index=mults, columns=phis)
            ax = axes[i, j]
            im = ax.imshow(grid.to_numpy(), origin="lower", cmap="Reds", vmin=0, vmax=top,
                           aspect="auto")
            for (a, b), v in np.ndenumerate(tau.to_numpy()):
                ax.text(b, a, f"{v:.2f}", ha="center", va="center", fontsize=6)
            ax.set_xticks(range(len(phis)), [f"{p:g}" for p in phis], fontsize=7)
            ax.set_yticks(range(len(mults)), [f"{m:g}" for m in mults], fontsize=7)
            ax.set_title(f"rho {rho:g}, anchoring {anchor:g}", fontsize=8)
            if i == len(anchors) - 1:
                ax.set_xlabel("fairness weight phi (per skip)", fontsize=8)
            if j == 0:
                ax.set_ylabel("multiplier m_unc = m_expl", fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), label="significant discordant pairs",
                 shrink=0.6)
    fig.suptitle("Policies ranked by mean wait vs by mean satisfaction: colour = pairs where the "
                 "longer wait is significantly happier;\nnumbers = Kendall tau (1 = same "
                 "order). Bottom-left of the top row (phi 0, m 1, anchoring 0) is the pure-wait "
                 "model", fontsize=9)
    return _save(fig, sel, out, "ranking_map")


def snowball(summary: pd.DataFrame, out: Path) -> Path:
    """Wait-dependent service (Webb et al.): mean wait and satisfaction as kappa grows."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.0))
    data = summary[summary["metric"].isin(["mean_wait", "mean_service", "dissatisfied"])]
    for ax, metric, label in ((axes[0], "mean_wait", "mean wait (minutes)"),
                              (axes[1], "mean_service", "mean service time (min)"),
                              (axes[2], "dissatisfied", "share dissatisfied (S < 5)")):
        for rho, g in data[data["metric"] == metric].groupby("rho"):
            g = g.sort_values("kappa")
            ax.errorbar(g["kappa"], g["mean"], yerr=[g["mean"] - g["ci_low"],
                                                     g["ci_high"] - g["mean"]],
                        marker="o", capsize=3, label=f"rho {rho:g}")
        ax.set(xlabel="kappa: extra service per minute waited beyond 1 min", ylabel=label)
    axes[0].legend(fontsize=8)
    fig.suptitle("State-dependent service: the snowball (single line, 3 servers, patience and "
                 "service as in base.yaml; same customers for every kappa)", fontsize=10)
    return _save(fig, data, out, "snowball")


def draw_all(summary: pd.DataFrame, differences: pd.DataFrame, snowball_summary: pd.DataFrame,
             ranking: pd.DataFrame, out: Path) -> list[Path]:
    return [structure(summary, out), levers(differences, out), expectations(summary, out),
            ranking_map(ranking, out), snowball(snowball_summary, out)]
