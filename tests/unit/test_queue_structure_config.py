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
        if value is None:
            node.pop(last, None)
        else:
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
    ({"stations.till.service_dependence": {"rudeness_window": 0}},
     "stations.till.service_dependence.rudeness_window", "> 0"),
    ({"stations.till.service_dependence": {"difficult_probability": 1.5}},
     "stations.till.service_dependence.difficult_probability", "<= 1"),
    ({"stations.till.service_dependence": {"difficult_factor": 0}},
     "stations.till.service_dependence.difficult_factor", "> 0"),
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


# -- with re-contacts and retrials (the merge of feat/lines and main) ------------------------
RETRIAL = {"probability": 0.5, "delay": {"kind": "exponential", "mean": 1.0}}
RESOLUTION = {"probability": 0.8,
              "recontact": {"probability": 1.0, "delay": {"kind": "exponential", "mean": 2}}}


@pytest.mark.parametrize("changes, key, words", [
    # a retry would reuse its visit's line uniform, so it would always rejoin the same line
    ({"classes.a.retrial": RETRIAL}, "classes.a.retrial",
     "stations.till.lines.join 'random'"),
    # the lane is chosen from the drawn service time, resolution from the capped handle time
    ({"stations.till": {"servers": 2}, "classes.a.resolution": {"till": RESOLUTION},
      "stations.fast": {"express_for": {"station": "till", "max_service": 1}}},
     "classes.a.resolution.till", "stations.fast.express_for"),
    ({"stations.till": {"servers": 2}, "classes.a.resolution": {"fast": RESOLUTION},
      "classes.a.service.fast": {"kind": "exponential", "mean": 1.0},
      "classes.a.route": ["till", "fast"],
      "stations.fast": {"express_for": {"station": "till", "max_service": 1}}},
     "classes.a.resolution.fast", "stations.fast.express_for"),
    # resolution is decided in the draws; a state-dependent service time would not move it
    ({"stations.till.service_dependence": {"queue_threshold": 2, "queue_factor": 0.7},
      "classes.a.resolution": {"till": RESOLUTION}},
     "classes.a.resolution.till", "stations.till.service_dependence"),
])
def test_refused_combinations_with_recontacts_and_retrials(changes, key, words):
    with pytest.raises(ConfigError) as err:
        scenario_from_dict(with_(changes))
    assert err.value.key == key
    assert words in str(err.value)


@pytest.mark.parametrize("changes", [
    # the shortest line is a rule of the moment, so a retry just joins the shortest again
    {"stations.till.lines.join": "shortest", "classes.a.retrial": RETRIAL,
     "classes.a.patience": {"kind": "exponential", "mean": 2}},
    {"classes.a.resolution": {"till": RESOLUTION}},
    {"stations.till.service_dependence": {"per_wait": 0.2}, "stations.till.lines": None,
     "classes.a.retrial": RETRIAL},
    {"staff.managers": [{"home": None}], "recovery.policy": "queue",
     "recovery.acknowledge": {"per_customer": 0.1, "by": "clerk"},
     "classes.a.complaints": {"probability": 0.1,
                              "handling": {"kind": "exponential", "mean": 2}}},
    {"stations.till": {"servers": 2}, "classes.a.retrial": RETRIAL,
     "stations.fast": {"express_for": {"station": "till", "max_service": 1}}},
])
def test_supported_combinations_with_recontacts_and_retrials(changes):
    scenario_from_dict(with_(changes))
