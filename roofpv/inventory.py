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


def join_survey(
    footprints: gpd.GeoDataFrame, survey: pd.DataFrame, survey_source: str
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Left-join survey columns onto footprints by ``building_id``.

    Adds ``has_survey`` (bool). Survey ids with no footprint become findings.
    """
    buildings = footprints.join(survey, how="left")
    buildings["has_survey"] = buildings.index.isin(survey.index)
    orphans = survey.index.difference(footprints.index)
    findings = [
        Finding("warning", survey_source, None, bid, "building_id", bid,
                "survey row has no footprint and is not assessed",
                "add the footprint or correct 建筑编号")
        for bid in orphans
    ]
    findings += [
        Finding("warning", "footprints", None, bid, "building_id", bid,
                "footprint has no survey row; assessed with default values",
                "add the building to the survey workbook")
        for bid in buildings.index[~buildings["has_survey"]]
    ]
    return buildings, findings


def project(frame: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """Reproject to the analysis CRS and mark unusable geometries.

    Adds ``geometry_valid``: a non-empty polygonal geometry; invalid rings are
    repaired with :func:`shapely.make_valid` (keeping the polygonal part).
    """
    out = frame.to_crs(crs)
    geom = shapely.force_2d(out.geometry.to_numpy())
    repaired = np.where(
        shapely.is_valid(geom), geom,
        shapely.make_valid(geom, method="structure", keep_collapsed=False),
    )
    polygonal = np.isin(shapely.get_type_id(repaired), (3, 6))  # Polygon, MultiPolygon
    out = out.set_geometry(gpd.GeoSeries(repaired, index=out.index, crs=out.crs))
    out["geometry_valid"] = polygonal & ~shapely.is_empty(repaired) & (shapely.area(repaired) > 0)
    return out


def assign_townships(
    buildings: gpd.GeoDataFrame, townships: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Settle each building's township, adding ``township_source``.

    A surveyed name is kept when it matches a township (exactly, or as the unique
    township whose name starts with it, e.g. 当湖 → 当湖街道); otherwise the township
    containing the footprint's representative point is used (``location``); a
    building outside every township keeps the surveyed name or ``未知``.
    """
    out = buildings.copy()
    surveyed = out["township"].where(out["township"].notna(), None)
    source = pd.Series("survey", index=out.index, dtype=object)
    if townships is None:
        out["township"] = surveyed.fillna("未知")
        out["township_source"] = source.where(surveyed.notna(), "none")
        return out
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

    matched = surveyed.map(match)
    points = gpd.GeoSeries(out.geometry.representative_point(), index=out.index, crs=out.crs)
    polygons = gpd.GeoDataFrame(
        {"located": names}, geometry=townships.to_crs(out.crs).geometry.to_numpy(), crs=out.crs
    )
    located = gpd.sjoin(gpd.GeoDataFrame(geometry=points), polygons, how="left", predicate="within")
    located = located[~located.index.duplicated(keep="first")]["located"]
    use_location = matched.isna() & located.notna()
    out["township"] = matched.where(matched.notna(), located)
    source[use_location] = "location"
    outside = out["township"].isna()
    out.loc[outside, "township"] = surveyed[outside].fillna("未知")
    source[outside] = "outside"
    out["township_source"] = source
    return out
