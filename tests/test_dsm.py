"""Roof geometry from synthetic DSMs with known answers, and the tile reader."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from scipy import ndimage

from roofpv.config import Dsm
from roofpv.io import tiles
from roofpv.roofs import dsm, shading
from roofpv.roofs.raster import Raster

RES = 0.5
X0, Y0 = 500_000.0, 3_400_100.0  # north-west corner of the 100 m × 100 m test grid
GROUND = 3.0
CRS = "EPSG:4549"


def _xy(n=200):
    centres = (np.arange(n) + 0.5) * RES
    return np.meshgrid(X0 + centres, Y0 - centres)


def _rotated(x, y, cx, cy, angle_deg):
    """Coordinates in a frame turned counter-clockwise by ``angle_deg`` about (cx, cy)."""
    t = np.radians(angle_deg)
    dx, dy = x - cx, y - cy
    return dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)


def _gable(pitch_deg, angle_deg, half=(12.0, 7.0), eave=9.0):
    """DSM with one gable: ridge along local u, planes facing local ±v, turned by angle."""
    x, y = _xy()
    cx, cy = X0 + 50, Y0 - 50
    u, v = _rotated(x, y, cx, cy, angle_deg)
    inside = (np.abs(u) < half[0]) & (np.abs(v) < half[1])
    z = np.full(x.shape, GROUND, np.float32)
    z[inside] = (GROUND + eave + (half[1] - np.abs(v)) * np.tan(np.radians(pitch_deg)))[inside]
    box = shapely.box(-half[0], -half[1], half[0], half[1])
    t = np.radians(angle_deg)
    poly = shapely.transform(box, lambda c: np.c_[c[:, 0] * np.cos(t) - c[:, 1] * np.sin(t) + cx,
                                                   c[:, 0] * np.sin(t) + c[:, 1] * np.cos(t) + cy])
    return Raster(z, X0, Y0, RES), gpd.GeoSeries([poly], index=["g"], crs=CRS)


def test_flat_roof_has_slope_zero_and_height_above_ring_ground():
    x, y = _xy()
    z = np.full(x.shape, GROUND, np.float32)
    roof = (x > X0 + 30) & (x < X0 + 60) & (y > Y0 - 70) & (y < Y0 - 40)
    z[roof] = GROUND + 12.0
    fp = gpd.GeoSeries([shapely.box(X0 + 30, Y0 - 70, X0 + 60, Y0 - 40)], index=["f"], crs=CRS)
    roofs, planes = dsm.roof_geometry(Raster(z, X0, Y0, RES), fp)
    r = roofs.loc["f"]
    assert r["measured"] and r["roof_form"] == "flat"
    assert r["roof_slope_deg"] == pytest.approx(0.0, abs=1e-6)
    assert r["roof_height_m"] == pytest.approx(12.0, abs=1e-6)
    assert r["ground_m"] == pytest.approx(GROUND, abs=1e-6)
    assert len(planes) == 1 and planes["area_m2"].iloc[0] == pytest.approx(900.0)


@pytest.mark.parametrize("pitch, angle", [(25.0, 0.0), (32.0, 30.0), (18.0, 95.0)])
def test_gable_gives_its_pitch_and_opposite_aspects(pitch, angle):
    grid, fp = _gable(pitch, angle)
    roofs, planes = dsm.roof_geometry(grid, fp)
    assert roofs.loc["g", "roof_form"] == "gable"
    assert len(planes) == 2
    assert planes["tilt_deg"].to_numpy() == pytest.approx([pitch, pitch], abs=1.0)
    a, b = planes["azimuth_deg"].to_numpy()
    assert abs((a - b) % 360 - 180) < 1.0
    # Local +v faces compass azimuth 0° turned clockwise by −angle.
    expected = {(-angle) % 360, (180 - angle) % 360}
    assert all(min(abs((p - e + 180) % 360 - 180) for e in expected) < 1.0 for p in (a, b))
    # Plane 0 is the one facing nearest south; the planes split the footprint.
    off = np.abs((planes["azimuth_deg"] - 180 + 180) % 360 - 180)
    assert off.iloc[0] <= off.iloc[1]
    assert planes["area_m2"].sum() == pytest.approx(fp.area.iloc[0], rel=0.03)


def test_hip_roof_has_four_planes():
    x, y = _xy()
    inside = (x > X0 + 30) & (x < X0 + 54) & (y > Y0 - 62) & (y < Y0 - 50)
    d = np.minimum.reduce([x - (X0 + 30), X0 + 54 - x, y - (Y0 - 62), Y0 - 50 - y])
    z = np.full(x.shape, GROUND, np.float32)
    z[inside] = (GROUND + 9 + d * np.tan(np.radians(30)))[inside]
    fp = gpd.GeoSeries([shapely.box(X0 + 30, Y0 - 62, X0 + 54, Y0 - 50)], index=["h"], crs=CRS)
    roofs, planes = dsm.roof_geometry(Raster(z, X0, Y0, RES), fp)
    assert roofs.loc["h", "roof_form"] == "hip"
    assert sorted(np.round(planes["azimuth_deg"]) % 360) == [0, 90, 180, 270]
    assert planes["tilt_deg"].to_numpy() == pytest.approx(np.full(4, 30.0), abs=1.0)


def _write_tile(path, z, x0, y0, res, crs=CRS, nodata=-9999.0):
    profile = dict(driver="GTiff", width=z.shape[1], height=z.shape[0], count=1, dtype="float32",
                   crs=crs, transform=from_origin(x0, y0, res, res), nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(np.isnan(z), nodata, z).astype(np.float32), 1)


def test_tiles_mosaic_nodata_and_windows(tmp_path):
    grid, _ = _gable(25.0, 0.0)
    z = grid.z.copy()
    z[:10, :10] = np.nan
    # Two tiles side by side, the west one with a nodata corner.
    _write_tile(tmp_path / "a.tif", z[:, :100], X0, Y0, RES)
    _write_tile(tmp_path / "b.tif", z[:, 100:], X0 + 50, Y0, RES)
    mosaic = tiles.open_mosaic(tmp_path, CRS)
    assert mosaic.res == RES and len(mosaic.paths) == 2
    window = tiles.read_window(mosaic, (X0, Y0 - 100, X0 + 100, Y0))
    np.testing.assert_array_equal(np.isnan(window.z), np.isnan(z))
    np.testing.assert_allclose(window.z[~np.isnan(z)], z[~np.isnan(z)])
    # Outside the tiles a window is all NaN.
    assert np.isnan(tiles.read_window(mosaic, (X0 + 200, Y0, X0 + 210, Y0 + 10)).z).all()
    fp = np.array([shapely.box(X0 + 40, Y0 - 60, X0 + 60, Y0 - 40), shapely.box(X0 + 500, Y0, X0 + 510, Y0 + 10)])
    blocks = list(tiles.windows(mosaic, fp, halo_m=20.0))
    assert len(blocks) == 1 and blocks[0][0].tolist() == [0]


def test_windows_cut_from_the_mosaic_in_memory_equal_windows_read_per_block(tmp_path, monkeypatch):
    grid, _ = _gable(25.0, 0.0)
    z = grid.z.copy()
    z[:10, :10] = np.nan
    _write_tile(tmp_path / "a.tif", z[:, :100], X0, Y0, RES)
    _write_tile(tmp_path / "b.tif", z[:, 100:], X0 + 50, Y0, RES)
    mosaic = tiles.open_mosaic(tmp_path, CRS)
    # Blocks straddling the tile seam and the mosaic's edge (the halo reaches beyond it).
    fp = np.array([shapely.box(X0 + 40 + dx, Y0 - 60 + dy, X0 + 60 + dx, Y0 - 40 + dy)
                   for dx, dy in ((0, 0), (-30, 10), (45, -20))])
    calls = []
    read_window = tiles.read_window
    monkeypatch.setattr(tiles, "read_window", lambda *a, **k: calls.append(a) or read_window(*a, **k))
    cut = list(tiles.windows(mosaic, fp, halo_m=27.3, block_m=20.0))
    assert len(calls) == 1  # the area the overlapping windows span, once
    monkeypatch.setattr(tiles, "IN_MEMORY_PX", 0)
    read = list(tiles.windows(mosaic, fp, halo_m=27.3, block_m=20.0))
    assert len(cut) == len(read) == 3
    for (p1, a, *_), (p2, b, *_) in zip(cut, read):
        assert p1.tolist() == p2.tolist() and (a.x0, a.y0, a.res) == (b.x0, b.y0, b.res)
        np.testing.assert_array_equal(a.z, b.z)


def test_tile_in_another_crs_is_warped(tmp_path):
    # A plateau 7 m high in geographic coordinates (EPSG:4490), read in EPSG:4549.
    z = np.full((40, 40), 7.0, np.float32)
    lon0, lat0 = 120.997, 30.706
    _write_tile(tmp_path / "geo.tif", z, lon0, lat0, 1e-5, crs="EPSG:4490")
    mosaic = tiles.open_mosaic(tmp_path, CRS)
    b = mosaic.bounds[0]
    window = tiles.read_window(mosaic, (b[0] + 5, b[1] + 5, b[2] - 5, b[3] - 5))
    assert np.nanmin(window.z) == pytest.approx(7.0) and np.isfinite(window.z).mean() > 0.9


def test_web_mercator_dsm_is_not_analysed_in_its_own_crs(tmp_path):
    # Web Mercator's metres are 1/cos(latitude) ground metres (1.48 at Zurich): analysed on
    # its own grid every slope would come out flattened and every area doubled.
    (tmp_path / "merc").mkdir()
    (tmp_path / "lv95").mkdir()
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(8.54, 47.37)
    _write_tile(tmp_path / "merc" / "t.tif", np.zeros((10, 10), np.float32), x, y, 0.74, crs="EPSG:3857")
    _write_tile(tmp_path / "lv95" / "t.tif", np.zeros((10, 10), np.float32), 2683000.0, 1247000.0, 0.5,
                crs="EPSG:2056")
    assert tiles.native_crs(tmp_path / "merc") is None
    assert tiles.native_crs(tmp_path / "lv95") == "EPSG:2056"
    (grid,) = tiles.tile_grids(tmp_path / "merc")
    assert not grid.metric


def test_roof_outside_every_tile_falls_back_to_survey(tmp_path):
    grid, fp_in = _gable(25.0, 0.0)
    _write_tile(tmp_path / "t.tif", grid.z, X0, Y0, RES)
    mosaic = tiles.open_mosaic(tmp_path, CRS)
    fp = gpd.GeoSeries([fp_in.iloc[0], shapely.box(X0 + 300, Y0, X0 + 320, Y0 + 15)],
                       index=pd.Index(["in", "out"], name="building_id"), crs=CRS)
    weather = _clear_weather()
    table = shading.sun_table(weather, 30.7, 121.0, 5.0, tilts=[0.0, 30.0], n_sectors=36)
    params = Dsm(radius_m=30.0)
    roofs, planes = dsm.measure(tiles.windows(mosaic, fp.to_numpy(), params.radius_m), fp, table, params)
    assert roofs.loc["in", "measured"] and "out" not in roofs.index
    assert set(planes["building_id"]) == {"in"}
    b = pd.DataFrame({
        "roof_type": ["tile_pitched", "tile_pitched"], "roof_type_source": ["survey", "survey"],
        "roof_slope_deg": [25.0, 25.0], "shading": ["severe", "light"],
        "shading_loss": [0.35, 0.05], "shading_source": ["survey", "survey"], "floors": [3, 2],
    }, index=pd.Index(["in", "out"], name="building_id"))
    class_loss = {"none": 0.0, "light": 0.05, "moderate": 0.15, "severe": 0.35}
    out = dsm.combine(b, roofs, class_loss, {"tile_pitched": "gable"})
    assert out.loc["in", "roof_slope_deg_source"] == "dsm"
    assert out.loc["in", "roof_slope_deg"] == pytest.approx(25.0, abs=1.0)
    assert out.loc["in", "shading_loss"] < 0.025
    assert out.loc["in", "field_check"]  # surveyed severe, measured none
    r = out.loc["out"]
    assert (r["shading_loss_source"], r["roof_slope_deg_source"], r["roof_form_source"]) == (
        "survey", "survey", "survey")
    assert r["shading_loss"] == 0.05 and r["roof_height_m"] == 6.0 and not r["field_check"]


def _clear_weather():
    """A small clear-sky year (pvlib Ineichen), enough for a sun table."""
    import pvlib

    index = pd.date_range("2023-01-01", periods=8760, freq="h", tz="Asia/Shanghai")
    loc = pvlib.location.Location(30.7, 121.0, "Asia/Shanghai", 5.0)
    cs = loc.get_clearsky(index + pd.Timedelta(minutes=30)).set_axis(index)
    return cs.assign(temp_air=20.0, wind_speed=2.0)


def test_noise_model_recovers_the_noise_of_a_noisy_gable():
    grid, fp = _gable(30.0, 20.0)
    rng = np.random.default_rng(1)
    z = grid.z + rng.normal(0, 0.08, grid.z.shape).astype(np.float32)
    slope, _, rms = dsm.slope_aspect(z, RES)
    inner = (z > GROUND + 9.5)
    sigma0, k = dsm.noise_model(slope[inner], rms[inner], RES)
    # No flat roof here: all the noise is σ₀ (k ≈ 0), within the quartile's sampling error.
    assert dsm._sigma(30.0, sigma0, k) == pytest.approx(0.08, rel=0.25)
    roofs, planes = dsm.roof_geometry(Raster(z, X0, Y0, RES), fp)
    assert roofs.loc["g", "roof_form"] == "gable"
    assert planes["tilt_deg"].to_numpy() == pytest.approx([30.0, 30.0], abs=1.5)


def test_noise_model_reads_the_noise_from_residuals_from_planes():
    """The plane tolerances also take the noise from the pixels' residuals from their
    planes (a DSM resampled finer than it was measured hides its noise from 3 × 3
    windows): the model fitted to |residuals| with their Gaussian lower quartile gives
    back σ₀ and k of σ(s) = √(σ₀² + (k·tan s)²)."""
    rng = np.random.default_rng(7)
    slope = rng.uniform(0.0, 60.0, 40_000)
    e = rng.normal(0.0, 1.0, slope.size) * dsm._sigma(slope, 0.05, 0.2)
    sigma0, k = dsm.noise_model(slope, np.abs(e), RES, unit_q25=dsm._ABS_Q25)
    assert sigma0 == pytest.approx(0.05, rel=0.15)
    assert k == pytest.approx(0.2, rel=0.15)


def test_slope_aspect_at_cells_equals_the_whole_grid_at_those_cells():
    rng = np.random.default_rng(3)
    z = (rng.normal(size=(60, 80)).cumsum(axis=0) + rng.normal(size=(60, 80))).astype(np.float32)
    z[rng.random(z.shape) < 0.05] = np.nan
    cells = np.flatnonzero(rng.random(z.size) < 0.3)
    whole = dsm.slope_aspect(z, RES)
    for grid, at_cells in zip(whole, dsm.slope_aspect(z, RES, cells)):
        assert grid.shape == z.shape and at_cells.dtype == grid.dtype
        np.testing.assert_array_equal(at_cells, grid.ravel()[cells])  # bit for bit, NaN at edges
    assert np.isnan(whole[0][0]).all() and np.isnan(whole[2][:, -1]).all()


@pytest.mark.parametrize("res", [0.5, 0.8, 2.0, 13.0])
def test_ground_surface_of_part_of_a_window_equals_the_whole_windows_there(res):
    # Opening sizes 80, 50 (even), 20 and 3 pixels; parts at the window's edges, inside it
    # and around no-data cells, whose fill (the whole window's median) must not change.
    rng = np.random.default_rng(7)
    z = (rng.normal(size=(330, 290)).cumsum(axis=1) + 30 * (rng.random((330, 290)) < 0.2)).astype(np.float32)
    z[100:160, 40:90] = np.nan
    z[rng.random(z.shape) < 0.02] = np.nan
    whole = dsm.ground_surface(z, res)
    for index in (np.s_[0:40, 0:290], np.s_[120:200, 70:75], np.s_[300:330, 250:290], np.s_[5:6, 140:141],
                  np.s_[0:330, 0:290], np.s_[200:200, 10:20]):
        part = dsm.ground_surface(z, res, index)
        np.testing.assert_array_equal(part[index], whole[index])  # bit for bit
        outside = np.ones(z.shape, bool)
        outside[index] = False
        assert np.isnan(part[outside]).all()

def test_window_normals_are_the_normal_of_the_window_plane_and_its_rms():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:30, 0:40].astype(float)
    z = 2.0 + 0.3 * xx * RES + 0.1 * yy * RES  # rises east and south: dz/dx 0.3, dz/dy −0.1
    cells = np.array([10 * 40 + 12, 20 * 40 + 30, 0])
    u, v, rms = dsm.window_normals(z, RES, cells, 2)
    norm = np.sqrt(1 + 0.3 ** 2 + 0.1 ** 2)
    assert u[:2] == pytest.approx([-0.3 / norm] * 2) and v[:2] == pytest.approx([0.1 / norm] * 2)
    assert rms[:2] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert np.isnan([u[2], v[2], rms[2]]).all()  # the window leaves the grid
    # On noise of σ 0.1 m the 5 × 5 normals scatter as _normal_noise says (√2 σ / (res √50)).
    noisy = z + rng.normal(0, 0.1, z.shape)
    inner = (np.arange(3, 27)[:, None] * 40 + np.arange(3, 37)).ravel()
    u, v, _ = dsm.window_normals(noisy, RES, inner, 2)
    scatter = np.sqrt(np.mean((u + 0.3 / norm) ** 2 + (v - 0.1 / norm) ** 2))
    assert scatter == pytest.approx(dsm._normal_noise(0.1, RES, 2), rel=0.15)
    assert dsm.normal_half_width(0.003, 1.0) == 1 and dsm.normal_half_width(0.15, 1.0) == 2
    assert dsm.normal_half_width(0.2, 0.5) == 3


def test_low_pitch_face_beside_a_flat_roof_stays_its_own_plane_under_noise():
    """σ 0.15 m on 1 m pixels scatters 3 × 3 normals by 0.1 (sin 8° = 0.14): an 8° face
    beside a flat roof merged with it into one 4° plane; wider normals keep them apart."""
    n = 120
    c = (np.arange(n) + 0.5)
    x, y = np.meshgrid(X0 + c, Y0 - c)
    block = (x > X0 + 40) & (x < X0 + 80) & (y < Y0 - 45) & (y > Y0 - 75)
    z = np.full(x.shape, GROUND)
    z[block] = 12.0 + np.clip(x[block] - (X0 + 60), 0, None) * np.tan(np.radians(8.0))
    z = (z + np.random.default_rng(0).normal(0, 0.15, z.shape)).astype(np.float32)
    fp = gpd.GeoSeries([shapely.box(X0 + 40, Y0 - 75, X0 + 80, Y0 - 45)], index=["b"], crs=CRS)
    roofs, planes = dsm.roof_geometry(Raster(z, X0, Y0, 1.0), fp)
    planes = planes.sort_values("tilt_deg")
    assert len(planes) == 2
    assert planes["tilt_deg"].to_numpy() == pytest.approx([0.0, 8.0], abs=1.0)
    assert planes["azimuth_deg"].iloc[1] == pytest.approx(270.0, abs=3.0)  # rises east: faces west
    assert planes["area_m2"].to_numpy() == pytest.approx([600.0, 600.0], rel=0.1)


def test_components_are_the_8_connected_regions_of_equal_label():
    rng = np.random.default_rng(4)
    grid = rng.integers(-1, 3, (40, 30))
    cells = np.flatnonzero(grid >= 0)
    region = dsm._components(cells, grid.ravel()[cells], grid.shape[1])
    expected = np.full(grid.shape, -1)
    count = 0
    for value in range(3):
        lab, k = ndimage.label(grid == value, structure=np.ones((3, 3)))  # 8-connected
        expected[lab > 0] = lab[lab > 0] + count
        count += k
    assert region.max() + 1 == count
    # Same partition; regions numbered in the order of their first pixel.
    pairs = np.unique(np.c_[region, expected.ravel()[cells]], axis=0)
    assert len(pairs) == count
    first = np.unique(region, return_index=True)[1]
    assert np.all(np.diff(first) > 0)
    assert dsm._components(np.zeros(0, np.int64), np.zeros(0, np.int64), 5).size == 0


def _scene(shapes_and_heights, noise=0.0, seed=0):
    """Flat ground with prisms: (polygon, height function of (x, y)) on the test grid."""
    x, y = _xy()
    z = np.full(x.shape, GROUND, np.float64)
    for poly, height in shapes_and_heights:
        inside = shapely.contains_xy(poly, x, y)
        z[inside] = GROUND + height(x, y)[inside]
    z += np.random.default_rng(seed).normal(0, noise, z.shape)
    return Raster(z.astype(np.float32), X0, Y0, RES)


def test_u_shape_courtyard_tiny_and_empty_footprints_never_fail():
    u = shapely.difference(shapely.box(X0 + 20, Y0 - 80, X0 + 70, Y0 - 30),
                           shapely.box(X0 + 30, Y0 - 70, X0 + 60, Y0 - 30))
    ring = shapely.difference(shapely.box(X0 + 5, Y0 - 25, X0 + 45, Y0 - 5),
                              shapely.box(X0 + 15, Y0 - 19, X0 + 35, Y0 - 11))
    tiny = shapely.box(X0 + 80, Y0 - 10, X0 + 81, Y0 - 9)
    ground = shapely.box(X0 + 75, Y0 - 95, X0 + 95, Y0 - 80)
    off = shapely.box(X0 + 500, Y0, X0 + 510, Y0 + 10)
    raster = _scene([(u, lambda x, y: 8 + 0 * x), (ring, lambda x, y: 12 + 0.3 * (x - X0)),
                     (tiny, lambda x, y: 5 + 0 * x)], noise=0.03)
    fp = gpd.GeoSeries([u, ring, tiny, ground, off], index=["u", "ring", "tiny", "ground", "off"], crs=CRS)
    roofs, planes = dsm.roof_geometry(raster, fp)
    assert roofs.loc["u", "dsm_status"] == "measured" and roofs.loc["u", "roof_form"] == "flat"
    assert planes.loc[planes["building_id"] == "u", "area_m2"].sum() == pytest.approx(u.area, rel=0.1)
    assert roofs.loc["ring", "dsm_status"] == "measured"
    assert roofs.loc["ring", "roof_slope_deg"] == pytest.approx(np.degrees(np.arctan(0.3)), abs=1.0)
    assert roofs.loc["tiny", "dsm_status"] in ("no_planes", "no_data")
    assert roofs.loc["ground", "dsm_status"] == "nothing_standing"
    assert roofs.loc["off", "dsm_status"] == "no_data"
    assert set(planes["building_id"]) == {"u", "ring"}


def test_mansard_splits_by_tilt_and_chimney_is_an_obstacle():
    fp = shapely.box(X0 + 20, Y0 - 60, X0 + 60, Y0 - 40)
    t60, t15 = np.tan(np.radians(60)), np.tan(np.radians(15))

    def mansard(x, y):
        d = np.minimum(y - (Y0 - 60), (Y0 - 40) - y)
        h = np.where(d < 3, d * t60, 3 * t60 + (d - 3) * t15)
        chimney = (np.abs(x - (X0 + 40)) < 1) & (np.abs(y - (Y0 - 45)) < 1)
        return 9 + h + np.where(chimney, 2.0, 0.0)

    raster = _scene([(fp, mansard)], noise=0.02)
    roofs, planes = dsm.roof_geometry(raster, gpd.GeoSeries([fp], index=["m"], crs=CRS))
    tilts = np.sort(planes["tilt_deg"].to_numpy())
    assert len(planes) == 4
    assert tilts == pytest.approx([15, 15, 60, 60], abs=2.5)
    assert roofs.loc["m", "obstacle_share"] > 0


def test_trees_are_not_roof_and_shade_it():
    grid, fp = _gable(25.0, 0.0)
    trees = np.zeros_like(grid.z)
    # A 20 m tree crown over the south eave and south of the building.
    x, y = _xy()
    crown = np.hypot(x - (X0 + 50), y - (Y0 - 60)) < 5
    trees[crown] = 20.0
    canopy = Raster(trees, X0, Y0, RES)
    ground = Raster(np.full_like(grid.z, GROUND), X0, Y0, RES)
    table = shading.sun_table(_clear_weather(), 30.7, 121.0, 5.0, tilts=[0.0, 30.0])
    params = Dsm(radius_m=40.0)
    bare, bare_planes = dsm.measure_window(grid, fp, table, params, ground)
    treed, treed_planes = dsm.measure_window(grid, fp, table, params, ground, canopy)
    south = lambda p: p[np.abs(p["azimuth_deg"] - 180) < 10].iloc[0]  # noqa: E731
    assert south(treed_planes)["area_m2"] < south(bare_planes)["area_m2"] - 5
    assert treed.loc["g", "shading_loss"] > bare.loc["g", "shading_loss"] + 0.02


def test_threads_give_the_same_result_as_one(tmp_path):
    grid, fp = _gable(30.0, 10.0)
    _write_tile(tmp_path / "t.tif", grid.z, X0, Y0, RES)
    mosaic = tiles.open_mosaic(tmp_path, CRS)
    more = gpd.GeoSeries(list(fp) + [shapely.box(X0 + 5, Y0 - 95, X0 + 20, Y0 - 80)],
                         index=pd.Index(["g", "h"], name="building_id"), crs=CRS)
    table = shading.sun_table(_clear_weather(), 30.7, 121.0, 5.0, tilts=[0.0, 30.0])
    one = dsm.measure(tiles.windows(mosaic, more.to_numpy(), 20.0, block_m=30.0), more, table,
                      Dsm(radius_m=20.0))
    two = dsm.measure(tiles.windows(mosaic, more.to_numpy(), 20.0, block_m=30.0), more, table,
                      Dsm(radius_m=20.0, workers=2))
    pd.testing.assert_frame_equal(one[0].sort_index(), two[0].sort_index())


def test_measured_form_sets_the_mounting():
    from roofpv.config import load_config
    from roofpv.run.stages import form_mountings, mount_by_form

    config = load_config(Path(__file__).parents[1] / "configs" / "pinghu.yaml")
    flat_m, pitched_m = form_mountings(config)
    assert (flat_m, pitched_m) == ("ballasted_tilted", "tile_hook_flush")
    b = pd.DataFrame({
        "roof_type": ["concrete_flat", "tile_pitched", "metal_trapezoidal", "concrete_flat"],
        "roof_type_source": ["survey", "survey", "default", "survey"],
        "mounting": ["ballasted_tilted", "tile_hook_flush", "penetrating_flush", "ballasted_tilted"],
        "roof_form": ["gable", "flat", "gable", "flat"],
        "roof_form_source": ["dsm", "dsm", "dsm", "survey"],
    }, index=["a", "b", "c", "d"])
    out = mount_by_form(b, config)
    assert out["mounting"].tolist() == ["tile_hook_flush", "ballasted_tilted", "penetrating_flush",
                                        "ballasted_tilted"]
    assert out["mounting_source"].tolist() == ["dsm", "dsm", "default", "survey"]
    assert out["dead_load_kn_m2"].tolist() == [0.2, 0.6, 0.2, 0.6]
