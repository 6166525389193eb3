import numpy as np
import pandas as pd
import pytest

from roofpv.config import Uncertainty
from roofpv.energy import uncertainty
from roofpv.targets.policy import township_summary

SETTINGS = Uncertainty(inter_annual_pct=4.0, transposition_pct=2.0, temperature_pct=1.0,
                       losses_pct=2.0, shading_class_pct=3.0, shading_measured_pct=1.5)


def test_building_p90_by_hand():
    b = pd.DataFrame({"annual_kwh": [10000.0, 10000.0], "shading_loss_source": ["survey", "dsm"]})
    out = uncertainty.p90(b, SETTINGS)
    # sqrt(4² + 2² + 1² + 2² + 3²) = sqrt(34) = 5.831 %; with a DSM: sqrt(27.25) = 5.220 %
    assert out["yield_uncertainty_pct"].tolist() == pytest.approx([34 ** 0.5, 27.25 ** 0.5])
    assert out["annual_kwh_p90"].iloc[0] == pytest.approx(10000 * (1 - 1.28155 * 0.05831), rel=1e-4)
    assert (out["annual_kwh_p90"] < out["annual_kwh"]).all()


def test_multi_year_data_replace_the_regional_value():
    years = [1200.0, 1250.0, 1150.0, 1300.0, 1100.0]
    sigma, source = uncertainty.inter_annual_sigma(SETTINGS.model_copy(update={"annual_ghi_kwh_m2": years}))
    assert sigma == pytest.approx(np.std(years, ddof=1) / np.mean(years))
    assert "5 years" in source
    assert uncertainty.inter_annual_sigma(SETTINGS)[0] == 0.04


def test_township_p90_shading_errors_average_out():
    n = 100
    p50 = pd.Series(np.full(n, 10.0))
    towns = pd.Series(["a"] * n)
    shade = np.full(n, 0.03)
    p90 = uncertainty.p90_of_sum(p50, shade, towns, SETTINGS)["a"]
    common = 25 ** 0.5 / 100  # sqrt(4² + 2² + 1² + 2²) %
    sd = np.hypot(common * 1000.0, np.sqrt(n * (10.0 * 0.03) ** 2))
    assert p90 == pytest.approx(1000.0 - uncertainty.Z_P90 * sd)
    # Closer to P50 than the sum of the buildings' own P90s.
    one = uncertainty.p90(pd.DataFrame({"annual_kwh": [10.0], "shading_loss_source": ["survey"]}),
                             SETTINGS)["annual_kwh_p90"].iloc[0]
    assert n * one < p90 < 1000.0


def test_township_table_has_p90_of_suitable_roofs(config):
    b = pd.DataFrame({
        "township": ["a", "a", "b"], "suitability": ["suitable", "unsuitable", "suitable"],
        "roof_area_m2": 100.0, "usable_area_m2": 50.0, "capacity_kwp": 10.0,
        "annual_kwh": [12000.0, 11000.0, 9000.0], "existing_pv_kw": 0.0, "grid_limited": False,
        "capex_yuan": 0.0, "revenue_yuan_yr": 0.0, "npv_yuan": 0.0, "lcoe_yuan_kwh": 0.3,
        "co2_avoided_t_yr": 0.0, "energy_use_kwh": 0.0, "payback_years": 8.0,
        "shading_loss_source": ["survey", "survey", "dsm"],
    })
    table = township_summary(b, config.policy.model_copy(update={"targets": []}), SETTINGS)
    assert table.loc["a", "annual_mwh"] == pytest.approx(12.0)
    sigma_a = 34 ** 0.5 / 100  # one roof: its own P90
    assert table.loc["a", "annual_mwh_p90"] == pytest.approx(12.0 * (1 - uncertainty.Z_P90 * sigma_a))
    assert table.loc["b", "annual_mwh_p90"] == pytest.approx(9.0 * (1 - uncertainty.Z_P90 * 27.25 ** 0.5 / 100))
