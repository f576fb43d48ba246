"""Hand-traced re-contacts, escalations and retrials: fixed inputs, exact expected records.

Resolution probabilities of 0 or 1 and deterministic delays make every draw irrelevant, so the
records below follow from the rules alone (``queue_sim.trace``: new arrivals before returning
customers, departures before both).  Both engines run every test.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from queue_sim.trace import Outcome
from tests.model.hand_traced import build, fixed, run

ENGINES = ["simpy"] + (["numba"] if importlib.util.find_spec("queue_sim.kernels") else [])
pytestmark = pytest.mark.parametrize("engine", ENGINES)
S, A, L, D = Outcome.SERVED, Outcome.ABANDONED, Outcome.LOST, Outcome.DEFECTED


def listed(a: np.ndarray) -> list:
    return [None if isinstance(x, float) and math.isnan(x) else x for x in a.tolist()]


def rows(t, i: int) -> slice:
    return slice(int(t.visit_ptr[i]), int(t.visit_ptr[i + 1]))


def test_recontact_after_a_delay_then_escalation(tmp_path, engine):
    # The form never resolves; a failed customer contacts it again 3 later, and after two
    # failures there escalates (probability 1) to the desk, 3 later again, which resolves.
    # A: form 0-2 (fails), back at 5 but B is in service 4-6, so A waits 5-6, form 6-8
    #    (fails again: streak 2), escalated to the desk at 11, desk 11-14, resolved.
    # B: form 4-6 (fails), back at 9: form 9-11 (streak 2), escalated at 14, exactly when
    #    A's desk service ends: the end of service goes first, so B is served 14-17.
    form = {"probability": 0.0,
            "recontact": {"probability": 1.0, "delay": fixed(3)},
            "escalation": {"to": "desk", "after": 2, "probability": 1.0}}
    sc = build(tmp_path, {"case": {"at": [0, 4], "route": ["form"],
                                   "service": {"form": fixed(2), "desk": fixed(3)},
                                   "resolution": {"form": form, "desk": {"probability": 1.0}}}},
               stations={"form": {"servers": 1}, "desk": {"servers": 1}})
    t = run(sc, engine)
    assert t.station.tolist() == [0, 0, 1, 0, 0, 1]
    assert t.queued_at.tolist() == [0, 5, 11, 4, 9, 14]
    assert t.service_started_at.tolist() == [0, 6, 11, 4, 9, 14]
    assert t.service_ended_at.tolist() == [2, 8, 14, 6, 11, 17]
    assert t.is_recontact.tolist() == [False, True, True] * 2
    assert t.is_escalation.tolist() == [False, False, True] * 2
    assert t.is_unresolved.tolist() == [True, True, False] * 2
    assert t.outcome.tolist() == [S, S]
    assert t.left_at.tolist() == [14, 17]
    assert t.contacts_per_customer.tolist() == [3, 3]
    assert t.wait_time.tolist() == [1, 0]


def test_unresolved_without_recontact_defects(tmp_path, engine):
    # the first contact never resolves and nobody contacts again: the customer leaves at the
    # end of its contact with outcome 'defected'; a resolved one leaves served
    sc = build(tmp_path, {
        "quitter": {"at": [0], "service": fixed(1), "resolution": {"till": {"probability": 0}}},
        "happy": {"at": [0.5], "service": fixed(1), "resolution": {"till": {"probability": 1}}},
    })
    t = run(sc, engine)
    assert t.outcome.tolist() == [D, S]
    assert t.left_at.tolist() == [1, 2]
    assert t.is_unresolved.tolist() == [True, False]


def test_handle_time_cap_and_repeat_extra(tmp_path, engine):
    # service 5 capped at 2; the repeat contact takes the capped 2 plus 1.5 to re-explain
    sc = build(tmp_path, {"case": {"at": [0], "service": fixed(5), "resolution": {"till": {
        "probability": 0.0, "handle_time_cap": 2, "repeat_extra": 1.5,
        "recontact": {"probability": 1.0, "delay": fixed(1)}}}}},
        run={"horizon": 1000, "seed": 1, "replications": 1, "max_visits": 2})
    with pytest.raises(Exception, match="max_visits"):
        run(sc, engine)  # q = 0 and always back: more visits than allowed
    steep = {"kind": "logistic", "q_max": 1.0, "midpoint": 2.5, "tau": 1e-9}  # q(2) = 0
    sc = build(tmp_path, {"case": {
        "at": [0], "route": ["till"], "service": {"till": fixed(5), "desk": fixed(1)},
        "resolution": {"till": {"curve": steep, "handle_time_cap": 2, "repeat_extra": 1.5,
                                "recontact": {"probability": 1.0, "delay": fixed(1)},
                                "escalation": {"to": "desk", "probability": 1.0, "after": 2}}}}},
        stations={"till": {"servers": 1}, "desk": {"servers": 1}})
    t = run(sc, engine)
    # till 0-2 (capped, q(2) = 0), back at 3 for 2 + 1.5: 3-6.5, fails again and escalates
    # 1 later to the desk (no resolution section there, so the contact settles it): 7.5-8.5
    assert t.service_time.tolist() == [2, 3.5, 1]
    assert t.service_ended_at.tolist() == [2, 6.5, 8.5]
    assert t.outcome.tolist() == [S]


def test_retrial_after_blocking(tmp_path, engine):
    # no waiting room: B (1) finds the server busy (A 0-3), retries 1.5 later at 2.5, is lost
    # again, retries at 4 and is served 4-7.  C has at most 2 attempts: lost at 1.2 and 2.7.
    retry = {"probability": 1.0, "delay": fixed(1.5), "when": ["lost"]}
    sc = build(tmp_path, {
        "a": {"at": [0, 1], "service": fixed(3), "retrial": retry},
        "c": {"at": [1.2], "service": fixed(3), "retrial": {**retry, "max_attempts": 2}},
    }, stations={"till": {"servers": 1, "capacity": 0}})
    t = run(sc, engine)
    assert t.outcome.tolist() == [S, S, L]
    assert t.n_attempts.tolist() == [1, 3, 2]
    assert t.first_queued_at.tolist() == [0, 1, 1.2]
    assert t.queued_at.tolist() == [0, 4, 2.7]
    assert listed(t.service_started_at) == [0, 4, None]
    assert t.left_at.tolist() == [3, 7, 2.7]


def test_retrial_after_abandonment_keeps_fifo_order(tmp_path, engine):
    # A 0-4.  B (patience 1) joins at 1 and gives up at 2, back at 3.5 behind C (joined 1.2);
    # its old place in the queue is gone.  At 4 C is served 4-8; B gives up again at 4.5,
    # back at 6, gives up at 7, back at 8.5 and is served 8.5-9.5 (four attempts).
    sc = build(tmp_path, {
        "a": {"at": [0], "service": fixed(4)},
        "b": {"at": [1], "service": fixed(1), "patience": fixed(1),
              "retrial": {"probability": 1.0, "delay": fixed(1.5), "when": ["abandoned"]}},
        "c": {"at": [1.2], "service": fixed(4)},
    })
    t = run(sc, engine)
    assert t.service_started_at.tolist() == [0, 8.5, 4]
    assert t.n_attempts.tolist() == [1, 4, 1]
    assert t.queued_at.tolist() == [0, 8.5, 1.2]
    assert t.first_queued_at.tolist() == [0, 1, 1.2]
    assert t.outcome.tolist() == [S, S, S]


def test_abandoned_without_retrial_rule_leaves(tmp_path, engine):
    # B retries only when lost, so its abandonment at 2 is final
    sc = build(tmp_path, {
        "a": {"at": [0], "service": fixed(4)},
        "b": {"at": [1], "service": fixed(1), "patience": fixed(1),
              "retrial": {"probability": 1.0, "delay": fixed(1.5), "when": ["lost"]}},
    })
    t = run(sc, engine)
    assert t.outcome.tolist() == [S, A]
    assert t.n_attempts.tolist() == [1, 1]
    assert t.left_at.tolist() == [4, 2]


def test_retry_at_separate_lines_skips_its_stale_entry(tmp_path, engine):
    # Two tellers, each with a line; a joiner takes the shortest (ties: teller 0).
    # a: teller 0, 0-7.  b: teller 1, 0.1-10.1.  i at 1: lines (1, 1), joins line 0; its
    # patience (2) ends at 3: it leaves line 0 and retries at 6, leaving a stale entry behind.
    # o at 2: lines (2, 1), line 1.  x at 4: lines (1, 2), line 0.  i back at 6: lines (2, 2),
    # line 0 again, now behind x.  At 7 teller 0 pops line 0: the stale entry of i comes first
    # (its entry number is older than x's) and is skipped, so x is served 7-8 and i 8-9 (its
    # second patience would end at 8, but the end of x's service goes first).
    one = fixed(1)
    sc = build(tmp_path, {
        "a": {"at": [0], "service": fixed(7)}, "b": {"at": [0.1], "service": fixed(10)},
        "i": {"at": [1], "service": one, "patience": fixed(2),
              "retrial": {"probability": 1.0, "delay": fixed(3), "max_attempts": 3}},
        "o": {"at": [2], "service": one}, "x": {"at": [4], "service": one}},
        stations={"till": {"servers": 2, "lines": {"join": "shortest"}}})
    t = run(sc, engine)
    assert t.n_attempts.tolist() == [1, 1, 2, 1, 1]
    assert t.first_queued_at.tolist() == pytest.approx([0, 0.1, 1, 2, 4])
    assert t.queued_at.tolist() == pytest.approx([0, 0.1, 6, 2, 4])
    assert t.service_started_at.tolist() == pytest.approx([0, 0.1, 8, 10.1, 7])
    assert t.service_ended_at.tolist() == pytest.approx([7, 10.1, 9, 11.1, 8])
    assert t.server.tolist() == [0, 1, 0, 1, 0]
    assert t.outcome.tolist() == [S] * 5
