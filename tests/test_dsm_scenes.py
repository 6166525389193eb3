"""Roof measurement on synthetic DSM scenes that differ the way the next data set will:
national CRSs (SWEREF99, RD New, CGCS2000 GK), a DEM in another CRS and grid, 0.5 m and
1 m pixels, noise-free (and quantised) or noisy, buildings turned against the grid,
narrow row houses, trees and a building without footprint (tests/dsm_scenes.py)."""

import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from roofpv.cli import main
from roofpv.config import Dsm
from roofpv.inputs import checks
from roofpv.io import tiles
from roofpv.roofs import dsm
from roofpv.roofs.raster import Raster
from roofpv.run.pipeline import analysis_crs
from tests.conftest import ROOT
from tests.dsm_scenes import PLACES, make_scene, score
from tests.dsm_scenes import ground as scene_ground


def _measure(scene, with_dem=True, footprints=None):
    crs = tiles.native_crs(scene.dsm)
    mosaic = tiles.open_mosaic(scene.dsm, crs)
    dem = tiles.open_mosaic(scene.dem, crs) if with_dem else None
    fp = scene.footprints.geometry if footprints is None else footprints
    (pos, raster, ground, _), = tiles.windows(mosaic, fp.to_numpy(), 0.0, 1e4, dem)
    return raster, ground, *dsm.roof_geometry(raster, fp.iloc[pos], Dsm(), ground)


CASES = [  # crs, pixel [m], noise σ [m], height step [m], turn [deg], grid offset [m]
    ("EPSG:3007", 0.5, 0.0, 0.0, 0.0, 0.0),
    ("EPSG:28992", 0.5, 0.05, 0.0, 23.0, 0.3),
    ("EPSG:4549", 0.5, 0.15, 0.0, 0.0, 0.0),
    ("EPSG:4549", 1.0, 0.1, 0.0, 0.0, 0.0),
    ("EPSG:3007", 1.0, 0.0, 0.01, 23.0, 0.3),
    ("EPSG:28992", 1.0, 0.15, 0.0, 37.0, 0.4),
]


@pytest.mark.parametrize("crs, res, noise, step, turn, shift", CASES)
def test_planes_tilts_azimuths_and_heights_within_tolerance(tmp_path, crs, res, noise, step, turn, shift):
    scene = make_scene(tmp_path, crs, res, noise, step, turn_deg=turn, shift_m=shift)
    raster, ground, roofs, planes = _measure(scene)
    assert raster.res == res and ground.on_grid_of(raster)  # the DSM's own grid, DEM resampled onto it
    assert len(roofs) == len(scene.footprints)
    # Every building stands (trees and an unmapped building around them notwithstanding).
    assert (roofs["dsm_status"] != "nothing_standing").all()
    assert (roofs["dsm_status"] == "measured").sum() >= len(roofs) - 1
    # Heights over the whole footprint, eaves included, for every building.
    err = (roofs["roof_height_m"] - scene.heights.reindex(roofs.index)).abs()
    assert err.max() <= 0.5, err.round(2).to_dict()
    s = score(planes, scene.truth)
    area = s["area_m2"].sum()
    right = (s["area_m2"] * s["ok"]).sum() / area
    measured = (s["measured_m2"] * s["ok"]).sum() / area
    assert right >= (0.9 if res <= 0.5 else 0.8), s[~s["ok"]].to_string()
    assert measured >= (0.85 if res <= 0.5 else 0.8)


def test_true_north_azimuths_on_a_grid_away_from_its_central_meridian(tmp_path):
    """CGCS2000 GK 120°E at 121°E: grid north is 0.5° off true north; azimuths are true."""
    scene = make_scene(tmp_path, "EPSG:4549", 0.5)
    *_, planes = _measure(scene)
    truth = scene.truth[scene.truth["building_id"] == "gable35"].set_index("grid_azimuth_deg")
    south = planes[(planes["building_id"] == "gable35") & planes["azimuth_deg"].between(90, 270)]
    assert len(south) == 1
    assert truth.loc[180.0, "azimuth_deg"] - 180.0 == pytest.approx(0.5, abs=0.1)  # the convergence
    assert south["azimuth_deg"].iloc[0] == pytest.approx(truth.loc[180.0, "azimuth_deg"], abs=0.1)
    assert dsm.true_north(None, 0.0, 0.0) == 0.0


def test_without_a_dem_ground_comes_from_rings_and_every_building_stands(tmp_path):
    scene = make_scene(tmp_path, "EPSG:3007", 0.5, 0.05)
    _, ground, roofs, planes = _measure(scene, with_dem=False)
    assert ground is None
    assert (roofs["dsm_status"] == "measured").all()
    err = (roofs["roof_height_m"] - scene.heights.reindex(roofs.index)).abs()
    assert err.max() <= 0.6, err.round(2).to_dict()


def test_a_terrain_model_given_as_dsm_is_named_as_the_cause(tmp_path):
    scene = make_scene(tmp_path, "EPSG:3007", 1.0)
    raster, ground, *_ = _measure(scene)
    roofs, _ = dsm.roof_geometry(Raster(ground.z, ground.x0, ground.y0, ground.res),
                                 scene.footprints.geometry, Dsm(), ground)
    assert (roofs["dsm_status"] == "nothing_standing").all()
    (finding,) = dsm.standing_findings(roofs, "dsm")
    assert finding.level == "warning" and finding.value == "14 of 14"
    assert "terrain model" in finding.problem and "dsm.dem" in finding.fix


def test_footprints_off_the_dsm_are_named_as_the_cause(tmp_path):
    scene = make_scene(tmp_path, "EPSG:3007", 1.0)
    # Footprints moved 10 m north, mostly onto open ground between the rows of buildings.
    moved = scene.footprints.geometry.translate(0.0, 10.0)
    *_, roofs, _ = _measure(scene, footprints=moved)
    flat = roofs["dsm_status"] == "nothing_standing"
    assert flat.mean() >= 0.5
    (finding,) = dsm.standing_findings(roofs, "dsm")
    assert "shifted" in finding.problem and "footprints_datum" in finding.fix
    # Standing is decided per footprint: those that still land on a building stand.
    assert (roofs.loc[~flat, "roof_height_m"] > 2.0).all()
    assert dsm.standing_findings(_measure(scene)[2], "dsm") == []


def test_a_lone_small_noisy_building_gets_the_dsm_noise_and_its_planes():
    """A 6 m × 8 m gable alone in its window: too few roof pixels to measure the noise on,
    so it is pooled with the window's other pixels (not left at its floor)."""
    res, noise = 0.5, 0.1
    n = 240
    c = (np.arange(n) + 0.5) * res
    x, y = np.meshgrid(c, n * res - c)
    z = np.full(x.shape, 20.0)
    inside = (x > 57) & (x < 63) & (y > 56) & (y < 64)
    z[inside] = 26.0 + (3.0 - np.abs(x[inside] - 60.0)) * np.tan(np.radians(35.0))
    z = (z + np.random.default_rng(3).normal(0, noise, z.shape)).astype(np.float32)
    fp = gpd.GeoSeries([shapely.box(57, 56, 63, 64)], index=["lone"])
    roofs, planes = dsm.roof_geometry(Raster(z, 0.0, n * res, res), fp)
    assert roofs.loc["lone", "dsm_noise_m"] == pytest.approx(noise, rel=0.3)
    assert roofs.loc["lone", "roof_form"] == "gable"
    assert planes["tilt_deg"].to_numpy() == pytest.approx([35.0, 35.0], abs=4.0)


def test_noise_floor_follows_the_height_step():
    z = np.round(np.random.default_rng(0).uniform(0, 30, 5000) / 0.05) * 0.05
    assert dsm.height_step(z) == pytest.approx(0.05)
    assert dsm.height_step(np.random.default_rng(0).uniform(0, 30, 5000)) < 1e-2
    sigma0, _ = dsm.noise_model(np.zeros(500), np.zeros(500), 0.5, step=0.05)
    assert sigma0 == pytest.approx(0.05 / np.sqrt(12))


def test_dem_window_is_on_the_dsm_grid_whatever_its_crs_and_resolution(tmp_path):
    for crs in ("EPSG:3007", "EPSG:28992", "EPSG:4549"):
        scene = make_scene(tmp_path / crs[5:], crs, 0.5)
        assert tiles.native_crs(scene.dsm) == crs
        mosaic = tiles.open_mosaic(scene.dsm, crs)
        dem = tiles.open_mosaic(scene.dem, crs)
        geometry = scene.footprints.geometry.to_numpy()
        for _, raster, ground, _ in tiles.windows(mosaic, geometry, 7.3, 30.0, dem):
            assert ground.on_grid_of(raster)
            # The DEM resampled from another CRS and grid holds the ground (a plane: exact).
            assert np.nanmax(np.abs(ground.z - _ground_at(raster, scene))) < 0.02


def _ground_at(raster, scene):
    (x0, y0), *_ = PLACES[scene.crs]
    rows, cols = raster.z.shape
    xy = raster.centres(np.arange(rows * cols))
    return scene_ground(xy[:, 0] - x0, xy[:, 1] - y0).reshape(rows, cols)


def _init(tmp_path, scene, tiles):
    """`roofpv init` on the scene's footprints with ``tiles`` as the DSM and a real
    typical year: the config's path."""
    scene.footprints.reset_index().to_file(tmp_path / "buildings.gpkg")
    weather = ROOT / "tests" / "data" / "real" / "dsm_goteborg" / "weather" / "GBG_TMY_1977.csv.gz"
    shutil.copy(weather, tmp_path / weather.name)
    config = tmp_path / "scene.yaml"
    assert main(["init", str(tmp_path / "buildings.gpkg"), "--dsm", str(tiles),
                 "--weather", str(tmp_path / weather.name), "--out", str(config)]) == 0
    return config


@pytest.mark.slow
def test_init_validate_survey_with_a_dem_in_another_crs(tmp_path, capsys):
    """The README's path on a DSM in a national CRS with a DEM in another CRS and grid,
    ``crs`` left as `init` writes it: the DSM's own CRS is the analysis CRS, no error."""
    scene = make_scene(tmp_path, "EPSG:3007", 0.5, 0.05)
    config, out = _init(tmp_path, scene, scene.dsm), tmp_path / "out"
    text = config.read_text(encoding="utf-8")
    assert "crs: null" in text and "dem: null" in text
    config.write_text(text.replace("dem: null", "dem: dem"), encoding="utf-8")
    assert main(["validate", str(config), "--out", str(out), "--lang", "en"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "not on the DSM's grid (EPSG:3007, 0.5 m): resampled onto" in said
    assert "show nothing standing" not in said
    assert main(["survey", str(config), "--out", str(out), "--overwrite", "--quiet", "--no-report"]) == 0
    b = gpd.read_file(out / "roofpv.gpkg", layer="buildings").set_index("building_id")
    assert b.crs.to_epsg() == 3007
    assert (b["dsm_status"] == "measured").all()
    assert b["roof_height_m"].sub(scene.heights.reindex(b.index)).abs().max() <= 0.5


def test_validate_names_a_resampled_dsm_and_a_dem_off_its_grid_or_extent(config, tmp_path):

    scene = make_scene(tmp_path, "EPSG:28992", 1.0)
    # A DEM over the western 40 m of the DSM's 140 m only, on a grid offset by 0.25 m.
    (x0, y0), *_ = PLACES["EPSG:28992"]
    (tmp_path / "dem_part").mkdir()
    with rasterio.open(tmp_path / "dem_part" / "dem.tif", "w", driver="GTiff", width=40, height=120,
                       count=1, dtype="float32", crs="EPSG:28992",
                       transform=from_origin(x0 - 20.25, y0 + 100.25, 1.0, 1.0)) as dst:
        dst.write(np.full((120, 40), 12.0, np.float32), 1)
    dsm_cfg = config.dsm.model_copy(update={"tiles": scene.dsm, "dem": tmp_path / "dem_part"})
    own = config.model_copy(update={"crs": None, "dsm": dsm_cfg})
    assert analysis_crs(own) == "EPSG:28992"  # the DSM's own CRS, not the site's GK zone
    mosaic, dem, found = checks.open_tiles(own, "EPSG:28992")
    assert found == []
    found = checks.grid_findings(own, "EPSG:28992", mosaic, dem)
    (off,) = [f for f in found if "not on the DSM's grid" in f.problem]
    assert off.level == "info" and off.column == "DEM" and off.value == "EPSG:28992, 1 m"
    (part,) = [f for f in found if "of the DSM's extent" in f.problem]
    assert part.level == "warning" and part.value == "28%" and "ring around the footprint" in part.problem  # 39.75 × 119.75 of 140 × 120 m
    # The same DSM analysed in another CRS (config crs set): resampled, and said so.
    other = own.model_copy(update={"crs": "EPSG:25831"})
    assert analysis_crs(other) == "EPSG:25831"
    mosaic, dem, _ = checks.open_tiles(other, "EPSG:25831")
    (moved,) = [f for f in checks.grid_findings(other, "EPSG:25831", mosaic, dem) if f.column == "DSM"]
    assert moved.level == "warning" and "resampled to the analysis CRS EPSG:25831" in moved.problem
    assert "crs: null" in moved.fix


@pytest.mark.slow
def test_a_terrain_model_as_dsm_is_named_by_validate_and_survey(tmp_path, capsys):
    """The DEM given as the DSM: `validate` (from a sample) and `survey` (from the
    measured roofs, measuring a sample only then) both name the likely cause."""
    scene = make_scene(tmp_path, "EPSG:3007", 1.0)
    config, out = _init(tmp_path, scene, scene.dem), tmp_path / "out"
    capsys.readouterr()
    assert main(["validate", str(config), "--out", str(out), "--lang", "en"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "show nothing standing" in said and "terrain model" in said
    assert main(["survey", str(config), "--out", str(out), "--overwrite", "--quiet", "--no-report"]) == 0
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert findings["problem"].str.contains("terrain model").sum() == 1
