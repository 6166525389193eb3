"""Avoided CO₂ by hand."""

import pandas as pd
import pytest

from roofpv.appraise.carbon import account, avoided_t


def test_avoided_tonnes():
    assert avoided_t(1000.0, 0.5306) == pytest.approx(0.5306)  # 1 MWh × national 2023 factor


def test_per_roof_column(config):
    out = account(pd.DataFrame({"annual_kwh": [0.0, 12000.0]}), config.carbon)
    assert out["co2_avoided_t_yr"].tolist() == pytest.approx([0.0, 12 * config.carbon.emission_factor_t_mwh])
