"""Convex polygons as coordinate arrays agree with shapely (GEOS) on the same polygons."""

import numpy as np
import shapely

from roofpv.roofs import convex


def hulls(n, seed, offset=0.0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        points = rng.normal(size=(int(rng.integers(3, 14)), 2)) * rng.uniform(2, 30, 2) + offset
        hull = shapely.convex_hull(shapely.multipoints(points))
        out.append(hull.reverse() if i % 2 else hull)           # both orientations
    return np.array(out, dtype=object)


def test_rings_turn_counter_clockwise_and_keep_the_area():
    polygons = hulls(300, 1, offset=5e5)
    rings, whole = convex.from_polygons(polygons)
    assert whole.all()
    area = convex.signed_area(rings)
    assert (area > 0).all()
    np.testing.assert_allclose(area, shapely.area(polygons), rtol=1e-9)
    back = convex.to_polygons(rings)
    assert shapely.equals(back, polygons).all()
    np.testing.assert_array_equal(convex.bounds(rings), shapely.bounds(polygons))


def test_only_simple_polygons_without_holes_become_rings():
    polygons = np.array([shapely.box(0, 0, 2, 1), shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2)),
                         shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(3, 0, 4, 1)]),
                         shapely.Polygon(), None], dtype=object)
    rings, whole = convex.from_polygons(polygons)
    assert whole.tolist() == [True, False, False, False, False]
    assert rings.count.tolist() == [4, 0, 0, 0, 0]


def test_convexity_finds_reflex_corners_stars_and_collinear_vertices():
    shapes = [
        shapely.Polygon([(0, 0), (4, 0), (4, 1), (1, 1), (1, 3), (0, 3)]),   # L
        shapely.Polygon([(0, 0), (2, 6), (4, 0), (-1, 4), (5, 4)]),          # pentagram: all left turns
        shapely.box(0, 0, 1, 1),
        shapely.Polygon([(0, 0), (1, 0), (2, 0), (2, 1), (0, 1)]),           # collinear vertex
        shapely.Polygon([(0, 0), (2, 0), (2, 1), (1, 1.1), (0, 1)]),         # shallow corner
    ]
    rings, _ = convex.from_polygons(np.array(shapes, dtype=object))
    c = convex.convexity(rings)
    assert c[0] == -np.inf and c[1] == -np.inf
    assert np.isclose(c[2], np.sqrt(0.5)) and c[3] == 0.0   # unit square: corner to diagonal
    assert np.isclose(c[4], 0.1)                             # the shallow vertex, 0.1 m off


def test_clip_at_a_line_equals_shapely_intersection():
    polygons = hulls(400, 2)
    rings, _ = convex.from_polygons(polygons)
    n = len(polygons)
    cut = np.random.default_rng(3).uniform(-20, 20, n)
    below = convex.to_polygons(convex.clip(rings, np.zeros(n), np.ones(n), cut))
    x0, y0, x1, y1 = shapely.bounds(polygons).T
    expected = shapely.intersection(polygons, shapely.box(x0 - 1, y0 - 1, x1 + 1, cut))
    np.testing.assert_allclose(shapely.area(below), shapely.area(expected), rtol=1e-9, atol=1e-9)
    assert np.nanmax(shapely.hausdorff_distance(below[~shapely.is_empty(expected)],
                                                expected[~shapely.is_empty(expected)])) < 1e-9


def test_inset_equals_negative_mitred_buffer_where_every_edge_survives():
    polygons = hulls(600, 4)
    rings, _ = convex.from_polygons(polygons)
    rng = np.random.default_rng(5)
    for scale in (0.1, 1.0, 4.0):
        d = rng.uniform(0, scale, len(polygons)) * np.sqrt(shapely.area(polygons)) / 4
        inset, whole = convex.inset(rings, d)
        assert whole.sum() > 0 and (scale > 0.5 or whole.mean() > 0.9)   # small setbacks: nearly all
        assert (inset.count[~whole] == 0).all()
        mine = convex.to_polygons(inset)[whole]
        reference = shapely.buffer(polygons[whole], -d[whole], join_style="mitre")
        np.testing.assert_allclose(shapely.area(mine), shapely.area(reference), rtol=1e-9)
        assert shapely.hausdorff_distance(mine, reference).max() < 1e-9


def test_take_and_select_keep_the_chosen_rings():
    polygons = hulls(20, 6)
    rings, _ = convex.from_polygons(polygons)
    picked = convex.to_polygons(convex.take(rings, np.array([5, 2, 17])))
    assert shapely.equals(picked, polygons[[5, 2, 17]]).all()
    keep = np.arange(20) % 3 == 0
    kept = convex.to_polygons(convex.select(rings, keep))
    assert shapely.equals(kept[keep], polygons[keep]).all() and shapely.is_empty(kept[~keep]).all()
