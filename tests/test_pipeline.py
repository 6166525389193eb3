"""The pipeline on a handful of buildings made in the test."""

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
import rasterio.windows
import shapely

from roofpv.energy.weather import typical_year
from roofpv.run.pipeline import run

from .conftest import GHI, SITE, TEMP, WIND

ORIGIN_X, ORIGIN_Y = 500_000.0, 3_394_000.0  # EPSG:4549, near 30.68°N 121.0°E


@pytest.fixture(scope="module")
def small_config(tmp_path_factory, config):
    tmp_path = tmp_path_factory.mktemp("small")
    boxes = {
        "F1": shapely.box(0, 0, 30, 20),        # flat concrete roof, the hand-computed case
        "F2": shapely.box(100, 0, 120, 10),     # rural gable, ridge E–W
        "F3": shapely.box(200, 0, 230, 20),     # load too low
        "F4": shapely.box(300, 0, 303, 3),      # 9 m²: too small
        "F5": shapely.box(400, 0, 420, 10),     # no survey row
    }
    fp = gpd.GeoDataFrame(
        {"building_id": list(boxes)},
        geometry=[shapely.affinity.translate(g, ORIGIN_X, ORIGIN_Y) for g in boxes.values()],
        crs="EPSG:4549",
    ).to_crs("EPSG:4490")
    fp.to_file(tmp_path / "fp.gpkg")
    town = gpd.GeoDataFrame(
        {"name": ["甲镇"]}, geometry=[shapely.box(ORIGIN_X - 50, ORIGIN_Y - 50, ORIGIN_X + 500, ORIGIN_Y + 50)],
        crs="EPSG:4549",
    )
    town.to_file(tmp_path / "towns.gpkg")
    pd.DataFrame({
        "建筑编号": ["F1", "F2", "F3", "F4", "X9"],
        "镇街道": ["甲镇", None, "甲镇", "甲镇", "甲镇"],
        "建筑类别": ["工业厂房", "农村住宅", "学校", "商业", "商业"],
        "屋面类型": ["混凝土平屋面", "瓦屋面", "混凝土平屋面", "混凝土平屋面", "混凝土平屋面"],
        "屋面荷载": [2.0, 0.5, 0.3, 2.0, 2.0],
        "遮挡情况": ["无", "无", "无", "无", "无"],
        "并网条件": ["具备"] * 5,
        "建成年份": [2022, 2000, 2023, 2010, 2010],
        "已装光伏容量": [None, None, None, None, None],
    }).to_csv(tmp_path / "survey.csv", index=False)
    inputs = config.inputs.model_copy(update={
        "footprints": tmp_path / "fp.gpkg", "survey": tmp_path / "survey.csv", "survey_sheet": 0,
        "townships": tmp_path / "towns.gpkg", "townships_name_column": "name",
    })
    # One small DSM tile of the sample (its corner), 90 km from the footprints: a DSM that
    # reaches no footprint, and nothing to search for roofs missing from the footprints.
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    source = sorted(config.dsm.tiles.glob("*.tif"))[0]
    with rasterio.open(source) as src:
        window = rasterio.windows.Window(0, 0, 40, 40)
        profile = {**src.profile, "width": 40, "height": 40, "transform": src.window_transform(window)}
        profile.pop("blockxsize", None), profile.pop("blockysize", None), profile.pop("tiled", None)
        with rasterio.open(tiles / source.name, "w", **profile) as dst:
            dst.write(src.read(window=window))
    dsm = config.dsm.model_copy(update={"tiles": tiles})
    return config.model_copy(update={"inputs": inputs, "dsm": dsm})


@pytest.fixture(scope="module")
def small(small_config):
    """One run of the five hand-made buildings, for the tests that only read it."""
    return run(small_config)


def test_every_footprint_is_in_the_output(small):
    b = small.buildings
    assert sorted(b.index) == ["F1", "F2", "F3", "F4", "F5"]
    assert b.crs.to_epsg() == 4549


def test_hand_computed_flat_roof(small):
    f1 = small.buildings.loc["F1"]
    assert (f1.suitability, f1.modules, f1.capacity_kwp) == ("suitable", 120, pytest.approx(69.6))
    assert f1.roof_area_m2 == pytest.approx(600.0, rel=1e-6)
    assert f1.usable_area_m2 == pytest.approx(28 * 18, rel=1e-6)
    assert f1.annual_kwh == pytest.approx(69.6 * f1.specific_yield_kwh_kwp)  # shading class 无 → 0 %


def test_gable_uses_south_plane_only(small):
    f2 = small.buildings.loc["F2"]
    assert f2.roof_aspect_deg == pytest.approx(180.0)
    assert f2.modules == 32 and "north_plane_unused" in f2.reasons
    assert f2.township == "甲镇" and f2.township_source == "location"


def test_statuses_and_reasons(small):
    b = small.buildings
    # The sample's DSM tiles do not reach these footprints: geometry from the survey, and
    # the reasons say so (dsm_no_data, info).
    assert (b.loc["F3", "suitability"], b.loc["F3", "reasons"]) == ("unsuitable", "roof_load;dsm_no_data")
    assert b.loc["F3", "capacity_kwp"] == 0
    assert b.loc["F4", "suitability"] == "unsuitable" and "area_too_small" in b.loc["F4", "reasons"]
    assert b.loc["F5", "suitability"] == "conditional" and "no_survey_record" in b.loc["F5", "reasons"]


def test_orphan_survey_row_and_missing_survey_are_reported(small):
    problems = {(f.building_id, f.problem) for f in small.findings}
    assert ("X9", "survey row has no footprint and is not assessed") in problems
    assert ("F5", "footprint has no survey row; assessed with default values") in problems


def test_cohort_coverage(small):
    town = small.townships.loc["甲镇"]
    # Cohort: F1 (new factory, 600 m²) and F3 (new school, 600 m²); no PV today.
    assert town.new_public_and_factory_buildings == 2
    assert town.new_public_and_factory_coverage_today == 0
    expected = 120 * 2.278 * 1.134 / 1200
    assert town.new_public_and_factory_coverage_potential == pytest.approx(expected)


def test_weather_file_named_in_run_info(small, small_config, tmp_path):
    """A config that names a weather file models with it and says so."""
    hourly, _ = typical_year(**SITE, monthly_ghi_kwh_m2=[1.2 * g for g in GHI],
                             monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)
    path = tmp_path / "brighter.csv"
    hourly.rename_axis("timestamp").reset_index().to_csv(path, index=False)
    weather = small_config.weather.model_copy(update={"file": path, "format": "csv"})
    results = run(small_config.model_copy(update={"weather": weather}))
    info = results.run_info.set_index("item")["value"]
    assert info["weather source"] == "hourly CSV file brighter.csv (stamps at interval start)"
    assert info["weather annual GHI (kWh/m²)"] == f"{1.2 * sum(GHI):.1f}"
    yields = results.buildings["specific_yield_kwh_kwp"] / small.buildings["specific_yield_kwh_kwp"]
    assert yields.dropna().between(1.1, 1.3).all()
