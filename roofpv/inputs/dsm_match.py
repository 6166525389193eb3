"""The footprints against the DSM as a whole: how far they lie off its buildings
(:mod:`roofpv.roofs.alignment`) and which raised roofs none of them accounts for
(:mod:`roofpv.roofs.unmatched`).

Both read the DSM (and DEM, canopy) window by window over the mosaic's extent, once
per run, before any roof is measured, so that a shift can be applied to the footprints
(``dsm.align_footprints``) before the DSM stage uses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.config import Config
from roofpv.findings import Finding
from roofpv.io import tiles
from roofpv.roofs import alignment, unmatched
from roofpv.roofs.raster import Raster

#: Windows overlap by this much (m), so the ground estimate, the footprint margin and
#: the shift search see past a window's core.
OVERLAP_M = unmatched.GROUND_WINDOW_M / 2 + alignment.MAX_SHIFT_M


def blocks(mosaic: tiles.Mosaic, block_m: float, dem: tiles.Mosaic | None, canopy: tiles.Mosaic | None
           ) -> Iterator[tuple[tuple[float, float, float, float], Raster, Raster | None, Raster | None]]:
    """The mosaic's extent in ``block_m`` squares that meet a tile: each square's core
    bounds and its DSM, DEM and canopy windows (on the DSM's grid), :data:`OVERLAP_M`
    larger on every side. The DSM is read once for all windows where it fits in memory
    (:func:`roofpv.io.tiles.window_reader`), not once per window."""
    xmin, ymin = mosaic.bounds[:, :2].min(axis=0)
    xmax, ymax = mosaic.bounds[:, 2:].max(axis=0)
    tiles_tree = shapely.STRtree(shapely.box(*mosaic.bounds.T))
    cores, windows = [], []
    for x0 in np.arange(xmin, xmax, block_m):
        for y0 in np.arange(ymin, ymax, block_m):
            core = (float(x0), float(y0), float(min(x0 + block_m, xmax)), float(min(y0 + block_m, ymax)))
            hit = tiles_tree.query(shapely.box(*core), predicate="intersects")
            if hit.size == 0:
                continue
            # The window: the core and its overlap, no farther than the tiles there reach.
            reach = mosaic.bounds[hit]
            cores.append(core)
            windows.append((max(core[0] - OVERLAP_M, reach[:, 0].min()), max(core[1] - OVERLAP_M, reach[:, 1].min()),
                            min(core[2] + OVERLAP_M, reach[:, 2].max()), min(core[3] + OVERLAP_M, reach[:, 3].max())))
    if not windows:
        return
    dem, canopy = (None if m is None else tiles.Mosaic(m.paths, m.crs, m.bounds, mosaic.res, mosaic.origin)
                   for m in (dem, canopy))
    with ExitStack() as stack:
        read = tiles.window_reader(mosaic, mosaic, np.array(windows), stack)
        for core, bounds in zip(cores, windows):
            dsm = read(bounds)
            yield (core, dsm,
                   *(None if m is None else _on(dsm, tiles.read_window(m, dsm.bounds)) for m in (dem, canopy)))


def _on(dsm: Raster, other: Raster) -> Raster:
    """``other`` (read on the DSM's grid from the DSM window's bounds) cut or padded with
    no data to the DSM window's shape: a warped mosaic's snapped window can differ by a
    pixel."""
    if other.z.shape == dsm.z.shape:
        return other
    z = np.full(dsm.z.shape, np.nan, np.float32)
    rows, cols = (min(a, b) for a, b in zip(dsm.z.shape, other.z.shape))
    z[:rows, :cols] = other.z[:rows, :cols]
    return Raster(z, dsm.x0, dsm.y0, dsm.res)


def footprints_on_dsm(config: Config, b: gpd.GeoDataFrame, crs: str, mosaic: tiles.Mosaic | None,
                      dem: tiles.Mosaic | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, list[Finding]]:
    """Check the footprints ``b`` (analysis CRS) against the DSM.

    Returns the buildings (moved by the estimated shift where ``dsm.align_footprints``
    is set and the shift is significant, :func:`roofpv.roofs.alignment.significant`),
    the ``unmatched_roofs`` layer (None without a DSM; found with the footprints moved
    by a significant shift either way) and the findings: the shift, and the raised
    roofs with no footprint.
    """
    if mosaic is None:
        return b, None, []
    c = config.dsm
    canopy = tiles.open_mosaic(c.canopy, crs, c.tiles_pattern) if c.canopy is not None else None
    valid = b["geometry_valid"].to_numpy(bool) if "geometry_valid" in b else np.ones(len(b), bool)
    geometry = b.geometry.to_numpy()
    tree = shapely.STRtree(np.where(valid, geometry, None))
    findings: list[Finding] = []
    footprints_file = str(config.inputs.footprints)

    def near(window: Raster, moved: np.ndarray) -> np.ndarray:
        return moved[tree.query(shapely.box(*window.bounds))]

    shifts, found = [], []
    for core, dsm, ground, trees in blocks(mosaic, c.block_m, dem, canopy):
        raised = unmatched.raised_mask(dsm, ground, trees)
        covered = unmatched.burn(near(dsm, geometry), dsm)
        shifts.append(alignment.footprint_shift(dsm, raised[0], covered))
        found.append(unmatched.unmatched_roofs(dsm, covered, ground, trees, core, crs, raised))
    shift = alignment.combine(shifts)
    if alignment.significant(shift):
        length = float(np.hypot(shift.dx, shift.dy))
        move = (f"{abs(shift.dx):.1f} m {'east' if shift.dx >= 0 else 'west'} and "
                f"{abs(shift.dy):.1f} m {'north' if shift.dy >= 0 else 'south'}")
        text = (f"the footprints lie {length:.1f} m off the DSM's buildings: moved {move} they cover them "
                f"best ({shift.cells:,} footprint cells)")
        value = f"dx {shift.dx:+.2f} m, dy {shift.dy:+.2f} m"
        geometry = np.where(valid, shapely.transform(geometry, lambda xy: xy + [shift.dx, shift.dy]), geometry)
        if c.align_footprints:
            b = b.set_geometry(gpd.GeoSeries(geometry, index=b.index, crs=b.crs))
            findings.append(Finding("info", footprints_file, None, None, "geometry", value,
                                    text + "; moved so (dsm.align_footprints)",
                                    "fix the footprints' georeferencing to drop the move"))
        else:
            findings.append(Finding("warning", footprints_file, None, None, "geometry", value, text,
                                    "set dsm.align_footprints: true to move them, or fix their georeferencing"))
        # The roofs no footprint accounts for, with the footprints where they truly lie
        # (moved or not), so a shifted register does not leave slivers of every roof.
        found = [unmatched.unmatched_roofs(dsm, unmatched.burn(near(dsm, geometry), dsm), ground, trees, core, crs)
                 for core, dsm, ground, trees in blocks(mosaic, c.block_m, dem, canopy)]
    layer = gpd.GeoDataFrame(pd.concat(found, ignore_index=True), geometry="geometry", crs=crs) if found \
        else unmatched.empty_layer(crs)
    layer["roof_id"] = [f"U{k + 1}" for k in range(len(layer))]
    if len(layer):
        findings.append(Finding(
            "warning", str(c.tiles), None, None, "DSM", None,
            f"{len(layer)} raised roofs with no footprint, {layer['area_m2'].sum():,.0f} m² "
            f"(layer unmatched_roofs): buildings missing from the footprint register",
            "check them on imagery and add the buildings to the footprints file"))
    return b, layer, findings
