"""Raised, building-like regions of a DSM, and those no footprint accounts for.

A bureau's footprint register misses buildings: new ones, sheds, rural houses never
digitised. On a DSM they stand out as regions raised above the ground that are not
trees. :func:`raised_mask` finds such cells on one window, :func:`unmatched_roofs`
groups those outside every footprint into roofs with an area, a height and a first
plane estimate (the dominant facet's tilt and azimuth). The same mask is what
:mod:`roofpv.roofs.alignment` matches the footprints against.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from rasterio.features import rasterize, shapes
from rasterio.transform import from_origin
from scipy import ndimage

from roofpv.roofs.raster import Raster, gradient_at

#: A cell stands when it is at least this high above the ground (m): a storey less a
#: little, above cars, hedges and garden walls.
MIN_HEIGHT_M = 2.5
#: Smallest raised region reported as a roof without footprint (m², plan): a garage.
MIN_AREA_M2 = 30.0
#: Without a DEM the ground is the DSM opened (minimum, then maximum filter) over a
#: square this wide (m): every building narrower than it is removed from the ground.
GROUND_WINDOW_M = 60.0
#: Raised cells this close to a footprint (m) belong to it (eaves, walls, a footprint
#: a little off the DSM).
FOOTPRINT_MARGIN_M = 1.5
#: Without a canopy raster, a cell is tree-like where the median over its 3 × 3
#: neighbourhood of the DSM's discrete Laplacian (the height of a cell against the
#: mean of its four neighbours, m) exceeds this: roofs, ridges included, are planar
#: at the pixel scale, crowns are not.
ROUGH_M = 0.5
#: A building stands on walls: at least this share of a region's edge cells drop by
#: :data:`MIN_HEIGHT_M` within :data:`WALL_M` (a hill that the ground estimate cut
#: off is raised too, but slopes down gently).
WALL_SHARE = 0.5
WALL_M = 2.0
#: Tilt below which a facet counts as flat (deg), as the DSM stage's default.
FLAT_DEG = 3.0
#: A roof is made of planes: its flat cells and its dominant facet (cells within 22.5°
#: of its aspect and :data:`FACET_TILT_DEG` of its tilt) cover at least this share of
#: it. A gable's face covers about half, a hip's a quarter, a tree crown's (dome)
#: a twentieth.
FACET_SHARE = 0.15
FACET_TILT_DEG = 10.0

#: Columns of the ``unmatched_roofs`` layer besides ``geometry``.
COLUMNS = ["roof_id", "area_m2", "height_m", "tilt_deg", "azimuth_deg", "cells"]


def empty_layer(crs=None) -> gpd.GeoDataFrame:
    """An ``unmatched_roofs`` layer without roofs."""
    return gpd.GeoDataFrame({c: pd.Series(dtype=object if c == "roof_id" else float) for c in COLUMNS},
                            geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def ground_estimate(z: np.ndarray, res: float) -> np.ndarray:
    """Ground heights (m) under a DSM window without a DEM: a grey opening of the DSM
    over :data:`GROUND_WINDOW_M`; no-data cells do not pull the ground down."""
    k = max(int(round(GROUND_WINDOW_M / res)) | 1, 3)
    filled = np.where(np.isnan(z), np.nanmax(z) if np.isfinite(z).any() else 0.0, z)
    return ndimage.grey_opening(filled, size=(k, k))


def raised_mask(window: Raster, ground: Raster | None = None, canopy: Raster | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Cells of ``window`` where something building-like stands, and the height above
    ground of every cell (m).

    Raised: at least :data:`MIN_HEIGHT_M` above the ground (the DEM ``ground`` on the
    same grid, else :func:`ground_estimate`). Trees are not buildings: cells the
    ``canopy`` (tree heights, 0 = none) marks, or without one cells rougher than
    :data:`ROUGH_M` and not next to a smooth raised cell. An opening with a 3 × 3 square then drops walls, fences and
    single cells.
    """
    z, res = window.z.astype(float), window.res
    base = ground.z.astype(float) if ground is not None else ground_estimate(z, res)
    height = z - base
    with np.errstate(invalid="ignore"):
        raised = height >= MIN_HEIGHT_M
    if canopy is not None:
        raised &= ~(np.nan_to_num(canopy.z) > 0)
    else:
        filled = np.where(np.isnan(z), base, z)
        rough = _median_above(np.abs(ndimage.laplace(filled)) / 4.0, ROUGH_M)
        # A roof's edge cells are rough too (the wall drops beside them): keep raised
        # cells next to smooth ones, so roofs keep their edges and crowns stay out.
        raised &= ndimage.binary_dilation(raised & ~rough, structure=np.ones((3, 3), bool))
    return ndimage.binary_opening(raised, structure=np.ones((3, 3), bool)), height


def _median_above(values: np.ndarray, threshold: float) -> np.ndarray:
    """Whether the median of each cell's 3 × 3 neighbourhood (edges reflected) exceeds
    ``threshold``: where at least 5 of its 9 values do, counted, not sorted (the
    median of 9 values is their 5th smallest). Where a value is NaN, whose place in
    the sort is undefined, the median filter itself decides, as it did."""
    if np.isnan(values).any():
        return ndimage.median_filter(values, size=3) > threshold
    return ndimage.convolve((values > threshold).view(np.uint8), np.ones((3, 3), np.uint8), mode="reflect") >= 5


def burn(geometry: np.ndarray, window: Raster) -> np.ndarray:
    """Cells of ``window`` whose centre lies in any of ``geometry``."""
    shape = window.z.shape
    polygons = [g for g in geometry if g is not None and not g.is_empty]
    if not polygons:
        return np.zeros(shape, bool)
    transform = from_origin(window.x0, window.y0, window.res, window.res)
    return rasterize(polygons, out_shape=shape, transform=transform, fill=0, default_value=1,
                     dtype="uint8").astype(bool)


def unmatched_roofs(window: Raster, covered: np.ndarray, ground: Raster | None = None,
                    canopy: Raster | None = None, core: tuple[float, float, float, float] | None = None,
                    crs=None, raised: tuple[np.ndarray, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Building-like raised regions of ``window`` that no footprint accounts for.

    Parameters
    ----------
    window : DSM window (m)
    covered : cells of the window in a footprint (:func:`burn` of every footprint near it)
    ground, canopy : DEM and tree heights on the window's grid, or None
    core : keep only regions whose cells' centroid lies in these bounds (windows that
        overlap report each region once); default: all
    crs : CRS of the result
    raised : :func:`raised_mask` of the window when already at hand

    Returns
    -------
    GeoDataFrame with :data:`COLUMNS`: ``area_m2`` (plan area of its cells),
    ``height_m`` (median height above ground), ``tilt_deg`` and ``azimuth_deg`` of the
    dominant facet (:func:`_facets`; azimuth NaN when flat), ``cells`` (pixels),
    ``roof_id`` (empty here, numbered by the caller). Regions of at least
    :data:`MIN_AREA_M2`, more than :data:`FOOTPRINT_MARGIN_M` from every footprint,
    standing on walls (:data:`WALL_SHARE`) and made of planes (:data:`FACET_SHARE`).
    """
    res = window.res
    mask, height = raised if raised is not None else raised_mask(window, ground, canopy)
    r = int(np.ceil(FOOTPRINT_MARGIN_M / res))
    disk = np.hypot(*np.mgrid[-r:r + 1, -r:r + 1]) <= FOOTPRINT_MARGIN_M / res
    mask = mask & ~ndimage.binary_dilation(covered, structure=disk)
    label, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return empty_layer(crs)
    cells = np.bincount(label.ravel(), minlength=n + 1)
    # Walls: edge cells that drop by MIN_HEIGHT_M within WALL_M.
    k = max(int(round(2 * WALL_M / res)) | 1, 3)
    filled = np.where(np.isnan(window.z), np.inf, window.z.astype(float))
    with np.errstate(invalid="ignore"):
        wall = filled - ndimage.minimum_filter(filled, size=k) >= MIN_HEIGHT_M
    edge = mask & ~ndimage.binary_erosion(mask, structure=np.ones((3, 3), bool), border_value=1)
    share = (np.bincount(label[edge & wall], minlength=n + 1)
             / np.maximum(np.bincount(label[edge], minlength=n + 1), 1))
    keep = np.flatnonzero((cells * res * res >= MIN_AREA_M2) & (share >= WALL_SHARE))
    keep = keep[keep > 0]
    if core is not None and keep.size:
        rows, cols = np.nonzero(np.isin(label, keep))
        of = label[rows, cols]
        cx = window.x0 + (np.bincount(of, cols, minlength=n + 1)[keep] / cells[keep] + 0.5) * res
        cy = window.y0 - (np.bincount(of, rows, minlength=n + 1)[keep] / cells[keep] + 0.5) * res
        keep = keep[(cx >= core[0]) & (cx < core[2]) & (cy >= core[1]) & (cy < core[3])]
    if keep.size == 0:
        return empty_layer(crs)
    dense = np.full(n + 1, -1, np.int64)
    dense[keep] = np.arange(keep.size)
    lab = dense[label]
    tilt, azimuth, planar = _facets(window, lab, keep.size)
    ok = planar >= FACET_SHARE
    if not ok.any():
        return empty_layer(crs)
    keep, tilt, azimuth = keep[ok], tilt[ok], azimuth[ok]
    dense[:] = -1
    dense[keep] = np.arange(keep.size)
    lab = dense[label]
    in_region = lab >= 0
    h = pd.Series(height[in_region]).groupby(lab[in_region]).median().reindex(range(keep.size)).to_numpy()
    transform = from_origin(window.x0, window.y0, res, res)
    found = list(shapes(lab.astype(np.int32), mask=in_region, connectivity=8, transform=transform))
    geometry = _union_by([shapely.geometry.shape(g) for g, _ in found],
                         np.array([int(v) for _, v in found], np.int64))
    return gpd.GeoDataFrame({
        "roof_id": "", "area_m2": cells[keep] * res * res, "height_m": h, "tilt_deg": tilt,
        "azimuth_deg": azimuth, "cells": cells[keep],
    }, geometry=geometry, crs=crs)


def _facets(window: Raster, lab: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dominant facet of each region ``lab`` = 0…n−1 (−1: none) and how much of the
    region it and the flat cells cover.

    From central-difference slopes at the region's inner cells (all its cells where it
    has none): a region is mostly flat (≥ half its cells
    below :data:`FLAT_DEG`: tilt 0, azimuth NaN), or its dominant facet is the 45°
    aspect window with most sloped cells, at their median tilt and mean azimuth. The
    planar share counts the flat cells and the cells within 22.5° of that azimuth and
    :data:`FACET_TILT_DEG` of that tilt: a gable's dominant face covers about half its
    cells, a hip's a quarter, a tree crown's few.

    Returns tilt (deg), azimuth (deg from north, NaN when flat) and planar share.
    """
    inner = ndimage.binary_erosion(lab >= 0, structure=np.ones((3, 3), bool))
    cells = np.flatnonzero(lab >= 0)   # the regions' cells, a small part of the window
    lab = lab.ravel()[cells]
    inner_lab = np.where(inner.ravel()[cells], lab, -1)
    has_inner = np.bincount(inner_lab[inner_lab >= 0], minlength=n) > 0
    own = np.where(has_inner[lab], inner_lab, lab)
    at = own >= 0
    dzdy, dzdx = gradient_at(np.where(np.isnan(window.z), 0.0, window.z), window.res, cells[at])
    region, a, b = own[at], dzdx, -dzdy             # rows run south
    tilt = np.degrees(np.arctan(np.hypot(a, b)))
    azimuth = np.degrees(np.arctan2(-a, -b)) % 360.0
    total = np.bincount(region, minlength=n)
    flat_cell = tilt < FLAT_DEG
    flat_share = np.bincount(region[flat_cell], minlength=n) / np.maximum(total, 1)
    # Most sloped cells in a 45° window of aspect: 5° bins, summed over 9 neighbours.
    sloped = ~flat_cell
    bins = (azimuth[sloped] // 5).astype(np.int64) % 72
    hist = np.bincount(region[sloped] * 72 + bins, minlength=n * 72).reshape(n, 72).astype(float)
    window_sum = sum(np.roll(hist, s, axis=1) for s in range(-4, 5))
    mode = (window_sum.argmax(axis=1) + 0.5) * 5.0
    off = np.abs((azimuth - mode[region] + 180.0) % 360.0 - 180.0)
    face = sloped & (off <= 22.5)
    face_tilt = pd.Series(tilt[face]).groupby(region[face]).median().reindex(range(n)).to_numpy()
    on_face = face & (np.abs(tilt - face_tilt[region]) <= FACET_TILT_DEG)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.bincount(region[on_face], np.sin(np.radians(azimuth[on_face])), minlength=n)
        c = np.bincount(region[on_face], np.cos(np.radians(azimuth[on_face])), minlength=n)
    planar = flat_share + np.bincount(region[on_face], minlength=n) / np.maximum(total, 1)
    flat = flat_share >= 0.5
    return (np.where(flat, 0.0, face_tilt), np.where(flat, np.nan, np.degrees(np.arctan2(s, c)) % 360.0),
            np.where(flat, 1.0, planar))


def _union_by(parts: list, owner: np.ndarray) -> np.ndarray:
    """``parts`` grouped by ``owner`` (0, 1, …, every number present), one
    MultiPolygon per group."""
    order = np.argsort(owner, kind="stable")
    return shapely.multipolygons(np.array(parts, dtype=object)[order], indices=owner[order])
