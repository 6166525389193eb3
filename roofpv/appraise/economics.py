"""Discounted cash flows of each roof's added PV: capex, revenue, O&M, NPV, LCOE, payback.

Year t = 1 … N of the lifetime produces ``E₁ · (1 − d)^(t−1)`` kWh (E₁ = ``annual_kwh``,
d = degradation per year; first-year effects such as LID are already in the system
losses). Each kWh earns the roof's price:

``full_export``       全额上网: the mechanism price
``self_use_surplus``  自发自用、余电上网: s · user tariff + (1 − s) · surplus price
``full_self_use``     全部自用: s · user tariff (the surplus is curtailed)

(s = the roof's self-consumed share from its hourly balance against its building's load,
``self_consumption_share`` of :func:`roofpv.grid.assess.building_balance`; without hourly
profiles the configured share of the category, and full self-use earns the tariff on
every kWh; surplus price = market or mechanism price).
The export mode is the configured one of the roof's NEA category. Roofs of the
阳光共富 categories are built by an investor under ``shared_prosperity.mode``, who
pays the household a roof rent per m² of panels and the village collective a share
of revenue; the figures below are then the investor's.

With r the discount rate and capex paid at t = 0:

* NPV  = −capex + Σ (revenue_t − O&M − rent − collective_t) / (1 + r)^t
* LCOE = (capex + Σ (O&M + rent) / (1 + r)^t) / Σ E_t / (1 + r)^t  (yuan/kWh)
* payback: years until the undiscounted net cash flow repays capex, interpolated
  within the year; NaN if not within the lifetime.

A battery beside the roof (``grid.storage``, priced by ``economics.storage``) is
appraised by the same discounting as the increment it adds (:func:`storage_cash_flows`):
its capex (yuan/kWh × kWh + yuan/kW × kW) at t = 0, its energy part again every
``life_years`` within the PV lifetime, fixed O&M as a share of capex, against the
self-consumed kWh it adds (``self_consumed_storage_kwh − self_consumed_kwh``, fading with
the PV), each worth the tariff less the surplus price under 余电上网 and the tariff under
全部自用 (energy otherwise curtailed); under 全额上网 a battery earns nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from roofpv.config import Economics, StorageCost


def price_per_kwh(b: pd.DataFrame, econ: Economics, mode: pd.Series) -> pd.Series:
    """Average revenue per kWh (yuan/kWh) of each roof under its export ``mode``."""
    tariff = b["category"].fillna("other").map(econ.tariff_yuan_kwh)
    share = b["category"].fillna("other").map(econ.self_consumption)
    hourly = b["self_consumption_share"] if "self_consumption_share" in b else None
    if hourly is not None:
        share = hourly.fillna(share)
    surplus = econ.market_price_yuan_kwh if econ.surplus_price == "market" else econ.mechanism_price_yuan_kwh
    return pd.Series(
        np.select(
            [mode == "full_export", mode == "self_use_surplus"],
            [econ.mechanism_price_yuan_kwh, share * tariff + (1.0 - share) * surplus],
            tariff if hourly is None else share * tariff,
        ),
        index=b.index,
    )


def cash_flows(
    kwp: np.ndarray, annual_kwh: np.ndarray, capex_yuan_w: np.ndarray, price: np.ndarray,
    econ: Economics, rent_yuan_yr: np.ndarray | float = 0.0, revenue_share: np.ndarray | float = 0.0,
) -> pd.DataFrame:
    """NPV (yuan), LCOE (yuan/kWh) and payback (years) of PV systems, vectorized.

    Parameters
    ----------
    kwp, annual_kwh : capacity (kWp) and first-year output (kWh) per system.
    capex_yuan_w : investment, yuan per W.
    price : revenue per kWh, yuan/kWh.
    rent_yuan_yr : fixed yearly payment to the roof owner, yuan.
    revenue_share : share of revenue paid to a third party (the village collective).
    """
    kwp = np.asarray(kwp, dtype=float)
    energy = np.asarray(annual_kwh, dtype=float)
    fade, discount = _years(econ)
    capex = capex_yuan_w * kwp * 1000.0
    fixed = econ.om_yuan_per_w_year * kwp * 1000.0 + rent_yuan_yr
    income = energy * price * (1.0 - np.asarray(revenue_share, dtype=float))
    npv = -capex + income * (fade @ discount) - fixed * discount.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        lcoe = (capex + fixed * discount.sum()) / (energy * (fade @ discount))
        net = income[:, None] * fade[None, :] - np.asarray(fixed, dtype=float).reshape(-1, 1)
        cumulative = np.cumsum(net, axis=1)
        repaid = cumulative >= capex[:, None]
        first = repaid.argmax(axis=1)
        before = np.where(first > 0, cumulative[np.arange(len(kwp)), first - 1], 0.0)
        fraction = (capex - before) / net[np.arange(len(kwp)), first]
        payback = np.where(repaid.any(axis=1) & (capex > 0), first + fraction, np.nan)
    return pd.DataFrame({"npv_yuan": npv, "lcoe_yuan_kwh": lcoe, "payback_years": payback})


def _years(econ: Economics) -> tuple[np.ndarray, np.ndarray]:
    """Output of year t = 1 … N relative to year 1 and its discount factor (1 + r)^−t."""
    years = np.arange(1, econ.lifetime_years + 1)
    return (1.0 - econ.degradation_per_year) ** (years - 1), (1.0 + econ.discount_rate) ** -years.astype(float)


def storage_capex(kwh, kw, cost: StorageCost) -> np.ndarray:
    """Investment in a battery of ``kwh`` usable energy and ``kw`` power, yuan."""
    return cost.yuan_per_kwh * np.asarray(kwh, float) + cost.yuan_per_kw * np.asarray(kw, float)


def storage_cash_flows(kwh, kw, added_kwh, value_yuan_kwh, econ: Economics, cost: StorageCost) -> np.ndarray:
    """NPV of adding a battery, yuan, vectorized: ``−capex − Σ replacements·(1 + r)^−t_k
    + Σ (added_kwh · fade_t · value − O&M)·(1 + r)^−t``.

    Parameters
    ----------
    kwh, kw : usable energy [kWh] and power [kW] of each battery.
    added_kwh : year-1 energy it adds to the self-consumed, kWh.
    value_yuan_kwh : what each added kWh is worth, yuan/kWh.
    econ, cost : discount rate, lifetime and degradation; the battery's cost.
    """
    fade, discount = _years(econ)
    capex = storage_capex(kwh, kw, cost)
    swaps = np.arange(cost.life_years, econ.lifetime_years, cost.life_years)   # years of replacement
    replacement = cost.replacement_share * cost.yuan_per_kwh * np.asarray(kwh, float) * discount[swaps - 1].sum()
    income = np.asarray(added_kwh, float) * np.asarray(value_yuan_kwh, float) * (fade @ discount)
    return -capex - replacement + income - cost.om_share_per_year * capex * discount.sum()


def storage_value(b: pd.DataFrame, econ: Economics, mode: pd.Series) -> np.ndarray:
    """What a kWh a battery moves from surplus into self-use is worth, yuan/kWh: tariff −
    surplus price under 余电上网, the tariff under 全部自用 (else curtailed), 0 under 全额上网."""
    tariff = b["category"].fillna("other").map(econ.tariff_yuan_kwh).to_numpy(float)
    surplus = econ.market_price_yuan_kwh if econ.surplus_price == "market" else econ.mechanism_price_yuan_kwh
    return np.select([mode == "self_use_surplus", mode == "full_self_use"], [tariff - surplus, tariff], 0.0)


def export_mode(b: pd.DataFrame, econ: Economics) -> pd.Series:
    """Each roof's export mode: the configured one of its NEA category (``nea_category``),
    the 阳光共富 investor's on roofs of its categories."""
    mode = b["nea_category"].map(econ.mode)
    shared = econ.shared_prosperity
    if shared is not None:
        mode = mode.where(~b["category"].fillna("other").isin(shared.categories), shared.mode)
    return mode


def appraise(b: pd.DataFrame, econ: Economics, capex_yuan_per_w: pd.Series | None = None) -> pd.DataFrame:
    """Add the economics of each roof's added PV (needs ``nea_category`` from
    :func:`roofpv.appraise.grid.classify`); ``capex_yuan_per_w`` (yuan/W per row, NaN =
    the category's) replaces the category's investment where given (e.g. a carport's canopy).

    Columns: ``export_mode``, ``shared_prosperity`` (bool), ``capex_yuan``,
    ``revenue_yuan_yr`` (year 1, gross), ``npv_yuan``, ``lcoe_yuan_kwh``,
    ``payback_years``, ``household_income_yuan_yr`` and ``collective_income_yuan_yr``
    (阳光共富 roofs, year 1), ``storage_capex_yuan`` and ``storage_npv_yuan`` (the
    ``grid.storage`` battery priced by ``economics.storage``; NaN without either). Roofs
    without added capacity get NaN ratios and zero sums.
    """
    category = b["category"].fillna("other")
    shared = econ.shared_prosperity
    in_shared = category.isin(shared.categories) if shared is not None else pd.Series(False, index=b.index)
    mode = export_mode(b, econ)
    price = price_per_kwh(b, econ, mode)
    rent = in_shared * (shared.roof_rent_yuan_m2_year if shared else 0.0) * b["pv_area_m2"]
    share = in_shared * (shared.collective_share if shared else 0.0)
    has_pv = (b["capacity_kwp"] > 0).to_numpy()
    capex_w = category.map(econ.capex_yuan_per_w).to_numpy(float)
    if capex_yuan_per_w is not None:
        capex_w = np.where(capex_yuan_per_w.isna(), capex_w, capex_yuan_per_w.to_numpy(float))
    flows = cash_flows(
        b["capacity_kwp"].to_numpy(float), b["annual_kwh"].to_numpy(float), capex_w,
        price.to_numpy(float), econ, rent.to_numpy(float), share.to_numpy(float),
    ).set_index(b.index)
    revenue = b["annual_kwh"] * price
    battery = {"storage_capex_yuan": np.nan, "storage_npv_yuan": np.nan}
    if econ.storage is not None and "self_consumed_storage_kwh" in b:
        has_battery = b["storage_kwh"].notna().to_numpy() & has_pv
        kwh, kw = b["storage_kwh"].fillna(0.0).to_numpy(float), b["storage_kw"].fillna(0.0).to_numpy(float)
        added = (b["self_consumed_storage_kwh"] - b["self_consumed_kwh"]).fillna(0.0).to_numpy(float)
        battery = {
            "storage_capex_yuan": np.where(has_battery, storage_capex(kwh, kw, econ.storage), np.nan),
            "storage_npv_yuan": np.where(has_battery, storage_cash_flows(
                kwh, kw, added, storage_value(b, econ, mode), econ, econ.storage), np.nan),
        }
    return b.assign(
        export_mode=mode,
        shared_prosperity=in_shared.to_numpy(bool),
        capex_yuan=capex_w * b["capacity_kwp"].to_numpy(float) * 1000.0,
        revenue_yuan_yr=revenue,
        npv_yuan=flows["npv_yuan"].where(has_pv, 0.0),
        lcoe_yuan_kwh=flows["lcoe_yuan_kwh"].where(has_pv),
        payback_years=flows["payback_years"].where(has_pv),
        **battery,
        household_income_yuan_yr=rent,
        collective_income_yuan_yr=revenue * share,
    )


def parameters(econ: Economics) -> pd.DataFrame:
    """The economic parameters as a table: ``parameter``, ``value``, ``assumption``."""
    rows = [
        (name, value, name in econ.assumptions)
        for name, value in econ.model_dump(exclude={"assumptions"}).items()
    ]
    return pd.DataFrame(rows, columns=["parameter", "value", "assumption"]).astype({"value": str})
