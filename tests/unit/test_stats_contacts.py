"""Contact metrics of ``stats.summarize`` on hand-traced runs whose every number is known."""

from __future__ import annotations

import pytest

from queue_sim.stats import summarize
from tests.model.hand_traced import build, fixed, run


def test_contact_metrics_of_a_traced_escalation(tmp_path):
    # the run of test_recontact_after_a_delay_then_escalation: two customers, each with two
    # failed form contacts (2 each) and a resolving desk contact (3); A resolved at 14 (from
    # 0), B at 17 (from 4).  A third customer defects after one failed contact at the form.
    form = {"probability": 0.0, "recontact": {"probability": 1.0, "delay": fixed(3)},
            "escalation": {"to": "desk", "after": 2, "probability": 1.0}}
    sc = build(tmp_path, {
        "case": {"at": [0, 4], "route": ["form"],
                 "service": {"form": fixed(2), "desk": fixed(3)},
                 "resolution": {"form": form, "desk": {"probability": 1.0}}},
        "quitter": {"at": [30], "route": ["form"], "service": {"form": fixed(1)},
                    "resolution": {"form": {"probability": 0.0}}}},
        stations={"form": {"servers": 1}, "desk": {"servers": 1}})
    m = summarize(run(sc))
    get = lambda scope, name, metric: m[(scope, name, metric)]  # noqa: E731
    assert get("system", "all", "contacts_per_case") == pytest.approx(7 / 3)
    assert get("system", "all", "contacts_per_resolved_case") == pytest.approx(7 / 2)
    assert get("system", "all", "failure_demand_share") == pytest.approx(4 / 7)
    assert get("system", "all", "resolution_rate") == pytest.approx(2 / 3)
    assert get("system", "all", "defection_rate") == pytest.approx(1 / 3)
    assert get("system", "all", "mean_time_to_resolution") == pytest.approx((14 + 13) / 2)
    assert get("system", "all", "work_per_resolved_case") == pytest.approx((7 + 7 + 1) / 2)
    assert get("system", "all", "escalations_per_1000") == pytest.approx(2000 / 3)
    assert get("class", "case", "contacts_per_resolved_case") == pytest.approx(3)
    assert get("class", "quitter", "resolution_rate") == 0
    assert get("station", "desk", "failure_demand_share") == 1
    assert get("station", "form", "failure_demand_share") == pytest.approx(2 / 5)
    assert get("station", "desk", "escalations_per_1000") == pytest.approx(2000 / 3)
    assert get("system", "all", "retrials_per_customer") == 0


def test_retry_metrics_of_a_traced_retrial(tmp_path):
    # test_retrial_after_blocking: B lost at 1 and 2.5, in at 4 (2 retries, 3 in orbit);
    # C lost at 1.2 and 2.7 (1 retry, 1.5 between its attempts); A never retries
    retry = {"probability": 1.0, "delay": fixed(1.5), "when": ["lost"]}
    sc = build(tmp_path, {
        "a": {"at": [0, 1], "service": fixed(3), "retrial": retry},
        "c": {"at": [1.2], "service": fixed(3), "retrial": {**retry, "max_attempts": 2}},
    }, stations={"till": {"servers": 1, "capacity": 0}})
    m = summarize(run(sc))
    assert m[("system", "all", "retrials_per_customer")] == pytest.approx(1)
    assert m[("system", "all", "retried_share")] == pytest.approx(2 / 3)
    assert m[("system", "all", "mean_retry_time")] == pytest.approx((0 + 3 + 1.5) / 3)
    assert m[("system", "all", "failure_demand_share")] == pytest.approx(1 / 2)
    assert m[("system", "all", "loss_rate")] == pytest.approx(1 / 3)
