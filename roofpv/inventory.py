"""The buildings table: footprints joined to the survey, projected, placed in townships.

One row per input footprint, always: a footprint without a survey row keeps its
place with blank survey columns; a survey row without a footprint is reported.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .findings import Finding
from .schema import value_key
from .webmap import Datum, unshift


def join_survey(
    footprints: gpd.GeoDataFrame, survey: pd.DataFrame, survey_source: str,
    footprints_source: str = "footprints",
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Left-join survey columns onto footprints by ``building_id``.

    Adds ``has_survey`` (bool). Survey ids with no footprint become findings.
    """
    buildings = footprints.join(survey, how="left")
    buildings["has_survey"] = survey.index.get_indexer(buildings.index) >= 0  # ids are unique
    orphans = survey.index.difference(footprints.index)
    findings = [
        Finding("warning", survey_source, None, bid, "building_id", bid,
                "survey row has no footprint and is not assessed",
                "add the footprint or correct 建筑编号")
        for bid in orphans
    ]
    findings += [
        Finding("warning", footprints_source, None, bid, "building_id", bid,
                "footprint has no survey row; assessed with default values",
                "add the building to the survey workbook")
        for bid in buildings.index[~buildings["has_survey"]]
    ]
    return buildings, findings


#: Footprints smaller than this (m²) are reported as likely digitising slips.
TINY_M2 = 5.0


def to_analysis_crs(
    frame: gpd.GeoDataFrame, crs, source: str = "footprints", datum: Datum | None = None
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Reproject to the analysis CRS, repair what is safe and mark unusable geometries.

    Footprints digitised on a web map (``datum``, :mod:`roofpv.webmap`) are first moved
    back to WGS84/CGCS2000.

    Adds ``geometry_valid``: a non-empty polygonal geometry. Z values are dropped,
    invalid rings repaired with :func:`shapely.make_valid` (keeping the polygonal part);
    each change, multipart and tiny footprints are reported.
    """
    has_z = shapely.has_z(frame.geometry.to_numpy())
    out = frame.set_geometry(unshift(frame.geometry, datum)).to_crs(crs)
    geom = out.geometry.to_numpy()
    geom = shapely.force_2d(geom)
    invalid = ~shapely.is_valid(geom) & ~shapely.is_missing(geom)
    repaired = geom.copy()
    repaired[invalid] = shapely.make_valid(geom[invalid], method="structure", keep_collapsed=False)
    polygonal = np.isin(shapely.get_type_id(repaired), (3, 6))  # Polygon, MultiPolygon
    area = shapely.area(repaired)
    usable = polygonal & ~shapely.is_empty(repaired) & (area > 0)
    out = out.set_geometry(gpd.GeoSeries(repaired, index=out.index, crs=out.crs))
    out["geometry_valid"] = usable
    checks = [
        (~usable, "error", ("footprint has no usable polygon (empty, missing or not a polygon); "
                            "kept as unsuitable"), "redraw the footprint"),
        (invalid & usable, "warning", "invalid polygon (self-intersection or bad ring) repaired",
         "check the outline in QGIS (Vector → Geometry Tools → Check Validity)"),
        (has_z, "info", "Z coordinates dropped", "nothing to do"),
        (usable & (shapely.get_num_geometries(repaired) > 1), "info",
         "multipart footprint assessed as one building", "split it if the parts are separate buildings"),
        (usable & (area < TINY_M2), "warning", f"footprint smaller than {TINY_M2:g} m²",
         "check whether it is a digitising slip"),
    ]
    findings = [
        Finding(level, source, None, bid, "geometry", None, problem, fix)
        for mask, level, problem, fix in checks
        for bid in out.index[mask]
    ]
    return out, findings


def assign_townships(
    buildings: gpd.GeoDataFrame, townships: gpd.GeoDataFrame | None, source: str = "survey"
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Settle each building's township, adding ``township_source``.

    A surveyed name is kept when it matches a township (exactly, or as the unique
    township whose name starts with it, e.g. 当湖 → 当湖街道); otherwise the township
    containing the footprint's representative point is used (``location``); a
    building outside every township keeps the surveyed name or ``未知``. Surveyed
    names that match no township and buildings outside every township are reported.
    """
    out = buildings.copy()
    surveyed = out["township"].where(out["township"].notna(), None)
    origin = pd.Series("survey", index=out.index, dtype=object)
    if townships is None:
        out["township"] = surveyed.fillna("未知")
        out["township_source"] = origin.where(surveyed.notna(), "none")
        return out, []
    names = list(townships.index)
    keys = {value_key(n): n for n in names}

    def match(name):
        if name is None:
            return None
        key = value_key(name)
        if key in keys:
            return keys[key]
        starts = [n for k, n in keys.items() if k.startswith(key)]
        return starts[0] if len(starts) == 1 else None

    matched = surveyed.map({name: match(name) for name in surveyed.dropna().unique()})
    points = gpd.GeoSeries(out.geometry.representative_point(), index=out.index, crs=out.crs)
    polygons = gpd.GeoDataFrame(
        {"located": names}, geometry=townships.to_crs(out.crs).geometry.to_numpy(), crs=out.crs
    )
    located = gpd.sjoin(gpd.GeoDataFrame(geometry=points), polygons, how="left", predicate="within")
    located = located[~located.index.duplicated(keep="first")]["located"]
    use_location = matched.isna() & located.notna()
    out["township"] = matched.where(matched.notna(), located)
    origin[use_location] = "location"
    outside = out["township"].isna()
    out.loc[outside, "township"] = surveyed[outside].fillna("未知")
    origin[outside] = "outside"
    out["township_source"] = origin
    unmatched = surveyed.notna() & matched.isna()
    findings = [
        Finding("warning", source, None, bid, "township", name,
                f"surveyed township {name!r} matches no township; "
                + (f"located in {out.at[bid, 'township']}" if origin[bid] == "location" else "kept as written"),
                f"use one of: {'、'.join(names)}")
        for bid, name in surveyed[unmatched].items()
    ]
    findings += [
        Finding("warning", "footprints", None, bid, "geometry", None,
                "building lies outside every township polygon",
                "check the footprint's position and CRS, or the township layer")
        for bid in out.index[outside]
    ]
    return out, findings

