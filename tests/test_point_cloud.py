"""Classified LAS/LAZ point clouds gridded to DSM, DTM and canopy (roofpv.io.point_cloud):
a synthetic cloud of known heights written with laspy, and the real AHN3 cloud of
tests/data/real/dsm_delft read by the survey."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

laspy = pytest.importorskip("laspy")

from roofpv.config import Dsm  # noqa: E402
from roofpv.errors import PointCloudError  # noqa: E402
from roofpv.io import inspect, point_cloud  # noqa: E402

DELFT = Path(__file__).parent / "data" / "real" / "dsm_delft"


def _cloud(path: Path, crs: str | None = "EPSG:32650", seed: int = 0) -> None:
    """40 × 40 m at 8 points/m² on ground at 10 m (class 2): a flat roof at 16 m over
    x 5–15, y 5–15 (class 6), a gable over x 22–34, y 5–13 (eaves 13 m, ridge 15 m along
    y = 9), a tree crown at 18 m of radius 2 m at (10, 30) (class 5), a bird at 60 m
    (class 7). Coordinates offset to (500000, 3400000)."""
    rng = np.random.default_rng(seed)
    n = 40 * 40 * 8
    x, y = rng.uniform(0, 40, n), rng.uniform(0, 40, n)
    z = np.full(n, 10.0)
    cls = np.full(n, 2, np.uint8)
    flat = (x > 5) & (x < 15) & (y > 5) & (y < 15)
    z[flat], cls[flat] = 16.0, 6
    gable = (x > 22) & (x < 34) & (y > 5) & (y < 13)
    z[gable], cls[gable] = 15.0 - 0.5 * np.abs(y[gable] - 9.0), 6
    tree = np.hypot(x - 10, y - 30) < 2
    z[tree], cls[tree] = 18.0, 5
    x, y, z, cls = np.r_[x, 20.0], np.r_[y, 20.0], np.r_[z, 60.0], np.r_[cls, 7]
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.offsets = [500000.0, 3400000.0, 0.0]
    header.scales = [0.001, 0.001, 0.001]
    if crs is not None:
        from pyproj import CRS
        header.add_crs(CRS.from_user_input(crs))
    las = laspy.LasData(header)
    las.x, las.y, las.z = x + 500000, y + 3400000, z
    las.classification = cls
    las.write(path)


def _at(grid: np.ndarray, origin, res, x, y) -> float:
    return float(grid[int((origin[1] - (3400000 + y)) / res), int((500000 + x - origin[0]) / res)])


def test_synthetic_cloud_grids_to_the_heights_it_was_built_from(tmp_path):
    _cloud(tmp_path / "a.laz")
    grids, origin, wkt = point_cloud.grid_cloud(tmp_path / "a.laz", 1.0)
    dsm, dtm, canopy = grids["dsm"], grids["dtm"], grids["canopy"]
    assert "32650" in wkt or "UTM zone 50N" in wkt
    assert origin[0] % 1.0 == 0 and origin[1] % 1.0 == 0  # grid on multiples of the cell
    assert np.isfinite(dsm).all() and np.isfinite(dtm).all()
    assert _at(dsm, origin, 1.0, 10.5, 10.5) == pytest.approx(16.0, abs=1e-3)  # flat roof
    # Highest return of a cell: near its upper edge on the slope (0.5 m per m), near the ridge.
    assert _at(dsm, origin, 1.0, 28.5, 9.5) == pytest.approx(15.0, abs=0.1)
    assert _at(dsm, origin, 1.0, 28.5, 6.5) == pytest.approx(14.0, abs=0.1)
    assert _at(dsm, origin, 1.0, 38.5, 38.5) == pytest.approx(10.0, abs=1e-3)  # open ground
    # The tree is not surface: the DSM under it is ground, its height is canopy.
    assert _at(dsm, origin, 1.0, 10.5, 30.5) == pytest.approx(10.0, abs=0.05)
    assert _at(canopy, origin, 1.0, 10.5, 30.5) == pytest.approx(8.0, abs=0.05)
    assert _at(canopy, origin, 1.0, 10.5, 10.5) == 0 and _at(canopy, origin, 1.0, 30.5, 30.5) == 0
    # Ground under the roofs is interpolated from around them; the bird is dropped.
    assert _at(dtm, origin, 1.0, 10.5, 10.5) == pytest.approx(10.0, abs=1e-3)
    assert dsm.max() < 16.01


def test_folder_is_gridded_once_into_tiles_on_one_grid_and_resolved_for_the_stage(tmp_path):
    folder = tmp_path / "clouds"
    folder.mkdir()
    _cloud(folder / "a.laz")
    _cloud(folder / "b.LAS", seed=1)
    c = point_cloud.resolve(Dsm(tiles=folder, point_cloud_resolution_m=0.5))
    assert c.tiles == folder / "roofpv_grid" / "0.5m" / "dsm" and c.tiles_pattern == "*.tif"
    assert c.dem.name == "dtm" and c.canopy.name == "canopy"
    tiles = sorted(c.tiles.glob("*.tif"))
    assert [t.stem for t in tiles] == ["a", "b"]
    with rasterio.open(tiles[0]) as src:
        assert src.res == (0.5, 0.5) and src.crs.to_epsg() == 32650
        assert src.bounds.left % 0.5 == 0
    stamp = tiles[0].stat().st_mtime_ns
    point_cloud.resolve(Dsm(tiles=folder, point_cloud_resolution_m=0.5))  # cached: not rewritten
    assert tiles[0].stat().st_mtime_ns == stamp
    # A CRS given for the clouds is part of the cache's key (a changed setting regrids).
    given = point_cloud.resolve(Dsm(tiles=folder, point_cloud_resolution_m=0.5, point_cloud_crs="EPSG:4549"))
    assert given.tiles == folder / "roofpv_grid" / "0.5m_EPSG4549" / "dsm"
    # A DEM the config names is kept; GeoTIFF folders are left alone.
    own = Dsm(tiles=folder, dem=tmp_path / "mydem")
    assert point_cloud.resolve(own).dem == tmp_path / "mydem"
    assert point_cloud.resolve(Dsm(tiles=c.tiles)) == Dsm(tiles=c.tiles)


def test_cloud_without_crs_or_ground_gets_a_message_naming_file_and_fix(tmp_path):
    _cloud(tmp_path / "nocrs.laz", crs=None)
    with pytest.raises(PointCloudError, match=r"nocrs\.laz.*no CRS.*dsm\.point_cloud_crs"):
        point_cloud.grid_cloud(tmp_path / "nocrs.laz", 1.0)
    grids, _, wkt = point_cloud.grid_cloud(tmp_path / "nocrs.laz", 1.0, crs="EPSG:4549")
    assert "4549" in wkt or "CGCS2000" in wkt
    las = laspy.read(tmp_path / "nocrs.laz")
    las.classification = np.where(las.classification == 2, 1, las.classification)
    las.write(tmp_path / "noground.laz")
    with pytest.raises(PointCloudError, match=r"noground\.laz: no ground \(class 2\)"):
        point_cloud.grid_cloud(tmp_path / "noground.laz", 1.0, crs="EPSG:4549")
    (tmp_path / "broken.laz").write_bytes(b"LASF" + b"\0" * 50)
    with pytest.raises(PointCloudError, match=r"broken\.laz: cannot read"):
        point_cloud.grid_cloud(tmp_path / "broken.laz", 1.0)
    with pytest.raises(PointCloudError, match="no .las or .laz"):
        point_cloud.grid_folder(tmp_path / "nothing", 1.0)


def test_init_reads_a_point_cloud_folder(tmp_path):
    _cloud(tmp_path / "a.laz")
    facts = inspect.inspect_dsm(tmp_path)
    assert facts.tiles == 1 and facts.points_per_m2 == pytest.approx(8.0, rel=0.02)
    assert facts.resolution_m == (0.5, 0.5)  # 2 points per 0.5 m cell
    assert facts.crs == "EPSG:32650"


@pytest.mark.real_data
def test_real_ahn3_cloud_grids_to_the_heights_of_its_points(tmp_path):
    """Roof tops and ground of the Delft cloud against its raw points (not the grid)."""
    shutil.copytree(DELFT / "laz", tmp_path / "laz", ignore=shutil.ignore_patterns("roofpv_grid"))
    grids = point_cloud.grid_folder(tmp_path / "laz", 0.5, "EPSG:28992")
    las = laspy.read(next((tmp_path / "laz").glob("*.laz")))
    b = gpd.read_file(DELFT / "buildings.gpkg").set_index("building_id")
    x, y, z, cls = np.asarray(las.x), np.asarray(las.y), np.asarray(las.z), np.asarray(las.classification)
    with rasterio.open(next(grids.dsm.glob("*.tif"))) as src:
        dsm, t = src.read(1), src.transform
    with rasterio.open(next(grids.dtm.glob("*.tif"))) as src:
        dtm = src.read(1)
    surface = np.isin(cls, point_cloud.SURFACE_CLASSES)
    checked = 0
    for bid in b.index[:40]:
        # The cell holding the building's highest return holds exactly the highest
        # surface-class return that falls in it (brute force over the raw points).
        inside = (cls == 6) & shapely.contains_xy(b.geometry[bid], x, y)
        if not inside.any():
            continue
        top = np.flatnonzero(inside)[np.argmax(z[inside])]
        col, row = int((x[top] - t.c) / t.a), int((y[top] - t.f) / t.e)
        x0, y1 = t.c + col * t.a, t.f + row * t.e
        in_cell = surface & (x >= x0) & (x < x0 + t.a) & (y <= y1) & (y > y1 + t.e)
        assert dsm[row, col] == pytest.approx(z[in_cell].max(), abs=1e-3), bid
        checked += 1
    assert checked >= 30
    ground = z[cls == 2]
    assert np.median(dtm) == pytest.approx(np.median(ground), abs=0.3)
    assert np.nanmax(dsm) < z[cls == 6].max() + 0.01  # no noise or tree above the roofs


@pytest.mark.real_data
def test_survey_reads_the_laz_folder_the_config_names(tmp_path):
    run = subprocess.run([sys.executable, "-m", "roofpv", "survey", str(DELFT / "delft.yaml"),
                          "--out", str(tmp_path / "out"), "--no-report", "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    b = gpd.read_file(tmp_path / "out" / "roofpv.gpkg", layer="buildings")
    assert len(b) == 92
    assert (b["dsm_status"] != "no_data").all()  # every footprint lies on the gridded cloud
    assert (b["dsm_status"] == "measured").sum() >= 10
