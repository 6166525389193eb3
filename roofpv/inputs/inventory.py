"""The buildings table: footprints joined to the survey, projected, placed in townships.

One row per input footprint, always: a footprint without a survey row keeps its
place with blank survey columns; a survey row without a footprint is reported.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.findings import Finding
from roofpv.inputs.webmap import Datum, unshift
from roofpv.schema import header_key, value_key


def join_survey(
    footprints: gpd.GeoDataFrame, survey: pd.DataFrame, survey_source: str | None,
    footprints_source: str = "footprints",
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Left-join survey columns onto footprints by ``building_id``.

    Adds ``has_survey`` (bool). Survey ids with no footprint become findings; so do
    footprints without a survey row, or, with no survey at all (``survey_source`` None),
    one note.
    """
    buildings = footprints.join(survey, how="left")
    buildings["has_survey"] = survey.index.get_indexer(buildings.index) >= 0  # ids are unique
    findings = survey_orphans(footprints.index, survey.index, survey_source, footprints_source)
    if survey_source is None:
        return buildings, findings
    findings += [
        Finding("warning", footprints_source, None, bid, "building_id", bid,
                "footprint has no survey row; assessed with default values",
                "add the building to the survey workbook")
        for bid in buildings.index[~buildings["has_survey"]]
    ]
    return buildings, findings


def survey_orphans(footprint_ids: pd.Index, survey_ids: pd.Index, survey_source: str | None,
                   footprints_source: str = "footprints") -> list[Finding]:
    """The findings of :func:`join_survey` that need every id: survey rows without a
    footprint, or, with no survey at all (``survey_source`` None), one note."""
    if survey_source is None:
        return [Finding(
            "info", footprints_source, None, None, None, None,
            f"no survey: all {len(footprint_ids):,} buildings assessed with defaults by category "
            "(*_source = default) and the footprint layer's own attributes",
            "give inputs.survey for roof type, load, shading and grid per building")]
    return [
        Finding("warning", survey_source, None, bid, "building_id", bid,
                "survey row has no footprint and is not assessed",
                "add the footprint or correct 建筑编号")
        for bid in survey_ids.difference(footprint_ids)
    ]


#: Footprints smaller than this (m²) are reported as likely digitising slips.
TINY_M2 = 5.0


def to_analysis_crs(
    frame: gpd.GeoDataFrame, crs, source: str = "footprints", datum: Datum | None = None
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Reproject to the analysis CRS, repair what is safe and mark unusable geometries.

    Footprints digitised on a web map (``datum``, :mod:`roofpv.inputs.webmap`) are first moved
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
    # GEOS's repair of a ring that touches itself can leave parts sharing an edge: once more.
    again = invalid & ~shapely.is_valid(repaired)
    repaired[again] = shapely.make_valid(repaired[again], method="structure", keep_collapsed=False)
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
    # Only buildings whose surveyed name matches no township are located.
    unmatched = out.geometry[matched.isna()]
    points = gpd.GeoSeries(unmatched.representative_point(), index=unmatched.index, crs=out.crs)
    polygons = gpd.GeoDataFrame(
        {"located": names}, geometry=townships.to_crs(out.crs).geometry.to_numpy(), crs=out.crs
    )
    located = gpd.sjoin(gpd.GeoDataFrame(geometry=points), polygons, how="left", predicate="within")
    located = located[~located.index.duplicated(keep="first")]["located"].reindex(out.index)
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



#: A footprint lying at least this share inside a larger one is a building part or a
#: duplicate of it: it is counted once, with the larger footprint.
CONTAINED_SHARE = 0.5
#: Overlaps smaller than this (m²) or this share of the smaller footprint are slivers
#: of shared walls and digitising noise, not overlaps.
OVERLAP_MIN_M2 = 1.0
OVERLAP_MIN_SHARE = 0.01


def resolve_overlaps(
    buildings: gpd.GeoDataFrame, source: str = "footprints"
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Count overlapping footprints once, adding ``overlap_of`` and ``overlap_share``.

    Each pair of usable footprints (projected, ``geometry_valid``) is compared; the smaller
    of a pair is the one that gives way. A footprint lying at least :data:`CONTAINED_SHARE`
    inside a larger one (an OSM ``building:part`` inside its outline, a duplicate) gets
    ``overlap_of`` = that footprint's id (of several, the one covering it most, then the
    largest, then the first in the layer — never the spatial index's order, so a partition
    that reads its neighbours decides as one piece does): its roof is the larger one's and
    it is assessed with no area of its own (reason ``footprint_overlap``). A smaller share is cut from
    the smaller footprint, so the shared area is counted once, with the larger.
    ``overlap_share`` is the share of the footprint lying in its container, or cut off.
    """
    out = buildings.copy()
    geom = out.geometry.to_numpy()
    n = len(out)
    out["overlap_of"] = pd.Series(None, index=out.index, dtype=object)
    out["overlap_share"] = 0.0
    valid = np.flatnonzero(out["geometry_valid"].to_numpy(bool))
    if valid.size < 2:
        return out, []
    tree = shapely.STRtree(geom[valid])
    i, j = tree.query(geom[valid], predicate="intersects")
    # Pairs in the layer's order, not the tree's: the tree's depends on which footprints
    # were read, so ties (a feature present twice) would be broken differently per partition.
    pairs = np.lexsort((j, i))
    i, j = valid[i[pairs]], valid[j[pairs]]
    area = shapely.area(geom)
    bounds = shapely.bounds(geom)
    # The smaller footprint gives way; of equal ones the later in the file.
    gives = (area[i] < area[j]) | ((area[i] == area[j]) & (i > j))
    i, j = i[gives], j[gives]
    # Bounding boxes bound the shared area: pairs that only touch (shared walls) drop out
    # before any intersection is computed.
    lo = np.maximum(bounds[i, :2], bounds[j, :2])
    hi = np.minimum(bounds[i, 2:], bounds[j, 2:])
    box_shared = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    near = (box_shared >= OVERLAP_MIN_M2) & (box_shared >= OVERLAP_MIN_SHARE * area[i])
    i, j = i[near], j[near]
    shared = shapely.area(shapely.intersection(geom[i], geom[j]))
    share = shared / area[i]
    real = (shared >= OVERLAP_MIN_M2) & (share >= OVERLAP_MIN_SHARE)
    i, j, shared, share = i[real], j[real], shared[real], share[real]
    if i.size == 0:
        return out, []
    ids = out.index.to_numpy()
    findings = []
    # Contained: the container covering it most (then the largest, then the first in the
    # layer) takes it.
    contained = share >= CONTAINED_SHARE
    order = np.lexsort((j, -area[j], -share, i))
    first = order[np.r_[True, i[order][1:] != i[order][:-1]]]
    first = first[contained[first]]
    part_of = np.full(n, -1)
    part_of[i[first]] = j[first]
    out.iloc[i[first], out.columns.get_loc("overlap_of")] = ids[j[first]]
    findings += [
        Finding("warning", source, None, ids[a], "geometry", f"{ids[b]} ({s:.0%})",
                "footprint lies inside a larger one (value: its id and the share inside) — a "
                "building part or a duplicate; its roof is counted once, with the larger one",
                "nothing to do for a building part; delete a duplicate")
        for a, b, s in zip(i[first], j[first], share[first])
    ]
    # Partial: cut from footprints not taken whole, against footprints that stay.
    cut = (part_of[i] < 0) & (part_of[j] < 0) & ~contained
    if cut.any():
        pieces = gpd.GeoDataFrame({"k": i[cut]}, geometry=geom[j[cut]]).dissolve("k")
        k = pieces.index.to_numpy()
        remaining = shapely.difference(geom[k], pieces.geometry.to_numpy())
        keep = np.isin(shapely.get_type_id(remaining), (3, 6)) & (shapely.area(remaining) > 0)
        new = geom.copy()
        new[k[keep]] = remaining[keep]
        out = out.set_geometry(gpd.GeoSeries(new, index=out.index, crs=out.crs))
        overlap = area[k] - shapely.area(new[k])
        out.iloc[k, out.columns.get_loc("overlap_share")] = overlap / area[k]
        others = pd.Series(ids[j[cut]], index=i[cut]).groupby(level=0).agg("、".join)
        findings += [
            Finding("info", source, None, ids[a], "geometry",
                    f"{others[a]}: {m2:.0f} m² ({m2 / area[a]:.0%})",
                    "footprint overlaps larger ones (value: their ids and the area shared); the "
                    "shared area is counted once, with the larger footprint",
                    "check the outlines if they should not overlap")
            for a, m2 in zip(k, overlap)
        ]
    out.iloc[i[first], out.columns.get_loc("overlap_share")] = share[first]
    return out, findings


#: Footprint-layer columns that carry building attributes, compared after
#: :func:`roofpv.schema.header_key` (case, spaces, ``_``, units in brackets ignored: ``height_m``,
#: ``Height (m)`` and ``高度(米)`` all match): OSM tags (``building``, ``building:levels``,
#: ``height``), their vector-tile names (``kind_detail``, ``building_levels``), GIS exports
#: (``height_m``, ``floors``) and common Chinese headers.
ATTRIBUTE_COLUMNS = {
    "building_type": ("building", "kind_detail", "building_type", "建筑类型", "类型", "用途"),
    "levels": ("building:levels", "building_levels", "levels", "floors", "storeys", "stories",
               "num_floors", "floor_count", "层数", "建筑层数", "楼层数", "地上层数"),
    "height_m": ("height", "height_m", "building_height", "bldg_height", "高度", "建筑高度", "楼高"),
    "name": ("name", "名称", "建筑名称"),
}
#: OSM ``building=*`` values by roofpv category (values not listed stay unknown).
OSM_CATEGORIES = {
    "factory": ("industrial", "warehouse", "manufacture", "factory", "hangar", "storage_tank",
                "厂房", "仓库", "工业"),
    "commercial": ("commercial", "retail", "office", "mall", "hotel", "supermarket", "kiosk",
                   "shop", "商业", "办公"),
    "urban_residential": ("apartments", "residential", "dormitory", "terrace", "住宅"),
    "rural_residential": ("house", "detached", "semidetached_house", "farm", "bungalow", "hut"),
    "public_institution": ("school", "university", "college", "kindergarten", "hospital",
                           "public", "civic", "library", "museum", "train_station",
                           "transportation", "sports_hall", "学校", "医院"),
    "party_gov": ("government", "政府"),
}
_CATEGORY_OF = {value: category for category, values in OSM_CATEGORIES.items() for value in values}


def footprint_attributes(frame: pd.DataFrame, storey_height_m: float = 3.0) -> pd.DataFrame:
    """Survey columns read from the footprint layer's own attributes.

    Returns ``name``, ``category`` (from the building type, e.g. OSM
    ``building=industrial`` → ``factory``) and ``floors`` (levels, else height [m] ÷
    ``storey_height_m``, rounded, at least 1), NaN where the layer says nothing, plus
    ``floors_from``: the layer's column the floors were read from (e.g.
    ``building:levels``, ``height_m``), None where none — indexed like ``frame``.
    """
    keys = {header_key(c): c for c in reversed(frame.columns)}  # the first of equal keys wins

    def found(key):
        return next((keys[header_key(a)] for a in ATTRIBUTE_COLUMNS[key] if header_key(a) in keys), None)

    def column(name):
        return frame[name] if name is not None else pd.Series(np.nan, index=frame.index)

    def number(values):
        text = values.astype("string").str.extract(r"(-?\d+(?:\.\d+)?)", expand=False)
        return pd.to_numeric(text, errors="coerce").where(lambda v: v > 0)

    levels_col, height_col = found("levels"), found("height_m")
    kind = column(found("building_type")).astype("string").str.strip().str.lower()
    levels = number(column(levels_col)).round()
    from_height = (number(column(height_col)) / storey_height_m).round().clip(lower=1)
    floors = levels.fillna(from_height)
    source = np.where(levels.notna(), levels_col, np.where(from_height.notna(), height_col, None))
    name = column(found("name")).astype("string").str.strip().replace("", pd.NA)
    return pd.DataFrame({
        "name": name.astype(object).where(name.notna(), None),
        "category": kind.map(_CATEGORY_OF).astype(object),
        "floors": floors.astype(float),
        "floors_from": source,
    }, index=frame.index)


def fill_from_footprints(
    buildings: pd.DataFrame, attributes: pd.DataFrame
) -> pd.DataFrame:
    """Blank survey cells of ``name``, ``category`` and ``floors`` filled from the
    footprint layer; adds ``category_source`` (``survey``, ``footprints`` or ``default``)
    and ``floors_source`` (``survey``, ``footprints:<column>`` naming the layer's column
    the floors come from, e.g. ``footprints:height_m``, or ``default``)."""
    out = buildings.copy()
    attributes = attributes.reindex(out.index)
    for column in ("category", "floors"):
        surveyed = out[column].notna()
        out[column] = out[column].where(surveyed, attributes[column])
        from_layer = ("footprints:" + attributes["floors_from"].astype("string")).fillna("footprints")
        out[f"{column}_source"] = np.where(
            surveyed, "survey", np.where(out[column].notna(),
                                         from_layer if column == "floors" else "footprints", "default"))
    out["name"] = out["name"].where(out["name"].notna(), attributes["name"])
    return out


def place(buildings: gpd.GeoDataFrame, attributes: pd.DataFrame, crs, source: str = "footprints",
          datum: Datum | None = None) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The joined buildings as every later step sees them: blank cells filled from the
    footprint layer's ``attributes`` (:func:`fill_from_footprints`), projected to the
    analysis ``crs`` (:func:`to_analysis_crs`) and overlapping footprints counted once
    (:func:`resolve_overlaps`)."""
    b, findings = to_analysis_crs(fill_from_footprints(buildings, attributes), crs, source, datum)
    b, found = resolve_overlaps(b, source)
    return b, findings + found
