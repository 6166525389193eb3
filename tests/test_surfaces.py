"""Surfaces beyond roofs (roofpv.surfaces): what an outline is, its open ground, the
layout rule of each type checked by hand, and what counts where in the township table."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from roofpv.config import Module, SurfaceLayer, Surfaces, load_config
from roofpv.energy.solar import YieldTable
from roofpv.errors import ConfigError, InputError
from roofpv.schema import CITY, LAYER_FIELDS
from roofpv.surfaces import canopies, sites, totals

from .conftest import ROOT

CRS = "EPSG:4549"
MODULE = Module(length_m=2.278, width_m=1.134, power_w=580, gamma_pdc_per_c=-0.003, gap_m=0.02)
RULES = Surfaces().rules


def table() -> YieldTable:
    """A hand-made yield table: 1100 kWh/kWp flat, at 10° tilt 1160 facing south (180°),
    1040 facing north, linear in between over the azimuth bins of 90°."""
    tilts, azimuths = np.array([0.0, 10.0]), np.array([0.0, 90.0, 180.0, 270.0])
    annual = np.array([[1100.0] * 4, [1040.0, 1100.0, 1160.0, 1100.0]])
    monthly = np.repeat(annual[None] / 12, 12, axis=0)
    return YieldTable(tilts, azimuths, annual, monthly, annual, monthly)


def site(shape, kind="carport", whole=False, sid="S1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"surface_id": [sid], "surface_type": [kind], "surface_source": ["test"],
                             "name": [None], "township": ["甲镇"], "whole_site": [whole]},
                            geometry=[shape], crs=CRS)


def test_a_carport_by_hand():
    # A 50 m (east-west) x 30 m lot with a 10 x 10 m kiosk in its corner.
    lot = site(shapely.box(0, 0, 50, 30))
    kiosk = gpd.GeoSeries([shapely.box(40, 20, 50, 30)], index=["K1"], crs=CRS)
    opened, found = sites.open_ground(lot, kiosk)
    assert found == []
    assert opened["area_m2"].iloc[0] == pytest.approx(1500.0)
    assert opened["open_area_m2"].iloc[0] == pytest.approx(1400.0)
    laid = canopies.lay_out(opened, RULES, MODULE).iloc[0]
    # usable: 0.6 x 1400 = 840 m² plan; canopy 840 / cos 5° = 843.21 m²; module pitch
    # 2.298 x 1.154 = 2.651892 m² -> 317.96 -> 317 modules x 0.58 kW = 183.86 kWp.
    assert laid["usable_area_m2"] == pytest.approx(840.0)
    assert laid["azimuth_deg"] == pytest.approx(180.0)  # long axis east-west: faces south
    assert laid["modules"] == 317
    assert laid["kwp"] == pytest.approx(183.86)
    # yield: tilt 5° halfway between 1100 (flat) and 1160 (10°, south) = 1130 kWh/kWp;
    # x (1 - 0.05 shading) = 183.86 x 1130 x 0.95 = 197,373.7 kWh/yr.
    e = canopies.energy(opened.join(canopies.lay_out(opened, RULES, MODULE)), RULES, {"open_rack": table()})
    assert e["specific_yield_kwh_kwp"].iloc[0] == pytest.approx(1130.0)
    assert e["annual_kwh"].iloc[0] == pytest.approx(197_373.7, abs=0.1)


def test_each_type_keeps_to_its_own_rule():
    # wastewater plant site 100 x 100: tanks 35 % = 3500 m², covers 80 % -> 2800 m².
    plant = canopies.lay_out(site(shapely.box(0, 0, 100, 100), "tank_cover", whole=True).assign(
        open_area_m2=10000.0), RULES, MODULE).iloc[0]
    assert plant["usable_area_m2"] == pytest.approx(2800.0)
    # the same outline drawn as the tanks themselves: 80 % of 10,000
    tanks = canopies.lay_out(site(shapely.box(0, 0, 100, 100), "tank_cover").assign(open_area_m2=10000.0),
                             RULES, MODULE).iloc[0]
    assert tanks["usable_area_m2"] == pytest.approx(8000.0)
    # greenhouse 60 x 10: south slopes 50 %, but 70 % of the roof stays clear: 30 % = 180 m²
    house = canopies.lay_out(site(shapely.box(0, 0, 60, 10), "greenhouse").assign(open_area_m2=600.0),
                             RULES, MODULE).iloc[0]
    assert house["usable_area_m2"] == pytest.approx(180.0)
    assert house["module_tilt_deg"] == 25
    # rural yard: half of 150 = 75 (150 - 30 = 120 open would allow more); of 40 m²,
    # 40 - 30 = 10 keeps 30 m² open; of 25 m² (below 30) nothing.
    for area, expected in ((150.0, 75.0), (40.0, 10.0), (25.0, 0.0)):
        yard = canopies.lay_out(site(shapely.box(0, 0, 10, 10), "rural_yard").assign(open_area_m2=area),
                                RULES, MODULE).iloc[0]
        assert yard["usable_area_m2"] == pytest.approx(expected)
    assert yard["modules"] == 0 and yard["kwp"] == 0


def test_canopies_face_the_side_of_their_long_axis_nearer_south():
    rotated = shapely.affinity.rotate(shapely.box(0, 0, 60, 20), 30)  # long axis 30° anticlockwise of east
    assert canopies.facing_azimuth(np.array([rotated]))[0] == pytest.approx(150.0)
    tall = shapely.box(0, 0, 10, 60)  # long axis north-south: east or west, never north
    assert canopies.facing_azimuth(np.array([tall]))[0] in (pytest.approx(90.0), pytest.approx(270.0))


def test_a_surface_on_a_building_counts_as_its_roof():
    yard = site(shapely.box(0, 0, 20, 20), "rural_yard", sid="Y1")
    house = gpd.GeoSeries([shapely.box(-1, -1, 21, 21)], index=["H7"], crs=CRS)
    opened, found = sites.open_ground(yard, house)
    assert opened["open_area_m2"].iloc[0] == pytest.approx(0.0)
    assert "H7" in found[0].problem and found[0].building_id == "Y1"


def test_types_from_a_chinese_type_column_and_an_unknown_word(tmp_path):
    raw = gpd.GeoDataFrame({"类型": ["车棚", "污水处理厂", "大棚", "停車場", "游泳池", None],
                            "编号": ["A", "B", "C", "D", "E", "F"]},
                           geometry=[shapely.box(i * 100, 0, i * 100 + 50, 40) for i in range(6)], crs=CRS)
    spec = SurfaceLayer(file=tmp_path / "s.gpkg", type_column="类型", id_column="编号")
    found, findings = sites.recognise(raw, spec, "s.gpkg")
    assert list(found["surface_type"]) == ["carport", "tank_cover", "greenhouse", "carport"]  # 停車場: traditional
    assert list(found["whole_site"]) == [False, True, False, False]
    bad = [f for f in findings if f.column == "类型"]
    assert [(f.row, f.building_id, f.value) for f in bad] == [(5, "E", "游泳池"), (6, "F", None)]
    assert "not a surface type" in bad[0].problem and "carport" in bad[0].fix


def test_types_from_osm_tags_and_vector_tiles():
    raw = gpd.GeoDataFrame({
        "id": [11, 12, 13, 13, 14, 15, 16],
        "amenity": ["parking", "parking", None, None, None, None, None],
        "parking": [None, "multi-storey", None, None, None, None, None],
        "kind": [None, None, "parking", "parking", "wastewater_plant", "farmyard", "park"],
    }, geometry=[shapely.box(0, 0, 30, 30), shapely.box(100, 0, 130, 30), shapely.box(200, 0, 230, 30),
                 shapely.box(230, 0, 260, 30), shapely.box(300, 0, 400, 100), shapely.box(500, 0, 520, 20),
                 shapely.box(600, 0, 700, 100)], crs=CRS)
    found, findings = sites.recognise(raw, SurfaceLayer(file="osm.geojson"), "osm.geojson")
    assert list(found["surface_id"]) == ["11", "13", "14", "15"]
    assert list(found["surface_type"]) == ["carport", "carport", "tank_cover", "rural_yard"]
    assert list(found["surface_source"]) == ["amenity=parking", "kind=parking", "kind=wastewater_plant",
                                             "kind=farmyard"]
    assert found.area.iloc[1] == pytest.approx(1800.0)  # two tile pieces of way 13, merged
    problems = " | ".join(f.problem for f in findings)
    assert "1 car parks are multi-storey" in problems and "1 of 7 features carry no tag" in problems
    assert "merged into 1 surfaces" in problems
    with pytest.raises(InputError, match="no OSM tag column"):
        sites.recognise(raw[["id", "geometry"]], SurfaceLayer(file="x.gpkg"), "x.gpkg")


def test_rules_amend_the_defaults_and_a_wrong_mounting_is_named(tmp_path):
    base = (ROOT / "configs" / "pinghu.yaml").resolve()
    path = tmp_path / "c.yaml"
    path.write_text(f"extends: {base}\nsurfaces:\n  rules:\n    carport: {{tilt_deg: 8}}\n", encoding="utf-8")
    rules = load_config(path).surfaces.rules
    assert rules["carport"].tilt_deg == 8 and rules["carport"].coverage == 0.6
    path.write_text(f"extends: {base}\nsurfaces:\n  rules:\n    carport: {{temperature_model: rack}}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"surfaces.rules.carport.temperature_model = 'rack'"):
        load_config(path)


def township_frame() -> pd.DataFrame:
    """A township table as township_summary makes it (the columns with_surfaces reads)."""
    return pd.DataFrame({
        "counted_potential_kwp": [100.0, 50.0, 150.0], "annual_mwh": [110.0, 55.0, 165.0],
        "energy_use_mwh": [1000.0, 500.0, 1500.0], "technical_annual_mwh_p90": [1.0, 1.0, 2.0],
        "t_coverage_today": [0.1, 0.2, 0.13],
    }, index=pd.Index(["甲镇", "乙镇", CITY], name="township"))


def test_what_counts_where_with_facades_and_surfaces():
    b = pd.DataFrame({"township": ["甲镇", "甲镇", "乙镇"], "existing_pv_kwh": [10_000.0, 0.0, 5_000.0],
                      "facade_kwp": [20.0, 0.0, 10.0], "facade_annual_kwh": [14_000.0, 0.0, 6_000.0]})
    surfaces = pd.DataFrame({"township": ["甲镇", "未知"], "surface_type": ["carport", "rural_yard"],
                             "kwp": [30.0, 5.0], "annual_kwh": [33_000.0, 6_000.0]})
    out = totals.with_surfaces(township_frame(), b, surfaces)
    added = list(totals.TOTAL_FIELDS)
    assert list(out.columns) == ["counted_potential_kwp", "annual_mwh", "energy_use_mwh",
                                 "technical_annual_mwh_p90", *added, "t_coverage_today"]
    a, city = out.loc["甲镇"], out.loc[CITY]
    assert (a["facade_kwp"], a["facade_annual_mwh"], a["surface_kwp"], a["surface_annual_mwh"]) == (20, 14, 30, 33)
    assert a["total_kwp"] == 150 and a["total_annual_mwh"] == pytest.approx(110 + 14 + 33)
    # (existing 10 + roofs 110) / 1000; + facades 14; + surfaces 33
    assert (a["substitution_roofs"], a["substitution_with_facades"], a["substitution_all"]) == pytest.approx(
        (0.120, 0.134, 0.167))
    # the surface outside every township counts in the whole city only
    assert city["surface_kwp"] == 35 and city["surface_annual_mwh"] == pytest.approx(39.0)
    assert city["substitution_all"] == pytest.approx((15 + 165 + 20 + 39) / 1500)
    # a run without facades or surfaces: zeros, and the three rates equal
    bare = totals.with_surfaces(township_frame(), b.drop(columns=["facade_kwp", "facade_annual_kwh"]), None)
    assert (bare[["facade_kwp", "surface_kwp"]] == 0).all().all()
    assert (bare["substitution_roofs"] == bare["substitution_all"]).all()
    # no floor areas (OSM footprints without a survey): the rate is unknown, never infinite
    unknown = totals.with_surfaces(township_frame().assign(energy_use_mwh=0.0), b, surfaces)
    assert unknown[["substitution_roofs", "substitution_all"]].isna().all().all()


def test_by_type_has_a_column_pair_per_type_and_the_city_row():
    surfaces = pd.DataFrame({"township": ["甲镇", "甲镇", "乙镇"], "surface_type": ["carport", "greenhouse", "carport"],
                             "kwp": [30.0, 10.0, 5.0], "annual_kwh": [33_000.0, 9_000.0, 5_500.0]})
    out = totals.by_type(surfaces, ["甲镇", "乙镇", "丙镇"])
    assert out.loc["甲镇", ("carport", "kwp")] == 30 and out.loc["丙镇"].sum() == 0
    assert out.loc[CITY, ("carport", "annual_mwh")] == pytest.approx(38.5)
    assert totals.by_type(None, ["甲镇"]).empty


def test_the_surfaces_layer_holds_the_declared_columns():
    lot = site(shapely.box(0, 0, 50, 30)).assign(area_m2=1500.0, open_area_m2=1500.0)
    config = load_config(ROOT / "configs" / "pinghu.yaml")
    layer = canopies.assess(lot, config, {"open_rack": table(), "roof_standoff": table()})
    assert list(layer.columns) == [*LAYER_FIELDS["surfaces"], "geometry"]
    row = layer.iloc[0]
    assert row["capex_yuan"] == pytest.approx(3.8 * row["kwp"] * 1000)  # the carport's own capex
    assert row["export_mode"] == "self_use_surplus" and row["npv_yuan"] > 0
    assert math.isfinite(row["co2_avoided_t_yr"])


def test_report_rows_and_console_table_by_surface():
    from rich.console import Console

    from roofpv.cli.survey import surfaces_table
    from roofpv.report.data import by_surface

    b = pd.DataFrame({"township": ["甲镇", "乙镇"], "existing_pv_kwh": [0.0, 0.0],
                      "facade_kwp": [20.0, 10.0], "facade_annual_kwh": [14_000.0, 6_000.0]})
    surfaces = pd.DataFrame({"township": ["甲镇", "乙镇", "甲镇"], "surface_type": ["carport", "carport", "greenhouse"],
                             "kwp": [30.0, 5.0, 12.0], "annual_kwh": [33_000.0, 5_000.0, 12_500.0]})
    table = totals.with_surfaces(township_frame(), b, surfaces)
    rows = by_surface(table.loc["甲镇"], surfaces, {"甲镇"})
    assert list(rows.index) == ["roofs", "facades", "carport", "greenhouse"]
    assert rows.loc["roofs"].tolist() == pytest.approx([0.1, 0.11])  # MWp, GWh
    assert rows.loc["greenhouse"].tolist() == pytest.approx([0.012, 0.0125])
    city = by_surface(table.loc[CITY], surfaces, None)
    assert city.loc["carport", "capacity_mwp"] == pytest.approx(0.035)
    console = Console(record=True, width=200)
    console.print(surfaces_table(table, "zh"))
    text = console.export_text()
    assert "替代率" in text and "仅屋顶" in text
    # 甲镇: (existing 0 + roofs 110 MWh) / 1000 = 11.0 %; + facades 14 → 12.4 %; + surfaces 45.5 → 17.0 %
    line = next(row for row in text.splitlines() if row.lstrip("│ ").startswith("甲镇"))
    assert "11.0%" in line and "12.4%" in line and "17.0%" in line


def test_surfaces_of_another_place_are_left_out_and_named():
    near = site(shapely.box(100, 100, 150, 130), sid="near")
    far = site(shapely.box(90_000, 0, 90_050, 30), sid="far")
    both = gpd.GeoDataFrame(pd.concat([near, far], ignore_index=True), crs=CRS)
    houses = gpd.GeoSeries([shapely.box(0, 0, 20, 20), shapely.box(500, 500, 520, 520)], crs=CRS)
    kept, found = sites.near_buildings(both, houses, "s.gpkg")
    assert list(kept["surface_id"]) == ["near"]
    assert found[0].building_id == "far" and "1 surfaces lie 90 km or more from the buildings" in found[0].problem
    assert "layers: []" in found[0].fix


def test_a_missing_surfaces_file_names_the_config_key(tmp_path):
    from roofpv.io.surface_files import read_surfaces

    with pytest.raises(InputError, match=r"parking.gpkg: surfaces file not found; check surfaces.layers\[0\].file"):
        read_surfaces([SurfaceLayer(file=tmp_path / "parking.gpkg", type="carport")], CRS)


def test_no_surface_left_gives_an_empty_layer():
    config = load_config(ROOT / "configs" / "pinghu.yaml")
    empty = sites.no_sites(CRS).assign(area_m2=pd.Series(dtype=float), open_area_m2=pd.Series(dtype=float))
    layer = canopies.assess(empty, config, {"open_rack": table(), "roof_standoff": table()})
    assert layer.empty and list(layer.columns) == [*LAYER_FIELDS["surfaces"], "geometry"]
    out = totals.with_surfaces(township_frame(), pd.DataFrame({"township": ["甲镇"], "existing_pv_kwh": [0.0]}), layer)
    assert (out["surface_kwp"] == 0).all()


def test_the_sample_surfaces_count_their_open_ground_once(pinghu_results):
    r = pinghu_results
    s = r.surfaces.set_index("surface_id")
    assert sorted(s["surface_type"].value_counts().items()) == [
        ("carport", 3), ("corridor", 1), ("greenhouse", 2), ("rural_yard", 2), ("tank_cover", 1)]
    # a farmyard drawn round its house: the house's footprint is cut out, its roof is a roof
    yard = r.surfaces.set_index("surface_id").loc["YD01"]
    houses = r.buildings[r.buildings.geometry.within(shapely.box(*yard.geometry.bounds).buffer(0.5))]
    assert len(houses) == 1
    assert yard["open_area_m2"] == pytest.approx(yard["area_m2"] - houses.geometry.area.iloc[0], abs=0.5)
    assert yard["usable_area_m2"] == pytest.approx(0.5 * yard["open_area_m2"])
    # the township table holds the layer's sums; the city row all of them
    towns = r.townships
    by_town = s.groupby("township")["kwp"].sum()
    assert towns.loc[by_town.index, "surface_kwp"].to_numpy() == pytest.approx(by_town.to_numpy())
    assert towns.loc[CITY, "surface_annual_mwh"] == pytest.approx(s["annual_kwh"].sum() / 1000)
    assert (towns["substitution_all"] >= towns["substitution_roofs"]).all()


def test_surface_findings_read_in_chinese():
    from roofpv.findings import translate

    raw = gpd.GeoDataFrame({"kind": ["parking", "parking", "park"], "id": [1, 1, 2]},
                           geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.Point(0, 0)],
                           crs=CRS)
    _, findings = sites.recognise(raw, SurfaceLayer(file="osm.geojson"), "osm.geojson")
    found = sites.near_buildings(site(shapely.box(90_000, 0, 90_050, 30)), gpd.GeoSeries([shapely.box(0, 0, 9, 9)],
                                                                                      crs=CRS))[1]
    texts = [t for f in findings + found for t in (f.problem, f.fix)]
    assert [translate(t, "zh") for t in texts] == [
        "3 个要素中有 1 个不带场地标签，未计入", "无需处理；如需使用其他轮廓，请为该图层设置 type 或 type_column",
        "2 个轮廓与同类轮廓编号相同（同一要素在瓦片边缘被切开），已合并为 1 个场地", "无需处理",
        "1 个场地距建筑 90 km 以上，未计入",
        "请检查场地图层的坐标系，或为本地设置 surfaces.layers（extends 的配置会继承其场地图层；无场地写 `layers: []`）"]
