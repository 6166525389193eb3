"""Module packing by rows agrees with testing every module cell for containment."""

import numpy as np
import shapely

from roofpv.roofs import layout


def per_cell(polygon, width, gap, depth, pitch):
    """Reference: the same centred grid, each inset cell tested with shapely.contains."""
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


def test_rows_match_per_cell_containment_on_irregular_planes():
    rng = np.random.default_rng(7)
    polygons = []
    for i in range(120):
        r = rng.uniform(3, 25)
        if i % 3 == 0:  # star-shaped polygon
            angle = np.sort(rng.uniform(0, 2 * np.pi, 9))
            radius = rng.uniform(0.5 * r, r, 9)
            shape = shapely.Polygon(np.c_[radius * np.cos(angle), radius * np.sin(angle)])
        elif i % 3 == 1:  # courtyard
            shape = shapely.box(-r, -r, r, r).difference(shapely.box(-r / 3, -r / 4, r / 2, r / 3))
        else:  # L shape, rotated
            shape = shapely.box(-r, -r / 2, r, r / 2).difference(shapely.box(0, 0, r, r))
        polygons.append(shapely.affinity.rotate(shapely.make_valid(shape), rng.uniform(0, 90)))
    polygons = np.array(polygons + [shapely.box(0, 0, 10, 4)], dtype=object)
    depth = rng.uniform(1.0, 2.3, len(polygons))
    pitch = depth + rng.uniform(0.0, 1.5, len(polygons))
    counts = layout.count_modules(polygons, 1.134, 0.02, depth, pitch)
    expected = [per_cell(p, 1.134, 0.02, d, q) for p, d, q in zip(polygons, depth, pitch)]
    assert counts.tolist() == expected
    cells = layout.module_cells(polygons, 1.134, 0.02, depth, pitch)
    assert np.bincount(cells["polygon"], minlength=len(polygons)).tolist() == expected
    assert counts[-1] == 8 * int(np.floor((4 - depth[-1]) / pitch[-1] + 1e-9) + 1)
    assert counts.sum() > 1000


def test_closed_form_rows_of_convex_planes_match_per_cell_containment():
    rng = np.random.default_rng(11)
    polygons = []
    for i in range(150):
        r = rng.uniform(3, 25)
        if i % 3 == 0:  # rotated rectangle, as a flat roof in its south-facing frame
            shape = shapely.affinity.rotate(shapely.box(-r, -r / 2, r, r / 2), rng.uniform(1, 89))
        elif i % 3 == 1:  # triangle (a hip end)
            shape = shapely.Polygon(rng.uniform(-r, r, (3, 2)))
        else:  # convex hull of random points
            shape = shapely.MultiPoint(rng.uniform(-r, r, (12, 2))).convex_hull
        polygons.append(shape)
    polygons = np.array(polygons, dtype=object)
    grid = layout.cell_grid(polygons, 1.134, 0.02, 1.7, 2.0)
    which = (grid.ny > 0) & (grid.nx > 0)
    assert layout._edges(polygons, which).convex[which].all()
    depth = rng.uniform(1.0, 2.3, len(polygons))
    pitch = depth + rng.uniform(0.0, 1.5, len(polygons))
    runs = layout.module_runs(polygons, 1.134, 0.02, depth, pitch)
    counts = np.bincount(runs["polygon"], weights=runs["modules"], minlength=len(polygons))
    expected = [per_cell(p, 1.134, 0.02, d, q) for p, d, q in zip(polygons, depth, pitch)]
    assert counts.astype(int).tolist() == expected
    assert counts.sum() > 3000
    # One run per row: a convex plane's row is never interrupted.
    keys = runs["polygon"] * 10_000 + runs["row"]
    assert np.unique(keys).size == keys.size
