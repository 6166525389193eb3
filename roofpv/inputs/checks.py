"""Checks of the inputs against each other, before any modelling: the DSM tiles
(readable, with a CRS, covering the footprints) and the footprints' datum (offsets of
footprints digitised on Chinese web maps). Reads tiles; the scoring is pure
(:mod:`roofpv.inputs.webmap`, :mod:`roofpv.inputs.dsm_coverage`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio.crs import CRS

from roofpv.config import Config
from roofpv.errors import PointCloudError, TileError
from roofpv.findings import Finding
from roofpv.inputs import ids, webmap
from roofpv.inputs.dsm_coverage import coverage_findings, extent_share, roof_coverage
from roofpv.io import point_cloud, readers, tiles
from roofpv.roofs import dsm, layout


def open_tiles(config: Config, crs: str) -> tuple[tiles.Mosaic | None, tiles.Mosaic | None, list[Finding]]:
    """The DSM and DEM mosaics of the config (None when not configured or without a
    single usable tile) and a finding per tile left out or folder without tiles."""
    out, findings = [], []
    try:
        c = point_cloud.resolve(config.dsm)
    except PointCloudError as exc:
        return None, None, [Finding("error", str(config.dsm.tiles), None, None, "DSM", None, str(exc),
                                    "fix the point cloud as the message says, or point dsm.tiles "
                                    "at a folder of GeoTIFF tiles")]
    for what, folder, pattern in (("DSM", c.tiles, c.tiles_pattern), ("DEM", c.dem, "*.tif")):
        if folder is None:
            out.append(None)
            continue
        try:
            mosaic = tiles.open_mosaic(folder, crs, pattern)
        except TileError as exc:
            findings.append(Finding(
                "error", str(folder), None, None, what, None, str(exc).removeprefix(f"{folder}: "),
                f"point dsm.{'tiles' if what == 'DSM' else 'dem'} at the folder of GeoTIFF tiles"))
            out.append(None)
            continue
        findings += [
            Finding("error", path, None, None, what, None,
                    f"{what} tile left out ({reason}); roofs over it keep the survey's roof geometry",
                    "assign the tile's CRS (e.g. gdal_edit -a_srs EPSG:4549 tile.tif)" if "CRS" in reason
                    else "replace the file with a complete GeoTIFF (gdalinfo -checksum finds damage)")
            for path, reason in mosaic.skipped
        ]
        out.append(mosaic if mosaic.paths else None)
    return out[0], out[1], findings


def grid_findings(config: Config, crs: str, mosaic: tiles.Mosaic | None,
                  dem: tiles.Mosaic | None) -> list[Finding]:
    """How the DSM, DEM and canopy tiles meet: a DSM resampled to another CRS (it loses
    ridges and eaves), DEM or canopy tiles off the DSM's grid (resampled onto it, said
    once per folder), and a DEM or canopy that covers only part of the DSM."""
    c = config.dsm
    if mosaic is None:
        return []
    target = CRS.from_user_input(crs)
    found = []
    moved = [g for g in tiles.tile_grids(c.tiles, c.tiles_pattern) if CRS.from_wkt(g.crs) != target]
    if moved:
        g = moved[0]
        name = CRS.from_wkt(g.crs).to_string()
        found.append(Finding(
            "warning", g.path, None, None, "DSM", name,
            f"{len(moved)} DSM tile(s) in {name}{'' if g.metric else ' (not in ground metres)'} are resampled to "
            f"the analysis CRS {crs}; resampling smooths ridges and eaves and costs measured planes",
            "leave crs: null to analyse a metric DSM in its own CRS" if g.metric else
            "reproject the tiles to a projected CRS in ground metres, e.g. the UTM or Gauss-Krüger "
            "zone (gdalwarp -t_srs EPSG:… -r bilinear); Web Mercator's metres are not"))
    extent = shapely.union_all(shapely.box(*mosaic.bounds.T))
    for what, folder, pattern, m in (("DEM", c.dem, "*.tif", dem), ("canopy", c.canopy, c.tiles_pattern, None)):
        if folder is None:
            continue
        if m is None:
            try:
                m = tiles.open_mosaic(folder, crs, pattern)
            except tiles.TileError as exc:
                found.append(Finding("error", str(folder), None, None, what, None, str(exc),
                                     f"point dsm.{what.lower()} at the folder of GeoTIFF tiles"))
                continue
        off = [g for g in tiles.tile_grids(folder, pattern)
               if CRS.from_wkt(g.crs) != target or abs(g.res - mosaic.res) > 1e-6 * mosaic.res
               or any(abs(d / mosaic.res - round(d / mosaic.res)) > 1e-3
                      for d in (g.origin[0] - mosaic.origin[0], g.origin[1] - mosaic.origin[1]))]
        if off:
            g = off[0]
            found.append(Finding(
                "info", str(folder), None, None, what, f"{CRS.from_wkt(g.crs).to_string()}, {g.res:g} m",
                f"{len(off)} {what} tile(s) are not on the DSM's grid ({target.to_string()}, "
                f"{mosaic.res:g} m): resampled onto the DSM's grid, window by window", "nothing to do"))
        share = (shapely.area(shapely.intersection(extent, shapely.union_all(shapely.box(*m.bounds.T))))
                 / shapely.area(extent)) if len(m.bounds) else 0.0
        if share < 0.99:
            found.append(Finding(
                "warning" if share < 0.5 else "info", str(folder), None, None, what, f"{share:.0%}",
                f"the {what} tiles cover {share:.0%} of the DSM's extent; "
                + ("roofs outside them take their ground from a ring around the footprint" if what == "DEM"
                   else "trees outside them are not known (they neither shade roofs nor hide them)"),
                f"check dsm.{what.lower()} and its CRS against the DSM (e.g. load both in QGIS)"))
    return found


#: Footprints measured by :func:`standing_check` (evenly spaced through the file).
STANDING_SAMPLE = 300


def standing_check(buildings: gpd.GeoDataFrame, mosaic: tiles.Mosaic | None,
                   dem: tiles.Mosaic | None, config: Config) -> list[Finding]:
    """Measure up to :data:`STANDING_SAMPLE` footprints on the DSM and warn when most
    show nothing standing, with the likely cause (:func:`roofpv.roofs.dsm.standing_findings`):
    the check that catches a terrain model given as DSM or footprints off the DSM before
    a survey marks every roof unsuitable."""
    if mosaic is None:
        return []
    valid = buildings.geometry[buildings["geometry_valid"]]
    on = np.unique(shapely.STRtree(shapely.box(*mosaic.bounds.T)).query(valid.to_numpy(), predicate="within")[0])
    if on.size == 0:
        return []
    pick = on[np.unique(np.linspace(0, on.size - 1, min(on.size, STANDING_SAMPLE)).round().astype(np.intp))]
    sample = valid.iloc[pick]
    everything, tree = valid.to_numpy(), shapely.STRtree(valid.to_numpy())
    parts = []
    for pos, grid, ground, _ in tiles.windows(mosaic, sample.to_numpy(), dsm.halo_m(config.dsm) + 2 * mosaic.res,
                                              config.dsm.block_m, dem):
        near = everything[tree.query(shapely.box(*grid.bounds))]
        parts.append(dsm.roof_geometry(grid, sample.iloc[pos], config.dsm, ground, None, near)[0])
    return dsm.standing_findings(pd.concat(parts), str(config.dsm.tiles)) if parts else []


def _polygonal(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    g = geometry.to_numpy()
    keep = shapely.is_valid(g) & ~shapely.is_empty(g) & np.isin(shapely.get_type_id(g), (3, 6))
    return geometry[keep]


#: Footprints tested against the DSM per datum, and the square they are taken from [m].
SAMPLE = 150
SAMPLE_BLOCK_M = 500.0
#: Footprints located in the townships per datum: at most this many, evenly spaced
#: through the file.
TOWNSHIP_SAMPLE = 4000


def _read_in(geometry: gpd.GeoSeries, datum, crs: str) -> gpd.GeoSeries:
    """``geometry`` (in its own CRS) placed where its coordinates point when read in
    ``datum`` (:mod:`roofpv.inputs.webmap`; ``None``: as declared), in ``crs``. Reprojected by
    geopandas, whose transformers are built once per CRS pair (~60 ms each)."""
    if datum is None:
        return geometry.to_crs(crs)
    lonlat = geometry.to_crs("EPSG:4326")
    moved = shapely.transform(lonlat.to_numpy(),
                              lambda xy: np.column_stack(webmap.to_wgs84(xy[:, 0], xy[:, 1], datum)))
    return gpd.GeoSeries(moved, index=geometry.index, crs="EPSG:4326").to_crs(crs)


def _anchors(footprints: gpd.GeoSeries, crs: str, datums=webmap.CANDIDATES) -> dict:
    """A point on the surface of each footprint, in ``crs``, where it lies when the
    footprints' coordinates are read in each of ``datums`` (``None``: as declared).

    The web-map offsets vary by well under a millimetre across a building, so moving
    one point per footprint places it as moving the outline would."""
    points = gpd.GeoSeries(shapely.point_on_surface(footprints.to_numpy()), crs=footprints.crs)
    return {d: _read_in(points, d, crs).to_numpy() for d in datums}


def township_sample(n: int) -> np.ndarray:
    """Positions of the footprints :func:`datum_check` locates in the townships: at most
    :data:`TOWNSHIP_SAMPLE` of ``n``, evenly spaced."""
    return np.unique(np.linspace(0, n - 1, min(n, TOWNSHIP_SAMPLE)).round().astype(np.intp))


def datum_check(config: Config, raw: gpd.GeoSeries, polygons: gpd.GeoDataFrame | None,
                mosaic: tiles.Mosaic | None, crs: str, *,
                sampled: tuple[int, int, np.ndarray] | None = None) -> list[Finding]:
    """Which datum the footprints fit best, from the DSM, the townships and the names
    in the footprint file (:func:`roofpv.inputs.webmap.datum_findings`).

    ``raw`` are the footprints as read (their file's CRS). Against the townships, up to
    :data:`TOWNSHIP_SAMPLE` footprints evenly spaced through the file are placed at each
    candidate datum and those outside every township counted. A sample suffices: the
    offsets are systematic (~500 m for GCJ-02, ~1 km for BD-09, the same direction for
    every footprint of a county), so they move the share of footprints outside the
    townships as a whole; 4,000 footprints estimate that share to ±1.6 points (95 %),
    far below the fourfold drop the finding needs. Against the DSM, up to
    :data:`SAMPLE` footprints are placed at each candidate datum, taken from the densest
    :data:`SAMPLE_BLOCK_M` square where the tiles reach them there, and their height
    contrast is measured; only footprints within twice the largest offset of the tiles
    are located for it.

    ``sampled``: ``raw`` holds only the polygonal footprints of :func:`township_sample`
    (a layer read partition by partition, without DSM), and this gives the number of
    polygonal footprints, of all footprints and the polygonal ones' bounds (file CRS).
    """
    inputs = config.inputs
    footprints = _polygonal(raw)
    n, total, bounds = sampled if sampled is not None else (len(footprints), len(raw), None)
    lon, lat = 0.0, 0.0
    if n:  # the footprints' centre, for the size of the offsets there
        bounds = footprints.total_bounds if bounds is None else bounds
        corners = gpd.GeoSeries(shapely.points(np.reshape(bounds, (2, 2))), crs=footprints.crs)
        lon, lat = np.mean(shapely.get_coordinates(corners.to_crs("EPSG:4326").to_numpy()), axis=0)
    shift = {d: webmap.shift_m(lon, lat, d) for d in ("gcj02", "bd09")}
    if n == 0 or max(shift.values()) < 1.0:  # outside China web maps are not shifted
        return []
    located = dict.fromkeys(webmap.CANDIDATES)
    counted = n
    if polygons is not None and n:
        pick = township_sample(n) if sampled is None else np.arange(len(footprints))
        counted = pick.size
        tree = shapely.STRtree(polygons.to_crs(crs).geometry.to_numpy())
        for d, points in _anchors(footprints.iloc[pick], crs).items():
            located[d] = int(np.unique(tree.query(points, predicate="intersects")[0]).size)
    tested = dict.fromkeys(webmap.CANDIDATES, 0)
    raised = dict.fromkeys(webmap.CANDIDATES, 0)
    if mosaic is not None and n:
        boxes = shapely.STRtree(shapely.box(*mosaic.bounds.T))
        margin = 2 * max(shift.values()) + SAMPLE_BLOCK_M
        near = np.unique(boxes.query(_anchors(footprints, crs, (None,))[None], predicate="dwithin",
                                     distance=margin)[0])
        for d, points in _anchors(footprints.iloc[near], crs).items():
            reach = near[np.unique(boxes.query(points, predicate="intersects")[0])]
            if reach.size == 0:
                continue
            centre = shapely.get_coordinates(points[np.searchsorted(near, reach)])
            _, block = np.unique(np.floor(centre / SAMPLE_BLOCK_M), axis=0, return_inverse=True)
            densest = reach[block.ravel() == np.bincount(block.ravel()).argmax()]
            pick = np.sort(np.random.default_rng(0).choice(densest, min(SAMPLE, densest.size), replace=False))
            sample = _read_in(footprints.iloc[pick], d, crs).to_numpy()
            xmin, ymin, xmax, ymax = shapely.total_bounds(sample)
            pad = webmap.RING_M[1] + 2 * mosaic.res
            grid = tiles.read_window(mosaic, (xmin - pad, ymin - pad, xmax + pad, ymax + pad))
            contrast, data = webmap.height_contrast(grid, sample, mosaic.crs)
            ok = data >= webmap.MIN_DATA
            tested[d], raised[d] = int(ok.sum()), int((ok & (contrast >= webmap.RAISED_M)).sum())
    fits = {d: webmap.Fit(tested[d], raised[d], located[d]) for d in webmap.CANDIDATES}
    hints = webmap.hinted_datums(readers.layer_text(inputs.footprints, inputs.footprints_layer))
    return webmap.datum_findings(fits, inputs.footprints_datum, counted, hints, shift,
                                 str(inputs.footprints), total=total, dsm=mosaic is not None)


def dsm_coverage(buildings: gpd.GeoDataFrame, mosaic: tiles.Mosaic, config: Config,
                 measured: pd.Series | None = None) -> tuple[pd.Series, list[Finding]]:
    """Share of each roof with DSM data (0 outside the tiles) and the coverage findings.

    ``measured`` is the coverage :func:`roofpv.roofs.dsm.measure` found (``dsm_coverage``);
    without it the tiles are read block by block to count the roofs' data pixels.
    """
    c = config.dsm
    valid = buildings.geometry[buildings["geometry_valid"]]
    if measured is None:
        parts = [roof_coverage(grid, valid.index.to_numpy()[pos], valid.to_numpy()[pos],
                               c.inner_buffer_m, mosaic.crs)
                 for pos, grid, *_ in tiles.windows(mosaic, valid.to_numpy(), 0.0, c.block_m)]
        measured = pd.concat(parts) if parts else pd.Series(dtype=float)
    coverage = measured.reindex(buildings.index).fillna(0.0).astype(float)
    extent = pd.Series(0.0, index=buildings.index)
    extent[valid.index] = extent_share(valid.to_numpy(), mosaic.bounds)
    return coverage, coverage_findings(coverage, extent, c.min_coverage, str(c.tiles))


#: Below this share of survey rows joined to a footprint, the id join is an error.
MIN_JOIN_SHARE = 0.5


def match_ids(footprint_ids: pd.Index, survey: pd.DataFrame, source: str
              ) -> tuple[pd.DataFrame, list[Finding]]:
    """Survey ids matched to the footprints' ids: a survey id that matches no footprint
    but whose :func:`roofpv.inputs.ids.id_key` (leading zeros, case) matches exactly one is
    renamed to that footprint's id, with a finding per kind. When fewer than
    :data:`MIN_JOIN_SHARE` of the survey rows match, an error finding diagnoses why."""
    if survey.empty or footprint_ids.empty:
        return survey, []
    findings: list[Finding] = []
    footprint_ids = pd.Index(footprint_ids.to_numpy(dtype=object))  # unique, hashed once
    exact = footprint_ids.get_indexer(survey.index.to_numpy(dtype=object)) >= 0
    if exact.all():
        return survey, []
    keyed = pd.Series(footprint_ids, index=[ids.id_key(str(i)) for i in footprint_ids])
    keyed = keyed[~keyed.index.duplicated(keep=False)]
    unmatched = survey.index[~exact]
    target = keyed.reindex([ids.id_key(str(i)) for i in unmatched]).to_numpy()
    taken = set(survey.index[exact])
    rename: dict[str, str] = {}
    for old, new in zip(unmatched, target):
        if isinstance(new, str) and new not in taken:
            rename[old] = new
            taken.add(new)
    kinds: dict[str, list[tuple[str, str]]] = {}
    for old, new in rename.items():
        kind = "case" if old.casefold() == new.casefold() else "leading zeros"
        kinds.setdefault(kind, []).append((old, new))
    for kind, pairs in kinds.items():
        old, new = pairs[0]
        findings.append(Finding(
            "warning", source, None, new, "building_id", old,
            f"{len(pairs):,} survey ids differ from their footprint's id only by {kind} "
            f"(e.g. {old!r} → {new!r}); joined to that footprint",
            "write the ids in the survey as the footprint file does"))
    survey = survey.rename(index=rename)
    matched = int(exact.sum()) + len(rename)
    if matched < MIN_JOIN_SHARE * len(survey):
        findings.append(Finding(
            "error", source, None, None, "building_id", None,
            f"only {matched:,} of {len(survey):,} survey rows ({matched / len(survey):.0%}) match a "
            f"footprint id; {diagnose_ids(survey.index, footprint_ids)}",
            "make the survey's 建筑编号 and the footprints' id hold the same codes, or set "
            "inputs.footprints_id_column to the footprint field that holds the survey's ids"))
    return survey, findings


def _shape(values: pd.Index) -> str:
    """How most ids look: digits or letters, and their usual length."""
    text = pd.Series(values.astype(str))
    digits = text.str.fullmatch(r"\d+").mean()
    lengths = text.str.len()
    kind = "digits" if digits > 0.9 else "letters and digits" if digits < 0.1 else "mixed"
    return f"{kind}, {int(lengths.median())} characters (e.g. {', '.join(map(repr, text.iloc[:3]))})"


def diagnose_ids(survey_ids: pd.Index, footprint_ids: pd.Index) -> str:
    """Why two id columns do not join, in words: their shapes and the differences seen."""
    s, f = pd.Series(survey_ids.astype(str)), pd.Series(footprint_ids.astype(str))
    hints = []
    if s.str.fullmatch(r"0\d+").mean() > 0.5 or f.str.fullmatch(r"0\d+").mean() > 0.5:
        hints.append("leading zeros on one side (a spreadsheet dropped them: format the column as text)")
    if s.str.contains(r"\.\d", regex=True).mean() > 0.5 or f.str.contains(r"\.\d", regex=True).mean() > 0.5:
        hints.append("decimal numbers (ids stored as floats)")
    if s.str.len().median() != f.str.len().median():
        hints.append("different lengths (a prefix, a suffix or a different code?)")
    if (s.str.upper() != s).mean() > 0.5 and (f.str.lower() != f).mean() > 0.5:
        hints.append("different case")
    return (f"survey ids: {_shape(survey_ids)}; footprint ids: {_shape(footprint_ids)}"
            + (f"; likely cause: {'; '.join(hints)}" if hints else ""))


#: A footprint more than this many times the area the survey's floor area over floors
#: suggests (and by more than :data:`AREA_SLACK_M2`) is reported.
AREA_FACTOR, AREA_SLACK_M2 = 4.0, 200.0
#: A building whose footprint lies farther than this from its surveyed township is reported [m].
TOWNSHIP_TOLERANCE_M = 250.0
#: Overlaps of townships above this share of the smaller one, and holes between them
#: above this area, are reported.
OVERLAP_SHARE, GAP_M2 = 0.01, 10_000.0


def cross_checks(b: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame | None, survey_source: str,
                 footprints_source: str, townships_source: str = "townships") -> list[Finding]:
    """Checks of the inputs against each other: footprint area against the surveyed floor
    area, the surveyed township against the footprint's location, and the townships
    against each other (overlaps, gaps)."""
    findings = building_checks(b, polygons, survey_source, footprints_source)
    if polygons is not None:
        findings += township_layout(polygons, townships_source)
    return findings


def building_checks(b: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame | None, survey_source: str,
                    footprints_source: str) -> list[Finding]:
    """The :func:`cross_checks` of each building on its own (area, surveyed township),
    which any split of the buildings gives alike."""
    findings = _area_check(b, footprints_source)
    if polygons is not None:
        findings += _township_check(b, polygons, survey_source)
    return findings


def _area_check(b: gpd.GeoDataFrame, source: str) -> list[Finding]:
    if "floor_area_m2" not in b:
        return []
    area = b.geometry.area.where(b["geometry_valid"])
    floors = pd.to_numeric(b["floors"], errors="coerce").fillna(1.0).clip(lower=1.0)
    expected = pd.to_numeric(b["floor_area_m2"], errors="coerce") / floors
    big = (area > AREA_FACTOR * expected) & (area - expected > AREA_SLACK_M2)
    return [
        Finding("warning", source, None, bid, "geometry", f"{area[bid]:.0f} m²",
                f"footprint of {area[bid]:,.0f} m² is {area[bid] / expected[bid]:.0f}× what the survey's "
                f"floor area over floors suggests ({expected[bid]:,.0f} m²); the footprint is used",
                "check the outline (merged with neighbours?) and the surveyed 建筑面积 and 层数")
        for bid in b.index[big.fillna(False).to_numpy()]
    ]


def _township_check(b: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, source: str) -> list[Finding]:
    surveyed = (b["township_source"] == "survey") & b["geometry_valid"] & b["township"].isin(polygons.index)
    if not surveyed.any():
        return []
    sub = b[surveyed]
    points = shapely.point_on_surface(sub.geometry.to_numpy())
    shapes = polygons.geometry.reindex(sub["township"]).to_numpy()
    shapely.prepare(shapes)
    # Distances only for points outside their township (inside, it is 0).
    distance = np.zeros(len(points))
    away = ~shapely.intersects(shapes, points)
    distance[away] = shapely.distance(points[away], shapes[away])
    far = distance > TOWNSHIP_TOLERANCE_M
    if not far.any():
        return []
    tree = shapely.STRtree(polygons.geometry.to_numpy())
    where, hit = tree.query(points[far], predicate="within")
    located = dict(zip(where, polygons.index[hit]))
    return [
        Finding("warning", source, None, bid, "township", town,
                f"footprint lies {d / 1000:.1f} km outside its surveyed township {town}"
                + (f" (it is in {located[k]})" if k in located else " (in no township)")
                + "; the surveyed township is kept",
                "check the surveyed 镇街道 and the footprint's position")
        for k, (bid, town, d) in enumerate(zip(sub.index[far], sub["township"][far], distance[far]))
    ]


def township_layout(polygons: gpd.GeoDataFrame, source: str = "townships") -> list[Finding]:
    """Townships that overlap by more than :data:`OVERLAP_SHARE` of the smaller one, and
    holes between them larger than :data:`GAP_M2` (projected CRS)."""
    geoms = polygons.geometry.to_numpy()
    names = list(polygons.index)
    findings = []
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    for i, j in zip(left, right):
        if i >= j:
            continue
        shared = shapely.area(shapely.intersection(geoms[i], geoms[j]))
        smaller = min(shapely.area(geoms[i]), shapely.area(geoms[j]))
        if smaller > 0 and shared > OVERLAP_SHARE * smaller:
            findings.append(Finding(
                "warning", source, None, None, "geometry", f"{names[i]} / {names[j]}",
                f"townships {names[i]} and {names[j]} overlap by {shared / 10_000:,.1f} ha "
                f"({shared / smaller:.0%} of the smaller); a building in both counts for the first",
                "correct the boundaries so that the townships do not overlap"))
    union = shapely.union_all(geoms)
    for part in getattr(union, "geoms", [union]):
        for ring in getattr(part, "interiors", []):
            hole = shapely.Polygon(ring)
            if hole.area > GAP_M2:
                x, y = hole.representative_point().coords[0]
                findings.append(Finding(
                    "warning", source, None, None, "geometry", f"{hole.area / 10_000:,.1f} ha",
                    f"gap of {hole.area / 10_000:,.1f} ha between the townships near ({x:.0f}, {y:.0f}); "
                    "buildings in it belong to no township",
                    "close the gap in the township layer"))
    return findings


def row_rule_findings(config: Config) -> list[Finding]:
    """A warning for each racked mounting whose GB 50797 row pitch is capped at the site."""
    return [
        Finding("warning", str(config.source_path or "config"), None, None, f"mountings.{name}", None,
                f"at {config.site.latitude:.1f}° latitude the GB 50797 row rule asks for more than "
                f"{1 / layout.MIN_GCR:g} module lengths between rows (none beyond 58.5°); row pitch "
                f"capped at ground coverage ratio {layout.MIN_GCR:g}, accepting some winter row shading",
                "lower module_tilt_deg, or set row_spacing and a tilt suited to the latitude")
        for name, m in config.mountings.items()
        if m.row_spacing == "gb50797" and layout.row_pitch_capped(
            config.module.length_m, m.module_tilt_deg or 0.0, config.site.latitude)
    ]
