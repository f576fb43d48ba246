"""Reading scenario files: YAML -> overrides -> validated ``Scenario`` with its data files bound.

Every failure becomes one ``ConfigError`` listing each bad field as
``<file>: <dotted.key> must be <expectation> (got <value>)``, with a suggestion for typos.
Imports nothing from simpy or numba.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from queue_sim.config import distributions, schema
from queue_sim.errors import ConfigError, InvalidField, InvalidSubfield, Problem

_UNION_TAGS = {"poisson", "schedule", "trace", "logistic", *distributions.DISTRIBUTION_KINDS}


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, turning unreadable files into a ``ConfigError``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(Problem("file", "must exist", str(path), path=str(path))) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Problem("file", f"must be valid YAML: {exc}", has_value=False,
                                  path=str(path))) from None
    if not isinstance(data, dict):
        raise ConfigError(Problem("file", "must hold a YAML mapping", type(data).__name__,
                                  path=str(path)))
    return data


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``dotted.key=value``; the value is read as YAML (so 3, 0.5, true, [1, 2] work)."""
    if "=" not in text:
        raise ConfigError(Problem("--set", "must look like dotted.key=value", text))
    key, raw = text.split("=", 1)
    return key.strip(), yaml.safe_load(raw)


def apply_overrides(data: dict[str, Any], overrides: Iterable[tuple[str, Any]] | Mapping,
                    *, path: str | None = None) -> dict[str, Any]:
    """Return a copy of ``data`` with each dotted key set; unknown parents are an error."""
    import copy

    data = copy.deepcopy(data)
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    for key, value in items:
        node: Any = data
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                continue
            if not isinstance(node, dict):
                raise ConfigError(Problem(key, "must name a field inside a mapping",
                                          ".".join(parts[: depth + 1]), path=path))
            node = node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ConfigError(Problem(key, "must name a field inside a mapping", key, path=path))
    return data


def load_scenario(path: str | Path, overrides: Iterable[tuple[str, Any]] | Mapping = ()
                  ) -> schema.Scenario:
    """Load, override and validate a scenario file.

    Parameters
    ----------
    path
        YAML scenario file.  Data files it names are resolved relative to it.
    overrides
        ``(dotted.key, value)`` pairs or a mapping, applied before validation.

    Raises
    ------
    ConfigError
        Listing every invalid field, before anything runs.
    """
    path = Path(path)
    data = apply_overrides(read_yaml(path), overrides, path=str(path))
    return scenario_from_dict(data, path=str(path), base_dir=path.parent)


def scenario_from_dict(data: dict[str, Any], *, path: str | None = None,
                       base_dir: str | Path = ".") -> schema.Scenario:
    """Validate a scenario given as a mapping (see ``load_scenario``)."""
    try:
        scenario = schema.Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(translate(exc, data, path=path)) from None
    bind_data_files(scenario, Path(base_dir), path=path)
    scenario._base_dir = Path(base_dir)
    return scenario


def derive(scenario: schema.Scenario, overrides: Iterable[tuple[str, Any]] | Mapping,
           *, path: str | None = None) -> schema.Scenario:
    """A validated copy of ``scenario`` with dotted keys changed (data files re-read)."""
    data = apply_overrides(scenario.model_dump(mode="json", exclude_unset=True), overrides,
                           path=path)
    return scenario_from_dict(data, path=path, base_dir=scenario._base_dir)


# ---------------------------------------------------------------------------------------------
# Error translation


def translate(exc: ValidationError, data: Any, *, path: str | None) -> list[Problem]:
    """Turn pydantic's errors into our one-line problems with dotted keys and suggestions."""
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if str(p) not in _UNION_TAGS]
        key = ".".join(loc) or "scenario"
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, InvalidField):
            where = ".".join([*loc, inner.key]) if isinstance(inner, InvalidSubfield) else inner.key
            problems.append(Problem(where, inner.expected, inner.value, path=path,
                                    suggestion=_closest(inner.value, inner.choices)))
            continue
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            parent = ".".join(loc[:-1])
            problems.append(Problem(key, "is not a field" + (f" of {parent}" if parent else ""),
                                    has_value=False, path=path,
                                    suggestion=_closest_field(loc, data)))
        elif kind == "missing":
            problems.append(Problem(key, "is required", has_value=False, path=path))
        elif kind in ("literal_error", "union_tag_invalid"):
            expected = ctx.get("expected") or ctx.get("expected_tags", "")
            choices = [c.strip(" '") for c in str(expected).replace(" or ", ",").split(",")]
            if kind == "union_tag_invalid":
                key = key + ".kind"
                value = ctx.get("tag", value)
            problems.append(Problem(key, f"must be one of {expected}", value, path=path,
                                    suggestion=_closest(value, choices)))
        elif kind == "union_tag_not_found":
            problems.append(Problem(key + ".kind", "is required (which kind of "
                                    f"{loc[-1] if loc else 'item'}?)", has_value=False, path=path))
        else:
            msg = err["msg"]
            msg = msg.removeprefix("Value error, ")
            expected = _expectation(kind, ctx, msg)
            problems.append(Problem(key, expected, value, path=path,
                                    has_value=not isinstance(value, (dict,))))
    return problems


def _expectation(kind: str, ctx: dict, msg: str) -> str:
    bounds = {"greater_than": "must be > {gt}", "greater_than_equal": "must be >= {ge}",
              "less_than": "must be < {lt}", "less_than_equal": "must be <= {le}",
              "too_short": "must have at least {min_length} item(s)"}
    if kind in bounds:
        return bounds[kind].format(**ctx)
    if kind.startswith(("int_", "float_", "bool_", "string_", "dict_", "list_")):
        noun = kind.split("_")[0]
        noun = {"int": "an integer", "float": "a number", "bool": "true or false",
                "string": "a string", "dict": "a mapping", "list": "a list"}[noun]
        return f"must be {noun}"
    return "is invalid: " + msg[0].lower() + msg[1:] if msg else "is invalid"


def _closest(value: object, choices: list[str]) -> str | None:
    if not isinstance(value, str) or not choices:
        return None
    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def _closest_field(loc: list[str], data: Any) -> str | None:
    """Suggest the nearest valid field name for an unknown key at ``loc``."""
    model = _model_at(schema.Scenario, loc[:-1], data)
    if model is None:
        return None
    match = _closest(loc[-1], list(model.model_fields))
    return ".".join(loc[:-1] + [match]) if match else None


def _model_at(model: type[BaseModel], loc: list[str], data: Any) -> type[BaseModel] | None:
    """Walk the schema along ``loc`` (following dict values and union tags in ``data``)."""
    import typing

    node: Any = model
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part)
            if field is None:
                return None
            node = field.annotation
        else:  # inside dict[str, X] or list[X]
            args = typing.get_args(node)
            node = args[-1] if args else None
        node = _resolve(node, data)
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _resolve(node: Any, data: Any) -> Any:
    import typing

    for _ in range(4):  # unwrap Optional / Annotated / tagged unions
        origin = typing.get_origin(node)
        if origin is typing.Annotated:
            node = typing.get_args(node)[0]
        elif origin in (typing.Union, __import__("types").UnionType):
            options = [a for a in typing.get_args(node) if a is not type(None)]
            tagged = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)
                      and isinstance(data, dict)
                      and a.model_fields.get("kind") is not None
                      and a.model_fields["kind"].default == data.get("kind")]
            node = tagged[0] if tagged else options[0]
        else:
            break
    return node


# ---------------------------------------------------------------------------------------------
# Data files (arrival traces, empirical samples)


def read_number_column(file: Path, column: str | None, *, key: str, path: str | None
                       ) -> np.ndarray:
    """Read one numeric column of a CSV file, with errors that name the file, key and row."""
    if not file.exists():
        raise ConfigError(Problem(key + ".file", "must be an existing CSV file", str(file),
                                  path=path))
    try:
        frame = pd.read_csv(file)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise ConfigError(Problem(key + ".file", f"must be a readable CSV file ({exc})",
                                  str(file), path=path)) from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise ConfigError(Problem(key + ".file", "must hold at least one value", str(file),
                                  path=path))
    name = column if column is not None else frame.columns[0]
    if name not in frame.columns:
        raise ConfigError(Problem(key + ".column", f"must be a column of {file}", name,
                                  path=path, suggestion=_closest(name, list(frame.columns))))
    values = pd.to_numeric(frame[name], errors="coerce")
    bad = values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(Problem(f"{key}.file", f"must hold numbers only; row {row + 2} of "
                                  f"{file} column {name!r} is not", frame[name].iloc[row],
                                  path=path))
    return values.to_numpy(dtype=float)


def bind_data_files(scenario: schema.Scenario, base_dir: Path, *, path: str | None) -> None:
    """Read every trace and empirical file the scenario names and attach the values."""
    for cname, cls in scenario.classes.items():
        if isinstance(cls.arrivals, schema.TraceArrivals):
            key = f"classes.{cname}.arrivals"
            times = read_number_column(base_dir / cls.arrivals.file, cls.arrivals.column,
                                       key=key, path=path)
            if (times < 0).any() or (np.diff(times) < 0).any():
                raise ConfigError(Problem(key + ".file", "must hold non-negative arrival times "
                                          "sorted in increasing order", str(cls.arrivals.file),
                                          path=path))
            cls.arrivals.bind(times)
    for key, dist in _distributions(scenario):
        if isinstance(dist, distributions.Empirical):
            values = read_number_column(base_dir / dist.file, dist.column, key=key, path=path)
            if (values < 0).any():
                raise ConfigError(Problem(key + ".file", "must hold non-negative durations",
                                          str(dist.file), path=path))
            dist.bind(values)


def _distributions(scenario: schema.Scenario) -> Iterable[tuple[str, Any]]:
    for cname, cls in scenario.classes.items():
        for station, dist in cls.service.items():
            yield f"classes.{cname}.service.{station}", dist
        if cls.patience is not None:
            yield f"classes.{cname}.patience", cls.patience
        if cls.complaints is not None:
            yield f"classes.{cname}.complaints.handling", cls.complaints.handling
            if cls.complaints.rework_service is not None:
                yield f"classes.{cname}.complaints.rework_service", cls.complaints.rework_service
        for sname, res in (cls.resolution or {}).items():
            if res.recontact is not None:
                yield f"classes.{cname}.resolution.{sname}.recontact.delay", res.recontact.delay
            if res.escalation is not None and res.escalation.delay is not None:
                yield (f"classes.{cname}.resolution.{sname}.escalation.delay",
                       res.escalation.delay)
        if cls.retrial is not None:
            yield f"classes.{cname}.retrial.delay", cls.retrial.delay
    for sname, st in scenario.stations.items():
        if st.breakdowns is not None:
            yield f"stations.{sname}.breakdowns.repair", st.breakdowns.repair
        if st.vacations is not None:
            yield f"stations.{sname}.vacations.duration", st.vacations.duration
