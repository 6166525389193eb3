"""Checks of the inputs against each other, before any modelling: the DSM tiles
(readable, with a CRS, covering the footprints) and the footprints' datum (offsets of
footprints digitised on Chinese web maps). Reads tiles; the scoring is pure
(:mod:`roofpv.webmap`, :mod:`roofpv.dsm_coverage`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import webmap
from .config import Config
from .dsm_coverage import coverage_findings, extent_share, roof_coverage
from .findings import Finding
from .io import readers, tiles


def open_tiles(config: Config, crs: str) -> tuple[tiles.Mosaic | None, tiles.Mosaic | None, list[Finding]]:
    """The DSM and DEM mosaics of the config (None when not configured or without a
    single usable tile) and a finding per tile left out or folder without tiles."""
    c = config.dsm
    out, findings = [], []
    for what, folder, pattern in (("DSM", c.tiles, c.tiles_pattern), ("DEM", c.dem, "*.tif")):
        if folder is None:
            out.append(None)
            continue
        try:
            mosaic = tiles.open_mosaic(folder, crs, pattern)
        except tiles.TileError as exc:
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


def _polygonal(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    g = geometry.to_numpy()
    keep = shapely.is_valid(g) & ~shapely.is_empty(g) & np.isin(shapely.get_type_id(g), (3, 6))
    return geometry[keep]


#: Footprints tested against the DSM per datum, and the square they are taken from [m].
SAMPLE = 150
SAMPLE_BLOCK_M = 500.0


def datum_check(config: Config, raw: gpd.GeoSeries, polygons: gpd.GeoDataFrame | None,
                mosaic: tiles.Mosaic | None, crs: str) -> list[Finding]:
    """Which datum the footprints fit best, from the DSM, the townships and the names
    in the footprint file (:func:`roofpv.webmap.datum_findings`).

    ``raw`` are the footprints as read (their file's CRS). Against the DSM, up to
    :data:`SAMPLE` footprints are placed at each candidate datum, taken from the densest
    :data:`SAMPLE_BLOCK_M` square where the tiles reach them there, and their height
    contrast is measured.
    """
    inputs = config.inputs
    footprints = _polygonal(raw)
    # Each footprint is located by a point on its surface (the offsets vary by well under
    # a millimetre across a building); whole outlines are moved only for the DSM sample.
    anchors = gpd.GeoSeries(shapely.point_on_surface(footprints.to_numpy()),
                            index=footprints.index, crs=footprints.crs)
    moved = {d: webmap.unshift(anchors, d).to_crs(crs).to_numpy() for d in webmap.CANDIDATES}
    located = dict.fromkeys(moved)
    if polygons is not None:
        tree = shapely.STRtree(polygons.to_crs(crs).geometry.to_numpy())
        for d, points in moved.items():
            hit = tree.query(points, predicate="intersects")[0]
            located[d] = int(np.unique(hit).size)
    tested = dict.fromkeys(moved, 0)
    raised = dict.fromkeys(moved, 0)
    if mosaic is not None:
        boxes = shapely.STRtree(shapely.box(*mosaic.bounds.T))
        for d, points in moved.items():
            reach = np.unique(boxes.query(points, predicate="intersects")[0])
            if reach.size == 0:
                continue
            centre = shapely.get_coordinates(points[reach])
            _, block = np.unique(np.floor(centre / SAMPLE_BLOCK_M), axis=0, return_inverse=True)
            densest = reach[block.ravel() == np.bincount(block.ravel()).argmax()]
            pick = np.sort(np.random.default_rng(0).choice(densest, min(SAMPLE, densest.size), replace=False))
            sample = webmap.unshift(footprints.iloc[pick], d).to_crs(crs).to_numpy()
            xmin, ymin, xmax, ymax = shapely.total_bounds(sample)
            pad = webmap.RING_M[1] + 2 * mosaic.res
            grid = tiles.read_window(mosaic, (xmin - pad, ymin - pad, xmax + pad, ymax + pad))
            contrast, data = webmap.height_contrast(grid, sample, mosaic.crs)
            ok = data >= webmap.MIN_DATA
            tested[d], raised[d] = int(ok.sum()), int((ok & (contrast >= webmap.RAISED_M)).sum())
    fits = {d: webmap.Fit(tested[d], raised[d], located[d]) for d in moved}
    lon, lat = np.mean(np.reshape(footprints.to_crs("EPSG:4326").total_bounds, (2, 2)), axis=0) \
        if len(footprints) else (0.0, 0.0)
    shift = {d: webmap.shift_m(lon, lat, d) for d in ("gcj02", "bd09")}
    hints = webmap.hinted_datums(readers.layer_text(inputs.footprints, inputs.footprints_layer))
    return webmap.datum_findings(fits, inputs.footprints_datum, len(raw), hints, shift,
                                 str(inputs.footprints))


def dsm_coverage(buildings: gpd.GeoDataFrame, mosaic: tiles.Mosaic, config: Config,
                 measured: pd.Series | None = None) -> tuple[pd.Series, list[Finding]]:
    """Share of each roof with DSM data (0 outside the tiles) and the coverage findings.

    ``measured`` is the coverage :func:`roofpv.dsm.measure` found (``dsm_coverage``);
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
