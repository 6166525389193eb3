"""Metered generation against modelled yield: performance ratios, underperformers, calibration.

A system's modelled month is its registered kW × the specific yield of its roof in that
calendar month × (1 − the roof's shading loss). The monthly specific yield comes from
the run's yield table at the roof's module tilt and azimuth
(:func:`roofpv.energy.solar.interpolate_monthly`), scaled so that the twelve months add up to
the roof's annual ``specific_yield_kwh_kwp``; roofs without a layout take the median
profile of those with one. The weather is the run's (a typical year unless the config
points at a measured year), so a month's ratio also carries that month's weather.

``performance_ratio`` = metered kWh ÷ modelled kWh over the metered months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from roofpv.config import Monitoring
from roofpv.energy import solar

WINTER, SUMMER = (11, 12, 1, 2), (4, 5, 6, 7, 8)
#: A month below this share of its modelled yield counts as an outage.
OUTAGE_SHARE = 0.1
#: A winter ÷ summer ratio below this share of its township's median points at shading by
#: low winter sun (relative to the township, so a seasonal bias of the model cancels).
WINTER_SHARE = 0.8
BOOTSTRAP = 2000


def monthly_specific(b: pd.DataFrame, tables: dict[str, solar.YieldTable], models: dict[str, str]
                     ) -> pd.DataFrame:
    """Monthly specific yield per building, kWh/kWp, columns 1..12 (before shading)."""
    out = np.full((len(b), 12), np.nan)
    model = b["mounting"].map(models)
    tilt = b["module_tilt_deg"].to_numpy(float)
    az = b["roof_aspect_deg"].to_numpy(float)
    for name, table in tables.items():
        hit = (model == name).to_numpy() & np.isfinite(tilt) & np.isfinite(az)
        if hit.any():
            out[hit] = solar.interpolate_monthly(table, tilt[hit], az[hit])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = out / out.sum(axis=1, keepdims=True)
    annual = b["specific_yield_kwh_kwp"].to_numpy(float)
    out = share * annual[:, None]
    known = np.isfinite(out).all(axis=1)
    if known.any():
        out[~known] = np.median(out[known], axis=0)
    return pd.DataFrame(out, index=b.index, columns=range(1, 13))


def modelled(matches: pd.DataFrame, b: pd.DataFrame, specific: pd.DataFrame) -> pd.DataFrame:
    """Modelled kWh per system and calendar month (columns 1..12)."""
    m = matches[matches["building_id"].notna() & matches["building_id"].isin(b.index)]
    loss = 1.0 - b["shading_loss"].reindex(m["building_id"]).fillna(0.0).to_numpy()
    per = specific.reindex(m["building_id"]).to_numpy() * (m["kw"].to_numpy() * loss)[:, None]
    return pd.DataFrame(per, index=m["system_id"].to_numpy(), columns=range(1, 13)).groupby(level=0).sum()


def performance(meters: pd.DataFrame, model: pd.DataFrame, systems: pd.DataFrame, cfg: Monitoring
                ) -> pd.DataFrame:
    """Per metered system: months, metered and modelled kWh, ``performance_ratio``,
    winter and summer ratios, ``underperforming`` and a ``reason``.

    ``systems``: ``township`` and ``category`` per system (of its first building).
    A system underperforms when its ratio is below ``underperform_ratio`` × the median
    ratio of its township (or of all systems where the township has fewer than
    ``calibration_min_systems``), when its winter ÷ summer ratio is below
    :data:`WINTER_SHARE` × the township's median, or when a month is an outage."""
    m = meters[meters["system_id"].isin(model.index)]
    cal = m["month"].dt.month.to_numpy()
    expected = model.to_numpy()[model.index.get_indexer(m["system_id"]), cal - 1]
    m = m.assign(expected=expected, winter=np.isin(cal, WINTER), summer=np.isin(cal, SUMMER),
                 outage=m["kwh"].to_numpy() < OUTAGE_SHARE * expected)
    g = m.groupby("system_id")
    out = pd.DataFrame({
        "months": g.size(), "metered_kwh": g["kwh"].sum(), "modelled_kwh": g["expected"].sum(),
        "outage_months": g["outage"].sum(),
    })
    part = {k: m[m[k]].groupby("system_id") for k in ("winter", "summer")}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["performance_ratio"] = out["metered_kwh"] / out["modelled_kwh"]
        for k, grp in part.items():
            out[f"{k}_ratio"] = (grp["kwh"].sum() / grp["expected"].sum()).reindex(out.index)
    out = out.join(systems[["township", "category"]])
    enough = out["months"] >= cfg.min_months
    out.loc[~enough, "performance_ratio"] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        out["winter_summer"] = (out["winter_ratio"] / out["summer_ratio"]).where(enough)
    low = out["performance_ratio"] < cfg.underperform_ratio * _group_median(out, "performance_ratio", cfg)
    shaded = out["winter_summer"] < WINTER_SHARE * _group_median(out, "winter_summer", cfg)
    reason = np.select(
        [out["outage_months"] > 0, shaded, low],
        [out["outage_months"].map(lambda n: f"outage: {n:.0f} months without generation (fault)"),
         out.apply(lambda r: f"winter ratio {r.winter_ratio:.2f} vs summer {r.summer_ratio:.2f}: "
                   "shading by low winter sun", axis=1) if len(out) else "",
         "uniformly low: soiling, degradation or an inverter fault"], "")
    out["underperforming"] = (low | shaded | (out["outage_months"] > 0)) & enough
    out["reason"] = np.where(out["underperforming"], reason, np.where(enough, "", f"fewer than {cfg.min_months} months"))
    return out


def _group_median(out: pd.DataFrame, column: str, cfg: Monitoring) -> pd.Series:
    """Median of ``column`` in each system's township, or of all systems where the
    township has fewer than ``calibration_min_systems``."""
    counts = out.groupby("township")[column].transform("count")
    return out.groupby("township")[column].transform("median").where(
        counts >= cfg.calibration_min_systems, out[column].median())


def _median_se(values: np.ndarray, rng: np.random.Generator) -> float:
    """Standard error of the median by bootstrap."""
    if len(values) < 2:
        return np.nan
    draws = rng.choice(values, size=(BOOTSTRAP, len(values)), replace=True)
    return float(np.median(draws, axis=1).std(ddof=1))


def calibration(perf: pd.DataFrame, cfg: Monitoring, seed: int = 0) -> pd.DataFrame:
    """Calibration factor (median performance ratio) with its bootstrap standard error,
    per township and per category and for all systems (``level`` all). Systems with an
    outage are left out (a fault says nothing about the model)."""
    rng = np.random.default_rng(seed)
    ok = perf[perf["performance_ratio"].notna() & (perf["outage_months"] == 0)]
    rows = [{"level": "all", "group": "all", "systems": len(ok),
             "factor": ok["performance_ratio"].median() if len(ok) else np.nan,
             "uncertainty": _median_se(ok["performance_ratio"].to_numpy(), rng)}]
    for level in ("township", "category"):
        for group, sub in ok.groupby(level):
            rows.append({"level": level, "group": group, "systems": len(sub),
                         "factor": sub["performance_ratio"].median(),
                         "uncertainty": _median_se(sub["performance_ratio"].to_numpy(), rng)})
    out = pd.DataFrame(rows, columns=["level", "group", "systems", "factor", "uncertainty"])
    out["own"] = (out["systems"] >= cfg.calibration_min_systems) | (out["level"] == "all")
    return out


def factors(b: pd.DataFrame, table: pd.DataFrame, by: str) -> pd.Series:
    """Calibration factor per building: its group's where the group has enough systems,
    else the factor of all systems (1.0 when no system is metered)."""
    everyone = table.loc[table["level"] == "all", "factor"].iloc[0] if len(table) else np.nan
    own = table[(table["level"] == by) & table["own"]].set_index("group")["factor"]
    return b[by].map(own).fillna(everyone).fillna(1.0).astype(float)
