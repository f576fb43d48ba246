"""Figures of the service-recovery study, each saved as PNG with the CSV of what was drawn."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats as sps  # noqa: E402

from queue_sim.config.population import OUTCOMES, Population  # noqa: E402
from queue_sim.plots import save_with_data  # noqa: E402
from queue_sim.population.outcomes import retention_by_outcome  # noqa: E402

POLICIES = ["H0 no channel", "H1 lacklustre", "H2 full, equal time", "H2 full, longer"]
COLOURS = {"H0 no channel": "tab:grey", "H1 lacklustre": "tab:red",
           "H2 full, equal time": "tab:green", "H2 full, longer": "tab:blue",
           "no wrong orders": "black"}


def _save(fig, data: pd.DataFrame, out: Path, name: str) -> Path:  # noqa: ANN001
    return save_with_data(fig, data, out / name, dpi=130, close=True)[0]


def _at(summary: pd.DataFrame, metric: str, point: dict, free: str | None = None
        ) -> pd.DataFrame:
    """Rows of one metric at ``point``, letting ``free`` vary."""
    s = summary[summary["metric"] == metric]
    for key, value in point.items():
        if key == free:
            continue
        if isinstance(value, (bool, np.bool_)):
            s = s[s[key].astype(bool) == value]
        else:
            s = s[np.isclose(s[key].astype(float), value)]
    return s


def _errorbar(ax, x, g: pd.DataFrame, **kwargs) -> None:  # noqa: ANN001
    ax.errorbar(x, g["mean"], yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
                capsize=3, **kwargs)


def base_over_time(series: pd.DataFrame) -> pd.DataFrame:
    """Active customers per (world, day): mean and 95% t-interval over replications."""
    rows = []
    for (world, day), g in series.groupby(["world", "day"]):
        v = g["active"].to_numpy(float)
        half = (sps.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
                if len(v) > 1 else np.nan)
        rows.append({"world": world, "day": day, "mean": v.mean(), "ci_low": v.mean() - half,
                     "ci_high": v.mean() + half, "reps": len(v)})
    return pd.DataFrame(rows)


def customer_base(data: pd.DataFrame, out: Path) -> Path:
    """Active customers per day, mean and 95% band over replications, per policy."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for world, g in data.groupby("world"):
        ax.plot(g["day"], g["mean"], color=COLOURS.get(world), label=world)
        ax.fill_between(g["day"], g["ci_low"], g["ci_high"], color=COLOURS.get(world),
                        alpha=0.2, lw=0)
    ax.set_ylim(bottom=0)  # the share lost, not a magnified slope
    ax.set(xlabel="day", ylabel="active identified customers",
           title="Customer base over time (p_c = 0.2, rho = 0.8; bands: 95% CI)")
    ax.legend(fontsize=8)
    return _save(fig, data, out, "customer_base")


def retention(summary: pd.DataFrame, out: Path, base_point: dict) -> Path:
    """Observed share coming back after each outcome, against the configured table."""
    target = retention_by_outcome(Population())
    rows = []
    for k, outcome in enumerate(OUTCOMES):
        d = _at(summary, f"retention_{outcome}", base_point)
        d = d[d["world"].isin(POLICIES)].dropna(subset=["mean"]).assign(
            outcome=outcome, configured=target[k])
        rows.append(d)
    data = pd.concat(rows)
    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    width = 0.2
    for j, world in enumerate(POLICIES):
        g = data[data["world"] == world].set_index("outcome").reindex(OUTCOMES)
        x = np.arange(len(OUTCOMES)) + (j - 1.5) * width
        ax.bar(x, g["mean"], width, yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
               capsize=2, color=COLOURS[world], label=world)
    ax.scatter(np.arange(len(OUTCOMES)), target, marker="_", s=900, color="black", zorder=3,
               label="configured (TARP, severity 0.5, capped at 0.9)")
    ax.set_xticks(np.arange(len(OUTCOMES)), [o.replace("_", " ") for o in OUTCOMES],
                  rotation=15, fontsize=8)
    ax.set(ylabel="share who came back", ylim=(0, 1.3), yticks=np.linspace(0, 1, 6),
           title="Retention by what happened at the visit (p_c = 0.2; 95% CIs)")
    ax.legend(fontsize=7, loc="upper center", ncol=3)
    return _save(fig, data, out, "retention_by_outcome")


def x_multiplier(summary: pd.DataFrame, out: Path, base_point: dict) -> Path:
    """Measured x (paired against no wrong orders) and first-order x over p_c."""
    rows = []
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for world in POLICIES:
        d = _at(summary, "x", base_point, free="complaint_probability")
        g = d[d["world"] == world].sort_values("complaint_probability")
        f = _at(summary, "x_first_order", base_point, free="complaint_probability")
        f = f[f["world"] == world].sort_values("complaint_probability")
        _errorbar(ax, g["complaint_probability"], g, marker="o", color=COLOURS[world],
                  label=f"{world}: measured")
        ax.plot(f["complaint_probability"], f["mean"], ls="--", color=COLOURS[world], lw=1)
        rows += [g.assign(kind="measured"), f.assign(kind="first order")]
    ax.axhline(1, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="share of wronged customers who complain, p_c",
           ylabel="x = value lost per wrong order / margin of one visit",
           title="'Scale each up by x' (dashed: first order, retention + word of mouth)")
    ax.legend(fontsize=7)
    return _save(fig, pd.concat(rows), out, "x_multiplier")


def net_value(summary: pd.DataFrame, out: Path, base_point: dict) -> Path:
    """H2 minus H1 per complaint over p_c, with its first-order parts."""
    parts = {"net_value_vs_h1_per_complaint": ("net value, simulated", "-", "o", 1),
             "retained_value_per_complaint": ("+ loyalty and word of mouth kept (first order)",
                                              "--", "^", 1),
             "extra_recovery_cost_per_complaint": ("- extra recovery cost", ":", "s", -1),
             "extra_bystander_loss_per_complaint": ("- extra loss of the people in line "
                                                    "(first order)", "-.", "v", -1)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    rows = []
    for ax, world in zip(axes, ["H2 full, equal time", "H2 full, longer"]):
        for metric, (label, ls, marker, sign) in parts.items():
            d = _at(summary, metric, base_point, free="complaint_probability")
            g = d[d["world"] == world].sort_values("complaint_probability").copy()
            if sign < 0:  # costs drawn below zero: the parts add up to the net value
                g[["mean", "ci_low", "ci_high"]] = -g[["mean", "ci_high", "ci_low"]].to_numpy()
            _errorbar(ax, g["complaint_probability"], g, ls=ls, marker=marker, label=label)
            rows.append(g.assign(sign=sign))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set(xlabel="p_c", title=f"{world} minus H1 lacklustre")
    axes[0].set_ylabel("value per complaint (currency; margin = 5)")
    axes[0].legend(fontsize=7)
    return _save(fig, pd.concat(rows), out, "net_value")


def bystanders(summary: pd.DataFrame, out: Path, base_point: dict) -> Path:
    """Extra waiting of the customers who did not complain, per complaint, against the same
    day with no manager time."""
    rows = []
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for world in POLICIES[1:]:
        d = _at(summary, "extra_wait_others_per_complaint", base_point,
                free="complaint_probability")
        g = d[d["world"] == world].sort_values("complaint_probability")
        _errorbar(ax, g["complaint_probability"], g, marker="o", color=COLOURS[world],
                  label=world)
        rows.append(g)
    ax.set(xlabel="p_c", ylabel="extra customer-minutes of others per complaint",
           title="What the manager's complaint time costs the people in line (rho = 0.8)")
    ax.legend(fontsize=8)
    return _save(fig, pd.concat(rows), out, "bystander_minutes")


def sensitivity(summary: pd.DataFrame, out: Path, base_point: dict) -> Path:
    """Net value of H2 over H1 per complaint at the base point and each one-at-a-time change."""
    variants = [("base: p_c 0.2, delta 0.02, rho 0.8", {})]
    for key, label in (("influence", "delta"), ("uplift", "SRP uplift"), ("rho", "rho"),
                       ("long_wait", "long waits are problems")):
        values = sorted(set(summary[key].astype(float if key != "long_wait" else bool)))
        for v in values:
            if (v == base_point[key]) or (key != "long_wait"
                                          and np.isclose(v, base_point[key])):
                continue
            variants.append((f"{label} = {v:g}" if key != "long_wait" else f"{label}: {v}",
                             {key: v}))
    rows = []
    for label, change in variants:
        point = {**base_point, **change}
        d = _at(summary, "net_value_vs_h1_per_complaint", point)
        for world in ("H2 full, equal time", "H2 full, longer"):
            g = d[d["world"] == world]
            if len(g):
                rows.append(g.assign(variant=label))
    data = pd.concat(rows)
    labels = list(dict.fromkeys(data["variant"]))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(labels) + 1.8))
    for j, world in enumerate(("H2 full, equal time", "H2 full, longer")):
        g = data[data["world"] == world].set_index("variant").reindex(labels)
        y = np.arange(len(labels)) + (j - 0.5) * 0.3
        ax.errorbar(g["mean"], y, xerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
                    fmt="o", capsize=3, color=COLOURS[world], label=world)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(np.arange(len(labels)), labels, fontsize=8)
    ax.set(xlabel="net value of H2 over H1 per complaint (currency; margin = 5)",
           title="Does the full recovery pay? (95% CIs, one change at a time)")
    ax.legend(fontsize=8)
    return _save(fig, data, out, "sensitivity")


def draw_all(summary: pd.DataFrame, base: pd.DataFrame, out: Path, *, base_point: dict
             ) -> list[Path]:
    """Every figure, from the summary and the customer base over time (``base_over_time``)."""
    return [customer_base(base, out), retention(summary, out, base_point),
            x_multiplier(summary, out, base_point), net_value(summary, out, base_point),
            bystanders(summary, out, base_point), sensitivity(summary, out, base_point)]


def rudeness(summary: pd.DataFrame, amplification: pd.DataFrame, days: pd.DataFrame,
             out: Path) -> Path:
    """The rudeness sub-experiment: wait amplification over the plain counter against rho, per
    kappa and contagion, beside the proportional world of the same extra work; and every
    day's share of difficult customers, where a tipping point shows as a second cluster."""
    extra = summary[(summary["world"] == "paired")
                    & (summary["metric"] == "extra_wait_vs_plain")]
    plain = summary[(summary["world"] == "plain") & (summary["metric"] == "mean_wait")]
    keys = ["rho", "kappa", "contagion"]
    data = amplification.merge(extra[[*keys, "ci_low", "ci_high"]], on=keys).merge(
        plain[[*keys, "mean"]].rename(columns={"mean": "plain_wait"}), on=keys)
    # the CI of the paired extra wait, over the plain world's mean wait
    data["ci_low"] = 1 + data["ci_low"] / data["plain_wait"]
    low = np.maximum(data["ci_low"], 0.5)  # the log axis cannot show an interval below 0
    data["ci_high"] = 1 + data["ci_high"] / data["plain_wait"]
    kappas = sorted(data["kappa"].unique())
    fig, axes = plt.subplots(1, len(kappas) + 1, figsize=(5.5 * (len(kappas) + 1), 4.5))
    colours = plt.cm.viridis(np.linspace(0, 0.85, data["contagion"].nunique()))
    for ax, kappa in zip(axes, kappas):
        for colour, (p_r, g) in zip(colours, data[data["kappa"] == kappa].groupby("contagion")):
            g = g.sort_values("rho")
            ax.errorbar(g["rho"], g["amplification"],
                        yerr=[g["amplification"] - low[g.index],
                              g["ci_high"] - g["amplification"]],
                        capsize=3, color=colour, marker="o", label=f"contagion p_r = {p_r:g}")
            ax.plot(g["rho"], g["proportional_amplification"], color=colour, ls="--", lw=1)
        ax.plot([], [], color="grey", ls="--", lw=1, label="same extra work, spread evenly")
        ax.set(yscale="log", xlabel="utilisation of the plain counter (rho)",
               ylabel="mean wait / plain counter's (95% CI)",
               title=f"a difficult customer's order takes x{kappa:g}")
        ax.yaxis.set_major_locator(matplotlib.ticker.FixedLocator([1, 1.5, 2, 3, 5, 7, 10, 15,
                                                                   20, 30, 50]))
        ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=7)
    # every day's share of difficult customers: a tipping point shows as days split between
    # a calm and a rude state (a bimodal share) near where one difficult customer makes one more
    rude = days[(days["world"] == "rudeness") & (days["kappa"] == max(kappas))]
    ax = axes[-1]
    rates = sorted(rude["contagion"].unique())
    rhos = sorted(rude["rho"].unique())
    for k, (colour, rho) in enumerate(zip(plt.cm.plasma(np.linspace(0, 0.8, len(rhos))), rhos)):
        g = rude[rude["rho"] == rho]
        x = np.array([rates.index(p) for p in g["contagion"]], float)
        ax.scatter(x + (k - (len(rhos) - 1) / 2) * 0.15, g["difficult_share"], s=6,
                   color=colour, alpha=0.5)
        means = g.groupby("contagion")["difficult_share"].mean()
        ax.plot([rates.index(p) for p in means.index], means, color=colour,
                label=f"rho = {rho:g}")
    ax.set_xticks(range(len(rates)), [f"{p:g}" for p in rates])
    ax.set(xlabel="contagion p_r (per unit of the server's rudeness level)",
           ylabel="share of the day's customers who were difficult",
           title=f"each day (dots) and the mean (lines), x{max(kappas):g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, data, out, "rudeness")
