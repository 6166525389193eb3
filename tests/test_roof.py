"""Projected CRS choice and roof planes from footprints."""

import numpy as np
import pytest
import shapely
from pyproj import CRS

from roofpv.roofs.roof import gauss_kruger_epsg, ridge_facing_azimuth, roof_planes


@pytest.mark.parametrize("lon, cm", [(121.013, 120), (117.0, 117), (112.4, 111), (126.5, 126)])
def test_gauss_kruger_zone_from_longitude(lon, cm):
    crs = CRS.from_epsg(gauss_kruger_epsg(lon))
    assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"


def test_gauss_kruger_outside_china_is_an_error():
    with pytest.raises(ValueError, match="outside"):
        gauss_kruger_epsg(10.0)


def test_ridge_facing_azimuth():
    boxes = [shapely.box(0, 0, 30, 10), shapely.box(0, 0, 10, 30)]
    rotated = shapely.affinity.rotate(shapely.box(0, 0, 30, 10), 30)  # long axis 30° N of E
    az = ridge_facing_azimuth(np.array(boxes + [rotated]))
    assert az == pytest.approx([180.0, 90.0, 150.0])


def test_planes_of_east_west_gable_face_east_and_west():
    planes = roof_planes(np.array([shapely.box(0, 0, 10, 30)]), np.array([2]),
                         np.array([25.0]), np.array([0.0]))
    assert sorted(planes.azimuth_deg) == [90.0, 270.0]
    # Each plane is half the footprint, seen facing local south.
    assert shapely.area(planes.local.to_numpy()) == pytest.approx([150.0, 150.0])
    for poly in planes.local:
        assert shapely.bounds(poly)[3] == pytest.approx(0.0)  # ridge at local y = 0


def test_closed_form_planes_equal_the_shapely_construction():
    """Convex footprints (closed form) and others (shapely) give the planes of: rotate
    into the local frame, cut gables at mid-height, buffer by −setback with mitres."""
    rng = np.random.default_rng(9)
    shapes = []
    for i in range(90):
        r = rng.uniform(4, 30)
        if i % 3 == 0:
            shape = shapely.box(0, 0, r, r * rng.uniform(0.2, 0.9))
        elif i % 3 == 1:
            shape = shapely.MultiPoint(rng.uniform(-r, r, (9, 2))).convex_hull
        else:  # L shape: the shapely path
            shape = shapely.box(-r, -r / 2, r, r / 2).difference(shapely.box(0, 0, r, r))
        shapes.append(shapely.affinity.translate(shapely.affinity.rotate(shape, rng.uniform(0, 180)),
                                                 6e5, 3.4e6))
    geometry = np.array(shapes, dtype=object)
    n = len(geometry)
    n_planes = np.where(np.arange(n) % 2 == 0, 2, 1)
    slope = np.where(np.arange(n) % 4 == 1, 0.0, 20.0)
    setback = rng.uniform(0.0, 1.5, n)
    planes = roof_planes(geometry, n_planes, slope, setback)
    for i, geom in enumerate(geometry):
        mine = planes[planes.building == i]
        c = shapely.centroid(geom)
        local = shapely.affinity.rotate(shapely.affinity.translate(geom, -c.x, -c.y),
                                        mine.rotation_deg.iloc[0], origin=(0, 0))
        x0, y0, x1, y1 = local.bounds
        ridge = (y0 + y1) / 2
        halves = ([local.intersection(shapely.box(x0, y0, x1, ridge)),
                   shapely.affinity.rotate(local.intersection(shapely.box(x0, ridge, x1, y1)), 180,
                                           origin=(0, 0))]
                  if n_planes[i] == 2 else [local])
        for plane, half in zip(mine.local, halves):
            expected = half.buffer(-setback[i], join_style="mitre")
            assert plane.area == pytest.approx(expected.area, rel=1e-9, abs=1e-9)
            if not expected.is_empty:
                assert shapely.hausdorff_distance(plane, expected) < 1e-6
