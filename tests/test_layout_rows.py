"""Module packing by rows agrees with a per-row shapely reference, places every module
inside its plane and never holds fewer modules than the fixed centred grid."""

import numpy as np
import shapely

from roofpv.roofs import layout

W, GAP = 1.134, 0.02


def centred_grid_count(polygon, width, gap, depth, pitch):
    """The fixed grid centred in the bounds, each inset cell tested with shapely.contains."""
    xmin, ymin, xmax, ymax = polygon.bounds
    step = width + gap
    nx = int(np.floor((xmax - xmin + gap) / step + 1e-9))
    ny = int(np.floor((ymax - ymin - depth) / pitch + 1e-9)) + 1 if ymax - ymin >= depth else 0
    x0 = xmin + (xmax - xmin - (nx * step - gap)) / 2
    y0 = ymin + (ymax - ymin - ((ny - 1) * pitch + depth)) / 2
    t = layout.TOLERANCE_M
    cells = [shapely.box(x0 + i * step + t, y0 + j * pitch + t, x0 + i * step + width - t,
                         y0 + j * pitch + depth - t) for i in range(nx) for j in range(ny)]
    return int(shapely.contains(polygon, cells).sum()) if cells else 0


def row_reference(polygon, width, gap, depth, pitch):
    """Independent reference: at each row position the layout tries (centred, then
    ROW_PHASES phases from the lowest point), each row strip's free x-intervals are the
    strip's x-range less the x-extent of every piece of the strip outside the polygon
    (shapely difference); each interval holds floor((length + gap) / step) modules."""
    xmin, ymin, xmax, ymax = polygon.bounds
    t, step = layout.TOLERANCE_M, width + gap
    if ymax - ymin < depth - 1e-9 or np.floor((xmax - xmin + gap) / step + 1e-9) == 0:
        return 0
    ny_c = int(np.floor((ymax - ymin - depth) / pitch + 1e-9)) + 1
    starts = [ymin + (ymax - ymin - ((ny_c - 1) * pitch + depth)) / 2]
    starts += [ymin + k / layout.ROW_PHASES * pitch for k in range(layout.ROW_PHASES)]
    best = 0
    for y0 in starts:
        total = 0
        for j in range(int(np.floor((ymax - y0 - depth) / pitch + 1e-9)) + 1):
            strip = shapely.box(xmin - 1, y0 + j * pitch + t, xmax + 1, y0 + j * pitch + depth - t)
            outside = shapely.get_parts(strip.difference(polygon))
            blocked = sorted((p.bounds[0], p.bounds[2]) for p in outside if not p.is_empty)
            edge = xmin - 1
            for lo, hi in blocked + [(xmax + 1, xmax + 1)]:
                if lo > edge:
                    total += max(int(np.floor((lo - edge + 2 * t + gap) / step + 1e-9)), 0)
                edge = max(edge, hi)
        best = max(best, total)
    return best


def irregular_planes(seed, n):
    rng = np.random.default_rng(seed)
    polygons = []
    for i in range(n):
        r = rng.uniform(3, 25)
        if i % 4 == 0:  # star-shaped polygon
            angle = np.sort(rng.uniform(0, 2 * np.pi, 9))
            radius = rng.uniform(0.5 * r, r, 9)
            shape = shapely.Polygon(np.c_[radius * np.cos(angle), radius * np.sin(angle)])
        elif i % 4 == 1:  # courtyard
            shape = shapely.box(-r, -r, r, r).difference(shapely.box(-r / 3, -r / 4, r / 2, r / 3))
        elif i % 4 == 2:  # L shape
            shape = shapely.box(-r, -r / 2, r, r / 2).difference(shapely.box(0, 0, r, r))
        else:  # rotated rectangle or convex hull
            shape = shapely.MultiPoint(rng.uniform(-r, r, (12, 2))).convex_hull
        polygons.append(shapely.affinity.rotate(shapely.make_valid(shape), rng.uniform(0, 90)))
    polygons = np.array(polygons + [shapely.box(0, 0, 10, 4)], dtype=object)
    depth = rng.uniform(1.0, 2.3, len(polygons))
    pitch = depth + rng.uniform(0.0, 1.5, len(polygons))
    return polygons, depth, pitch


def test_rows_match_per_row_reference_on_irregular_planes():
    polygons, depth, pitch = irregular_planes(7, 120)
    counts = layout.count_modules(polygons, W, GAP, depth, pitch)
    expected = [row_reference(p, W, GAP, d, q) for p, d, q in zip(polygons, depth, pitch)]
    assert counts.tolist() == expected
    # An axis-parallel rectangle holds its whole grid: 8 columns per row.
    assert counts[-1] == 8 * int(np.floor((4 - depth[-1]) / pitch[-1] + 1e-9) + 1)
    assert counts.sum() > 1000


def test_every_module_lies_inside_and_none_overlap():
    polygons, depth, pitch = irregular_planes(11, 90)
    width = np.where(np.arange(len(polygons)) % 2 == 0, W, 2.278)   # portrait and landscape
    cells = layout.module_cells(polygons, width, GAP, depth, pitch)
    p = cells["polygon"]
    t = layout.TOLERANCE_M
    boxes = shapely.box(cells["x"] + t, cells["y"] + t, cells["x"] + width[p] - t, cells["y"] + depth[p] - t)
    assert shapely.contains(polygons[p], boxes).all()
    tree = shapely.STRtree(boxes)
    a, b = tree.query(boxes, predicate="intersects")
    same = (p[a] == p[b]) & (a != b)       # modules of one plane (the planes overlap in space)
    assert not same.any()
    assert p.size > 1000


def test_never_fewer_than_the_centred_grid():
    polygons, depth, pitch = irregular_planes(3, 120)
    counts = layout.count_modules(polygons, W, GAP, depth, pitch)
    fixed = np.array([centred_grid_count(p, W, GAP, d, q) for p, d, q in zip(polygons, depth, pitch)])
    assert (counts >= fixed).all()
    # Free runs and row positions gain on slanted and ragged outlines.
    assert counts.sum() > 1.03 * fixed.sum()

