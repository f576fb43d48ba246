"""Scenario checks for separate lines, state-dependent service and express lanes: what cannot
be combined is refused with the dotted key, never approximated."""

from __future__ import annotations

import copy

import pytest

from queue_sim.config import scenario_from_dict
from queue_sim.errors import ConfigError

BASE = {
    "run": {"horizon": 100},
    "stations": {"till": {"servers": 2, "lines": {"join": "random", "jockeying": True}}},
    "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 1.0},
                      "service": {"till": {"kind": "exponential", "mean": 1.0}}}},
}


def with_(changes: dict) -> dict:
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def test_defaults_are_a_shared_line_and_the_plain_service():
    sc = scenario_from_dict(with_({"stations.till": {"servers": 2}}))
    st = sc.stations["till"]
    assert st.lines is None and st.service_dependence is None and st.express_for is None
    sc = scenario_from_dict(with_({"stations.till.lines": {}}))
    assert sc.stations["till"].lines.join == "shortest"
    assert sc.stations["till"].lines.jockeying is False


@pytest.mark.parametrize("changes, key, words", [
    ({"stations.till.schedule": [{"at": 5, "servers": 1}]}, "stations.till.schedule",
     "cannot be combined with separate lines"),
    ({"stations.till.capacity": 3}, "stations.till.capacity", "separate lines"),
    ({"stations.till.breakdowns": {"rate": 0.1, "repair": {"kind": "exponential",
                                                           "mean": 1}}},
     "stations.till.breakdowns", "separate lines"),
    ({"stations.till.vacations": {"duration": {"kind": "exponential", "mean": 1}}},
     "stations.till.vacations", "separate lines"),
    ({"stations.till.discipline": "preemptive"}, "stations.till.discipline", "fifo"),
    ({"stations.till.servers": 0}, "stations.till.servers", "at least 1"),
    ({"staff.managers": [{"home": "till"}], "recovery.policy": "queue"},
     "staff.managers.0.home", "strand a line"),
    ({"classes.a.balking": {"max_queue": 2}}, "classes.a.balking", "separate lines"),
    ({"stations.till.lines.join": "shortset"}, "stations.till.lines.join", "must be one of"),
    ({"stations.till.service_dependence": {"per_wait": -1}},
     "stations.till.service_dependence.per_wait", ">= 0"),
    ({"stations.till.service_dependence": {"queue_factor": 0}},
     "stations.till.service_dependence.queue_factor", "> 0"),
    ({"stations.till.service_dependence": {"fatigue_window": 0}},
     "stations.till.service_dependence.fatigue_window", "> 0"),
    ({"stations.till.service_dependence": {"fatigue_threshold": 1.5}},
     "stations.till.service_dependence.fatigue_threshold", "<= 1"),
    ({"stations.fast": {"express_for": {"station": "til", "max_service": 1}}},
     "stations.fast.express_for.station", "another known station"),
    ({"stations.fast": {"express_for": {"station": "fast", "max_service": 1}}},
     "stations.fast.express_for.station", "another known station"),
    ({"stations.fast": {"express_for": {"station": "till", "max_service": 0}}},
     "stations.fast.express_for.max_service", "> 0"),
])
def test_refused_combinations_name_the_key(changes, key, words):
    with pytest.raises(ConfigError) as err:
        scenario_from_dict(with_(changes))
    assert err.value.key == key
    assert words in str(err.value)


def test_one_express_lane_per_station():
    lane = {"express_for": {"station": "till", "max_service": 1}}
    with pytest.raises(ConfigError, match="already has the express lane 'fast'") as err:
        scenario_from_dict(with_({"stations.fast": lane, "stations.faster": lane}))
    assert err.value.key == "stations.faster.express_for.station"


def test_check_counts_the_express_lane_work():
    from queue_sim.describe import station_loads

    sc = scenario_from_dict(with_({"stations.till": {"servers": 2},
                                   "stations.fast": {"express_for": {"station": "till",
                                                                     "max_service": 1.0}}}))
    loads = {ld.station: ld.offered_load for ld in station_loads(sc)}
    # E[S; S <= 1] for Exp(1) is 1 - 2/e; the rest stays at the till
    assert loads["fast"] == pytest.approx(1 - 2 / 2.718281828459045, rel=1e-3)
    assert loads["till"] + loads["fast"] == pytest.approx(1.0, rel=1e-9)


def test_a_typo_in_an_express_lane_gets_a_suggestion():
    with pytest.raises(ConfigError, match="did you mean 'till'"):
        scenario_from_dict(with_({"stations.fast": {"express_for": {"station": "tll",
                                                                    "max_service": 1}}}))


def test_managers_may_serve_a_line_when_they_never_leave_it():
    for policy in ("dedicated", "remake_only"):
        scenario_from_dict(with_({"staff.managers": [{"home": "till"}],
                                  "recovery.policy": policy}))
