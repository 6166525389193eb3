"""Module layout on roof planes: row spacing, packing, module count and capacity.

Planes arrive in their local frame (facing local −y, horizontal metres; see
:func:`roofpv.roof.roof_planes`). Modules stand in portrait, their long side down
the slope, in rows running along local x. A module is placed where its whole
horizontal footprint fits inside the plane polygon after setbacks.
"""

from __future__ import annotations

import numpy as np
import shapely

#: Vectorised containment tests are run in chunks of this many candidate cells.
CHUNK_CELLS = 2_000_000
#: Module cells are tested inset by this much (m): a module that touches an edge
#: exactly is not pushed out by digitising or reprojection noise.
TOLERANCE_M = 1e-3


def gb50797_shadow_ratio(latitude_deg: float) -> float:
    """Row gap over module top height that keeps rows unshaded 9:00–15:00 solar time
    on the winter solstice (GB 50797-2012): (0.707 tanφ + 0.4338) / (0.707 − 0.4338 tanφ)."""
    t = np.tan(np.radians(abs(latitude_deg)))
    denominator = 0.707 - 0.4338 * t
    if denominator <= 0:
        raise ValueError(f"GB 50797 row spacing is undefined at latitude {latitude_deg}°")
    return (0.707 * t + 0.4338) / denominator


def row_pitch_tilted(length_m: float, tilt_deg, latitude_deg: float):
    """Row pitch D (m, front edge to front edge) of tilted racks on a flat roof:
    D = L·cosβ + L·sinβ·ratio(φ) (GB 50797-2012)."""
    beta = np.radians(tilt_deg)
    return length_m * np.cos(beta) + length_m * np.sin(beta) * gb50797_shadow_ratio(latitude_deg)


def module_cells(
    polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m
) -> dict[str, np.ndarray]:
    """The modules that fit in each polygon (local frame), cell by cell.

    Modules of horizontal footprint ``width_m`` × ``depth_m`` stand in rows along x,
    ``gap_m`` apart, consecutive rows ``pitch_m`` apart in y. The grid is centred in
    the polygon's bounds, so the slack is shared between opposite edges and a footprint
    that is not quite rectangular does not lose its edge modules. Depth and pitch may
    differ per polygon.

    Returns
    -------
    dict of equal-length arrays, one entry per placed module, ordered by polygon, row
    and column: ``polygon`` (position in ``polygons``), ``row`` and ``column`` (grid
    indices from the lower-left cell), ``x`` and ``y`` (lower-left corner, m).
    """
    n = len(polygons)
    depth = np.broadcast_to(np.asarray(depth_m, float), (n,))
    pitch = np.broadcast_to(np.asarray(pitch_m, float), (n,))
    valid = ~shapely.is_empty(polygons) & ~shapely.is_missing(polygons)
    xmin, ymin, xmax, ymax = np.where(valid[:, None], shapely.bounds(polygons), 0.0).T
    step = width_m + gap_m
    eps = 1e-9
    nx = np.where(valid, np.floor((xmax - xmin + gap_m) / step + eps), 0).astype(np.int64)
    ny = np.where(valid & (ymax - ymin >= depth - eps),
                  np.floor((ymax - ymin - depth) / pitch + eps) + 1, 0).astype(np.int64)
    cells = nx * ny
    x_start = xmin + (xmax - xmin - (nx * step - gap_m)) / 2.0
    y_start = ymin + (ymax - ymin - ((ny - 1) * pitch + depth)) / 2.0
    shapely.prepare(polygons[cells > 0])

    # Candidate cells are generated and tested in chunks to bound memory.
    found = []
    group = np.cumsum(cells) // CHUNK_CELLS
    for g in np.unique(group[cells > 0]):
        sel = np.flatnonzero((group == g) & (cells > 0))
        owner = np.repeat(sel, cells[sel])
        k = np.arange(len(owner)) - np.repeat(np.cumsum(cells[sel]) - cells[sel], cells[sel])
        row, column = k // nx[owner], k % nx[owner]
        x0 = x_start[owner] + column * step
        y0 = y_start[owner] + row * pitch[owner]
        t = TOLERANCE_M
        boxes = shapely.box(x0 + t, y0 + t, x0 + width_m - t, y0 + depth[owner] - t)
        inside = shapely.contains(polygons[owner], boxes)
        found.append((owner[inside], row[inside], column[inside], x0[inside], y0[inside]))
    names = ("polygon", "row", "column", "x", "y")
    if not found:
        return {k: np.zeros(0, np.int64 if k in names[:3] else float) for k in names}
    return {k: np.concatenate(v) for k, v in zip(names, zip(*found))}


def count_modules(
    polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m
) -> np.ndarray:
    """Number of modules that fit in each polygon (local frame), placed as in
    :func:`module_cells`.

    Returns
    -------
    ndarray of int, modules per polygon (0 for empty or missing polygons).
    """
    cells = module_cells(polygons, width_m, gap_m, depth_m, pitch_m)
    return np.bincount(cells["polygon"], minlength=len(polygons)).astype(np.int64)
