"""Outer walls of buildings from their footprints and heights.

A wall segment is one edge of a footprint's exterior ring, standing from the ground to
the building's height. Its outward normal gives its azimuth (clockwise from grid north,
the direction the wall faces). Where a neighbouring footprint stands against the edge
(a party wall of row houses, a building joined to another) the part of the wall up to
the neighbour's height is hidden: it is read at a few points along the edge, just
outside it, so a wall half covered by a lower neighbour keeps its exposed share.

Everything is computed for all footprints at once (shapely 2 and numpy); nothing loops
over buildings.
"""

from __future__ import annotations

import numpy as np
import shapely

#: Points along each edge, as fractions of its length, at which a neighbour standing
#: against it is looked for.
SAMPLES = (1 / 6, 1 / 2, 5 / 6)


def segments(geometry: np.ndarray) -> dict[str, np.ndarray]:
    """Edges of the footprints' rings, with their outward azimuth.

    Parameters
    ----------
    geometry : array of shapely Polygons or MultiPolygons (projected, metres); missing
        or empty ones have no edges

    Returns
    -------
    dict of arrays, one entry per edge, footprint by footprint:
        ``owner`` (position of its footprint in ``geometry``), ``exterior`` (an edge of
        an exterior ring: a wall; else of a courtyard), ``x0, y0, x1, y1`` (end points
        [m]), ``length_m`` [m], ``azimuth_deg`` (the direction the edge faces away from
        its footprint, clockwise from grid north [degrees]), ``nx, ny`` (that outward
        unit normal).
    """
    parts, owner = shapely.get_parts(np.asarray(geometry, dtype=object), return_index=True)
    keep = shapely.get_type_id(parts) == 3  # polygons (parts of collections may be lines)
    parts, owner = parts[keep], owner[keep]
    rings, part = shapely.get_rings(parts, return_index=True)
    exterior = np.r_[True, part[1:] != part[:-1]]  # the first ring of each part
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    x0, y0, x1, y1 = xy[:-1, 0][same], xy[:-1, 1][same], xy[1:, 0][same], xy[1:, 1][same]
    edge_ring = ring[:-1][same]
    # Shoelace sign per ring: the outside of a counter-clockwise exterior ring (and of
    # a clockwise hole) is on the right of its edges.
    signed = np.bincount(edge_ring, weights=x0 * y1 - x1 * y0, minlength=len(rings))
    right = (signed[edge_ring] > 0) == exterior[edge_ring]
    dx, dy = x1 - x0, y1 - y0
    length = np.hypot(dx, dy)
    with np.errstate(invalid="ignore", divide="ignore"):
        nx = np.where(right, dy, -dy) / length
        ny = np.where(right, -dx, dx) / length
    return {
        "owner": owner[part[edge_ring]], "exterior": exterior[edge_ring],
        "x0": x0, "y0": y0, "x1": x1, "y1": y1, "length_m": length,
        "azimuth_deg": np.degrees(np.arctan2(nx, ny)) % 360.0, "nx": nx, "ny": ny,
    }


def subset(edges: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    """The rows ``keep`` (boolean or positions) of a :func:`segments` table."""
    return {k: v[keep] for k, v in edges.items()}


def exposed_height(walls: dict[str, np.ndarray], geometry: np.ndarray, height_m: np.ndarray,
                   gap_m: float = 0.5) -> np.ndarray:
    """Mean height of each wall not hidden by a neighbour standing against it [m].

    At each of :data:`SAMPLES` along an edge, a point ``gap_m`` outside the wall is
    looked up in the other footprints within ``gap_m`` of the wall's own; where one
    holds it, the wall there is hidden up to that footprint's height (the whole wall if
    it is at least as tall). The result is the mean over the samples of
    ``height − hidden``.

    Parameters
    ----------
    walls : rows of the :func:`segments` of ``geometry``
    geometry : the footprints (projected, metres)
    height_m : height of each footprint above ground [m]; NaN counts as 0
    gap_m : how far outside the wall a neighbour counts as standing against it:
        the width of a digitising gap between two footprints that share a wall [m]
    """
    height = np.nan_to_num(np.asarray(height_m, dtype=float))
    owner = walls["owner"]
    own = height[owner]
    n = own.size
    if n == 0:
        return own
    # Footprints that touch or nearly touch one another; then their walls, pair by pair.
    a, b = shapely.STRtree(geometry).query(geometry, predicate="dwithin", distance=gap_m)
    a, b = a[a != b], b[a != b]
    order = np.argsort(owner, kind="stable")
    first = np.searchsorted(owner[order], np.arange(len(geometry) + 1))
    count = first[a + 1] - first[a]
    wall = order[np.repeat(first[a], count) + _ranges(count)]
    other = np.repeat(b, count)
    hidden = np.zeros((len(SAMPLES), n))
    for k, f in enumerate(SAMPLES):
        x = walls["x0"][wall] + f * (walls["x1"] - walls["x0"])[wall] + gap_m * walls["nx"][wall]
        y = walls["y0"][wall] + f * (walls["y1"] - walls["y0"])[wall] + gap_m * walls["ny"][wall]
        inside = shapely.contains_xy(geometry[other], x, y)
        np.maximum.at(hidden[k], wall[inside], height[other[inside]])
    return np.clip(own[None, :] - hidden, 0.0, None).mean(axis=0)


def turned(nx: np.ndarray, ny: np.ndarray, turn_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (east, north) turned clockwise by ``turn_deg`` (seen from above)."""
    c, s = np.cos(np.radians(turn_deg)), np.sin(np.radians(turn_deg))
    return nx * c + ny * s, ny * c - nx * s


def _ranges(count: np.ndarray) -> np.ndarray:
    """0, 1, …, c − 1 for each c of ``count``, concatenated."""
    total = int(count.sum())
    return np.arange(total) - np.repeat(np.cumsum(count) - count, count)


def facing_obstruction(walls: dict[str, np.ndarray], z_m: np.ndarray, geometry: np.ndarray,
                       height_m: np.ndarray, edges: dict[str, np.ndarray], offset_m: float,
                       radius_m: float, turn_deg: float = 0.0) -> np.ndarray:
    """Tangent of the elevation angle of the highest building straight in front of each
    wall, seen from the wall's middle at height ``z_m`` above ground.

    A ray leaves the middle of each wall along its outward normal, from ``offset_m`` to
    ``offset_m + radius_m`` outside it; every footprint it crosses (the wall's own, where
    the outline turns back in front of it) is an obstacle of its height at the distance
    where the ray first meets its outline (``offset_m`` where the ray starts inside it).
    ``edges`` are the :func:`segments` of ``geometry``; ``turn_deg`` turns the ray from
    the normal (clockwise seen from above). Returns max((height − z) / distance), at
    least 0, where distance runs along the ray [unitless].
    """
    n = walls["owner"].size
    if n == 0:
        return np.zeros(0)
    nx, ny = turned(walls["nx"], walls["ny"], turn_deg)
    sx = (walls["x0"] + walls["x1"]) / 2 + offset_m * nx
    sy = (walls["y0"] + walls["y1"]) / 2 + offset_m * ny
    rays = shapely.linestrings(np.stack([np.column_stack([sx, sy]),
                                         np.column_stack([sx + radius_m * nx, sy + radius_m * ny])], axis=1))
    ray, hit = shapely.STRtree(geometry).query(rays)  # boxes only: the exact test is below
    height = np.nan_to_num(np.asarray(height_m, dtype=float))
    rise = height[hit] - z_m[ray]
    ray, hit, rise = ray[rise > 0], hit[rise > 0], rise[rise > 0]
    # Every edge of every ring of the candidate footprints, against its ray.
    first = np.searchsorted(edges["owner"], np.arange(len(geometry) + 1))  # edges come by owner
    count = first[hit + 1] - first[hit]
    pair = np.repeat(np.arange(ray.size), count)
    e = np.repeat(first[hit], count) + _ranges(count)
    r = ray[pair]
    ex, ey = edges["x1"][e] - edges["x0"][e], edges["y1"][e] - edges["y0"][e]
    ax, ay = edges["x0"][e] - sx[r], edges["y0"][e] - sy[r]
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = nx[r] * ey - ny[r] * ex
        t = (ax * ey - ay * ex) / denominator          # along the ray [m]
        u = (ax * ny[r] - ay * nx[r]) / denominator    # along the edge [0, 1]
    crossing = (t >= 0) & (t <= radius_m) & (u >= 0) & (u <= 1)
    near = np.full(ray.size, np.inf)
    np.minimum.at(near, pair[crossing], t[crossing])
    start_inside = shapely.contains_xy(geometry[hit], sx[ray], sy[ray])
    distance = np.where(start_inside, 0.0, near) + offset_m
    seen = np.isfinite(distance)
    out = np.zeros(n)
    np.maximum.at(out, ray[seen], rise[seen] / distance[seen])
    return out
