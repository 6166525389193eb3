"""Module layout on roof planes: row spacing, packing, module count and capacity.

Planes arrive in their local frame (facing local −y, horizontal metres; see
:func:`roofpv.roof.roof_planes`). Modules stand in portrait, their long side down
the slope, in rows running along local x. A module is placed where its whole
horizontal footprint fits inside the plane polygon after setbacks.
"""

from __future__ import annotations

from typing import NamedTuple

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


class CellGrid(NamedTuple):
    """Each polygon's candidate module grid, centred in the polygon's bounds (m)."""

    nx: np.ndarray       # columns
    ny: np.ndarray       # rows
    x_start: np.ndarray  # lower-left corner of the first cell
    y_start: np.ndarray
    step: float          # column spacing: module width + gap
    depth: np.ndarray    # row depth (horizontal footprint of a module)
    pitch: np.ndarray    # row spacing
    rectangle: np.ndarray  # axis-parallel rectangles hold their whole grid


def cell_grid(polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m) -> CellGrid:
    """The grid of candidate cells of each polygon (local frame).

    Modules of horizontal footprint ``width_m`` × ``depth_m`` stand in rows along x,
    ``gap_m`` apart, consecutive rows ``pitch_m`` apart in y. The grid is centred in
    the polygon's bounds, so the slack is shared between opposite edges and a footprint
    that is not quite rectangular does not lose its edge modules. Depth and pitch may
    differ per polygon.
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
    x_start = xmin + (xmax - xmin - (nx * step - gap_m)) / 2.0
    y_start = ymin + (ymax - ymin - ((ny - 1) * pitch + depth)) / 2.0
    box_area = (xmax - xmin) * (ymax - ymin)
    rectangle = valid & (np.abs(shapely.area(polygons) - box_area)
                         <= 1e-9 * np.maximum(box_area, 1.0))
    return CellGrid(nx, ny, x_start, y_start, step, depth, pitch, rectangle)


def module_cells(
    polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m
) -> dict[str, np.ndarray]:
    """The modules that fit in each polygon (local frame), cell by cell, on the
    :func:`cell_grid`: a cell holds a module where its box, inset by :data:`TOLERANCE_M`,
    lies inside the polygon.

    Returns
    -------
    dict of equal-length arrays, one entry per placed module, ordered by polygon, row
    and column: ``polygon`` (position in ``polygons``), ``row`` and ``column`` (grid
    indices from the lower-left cell), ``x`` and ``y`` (lower-left corner, m).
    """
    g = cell_grid(polygons, width_m, gap_m, depth_m, pitch_m)
    # Axis-parallel rectangles hold their whole grid: their cells are listed, not tested.
    full = np.where(g.rectangle, g.nx * g.ny, 0)
    polygon = np.repeat(np.arange(len(polygons)), full)
    k = np.arange(polygon.size) - np.repeat(np.cumsum(full) - full, full)
    found = [(polygon, k // g.nx[polygon], k % g.nx[polygon]),
             *_cells_in_rows(polygons, g._replace(ny=np.where(g.rectangle, 0, g.ny)), width_m)]
    polygon, row, column = (np.concatenate(v) for v in zip(*found))
    order = np.lexsort((column, row, polygon))
    polygon, row, column = polygon[order], row[order], column[order]
    return {"polygon": polygon, "row": row, "column": column,
            "x": g.x_start[polygon] + column * g.step, "y": g.y_start[polygon] + row * g.pitch[polygon]}


def count_modules(
    polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m
) -> np.ndarray:
    """Number of modules that fit in each polygon (local frame): the cells of
    :func:`module_cells`, counted without listing the cells of rectangles.

    Returns
    -------
    ndarray of int, modules per polygon (0 for empty or missing polygons).
    """
    g = cell_grid(polygons, width_m, gap_m, depth_m, pitch_m)
    # An axis-parallel rectangle holds its whole grid (centred in its bounds): no test.
    counts = np.where(g.rectangle, g.nx * g.ny, 0)
    rest = g._replace(ny=np.where(g.rectangle, 0, g.ny))
    for polygon, _, _ in _cells_in_rows(polygons, rest, width_m):
        counts += np.bincount(polygon, minlength=len(polygons))
    return counts


def _cells_in_rows(polygons: np.ndarray, g: CellGrid, width_m: float):
    """Cells of each polygon's grid whose (inset) box lies inside it, row by row.

    A row of cells spans the strip y0 … y0 + depth. A cell is inside the polygon when no
    point of the strip outside the polygon lies strictly within the cell's x-range, so
    one difference per row (strip minus polygon) replaces a containment test per cell:
    each connected piece of the difference blocks the open x-interval of its bounds.
    Rows are processed in chunks of about :data:`CHUNK_CELLS` cells; yields
    ``(polygon, row, column)`` arrays of the cells inside, per chunk."""
    n = len(polygons)
    nx, ny, x_start, y_start, step, depth, pitch = (
        g.nx, g.ny, g.x_start, g.y_start, g.step, g.depth, g.pitch)
    invalid = np.flatnonzero(ny > 0)[~shapely.is_valid(polygons[ny > 0])]
    if invalid.size:  # the difference needs valid input; containment never did
        polygons = polygons.copy()
        polygons[invalid] = shapely.make_valid(polygons[invalid])
    t = TOLERANCE_M
    rows = np.repeat(np.arange(n), ny)
    row_in_polygon = np.arange(len(rows)) - np.repeat(np.cumsum(ny) - ny, ny)
    # Row-local x (from the grid start) offset by ``span`` per row keeps every row's
    # keys above the previous row's, so one sort and one running maximum serve all rows.
    span = float(np.max(nx * step, initial=0.0)) + 4.0
    group = np.cumsum(nx[rows]) // CHUNK_CELLS
    for chunk in np.unique(group):
        sel = np.flatnonzero(group == chunk)
        owner = rows[sel]
        y0 = y_start[owner] + row_in_polygon[sel] * pitch[owner]
        strips = shapely.box(x_start[owner] - 1.0, y0 + t,
                             x_start[owner] + nx[owner] * step + 1.0, y0 + depth[owner] - t)
        parts, part_row = shapely.get_parts(shapely.difference(strips, polygons[owner]),
                                            return_index=True)
        xb = shapely.bounds(parts)
        base = part_row * span + 2.0 - x_start[owner[part_row]]
        lo, hi = xb[:, 0] + base, xb[:, 2] + base
        order = np.argsort(lo, kind="stable")
        lo, reach = lo[order], np.maximum.accumulate(hi[order])
        cells = nx[owner]
        cell_row = np.repeat(np.arange(len(sel)), cells)
        j = np.arange(cell_row.size) - np.repeat(np.cumsum(cells) - cells, cells)
        c0 = cell_row * span + 2.0 + j * step + t
        c1 = c0 + width_m - 2 * t
        k = np.searchsorted(lo, c1, side="left") - 1
        inside = ~((k >= 0) & (reach[np.maximum(k, 0)] > c0))
        yield owner[cell_row[inside]], row_in_polygon[sel][cell_row[inside]], j[inside]
