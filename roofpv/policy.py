"""Policy cohorts, rooftop-PV coverage and the gap to each target, per township.

Coverage of a cohort (e.g. new public-institution buildings and new factories) is
measured three ways, chosen per target (REFERENCE §1: no national definition):

``area_total``        PV panel area ÷ total roof area
``area_installable``  PV panel area ÷ installable roof area (after rules and setbacks)
``count``             buildings with PV ÷ buildings

*Today* counts existing PV only; *potential* adds the PV that every suitable roof of
the cohort could carry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import Policy, Target


def in_cohort(b: pd.DataFrame, target: Target) -> pd.Series:
    """Buildings of the target's categories built in or after ``built_since``."""
    mask = b["category"].isin(target.categories)
    if target.built_since is not None:
        mask &= b["year_built"] >= target.built_since
    return mask


def _numerators(b: pd.DataFrame, metric: str) -> pd.DataFrame:
    suitable = b["suitability"] == "suitable"
    if metric == "count":
        has_pv = b["existing_pv_area_m2"] > 0
        return pd.DataFrame({
            "denominator": 1.0,
            "today": has_pv.astype(float),
            "potential": (has_pv | (suitable & (b["capacity_kwp"] > 0))).astype(float),
        })
    denominator = b["roof_area_m2"] if metric == "area_total" else b["usable_area_m2"]
    new = b["pv_area_m2"].where(suitable, 0.0)
    return pd.DataFrame({
        "denominator": denominator,
        "today": b["existing_pv_area_m2"],
        "potential": b["existing_pv_area_m2"] + new,
    })


def coverage(b: pd.DataFrame, target: Target, by: str = "township") -> pd.DataFrame:
    """Coverage today and potential, target and gap per milestone, per group.

    Returns one row per group (every group of ``b[by]``, cohort empty or not) with
    ``buildings``, ``denominator``, ``today``, ``potential`` (sums, in m² or counts),
    ``coverage_today``, ``coverage_potential``, and for each milestone year Y:
    ``target_Y`` (ratio), ``gap_Y`` (m² of PV panels, or buildings, still needed
    beyond today's) and ``reachable_Y`` (potential ≥ target).
    """
    cohort = b.loc[in_cohort(b, target)]
    parts = _numerators(cohort, target.metric).assign(group=cohort[by].to_numpy())
    sums = parts.groupby("group").sum().reindex(pd.Index(b[by].unique()), fill_value=0.0)
    sums.insert(0, "buildings", cohort[by].value_counts().reindex(sums.index, fill_value=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        sums["coverage_today"] = sums["today"] / sums["denominator"]
        sums["coverage_potential"] = sums["potential"] / sums["denominator"]
    for year, ratio in target.milestones.items():
        needed = ratio * sums["denominator"]
        sums[f"target_{year}"] = ratio
        sums[f"gap_{year}"] = (needed - sums["today"]).clip(lower=0.0)
        sums[f"reachable_{year}"] = sums["potential"] >= needed - 1e-9
    sums.index.name = by
    return sums


def township_summary(b: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Per-township totals and, for each policy target, coverage and gaps.

    Target columns are prefixed with the target's name. Capacity and energy count
    suitable roofs; ``conditional_kwp`` is what conditional roofs would add.
    """
    status = b["suitability"]
    frame = pd.DataFrame({
        "township": b["township"],
        "buildings": 1,
        "suitable": status == "suitable",
        "conditional": status == "conditional",
        "unsuitable": status == "unsuitable",
        "roof_area_m2": b["roof_area_m2"],
        "usable_area_m2": b["usable_area_m2"].where(status == "suitable", 0.0),
        "capacity_kwp": b["capacity_kwp"].where(status == "suitable", 0.0),
        "conditional_kwp": b["capacity_kwp"].where(status == "conditional", 0.0),
        "annual_mwh": (b["annual_kwh"] / 1000.0).where(status == "suitable", 0.0),
        "existing_pv_kw": b["existing_pv_kw"],
    })
    table = frame.groupby("township").sum()
    for target in policy.targets:
        cov = coverage(b, target).drop(columns=["today", "potential"])
        table = table.join(cov.add_prefix(f"{target.name}_"))
    return table
