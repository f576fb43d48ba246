"""The population section: defaults, bad input named by dotted key, and the value formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from queue_sim.config import scenario_from_dict
from queue_sim.errors import ConfigError
from queue_sim.theory import value as V
from tests.population.conftest import population_scenario


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        scenario_from_dict(data, path="pop.yaml")
    return [str(p) for p in info.value.problems]


def test_defaults_validate_and_pick_the_first_class():
    scenario = scenario_from_dict(population_scenario())
    assert scenario.population.recovery == "lacklustre"
    assert scenario.population_class_name == "walk_in"
    assert scenario.population.retention.did_not_complain == (0.37, 0.09)


@pytest.mark.parametrize("change, key, words", [
    ({"population": {"customer_class": "walkin"}}, "population.customer_class",
     "did you mean 'walk_in'"),
    ({"population": {"visit_probability": 1.5}}, "population.visit_probability", "<= 1"),
    ({"population": {"customers": 0}}, "population.customers", ">= 1"),
    ({"population": {"recovery": "ful"}}, "population.recovery", "did you mean 'full'"),
    ({"population": {"complaint_probability": -0.1}}, "population.complaint_probability",
     ">= 0"),
    ({"population": {"retention": {"base": 0}}}, "population.retention.base", "> 0"),
    ({"population": {"visit_timing": {"long_wait": 0}}}, "population.visit_timing.long_wait",
     "> 0"),
    ({"population": {"visit_probability": 0.5, "visit_timing": {"resolved_quickly": 3}}},
     "population.visit_timing.resolved_quickly", "visit_probability x factor <= 1"),
    ({"population": {"retention": {"did_not_complain": [0.3, 1.2]}}},
     "population.retention.did_not_complain", "two probabilities"),
    ({"population": {"word_of_mouth": {"negative_above_20": 0.5}}},
     "population.word_of_mouth.negative_above_20", "must lie between"),
    ({"population": {"word_of_mouth": {"delay": 0.5}}}, "population.word_of_mouth.delay",
     ">= 1"),
    ({"population": {"retention": {"base": 1.0}, "value": {"discount_rate": 0.0}}},
     "population.value.discount_rate", "must be > 0 when retention.base is 1"),
    ({"population": {"vist_probability": 0.1}}, "population.vist_probability",
     "did you mean 'population.visit_probability'"),
    ({"run": {"customers": 100, "seed": 1}}, "run.horizon", "must be set for a population"),
])
def test_bad_population_input_names_the_key(change, key, words):
    data = population_scenario()
    for section, values in change.items():
        if section == "run":
            data["run"] = values
        else:
            data[section] = {**data[section], **values}
    found = problems(data)
    assert any(p.startswith(f"pop.yaml: {key}") and words in p for p in found), found


def test_population_class_must_arrive_one_by_one_over_a_profile(tmp_path):
    data = population_scenario()
    data["classes"]["walk_in"]["batch"] = {"sizes": [1, 2]}
    assert any("classes.walk_in.batch" in p for p in problems(data))
    (tmp_path / "t.csv").write_text("t\n1\n2\n")
    data = population_scenario()
    data["classes"]["walk_in"]["arrivals"] = {"kind": "trace", "file": str(tmp_path / "t.csv")}
    assert any("classes.walk_in.arrivals.kind" in p and "poisson or schedule" in p
               for p in problems(data))


def test_word_of_mouth_negative_binomial_hits_both_moments():
    n, p = V.word_of_mouth_negative_binomial(9.5, 0.13)
    assert sps.nbinom.mean(n, p) == pytest.approx(9.5)
    assert sps.nbinom.sf(20, n, p) == pytest.approx(0.13, abs=1e-9)
    # the non-degenerate root: the tail falls with the shape beyond it
    assert sps.nbinom.sf(20, 1.1 * n, 1.1 * n / (1.1 * n + 9.5)) < 0.13
    for mean in (9.0, 10.0):
        n, p = V.word_of_mouth_negative_binomial(mean, 0.13)
        assert sps.nbinom.sf(20, n, p) == pytest.approx(0.13, abs=1e-9)


@pytest.mark.parametrize("share", [0.0001, 0.5])
def test_unreachable_word_of_mouth_tail_is_refused(share):
    with pytest.raises(ValueError, match="share_above must lie between"):
        V.word_of_mouth_negative_binomial(9.5, share)


def test_value_formulas():
    assert V.active_customer_value(1.0, 0.8, 0.1) == pytest.approx(V.clv(1.0, 0.8, 0.1) / 0.8)
    assert V.new_customer_value(1.0, 0.8, 0.1) == pytest.approx(1.0 + 2.6667, abs=1e-4)
    assert V.active_customer_value(2.0, 1.0, 0.05) == pytest.approx(40.0)
    with pytest.raises(ValueError, match="retention"):
        V.active_customer_value(1.0, 1.0, 0.0)
    daily = V.daily_discount_rate(0.1)
    assert (1 + daily) ** 365 == pytest.approx(1.1)
    # one visit cycle of geometric gaps (mean 1/nu days) discounts like i_d / nu
    nu = 0.2
    gaps = np.arange(1, 2000)
    factor = (nu * (1 - nu) ** (gaps - 1) * (1 + daily) ** -gaps).sum()
    assert factor == pytest.approx(1 / (1 + V.visit_cycle_discount_rate(daily, nu)))
    assert V.lag_discount_factor(1.0, daily) == pytest.approx(1 / (1 + daily))
    assert V.steady_state_new_customers(1000, 0.8, 0.1) == pytest.approx(25.0)
