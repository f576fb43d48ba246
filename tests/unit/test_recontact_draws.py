"""Resolution, re-contact and escalation plans drawn up front (``rng._visit_plans``), and the
config checks of their schema.

Statistical checks are seeded and compare with exact values within 4 binomial (or t) standard
errors; the common-random-numbers checks are exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from queue_sim.config import scenario_from_dict
from queue_sim.config.schema import ExponentialCurve, LogisticCurve
from queue_sim.errors import ConfigError
from queue_sim.rng import draw


def exp(mean: float) -> dict:
    return {"kind": "exponential", "mean": mean}


def contact_scenario(resolution: dict, service: dict | None = None, rate: float = 1.0,
                     horizon: float = 20_000, **classes) -> object:
    stations = {"form": {"servers": 50}, "desk": {"servers": 50}}
    cls = {"arrivals": {"kind": "poisson", "rate": rate}, "route": ["form"],
           "service": service or {"form": exp(4.0), "desk": exp(6.0)},
           "resolution": resolution, **classes}
    return scenario_from_dict({"run": {"horizon": horizon, "max_visits": 200},
                               "stations": stations, "classes": {"case": cls}})


def first_visits(d) -> np.ndarray:  # noqa: ANN001
    return d.visit_ptr[:-1]


def test_curves_have_their_stated_shape():
    e = ExponentialCurve(q_max=0.9, tau=4.0)
    assert e.probability(np.array([4.0]))[0] == pytest.approx(0.9 * (1 - np.exp(-1)))
    lg = LogisticCurve(q_max=0.8, midpoint=5.0, tau=1.0)
    assert lg.probability(np.array([5.0]))[0] == pytest.approx(0.4)
    assert lg.probability(np.array([0.0, 100.0])).tolist() == pytest.approx(
        [0.8 / (1 + np.exp(5)), 0.8])


def test_first_contact_resolution_matches_the_curve_averaged_over_handle_times():
    # exponential handle time with mean m and q(s) = q_max(1 - e^{-s/tau}):
    # P(resolved) = E[q(S)] = q_max m / (m + tau)
    curve = {"kind": "exponential", "q_max": 0.9, "tau": 3.0}
    d = draw(contact_scenario({"form": {"curve": curve}}), seed=11, replication=0)
    unresolved = d.is_unresolved[first_visits(d)]
    exact = 1 - 0.9 * 4.0 / (4.0 + 3.0)
    se = np.sqrt(exact * (1 - exact) / len(unresolved))
    assert len(unresolved) > 15_000
    assert abs(unresolved.mean() - exact) < 4 * se


def test_cap_shortens_handle_time_and_only_adds_failures_on_the_same_customers():
    curve = {"kind": "exponential", "q_max": 0.95, "tau": 4.0}
    free = draw(contact_scenario({"form": {"curve": curve}}), seed=5, replication=0)
    capped = draw(contact_scenario({"form": {"curve": curve, "handle_time_cap": 2.0}}),
                  seed=5, replication=0)
    a, b = first_visits(free), first_visits(capped)
    np.testing.assert_array_equal(free.arrived_at, capped.arrived_at)
    np.testing.assert_allclose(capped.service_time[b], np.minimum(free.service_time[a], 2.0))
    # one uniform per contact and q increasing in s: a cap never turns a failure into success
    assert not (free.is_unresolved[a] & ~capped.is_unresolved[b]).any()
    capped_share = capped.is_unresolved[b].mean()
    # exact: 1 - E[q(min(S, 2))] for S ~ Exp(mean 4)
    q = lambda s: 0.95 * (1 - np.exp(-s / 4.0))  # noqa: E731
    mean_q = integrate.quad(lambda s: q(s) * np.exp(-s / 4) / 4, 0, 2)[0] + q(2) * np.exp(-0.5)
    se = np.sqrt(mean_q * (1 - mean_q) / len(b))
    assert abs(capped_share - (1 - mean_q)) < 4 * se


def test_contacts_per_case_are_geometric_and_delays_follow_their_distribution():
    res = {"form": {"probability": 0.6, "repeat_extra": 1.0,
                    "recontact": {"probability": 1.0, "delay": exp(60.0)}}}
    d = draw(contact_scenario(res), seed=3, replication=0)
    contacts = np.diff(d.visit_ptr)
    se = contacts.std(ddof=1) / np.sqrt(len(contacts))
    assert abs(contacts.mean() - 1 / 0.6) < 4 * se
    repeat = d.is_recontact
    assert (d.station[repeat] == 0).all() and not d.is_recontact[first_visits(d)].any()
    assert (d.delay_before[~repeat] == 0).all()
    delays = d.delay_before[repeat]
    assert abs(delays.mean() - 60.0) < 4 * delays.std(ddof=1) / np.sqrt(len(delays))
    # the last contact of every customer resolves (p = 1 of coming back), every other fails
    last = d.visit_ptr[1:] - 1
    assert not d.is_unresolved[last].any()
    assert d.is_unresolved.sum() == len(d.station) - len(last)


def test_unresolved_customers_defect_or_escalate_after_the_stated_failures():
    res = {"form": {"probability": 0.3,
                    "recontact": {"probability": 0.8, "delay": exp(10.0)},
                    "escalation": {"to": "desk", "after": 3, "probability": 0.5}},
           "desk": {"probability": 1.0}}
    d = draw(contact_scenario(res, rate=0.2), seed=8, replication=0)
    esc = np.flatnonzero(d.is_escalation)
    assert len(esc) > 50
    assert (d.station[esc] == 1).all() and d.is_recontact[esc].all()
    assert (d.visit_index[esc] >= 3).all()  # three failed form contacts come first
    assert (d.visit_index[esc] == 3).any()
    # a customer whose last contact failed defected: no visit follows an unresolved one
    last = d.visit_ptr[1:] - 1
    defected = d.is_unresolved[last]
    assert 0 < defected.mean() < 1


@pytest.mark.parametrize("resolution, key", [
    ({"form": {"probability": 0.5, "curve": {"kind": "exponential", "q_max": 1, "tau": 1}}},
     "classes.case.resolution.form"),
    ({"form": {}}, "classes.case.resolution.form"),
    ({"form": {"probability": 1.5}}, "classes.case.resolution.form.probability"),
    ({"form": {"probability": 0.5, "escalation": {"to": "deks", "probability": 1}}},
     "classes.case.resolution.form"),
    ({"form": {"probability": 0.5, "escalation": {
        "to": "deks", "probability": 1, "delay": exp(1)}}},
     "classes.case.resolution.form.escalation.to"),
    ({"frm": {"probability": 0.5}}, "classes.case.resolution"),
    ({"form": {"curve": {"kind": "logistc", "q_max": 1, "tau": 1}}},
     "classes.case.resolution.form.curve.kind"),
])
def test_bad_resolution_sections_name_the_field(resolution: dict, key: str):
    with pytest.raises(ConfigError) as info:
        contact_scenario(resolution)
    assert info.value.key == key


def test_suggestions_for_misspelt_stations_and_curves():
    with pytest.raises(ConfigError, match="did you mean 'desk'"):
        contact_scenario({"form": {"probability": 0.5, "escalation": {
            "to": "deks", "probability": 1, "delay": exp(1)}}})
    with pytest.raises(ConfigError, match="did you mean 'logistic'"):
        contact_scenario({"form": {"curve": {"kind": "logistc", "q_max": 1, "tau": 1}}})


def test_resolution_and_complaints_at_one_station_are_refused():
    with pytest.raises(ConfigError, match="complaints") as info:
        contact_scenario({"form": {"probability": 0.5}},
                         complaints={"probability": 0.1, "handling": exp(1)})
    assert info.value.key == "classes.case.resolution.form"


def test_bad_retrial_sections_name_the_field():
    for retrial, key in (({"probability": 0.5}, "classes.case.retrial.delay"),
                         ({"probability": 0.5, "delay": exp(1), "when": ["blocked"]},
                          "classes.case.retrial.when.0"),
                         ({"probability": 0.5, "delay": exp(1), "max_attempts": 0},
                          "classes.case.retrial.max_attempts")):
        with pytest.raises(ConfigError) as info:
            contact_scenario({"form": {"probability": 0.5}}, retrial=retrial)
        assert info.value.key == key
