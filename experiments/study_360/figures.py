"""Figures of the 360-degree study, each saved as PNG with the CSV of what was drawn."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from queue_sim import rng  # noqa: E402
from queue_sim.config import load_scenario  # noqa: E402
from queue_sim.config.load import derive  # noqa: E402
from queue_sim.counterfactual import compare, handling_episodes  # noqa: E402
from queue_sim.engines import get_engine  # noqa: E402
from queue_sim.plots import save_with_data  # noqa: E402

BASE = {"tills": 3, "error": 0.01, "recovery": 5.0, "rho": 0.8}


def _save(fig, data: pd.DataFrame, out: Path, name: str) -> Path:  # noqa: ANN001
    return save_with_data(fig, data, out / name, dpi=130, close=True)[0]


def _select(summary: pd.DataFrame, metric: str, **fixed) -> pd.DataFrame:
    s = summary[summary["metric"] == metric]
    for key, value in fixed.items():
        s = s[np.isclose(s[key], value)]
    return s


def extra_minutes_vs_utilisation(summary: pd.DataFrame, out: Path) -> Path:
    data = _select(summary, "extra_wait_others_per_complaint", tills=3, error=0.01,
                   recovery=5.0)
    data = data[data["policy"] != "P0 remake only"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for policy, g in data.groupby("policy"):
        g = g.sort_values("rho")
        ax.errorbar(g["rho"], g["mean"], yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
                    marker="o", capsize=3, label=policy)
    ax.axhline(10, color="grey", ls=":", lw=1)
    ax.text(data["rho"].max(), 10, "10 customer-minutes (DOMAIN.md 2a threshold) ",
            ha="right", va="top", fontsize=8, color="grey")
    # symmetric log: the costs span three decades and P4's is slightly negative
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set(xlabel="utilisation of the tills, rho", ylabel="extra waiting of others per complaint\n"
           "(customer-minutes, vs P0; log scale above 1)", title="What one complaint costs the people in line\n"
           "(3 tills, R = 5 min, 1% of orders escalate)")
    ax.legend(fontsize=8)
    return _save(fig, data, out, "extra_minutes_vs_utilisation")


def downstream_share(summary: pd.DataFrame, out: Path) -> Path:
    data = _select(summary, "downstream_share", tills=3, error=0.01, recovery=5.0).dropna(
        subset=["mean"])
    data = data[data["policy"].str.startswith(("P1", "P3"))]  # the manager leaves the till
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for policy, g in data.groupby("policy"):
        g = g.sort_values("rho")
        ax.errorbar(g["rho"], 100 * g["mean"], yerr=[100 * (g["mean"] - g["ci_low"]),
                                                     100 * (g["ci_high"] - g["mean"])],
                    marker="o", capsize=3, label=policy)
    ax.set(xlabel="utilisation of the tills, rho", ylabel="share of the extra waiting borne by "
           "customers\nwho arrived after the manager was back (%)", ylim=(0, 100),
           title="The downstream effect")
    ax.legend(fontsize=8)
    return _save(fig, data, out, "downstream_share")


def satisfaction(summary: pd.DataFrame, out: Path) -> Path:
    rows = []
    for metric, who in (("satisfaction_others", "the people in line"),
                        ("satisfaction_complainers", "complainers")):
        d = _select(summary, metric, **BASE).assign(group=who)
        rows.append(d)
    data = pd.concat(rows)
    policies = sorted(data["policy"].unique())
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.38
    for k, (who, g) in enumerate(data.groupby("group", sort=False)):
        g = g.set_index("policy").reindex(policies)
        x = np.arange(len(policies)) + (k - 0.5) * width
        ax.bar(x, g["mean"], width, yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
               capsize=3, label=who)
    ax.set_xticks(np.arange(len(policies)), policies, rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="mean satisfaction (0-10, DOMAIN.md 1.3 model)",
           title="Satisfaction under each policy (rho = 0.8, 3 tills)")
    ax.legend(fontsize=8)
    return _save(fig, data, out, "satisfaction")


def boundary_map(summary: pd.DataFrame, out: Path) -> Path:
    data = _select(summary, "extra_wait_others_per_complaint", tills=3, error=0.01)
    data = data[data["policy"] == "P1 leaves now"].copy()
    data["ratio_to_recovery"] = data["mean"] / data["recovery"]
    grid = data.pivot_table(index="recovery", columns="rho", values="ratio_to_recovery")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    im = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="magma_r")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    absolute = data.pivot_table(index="recovery", columns="rho", values="mean")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            ax.text(j, i, f"{grid.iat[i, j]:.1f}x\n({absolute.iat[i, j]:.0f} min)",
                    ha="center", va="center", fontsize=7,
                    color="white" if grid.iat[i, j] > grid.to_numpy().max() / 2 else "black")
    if grid.shape[0] > 1 and grid.shape[1] > 1:
        ax.contour(grid.to_numpy(), levels=[1.0], colors="cyan", linewidths=2)
    fig.colorbar(im, ax=ax, label="bystander minutes per minute of recovery")
    ax.set(xlabel="utilisation rho", ylabel="recovery time R (minutes)",
           title="Where the line pays more than the complainer gets\n(P1, manager leaves now; "
                 "cyan: bystanders lose as much time as the manager spends)")
    return _save(fig, data, out, "boundary_map")


LOYALTY_BASE = Path(__file__).resolve().parents[1] / "study_recovery" / "base.yaml"


def loyalty_values(base: Path = LOYALTY_BASE) -> dict[str, float]:
    """Money per incident from the loyalty model of ``study_recovery`` (TARP retention, word of
    mouth, DOMAIN.md 3b.2), in margins' currency at the visit, first order.

    ``long_wait_loss``: what one visit ending dissatisfied by its wait costs (retention 0.9 ->
    0.37 plus bad word of mouth).  ``recovered_value``: what the manager's immediate recovery
    is worth for one complainer, against the remake alone ("complained, not satisfied" ->
    "resolved quickly"; P1 starts handling at once).
    """
    from queue_sim.population.outcomes import (  # noqa: PLC0415
        LONG_WAIT, NOT_SATISFIED, RESOLVED_QUICKLY, ValueModel)

    pop = load_scenario(base).population
    loss = ValueModel.of(pop).expected_loss(pop)
    return {"long_wait_loss": float(loss[LONG_WAIT]),
            "recovered_value": float(loss[NOT_SATISFIED] - loss[RESOLVED_QUICKLY]),
            "margin": pop.value.margin}


def value_map(summary: pd.DataFrame, out: Path) -> Path:
    """Money the line loses per complaint (P1 vs P0) against the complainer's recovered value.

    The line's loss is the net number of others pushed below the dissatisfaction threshold
    per complaint, each valued as a long-wait problem of the loyalty model; the complainer's
    value is that model's lacklustre -> resolved-quickly difference.
    """
    values = loyalty_values()
    data = _select(summary, "dissatisfied_extra_others_per_complaint", tills=3, error=0.01)
    data = data[data["policy"] == "P1 leaves now"].copy()
    for column in ("mean", "ci_low", "ci_high"):
        data[f"cost_{column}"] = data[column] * values["long_wait_loss"]
    data["recovered_value"] = values["recovered_value"]
    data["cost_to_value"] = data["cost_mean"] / values["recovered_value"]
    # where the 95% CI of the cost does not decide which side of the value it lies on
    data["undecided"] = ((data["cost_ci_low"] <= values["recovered_value"])
                         & (data["cost_ci_high"] >= values["recovered_value"]))
    ratio = data.pivot_table(index="recovery", columns="rho", values="cost_to_value")
    cost = data.pivot_table(index="recovery", columns="rho", values="cost_mean")
    undecided = data.pivot_table(index="recovery", columns="rho", values="undecided",
                                 aggfunc="max")
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    im = ax.imshow(np.log10(np.maximum(ratio.to_numpy(), 1e-2)), origin="lower",
                   aspect="auto", cmap="RdBu_r", vmin=-1.5, vmax=1.5)
    ax.set_xticks(range(ratio.shape[1]), [f"{v:g}" for v in ratio.columns])
    ax.set_yticks(range(ratio.shape[0]), [f"{v:g}" for v in ratio.index])
    for i in range(ratio.shape[0]):
        for j in range(ratio.shape[1]):
            mark = " ?" if undecided.iat[i, j] else ""
            ax.text(j, i, f"{cost.iat[i, j]:.0f}{mark}\n({ratio.iat[i, j]:.2g}x)",
                    ha="center", va="center", fontsize=8,
                    color="white" if abs(np.log10(max(ratio.iat[i, j], 1e-2))) > 1 else "black")
    if ratio.shape[0] > 1 and ratio.shape[1] > 1:
        ax.contour(ratio.to_numpy(), levels=[1.0], colors="black", linewidths=2)
    fig.colorbar(im, ax=ax, label="log10 (line's loss / complainer's recovered value)")
    ax.set(xlabel="utilisation rho", ylabel="recovery time R (minutes)")
    ax.set_title(f"Value the line loses per complaint when the manager leaves the till (P1 vs "
                 f"P0)\nagainst the complainer's recovered value, "
                 f"{values['recovered_value']:.1f} (one visit's margin = "
                 f"{values['margin']:g}; study_recovery's loyalty model)\nred: the line loses "
                 f"more; black line: equal; ?: the 95% CI includes equality", fontsize=9)
    return _save(fig, data, out, "value_map")


def at_the_till(trace) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Number of customers at the till (waiting or served) as a step function."""
    reached = ~np.isnan(trace.queued_at)
    ends = np.where(np.isnan(trace.service_ended_at),
                    trace.left_at[trace.visit_customer], trace.service_ended_at)
    times = np.concatenate([trace.queued_at[reached], ends[reached]])
    steps = np.concatenate([np.ones(reached.sum()), -np.ones(reached.sum())])
    order = np.lexsort((steps, times))
    return times[order], np.cumsum(steps[order])


def timeline_and_delays(base: Path, engine: str, out: Path) -> list[Path]:
    """One replication at the base point: P1 against P0, and per-bystander extra delays."""
    from study import point_overrides  # noqa: PLC0415 - sibling module

    scenario = load_scenario(base)
    simulate_one = get_engine(engine)
    p1 = derive(scenario, point_overrides(BASE, "P1 leaves now"))
    p0 = derive(scenario, point_overrides(BASE, "P0 remake only"))
    seed = scenario.run.seed
    traces = {name: simulate_one(sc, rng.draw(sc, seed, 0)) for name, sc in (("P1", p1),
                                                                                ("P0", p0))}
    starts, ends = handling_episodes(traces["P1"])
    t0 = starts[np.searchsorted(starts, 150.0)] if len(starts) else 150.0
    lo, hi = t0 - 15, t0 + 45
    fig, ax = plt.subplots(figsize=(8, 4))
    rows = []
    for name, trace in traces.items():
        t, n = at_the_till(trace)
        keep = (t >= lo) & (t <= hi)
        ax.step(t[keep], n[keep], where="post",
                label={"P1": "manager leaves the till (P1)",
                       "P0": "counterfactual: remake only (P0)"}[name])
        rows.append(pd.DataFrame({"policy": name, "time": t[keep], "at_till": n[keep]}))
    for s, e in zip(starts, ends):
        if e > lo and s < hi:
            ax.axvspan(max(s, lo), min(e, hi), color="orange", alpha=0.25, lw=0)
    ax.set(xlabel="time (minutes)", ylabel="customers at the tills", xlim=(lo, hi),
           title="One replication, rho = 0.8: complaint handling shaded")
    ax.legend(fontsize=8)
    paths = [_save(fig, pd.concat(rows), out, "timeline")]

    delays = []
    for r in range(10):
        a = simulate_one(p1, rng.draw(p1, seed, r))
        b = simulate_one(p0, rng.draw(p0, seed, r))
        _, customers = compare(a, b, threshold=0.5)
        hit = customers[~customers["complained"] & (customers["extra_wait"] > 1e-9)]
        delays.append(hit.assign(replication=r))
    data = pd.concat(delays)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(data["extra_wait"], bins=60, color="tab:red", alpha=0.8)
    ax.set(xlabel="extra wait of a delayed customer (minutes, P1 vs P0)",
           ylabel="customers (10 replications)",
           title=f"Who pays: {len(data)} delayed customers, median "
                 f"{data['extra_wait'].median():.1f} min")
    paths.append(_save(fig, data[["replication", "customer", "arrived_at", "extra_wait",
                                  "after_recovery"]], out, "bystander_delays"))
    return paths


def draw_all(summary: pd.DataFrame, out: Path, *, base: Path, engine: str) -> list[Path]:
    paths = [extra_minutes_vs_utilisation(summary, out), downstream_share(summary, out),
             satisfaction(summary, out), boundary_map(summary, out), value_map(summary, out)]
    return paths + timeline_and_delays(base, engine, out)
