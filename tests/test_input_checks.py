"""Inputs checked against each other: web-map offsets of the footprints, unreadable DSM
tiles and footprints the DSM does not cover. Every scene is made in the test; every
footprint must come out, with the message an analyst needs."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from roofpv.inputs import checks, webmap
from roofpv.run.pipeline import build_inventory, check_inputs, run

X0, Y0 = 597_000.0, 3_398_000.0  # EPSG:4549, 当湖 (Pinghu)
RES = 1.0
GROUND, ROOF = 3.0, 12.0


def boxes(cols=4, rows=3):
    """Flat-roofed buildings 20 m × 12 m, 40 m apart east–west and 30 m north–south."""
    return {f"B{r}{c}": shapely.box(X0 + 20 + 40 * c, Y0 + 20 + 30 * r, X0 + 40 + 40 * c, Y0 + 32 + 30 * r)
            for r in range(rows) for c in range(cols)}


def write_tile(path, buildings, x0, x1, y0=Y0, y1=Y0 + 120, hole=None, crs="EPSG:4549"):
    """A DSM tile over x0..x1, y0..y1: ground, the buildings' roofs, nodata over ``hole``."""
    cols, rows = round((x1 - x0) / RES), round((y1 - y0) / RES)
    xs, ys = np.meshgrid(x0 + (np.arange(cols) + 0.5) * RES, y1 - (np.arange(rows) + 0.5) * RES)
    z = np.full(xs.shape, GROUND, np.float32)
    for g in buildings:
        z[shapely.contains_xy(g, xs, ys)] = ROOF
    if hole is not None:
        z[shapely.contains_xy(hole, xs, ys)] = -9999.0
    with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="float32",
                       crs=crs, transform=from_origin(x0, y1, RES, RES), nodata=-9999.0,
                       tiled=True, blockxsize=64, blockysize=64, compress="deflate") as dst:
        dst.write(z, 1)


def to_gcj02(frame):
    """Footprints as a web map (GCJ-02) shows them, in lon/lat."""
    lonlat = frame.to_crs("EPSG:4326")
    moved = shapely.transform(lonlat.geometry.to_numpy(),
                              lambda xy: np.column_stack(webmap.wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    return lonlat.set_geometry(gpd.GeoSeries(moved, index=lonlat.index, crs="EPSG:4326"))


def configure(config, tmp_path, footprints, tiles=None, townships=None, layer="footprints", **inputs):
    path = tmp_path / "fp.gpkg"
    footprints.to_file(path, layer=layer)
    ids = list(footprints["building_id"])
    pd.DataFrame({
        "建筑编号": ids, "建筑类别": ["工业厂房"] * len(ids), "屋面类型": ["混凝土平屋面"] * len(ids),
        "屋面荷载": [2.0] * len(ids), "遮挡情况": ["无"] * len(ids), "层数": [3] * len(ids),
        "并网条件": ["具备"] * len(ids), "建成年份": [2020] * len(ids),
    }).to_csv(tmp_path / "survey.csv", index=False)
    if townships is not None:
        gpd.GeoDataFrame({"name": ["甲镇"]}, geometry=[townships], crs="EPSG:4549").to_file(tmp_path / "t.gpkg")
    update = {"footprints": path, "footprints_layer": layer, "survey": tmp_path / "survey.csv",
              "survey_sheet": 0, "townships": tmp_path / "t.gpkg" if townships is not None else None,
              "townships_name_column": "name", **inputs}
    dsm = config.dsm.model_copy(update={"tiles": tiles, "workers": 1, "radius_m": 60.0})
    return config.model_copy(update={"inputs": config.inputs.model_copy(update=update), "dsm": dsm})


def frame(geoms):
    return gpd.GeoDataFrame({"building_id": list(geoms)}, geometry=list(geoms.values()), crs="EPSG:4549")


def datum_findings(findings):
    return [f for f in findings if f.column == "geometry" and f.building_id is None]


# --- GCJ-02 ----------------------------------------------------------------------


@pytest.fixture
def gcj_scene(tmp_path):
    truth = boxes()
    (tmp_path / "dsm").mkdir()
    write_tile(tmp_path / "dsm" / "t.tif", truth.values(), X0, X0 + 200)
    return truth, to_gcj02(frame(truth))


def test_footprints_digitised_on_amap_are_caught_by_the_dsm(config, tmp_path, gcj_scene):
    truth, digitised = gcj_scene
    inventory = build_inventory(configure(config, tmp_path, digitised, tmp_path / "dsm"))
    assert sorted(inventory.buildings.index) == sorted(truth)
    found = datum_findings(inventory.findings)
    assert [f.level for f in found] == ["error"]
    assert found[0].problem.startswith("footprints fit the DSM's buildings only if read as GCJ-02")
    assert "GCJ-02 (Amap/Tencent): 12 of 12" in found[0].problem
    assert "set inputs.footprints_datum: gcj02" in found[0].fix


def test_footprints_datum_converts_them_back(config, tmp_path, gcj_scene):
    truth, digitised = gcj_scene
    inventory = build_inventory(configure(config, tmp_path, digitised, tmp_path / "dsm", footprints_datum="gcj02"))
    b = inventory.buildings
    assert sorted(b.index) == sorted(truth)
    for bid, g in truth.items():
        assert shapely.hausdorff_distance(b.geometry[bid], g) < 0.05
    found = datum_findings(inventory.findings)
    assert [f.level for f in found] == ["info", "info"]
    assert found[0].problem.startswith("footprints converted from GCJ-02 (Amap/Tencent) to WGS84/CGCS2000")
    assert "GCJ-02 (Amap/Tencent) fits" in found[1].problem and "12 of 12" in found[1].problem


def test_without_dsm_townships_and_names_give_the_offset_away(config, tmp_path):
    truth = boxes()
    town = shapely.box(X0, Y0, X0 + 200, Y0 + 120)
    cfg = configure(config, tmp_path, to_gcj02(frame(truth)), townships=town, layer="高德底图描绘")
    inventory = build_inventory(cfg)
    assert len(inventory.buildings) == len(truth)
    found = datum_findings(inventory.findings)
    assert [f.level for f in found] == ["warning", "warning"]
    assert "fewer footprints fall outside every township if read as GCJ-02" in found[0].problem
    assert "WGS84/CGCS2000 (no shift): 12 of 12; GCJ-02 (Amap/Tencent): 0 of 12" in found[0].problem
    assert "mentions 高德" in found[1].problem
    assert sum("outside every township polygon" in f.problem for f in inventory.findings) == 12


def test_townships_locate_an_even_sample_of_a_large_file(config, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "TOWNSHIP_SAMPLE", 5)
    town = shapely.box(X0, Y0, X0 + 200, Y0 + 120)
    inventory = build_inventory(configure(config, tmp_path, to_gcj02(frame(boxes())), townships=town))
    found = datum_findings(inventory.findings)
    assert [f.level for f in found] == ["warning"]
    assert "WGS84/CGCS2000 (no shift): 5 of 5; GCJ-02 (Amap/Tencent): 0 of 5" in found[0].problem
    assert found[0].problem.endswith("(a sample spread evenly over the file's 12 footprints)")


# --- DSM tiles: unreadable, edges, gaps ------------------------------------------


@pytest.fixture(scope="module")
def broken_tiles(tmp_path_factory):
    """West tile good with a nodata hole over B20; east tile truncated; a text file and a
    tile without CRS among the tiles; B03 straddles the good tile's east edge at x0+80."""
    geoms = boxes(cols=4, rows=3)
    geoms["B03"] = shapely.box(X0 + 70, Y0 + 95, X0 + 90, Y0 + 107)
    geoms["FAR"] = shapely.box(X0 + 900, Y0 + 20, X0 + 920, Y0 + 32)
    folder = tmp_path_factory.mktemp("broken") / "dsm"
    folder.mkdir()
    write_tile(folder / "west.tif", geoms.values(), X0, X0 + 80, hole=geoms["B20"].buffer(2))
    write_tile(folder / "east.tif", geoms.values(), X0 + 80, X0 + 200)
    data = (folder / "east.tif").read_bytes()
    (folder / "east.tif").write_bytes(data[: len(data) // 2])
    (folder / "notes.tif").write_text("not a raster")
    write_tile(folder / "nocrs.tif", [], X0 + 500, X0 + 520, crs=None)
    return geoms, folder


@pytest.fixture(scope="module")
def broken_run(config, tmp_path_factory, broken_tiles):
    """The survey over :func:`broken_tiles`: its config and results."""
    geoms, folder = broken_tiles
    cfg = configure(config, tmp_path_factory.mktemp("broken_run"), frame(geoms), folder)
    return cfg, run(cfg)


def test_unreadable_tiles_are_reported_and_the_run_goes_on(broken_tiles, broken_run):
    geoms, _ = broken_tiles
    results = broken_run[1]
    b = results.buildings
    assert sorted(b.index) == sorted(geoms)
    left_out = {f.file.rsplit("/", 1)[-1]: f for f in results.findings if "tile left out" in f.problem}
    assert set(left_out) == {"east.tif", "notes.tif", "nocrs.tif"}
    assert all(f.level == "error" for f in left_out.values())
    assert "keep the survey's roof geometry" in left_out["east.tif"].problem
    assert "gdal_edit -a_srs" in left_out["nocrs.tif"].fix
    assert "complete GeoTIFF" in left_out["notes.tif"].fix
    measured = {"B00", "B01", "B10", "B11", "B21"}
    assert set(b.index[b["roof_form_source"] == "dsm"]) == measured
    assert (b.loc[~b.index.isin(measured), "roof_slope_deg_source"] == "survey").all()
    np.testing.assert_allclose(b.loc[list(measured), "roof_height_m"], ROOF - GROUND, atol=0.1)
    assert "read failed" in left_out["east.tif"].problem.lower()
    assert b.loc["FAR", "dsm_coverage"] == 0.0 and b.loc["B00", "dsm_coverage"] == pytest.approx(1.0)


def coverage_findings(findings):
    return {(f.building_id, f.level, f.problem.split(" (")[0]) for f in findings
            if f.column in ("DSM", "dsm_coverage") and "tile left out" not in f.problem}


def test_footprints_without_dsm_coverage_validate_and_survey_agree(broken_tiles, broken_run):
    geoms, _ = broken_tiles
    cfg, results = broken_run
    checked = check_inputs(cfg)
    assert len(checked.buildings) == len(geoms)
    expected = {
        (None, "info", "the DSM covers 5 of 13 footprints"),
        ("B20", "warning", "footprint inside the DSM tiles but over a gap in their data"),
        ("B03", "info", "footprint at the edge of the DSM tiles"),
    }
    assert coverage_findings(checked.findings) == expected
    assert coverage_findings(results.findings) == expected


def test_tiles_that_miss_every_footprint_are_a_warning(config, tmp_path):
    geoms = boxes(cols=2, rows=1)
    (tmp_path / "dsm").mkdir()
    write_tile(tmp_path / "dsm" / "far.tif", [], X0 + 5000, X0 + 5100)
    checked = check_inputs(configure(config, tmp_path, frame(geoms), tmp_path / "dsm"))
    found = [f for f in checked.findings if f.column == "DSM"]
    assert [f.level for f in found] == ["warning"]
    assert "cover none of the 2 footprints" in found[0].problem and "CRS" in found[0].fix


def test_empty_tile_folder_is_an_error_finding(config, tmp_path):
    (tmp_path / "dsm").mkdir()
    checked = check_inputs(configure(config, tmp_path, frame(boxes(2, 1)), tmp_path / "dsm"))
    found = [f for f in checked.findings if f.column == "DSM"]
    assert [f.level for f in found] == ["error"] and "no tiles matching" in found[0].problem
    assert len(checked.buildings) == 2
