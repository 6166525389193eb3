"""
P50 and P90 annual energy: the yield every other year exceeds, and the one
nine years in ten exceed.

The modelled annual energy is taken as the median (P50). Its relative
uncertainty combines, in quadrature, the year-to-year variability of the
solar resource and the model's own uncertainty (transposition, cell
temperature, system losses, shading), the practice of PVsyst and of
Thevenard & Pelland (2013), "Estimating the uncertainty in long-term
photovoltaic yield predictions", Solar Energy 91, 432-445. With a normal
distribution, ``P90 = P50 · (1 − 1.2816 σ)``.

Across buildings, the resource and the model components are shared (one
weather year, one model) and add linearly; each roof's shading error is its
own and adds in quadrature. A township's P90 is therefore closer to its P50,
relatively, than the P90 of any of its buildings only by the shading part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from roofpv.config import Uncertainty

#: Standard normal quantile of the 90 % exceedance level.
Z_P90 = 1.2815515655446004


def inter_annual_sigma(uncertainty: Uncertainty) -> tuple[float, str]:
    """Relative standard deviation of annual irradiation and where it comes
    from: the user's multi-year annual totals when given (at least three
    years; sample standard deviation over mean), else the configured regional
    value."""
    years = uncertainty.annual_ghi_kwh_m2
    if years is not None and len(years) >= 3:
        values = np.asarray(years, dtype=float)
        return float(values.std(ddof=1) / values.mean()), f"{len(values)} years of annual GHI"
    return uncertainty.inter_annual_pct / 100.0, uncertainty.inter_annual_source


def common_sigma(uncertainty: Uncertainty) -> float:
    """Relative standard deviation shared by every roof of a run: resource
    plus transposition, temperature and losses, in quadrature. [unitless]"""
    model = np.array([uncertainty.transposition_pct, uncertainty.temperature_pct,
                      uncertainty.losses_pct]) / 100.0
    return float(np.hypot(inter_annual_sigma(uncertainty)[0], np.linalg.norm(model)))


def p90_factor(uncertainty: Uncertainty) -> float:
    """Scale of the P90 year: the weather year's every interval times
    ``1 − 1.2816 σ`` with σ the run-wide :func:`common_sigma` (the year nine in ten
    exceed, shaped like the weather year; each roof's own shading error left out, as
    it averages out over a transformer's roofs). [unitless]"""
    return max(1.0 - Z_P90 * common_sigma(uncertainty), 0.0)


def shading_sigma(shading_loss_source: pd.Series, uncertainty: Uncertainty) -> np.ndarray:
    """Relative standard deviation of each roof's shading loss: smaller where
    a DSM measured it than where a survey class or a default set it."""
    measured = shading_loss_source.eq("dsm").to_numpy(bool)  # not a Python text per roof
    return np.where(measured, uncertainty.shading_measured_pct,
                    uncertainty.shading_class_pct) / 100.0


def p90(b: pd.DataFrame, uncertainty: Uncertainty) -> pd.DataFrame:
    """Add ``annual_kwh_p90`` and ``yield_uncertainty_pct`` (one standard
    deviation of annual energy, %) per building; ``annual_kwh`` is the P50."""
    common = common_sigma(uncertainty)
    shade = shading_sigma(b["shading_loss_source"], uncertainty)
    sigma = np.hypot(common, shade)
    p50 = b["annual_kwh"].to_numpy(float)
    return b.assign(annual_kwh_p90=p50 * np.maximum(1 - Z_P90 * sigma, 0.0),
                    yield_uncertainty_pct=100.0 * sigma)


def p90_of_sum(p50: pd.Series, shading: np.ndarray, groups: pd.Series,
               uncertainty: Uncertainty) -> pd.Series:
    """P90 of the summed energy of each group of roofs [units of ``p50``];
    ``shading`` is each roof's relative shading standard deviation
    (:func:`shading_sigma`).

    The shared part of the standard deviation is ``common_sigma · Σ P50``;
    the shading parts of the roofs add in quadrature.
    """
    total = p50.groupby(groups).sum()
    own = ((p50 * shading) ** 2).groupby(groups).sum() ** 0.5
    sd = np.hypot(common_sigma(uncertainty) * total, own)
    return (total - Z_P90 * sd).clip(lower=0.0)
