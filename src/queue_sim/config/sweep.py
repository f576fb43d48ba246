"""Sweep files: a base scenario, what varies (grid, zip, sample) and run control -> ``Point``s.

``load_sweep(path)`` validates everything a sweep can get wrong before anything runs: unknown
dotted keys (with a suggestion), empty lists, wrong types, ``low > high``, a base scenario that
fails validation, a baseline that names no point.  Each failure is a ``ConfigError`` whose
problems read ``<sweep file>: <part>.<dotted.key> <expectation> (got <value>)``.
``expand(sweep)`` turns it into ``Point``s, each with a stable ``point_id`` and a validated
``Scenario``.  Imports config only; never simpy, numba, stats or the runner.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from queue_sim.config import schema
from queue_sim.config.distributions import Frozen
from queue_sim.config.load import (
    _model_at,
    apply_overrides,
    read_yaml,
    scenario_from_dict,
    translate,
)
from queue_sim.errors import ConfigError, Problem

PARTS = ("grid", "zip", "sample")
SMOKE_REPLICATIONS = 2
SMOKE_MAX_CUSTOMERS = 500
SMOKE_HORIZON_FRACTION = 0.2
SMOKE_MAX_SAMPLES = 8
METRIC_SCOPES = ("system", "class", "station", "staff")


class Sample(Frozen):
    """Points drawn from a box of ranges: ``random`` (uniform) or ``lhs`` (Latin hypercube).

    A range whose bounds are both integers gives integer values (uniform over
    ``low..high`` inclusive); otherwise values are floats in ``[low, high)``.
    """

    method: Literal["random", "lhs"] = Field(default="lhs", description="how points are drawn")
    n: int = Field(ge=1, description="number of points drawn")
    seed: int | None = Field(default=None, ge=0,
                             description="seed of the design; default: run.seed")
    ranges: dict[str, list[Any]] = Field(min_length=1,
                                         description="dotted.key -> [low, high]")


class Precision(Frozen):
    """Add replications to a point until the 95% CI half-width of ``metric`` is small enough."""

    metric: str = Field(description="scope:name:metric column, e.g. system:all:mean_wait")
    relative: float | None = Field(default=None, gt=0,
                                   description="target half-width / |mean|")
    absolute: float | None = Field(default=None, gt=0,
                                   description="target half-width, in the metric's unit")
    max_replications: int = Field(ge=2, description="never run more replications per point")
    batch: int | None = Field(default=None, ge=1,
                              description="replications added per round; default: "
                                          "run.replications")

    @model_validator(mode="after")
    def _one_target(self) -> Precision:
        if (self.relative is None) == (self.absolute is None):
            raise ValueError("give exactly one of relative or absolute")
        if self.metric.count(":") < 2:
            raise ValueError(f"metric must look like scope:name:metric (got {self.metric!r})")
        return self


class SweepCounterfactual(Frozen):
    """Run every replication of every point twice, as configured and with ``change``, on the
    same customers, and add the attribution metrics of ``queue_sim.counterfactual`` (scope
    ``counterfactual``, name ``all``) to the point's rows."""

    change: dict[str, Any] = Field(min_length=1, description=(
        "dotted.key -> value of the counterfactual, applied on top of each point, e.g. "
        "classes.walkin.complaints.probability: 0"))
    threshold: float = Field(default=0.5, ge=0, description=(
        "customers delayed by more than this (time_unit) count in n_delayed"))


class SweepRun(Frozen):
    """Run control of a sweep; unset fields come from the base scenario's ``run``."""

    replications: int | None = Field(default=None, ge=1,
                                     description="replications per point (the first batch)")
    seed: int | None = Field(default=None, ge=0, description="root seed of every point")
    engine: Literal["simpy", "numba"] | None = Field(
        default=None, description="simulation engine; default: the base scenario's run.engine "
                                  "(itself numba unless the base says otherwise)")
    precision: Precision | None = None
    keep_customers: list[int] = Field(
        default_factory=list, description="replications whose customer rows are kept per point")


class Sweep(Frozen):
    """A sweep file: the base scenario, what varies, and how to run each point."""

    name: str | None = Field(default=None, description="results folder name; default: file stem")
    description: str = ""
    base: Path = Field(description="base scenario file, relative to the sweep file")
    overrides: dict[str, Any] = Field(default_factory=dict,
                                      description="dotted.key -> value, applied to the base")
    grid: dict[str, list[Any]] = Field(default_factory=dict,
                                       description="dotted.key -> values; every combination")
    zip: dict[str, list[Any]] = Field(default_factory=dict,
                                      description="dotted.key -> values varied together")
    sample: Sample | None = None
    run: SweepRun = Field(default_factory=SweepRun)
    baseline: dict[str, Any] | None = Field(
        default=None, description="factor values of the baseline point (paired differences)")
    counterfactual: SweepCounterfactual | None = None

    _path: Path | None = PrivateAttr(default=None)
    _text: str = PrivateAttr(default="")
    _base_data: dict[str, Any] | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The sweep file this was loaded from."""
        return self._path

    @property
    def text(self) -> str:
        """The sweep file's text, as read."""
        return self._text

    @property
    def base_path(self) -> Path:
        """The base scenario file, resolved relative to the sweep file."""
        return (self._path.parent if self._path else Path(".")) / self.base

    @property
    def sweep_name(self) -> str:
        return self.name or (self._path.stem if self._path else "sweep")

    @property
    def factor_keys(self) -> list[str]:
        """Every varied dotted key, in column order: grid, then zip, then sample."""
        keys = list(self.grid) + list(self.zip)
        return keys + (list(self.sample.ranges) if self.sample else [])

    @property
    def factor_parts(self) -> dict[str, str]:
        """Which part (``grid``, ``zip`` or ``sample``) varies each factor."""
        parts = {k: "grid" for k in self.grid} | {k: "zip" for k in self.zip}
        return parts | {k: "sample" for k in (self.sample.ranges if self.sample else {})}

    def base_data(self) -> dict[str, Any]:
        """The base scenario mapping with ``overrides`` applied (before validation)."""
        if self._base_data is None:
            data = read_yaml(self.base_path)
            self._base_data = apply_overrides(data, self.overrides, path=str(self.base_path))
        return self._base_data

    def base_scenario(self) -> schema.Scenario:
        """The validated base scenario with ``overrides`` applied."""
        return scenario_from_dict(self.base_data(), path=str(self.base_path),
                                  base_dir=self.base_path.parent)

    def resolved_run(self) -> dict[str, Any]:
        """Replications, seed and engine with the base scenario's defaults filled in."""
        base = self.base_scenario().run
        return {"replications": self.run.replications or base.replications,
                "seed": self.run.seed if self.run.seed is not None else base.seed,
                "engine": self.run.engine or base.engine}


@dataclass(frozen=True)
class Point:
    """One combination of factor values and the scenario it gives."""

    index: int
    point_id: str
    factors: dict[str, Any]
    scenario: schema.Scenario


def point_id(factors: Mapping[str, Any]) -> str:
    """Stable id of a point: 12 hex digits of the SHA-256 of its factor values (sorted JSON)."""
    text = json.dumps(dict(factors), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Loading and validation


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file.

    Parameters
    ----------
    path
        YAML sweep file; its ``base`` is resolved relative to it.

    Returns
    -------
    Sweep

    Raises
    ------
    ConfigError
        Listing every invalid field (``<sweep file>: <key> ...``), before anything runs.
    """
    path = Path(path)
    data = read_yaml(path)
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_translate_sweep(exc, data, str(path))) from None
    sweep._path = path
    sweep._text = path.read_text()
    validate(sweep)
    return sweep


def sweep_from_dict(data: dict[str, Any], *, path: str | Path = "sweep.yaml",
                    text: str | None = None) -> Sweep:
    """Validate a sweep given as a mapping; ``path`` anchors ``base`` and error messages."""
    import yaml

    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_translate_sweep(exc, data, str(path))) from None
    sweep._path = Path(path)
    sweep._text = text if text is not None else yaml.safe_dump(data, sort_keys=False)
    validate(sweep)
    return sweep


def validate(sweep: Sweep) -> None:
    """Check every part of a sweep against its base scenario; raise one ``ConfigError``."""
    where = str(sweep.path)
    problems: list[Problem] = []
    if not sweep.base_path.exists():
        raise ConfigError(Problem("base", "must name an existing scenario file",
                                  str(sweep.base), path=where))
    try:
        base_data = sweep.base_data()
    except ConfigError as exc:
        raise ConfigError([_reword(p, "overrides", p.key, None, where) for p in exc.problems]
                          ) from None
    try:  # the base file alone, then with the sweep's overrides
        scenario_from_dict(read_yaml(sweep.base_path), path=str(sweep.base_path),
                           base_dir=sweep.base_path.parent)
    except ConfigError as exc:
        raise ConfigError([Problem("base", f"must be a valid scenario file ({p})",
                                   has_value=False, path=where) for p in exc.problems]) from None
    for key, value in sweep.overrides.items():
        problems += _check_value(sweep, base_data, "overrides", key, value)
    if problems:
        raise ConfigError(_unique(problems))
    try:
        sweep.base_scenario()
    except ConfigError as exc:
        raise ConfigError([_reword(p, "overrides", p.key, None, where) for p in exc.problems]
                          ) from None

    seen: dict[str, str] = {}
    for part, values_of in (("grid", sweep.grid), ("zip", sweep.zip)):
        for key, values in values_of.items():
            problems += _check_key_once(key, part, seen, where)
            if not values:
                problems.append(Problem(f"{part}.{key}", "must be a non-empty list of values",
                                        values, path=where))
                continue
            problems += _check_repeats(f"{part}.{key}", values, where)
            for value in values:
                problems += _check_value(sweep, base_data, part, key, value)
    lengths = {k: len(v) for k, v in sweep.zip.items() if v}
    if len(set(lengths.values())) > 1:
        first = next(iter(lengths))
        for key, n in lengths.items():
            if n != lengths[first]:
                problems.append(Problem(f"zip.{key}", f"must have as many values as "
                                        f"zip.{first} ({lengths[first]}), not {n}",
                                        has_value=False, path=where))
    if sweep.sample is not None:
        problems += _check_sample(sweep, base_data, seen, where)
    if sweep.counterfactual is not None:
        for key, value in sweep.counterfactual.change.items():
            problems += _check_value(sweep, base_data, "counterfactual.change", key, value)
    if problems:
        raise ConfigError(_unique(problems))
    problems += _check_run(sweep, where)
    if problems:
        raise ConfigError(_unique(problems))
    points = expand(sweep)
    if sweep.baseline is not None:
        problems += _check_baseline(sweep, points, where)
    if problems:
        raise ConfigError(_unique(problems))


def _unique(problems: list[Problem]) -> list[Problem]:
    return list({str(p): p for p in problems}.values())


def _check_key_once(key: str, part: str, seen: dict[str, str], where: str) -> list[Problem]:
    if key in seen:
        return [Problem(f"{part}.{key}", f"is already varied in {seen[key]}", has_value=False,
                        path=where)]
    seen[key] = part
    return []


def _check_repeats(key: str, values: list[Any], where: str) -> list[Problem]:
    texts = [json.dumps(v, sort_keys=True, default=str) for v in values]
    repeated = [v for v, t in zip(values, texts) if texts.count(t) > 1]
    if repeated:
        return [Problem(key, "must not repeat a value", repeated[0], path=where)]
    return []


def _check_value(sweep: Sweep, base_data: dict[str, Any], part: str, key: str, value: Any
                 ) -> list[Problem]:
    """Problems of setting ``key`` to ``value`` on the base (the whole scenario is rebuilt)."""
    where = str(sweep.path)
    problem = _unknown_name(key, base_data, part, where)
    if problem is not None:
        return [problem]
    try:
        data = apply_overrides(base_data, {key: value}, path=where)
        scenario_from_dict(data, path=str(sweep.base_path), base_dir=sweep.base_path.parent)
    except ConfigError as exc:
        return [_reword(p, part, key, value, where) for p in exc.problems]
    return []


def _unknown_name(key: str, data: dict[str, Any], part: str, where: str) -> Problem | None:
    """A dotted key whose parent names a class, station ... the base scenario does not have."""
    parts = key.split(".")
    node: Any = data
    for depth, name in enumerate(parts[:-1]):
        if isinstance(node, dict) and name in node:
            node = node[name]
            continue
        if isinstance(node, list) and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
            continue
        if isinstance(node, dict) and node and _model_at(schema.Scenario, parts[:depth], data
                                                         ) is None:
            parent = ".".join(parts[:depth])
            match = difflib.get_close_matches(name, list(node), n=1, cutoff=0.6)
            suggestion = ".".join([*parts[:depth], match[0], *parts[depth + 1:]]) if match \
                else None
            return Problem(f"{part}.{key}", f"names no entry {name!r} of {parent} in the base "
                           f"scenario (it has {', '.join(map(str, node))})", has_value=False,
                           path=where, suggestion=suggestion)
        return None
    return None


def _reword(p: Problem, part: str, key: str, value: Any, where: str) -> Problem:
    """A scenario problem caused by ``part.key = value``, restated against the sweep file."""
    related = p.key == key or key.startswith(p.key + ".") or p.key.startswith(key + ".")
    if related:
        expected = p.expected
        if expected.startswith("is not a field"):
            expected = "is not a scenario field"
        return Problem(f"{part}.{p.key}" if p.key.startswith(key) else f"{part}.{key}",
                       expected, p.value, has_value=p.has_value, path=where,
                       suggestion=p.suggestion)
    return Problem(f"{part}.{key}", _makes_invalid(value, p), has_value=False, path=where)


def _makes_invalid(value: Any, p: Problem) -> str:
    got = f" (got {p.value!r})" if p.has_value else ""
    head = f"cannot be {value!r}: then" if value is not None else "makes the scenario invalid:"
    return f"{head} {p.key} {p.expected}{got}"


def _check_sample(sweep: Sweep, base_data: dict[str, Any], seen: dict[str, str], where: str
                  ) -> list[Problem]:
    assert sweep.sample is not None
    problems: list[Problem] = []
    for key, bounds in sweep.sample.ranges.items():
        name = f"sample.ranges.{key}"
        problems += _check_key_once(key, "sample.ranges", seen, where)
        if (len(bounds) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool)
                                        and math.isfinite(b) for b in bounds)):
            problems.append(Problem(name, "must be [low, high], two finite numbers", bounds,
                                    path=where))
            continue
        low, high = bounds
        if low > high:
            problems.append(Problem(name, "must have low <= high", bounds, path=where))
            continue
        for value in (low, high):
            found = _check_value(sweep, base_data, "sample.ranges", key, value)
            problems += found
            if found:
                break
    return problems


def _check_run(sweep: Sweep, where: str) -> list[Problem]:
    problems = []
    base = sweep.base_scenario()
    run = sweep.resolved_run()
    if run["seed"] is None:
        problems.append(Problem("run.seed", "is required (here or in the base scenario's run) "
                                "so that repeated and resumed sweeps agree", has_value=False,
                                path=where))
    precision = sweep.run.precision
    if precision is not None:
        scope, rest = precision.metric.split(":", 1)
        name = rest.rsplit(":", 1)[0]
        scopes = METRIC_SCOPES + (("counterfactual",) if sweep.counterfactual else ())
        names = {"system": ["all"], "class": base.class_names, "station": base.station_names,
                 "staff": None, "counterfactual": ["all"]}[scope] if scope in scopes else []
        if scope not in scopes:
            problems.append(Problem("run.precision.metric", "must start with one of "
                                    + ", ".join(scopes), precision.metric, path=where))
        elif names is not None and name not in names:
            match = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            problems.append(Problem("run.precision.metric", f"must name a {scope} of the base "
                                    f"scenario ({', '.join(names)})", precision.metric,
                                    path=where,
                                    suggestion=precision.metric.replace(name, match[0], 1)
                                    if match else None))
        if precision.max_replications < run["replications"]:
            problems.append(Problem("run.precision.max_replications",
                                    f"must be >= run.replications ({run['replications']})",
                                    precision.max_replications, path=where))
    return problems


def _check_baseline(sweep: Sweep, points: list[Point], where: str) -> list[Problem]:
    assert sweep.baseline is not None
    problems = []
    keys = sweep.factor_keys
    for key, value in sweep.baseline.items():
        if key not in keys:
            match = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            problems.append(Problem(f"baseline.{key}", "is not a factor of this sweep ("
                                    + (", ".join(keys) or "none") + ")", has_value=False,
                                    path=where, suggestion=match[0] if match else None))
            continue
        levels = list(dict.fromkeys(json.dumps(p.factors[key], default=str) for p in points))
        if json.dumps(value, default=str) not in levels:
            problems.append(Problem(f"baseline.{key}", "must be one of the factor's values ("
                                    + ", ".join(levels) + ")", value, path=where))
    if not problems and not any(baseline_of(sweep, p, points) is p for p in points):
        problems.append(Problem("baseline", "must name factor values of at least one point",
                                sweep.baseline, path=where))
    return problems


def _translate_sweep(exc: ValidationError, data: Any, path: str) -> list[Problem]:
    """Pydantic errors of the sweep file itself, with suggestions from the sweep's fields."""
    problems = translate(exc, data, path=path)
    for err, problem in zip(exc.errors(), problems):
        if err["type"] == "extra_forbidden":
            loc = [str(p) for p in err["loc"]]
            model: Any = {(): Sweep, ("run",): SweepRun, ("sample",): Sample,
                          ("run", "precision"): Precision}.get(tuple(loc[:-1]))
            match = (difflib.get_close_matches(loc[-1], list(model.model_fields), n=1,
                                               cutoff=0.6) if model else [])
            problem.expected = "is not a sweep field" if len(loc) == 1 else problem.expected
            problem.suggestion = ".".join([*loc[:-1], match[0]]) if match else None
    return problems


# ---------------------------------------------------------------------------------------------
# Expansion


def expand(sweep: Sweep) -> list[Point]:
    """Every point of a sweep: the product of grid, zip rows and sample rows (those given).

    Points are ordered grid first (last key fastest), then zip, then sample.  With nothing
    varied there is one point with no factors.

    Raises
    ------
    ConfigError
        If a combination of individually valid values makes an invalid scenario.
    """
    data = sweep.base_data()
    grid_rows = [dict(zip(sweep.grid, combo)) for combo in itertools.product(*sweep.grid.values())]
    n_zip = len(next(iter(sweep.zip.values()))) if sweep.zip else 0
    zip_rows = [{k: v[i] for k, v in sweep.zip.items()} for i in range(n_zip)] or [{}]
    sample_rows = draw_sample(sweep.sample, sweep.resolved_run()["seed"]) if sweep.sample \
        else [{}]
    points, problems = [], []
    for index, (g, z, s) in enumerate(itertools.product(grid_rows, zip_rows, sample_rows)):
        factors = {**g, **z, **s}
        try:
            scenario = scenario_from_dict(apply_overrides(data, factors),
                                          path=str(sweep.base_path),
                                          base_dir=sweep.base_path.parent)
        except ConfigError as exc:
            problems += [Problem("point " + json.dumps(factors, default=str),
                                 _makes_invalid(None, p), has_value=False,
                                 path=str(sweep.path)) for p in exc.problems[:1]]
            continue
        points.append(Point(index, point_id(factors), factors, scenario))
    if problems:
        raise ConfigError(_unique(problems))
    return points


def draw_sample(sample: Sample, default_seed: int | None) -> list[dict[str, Any]]:
    """The ``n`` rows of a random or Latin-hypercube design scaled to ``ranges``."""
    seed = sample.seed if sample.seed is not None else default_seed
    keys = list(sample.ranges)
    d = len(keys)
    if sample.method == "lhs":
        from scipy.stats import qmc

        arg = "rng" if "rng" in inspect.signature(qmc.LatinHypercube).parameters else "seed"
        unit = qmc.LatinHypercube(d=d, **{arg: np.random.default_rng(seed)}).random(sample.n)
    else:
        unit = np.random.default_rng(seed).random((sample.n, d))
    rows = []
    for u in unit:
        row = {}
        for key, x in zip(keys, u):
            low, high = sample.ranges[key]
            if isinstance(low, int) and isinstance(high, int):
                row[key] = int(min(high, low + math.floor(x * (high - low + 1))))
            else:
                row[key] = float(low + x * (high - low))
        rows.append(row)
    return rows


def baseline_of(sweep: Sweep, point: Point, points: list[Point]) -> Point | None:
    """The point ``point`` is compared with: its factors with the baseline's values put in.

    A baseline naming every factor is one point for all; naming some factors (say the policy)
    compares each point with the point that differs only in those.  None when there is no
    baseline or no such point.
    """
    if sweep.baseline is None:
        return None
    wanted = point_id({**point.factors, **sweep.baseline})
    return next((p for p in points if p.point_id == wanted), None)


# ---------------------------------------------------------------------------------------------
# Smoke runs and identity


def shrink_for_smoke(sweep: Sweep) -> Sweep:
    """The same sweep made tiny: 2 replications, a short horizon or few customers, <= 8 samples.

    The horizon keeps its warmup and ``SMOKE_HORIZON_FRACTION`` of the rest; a customer count
    is capped at ``SMOKE_MAX_CUSTOMERS``.  Precision targets are dropped.
    """
    base = sweep.base_scenario()
    overrides = dict(sweep.overrides)
    if base.run.customers is not None:
        overrides["run.customers"] = min(base.run.customers, SMOKE_MAX_CUSTOMERS)
    else:
        assert base.run.horizon is not None
        overrides["run.horizon"] = base.run.warmup + SMOKE_HORIZON_FRACTION * (
            base.run.horizon - base.run.warmup)
    run = sweep.run.model_copy(update={"replications": SMOKE_REPLICATIONS, "precision": None,
                                       "keep_customers": [r for r in sweep.run.keep_customers
                                                          if r < SMOKE_REPLICATIONS]})
    update: dict[str, Any] = {"overrides": overrides, "run": run,
                              "name": sweep.sweep_name + "-smoke"}
    if sweep.sample is not None:
        update["sample"] = sweep.sample.model_copy(
            update={"n": min(sweep.sample.n, SMOKE_MAX_SAMPLES)})
    small = sweep.model_copy(update=update)
    small._path, small._text, small._base_data = sweep._path, sweep._text, None
    return small


def sweep_hash(sweep: Sweep) -> str:
    """Identity of what a sweep computes: its definition plus the resolved base scenario.

    Two runs with the same hash produce the same numbers, so a results folder may be resumed
    only by a sweep with the same hash.  Comments and formatting of the files do not count.
    """
    definition = sweep.model_dump(mode="json", exclude={"name", "description", "base"})
    identity = {"sweep": definition, "run": sweep.resolved_run(),
                "base": sweep.base_scenario().model_dump(mode="json")}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
