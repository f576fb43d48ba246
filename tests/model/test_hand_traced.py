"""Hand-traced scenarios: fixed inputs, exact expected records (reference model and kernel).

Each expected number was worked out on paper from the rules in ``queue_sim.trace`` and
``queue_sim.model.policies``; the comments give the trace.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from queue_sim.errors import ConfigError
from queue_sim.trace import Outcome
from tests.model.hand_traced import build, fixed, run

ENGINES = ["simpy"] + (["numba"] if importlib.util.find_spec("queue_sim.kernels")
                       else [])
pytestmark = pytest.mark.parametrize("engine", ENGINES)
NAN = math.nan


def listed(a: np.ndarray) -> list:
    return [None if isinstance(x, float) and math.isnan(x) else x for x in a.tolist()]


def test_fifo_single_server(tmp_path, engine):
    # arrivals 0, 1, 2; service 2 each: starts 0, 2, 4; the arrival at 2 ties with nothing
    sc = build(tmp_path, {"a": {"at": [0, 1, 2], "service": 2}})
    t = run(sc, engine)
    assert t.service_started_at.tolist() == [0, 2, 4]
    assert t.service_ended_at.tolist() == [2, 4, 6]
    assert t.wait_time.tolist() == [0, 1, 2]
    assert t.outcome.tolist() == [Outcome.SERVED] * 3


def test_departure_goes_before_simultaneous_arrival(tmp_path, engine):
    # the second customer arrives at 2, exactly when the first leaves: it finds the server free
    sc = build(tmp_path, {"a": {"at": [0, 2], "service": 2}})
    t = run(sc, engine)
    assert t.service_started_at.tolist() == [0, 2]
    assert t.wait_time.tolist() == [0, 0]


def test_two_servers_lowest_index_first(tmp_path, engine):
    sc = build(tmp_path, {"a": {"at": [0, 0.5, 1], "service": 3}},
               stations={"till": {"servers": 2}})
    t = run(sc, engine)
    assert t.server.tolist() == [0, 1, 0]
    assert t.service_started_at.tolist() == [0, 0.5, 3]


def test_preemptive_resume_keeps_place_in_class(tmp_path, engine):
    # low L1 0-1 (4 of work), preempted at 1 by high H (2 of work) 1-3; L2 arrives at 2 and
    # queues behind the preempted L1 (earlier entry), so L1 resumes 3-6 and L2 runs 6-10.
    sc = build(tmp_path, {
        "high": {"at": [1], "service": 2, "priority": 0},
        "low": {"at": [0, 2], "service": fixed(4), "priority": 1},
    }, stations={"till": {"servers": 1, "discipline": "preemptive"}})
    t = run(sc, engine)
    # customers in arrival order: L1 (0), H (1), L2 (2)
    assert t.service_started_at.tolist() == [0, 1, 6]
    assert t.service_ended_at.tolist() == [6, 3, 10]
    assert t.n_preemptions.tolist() == [1, 0, 0]


def test_nonpreemptive_priority_waits_for_current(tmp_path, engine):
    sc = build(tmp_path, {
        "high": {"at": [1], "service": 2, "priority": 0},
        "low": {"at": [0, 0.5], "service": 4, "priority": 1},
    }, stations={"till": {"servers": 1, "discipline": "priority"}})
    t = run(sc, engine)
    # rows in arrival order L1, L2, H.  L1 0-4; H (arrived 1) jumps L2 (0.5): H 4-6, L2 6-10
    assert t.service_started_at.tolist() == [0, 6, 4]
    assert t.class_idx.tolist() == [1, 1, 0]


def test_abandonment_and_patience_tie(tmp_path, engine):
    # A 0-3; B (patience 2) arrives 1 and leaves at 3?  No: the server frees at 3 exactly and
    # departures go first, so B is served 3-6.  C (patience 1) arrives 2, gives up at 3.
    sc = build(tmp_path, {
        "a": {"at": [0], "service": 3},
        "b": {"at": [1], "service": 3, "patience": fixed(2)},
        "c": {"at": [2], "service": 3, "patience": fixed(1)},
    })
    t = run(sc, engine)
    assert t.outcome.tolist() == [Outcome.SERVED, Outcome.SERVED, Outcome.ABANDONED]
    assert listed(t.service_started_at) == [0, 3, None]
    assert t.left_at.tolist() == [3, 6, 3]
    assert t.wait_time.tolist() == [0, 2, 1]


def test_balking_at_max_queue(tmp_path, engine):
    sc = build(tmp_path, {"a": {"at": [0, 0.1, 0.2], "service": 5,
                                "balking": {"max_queue": 1}}})
    t = run(sc, engine)
    assert t.outcome.tolist() == [Outcome.SERVED, Outcome.SERVED, Outcome.BALKED]
    assert t.left_at[2] == 0.2


def test_balking_by_join_probability_per_queue_length(tmp_path, engine):
    # join_probability [1, 1, 0]: join when 0 or 1 are waiting, never at 2 or more (the last
    # entry repeats).  A is served at once (balking is decided only when every server is
    # busy); B finds 0 waiting, C 1 (both join), D and E find 2 and balk.  Probabilities 0 and
    # 1 make the outcome independent of the balking uniforms.
    sc = build(tmp_path, {"a": {"at": [0, 0.1, 0.2, 0.3, 0.4], "service": 5,
                                "balking": {"join_probability": [1, 1, 0]}}})
    t = run(sc, engine)
    assert t.outcome.tolist() == [Outcome.SERVED, Outcome.SERVED, Outcome.SERVED,
                                  Outcome.BALKED, Outcome.BALKED]
    assert listed(t.service_started_at) == [0, 5, 10, None, None]
    assert t.left_at[3:].tolist() == [0.3, 0.4]


def test_full_queue_loses_arrival(tmp_path, engine):
    sc = build(tmp_path, {"a": {"at": [0, 0.1, 0.2, 6], "service": 5}},
               stations={"till": {"servers": 1, "capacity": 1}})
    t = run(sc, engine)
    assert t.outcome.tolist() == [Outcome.SERVED, Outcome.SERVED, Outcome.LOST, Outcome.SERVED]
    assert t.service_started_at[3] == 10


@pytest.mark.parametrize("on_shift_end, starts, ends", [
    # the clerk goes off duty at 1 mid-service: finishes A at 2 (finish) and B waits until 3,
    # or hands A back at 1 (1 of 2 done); at 3 the clerk returns and serves A 3-4 then B 4-6
    ("finish", [0, 3], [2, 5]),
    ("hand_back", [0, 4], [4, 6]),
])
def test_shift_change_mid_service(tmp_path, engine, on_shift_end, starts, ends):
    sc = build(tmp_path, {"a": {"at": [0, 1.5], "service": 2}},
               stations={"till": {"servers": 1, "on_shift_end": on_shift_end,
                                  "schedule": [{"at": 1, "servers": 0},
                                               {"at": 3, "servers": 1}]}})
    t = run(sc, engine)
    assert t.service_started_at.tolist() == starts
    assert t.service_ended_at.tolist() == ends


def complaint_scenario(tmp_path, policy: str, **recovery):
    """One clerk plus a manager at the till.  A (0, service 2) gets a wrong order, handled for
    4 and remade in 1; B (0.5, service 3) and C (1, service 1) are the people in line."""
    return build(tmp_path, {
        "a": {"at": [0], "service": 2,
              "complaints": {"probability": 1.0, "handling": fixed(4),
                             "rework_service": fixed(1)}},
        "b": {"at": [0.5], "service": 3},
        "c": {"at": [1], "service": 1},
    }, staff={"managers": [{"name": "boss", "home": "till"}]},
        recovery={"policy": policy, **recovery})


def visits(t):
    """(station start, end, server) per visit row, and per-customer leaving times."""
    return (listed(t.service_started_at), listed(t.service_ended_at), t.server.tolist(),
            t.left_at.tolist())


def test_drop_everything(tmp_path, engine):
    # 2: A's order is wrong; the manager drops B (1.5 of 3 done) and handles A 2-6; the clerk
    # takes B back 2-3.5, then C 3.5-4.5; A's remake 6-7 by the clerk.
    t = run(complaint_scenario(tmp_path, "drop_everything"), engine)
    # visit rows: A (service, remake), B, C
    starts, ends, servers, left = visits(t)
    assert starts == [0, 6, 0.5, 3.5]
    assert ends == [2, 7, 3.5, 4.5]
    assert servers == [0, 0, 0, 0]
    assert t.n_preemptions.tolist() == [0, 0, 1, 0]
    assert listed(t.handling_started_at) == [2, None, None, None]
    assert listed(t.handling_ended_at) == [6, None, None, None]
    assert t.handler.tolist() == [1, -1, -1, -1]
    assert left == [7, 3.5, 4.5]
    assert t.complained.tolist() == [True, False, False, False]


@pytest.mark.parametrize("policy", ["finish_current", "queue"])
def test_manager_finishes_current_first(tmp_path, engine, policy):
    # 2: the manager is serving B (0.5-3.5), so the complaint waits for them; the clerk serves
    # C 2-3; 3.5: the manager handles A 3.5-7.5; A's remake 7.5-8.5 by the clerk.
    t = run(complaint_scenario(tmp_path, policy), engine)
    starts, ends, servers, left = visits(t)
    assert starts == [0, 7.5, 0.5, 2]
    assert ends == [2, 8.5, 3.5, 3]
    assert servers == [0, 0, 1, 0]
    assert listed(t.handling_started_at) == [3.5, None, None, None]
    assert left == [8.5, 3.5, 3]


def test_dedicated_manager_never_serves(tmp_path, engine):
    # only the clerk serves: A 0-2, B 2-5, C 5-6; the manager handles A 2-6; at 6 C's service
    # ends before the handling does (departures first), so the remake starts at 6 and ends 7.
    t = run(complaint_scenario(tmp_path, "dedicated"), engine)
    starts, ends, servers, left = visits(t)
    assert starts == [0, 6, 2, 5]
    assert ends == [2, 7, 5, 6]
    assert servers == [0, 0, 0, 0]
    assert t.busy_time[1] == 0.0


def test_remake_only_rejoins_back_of_queue(tmp_path, engine):
    # 2: A's remake joins behind C (no manager time); the clerk takes C 2-3, then the remake
    # 3-4; the manager serves B 0.5-3.5.
    t = run(complaint_scenario(tmp_path, "remake_only"), engine)
    starts, ends, servers, left = visits(t)
    assert starts == [0, 3, 0.5, 2]
    assert ends == [2, 4, 3.5, 3]
    assert np.isnan(t.handling_started_at).all()
    assert left == [4, 3.5, 3]


def test_acknowledgement_costs_time_and_is_recorded(tmp_path, engine):
    # as drop_everything, but when handling starts at 2, B (handed back) and C are waiting:
    # one announcement (0.5) plus 0.25 each makes the handling 4 + 1 = 5, ending at 7.
    t = run(complaint_scenario(tmp_path, "drop_everything",
                               acknowledge={"per_customer": 0.25, "per_announcement": 0.5}),
            engine)
    assert listed(t.handling_ended_at) == [7, None, None, None]
    assert listed(t.acknowledged_at) == [None, 2, 2]
    assert t.service_started_at[1] == 7


def test_clerk_acknowledges_and_pauses_its_customer(tmp_path, engine):
    # clerks 0 and 1 and the manager (2).  X (0, service 10) on clerk 0; A (0.25, 2) on
    # clerk 1 goes wrong at 2.25; B (0.5, 3) on the manager; C (1, 1) waits.  At 2.25 the
    # manager drops B (1.25 left) and handles A until 6.25; clerk 0, the announcer, stops
    # X for 0.5 + 2 * 0.25 = 1 (X resumes at 3.25 with 7.75 left, ends at 11); clerk 1 takes
    # B 2.25-3.5, C 3.5-4.5, and A's remake 6.25-7.25.  The handling itself is not longer.
    sc = build(tmp_path, {
        "x": {"at": [0], "service": 10},
        "a": {"at": [0.25], "service": 2,
              "complaints": {"probability": 1.0, "handling": fixed(4),
                             "rework_service": fixed(1)}},
        "b": {"at": [0.5], "service": 3},
        "c": {"at": [1], "service": 1},
    }, stations={"till": {"servers": 2}}, staff={"managers": [{"name": "boss", "home": "till"}]},
        recovery={"policy": "drop_everything",
                  "acknowledge": {"per_customer": 0.25, "per_announcement": 0.5, "by": "clerk"}})
    t = run(sc, engine)
    starts, ends, servers, left = visits(t)  # rows: X, A, A's remake, B, C
    assert starts == [0, 0.25, 6.25, 0.5, 3.5]
    assert ends == [11, 2.25, 7.25, 3.5, 4.5]
    assert servers == [0, 1, 1, 1, 1]
    assert listed(t.handling_started_at)[1] == 2.25
    assert listed(t.handling_ended_at)[1] == 6.25
    assert listed(t.acknowledged_at) == [None, None, 2.25, 2.25]
    assert t.n_preemptions.tolist() == [0, 0, 0, 1, 0]
    assert t.busy_time[0] == 10  # clerk 0 announced for 1 of its 11 minutes with X


def test_clerk_acknowledgement_is_refused_with_breakdowns(tmp_path, engine):
    with pytest.raises(ConfigError, match="acknowledge.by"):
        build(tmp_path, {"a": {"at": [0], "service": 1, "complaints": {
            "probability": 0.5, "handling": fixed(1)}}},
            stations={"till": {"servers": 1, "breakdowns": {"rate": 0.1, "repair": fixed(1)}}},
            staff={"managers": [{"home": "till"}]},
            recovery={"policy": "queue", "acknowledge": {"per_customer": 1, "by": "clerk"}})


def test_priority_remake_jumps_the_queue(tmp_path, engine):
    # remake_only with priority: at 2 A's remake goes ahead of C; the clerk serves it 2-3,
    # then C 3-4.
    sc = build(tmp_path, {
        "a": {"at": [0], "service": 2,
              "complaints": {"probability": 1.0, "handling": fixed(4),
                             "rework_service": fixed(1), "rework_priority": True}},
        "b": {"at": [0.5], "service": 3},
        "c": {"at": [1], "service": 1},
    }, staff={"managers": [{"home": "till"}]}, recovery={"policy": "remake_only"})
    t = run(sc, engine)
    starts, ends, _, _ = visits(t)
    assert starts == [0, 2, 0.5, 3]
    assert ends == [2, 3, 3.5, 4]


def test_time_integrals_over_window(tmp_path, engine):
    # A 0-2, B waits 1-2 then 2-4; window [0, 5]: queue area 1, system area 4, busy 4
    sc = build(tmp_path, {"a": {"at": [0, 1], "service": 2}},
               run={"horizon": 5, "seed": 1, "replications": 1})
    t = run(sc, engine)
    assert t.queue_area.tolist() == [1.0]
    assert t.system_area.tolist() == [5.0]
    assert t.busy_time.tolist() == [4.0]
    assert t.on_duty_time.tolist() == [5.0]


def test_breakdown_pauses_and_resumes(tmp_path, engine):
    # busy-clock breakdowns with a deterministic repair of 1; the uptime is random, so check
    # the invariant instead: service end = start + service + repairs during it
    sc = build(tmp_path, {"a": {"at": [0], "service": 10}},
               stations={"till": {"servers": 1, "breakdowns": {
                   "rate": 0.5, "repair": fixed(1.0), "clock": "busy"}}})
    t = run(sc, engine)
    repairs = t.service_ended_at[0] - 10
    assert repairs >= 1 and float(repairs).is_integer()
    assert t.busy_time[0] == pytest.approx(10)


def test_manager_back_from_vacation_takes_waiting_complaint(tmp_path, engine):
    # regression: a complaint raised while the serving manager was on vacation used to wait
    # for ever; the manager must take it on return, and everyone must leave
    from queue_sim.config import scenario_from_dict
    from queue_sim.rng import draw

    sc = scenario_from_dict({
        "run": {"horizon": 30, "seed": 0},
        "stations": {"till": {"servers": 1, "vacations": {"duration": {"kind": "exponential",
                                                                       "mean": 1}}}},
        "classes": {"a": {"arrivals": {"kind": "poisson", "rate": 0.5},
                          "service": {"till": {"kind": "exponential", "mean": 0.5}},
                          "complaints": {"probability": 1,
                                         "handling": {"kind": "exponential", "mean": 1}}}},
        "staff": {"managers": [{"name": "boss", "home": "till"}]},
        "recovery": {"policy": "queue"}})
    from queue_sim.engines import get_engine
    t = get_engine(engine)(sc, draw(sc, 0, 0))
    assert (t.outcome != Outcome.UNFINISHED).all()
    assert not np.isnan(t.handling_started_at[t.complained]).any()


# -- queue structure: separate lines, jockeying; state-dependent service ----------------------
def five_customers(tmp_path, **lines):
    """Two servers with a line each.  A (0, service 10) blocks server 0's line; B (1, 2),
    C (2, 2), D (2.5, 2), E (3.5, 1) pick lines by the join rule."""
    return build(tmp_path, {
        "a": {"at": [0], "service": 10}, "b": {"at": [1], "service": 2},
        "c": {"at": [2], "service": 2}, "d": {"at": [2.5], "service": 2},
        "e": {"at": [3.5], "service": 1},
    }, stations={"till": {"servers": 2, "lines": {"join": "shortest", **lines}}})


def test_shortest_line_join(tmp_path, engine):
    # lengths count waiting + in service.  A: [0,0] -> line 0 (0-10).  B: [1,0] -> line 1
    # (1-3).  C: [1,1] tie -> line 0, stuck behind A.  D: [2,1] -> line 1, served 3-5.
    # E: [2,1] -> line 1, served 5-6.  C starts only at 10, when A is done: D and E, who
    # came later, overtook C (Larson's skips: C counts 2).
    from queue_sim.experience import skips_and_slips

    t = run(five_customers(tmp_path), engine)
    assert t.service_started_at.tolist() == [0, 1, 10, 3, 5]
    assert t.server.tolist() == [0, 1, 0, 1, 1]
    assert t.n_jockeys.tolist() == [0] * 5
    skips, slips = skips_and_slips(t)
    assert skips.tolist() == [0, 0, 2, 0, 0]
    assert slips.tolist() == [0, 0, 0, 1, 1]


def test_jockey_to_an_idle_server(tmp_path, engine):
    # as above until 6, when E's service ends: line 1 is empty and idle (length 0) while
    # line 0 holds A in service and C waiting (length 2), a difference of 2: C, the tail of
    # line 0, moves to line 1 and is served 6-8 instead of 10-12.
    t = run(five_customers(tmp_path, jockeying=True), engine)
    assert t.service_started_at.tolist() == [0, 1, 6, 3, 5]
    assert t.service_ended_at.tolist() == [10, 3, 8, 5, 6]
    assert t.server.tolist() == [0, 1, 1, 1, 1]
    assert t.n_jockeys.tolist() == [0, 0, 1, 0, 0]
    assert t.queued_at[2] == 2  # the wait still counts from joining the station


def test_random_line_join_follows_the_drawn_uniforms(tmp_path, engine):
    # six customers, 2 apart, service 5, two lines chosen by floor(2 u) of each visit's line
    # uniform; then each line is a FIFO single-server queue: start = max(arrival, previous
    # end in that line)
    from queue_sim.rng import draw

    sc = build(tmp_path, {"a": {"at": [0, 2, 4, 6, 8, 10], "service": 5}},
               stations={"till": {"servers": 2, "lines": {"join": "random"}}})
    lines = np.floor(draw(sc, 1, 0).line_u * 2).astype(int)
    assert 0 < lines.sum() < 6, "the seed should mix the two lines"
    free_at, starts = [0.0, 0.0], []
    for arrived, q in zip([0, 2, 4, 6, 8, 10], lines):
        starts.append(max(arrived, free_at[q]))
        free_at[q] = starts[-1] + 5
    t = run(sc, engine)
    assert t.server.tolist() == lines.tolist()
    assert t.service_started_at.tolist() == starts


def test_random_join_with_jockeying_goes_back(tmp_path, engine):
    # jockeying undoes a bad random pick at once: whatever the uniforms, with two servers and
    # arrivals A (0, service 10), B (1, 10), C (2, 1), D (2.5, 1), nobody waits while a server
    # is idle, and the lengths never differ by 2 after an event.
    sc = build(tmp_path, {"a": {"at": [0, 1, 2, 2.5], "service": fixed(10)}},
               stations={"till": {"servers": 2, "lines": {"join": "random",
                                                          "jockeying": True}}})
    t = run(sc, engine)
    # A and B take the two servers (jockeying to the idle one if the pick was wrong); C and
    # D wait for the first of them, at 10 and 11; each line ends with one of them.
    assert sorted(t.service_started_at.tolist()) == [0, 1, 10, 11]
    assert t.service_started_at[:2].tolist() == [0, 1]
    assert sorted(t.server[2:].tolist()) == [0, 1]


@pytest.mark.parametrize("dependence, starts, ends", [
    # per_wait 0.5 beyond 1: A 0-4; B waited 3: S = 2 + 0.5 * 2 = 3, 4-7; C waited 5:
    # S = 1 + 0.5 * 4 = 3, 7-10
    ({"per_wait": 0.5, "wait_reference": 1}, [0, 4, 7], [4, 7, 10]),
    # plus a load rule (S0 halves when at least 1 is still waiting): B at 4 sees C waiting:
    # S = 2 * 0.5 + 1 = 2, 4-6; C at 6 sees nobody: S = 1 + 0.5 * 3 = 2.5, 6-8.5
    ({"per_wait": 0.5, "wait_reference": 1, "queue_threshold": 1, "queue_factor": 0.5},
     [0, 4, 6], [4, 6, 8.5]),
])
def test_wait_and_load_dependent_service(tmp_path, engine, dependence, starts, ends):
    sc = build(tmp_path, {"a": {"at": [0], "service": 4}, "b": {"at": [1], "service": 2},
                          "c": {"at": [2], "service": 1}},
               stations={"till": {"servers": 1, "service_dependence": dependence}})
    t = run(sc, engine)
    assert t.service_started_at.tolist() == starts
    assert t.service_ended_at.tolist() == ends


def test_fatigue_slows_a_server_who_was_busy(tmp_path, engine):
    # busy fraction F with time constant 1/ln 2 (it halves per idle time unit); S0 is
    # multiplied by 1 + 2 max(0, F - 0.25).  A 0-1 (F was 0), so F(1) = 1 - 1/2 = 0.5.  B
    # (0.5, S0 2) starts at 1 with F = 0.5: S = 2 x 1.5 = 3, 1-4, and F(4) = 1 - 0.5/8 =
    # 0.9375.  C (5, S0 2): idle 4-5, F = 0.46875: S = 2 x 1.4375 = 2.875, 5-7.875.
    import math

    sc = build(tmp_path, {"a": {"at": [0], "service": 1}, "b": {"at": [0.5], "service": 2},
                          "c": {"at": [5], "service": 2}},
               stations={"till": {"servers": 1, "service_dependence": {
                   "fatigue_window": 1 / math.log(2), "fatigue_threshold": 0.25,
                   "fatigue_factor": 2.0}}})
    t = run(sc, engine)
    assert t.service_started_at.tolist() == pytest.approx([0, 1, 5], abs=1e-12)
    assert t.service_ended_at.tolist() == pytest.approx([1, 4, 7.875], abs=1e-12)


def test_express_lane_takes_the_short_jobs(tmp_path, engine):
    # jobs of at most 1 go to the express till (one server), the rest to the main till: the
    # short job C (arrived 2) is served at once instead of waiting behind A and B.
    sc = build(tmp_path, {"a": {"at": [0, 1], "service": 4}, "c": {"at": [2], "service": 1}},
               stations={"till": {"servers": 1},
                         "express": {"servers": 1,
                                     "express_for": {"station": "till", "max_service": 1}}})
    t = run(sc, engine)
    assert t.station.tolist() == [0, 0, 1]
    assert t.service_started_at.tolist() == [0, 4, 2]
