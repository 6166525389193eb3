"""Projected CRS choice and roof planes from footprints."""

import numpy as np
import pytest
import shapely
from pyproj import CRS

from roofpv.roof import gauss_kruger_epsg, ridge_facing_azimuth, roof_planes


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
