"""CO₂ avoided by PV output at the configured grid emission factor."""

from __future__ import annotations

import pandas as pd

from roofpv.config import Carbon


def avoided_t(kwh: pd.Series | float, factor_t_mwh: float) -> pd.Series | float:
    """tCO₂ avoided by ``kwh`` of PV output displacing grid electricity (factor in tCO₂/MWh)."""
    return kwh / 1000.0 * factor_t_mwh


def account(b: pd.DataFrame, carbon: Carbon) -> pd.DataFrame:
    """Add ``co2_avoided_t_yr``: tCO₂ a year avoided by each roof's added PV (year 1)."""
    return b.assign(co2_avoided_t_yr=avoided_t(b["annual_kwh"], carbon.emission_factor_t_mwh))
