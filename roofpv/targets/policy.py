"""Policy cohorts, rooftop-PV coverage and the gap to each target, per township.

Coverage of a cohort (e.g. new public-institution buildings and new factories) is
measured three ways, chosen per target (REFERENCE §1: no national definition):

``area_total``        PV panel area ÷ total roof area
``area_installable``  PV panel area ÷ installable roof area (after rules and setbacks)
``count``             buildings with PV ÷ buildings
``substitution``      PV output ÷ building energy use, kWh/yr (替代率; floor area ×
                      intensity of the category, REFERENCE §1 assumption)

*Today* counts existing PV only; *potential* adds the PV that every suitable roof of
the cohort could carry; *technical* (the screening coverage) adds the PV of every
suitable and conditional roof: the answer before a survey has settled the conditional
roofs (a footprint without a survey row is conditional), which does not count toward a
target until the survey confirms the roofs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from roofpv.config import EnergyUse, Policy, Target, Uncertainty
from roofpv.energy import uncertainty

#: Statuses whose roofs make the technical potential: the screening answer, which a
#: survey must confirm (conditional roofs, footprints without a survey row among them)
#: before it counts toward a target.
TECHNICAL = ("suitable", "conditional")


def in_cohort(b: pd.DataFrame, target: Target) -> pd.Series:
    """Buildings of the target's categories built in or after ``built_since``."""
    mask = b["category"].isin(target.categories)
    if target.built_since is not None:
        mask &= b["year_built"] >= target.built_since
    return mask


def energy(b: pd.DataFrame, use: EnergyUse) -> pd.DataFrame:
    """Add ``energy_use_kwh`` (floor area × intensity of the category, kWh/yr) and
    ``existing_pv_kwh`` (existing kW × the roof's specific yield, or the median yield
    where the roof has no layout, × (1 − shading loss))."""
    intensity = b["category"].fillna("other").map(use.intensity_kwh_m2)
    specific = b["specific_yield_kwh_kwp"]
    specific = specific.fillna(specific.median() if specific.notna().any() else 0.0)
    return b.assign(
        energy_use_kwh=b["floor_area_m2"].fillna(0.0) * intensity,
        existing_pv_kwh=b["existing_pv_kw"].fillna(0.0) * specific * (1.0 - b["shading_loss"]),
    )


def contribution(b: pd.DataFrame, metric: str) -> pd.Series:
    """What equipping each roof adds to the metric's numerator: m² of panels, a
    building newly with PV, or kWh/yr."""
    if metric == "count":
        return ((b["existing_pv_area_m2"] <= 0) & (b["capacity_kwp"] > 0)).astype(float)
    return b["annual_kwh" if metric == "substitution" else "pv_area_m2"].astype(float)


#: Building columns :func:`_numerators` reads, whatever the metric.
_NUMERATOR_COLUMNS = ("roof_area_m2", "usable_area_m2", "energy_use_kwh", "existing_pv_area_m2", "existing_pv_kwh",
                      "capacity_kwp", "annual_kwh", "pv_area_m2")


def _numerators(b: pd.DataFrame, metric: str) -> pd.DataFrame:
    denominator = {
        "count": pd.Series(1.0, index=b.index), "area_total": b["roof_area_m2"],
        "area_installable": b["usable_area_m2"], "substitution": b.get("energy_use_kwh"),
    }[metric]
    today = {
        "count": (b["existing_pv_area_m2"] > 0).astype(float), "substitution": b.get("existing_pv_kwh"),
    }.get(metric, b["existing_pv_area_m2"])
    adds = contribution(b, metric)
    counted = adds.where(b["suitability"] == "suitable", 0.0)
    technical = adds.where(b["suitability"].isin(TECHNICAL), 0.0)
    # float: sums over an empty cohort stay numbers (0/0 is NaN, not ZeroDivisionError)
    return pd.DataFrame({"denominator": denominator, "today": today, "potential": today + counted,
                         "technical": today + technical}, dtype=float)


def coverage(b: pd.DataFrame, target: Target, by: str = "township") -> pd.DataFrame:
    """Coverage today and potential, target and gap per milestone, per group.

    Returns one row per group (every group of ``b[by]``, cohort empty or not) with
    ``buildings``, ``denominator``, ``today``, ``potential``, ``technical`` (sums, in m²,
    counts or kWh/yr), ``coverage_today``, ``coverage_potential`` (suitable roofs added),
    ``coverage_technical`` (suitable and conditional roofs added: the screening
    coverage, not counted toward the target), and for each milestone year Y:
    ``target_Y`` (ratio), ``gap_Y`` (m² of PV panels, buildings or kWh/yr still
    needed beyond today's) and ``reachable_Y`` (potential ≥ target).
    """
    # memory: the cohort's rows of only the columns its sums read, not of the whole table
    read = [by, "suitability", *_NUMERATOR_COLUMNS]
    cohort = b.loc[in_cohort(b, target), [c for c in dict.fromkeys(read) if c in b]]
    parts = _numerators(cohort, target.metric).assign(group=cohort[by].to_numpy())
    sums = parts.groupby("group").sum().reindex(pd.Index(b[by].unique()), fill_value=0.0)
    sums.insert(0, "buildings", cohort[by].value_counts().reindex(sums.index, fill_value=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        sums["coverage_today"] = sums["today"] / sums["denominator"]
        sums["coverage_potential"] = sums["potential"] / sums["denominator"]
        sums["coverage_technical"] = sums["technical"] / sums["denominator"]
    for year, ratio in target.milestones.items():
        needed = ratio * sums["denominator"]
        sums[f"target_{year}"] = ratio
        sums[f"gap_{year}"] = (needed - sums["today"]).clip(lower=0.0)
        sums[f"reachable_{year}"] = sums["potential"] >= needed - 1e-9
    sums.index.name = by
    return sums


#: Capacity fields named the same in every layer, table and page (kWp, kW): the
#: technical potential (suitable and conditional roofs), the counted potential (suitable
#: roofs only: what totals, energy and coverage count) and the PV already installed.
POTENTIAL_FIELDS = ("technical_potential_kwp", "counted_potential_kwp", "existing_pv_kw")


def potential(b: pd.DataFrame) -> pd.DataFrame:
    """Per building: ``technical_potential_kwp`` and ``counted_potential_kwp`` (its
    ``capacity_kwp`` where it counts, else 0) and ``pv_full`` (suitable, but the PV
    already installed leaves no room: 0 kWp); ``existing_pv_kw`` is the survey's."""
    status = b["suitability"]
    kwp = b["capacity_kwp"].fillna(0.0)
    existing = b["existing_pv_kw"].fillna(0.0)
    area = b["existing_pv_area_m2"].fillna(0.0) if "existing_pv_area_m2" in b else 0.0
    return pd.DataFrame({
        "technical_potential_kwp": kwp.where(status.isin(TECHNICAL), 0.0),
        "counted_potential_kwp": kwp.where(status == "suitable", 0.0),
        "pv_full": (status == "suitable") & (kwp <= 0) & ((existing > 0) | (area > 0)),
    }, index=b.index)


def group_sums(key: pd.Series, columns: dict[str, Callable[[], pd.Series]]) -> pd.DataFrame:
    """``pd.DataFrame({name: make() …}).groupby(key).sum()`` made one column at a time
    (``columns``: name → a function giving the column per row of ``key``): the same
    table to the bit (each column's sums are the same pandas sums in the same order of
    rows), without a frame of every column per building (≈ 0.15 KB a building for the
    township table). Rows with a missing key count in no group, as in ``groupby``."""
    codes, uniques = pd.factorize(key, sort=True)
    keep = codes >= 0
    every = bool(keep.all())
    codes = codes if every else codes[keep]
    out = {}
    for name, make in columns.items():
        values = make().to_numpy()
        out[name] = pd.Series(values if every else values[keep]).groupby(codes).sum()
        del values
    table = pd.DataFrame(out)
    table.index = pd.Index(uniques, name=key.name).take(table.index.to_numpy())
    return table


def township_summary(b: pd.DataFrame, policy: Policy,
                     uncertainty_config: Uncertainty | None = None,
                     townships: pd.Index | None = None) -> pd.DataFrame:
    """Per-township totals and, for each policy target, coverage and gaps; ``townships``
    (e.g. the township layer's names) are listed even without buildings (totals 0,
    coverage unknown).

    ``annual_mwh`` is the P50 of the suitable roofs' energy; with
    ``uncertainty_config``, ``annual_mwh_p90`` is its P90 (:mod:`roofpv.energy.uncertainty`).
    ``technical_annual_mwh`` (``_p90``) is the same for the roofs of the technical
    potential (suitable and conditional): the screening answer where the survey is
    missing, which does not count toward a target.

    Target columns are prefixed with the target's name. Energy, economics and carbon
    count suitable roofs; capacity is in the :data:`POTENTIAL_FIELDS` (see
    :func:`potential`), ``pv_full`` counts suitable roofs already full of PV.
    ``usable_area_m2`` is the usable roof area of the technical potential's roofs (the
    area its modules are laid out on), ``roof_area_m2`` that of every roof.
    ``lcoe_yuan_kwh`` is weighted by energy, ``payback_years`` is the median.
    """
    status = b["suitability"]
    suitable = status == "suitable"
    technical = status.isin(TECHNICAL)
    kwp = potential(b)
    annual_mwh = lambda where: (b["annual_kwh"] / 1000.0).where(where, 0.0)  # noqa: E731
    table = group_sums(b["township"], {
        "buildings": lambda: pd.Series(1, index=b.index),
        "suitable": lambda: suitable,
        "conditional": lambda: status == "conditional",
        "unsuitable": lambda: status == "unsuitable",
        "roof_area_m2": lambda: b["roof_area_m2"],
        "usable_area_m2": lambda: b["usable_area_m2"].where(technical, 0.0),
        "pv_full": lambda: kwp["pv_full"],
        "technical_potential_kwp": lambda: kwp["technical_potential_kwp"],
        "counted_potential_kwp": lambda: kwp["counted_potential_kwp"],
        "existing_pv_kw": lambda: b["existing_pv_kw"],
        "annual_mwh": lambda: annual_mwh(suitable),
        "technical_annual_mwh": lambda: annual_mwh(technical),
        "grid_limited": lambda: b["grid_limited"] & suitable,
        "capex_myuan": lambda: (b["capex_yuan"] / 1e6).where(suitable, 0.0),
        "revenue_myuan_yr": lambda: (b["revenue_yuan_yr"] / 1e6).where(suitable, 0.0),
        "npv_myuan": lambda: (b["npv_yuan"] / 1e6).where(suitable, 0.0),
        "lcoe_x_kwh": lambda: (b["lcoe_yuan_kwh"] * b["annual_kwh"]).where(suitable & (b["annual_kwh"] > 0), 0.0),
        "co2_avoided_t_yr": lambda: b["co2_avoided_t_yr"].where(suitable, 0.0),
        "energy_use_mwh": lambda: b["energy_use_kwh"] / 1000.0,
    })
    if townships is not None:
        table = table.reindex(table.index.append(townships.difference(table.index)), fill_value=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["lcoe_yuan_kwh"] = table.pop("lcoe_x_kwh") / (table["annual_mwh"] * 1000.0)
    table["payback_years"] = b["payback_years"].where(suitable).groupby(b["township"]).median()
    if uncertainty_config is not None:
        sigma = uncertainty.shading_sigma(b["shading_loss_source"], uncertainty_config)
        for column, where in (("annual_mwh", suitable), ("technical_annual_mwh", technical)):
            table[f"{column}_p90"] = uncertainty.p90_of_sum(annual_mwh(where), sigma, b["township"],
                                                            uncertainty_config)
    for target in policy.targets:
        cov = coverage(b, target).drop(columns=["today", "potential", "technical"])
        table = table.join(cov.add_prefix(f"{target.name}_"))
    return table


def observed_pace(b: pd.DataFrame, b_before: pd.DataFrame, target: Target, years: float = 1.0,
                  by: str = "township") -> pd.Series:
    """Coverage ratio added per year between ``b_before`` (the same buildings with the
    existing PV of ``years`` ago) and ``b``, per group."""
    now = coverage(b, target, by)["coverage_today"]
    before = coverage(b_before, target, by)["coverage_today"].reindex(now.index)
    return ((now - before) / years).fillna(0.0)


def with_status(table: pd.DataFrame, plan_status: pd.DataFrame | None, policy: Policy, as_of,
                start_year: int, pace: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """The township table with ``<target>_status_<year>`` and ``<target>_pace_needed_<year>``
    for every milestone (:mod:`roofpv.targets.milestones`); ``pace``: observed pace per target
    and township (from the register), None = the plan's pace."""
    from roofpv.targets.milestones import table as milestone_table

    parts = [table]
    for target in policy.targets:
        p = f"{target.name}_"
        own = [c for c in table.columns if c.startswith(p)]
        cov = table[own].set_axis([c[len(p):] for c in own], axis=1)
        observed = pace.get(target.name) if pace else None
        parts.append(milestone_table(cov, plan_status, target, as_of, start_year, observed).add_prefix(p))
    return pd.concat(parts, axis=1)
