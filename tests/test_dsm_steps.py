"""Walls at height steps between roof levels (roofpv.roofs.steps) on hand-made DSMs.

A photogrammetric DSM rounds a vertical step between two flat roof levels into a ramp
2–3 pixels wide; it must not come out as a steep roof plane, while a real steep face
(a mansard at the eaves, a steep gable) of the same tilt must.
"""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import ndimage

from roofpv.roofs import dsm, steps
from roofpv.roofs.raster import Raster

X0, Y0 = 500_000.0, 3_400_100.0
CRS = "EPSG:4549"
GROUND = 3.0


def _grid(res, n):
    centres = (np.arange(n) + 0.5) * res
    return np.meshgrid(X0 + centres, Y0 - centres)


def _photogrammetric(z, res, seed=0):
    """Edges rounded as dense matching and resampling round them (Gaussian of σ 0.8 px),
    heights with 3 cm of noise."""
    rng = np.random.default_rng(seed)
    return (ndimage.gaussian_filter(z, 0.8) + rng.normal(0, 0.03, z.shape)).astype(np.float32)


def _two_levels(res=0.8, n=80, step_m=3.5):
    """A 28 m × 16 m flat-roofed building, its western half ``step_m`` higher than its
    eastern half (9 m above ground), with a DEM."""
    x, y = _grid(res, n)
    xw, xe, ys, yn = X0 + 18, X0 + 46, Y0 - 48, Y0 - 32
    z = np.full(x.shape, GROUND)
    inside = (x > xw) & (x < xe) & (y > ys) & (y < yn)
    z[inside] = GROUND + 9.0
    z[inside & (x < X0 + 32)] += step_m
    fp = gpd.GeoSeries([shapely.box(xw, ys, xe, yn)], index=["b"], crs=CRS)
    return Raster(_photogrammetric(z, res), X0, Y0, res), fp, Raster(np.full(x.shape, GROUND, np.float32), X0, Y0, res)


def _mansard(res=0.5, n=120, tilt=60.0, width=2.7):
    """A mansard roof: faces of ``tilt`` and ``width`` [m] (plan) on all four sides from
    the eaves at 9 m, a flat top above them."""
    x, y = _grid(res, n)
    cx, cy, half_x, half_y = X0 + 30, Y0 - 30, 12.0, 8.0
    inset = np.minimum(half_x - np.abs(x - cx), half_y - np.abs(y - cy))
    z = np.full(x.shape, GROUND)
    inside = inset > 0
    z[inside] = GROUND + 9.0 + np.minimum(inset, width)[inside] * np.tan(np.radians(tilt))
    fp = gpd.GeoSeries([shapely.box(cx - half_x, cy - half_y, cx + half_x, cy + half_y)], index=["m"], crs=CRS)
    return Raster(_photogrammetric(z, res), X0, Y0, res), fp, Raster(np.full(x.shape, GROUND, np.float32), X0, Y0, res)


def _planes_on_step(planes):
    """Planes whose centroid lies within 2 m of the step (x = X0 + 32 m)."""
    return planes[np.abs(shapely.get_x(shapely.centroid(planes.geometry.to_numpy())) - (X0 + 32)) < 2.0]


def test_a_smoothed_step_between_flat_levels_is_no_roof_plane():
    grid, fp, dem = _two_levels()
    roofs, planes = dsm.roof_geometry(grid, fp, ground=dem)
    assert roofs.loc["b", "measured"]
    on_step = _planes_on_step(planes)
    assert (on_step["tilt_deg"] < 10).all(), on_step[["tilt_deg", "area_m2"]]
    # Both levels measured, flat within 2°.
    big = planes[planes["area_m2"] >= 100]
    assert len(big) == 2 and (big["tilt_deg"] < 2.0).all()
    # The roof says a wall plane of ≥ 20 m² was left out (dsm_step_wall).
    assert roofs.loc["b", "step_wall_m2"] >= 20.0


def test_without_the_wall_test_the_step_is_a_steep_plane(monkeypatch):
    """The test above can fail: without steps.drop_walls the ramp is a 65° plane."""
    grid, fp, dem = _two_levels()
    monkeypatch.setattr(steps, "drop_walls", lambda px, cls, tilt, owner, n, res: (px, np.zeros(n)))
    _, planes = dsm.roof_geometry(grid, fp, ground=dem)
    assert (_planes_on_step(planes)["tilt_deg"] > 45).any()


def test_ramp_pixels_between_roof_levels_are_walls():
    grid, _, _ = _two_levels()
    z, res = grid.z, grid.res
    x, y = _grid(res, z.shape[0])
    on_ramp = (np.abs(x - (X0 + 32)) < res) & (np.abs(y - (Y0 - 40)) < 6.0)  # away from the eaves
    cls = steps.step_pixels(z, res, z - GROUND > 2.0, on_ramp)
    assert (cls[on_ramp.ravel()] == steps.WALL).all()
    # Untested pixels are left alone.
    assert (cls[~on_ramp.ravel()] == steps.LEVEL).all()


def test_a_step_at_the_eaves_is_not_a_wall():
    """The same ramp with the street below it (nothing standing) is a steep face at the
    eaves, as a mansard's is: left to the roof planes."""
    res = 0.8
    z = np.full((20, 20), GROUND)
    z[:, :10] = GROUND + 3.5          # one level, and the ground east of it
    z = ndimage.gaussian_filter(z, 0.8)
    tested = np.zeros(z.shape, bool)
    tested[5:15, 8:12] = True
    standing = z - GROUND > 2.0
    cls = steps.step_pixels(z, res, standing, tested)
    assert (cls == steps.WALL).sum() == 0 and (cls == steps.STEEP).sum() > 0
    # The same step between two roof levels (the lower one standing 6 m high) is a wall.
    cls = steps.step_pixels(z + 6.0, res, np.ones(z.shape, bool), tested)
    assert (cls == steps.WALL).sum() > 0


def test_a_steep_band_wider_than_a_step_is_not_a_wall():
    """A 60° face 3 m wide (6 pixels at 0.5 m) between two roof levels is a roof face."""
    res = 0.5
    col = np.arange(30) * res
    profile = np.clip((col - 5.0) * np.tan(np.radians(60.0)), 0, 3.0 * np.tan(np.radians(60.0)))
    z = 10.0 + np.tile(profile, (20, 1))
    tested = np.ones(z.shape, bool)
    cls = steps.step_pixels(z, res, np.ones(z.shape, bool), tested)
    assert (cls == steps.WALL).sum() == 0 and (cls == steps.STEEP).sum() > 0


@pytest.mark.parametrize("res, tilt", [(1.0, 37.0), (0.5, 60.0), (0.8, 55.0)])
def test_a_steep_gable_face_between_eave_and_ridge_is_not_a_wall(res, tilt):
    """A gable face 4 m deep: at 1 m its 37° pixels are as steep and its band as narrow as
    a step's, and its eave stands above the ground; but beyond the eave the wall falls to
    the street and beyond the ridge the other face falls away (Göteborg, 1 m)."""
    u = (np.arange(40) - 10) * res                                 # m from the eave
    roof = np.clip(np.minimum(u, 8.0 - u), 0, None) * np.tan(np.radians(tilt))
    profile = np.where((u >= 0) & (u <= 8.0), GROUND + 5.0 + roof, GROUND)
    z = ndimage.gaussian_filter1d(np.tile(profile, (20, 1)), 0.6, axis=1)
    cls = steps.step_pixels(z, res, z - GROUND > 2.0, np.ones(z.shape, bool))
    assert (cls == steps.WALL).sum() == 0


@pytest.mark.parametrize("res, tilt, width", [(0.5, 60.0, 2.7), (0.5, 57.0, 2.4), (1.0, 60.0, 2.7)])
def test_mansard_faces_at_the_eaves_are_kept(res, tilt, width):
    grid, fp, dem = _mansard(res, int(60 / res), tilt, width)
    roofs, planes = dsm.roof_geometry(grid, fp, ground=dem)
    steep = planes[planes["tilt_deg"] >= 45]
    assert len(steep) >= 2, planes[["tilt_deg", "azimuth_deg", "area_m2"]]
    assert roofs.loc["m", "step_wall_m2"] == 0.0


def test_drop_walls_drops_steep_wall_planes_only():
    # Plane 0: 10 steep pixels, 8 of them walls, tilt 55° → dropped (its 12 m² reported);
    # plane 1: same pixels, tilt 8° (a level with its ramp) → kept; plane 2: steep, no walls.
    plane_px = np.r_[np.zeros(12, int), np.ones(12, int), np.full(12, 2), -1]
    cls = np.r_[np.r_[[2] * 8, [1] * 2, [0] * 2], np.r_[[2] * 8, [1] * 2, [0] * 2], [1] * 12, 0].astype(np.int8)
    out, lost = steps.drop_walls(plane_px, cls, np.array([55.0, 8.0, 60.0]), np.array([0, 0, 1]), 2, 1.0)
    assert (out[:12] == -1).all() and (out[12:24] == 1).all() and (out[24:36] == 2).all()
    assert lost.tolist() == [12.0, 0.0]
