"""Module layout on roof planes: row spacing, packing, module count and capacity.

Planes arrive in their local frame (facing local −y, horizontal metres; see
:func:`roofpv.roofs.roof.roof_planes`). Modules stand in portrait, their long side down
the slope, in rows running along local x. A module is placed where its whole
horizontal footprint fits inside the plane polygon after setbacks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from roofpv.roofs import convex

#: Module cells are tested inset by this much (m): a module that touches an edge
#: exactly is not pushed out by digitising or reprojection noise.
TOLERANCE_M = 1e-3


#: A measured roof plane at least this large (plan area, m²) that holds no module gets
#: a reason (``plane_too_narrow``): it is about eight modules' area, so a plane of this
#: size left empty says something about its shape, not its size.
EMPTY_PLANE_MIN_AREA_M2 = 20.0


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
    """Each polygon's rows of modules (m): ``ny`` rows, the first starting at
    ``y_start``, ``pitch`` apart, each ``depth`` deep; along a row up to ``nx`` modules
    ``step`` apart from ``x_start``."""

    nx: np.ndarray       # columns
    ny: np.ndarray       # rows
    x_start: np.ndarray  # lower-left corner of the first cell
    y_start: np.ndarray
    step: np.ndarray     # column spacing: module width + gap
    depth: np.ndarray    # row depth (horizontal footprint of a module)
    pitch: np.ndarray    # row spacing
    rectangle: np.ndarray  # axis-parallel rectangles hold their whole grid


def cell_grid(polygons: np.ndarray, width_m, gap_m: float, depth_m, pitch_m) -> CellGrid:
    """The grid of cells of each polygon (local frame), centred in its bounds.

    Modules of horizontal footprint ``width_m`` × ``depth_m`` stand in rows along x,
    ``gap_m`` apart, consecutive rows ``pitch_m`` apart in y. The grid is centred in
    the polygon's bounds, so the slack is shared between opposite edges. Width, depth
    and pitch may differ per polygon.
    """
    n = len(polygons)
    width, depth, pitch = (np.broadcast_to(np.asarray(v, float), (n,)) for v in (width_m, depth_m, pitch_m))
    valid = ~shapely.is_empty(polygons) & ~shapely.is_missing(polygons)
    xmin, ymin, xmax, ymax = np.where(valid[:, None], shapely.bounds(polygons), 0.0).T
    step = width + gap_m
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


#: Row positions tried in a polygon that is not an axis-parallel rectangle besides the
#: rows centred in its bounds: the first row's lower edge at 0, 1/n, … (n − 1)/n of a
#: row pitch above the polygon's lowest point. A staircase or slanted outline can lose
#: a whole row to an unlucky row position; with n = 4 the position kept is within a
#: quarter pitch of the best one.
ROW_PHASES = 4

#: Columns of the runs :func:`module_runs` returns, one entry per run.
RUN_FIELDS = ("polygon", "row", "modules", "x", "y")


def module_runs(
    polygons: np.ndarray, width_m, gap_m: float, depth_m, pitch_m
) -> dict[str, np.ndarray]:
    """The modules that fit in each polygon (local frame), as runs of consecutive modules
    along rows: a module is placed where its box, inset by :data:`TOLERANCE_M`, lies
    inside the polygon.

    Axis-parallel rectangles hold their whole :func:`cell_grid` (one run per row, no
    test). In the other polygons a row spans the strip y0 … y0 + depth; the strip
    splits into free x-ranges where it lies wholly inside the polygon, read from the
    polygon's edges clipped to the strip (:func:`_free_ranges`, all polygons at once
    with numpy), and each free range holds as many modules as fit in it, centred in it
    (installers shift each run along its row to fit the outline). The rows are tried
    centred in the bounds and at :data:`ROW_PHASES` other positions; each polygon keeps
    the position that holds most modules (the centred one on ties).

    Parameters
    ----------
    polygons : local-frame polygons (rows run along x, consecutive rows step up y)
    width_m : module width along the row (m), scalar or per polygon
    gap_m : gap between modules along the row (m)
    depth_m, pitch_m : row depth and row pitch (m, horizontal), scalar or per polygon

    Returns
    -------
    dict of :data:`RUN_FIELDS` arrays, one entry per run, ordered by polygon, row and
    x: ``polygon`` (position in ``polygons``), ``row`` (row index from the lowest row
    position), ``modules`` (modules in the run), ``x`` and ``y`` (lower-left corner of
    the run's first module, m).
    """
    g = cell_grid(polygons, width_m, gap_m, depth_m, pitch_m)
    # Rectangles: their whole grid, one run per row.
    polygon, row = _rows(g.ny, g.rectangle & (g.nx > 0))
    rect = (polygon, row, g.nx[polygon], g.x_start[polygon], g.y_start[polygon] + row * g.pitch[polygon])
    # The others: candidate row positions, centred first, then the ROW_PHASES phases.
    other = np.flatnonzero(~g.rectangle & (g.ny > 0) & (g.nx > 0))
    k = ROW_PHASES + 1
    owner = np.repeat(other, k)
    phase = np.tile(np.arange(-1, ROW_PHASES) / ROW_PHASES, other.size)
    ymin, ymax = shapely.bounds(polygons[owner])[:, [1, 3]].T if owner.size else (np.zeros(0),) * 2
    depth, pitch, step = g.depth[owner], g.pitch[owner], g.step[owner]
    centred = phase < 0
    y_start = np.where(centred, g.y_start[owner], ymin + phase * pitch)
    ny = np.where(centred, g.ny[owner],
                  np.maximum(np.floor((ymax - y_start - depth) / pitch + 1e-9) + 1, 0)).astype(np.int64)
    c = CellGrid(g.nx[owner], ny, g.x_start[owner], y_start, step, depth, pitch, np.zeros(owner.size, bool))
    cand, c_row, lo, hi = _free_ranges(_edges(polygons[owner], ny > 0), c)
    fits = np.floor((hi - lo + 2 * TOLERANCE_M + gap_m) / step[cand] + 1e-9)
    # Best candidate of each polygon: most modules, the first (centred) on ties.
    total = np.bincount(cand, weights=np.maximum(fits, 0), minlength=owner.size).reshape(-1, k)
    best = np.flatnonzero(np.arange(k)[None, :] == np.argmax(total, axis=1)[:, None])
    keep = np.isin(cand, best) & (fits > 0)
    cand, c_row, lo, hi, fits = (v[keep] for v in (cand, c_row, lo, hi, fits))
    free = (owner[cand], c_row, fits.astype(np.int64),
            (lo + hi) / 2.0 - (fits * step[cand] - gap_m) / 2.0, y_start[cand] + c_row * pitch[cand])
    polygon, row, modules, x, y = (np.concatenate(v) for v in zip(rect, free))
    order = np.lexsort((x, row, polygon))
    return {"polygon": polygon[order], "row": row[order], "modules": modules[order],
            "x": x[order], "y": y[order]}


def module_cells(
    polygons: np.ndarray, width_m, gap_m: float, depth_m, pitch_m
) -> dict[str, np.ndarray]:
    """The :func:`module_runs` module by module: one entry per module, with ``polygon``,
    ``row``, ``x`` and ``y`` (lower-left corner, m)."""
    runs = module_runs(polygons, width_m, gap_m, depth_m, pitch_m)
    n = runs["modules"]
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    step = np.broadcast_to(np.asarray(width_m, float), (len(polygons),))[runs["polygon"]] + gap_m
    return {"polygon": np.repeat(runs["polygon"], n), "row": np.repeat(runs["row"], n),
            "x": np.repeat(runs["x"], n) + k * np.repeat(step, n), "y": np.repeat(runs["y"], n)}


def count_modules(
    polygons: np.ndarray, width_m, gap_m: float, depth_m, pitch_m
) -> np.ndarray:
    """Number of modules that fit in each polygon (local frame): the modules of
    :func:`module_runs`.

    Returns
    -------
    ndarray of int, modules per polygon (0 for empty or missing polygons).
    """
    runs = module_runs(polygons, width_m, gap_m, depth_m, pitch_m)
    return np.bincount(runs["polygon"], weights=runs["modules"],
                       minlength=len(polygons)).astype(np.int64)


def _rows(ny: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygon and row index of every row of the polygons selected by ``which``."""
    ny = np.where(which, ny, 0)
    polygon = np.repeat(np.arange(len(ny)), ny)
    return polygon, np.arange(polygon.size) - np.repeat(np.cumsum(ny) - ny, ny)


class Edges(NamedTuple):
    """Boundary segments of polygons (m): from (x0, y0) to (x1, y1), ``owner`` = position
    of the polygon; ``convex`` per polygon: a single counter-clockwise ring that turns
    left (or goes straight) at every vertex, once round."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    owner: np.ndarray
    convex: np.ndarray


def _edges(polygons: np.ndarray, which: np.ndarray) -> Edges:
    """The edges of the polygons selected by ``which``. Polygons with holes, several
    parts or an invalid outline (made valid first, as containment would see them) are
    split into their rings."""
    rings, single = convex.from_polygons(np.where(which, polygons, None))
    single &= which
    is_convex = single & (convex.convexity(rings) >= 0)
    nxt = rings.following()
    owner = rings.owner
    start, end = rings.xy, rings.xy[nxt]
    other = np.flatnonzero(which & ~single)
    if other.size:
        p = polygons[other]
        bad = ~shapely.is_valid(p)
        p = np.where(bad, shapely.make_valid(p), p)
        parts, part_of = shapely.get_parts(p, return_index=True)
        areal = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        ring, ring_of = shapely.get_rings(parts[areal], return_index=True)
        xy, k = shapely.get_coordinates(ring, return_index=True)
        same = k[1:] == k[:-1]                   # consecutive vertices of one ring
        start = np.concatenate([start, xy[:-1][same]])
        end = np.concatenate([end, xy[1:][same]])
        owner = np.concatenate([owner, other[part_of[areal][ring_of][k[:-1][same]]]])
    return Edges(start[:, 0], start[:, 1], end[:, 0], end[:, 1], owner, is_convex)


def _free_ranges(e: Edges, g: CellGrid):
    """The free ranges of the rows of the polygons whose ``e``dges are given: x-ranges
    where a row's strip (inset by :data:`TOLERANCE_M`) lies wholly inside its polygon.

    A row's strip meets some edges; each blocks the x-range of its part inside the
    strip. Between blocked ranges the strip lies wholly inside or wholly outside the
    polygon: inside where an odd number of edges crosses the strip's mid-line to the
    left. For a convex polygon the free range is simply right of its left chain (edges
    going down) and left of its right chain (going up).

    Returns
    -------
    polygon, row, lo, hi : one entry per free range (position in ``g``, row, x-range, m)
    """
    t = TOLERANCE_M
    # Pair each edge with the rows whose strip it enters (open overlap in y).
    ylo, yhi = np.minimum(e.y0, e.y1), np.maximum(e.y0, e.y1)
    o = e.owner
    ys, pitch, depth, ny = g.y_start[o], g.pitch[o], g.depth[o], g.ny[o]
    with np.errstate(invalid="ignore"):
        r_lo = np.clip(np.floor((ylo - ys - depth) / pitch), 0, np.maximum(ny - 1, 0)).astype(np.int64)
        r_hi = np.clip(np.ceil((yhi - ys) / pitch), -1, ny - 1).astype(np.int64)
    count = np.maximum(r_hi - r_lo + 1, 0)
    pair_edge = np.repeat(np.arange(o.size), count)
    row = r_lo[pair_edge] + np.arange(pair_edge.size) - np.repeat(np.cumsum(count) - count, count)
    po = o[pair_edge]
    y0 = g.y_start[po] + row * g.pitch[po]
    s0, s1 = y0 + t, y0 + g.depth[po] - t
    a0, b0, a1, b1 = e.x0[pair_edge], e.y0[pair_edge], e.x1[pair_edge], e.y1[pair_edge]
    lo_y, hi_y = ylo[pair_edge], yhi[pair_edge]
    meets = (hi_y > s0) & (lo_y < s1)
    pair_edge, row, po, s0, s1, a0, b0, a1, b1, lo_y, hi_y = (
        v[meets] for v in (pair_edge, row, po, s0, s1, a0, b0, a1, b1, lo_y, hi_y))
    # x-range of each edge's part inside its strip.
    flat = hi_y == lo_y
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (a1 - a0) / (b1 - b0)
        ya, yb = np.maximum(s0, lo_y), np.minimum(s1, hi_y)
        xa = np.where(ya == b0, a0, np.where(ya == b1, a1, a0 + (ya - b0) * slope))
        xb = np.where(yb == b0, a0, np.where(yb == b1, a1, a0 + (yb - b0) * slope))
    x_lo = np.where(flat, np.minimum(a0, a1), np.minimum(xa, xb))
    x_hi = np.where(flat, np.maximum(a0, a1), np.maximum(xa, xb))

    # Row key: (polygon, row) numbered across all rows of the grid.
    row_first = np.cumsum(g.ny) - g.ny
    key = row_first[po] + row
    total = int(g.ny.sum())
    free_lo = np.full(total, -np.inf)
    free_hi = np.full(total, np.inf)
    cv = e.convex[po]
    left = cv & (b1 < b0)
    right = cv & (b1 > b0)
    np.maximum.at(free_lo, key[left], x_hi[left])
    np.minimum.at(free_hi, key[right], x_lo[right])
    convex_rows = np.flatnonzero(np.isfinite(free_lo) & np.isfinite(free_hi))
    gap_key, gap_lo, gap_hi = convex_rows, free_lo[convex_rows], free_hi[convex_rows]

    # Other polygons: merge the blocked ranges of each row, keep the gaps inside.
    other = ~cv
    if other.any():
        k, xl, xh = key[other], x_lo[other], x_hi[other]
        order = np.lexsort((xl, k))
        k, xl, reach = k[order], xl[order], xh[order]
        first = np.r_[True, k[1:] != k[:-1]]
        # Running maximum of the blocked ranges' right ends, restarted at each row.
        reach = _running_max(reach, first)
        gap = np.flatnonzero(~first[1:] & (xl[1:] > reach[:-1]))
        g_key, g_lo, g_hi = k[gap], reach[gap], xl[gap + 1]
        # Parity of the edges crossing the strip's mid-line left of each gap.
        ym = (s0[other] + s1[other]) / 2.0
        b0o, b1o, a0o, a1o = b0[other], b1[other], a0[other], a1[other]
        crosses = (b0o <= ym) != (b1o <= ym)
        with np.errstate(invalid="ignore", divide="ignore"):
            xc = a0o + (ym - b0o) * (a1o - a0o) / (b1o - b0o)
        ck, cx = key[other][crosses], xc[crosses]
        corder = np.lexsort((cx, ck))
        ck, cx = ck[corder], cx[corder]
        mid = (g_lo + g_hi) / 2.0
        # Crossings of a row before the gap's middle: rank by (row, x) in the sorted list.
        below = _rank(ck, cx, g_key, mid) - np.searchsorted(ck, g_key, side="left")
        inside = below % 2 == 1
        gap_key = np.r_[gap_key, g_key[inside]]
        gap_lo = np.r_[gap_lo, g_lo[inside]]
        gap_hi = np.r_[gap_hi, g_hi[inside]]

    polygon = np.repeat(np.arange(len(g.ny)), g.ny)[gap_key]
    return polygon, gap_key - row_first[polygon], gap_lo, gap_hi


def _running_max(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` restarted wherever ``first`` is set, exact: each
    value is one of ``values``, whatever else the array holds (lifting the segments
    apart for one accumulate rounded them by up to ~1e-10 m, depending on the array)."""
    if values.size == 0:
        return values
    return pd.Series(values).groupby(np.cumsum(first)).cummax().to_numpy()


def _rank(keys: np.ndarray, xs: np.ndarray, key: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Position in ``keys``/``xs`` (sorted by key, then x) of the first pair with the
    same key as ``key`` and an x not below ``x``; blocks of equal keys are short."""
    start = np.searchsorted(keys, key, side="left")
    end = np.searchsorted(keys, key, side="right")
    count = np.zeros(key.size, np.int64)
    for j in range(int(np.max(end - start, initial=0))):
        pos = np.minimum(start + j, keys.size - 1)
        count += (start + j < end) & (xs[pos] < x)
    return start + count
