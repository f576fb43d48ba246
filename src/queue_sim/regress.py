"""Regression runs for CI: rerun a scenario or sweep and compare its summary with a baseline.

A *baseline* is a small JSON file a team commits: what was run (kind, identity hash, seed,
engine, replications, versions) and the tidy summary rows (``scope, name, metric, mean,
ci_low, ci_high, std, reps``), per point for a sweep.  Two comparisons:

- **exact**: with the same identity and seed, every number must be bit-identical; the report
  lists every number that moved (old, new, difference).
- **statistical**: for changes that legitimately reshuffle the random numbers.  Per metric, a
  Welch two-sample t-test of the new replications against the baseline's, from both means,
  standard deviations and replication counts; Holm-Bonferroni over all metrics (and points)
  keeps the family-wise false-alarm rate at ``ALPHA``.

Errors in what is compared (missing or invalid files, a baseline of another scenario) raise
``ConfigError`` before anything runs.  Imports config, runner and stats, and the sweep layer
when a sweep file is given; never the CLI or plots.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from queue_sim.errors import ConfigError, Problem
from queue_sim.results import atomic_write

FORMAT = "queue_sim-regression-baseline/1"
ALPHA = 0.01             # family-wise false-alarm rate of statistical mode
FIELDS = ("mean", "ci_low", "ci_high", "std", "reps")
KEYS = ("point_id", "scope", "name", "metric")
MODES = ("exact", "statistical")


# ---------------------------------------------------------------------------------------------
# What is run


@dataclass
class Target:
    """A validated scenario or sweep file and the identity of what it computes."""

    kind: str                       # "scenario" or "sweep"
    path: Path
    identity: str                   # hash of what is computed, seed and engine excluded
    seed: int
    engine: str
    replications: int
    model: Any                      # the Scenario or Sweep
    factors: dict[str, dict[str, Any]] = field(default_factory=dict)  # point_id -> factors


@dataclass
class Record:
    """One regression run, as computed now or as read from a baseline file."""

    kind: str
    source: str
    identity: str
    seed: int
    engine: str
    replications: int
    versions: dict[str, str | None]
    summary: pd.DataFrame           # KEYS then FIELDS; point_id "" for a scenario
    factors: dict[str, dict[str, Any]] = field(default_factory=dict)


def sweep_support() -> bool:
    """Whether this installation can run sweep files (``queue_sim.sweep`` exists)."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("queue_sim.config.sweep", "queue_sim.sweep"))


def load_target(path: str | Path, *, engine: str | None = None) -> Target:
    """Read and validate a scenario or sweep file (a sweep has a top-level ``base:`` key).

    Parameters
    ----------
    path
        Scenario YAML, or sweep YAML when ``queue_sim.sweep`` is installed.
    engine
        Engine to run with; default the file's ``run.engine``.

    Raises
    ------
    ConfigError
        Missing file, invalid YAML or fields, no ``run.seed`` (a regression run must be
        reproducible), or a sweep file when sweeps are not supported.
    """
    from queue_sim.config.load import read_yaml

    path = Path(path)
    data = read_yaml(path)
    if "base" in data:
        return _sweep_target(path, engine)
    from queue_sim.config.load import load_scenario

    scenario = load_scenario(path)
    if scenario.run.seed is None:
        raise ConfigError(Problem("run.seed", "must be set for a regression run", None,
                                  path=str(path)))
    return Target("scenario", path, _hash(scenario_identity(scenario)), scenario.run.seed,
                  engine or scenario.run.engine, scenario.run.replications, scenario)


def _sweep_target(path: Path, engine: str | None) -> Target:
    if not sweep_support():
        raise ConfigError(Problem("base", "marks a sweep file, but this installation has no "
                                  "queue_sim.sweep; regress supports scenario files only",
                                  has_value=False, path=str(path)))
    from queue_sim.config.sweep import expand, load_sweep

    sweep = load_sweep(path)
    run = sweep.resolved_run()
    if run["seed"] is None:
        raise ConfigError(Problem("run.seed", "must be set (in the sweep or its base) for a "
                                  "regression run", None, path=str(path)))
    points = expand(sweep)
    identity = {"points": [[p.point_id, scenario_identity(p.scenario)] for p in points],
                "run": sweep.run.model_dump(mode="json", exclude={"seed", "engine"}),
                "replications": run["replications"]}
    return Target("sweep", path, _hash(identity), int(run["seed"]), engine or run["engine"],
                  int(run["replications"]), sweep, {p.point_id: p.factors for p in points})


def scenario_identity(scenario: Any) -> dict[str, Any]:
    """What a scenario computes: every field set away from its default, but its name,
    description, seed and engine.  Fields at their defaults are left out, so a new optional
    field that changes nothing leaves every baseline's identity as it was."""
    data = scenario.model_dump(mode="json", exclude={"name", "description"},
                               exclude_defaults=True)
    data["run"] = {k: v for k, v in data.get("run", {}).items() if k not in ("seed", "engine")}
    return data


def _hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def versions() -> dict[str, str | None]:
    """The versions that decide the numbers: queue_sim and numpy (whose generators draw)."""
    from importlib import metadata

    from queue_sim import __version__

    try:
        numpy_version: str | None = metadata.version("numpy")
    except metadata.PackageNotFoundError:
        numpy_version = None
    return {"queue_sim": __version__, "numpy": numpy_version}


def run_target(target: Target, *, progress: bool = False) -> Record:
    """Run a scenario (``runner.simulate``) or sweep (``sweep.run_sweep``) and keep its summary.

    Raises
    ------
    RuntimeError
        When a sweep point fails (the run cannot be compared).
    """
    if target.kind == "scenario":
        from queue_sim.runner import simulate

        results = simulate(target.model, engine=target.engine, progress=progress)
        summary = results.summary.copy()
        summary.insert(0, "point_id", "")
    else:
        summary = _run_sweep(target, progress)
    summary = summary[[*KEYS, *FIELDS]].reset_index(drop=True)
    summary["reps"] = summary["reps"].astype(int)
    return Record(target.kind, _portable(target.path), target.identity, target.seed,
                  target.engine, target.replications, versions(), summary, target.factors)


def _portable(path: Path) -> str:
    """The path relative to the working directory when it lies below it (baselines are shared)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _run_sweep(target: Target, progress: bool) -> pd.DataFrame:
    from queue_sim.sweep import run_sweep

    with tempfile.TemporaryDirectory(prefix="queue-sim-regress-") as tmp:
        result = run_sweep(target.model, Path(tmp) / "run", engine=target.engine,
                           progress=progress)
        if result.failures:
            first = result.failures[0]
            raise RuntimeError(f"{len(result.failures)} sweep point(s) failed; first: point "
                               f"{first['point_id']} {first['factors']}: {first['error']}")
        # the CSV holds shortest-repr floats; pandas >= 3 reads them back bit for bit by
        # default, older pandas only with the round-trip parser (deprecated in 3)
        exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
        summary = pd.read_csv(result.folder / "summary.csv", **exact,
                              keep_default_na=False, na_values=["", "NaN", "nan"],
                              dtype={"point_id": str, "scope": str, "name": str, "metric": str})
    return summary


# ---------------------------------------------------------------------------------------------
# Baseline files


def write_baseline(record: Record, path: str | Path) -> Path:
    """Write a baseline JSON file atomically (a temporary sibling renamed into place)."""
    path = Path(path)
    doc: dict[str, Any] = {
        "format": FORMAT, "kind": record.kind, "source": record.source,
        "identity": record.identity, "seed": record.seed, "engine": record.engine,
        "replications": record.replications, "versions": record.versions,
    }
    rows = _rows(record.summary)
    if record.kind == "scenario":
        doc["summary"] = rows.get("", [])
    else:
        doc["points"] = [{"point_id": pid, "factors": record.factors.get(pid, {}),
                          "summary": rows.get(pid, [])} for pid in rows]
    return atomic_write(path, lambda tmp: tmp.write_text(_format(doc) + "\n"))


def _rows(summary: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in summary.itertuples(index=False):
        values = row._asdict()
        entry = {k: str(values[k]) for k in ("scope", "name", "metric")}
        entry.update({k: _json_number(values[k]) for k in FIELDS})
        out.setdefault(str(values["point_id"]), []).append(entry)
    return out


def _json_number(value: Any) -> float | int | None:
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value   # strict JSON has no NaN; null means NaN


def _format(doc: Any, indent: int = 0) -> str:
    """JSON with one summary row per line, so a baseline's git diff reads metric by metric."""
    pad = "  " * (indent + 1)
    if isinstance(doc, dict) and doc and any(isinstance(v, (dict, list)) for v in doc.values()):
        items = [f"{pad}{json.dumps(k)}: {_format(v, indent + 1)}" for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(doc, list) and doc and all(isinstance(v, dict) for v in doc):
        items = [pad + _format(v, indent + 1) for v in doc]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return json.dumps(doc, allow_nan=False)


def read_baseline(path: str | Path) -> Record:
    """Read a baseline file.

    Raises
    ------
    ConfigError
        If it is missing, not JSON, or not a baseline of this format.
    """
    path = Path(path)
    where = str(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(Problem("baseline", "must exist (create it with --update)",
                                  has_value=False, path=where)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(Problem("baseline", f"must be a readable JSON file: {exc}",
                                  has_value=False, path=where)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ConfigError(Problem("format", f"must be {FORMAT!r}", got, path=where))
    try:
        if doc["kind"] == "scenario":
            parts = [("", {}, doc["summary"])]
        else:
            parts = [(p["point_id"], p.get("factors", {}), p["summary"]) for p in doc["points"]]
        rows = [{"point_id": pid, **{k: str(r[k]) for k in ("scope", "name", "metric")},
                 **{k: (math.nan if r[k] is None else r[k]) for k in FIELDS}}
                for pid, _, summary in parts for r in summary]
        summary = pd.DataFrame(rows, columns=[*KEYS, *FIELDS])
        summary[list(FIELDS[:-1])] = summary[list(FIELDS[:-1])].astype(float)
        summary["reps"] = summary["reps"].astype(int)
        return Record(doc["kind"], doc["source"], doc["identity"], int(doc["seed"]),
                      doc["engine"], int(doc["replications"]), dict(doc["versions"]),
                      summary, {pid: factors for pid, factors, _ in parts if pid})
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(Problem("baseline", f"is missing or has a malformed field ({exc!r})",
                                  has_value=False, path=where)) from None


def check_comparable(baseline: Record, target: Target, *, mode: str,
                     baseline_path: str | Path) -> list[str]:
    """Refuse comparisons that cannot mean anything; return notes on harmless differences.

    Raises
    ------
    ConfigError
        A baseline of another kind or identity (the file changed: rerun with ``--update``),
        or, in exact mode, another seed.
    """
    where = str(baseline_path)
    if mode not in MODES:
        raise ConfigError(Problem("--mode", f"must be one of {', '.join(MODES)}", mode))
    if (baseline.kind, baseline.identity) != (target.kind, target.identity):
        raise ConfigError(Problem(
            "identity", f"must match {target.path} ({target.kind} {target.identity}): the "
            f"baseline records another {baseline.kind}; if the change is intended, rerun with "
            f"--update and review the diff", baseline.identity, path=where))
    if mode == "exact" and baseline.seed != target.seed:
        raise ConfigError(Problem("seed", f"must equal the run's seed {target.seed} in exact "
                                  f"mode (use --mode statistical, or --update)", baseline.seed,
                                  path=where))
    notes = []
    if baseline.engine != target.engine:
        notes.append(f"baseline engine {baseline.engine}, this run {target.engine}")
    now = versions()
    for package, old in baseline.versions.items():
        if now.get(package) != old:
            notes.append(f"baseline made with {package} {old}, this run has {now.get(package)}")
    if baseline.seed != target.seed:
        notes.append(f"baseline seed {baseline.seed}, this run {target.seed}")
    return notes


# ---------------------------------------------------------------------------------------------
# Comparisons


@dataclass
class Comparison:
    """The outcome of comparing a run with its baseline.

    ``metrics`` has one row per compared metric (``KEYS`` then mode-specific columns, and
    ``moved``); ``changes`` has the rows that moved: in exact mode one per number
    (``field, old, new, difference``), in statistical mode one per metric.
    """

    mode: str
    metrics: pd.DataFrame
    changes: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    alpha: float | None = None

    @property
    def regressed(self) -> bool:
        return bool(self.metrics["moved"].any())

    @property
    def n_moved(self) -> int:
        return int(self.metrics["moved"].sum())


def _joined(baseline: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows of both summaries side by side, in the baseline's order (new metrics last)."""
    old = baseline[[*KEYS, *FIELDS]].assign(_old=np.arange(len(baseline)))
    cur = new[[*KEYS, *FIELDS]].assign(_new=np.arange(len(new)))
    both = old.merge(cur, on=list(KEYS), how="outer", suffixes=("_old", "_new"))
    both = both.sort_values(["_old", "_new"], na_position="last", kind="stable")
    both["_old"] = both["_old"].notna()
    both["_new"] = both["_new"].notna()
    return both.reset_index(drop=True)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def compare_exact(baseline: Record | pd.DataFrame, new: Record | pd.DataFrame) -> Comparison:
    """Every number of the new summary against the baseline's, bit for bit (NaN equals NaN)."""
    both = _joined(_summary(baseline), _summary(new))
    metric_rows, changes = [], []
    for row in both.to_dict("records"):
        key = {k: row[k] for k in KEYS}
        if not (row["_old"] and row["_new"]):
            what = "added" if row["_new"] else "removed"
            for name in FIELDS:
                changes.append({**key, "field": name, "old": row[f"{name}_old"],
                                "new": row[f"{name}_new"], "difference": math.nan,
                                "note": f"metric {what}"})
            metric_rows.append({**key, "moved": True, "fields": what})
            continue
        moved = []
        for name in FIELDS:
            old, cur = float(row[f"{name}_old"]), float(row[f"{name}_new"])
            if not _same(old, cur):
                moved.append(name)
                changes.append({**key, "field": name, "old": old, "new": cur,
                                "difference": cur - old, "note": ""})
        metric_rows.append({**key, "moved": bool(moved), "fields": ",".join(moved)})
    return Comparison("exact", pd.DataFrame(metric_rows, columns=[*KEYS, "moved", "fields"]),
                      pd.DataFrame(changes, columns=[*KEYS, "field", "old", "new", "difference",
                                                     "note"]))


def welch(mean_a: float, std_a: float, n_a: int, mean_b: float, std_b: float, n_b: int
          ) -> tuple[float, float, float]:
    """Welch's two-sample t-test from summary statistics: ``(t, degrees of freedom, p)``.

    Two samples without spread (std 0 both) have p = 1 if their means agree, else p = 0.
    NaN when either sample has fewer than two values.
    """
    if n_a < 2 or n_b < 2 or math.isnan(std_a) or math.isnan(std_b):
        return math.nan, math.nan, math.nan
    va, vb = std_a**2 / n_a, std_b**2 / n_b
    if va + vb == 0:
        return (0.0, math.inf, 1.0) if mean_a == mean_b else (math.copysign(math.inf, mean_b
                                                                            - mean_a),
                                                              math.inf, 0.0)
    t = (mean_b - mean_a) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    return t, df, float(2 * sps.t.sf(abs(t), df))


def holm(pvalues: np.ndarray | list[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaN entries are not tested and stay NaN).

    The i-th smallest of m p-values becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``;
    rejecting where the adjusted value is <= alpha keeps the family-wise error rate at alpha
    under any dependence between the tests.
    """
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    if m == 0:
        return adjusted
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def compare_statistical(baseline: Record | pd.DataFrame, new: Record | pd.DataFrame, *,
                        alpha: float = ALPHA) -> Comparison:
    """Per metric, is the new mean consistent with the baseline's, given both samples' noise?

    Welch t-tests (``welch``) with Holm's correction over every tested metric at family-wise
    level ``alpha``.  A metric defined in one run and undefined (NaN, absent) in the other has
    moved (p = 0); one undefined in both, or with fewer than two replications, is not tested.
    ``difference`` is new minus baseline mean, with its 95% Welch interval.
    """
    both = _joined(_summary(baseline), _summary(new))
    rows = []
    for row in both.to_dict("records"):
        key = {k: row[k] for k in KEYS}
        m_old, m_new = float(row["mean_old"]), float(row["mean_new"])
        s_old, s_new = float(row["std_old"]), float(row["std_new"])
        n_old = int(row["reps_old"]) if row["_old"] and not pd.isna(row["reps_old"]) else 0
        n_new = int(row["reps_new"]) if row["_new"] and not pd.isna(row["reps_new"]) else 0
        t = df = p = half = math.nan
        if math.isnan(m_old) != math.isnan(m_new):
            p, note = 0.0, ("defined only in the new run" if math.isnan(m_old)
                            else "defined only in the baseline")
        elif math.isnan(m_old):
            note = "undefined in both runs (not tested)"
        else:
            t, df, p = welch(m_old, s_old, n_old, m_new, s_new, n_new)
            note = "fewer than 2 replications (not tested)" if math.isnan(p) else ""
            if not math.isnan(p) and math.isfinite(df):
                half = sps.t.ppf(0.975, df) * math.sqrt(s_old**2 / n_old + s_new**2 / n_new)
            elif not math.isnan(p):
                half = 0.0
        diff = m_new - m_old
        rows.append({**key, "old_mean": m_old, "new_mean": m_new, "difference": diff,
                     "diff_ci_low": diff - half, "diff_ci_high": diff + half,
                     "rel_difference": diff / abs(m_old) if m_old else math.nan,
                     "old_std": s_old, "new_std": s_new, "old_reps": n_old, "new_reps": n_new,
                     "t": t, "p_value": p, "note": note})
    metrics = pd.DataFrame(rows, columns=[*KEYS, "old_mean", "new_mean", "difference",
                                          "diff_ci_low", "diff_ci_high", "rel_difference",
                                          "old_std", "new_std", "old_reps", "new_reps", "t",
                                          "p_value", "note"])
    metrics["p_adjusted"] = holm(metrics["p_value"].to_numpy(float))
    metrics["moved"] = (metrics["p_adjusted"] <= alpha).fillna(False).astype(bool)
    changes = metrics[metrics["moved"]].sort_values("p_adjusted", kind="stable")
    return Comparison("statistical", metrics, changes.reset_index(drop=True), alpha=alpha)


def compare(baseline: Record, new: Record, *, mode: str, alpha: float = ALPHA) -> Comparison:
    """``compare_exact`` or ``compare_statistical`` by ``mode``."""
    if mode == "exact":
        return compare_exact(baseline, new)
    if mode == "statistical":
        return compare_statistical(baseline, new, alpha=alpha)
    raise ConfigError(Problem("--mode", f"must be one of {', '.join(MODES)}", mode))


def _summary(data: Record | pd.DataFrame) -> pd.DataFrame:
    frame = data.summary if isinstance(data, Record) else data
    if "point_id" not in frame.columns:
        frame = frame.assign(point_id="")
    return frame


def metric_label(row: dict[str, Any] | pd.Series) -> str:
    """``scope:name:metric``, prefixed by ``point_id/`` for sweep points."""
    label = f"{row['scope']}:{row['name']}:{row['metric']}"
    return f"{row['point_id']}/{label}" if row["point_id"] else label


# ---------------------------------------------------------------------------------------------
# JUnit XML


def write_junit(comparison: Comparison | None, path: str | Path, *, suite: str,
                classname: str = "regress", error: str | None = None,
                properties: dict[str, Any] | None = None) -> Path:
    """JUnit XML for CI systems: one testcase per metric, a failure for each that moved.

    Testcases are named ``scope:name:metric`` in class ``classname`` (``.point_id`` appended
    for sweep points).  With ``error`` (the comparison could not be made) the suite holds one
    testcase in error instead.
    """
    root = ET.Element("testsuites", name="queue-sim regress")
    cases = comparison.metrics if comparison is not None else pd.DataFrame()
    n_failed = comparison.n_moved if comparison is not None else 0
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(max(len(cases), 1 if error
                                                                       else 0)),
                         failures=str(n_failed), errors="1" if error else "0", skipped="0")
    if properties:
        props = ET.SubElement(node, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", name=str(key), value=str(value))
    if error is not None:
        case = ET.SubElement(node, "testcase", classname=classname, name="compare with baseline")
        ET.SubElement(case, "error", message=error.splitlines()[0] if error else "error",
                      type="bad input").text = error
    for row in cases.to_dict("records") if comparison is not None else []:
        case = ET.SubElement(node, "testcase", classname=classname + (
            f".{row['point_id']}" if row["point_id"] else ""),
                             name=f"{row['scope']}:{row['name']}:{row['metric']}")
        if row["moved"]:
            message, text = _failure_text(comparison, row)
            ET.SubElement(case, "failure", message=message, type="regression").text = text
    root.set("tests", node.get("tests", "0"))
    root.set("failures", str(n_failed))
    root.set("errors", node.get("errors", "0"))
    ET.indent(root)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _failure_text(comparison: Comparison, row: dict[str, Any]) -> tuple[str, str]:
    if comparison.mode == "exact":
        c = comparison.changes
        mine = c[(c["point_id"] == row["point_id"]) & (c["scope"] == row["scope"])
                 & (c["name"] == row["name"]) & (c["metric"] == row["metric"])]
        lines = [f"{r['field']}: {r['old']!r} -> {r['new']!r} (difference {r['difference']!r})"
                 + (f" [{r['note']}]" if r["note"] else "") for r in mine.to_dict("records")]
        return f"{len(lines)} number(s) moved: {row['fields']}", "\n".join(lines)
    message = (f"mean moved {row['old_mean']:.6g} -> {row['new_mean']:.6g} "
               f"(difference {row['difference']:+.4g}, adjusted p = {row['p_adjusted']:.3g})")
    text = (f"baseline mean {row['old_mean']!r} (std {row['old_std']!r}, "
            f"{row['old_reps']} reps)\nnew mean {row['new_mean']!r} (std {row['new_std']!r}, "
            f"{row['new_reps']} reps)\nWelch t = {row['t']:.4g}, p = {row['p_value']:.3g}, "
            f"Holm-adjusted p = {row['p_adjusted']:.3g} (alpha {comparison.alpha})"
            + (f"\n{row['note']}" if row["note"] else ""))
    return message, text
