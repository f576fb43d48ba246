"""Sweep files: expansion (grid, zip, sample), stable point ids, and every validation error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from queue_sim.config.sweep import (
    baseline_of,
    expand,
    load_sweep,
    point_id,
    shrink_for_smoke,
    sweep_from_dict,
    sweep_hash,
)
from queue_sim.errors import ConfigError

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"

BASE = {
    "name": "tiny",
    "stations": {"till": {"servers": 1}},
    "classes": {"walkin": {
        "arrivals": {"kind": "poisson", "rate": 0.8},
        "service": {"till": {"kind": "exponential", "mean": 1.0}},
        "complaints": {"probability": 0.1, "handling": {"kind": "exponential", "mean": 2.0}},
    }},
    "staff": {"managers": [{"name": "manager", "home": "till"}]},
    "recovery": {"policy": "drop_everything"},
    "run": {"horizon": 100.0, "warmup": 10.0, "replications": 3, "seed": 7},
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    return tmp_path


def make(folder: Path, **parts: object):
    return sweep_from_dict({"base": "base.yaml", **parts}, path=folder / "sweep.yaml")


def error_of(folder: Path, **parts: object) -> str:
    with pytest.raises(ConfigError) as info:
        make(folder, **parts)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Expansion


def test_grid_is_every_combination_last_key_fastest(folder: Path) -> None:
    sweep = make(folder, grid={"stations.till.servers": [1, 2],
                               "recovery.policy": ["drop_everything", "queue", "dedicated"]})
    points = expand(sweep)
    assert [(p.factors["stations.till.servers"], p.factors["recovery.policy"])
            for p in points] == [(1, "drop_everything"), (1, "queue"), (1, "dedicated"),
                                 (2, "drop_everything"), (2, "queue"), (2, "dedicated")]
    assert [p.index for p in points] == list(range(6))
    assert points[4].scenario.stations["till"].servers == 2
    assert points[4].scenario.recovery.policy == "queue"


def test_zip_varies_together_and_multiplies_with_grid(folder: Path) -> None:
    sweep = make(folder, grid={"recovery.policy": ["queue", "dedicated"]},
                 zip={"stations.till.servers": [1, 2, 3],
                      "classes.walkin.arrivals.rate": [0.5, 1.0, 1.5]})
    points = expand(sweep)
    assert len(points) == 6
    assert [(p.factors["stations.till.servers"], p.factors["classes.walkin.arrivals.rate"])
            for p in points[:3]] == [(1, 0.5), (2, 1.0), (3, 1.5)]
    assert sweep.factor_keys == ["recovery.policy", "stations.till.servers",
                                 "classes.walkin.arrivals.rate"]


@pytest.mark.parametrize("method", ["lhs", "random"])
def test_sample_within_ranges_integers_and_deterministic(folder: Path, method: str) -> None:
    ranges = {"classes.walkin.arrivals.rate": [0.2, 0.9], "stations.till.servers": [1, 4]}
    sweep = make(folder, sample={"method": method, "n": 40, "seed": 3, "ranges": ranges})
    points = expand(sweep)
    rates = [p.factors["classes.walkin.arrivals.rate"] for p in points]
    servers = [p.factors["stations.till.servers"] for p in points]
    assert len(points) == 40
    assert all(0.2 <= r < 0.9 for r in rates) and all(isinstance(r, float) for r in rates)
    assert set(servers) == {1, 2, 3, 4} and all(isinstance(s, int) for s in servers)
    again = expand(make(folder, sample={"method": method, "n": 40, "seed": 3, "ranges": ranges}))
    assert [p.factors for p in again] == [p.factors for p in points]
    if method == "lhs":  # one point per tenth of the range: the Latin hypercube property
        tenths = sorted(int((r - 0.2) / 0.7 * 40) for r in rates)
        assert tenths == list(range(40))


def test_sample_seed_defaults_to_run_seed(folder: Path) -> None:
    sample = {"n": 5, "ranges": {"classes.walkin.arrivals.rate": [0.2, 0.9]}}
    a = expand(make(folder, sample=sample))
    b = expand(make(folder, sample={**sample, "seed": 7}))
    c = expand(make(folder, sample={**sample, "seed": 8}))
    assert [p.factors for p in a] == [p.factors for p in b] != [p.factors for p in c]


def test_no_factors_is_one_point(folder: Path) -> None:
    points = expand(make(folder))
    assert len(points) == 1 and points[0].factors == {}


def test_point_id_depends_only_on_factor_values(folder: Path) -> None:
    assert point_id({"a": 1, "b": "x"}) == point_id({"b": "x", "a": 1})
    assert point_id({"a": 1}) != point_id({"a": 2}) != point_id({"a": 1.5})
    one = expand(make(folder, grid={"stations.till.servers": [1, 2]}))
    other = expand(make(folder, grid={"stations.till.servers": [2, 3]}, run={"seed": 9}))
    assert one[1].point_id == other[0].point_id
    assert len({p.point_id for p in one}) == 2


def test_overrides_apply_to_every_point(folder: Path) -> None:
    sweep = make(folder, overrides={"run.horizon": 50.0, "classes.walkin.patience":
                                    {"kind": "exponential", "mean": 5.0}},
                 grid={"stations.till.servers": [1, 2]})
    for p in expand(sweep):
        assert p.scenario.run.horizon == 50.0
        assert p.scenario.classes["walkin"].patience.mean == 5.0


def test_run_defaults_come_from_the_base(folder: Path) -> None:
    assert make(folder).resolved_run() == {"replications": 3, "seed": 7, "engine": "numba"}
    assert make(folder, run={"engine": "simpy"}).resolved_run()["engine"] == "simpy"
    assert make(folder, run={"replications": 5, "seed": 1}).resolved_run()["seed"] == 1


def test_baseline_naming_some_factors_pairs_within_the_rest(folder: Path) -> None:
    sweep = make(folder, grid={"stations.till.servers": [1, 2],
                               "recovery.policy": ["drop_everything", "queue"]},
                 baseline={"recovery.policy": "drop_everything"})
    points = expand(sweep)
    pairs = {(p.index, baseline_of(sweep, p, points).index) for p in points}
    assert pairs == {(0, 0), (1, 0), (2, 2), (3, 2)}


def test_smoke_shrinks_horizon_and_replications(folder: Path) -> None:
    sweep = make(folder, grid={"stations.till.servers": [1, 2]},
                 run={"precision": {"metric": "system:all:mean_wait", "relative": 0.1,
                                    "max_replications": 40}})
    small = shrink_for_smoke(sweep)
    assert small.resolved_run()["replications"] == 2 and small.run.precision is None
    assert expand(small)[0].scenario.run.horizon == pytest.approx(10 + 0.2 * 90)
    assert sweep_hash(small) != sweep_hash(sweep)


def test_sweep_hash_ignores_formatting_but_not_content(folder: Path) -> None:
    text = "base: base.yaml\ngrid:\n  stations.till.servers: [1, 2]\n"
    (folder / "a.yaml").write_text(text)
    (folder / "b.yaml").write_text("# a comment\n" + text.replace("[1, 2]", "[1,   2]"))
    (folder / "c.yaml").write_text(text.replace("[1, 2]", "[1, 3]"))
    a, b, c = (sweep_hash(load_sweep(folder / n)) for n in ("a.yaml", "b.yaml", "c.yaml"))
    assert a == b != c
    base = dict(BASE, stations={"till": {"servers": 1, "capacity": 5}})
    (folder / "base.yaml").write_text(yaml.safe_dump(base))
    assert sweep_hash(load_sweep(folder / "a.yaml")) != a   # the base scenario counts too


def test_every_sweep_file_in_experiments_validates() -> None:
    files = [p for p in sorted(EXPERIMENTS.glob("*.yaml"))
             if "base" in (yaml.safe_load(p.read_text()) or {})]   # others are scenarios
    assert files
    for path in files:
        assert expand(load_sweep(path))


# ---------------------------------------------------------------------------------------------
# Validation errors: file, dotted key, expectation, suggestion


def test_unknown_field_with_suggestion(folder: Path) -> None:
    message = error_of(folder, grid={"stations.till.serverz": [1, 2]})
    assert message == (f"{folder / 'sweep.yaml'}: grid.stations.till.serverz is not a scenario "
                       f"field; did you mean 'stations.till.servers'?")


def test_unknown_station_name_with_suggestion(folder: Path) -> None:
    message = error_of(folder, grid={"stations.tll.servers": [1, 2]})
    assert "grid.stations.tll.servers names no entry 'tll' of stations" in message
    assert "did you mean 'stations.till.servers'?" in message


def test_unknown_sweep_and_run_fields(folder: Path) -> None:
    assert "gird is not a sweep field; did you mean 'grid'?" in error_of(folder, gird={})
    assert "did you mean 'run.replications'?" in error_of(folder, run={"replicatons": 3})


def test_unknown_override_key(folder: Path) -> None:
    message = error_of(folder, overrides={"run.horizn": 5})
    assert "overrides.run.horizn is not a scenario field; did you mean 'run.horizon'?" in message


def test_empty_list(folder: Path) -> None:
    assert "grid.stations.till.servers must be a non-empty list of values (got [])" in \
        error_of(folder, grid={"stations.till.servers": []})


def test_wrong_types(folder: Path) -> None:
    assert "grid.stations.till.servers must be an integer (got 'two')" in \
        error_of(folder, grid={"stations.till.servers": [1, "two"]})
    assert "grid.stations.till.servers must be a list (got 3)" in \
        error_of(folder, grid={"stations.till.servers": 3})
    assert "sample.ranges.classes.walkin.arrivals.rate must be [low, high], two finite " \
           "numbers" in error_of(folder, sample={"n": 2, "ranges": {
               "classes.walkin.arrivals.rate": ["a", 1]}})


def test_out_of_range_and_bad_choice_with_suggestion(folder: Path) -> None:
    assert "grid.stations.till.servers must be >= 0 (got -1)" in \
        error_of(folder, grid={"stations.till.servers": [1, -1]})
    message = error_of(folder, grid={"recovery.policy": ["drop_everyting"]})
    assert "grid.recovery.policy must be one of" in message
    assert "did you mean 'drop_everything'?" in message


def test_low_above_high(folder: Path) -> None:
    message = error_of(folder, sample={"n": 4, "ranges": {
        "classes.walkin.complaints.probability": [0.5, 0.1]}})
    assert "sample.ranges.classes.walkin.complaints.probability must have low <= high " \
           "(got [0.5, 0.1])" in message


def test_sample_range_bound_checked_against_schema(folder: Path) -> None:
    assert "sample.ranges.classes.walkin.complaints.probability must be <= 1" in \
        error_of(folder, sample={"n": 4, "ranges": {
            "classes.walkin.complaints.probability": [0.5, 1.5]}})


def test_zip_lengths_must_agree(folder: Path) -> None:
    assert "zip.recovery.policy must have as many values as zip.stations.till.servers (2), " \
           "not 1" in error_of(folder, zip={"stations.till.servers": [1, 2],
                                            "recovery.policy": ["queue"]})


def test_key_varied_twice_and_repeated_values(folder: Path) -> None:
    assert "zip.stations.till.servers is already varied in grid" in error_of(
        folder, grid={"stations.till.servers": [1]}, zip={"stations.till.servers": [2]})
    assert "grid.stations.till.servers must not repeat a value (got 1)" in error_of(
        folder, grid={"stations.till.servers": [1, 1]})


def test_value_that_breaks_a_cross_field_rule(folder: Path) -> None:
    message = error_of(folder, grid={"staff.managers": [[{"name": "m"}], []]})
    assert "grid.staff.managers cannot be []: then recovery.policy needs at least one manager" \
        in message


def test_base_scenario_missing_or_invalid(folder: Path) -> None:
    assert "base must name an existing scenario file (got 'nope.yaml')" in \
        str(pytest.raises(ConfigError, sweep_from_dict, {"base": "nope.yaml"},
                          path=folder / "sweep.yaml").value)
    (folder / "bad.yaml").write_text(yaml.safe_dump(
        dict(BASE, stations={"till": {"servers": -1}})))
    with pytest.raises(ConfigError) as info:
        sweep_from_dict({"base": "bad.yaml"}, path=folder / "sweep.yaml")
    assert str(info.value).startswith(f"{folder / 'sweep.yaml'}: base must be a valid "
                                      f"scenario file (")
    assert "stations.till.servers must be >= 0 (got -1)" in str(info.value)
    assert info.value.key == "base"


def test_missing_seed(folder: Path) -> None:
    base = dict(BASE, run={"horizon": 100.0})
    (folder / "base.yaml").write_text(yaml.safe_dump(base))
    assert "run.seed is required" in error_of(folder)


def test_baseline_errors(folder: Path) -> None:
    grid = {"recovery.policy": ["queue", "dedicated"]}
    assert "baseline.recovery.polcy is not a factor of this sweep (recovery.policy); did you " \
           "mean 'recovery.policy'?" in error_of(folder, grid=grid,
                                                 baseline={"recovery.polcy": "queue"})
    assert "baseline.recovery.policy must be one of the factor's values" in \
        error_of(folder, grid=grid, baseline={"recovery.policy": "drop_everything"})


def test_precision_errors(folder: Path) -> None:
    precision = {"metric": "system:all:mean_wait", "max_replications": 30}
    assert "run.precision is invalid: give exactly one of relative or absolute" in \
        error_of(folder, run={"precision": precision})
    message = error_of(folder, run={"precision": {**precision, "relative": 0.1,
                                                  "metric": "class:walkn:mean_wait"}})
    assert "run.precision.metric must name a class of the base scenario (walkin)" in message
    assert "did you mean 'class:walkin:mean_wait'?" in message
    assert "run.precision.max_replications must be >= run.replications (3) (got 2)" in \
        error_of(folder, run={"precision": {**precision, "relative": 0.1,
                                            "max_replications": 2}})


def test_every_problem_reported_at_once(folder: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make(folder, grid={"stations.till.servers": [], "recovery.policy": ["nope"]})
    assert [p.key for p in info.value.problems] == ["grid.stations.till.servers",
                                                    "grid.recovery.policy"]
