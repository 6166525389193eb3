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


#: Lowest ground coverage ratio (module slope length ÷ row pitch) the GB 50797 row rule
#: may ask for. Its 9:00–15:00 winter-solstice criterion needs rows ever farther apart
#: towards 58.5°N, where the sun no longer reaches the criterion's elevation and the rule
#: has no answer; beyond about 52°N (GCR 0.25, row pitch four module lengths at 20° tilt)
#: the pitch is capped here instead, as fixed-tilt design at high latitude accepts some
#: winter row shading.
MIN_GCR = 0.25


def gb50797_shadow_ratio(latitude_deg: float) -> float:
    """Row gap over module top height that keeps rows unshaded 9:00–15:00 solar time
    on the winter solstice (GB 50797-2012): (0.707 tanφ + 0.4338) / (0.707 − 0.4338 tanφ);
    ``inf`` from about 58.5° where the criterion cannot be met."""
    t = np.tan(np.radians(abs(latitude_deg)))
    denominator = 0.707 - 0.4338 * t
    if denominator <= 0:
        return float("inf")
    return (0.707 * t + 0.4338) / denominator


def row_pitch_tilted(length_m: float, tilt_deg, latitude_deg: float):
    """Row pitch D (m, front edge to front edge) of tilted racks on a flat roof:
    D = L·cosβ + L·sinβ·ratio(φ) (GB 50797-2012), at most L / :data:`MIN_GCR`."""
    beta = np.radians(tilt_deg)
    ratio = gb50797_shadow_ratio(latitude_deg)
    with np.errstate(invalid="ignore"):
        pitch = length_m * np.cos(beta) + length_m * np.sin(beta) * ratio
    return np.minimum(np.where(np.sin(beta) > 0, pitch, length_m * np.cos(beta)),
                      length_m / MIN_GCR)


def row_pitch_capped(length_m: float, tilt_deg, latitude_deg: float) -> bool:
    """Whether :func:`row_pitch_tilted` caps the GB 50797 pitch at this latitude."""
    beta = np.radians(tilt_deg)
    ratio = gb50797_shadow_ratio(latitude_deg)
    return bool(np.sin(beta) > 0 and length_m * np.cos(beta) + length_m * np.sin(beta) * ratio
                > length_m / MIN_GCR)


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


#: Columns of the runs :func:`module_runs` returns, one entry per run.
RUN_FIELDS = ("polygon", "row", "column", "modules", "x", "y")


def module_runs(
    polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m
) -> dict[str, np.ndarray]:
    """The modules that fit in each polygon (local frame), as runs of consecutive modules
    along a row of the :func:`cell_grid`: a cell holds a module where its box, inset by
    :data:`TOLERANCE_M`, lies inside the polygon.

    Three vectorised paths, each over all polygons at once: axis-parallel rectangles
    hold their whole grid (one run per row, no test); in a convex polygon a row's free
    x-range is the polygon's narrowest cross-section at the strip's two edges (the left
    boundary is convex and the right one concave in y, so their extremes over the strip
    lie at its edges): one run per row in closed form; the other polygons go through
    :func:`_cells_in_rows` (one shapely difference per row band).

    Returns
    -------
    dict of :data:`RUN_FIELDS` arrays, one entry per run, ordered by polygon, row and
    column: ``polygon`` (position in ``polygons``), ``row`` and ``column`` (grid indices
    of the run's first cell from the lower-left cell), ``modules`` (cells in the run),
    ``x`` and ``y`` (lower-left corner of the run's first cell, m).
    """
    g = cell_grid(polygons, width_m, gap_m, depth_m, pitch_m)
    convex = _convex(polygons, g)
    found = [_rectangle_runs(g), _convex_runs(polygons, g, convex, width_m)]
    rest = g._replace(ny=np.where(g.rectangle | convex, 0, g.ny))
    for polygon, row, column in _cells_in_rows(polygons, rest, width_m):
        if polygon.size == 0:
            continue
        first = np.r_[True, (polygon[1:] != polygon[:-1]) | (row[1:] != row[:-1])
                      | (column[1:] != column[:-1] + 1)]
        starts = np.flatnonzero(first)
        found.append((polygon[starts], row[starts], column[starts],
                      np.diff(np.r_[starts, len(polygon)])))
    polygon, row, column, modules = (np.concatenate(v) for v in zip(*found))
    order = np.lexsort((column, row, polygon))
    polygon, row, column, modules = polygon[order], row[order], column[order], modules[order]
    return {"polygon": polygon, "row": row, "column": column, "modules": modules,
            "x": g.x_start[polygon] + column * g.step, "y": g.y_start[polygon] + row * g.pitch[polygon]}


def module_cells(
    polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m
) -> dict[str, np.ndarray]:
    """The :func:`module_runs` cell by cell: one entry per module, with ``polygon``,
    ``row``, ``column``, ``x`` and ``y`` (lower-left corner, m)."""
    runs = module_runs(polygons, width_m, gap_m, depth_m, pitch_m)
    n = runs["modules"]
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    step = width_m + gap_m
    return {"polygon": np.repeat(runs["polygon"], n), "row": np.repeat(runs["row"], n),
            "column": np.repeat(runs["column"], n) + k, "x": np.repeat(runs["x"], n) + k * step,
            "y": np.repeat(runs["y"], n)}


def count_modules(
    polygons: np.ndarray, width_m: float, gap_m: float, depth_m, pitch_m
) -> np.ndarray:
    """Number of modules that fit in each polygon (local frame): the cells of
    :func:`module_runs`.

    Returns
    -------
    ndarray of int, modules per polygon (0 for empty or missing polygons).
    """
    runs = module_runs(polygons, width_m, gap_m, depth_m, pitch_m)
    return np.bincount(runs["polygon"], weights=runs["modules"],
                       minlength=len(polygons)).astype(np.int64)


def _rows(g: CellGrid, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygon and row index of every grid row of the polygons selected by ``which``."""
    ny = np.where(which, g.ny, 0)
    polygon = np.repeat(np.arange(len(ny)), ny)
    return polygon, np.arange(polygon.size) - np.repeat(np.cumsum(ny) - ny, ny)


def _rectangle_runs(g: CellGrid):
    """Axis-parallel rectangles hold their whole grid: one full run per row."""
    polygon, row = _rows(g, g.rectangle & (g.nx > 0))
    return polygon, row, np.zeros_like(row), g.nx[polygon]


def _convex(polygons: np.ndarray, g: CellGrid) -> np.ndarray:
    """Single polygons without holes that equal their convex hull (to 1e-9 relative),
    not already rectangles and with at least one grid row."""
    candidate = np.flatnonzero(~g.rectangle & (g.ny > 0) & (g.nx > 0))
    out = np.zeros(len(polygons), bool)
    p = polygons[candidate]
    simple = (shapely.get_type_id(p) == 3) & (shapely.get_num_interior_rings(p) == 0)
    area = shapely.area(p)
    hull = shapely.area(shapely.convex_hull(p))
    out[candidate] = simple & (hull - area <= 1e-9 * np.maximum(hull, 1.0))
    return out


def _convex_runs(polygons: np.ndarray, g: CellGrid, convex: np.ndarray, width_m: float):
    """One run per row of each convex polygon, in closed form: the row's strip (inset by
    :data:`TOLERANCE_M`) is free between the larger left and the smaller right boundary
    of the polygon's cross-sections at the strip's lower and upper edge (``convex``:
    the polygons to do, as from :func:`_convex`)."""
    polygon, row = _rows(g, convex)
    if polygon.size == 0:
        return polygon, row, row.copy(), row.copy()
    t = TOLERANCE_M
    y0 = g.y_start[polygon] + row * g.pitch[polygon]
    ys = np.stack([y0 + t, y0 + g.depth[polygon] - t])            # 2 × rows
    # Edges of the convex polygons (exterior rings; closing point repeats the first).
    ring = shapely.get_exterior_ring(polygons[convex])
    xy, owner = shapely.get_coordinates(ring, return_index=True)
    last = np.r_[owner[1:] != owner[:-1], True]
    keep = ~last
    ex0, ey0 = xy[:-1][keep[:-1]].T
    ex1, ey1 = xy[1:][keep[:-1]].T
    edge_owner = np.flatnonzero(convex)[owner[:-1][keep[:-1]]]
    # Pair every row with every edge of its polygon.
    edges_per = np.bincount(edge_owner, minlength=len(polygons))
    edge_first = np.cumsum(edges_per) - edges_per
    count = edges_per[polygon]
    pair_row = np.repeat(np.arange(polygon.size), count)
    pair_edge = edge_first[polygon][pair_row] + (
        np.arange(pair_row.size) - np.repeat(np.cumsum(count) - count, count))
    a0, b0, a1, b1 = ex0[pair_edge], ey0[pair_edge], ex1[pair_edge], ey1[pair_edge]
    left = np.full((2, polygon.size), -np.inf)
    right = np.full((2, polygon.size), np.inf)
    lo_y, hi_y = np.minimum(b0, b1), np.maximum(b0, b1)
    for k in (0, 1):
        y = ys[k][pair_row]
        crosses = (lo_y <= y) & (y <= hi_y) & (hi_y > lo_y)
        with np.errstate(invalid="ignore", divide="ignore"):
            x = a0 + (y - b0) * (a1 - a0) / (b1 - b0)
        xs_min = np.full(polygon.size, np.inf)
        xs_max = np.full(polygon.size, -np.inf)
        np.minimum.at(xs_min, pair_row[crosses], x[crosses])
        np.maximum.at(xs_max, pair_row[crosses], x[crosses])
        left[k], right[k] = xs_min, xs_max
    lo, hi = left.max(axis=0), right.min(axis=0)                  # free x-range of the row
    x_start, step = g.x_start[polygon], g.step
    first = np.maximum(np.ceil((lo - t - x_start) / step - 1e-9), 0)
    last_col = np.minimum(np.floor((hi + t - width_m - x_start) / step + 1e-9), g.nx[polygon] - 1)
    modules = np.where(np.isfinite(lo) & np.isfinite(hi), last_col - first + 1, 0)
    full = modules > 0
    return (polygon[full], row[full], first[full].astype(np.int64),
            modules[full].astype(np.int64))


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
