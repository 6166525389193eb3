"""Convex polygons as coordinate arrays: the closed-form geometry behind the fast paths
of :mod:`roofpv.roofs.roof` (clipping at the ridge, setback inset).

A set of polygons without holes is held as :class:`Rings`: the vertices of all rings
one after the other, counter-clockwise and without the closing vertex, and the number
of vertices of each ring (0: empty). Every function works on all rings at once with
numpy, so no geometry operation runs per polygon.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import shapely


class Rings(NamedTuple):
    """Simple polygons as one vertex array (m)."""

    xy: np.ndarray     # (N, 2) vertices, ring after ring, counter-clockwise, not closed
    count: np.ndarray  # (n,) vertices of each ring; 0 for an empty polygon

    @property
    def start(self) -> np.ndarray:
        """Position in ``xy`` of each ring's first vertex."""
        return np.cumsum(self.count) - self.count

    @property
    def owner(self) -> np.ndarray:
        """Ring of each vertex."""
        return np.repeat(np.arange(len(self.count)), self.count)

    def following(self) -> np.ndarray:
        """Position in ``xy`` of each vertex's successor along its ring."""
        nxt = np.arange(1, len(self.xy) + 1)
        full = self.count > 0
        nxt[(self.start + self.count - 1)[full]] = self.start[full]
        return nxt


def from_polygons(polygons: np.ndarray) -> tuple[Rings, np.ndarray]:
    """The exterior rings of ``polygons``, turned counter-clockwise, and which polygons
    they represent whole (non-empty Polygons without holes; the others get no ring)."""
    ok = ((shapely.get_type_id(polygons) == shapely.GeometryType.POLYGON)
          & ~shapely.is_empty(polygons) & (shapely.get_num_interior_rings(polygons) == 0))
    xy, index = shapely.get_coordinates(polygons[ok], return_index=True)
    closing = np.ones(index.size, bool)                  # a ring's repeated last vertex
    closing[:-1] = index[1:] != index[:-1]
    count = np.zeros(len(polygons), np.int64)
    count[ok] = np.bincount(index, minlength=int(ok.sum())) - 1
    rings = Rings(xy[~closing], count)
    # Reverse clockwise rings (negative shoelace area about the ring's first vertex).
    clockwise = signed_area(rings) < 0
    if clockwise.any():
        start, owner = rings.start, rings.owner
        k = np.arange(len(owner)) - start[owner]
        flip = clockwise[owner]
        source = np.where(flip, start[owner] + count[owner] - 1 - k, np.arange(len(owner)))
        rings = Rings(rings.xy[source], count)
    return rings, ok


def signed_area(rings: Rings) -> np.ndarray:
    """Shoelace area of each ring (m²), positive counter-clockwise; taken about the
    ring's first vertex to keep projected coordinates' digits."""
    if len(rings.xy) == 0:
        return np.zeros(len(rings.count))
    owner = rings.owner
    d = rings.xy - rings.xy[rings.start[owner]]
    e = d[rings.following()]
    cross = d[:, 0] * e[:, 1] - d[:, 1] * e[:, 0]
    return np.bincount(owner, weights=cross, minlength=len(rings.count)) / 2.0


def convexity(rings: Rings) -> np.ndarray:
    """How convex each ring is: the smallest distance (m) of a vertex from the line
    through its two neighbours, positive where the ring turns left there, or −inf for a
    ring that is not a convex polygon (a right turn, or turning round more than once) or
    has fewer than 3 vertices. 0 means a repeated or collinear vertex."""
    n = len(rings.count)
    out = np.full(n, -np.inf)
    if len(rings.xy) == 0:
        return out
    owner, nxt = rings.owner, rings.following()
    prev = np.empty_like(nxt)
    prev[nxt] = np.arange(len(nxt))
    a, b = rings.xy[nxt] - rings.xy, rings.xy - rings.xy[prev]     # outgoing, incoming edge
    cross = b[:, 0] * a[:, 1] - b[:, 1] * a[:, 0]
    dot = (b * a).sum(axis=1)
    chord = np.hypot(*(rings.xy[nxt] - rings.xy[prev]).T)
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.where(chord > 0, cross / chord, 0.0)
    # A convex ring turns left (or goes straight) at every vertex, once round in all.
    turning = np.bincount(owner, weights=np.arctan2(cross, dot), minlength=n)
    lowest = np.full(n, np.inf)
    full = rings.count > 0
    lowest[full] = np.minimum.reduceat(distance, rings.start[full])
    simple = (rings.count >= 3) & (np.abs(turning - 2 * np.pi) < 1e-6) & (lowest > -1e-9)
    out[simple] = lowest[simple]
    return out


def clip(rings: Rings, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> Rings:
    """Part of each convex ring where a·x + b·y ≤ c (one half-plane per ring;
    Sutherland–Hodgman). Rings left with fewer than 3 vertices become empty."""
    if len(rings.xy) == 0:
        return rings
    owner, nxt = rings.owner, rings.following()
    xy = rings.xy
    s = a[owner] * xy[:, 0] + b[owner] * xy[:, 1] - c[owner]
    inside = s <= 0
    cross = np.flatnonzero(inside != inside[nxt])
    j = nxt[cross]
    t = s[cross] / (s[cross] - s[j])
    # Each vertex gives itself if inside, then the crossing of its edge if any.
    emit = inside.astype(np.int64)
    emit[cross] += 1
    at = np.cumsum(emit) - emit
    out_xy = np.empty((int(emit.sum()), 2))
    out_xy[at[inside]] = xy[inside]
    out_xy[at[cross] + inside[cross]] = xy[cross] + t[:, None] * (xy[j] - xy[cross])
    count = np.bincount(owner, weights=emit, minlength=len(rings.count)).astype(np.int64)
    full = count >= 3
    if full.all():
        return Rings(out_xy, count)
    return Rings(out_xy[np.repeat(full, count)], np.where(full, count, 0))


def inset(rings: Rings, distance: np.ndarray) -> tuple[Rings, np.ndarray]:
    """Each convex ring shrunk by ``distance`` (m) where none of its edges vanishes, and
    which rings those are (the others are left empty). Each new vertex is where the
    lines of its two edges, moved ``distance`` inwards, meet: a negative mitred buffer of
    a convex polygon. Rings should have no repeated or collinear vertices
    (:func:`convexity` > 0)."""
    if len(rings.xy) == 0:
        return rings, rings.count > 0
    owner, nxt = rings.owner, rings.following()
    prev = np.empty_like(nxt)
    prev[nxt] = np.arange(len(nxt))
    e = rings.xy[nxt] - rings.xy
    normal = np.column_stack([-e[:, 1], e[:, 0]]) / np.hypot(*e.T)[:, None]  # inward, unit
    n0, d = normal[prev], distance[owner]
    moved = rings.xy + (d / (1.0 + (n0 * normal).sum(axis=1)))[:, None] * (n0 + normal)
    # An edge survives where its moved end points keep their order along it.
    kept = ((moved[nxt] - moved) * e).sum(axis=1) > 0
    whole = (np.bincount(owner, weights=~kept, minlength=len(rings.count)) == 0) & (rings.count > 0)
    return select(Rings(moved, rings.count), whole), whole


def to_polygons(rings: Rings) -> np.ndarray:
    """Shapely Polygons of the rings (empty Polygons for empty rings), built in one pass."""
    full = rings.count > 0
    start = rings.start
    owner = rings.owner
    k = np.arange(len(owner)) - start[owner]
    # Insert each ring's closing vertex after its last one.
    closed_count = np.where(full, rings.count + 1, 0)
    closed_start = np.cumsum(closed_count) - closed_count
    xy = np.empty((int(closed_count.sum()), 2))
    xy[closed_start[owner] + k] = rings.xy
    xy[(closed_start + rings.count)[full]] = rings.xy[start[full]]
    ring_offsets = np.r_[0, np.cumsum(closed_count[full])]
    polygon_offsets = np.r_[0, np.cumsum(full)]
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (ring_offsets, polygon_offsets))


def select(rings: Rings, keep: np.ndarray) -> Rings:
    """The rings with those not in ``keep`` made empty."""
    return Rings(rings.xy[keep[rings.owner]], np.where(keep, rings.count, 0))


def take(rings: Rings, index: np.ndarray) -> Rings:
    """The rings at positions ``index``, in that order."""
    count = rings.count[index]
    first = rings.start[index]
    at = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    return Rings(rings.xy[at], count)


def concat(*parts: Rings) -> Rings:
    """The rings of all ``parts``, one after the other."""
    return Rings(np.concatenate([p.xy for p in parts]), np.concatenate([p.count for p in parts]))


def bounds(rings: Rings) -> np.ndarray:
    """(n, 4) xmin, ymin, xmax, ymax of each ring (NaN for empty rings)."""
    out = np.full((len(rings.count), 4), np.nan)
    full = rings.count > 0
    if full.any():
        at = rings.start[full]
        out[full, :2] = np.minimum.reduceat(rings.xy, at, axis=0)
        out[full, 2:] = np.maximum.reduceat(rings.xy, at, axis=0)
    return out
