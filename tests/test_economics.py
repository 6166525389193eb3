"""LCOE, NPV, payback and revenue modes against hand calculations."""

import numpy as np
import pandas as pd
import pytest

from roofpv.appraise.economics import appraise, cash_flows, parameters, price_per_kwh

CATEGORIES = ["party_gov", "public_institution", "factory", "commercial",
              "urban_residential", "rural_residential", "other"]


@pytest.fixture
def econ(config):
    return config.economics.model_copy(update={
        "capex_yuan_per_w": dict.fromkeys(CATEGORIES, 3.0), "om_yuan_per_w_year": 0.04,
        "degradation_per_year": 0.0, "lifetime_years": 20, "discount_rate": 0.05,
        "mechanism_price_yuan_kwh": 0.40, "market_price_yuan_kwh": 0.35, "surplus_price": "market",
        "tariff_yuan_kwh": dict.fromkeys(CATEGORIES, 0.65), "self_consumption": dict.fromkeys(CATEGORIES, 0.6),
    })


def test_lcoe_npv_and_payback_by_hand(econ):
    # 10 kWp, 12 000 kWh/yr, 3 yuan/W → capex 30 000; O&M 0.04 yuan/W/yr → 400 a year.
    r = cash_flows(np.array([10.0]), np.array([12000.0]), np.array([3.0]), np.array([0.40]), econ).iloc[0]
    annuity = (1 - 1.05 ** -20) / 0.05                       # 12.4622
    assert r.lcoe_yuan_kwh == pytest.approx((30000 + 400 * annuity) / (12000 * annuity))  # 0.2339
    assert r.lcoe_yuan_kwh == pytest.approx(0.23394, abs=1e-5)
    assert r.npv_yuan == pytest.approx(-30000 + (12000 * 0.40 - 400) * annuity)
    assert r.payback_years == pytest.approx(30000 / 4400)  # 6.82 years


def test_payback_with_degradation_interpolates_within_the_year(econ):
    econ = econ.model_copy(update={"degradation_per_year": 0.01})
    r = cash_flows(np.array([10.0]), np.array([12000.0]), np.array([3.0]), np.array([0.40]), econ).iloc[0]
    net = [4800 * 0.99 ** (t - 1) - 400 for t in range(1, 21)]
    cumulative = np.cumsum(net)
    year = int(np.argmax(cumulative >= 30000))  # 29 803 after 7 years: repaid during year 8
    assert year == 7
    assert r.payback_years == pytest.approx(year + (30000 - cumulative[year - 1]) / net[year])


def test_never_repaid_is_nan(econ):
    r = cash_flows(np.array([10.0]), np.array([1000.0]), np.array([3.0]), np.array([0.40]), econ).iloc[0]
    assert np.isnan(r.payback_years) and r.npv_yuan < 0


def test_price_per_kwh_by_mode(econ):
    b = pd.DataFrame({"category": ["factory"] * 3})
    mode = pd.Series(["full_export", "self_use_surplus", "full_self_use"])
    # 0.6 × 0.65 + 0.4 × 0.35 = 0.53
    assert price_per_kwh(b, econ, mode).tolist() == pytest.approx([0.40, 0.53, 0.65])


def test_shared_prosperity_pays_household_and_collective(econ):
    b = pd.DataFrame({
        "category": ["rural_residential", "factory"], "nea_category": ["natural_person_household", "general_ci"],
        "capacity_kwp": [10.0, 0.0], "annual_kwh": [12000.0, 0.0], "pv_area_m2": [50.0, 0.0],
    })
    out = appraise(b, econ)
    shared = econ.shared_prosperity
    assert out["export_mode"].tolist() == [shared.mode, "self_use_surplus"]
    assert out.loc[0, "household_income_yuan_yr"] == pytest.approx(shared.roof_rent_yuan_m2_year * 50)
    assert out.loc[0, "collective_income_yuan_yr"] == pytest.approx(12000 * 0.40 * shared.collective_share)
    rent = shared.roof_rent_yuan_m2_year * 50
    annuity = (1 - 1.05 ** -20) / 0.05
    assert out.loc[0, "lcoe_yuan_kwh"] == pytest.approx((30000 + (400 + rent) * annuity) / (12000 * annuity))
    assert np.isnan(out.loc[1, "lcoe_yuan_kwh"]) and out.loc[1, "npv_yuan"] == 0


def test_parameters_are_labelled_as_assumptions(config):
    table = parameters(config.economics).set_index("parameter")
    assert table.loc["capex_yuan_per_w", "assumption"]
    assert not table.loc["mechanism_price_yuan_kwh", "assumption"]  # Zhejiang cap, REFERENCE §5
