"""The GeoPackage and QGIS project of the Pinghu sample: layers, spatial index, stored
styles, Chinese aliases; GDAL's GeoPackage validator; and real QGIS (PyQGIS, offscreen).

The QGIS checks run ``tests/qgis_check.py`` with the Python QGIS is built for
(``ROOFPV_QGIS_PYTHON``, default Debian's ``/usr/bin/python3`` with ``python3-qgis``);
where it is missing they are skipped with the reason.
"""

import json
import os
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

pytestmark = pytest.mark.qgis

QGIS_PYTHON = os.environ.get("ROOFPV_QGIS_PYTHON", "/usr/bin/python3")
CHECKER = Path(__file__).with_name("qgis_check.py")
LAYERS = ["transformers", "pv_arrays", "roof_planes", "facades", "unmatched_roofs", "rollout_plan", "buildings",
          "surfaces", "transformer_areas", "townships"]


def imports(python: str, module: str) -> bool:
    try:
        return subprocess.run([python, "-c", f"import {module}"], capture_output=True,
                              timeout=120, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def run(pinghu_plan_out, pinghu_results):
    return pinghu_plan_out, pinghu_results


@pytest.fixture(scope="module")
def gpkg(run):
    return run[0] / "roofpv.gpkg"


@pytest.fixture(scope="module")
def styles(gpkg):
    return pyogrio.read_dataframe(gpkg, layer="layer_styles", read_geometry=False)


def test_layers_with_spatial_index(gpkg):
    tables = ["feeders", "layer_styles", "monthly_yield", "run_info"]
    assert sorted(pyogrio.list_layers(gpkg)[:, 0]) == sorted([*LAYERS, *tables])
    with sqlite3.connect(gpkg) as db:
        rtree = {t for (t,) in db.execute(
            "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'")}
        tables = {t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert rtree == set(LAYERS)
    assert {f"rtree_{n}_geom" for n in LAYERS} <= tables


def test_one_default_style_per_layer_matching_its_geometry_column(gpkg, styles):
    assert styles.groupby("f_table_name")["useAsDefault"].sum().to_dict() == dict.fromkeys(LAYERS, 1)
    assert (styles["f_table_schema"] == "").all()
    for name in LAYERS:
        assert pyogrio.read_info(gpkg, layer=name)["geometry_name"] == "geom"
    assert (styles["f_geometry_column"] == "geom").all()


def test_default_styles_by_layer(styles):
    default = styles[styles["useAsDefault"]].set_index("f_table_name")["styleQML"]
    renderer = {n: ET.fromstring(default[n]).find("renderer-v2") for n in LAYERS}
    assert renderer["buildings"].get("type") == "categorizedSymbol"
    assert renderer["buildings"].get("attr") == "suitability"
    assert [c.get("value") for c in renderer["buildings"].iter("category")] == [
        "suitable", "conditional", "unsuitable"]
    assert renderer["townships"].get("type") == "graduatedSymbol"
    assert renderer["townships"].get("attr") == (
        '("new_public_and_factory_coverage_today" - "new_public_and_factory_target_2025") * 100')
    assert ET.fromstring(default["townships"]).get("labelsEnabled") == "1"
    assert renderer["rollout_plan"].get("attr") == "build_year"
    assert renderer["pv_arrays"].get("type") == "singleSymbol"
    assert renderer["roof_planes"].get("attr") == "shading_loss"
    assert renderer["surfaces"].get("attr") == "surface_type"
    assert [c.get("value") for c in renderer["surfaces"].iter("category")] == [
        "carport", "corridor", "tank_cover", "greenhouse", "rural_yard"]
    others = styles[~styles["useAsDefault"]]
    assert "specific_yield_kwh_kwp" in others.loc[others.f_table_name == "buildings", "styleQML"].iloc[0]


def test_chinese_aliases_in_gpkg_data_columns(gpkg):
    with sqlite3.connect(gpkg) as db:
        rows = db.execute("SELECT table_name, column_name, name FROM gpkg_data_columns").fetchall()
    alias = {(t, c): n for t, c, n in rows}
    assert alias["buildings", "suitability"] == "适宜性"
    assert alias["buildings", "specific_yield_kwh_kwp"] == "单位发电量(kWh/kWp)"
    assert alias["townships", "new_public_and_factory_target_2030"] == (
        "新建公共机构建筑、新建厂房屋顶光伏覆盖率·2030年目标")
    assert alias["pv_arrays", "row"] == "阵列排号"
    for table in {t for t, _ in alias}:
        fields = set(pyogrio.read_info(gpkg, layer=table)["fields"])
        assert {c for t, c in alias if t == table} <= fields


def test_pv_arrays_match_the_layout(run, gpkg):
    _, results = run
    arrays = pyogrio.read_dataframe(gpkg, layer="pv_arrays")
    b = results.buildings
    np.testing.assert_allclose(arrays["kwp"], arrays["modules"] * 0.58)
    assert not arrays["building_id"].isin(b.index[b["suitability"] == "unsuitable"]).any()
    per_building = arrays.groupby("building_id")["modules"].sum()
    plain = b[(b["suitability"] != "unsuitable") & (b["existing_pv_area_m2"].fillna(0) == 0)]
    np.testing.assert_array_equal(per_building.reindex(plain.index, fill_value=0), plain["modules"])
    # Modelled roofs: every row inside its footprint (measured planes are convex hulls
    # of DSM pixels and may overhang an L-shaped footprint).
    modelled = arrays["building_id"].map(b["roof_slope_deg_source"]).ne("dsm").to_numpy()
    footprint = b.geometry.reindex(arrays["building_id"][modelled]).to_numpy()
    rows = arrays.geometry.to_numpy()[modelled]
    assert shapely.within(rows, shapely.buffer(footprint, 1e-3)).all()


def test_project_lists_the_layers_top_down_by_relative_path(run):
    out, results = run
    with zipfile.ZipFile(out / "roofpv.qgz") as z:
        assert z.namelist() == ["roofpv.qgs"]
        root = ET.fromstring(z.read("roofpv.qgs"))
    sources = [e.get("source") for e in root.iter("layer-tree-layer")]
    assert sources == [f"./roofpv.gpkg|layername={n}" for n in LAYERS]
    assert root.find("projectCrs/spatialrefsys/authid").text == results.crs
    assert [e.find("renderer-v2").get("type") for e in root.iter("maplayer")] == [
        "categorizedSymbol", "singleSymbol", "graduatedSymbol", "graduatedSymbol", "singleSymbol", "categorizedSymbol",
        "categorizedSymbol", "categorizedSymbol", "categorizedSymbol", "graduatedSymbol"]


def validator_python() -> str | None:
    for python in (QGIS_PYTHON, "python3"):
        if imports(python, "osgeo_utils.samples.validate_gpkg"):
            return python
    return None


def test_geopackage_passes_gdal_validator(gpkg):
    python = validator_python()
    if python is None:
        pytest.skip("GDAL's validate_gpkg.py not found (Debian: apt-get install python3-gdal)")
    done = subprocess.run([python, "-m", "osgeo_utils.samples.validate_gpkg", str(gpkg)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "" and "warning" not in done.stderr.lower()


@pytest.fixture(scope="module")
def qgis(run, gpkg):
    if not imports(QGIS_PYTHON, "qgis.core"):
        pytest.skip(f"PyQGIS not available: {QGIS_PYTHON} cannot import qgis.core "
                    "(Debian: apt-get install qgis python3-qgis)")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [QGIS_PYTHON, str(CHECKER), str(gpkg), str(run[0] / "roofpv.qgz"), str(run[0])],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_layer_opens_styled_in_qgis(qgis, gpkg, styles):
    layers = qgis["layers"]
    for name in LAYERS:
        assert layers[name]["valid"], name
        assert layers[name]["crs"] == "EPSG:4549"
        assert layers[name]["features"] == pyogrio.read_info(gpkg, layer=name)["features"]
        assert layers[name]["related_styles"] == (styles["f_table_name"] == name).sum()
    buildings = layers["buildings"]
    assert buildings["renderer"] == "categorizedSymbol" and buildings["attribute"] == "suitability"
    assert buildings["categories"] == ["suitable", "conditional", "unsuitable"]
    assert buildings["colors"] == ["#1a9641", "#fdae61", "#bababa"]
    assert buildings["aliases"]["suitability"] == "适宜性"
    towns = layers["townships"]
    assert towns["renderer"] == "graduatedSymbol" and towns["labels"] == "township"
    assert [r[0] for r in towns["ranges"]] == [-100, -20, -10, 0, 10, 20]
    assert layers["rollout_plan"]["renderer"] == "categorizedSymbol"
    assert layers["rollout_plan"]["attribute"] == "build_year"
    assert layers["pv_arrays"]["renderer"] == "singleSymbol"
    assert layers["roof_planes"]["renderer"] == "graduatedSymbol"
    surfaces = layers["surfaces"]
    assert surfaces["renderer"] == "categorizedSymbol" and surfaces["attribute"] == "surface_type"
    assert surfaces["aliases"]["surface_type"] == "场地类型" and surfaces["features"] == 9


def test_qgis_draws_each_category_in_its_colour(qgis):
    images = qgis["buildings_images"]
    assert sorted(images) == ["conditional", "suitable", "unsuitable"]
    for image in images.values():
        width, height = image["size"]
        assert image["pixels_of_color"] > 0.05 * width * height, image


def test_project_opens_in_qgis_and_renders(qgis):
    project = qgis["project"]
    assert project["read"] and project["crs"] == "EPSG:4549"
    assert [lyr["source"].rsplit("layername=", 1)[1] for lyr in project["layers"]] == LAYERS
    assert all(lyr["valid"] for lyr in project["layers"])
    image = qgis["project_image"]
    width, height = image["size"]
    assert image["background_pixels"] < 0.5 * width * height
    assert image["colors"] > 10 and Path(image["path"]).stat().st_size > 0


def test_project_opens_at_city_scale_showing_the_suitability_colours(qgis):
    image = qgis["project_image"]
    assert image["scale"] > 20_000  # the whole city, not a detail
    assert "pv_arrays" not in image["drawn"] and "roof_planes" not in image["drawn"]
    assert {"buildings", "townships"} <= set(image["drawn"])
    pixels = image["status_pixels"]
    assert sorted(pixels) == ["conditional", "suitable", "unsuitable"]
    for status, n in pixels.items():
        assert n >= 50, (status, pixels)  # each status visible at the opening extent


def test_detail_layers_only_below_1_to_5000_and_labels_with_a_cjk_font(qgis, styles):
    for name in ("pv_arrays", "roof_planes"):
        visible, min_scale, max_scale = qgis["layers"][name]["scale_visibility"]
        assert visible and min_scale == 5000 and max_scale == 0, name
    assert not qgis["layers"]["buildings"]["scale_visibility"][0]
    # the style asks for Noto Sans CJK SC; without it QGIS substitutes an installed font
    towns = styles[(styles["f_table_name"] == "townships") & (styles["useAsDefault"].astype(bool))]
    assert 'fontFamily="Noto Sans CJK SC"' in towns["styleQML"].iloc[0]
    assert qgis["layers"]["townships"]["label_font"]
