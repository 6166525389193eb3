"""Suitability: rules from the config turn each building's facts into reason codes,
and the worst severity among them into a status (suitable · conditional · unsuitable).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from roofpv.config import Rules

STATUS_RANK = {"suitable": 0, "conditional": 1, "unsuitable": 2}
#: The statuses, best first.
STATUSES = tuple(STATUS_RANK)
#: Map colour of each status, shared by the QGIS styles and the report maps (RGB).
STATUS_COLOURS = {"suitable": (26, 150, 65), "conditional": (253, 174, 97),
                  "unsuitable": (186, 186, 186)}
_SEVERITY_RANK = {"info": 0, "conditional": 1, "unsuitable": 2}


def reason_masks(b: pd.DataFrame, rules: Rules) -> dict[str, np.ndarray]:
    """Boolean mask per reason code.

    ``b`` needs the canonical survey columns plus ``geometry_valid``, ``has_survey``,
    ``roof_type_surveyed`` (before defaults), ``roof_type``, ``dead_load_kn_m2``
    (NaN where no mounting), ``roof_area_m2``, ``layout_kwp`` (capacity the roof
    carries before subtracting existing PV), ``north_plane_unused`` and
    ``township_source``; where a DSM was used also ``shading_class``,
    ``shading_loss_source``, ``dsm_status`` and ``mounting_source``.
    """
    load = b["roof_load_kn_m2"].to_numpy(float)
    dead = b["dead_load_kn_m2"].to_numpy(float)
    mounted = ~np.isnan(dead)
    existing = (b["existing_pv_kw"].fillna(0) > 0) | (b["existing_pv_area_m2"].fillna(0) > 0)
    # Where the DSM measured a roof its shading class decides (``shading_class``).
    none = np.zeros(len(b), bool)
    from_dsm = (b["shading_loss_source"] == "dsm").to_numpy() if "shading_loss_source" in b else none
    shading = b["shading_class"] if "shading_class" in b else b["shading"]
    dsm_status = b["dsm_status"] if "dsm_status" in b else pd.Series(None, b.index, dtype=object)
    # A building part or duplicate: its roof is counted with the footprint it lies in.
    overlap = b["overlap_of"].notna().to_numpy() if "overlap_of" in b else none
    masks = {
        "invalid_geometry": ~b["geometry_valid"],
        "footprint_overlap": overlap,
        "no_survey_record": ~b["has_survey"],
        "roof_type_unknown": b["has_survey"] & b["roof_type_surveyed"].isna(),
        "roof_type_sunroom": b["roof_type"] == "sunroom",
        "roof_type_other": b["roof_type"] == "other",
        "roof_load_unknown": mounted & np.isnan(load),
        "roof_load": mounted & (load < dead * rules.load_safety_factor),
        "shading_unknown": b["shading"].isna() & ~from_dsm,
        "shading_moderate": shading == "moderate",
        "shading_severe": shading == "severe",
        "grid_unknown": b["grid_condition"].isna(),
        "grid_limited": b["grid_condition"] == "limited",
        "grid_none": b["grid_condition"] == "none",
        "category_unknown": b["category"].isna(),
        "area_too_small": b["geometry_valid"] & ~overlap & (b["roof_area_m2"] < rules.min_roof_area_m2),
        "capacity_too_small": b["geometry_valid"] & mounted
        & (b["roof_area_m2"] >= rules.min_roof_area_m2)
        & (b["layout_kwp"] < rules.min_capacity_kwp),
        "existing_pv": existing,
        "north_plane_unused": b["north_plane_unused"],
        "plane_too_narrow": b["plane_too_narrow"] if "plane_too_narrow" in b else none,
        "dsm_step_wall": b["dsm_step_wall"] if "dsm_step_wall" in b else none,
        "dsm_nothing_standing": dsm_status == "nothing_standing",
        "dsm_no_planes": dsm_status == "no_planes",
        "dsm_no_data": dsm_status == "no_data",
        "mounting_from_dsm": b["mounting_source"] == "dsm" if "mounting_source" in b else none,
        "shading_from_dsm": from_dsm,
        "township_from_location": b["township_source"] == "location",
        "outside_townships": b["township_source"] == "outside",
    }
    return {code: np.asarray(mask, dtype=bool) for code, mask in masks.items()}


def classify(b: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Status and reasons per building.

    Returns
    -------
    DataFrame with ``suitability`` (suitable · conditional · unsuitable) and
    ``reasons`` (reason codes joined by ``;``, in the order of
    :data:`roofpv.schema.REASONS`; empty when nothing applies).
    """
    masks = reason_masks(b, rules)
    codes = list(masks)
    hits = np.column_stack([masks[c] for c in codes]).reshape(len(b), len(codes))
    rank = np.array([_SEVERITY_RANK[rules.severity[c]] for c in codes])
    worst = np.where(hits, rank, 0).max(axis=1, initial=0)
    status = np.array(list(STATUS_RANK), dtype=object)[worst]
    # Label each distinct combination of codes once, not each building.
    bits = hits.astype(np.int64) @ (np.int64(1) << np.arange(len(codes), dtype=np.int64))
    combos, which = np.unique(bits, return_inverse=True)
    labels = np.array(
        [";".join(c for i, c in enumerate(codes) if combo >> i & 1) for combo in combos], dtype=object
    )
    return pd.DataFrame({"suitability": status, "reasons": labels[which]}, index=b.index)
