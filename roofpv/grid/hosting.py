"""Hosting capacity of 台区 transformers for distributed PV after DL/T 2041
《分布式电源接入电网承载力评估导则》 as the grid companies apply it (docs/sources.md §6).

The thermal check of a transformer of rating S (kVA) at power factor cos θ allows a
reverse flow of β·S·cos θ (β = 0.8 for a single or split-operated transformer). At the
typical moment, when PV output peaks and the load is low, the distributed PV the
transformer can carry (承载力, §6.3 of the 2025 edition) is

    S_d = (P_load,min − P_G + P_ESS + β·S·cos θ) / τ_max  [kWp]

with P_load,min the load at that moment, P_G the output of other generation on it,
P_ESS the charging power of storage and τ_max the largest output of 1 kWp of PV (kW/kWp:
inverter clipping, orientation mix and losses included). The open capacity (可开放容量,
§8.5) is S_d less the PV connected and the PV filed but not yet connected. The reverse
load rate λ = (τ_max · PV − P_load,min − P_ESS) / S of what is connected and filed grades
the transformer: green λ ≤ 0 (no reverse flow), yellow 0 < λ ≤ β·cos θ, red above
(no open capacity).

Here P_load,min is the lowest load over the intervals in which PV produces (from the
hourly load profiles, or the table's measured ``min_load_kw``), P_G is 0 (no other
generation is known), and the same balance is also checked hour by hour
(:func:`hourly_hosting`): the largest PV whose reverse flow stays within the limit in
every interval, which credits the load PV meets at each hour rather than the year's
minimum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GRADES = ("green", "yellow", "red")


def dlt2041_hosting(kva, min_load_kw, storage_kw, tau_max, beta: float, power_factor: float = 1.0,
                    other_generation_kw=0.0) -> np.ndarray:
    """Distributed PV a transformer can carry, kWp (DC nameplate), never below 0:
    ``(P_load,min − P_G + P_ESS + β·S·cos θ) / τ_max``.

    Parameters
    ----------
    kva : rating S [kVA]. min_load_kw : P_load,min [kW]. storage_kw : storage charging
    power P_ESS [kW]. tau_max : largest output per kWp [kW/kWp]; 0 (no PV output) gives
    no limit (infinity). beta : allowed reverse load rate [unitless]. power_factor :
    cos θ [unitless]. other_generation_kw : P_G, output of other generation [kW].
    """
    kva, load, storage, tau, other = (np.asarray(v, float) for v in
                                      (kva, min_load_kw, storage_kw, tau_max, other_generation_kw))
    room = load - other + storage + beta * kva * power_factor
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tau > 0, np.maximum(room, 0.0) / tau, np.inf)


def open_capacity(hosting_kw, connected_kw, filed_kw) -> np.ndarray:
    """可开放容量: hosting capacity less the PV connected and filed, kWp, never below 0."""
    return np.maximum(np.asarray(hosting_kw, float) - connected_kw - filed_kw, 0.0)


def reverse_load_rate(pv_kw, min_load_kw, kva, storage_kw=0.0) -> np.ndarray:
    """λ = (P_PV − P_load,min − P_ESS) / S: reverse flow at the typical moment over the
    rating [unitless]; NaN without a rating."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.asarray(pv_kw, float) - min_load_kw - storage_kw) / np.where(
            np.asarray(kva, float) > 0, kva, np.nan)


def grade(rate, limit: float) -> np.ndarray:
    """DL/T 2041 grade of a reverse load rate: green ≤ 0 < yellow ≤ ``limit`` (β·cos θ)
    < red; a transformer without a rating (NaN) is red: nothing connects to it."""
    rate = np.asarray(rate, float)
    return np.select([rate <= 0, rate <= limit], ["green", "yellow"], "red").astype(object)


def reverse_limit(kva, storage_kw, beta: float, power_factor: float = 1.0) -> np.ndarray:
    """Reverse flow a transformer takes: β·S·cos θ + P_ESS [kW]."""
    return beta * np.asarray(kva, float) * power_factor + np.asarray(storage_kw, float)


def in_year(capacity_kw, factor: float) -> np.ndarray:
    """Hosting capacity [kWp] for a PV year whose every interval is ``factor`` × the
    weather year's (the P90 year of :func:`roofpv.energy.uncertainty.p90_factor`): the
    same load and limit take 1/``factor`` as many kWp, at the typical moment as hour by
    hour; ``factor`` 0 (no output) gives no limit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(capacity_kw, float) / factor if factor > 0 else np.full(np.shape(capacity_kw), np.inf)


def admission_basis(hosting_kw, hourly_kw, connected_kw, filed_kw, grid, factor: float) -> np.ndarray:
    """The open capacity roofs are admitted against [kWp]: DL/T 2041's or the hourly
    one (``grid.hosting_basis``), in the P50 or the P90 year (``grid.profile_year``;
    ``factor``: the P90 year's scale)."""
    capacity = hosting_kw if grid.hosting_basis == "dlt2041" else hourly_kw
    return open_capacity(in_year(capacity, factor) if grid.profile_year == "p90" else capacity, connected_kw, filed_kw)


def hourly_hosting(pv_per_kwp: np.ndarray, load: np.ndarray, limit_kw) -> np.ndarray:
    """The largest PV (kWp, connected included) whose reverse flow stays within
    ``limit_kw`` (:func:`reverse_limit`) in every interval, per row.

    ``pv_per_kwp`` (rows × steps): output of 1 kWp of the transformer's PV [kW]; ``load``
    (rows × steps): load [kW]. Only intervals with output count; a row without output
    has no limit (infinity)."""
    p = np.asarray(pv_per_kwp)
    dtype = np.result_type(p.dtype, np.float32)
    room = np.asarray(limit_kw, dtype)[:, None] + load
    ratio = np.divide(room, p, out=np.full(p.shape, np.inf, dtype), where=p > 0)
    return np.maximum(ratio.min(axis=1, initial=np.inf), 0.0).astype(float)


def storage_to_host(over_kw: np.ndarray, day: np.ndarray, step_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Battery that absorbs a reverse flow above the limit: power (the largest excess,
    kW) and energy (the largest daily excess energy, kWh, discharged into the night's
    load), per row. ``day``: day number of each interval."""
    power = over_kw.max(axis=1, initial=0.0)
    starts = np.flatnonzero(np.r_[True, np.diff(day) != 0])
    daily = np.add.reduceat(over_kw, starts, axis=1) * step_h if over_kw.shape[1] else over_kw
    return power, daily.max(axis=1, initial=0.0)


def served_by_nearest(building_xy: np.ndarray, transformer_xy: np.ndarray) -> np.ndarray:
    """Index of the nearest transformer (planar distance) of each building."""
    from scipy.spatial import cKDTree

    return cKDTree(transformer_xy).query(building_xy)[1]


def mode_per_group(groups: pd.Series, values: pd.Series) -> pd.Series:
    """The most frequent value of each group (ties: the first in sort order)."""
    counts = pd.DataFrame({"g": groups, "v": values}).dropna().value_counts(["g", "v"], sort=False)
    counts = counts.reset_index().sort_values(["g", "count", "v"], ascending=[True, False, True])
    return counts.drop_duplicates("g").set_index("g")["v"]
