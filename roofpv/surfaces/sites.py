"""Where PV can go beyond roofs: which outlines are surfaces, of what type, and the open
ground of each once the building footprints on it are taken out.

An outline's type comes from the config (one ``type`` for a layer, or a ``type_column``
whose values may be English codes or Chinese words, :data:`roofpv.schema.SURFACE_TYPE_ALIASES`),
or from OpenStreetMap tags as an OSM export or vector tiles carry them:

=============================================  ============  ==========================
tag                                            type          note
=============================================  ============  ==========================
``amenity=parking``                            carport       not ``parking=multi-storey``,
                                                             ``underground`` or ``rooftop``
``man_made=wastewater_plant``                  tank_cover    the whole plant site: the rule's
                                                             ``site_share`` is its tanks
``building=greenhouse``,
``landuse=greenhouse_horticulture``            greenhouse
``landuse=farmyard``                           rural_yard
=============================================  ============  ==========================

Vector tiles (Tilezen/Nextzen, as web maps deliver OSM) name the same features in one
``kind`` column (``parking``, ``wastewater_plant``, ``greenhouse_horticulture``,
``farmyard``). Pieces of one feature cut at tile edges share its id and are merged.

A roof counts as a roof: the footprints lying on a surface are cut out of it
(:func:`open_ground`), so a parking lot drawn around a building, or a farmyard around
the farmhouse, counts only its open ground, and no square metre is counted twice.
"""

from __future__ import annotations

import difflib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.config import SurfaceLayer
from roofpv.errors import InputError
from roofpv.findings import Finding
from roofpv.schema import SURFACE_TYPE_ALIASES, value_key

#: Columns of the surfaces read (:func:`recognise`); ``whole_site``: the outline is a
#: whole site (a wastewater plant) of which the rule's ``site_share`` is the surface.
SITE_COLUMNS = ("surface_id", "surface_type", "surface_source", "name", "township", "whole_site", "geometry")
#: OSM tags of surfaces, in order of precedence: (key, value, type, whole site).
TAGS = (
    ("amenity", "parking", "carport", False),
    ("man_made", "wastewater_plant", "tank_cover", True),
    ("building", "greenhouse", "greenhouse", False),
    ("landuse", "greenhouse_horticulture", "greenhouse", False),
    ("landuse", "farmyard", "rural_yard", False),
)
#: Vector tiles' ``kind`` values of the same features: kind → (type, whole site).
KINDS = {"parking": ("carport", False), "wastewater_plant": ("tank_cover", True),
         "greenhouse": ("greenhouse", False), "greenhouse_horticulture": ("greenhouse", False),
         "farmyard": ("rural_yard", False)}
#: ``parking=*`` values of car parks with no open surface to roof over (a multi-storey
#: car park's roof is a building roof).
CLOSED_PARKING = ("multi-storey", "underground", "rooftop")
#: Type-column words that name a whole wastewater plant site rather than its tanks.
PLANT_WORDS = {value_key(w) for w in ("wastewater_plant", "wastewater plant", "污水处理厂", "污水处理设施")}
#: Type-column word → type.
TYPE_LOOKUP = {value_key(w): t for t, words in SURFACE_TYPE_ALIASES.items() for w in words}
#: Names of a township column in a surface layer.
TOWNSHIP_COLUMNS = ("township", "镇街道")
#: A surface whose open ground is below this share of its outline lies on buildings.
COVERED_SHARE = 0.01


def no_sites(crs) -> gpd.GeoDataFrame:
    """An empty table of surfaces."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in SITE_COLUMNS if c != "geometry"})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _types_from_column(raw: pd.DataFrame, column: str, file: str, ids: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, list[Finding]]:
    findings = []
    keys = raw[column].map(lambda v: value_key(v) if pd.notna(v) and str(v).strip() else "")
    types = keys.map(TYPE_LOOKUP).to_numpy(dtype=object)
    for n in np.flatnonzero(pd.isna(types)):
        value = raw[column].iloc[n]
        close = difflib.get_close_matches(keys.iloc[n], list(TYPE_LOOKUP), n=1, cutoff=0.3)
        hint = f" (nearest known: {TYPE_LOOKUP[close[0]]})" if close else ""
        findings.append(Finding(
            "warning", file, n + 1, ids[n], column, None if pd.isna(value) else str(value),
            f"not a surface type{hint}; the outline is left out",
            "write carport, corridor, tank_cover, greenhouse or rural_yard (or 车棚, 连廊, 污水处理池, 大棚, 院落)"))
    whole = keys.isin(PLANT_WORDS).to_numpy()
    return types, whole, findings


def _types_from_tags(raw: pd.DataFrame, file: str, spec_hint: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Finding]]:
    tagged = [k for k in ("amenity", "man_made", "building", "landuse", "kind") if k in raw.columns]
    if not tagged:
        raise InputError(f"{file}: surface layer has no type: no OSM tag column (amenity, man_made, building, "
                         f"landuse, kind) and no type given; set {spec_hint}.type (one type for the layer) or "
                         f"{spec_hint}.type_column (the column naming each outline's type)")
    n = len(raw)
    types = np.full(n, None, dtype=object)
    source = np.full(n, None, dtype=object)
    whole = np.zeros(n, dtype=bool)
    for key, value, kind, site in TAGS:
        if key not in raw.columns:
            continue
        hit = pd.isna(types) & (raw[key].astype(str).str.strip() == value).to_numpy()
        types[hit], source[hit], whole[hit] = kind, f"{key}={value}", site
    if "kind" in raw.columns:
        kinds = raw["kind"].astype(str).str.strip()
        for value, (kind, site) in KINDS.items():
            hit = pd.isna(types) & (kinds == value).to_numpy()
            types[hit], source[hit], whole[hit] = kind, f"kind={value}", site
    findings = []
    other = int(pd.isna(types).sum())
    if "parking" in raw.columns:
        closed = (types == "carport") & raw["parking"].isin(CLOSED_PARKING).to_numpy()
        if closed.any():
            types[closed] = None
            findings.append(Finding(
                "info", file, int(np.flatnonzero(closed)[0]) + 1, None, "parking", None,
                f"{int(closed.sum())} car parks are multi-storey, underground or on a roof: no open surface "
                "to cover; left out (a multi-storey car park's roof counts as a building roof)", "nothing to do"))
    if other:
        findings.append(Finding(
            "info", file, None, None, ", ".join(tagged), None,
            f"{other} of {n} features carry no tag of a surface (amenity=parking, man_made=wastewater_plant, "
            "building=greenhouse, landuse=greenhouse_horticulture, landuse=farmyard); left out",
            "nothing to do; give the layer a type or type_column to use other outlines"))
    return types, source, whole, findings


def recognise(raw: gpd.GeoDataFrame, spec: SurfaceLayer, file: str, spec_hint: str = "surfaces.layers[i]"
              ) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The surfaces of one layer read as it came (``raw``: its columns and polygons):
    one row per surface with :data:`SITE_COLUMNS`, in the layer's CRS, and the findings.

    Ids come from ``spec.id_column``, else an OSM ``id`` column when the types come from
    tags, else ``<file stem>#<feature number>``; outlines sharing an id and a type (pieces
    of one feature cut at tile edges) are merged. Outlines that are not polygons, or
    not surfaces, are left out and reported.
    """
    findings: list[Finding] = []
    stem = file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    feature = np.arange(1, len(raw) + 1)
    if spec.id_column is not None:
        if spec.id_column not in raw.columns:
            raise InputError(f"{file}: surface layer has no id column {spec.id_column!r}; columns are "
                             f"{list(raw.columns.drop('geometry'))}. Set {spec_hint}.id_column")
        ids = raw[spec.id_column].to_numpy(dtype=object)
    elif spec.type is None and spec.type_column is None and "id" in raw.columns:
        ids = raw["id"].to_numpy(dtype=object)
    else:
        ids = np.full(len(raw), None, dtype=object)
    ids = np.array([f"{stem}#{n}" if pd.isna(i) or not str(i).strip() else str(i).strip().removesuffix(".0")
                    for i, n in zip(ids, feature)], dtype=object)

    if spec.type is not None:
        types = np.full(len(raw), spec.type, dtype=object)
        source = np.full(len(raw), "layer type", dtype=object)
        whole = np.zeros(len(raw), dtype=bool)
    elif spec.type_column is not None:
        if spec.type_column not in raw.columns:
            raise InputError(f"{file}: surface layer has no type column {spec.type_column!r}; columns are "
                             f"{list(raw.columns.drop('geometry'))}. Set {spec_hint}.type_column")
        types, whole, found = _types_from_column(raw, spec.type_column, file, ids)
        source = np.full(len(raw), f"{spec.type_column} column", dtype=object)
        findings += found
    else:
        types, source, whole, found = _types_from_tags(raw, file, spec_hint)
        findings += found

    geometry = raw.geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(geometry), (3, 6)) & ~shapely.is_empty(geometry)
    dropped = ~polygonal & ~pd.isna(types)
    if dropped.any():
        findings.append(Finding(
            "warning", file, int(feature[dropped][0]), str(ids[dropped][0]), "geometry", None,
            f"{int(dropped.sum())} surfaces are points, lines or empty, not outlines; left out",
            "draw the surfaces as polygons"))
    keep = polygonal & ~pd.isna(types)
    invalid = keep & ~shapely.is_valid(geometry)
    if invalid.any():
        geometry = geometry.copy()
        geometry[invalid] = shapely.make_valid(geometry[invalid])
        findings.append(Finding(
            "warning", file, int(feature[invalid][0]), str(ids[invalid][0]), "geometry", None,
            f"{int(invalid.sum())} surface outlines are invalid (self-intersecting); repaired", "check them in QGIS"))
    names = raw["name"].to_numpy(dtype=object) if "name" in raw.columns else np.full(len(raw), None, dtype=object)
    column = next((c for c in TOWNSHIP_COLUMNS if c in raw.columns), None)
    township = raw[column].to_numpy(dtype=object) if column else np.full(len(raw), None, dtype=object)
    frame = gpd.GeoDataFrame({
        "surface_id": ids[keep], "surface_type": types[keep], "surface_source": source[keep],
        "name": names[keep], "township": township[keep], "whole_site": whole[keep],
    }, geometry=gpd.GeoSeries(geometry[keep], crs=raw.crs), crs=raw.crs)
    repeated = frame.duplicated(["surface_id", "surface_type"], keep=False)
    if repeated.any():
        findings.append(Finding(
            "info", file, None, str(frame.loc[repeated, "surface_id"].iloc[0]), "id", None,
            f"{int(repeated.sum())} outlines share the id of another of the same type (pieces of one feature cut "
            f"at tile edges); merged into {frame.loc[repeated, 'surface_id'].nunique()} surfaces", "nothing to do"))
        frame = frame.dissolve(by=["surface_id", "surface_type"], sort=False, aggfunc="first").reset_index()
    return frame[list(SITE_COLUMNS)], findings


#: Surfaces farther than this from the footprints' extent are not the jurisdiction's, m.
FAR_M = 20_000.0


def near_buildings(surfaces: gpd.GeoDataFrame, footprints: gpd.GeoSeries | None, file: str = "surfaces"
                   ) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """``surfaces`` less those lying more than :data:`FAR_M` outside the footprints'
    extent (a layer of another place, e.g. inherited through ``extends:``), reported."""
    if footprints is None or not len(footprints) or not len(surfaces):
        return surfaces, []
    x0, y0, x1, y1 = footprints.total_bounds
    points = shapely.get_coordinates(shapely.point_on_surface(surfaces.geometry.to_numpy()))
    dx = np.maximum.reduce([x0 - points[:, 0], points[:, 0] - x1, np.zeros(len(points))])
    dy = np.maximum.reduce([y0 - points[:, 1], points[:, 1] - y1, np.zeros(len(points))])
    far = np.hypot(dx, dy) > FAR_M
    if not far.any():
        return surfaces, []
    km = float(np.hypot(dx, dy)[far].min()) / 1000.0
    return surfaces[~far], [Finding(
        "warning", file, None, str(surfaces["surface_id"].iloc[int(np.flatnonzero(far)[0])]), "geometry", None,
        f"{int(far.sum())} surfaces lie {km:,.0f} km or more from the buildings; left out",
        "check the CRS of the surface layers, or set surfaces.layers for this place (a config that extends "
        "another inherits its layers; `layers: []` for none)")]


def open_ground(surfaces: gpd.GeoDataFrame, footprints: gpd.GeoSeries | None, file: str = "surfaces"
                ) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """``surfaces`` with ``area_m2`` (the outline's plan area) and their geometry cut to
    the open ground: the outline less every building footprint on it, whose roof
    counts as a roof; ``open_area_m2`` its area. Both in the same projected CRS (m).
    A surface lying on buildings (open ground below 1 % of the outline) is reported."""
    geometry = surfaces.geometry.to_numpy()
    area = shapely.area(geometry)
    opened = geometry.copy()
    findings = []
    if footprints is not None and len(footprints) and len(surfaces):
        parts, owner = shapely.get_parts(footprints.to_numpy(), return_index=True)
        parts = shapely.make_valid(parts)
        left, right = shapely.STRtree(parts).query(geometry, predicate="intersects")
        if len(left):
            hit, group = np.unique(left, return_inverse=True)
            order = np.argsort(group, kind="stable")
            bounds = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0, True])
            # one footprint on a surface (the common case) is its cover as it is; several are
            # unioned first (they may overlap)
            covers = parts[right[order][bounds[:-1]]].copy()
            for k in np.flatnonzero(np.diff(bounds) > 1):
                covers[k] = shapely.union_all(parts[right[order][bounds[k]:bounds[k + 1]]])
            opened[hit] = shapely.difference(geometry[hit], covers)
            ids = footprints.index.to_numpy(dtype=object)
            covered = hit[shapely.area(opened[hit]) < COVERED_SHARE * area[hit]]
            for i in covered:
                under = ids[np.unique(owner[right[left == i]])]
                findings.append(Finding(
                    "info", file, None, str(surfaces["surface_id"].iloc[i]), "geometry", None,
                    f"the {surfaces['surface_type'].iloc[i]} lies on building footprint(s) "
                    f"{', '.join(map(str, under[:5]))}: its roof counts as a roof, not as a surface",
                    "nothing to do"))
    out = surfaces.assign(area_m2=area, open_area_m2=shapely.area(opened))
    return out.set_geometry(gpd.GeoSeries(opened, index=surfaces.index, crs=surfaces.crs)), findings


def in_townships(surfaces: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame | None, file: str = "surfaces"
                 ) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The township of each surface: the township polygon holding its outline's
    representative point, else the layer's township column, else ``未知`` (reported)."""
    township = surfaces["township"].astype(object).where(surfaces["township"].notna(), None)
    if polygons is not None and len(surfaces):
        points = shapely.point_on_surface(surfaces.geometry.to_numpy())
        inside, polygon = shapely.STRtree(polygons.geometry.to_numpy()).query(points, predicate="within")
        first = np.unique(inside, return_index=True)[1]
        located = np.full(len(surfaces), None, dtype=object)
        located[inside[first]] = polygons.index.to_numpy(dtype=object)[polygon[first]]
        township = pd.Series(np.where(pd.isna(located), township.to_numpy(dtype=object), located),
                             index=surfaces.index, dtype=object)
    outside = township.isna()
    findings = []
    if outside.any():
        findings.append(Finding(
            "warning", file, None, str(surfaces.loc[outside, "surface_id"].iloc[0]), "township", None,
            f"{int(outside.sum())} surfaces lie outside every township; counted under 未知 and in the whole city",
            "check the surfaces' CRS, or extend the township layer"))
    return surfaces.assign(township=township.fillna("未知").to_numpy(dtype=object)), findings
