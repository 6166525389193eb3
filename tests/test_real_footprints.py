"""Footprints as they come: overlapping parts and duplicates, layer attributes, CRS far
from China, the row rule at high latitude — and an OSM export of Lujiazui, Shanghai, run
end to end (tests/data/real/osm_shanghai)."""

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from roofpv.cli import main
from roofpv.inputs.inventory import fill_from_footprints, footprint_attributes, resolve_overlaps
from roofpv.roofs import layout
from roofpv.roofs.roof import analysis_epsg

LUJIAZUI = Path(__file__).parent / "data" / "real" / "osm_shanghai" / "lujiazui_buildings.geojson"
WEATHER = Path(__file__).parent / "data" / "real" / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw.gz"


def frame(geoms, ids):
    g = gpd.GeoDataFrame({"geometry_valid": True}, geometry=geoms, index=pd.Index(ids, name="building_id"),
                         crs="EPSG:4549")
    return g


def test_part_duplicate_and_partial_overlap_counted_once():
    parent = box(0, 0, 40, 40)               # 1600 m²
    part = box(5, 5, 15, 25)                 # 200 m², inside the parent
    duplicate = box(0, 0, 40, 40)            # the parent again, later in the file
    neighbour = box(38, 0, 58, 20)           # 400 m², 40 m² of it over the parent (10 %)
    apart = box(100, 0, 110, 10)
    b, found = resolve_overlaps(frame([parent, part, duplicate, neighbour, apart], list("ABCDE")))
    assert b["overlap_of"].fillna("-").to_dict() == {"A": "-", "B": "A", "C": "A", "D": "-", "E": "-"}
    assert b.loc["B", "overlap_share"] == 1.0 and b.loc["D", "overlap_share"] == pytest.approx(0.1)
    # The neighbour gives up the strip it shares with the larger parent.
    assert b.loc["D"].geometry.area == pytest.approx(360.0)
    counted = b.geometry.area.where(b["overlap_of"].isna(), 0).sum()
    union = shapely.union_all([parent, part, duplicate, neighbour, apart]).area
    assert counted == pytest.approx(union)
    assert {(f.building_id, f.level, f.value) for f in found} == {
        ("B", "warning", "A (100%)"), ("C", "warning", "A (100%)"), ("D", "info", "A: 40 m² (10%)")}


def test_a_part_inside_a_duplicate_goes_to_the_first_whatever_else_was_read():
    """A part inside a feature present twice (OSM exports repeat ids) names the first of
    the two — also when other footprints are read with them, as a partition reads its
    neighbours: the tie is broken by the layer's order, not by the spatial tree's."""
    outline, part = box(0, 0, 40, 40), box(5, 5, 15, 25)
    near = [box(45 + 12 * k, 3 * (k % 5), 55 + 12 * k, 8 + 3 * (k % 5)) for k in range(30)]
    for extra in (0, 1, 14, 20, 29, 30):  # the tree's order named the second at 14, 20, 29, 30
        geoms = [outline, part, outline, *near[:extra]]
        b, found = resolve_overlaps(frame(geoms, ["A", "P", "A#2", *(f"n{k}" for k in range(extra))]))
        assert b.loc["P", "overlap_of"] == "A" and b.loc["A#2", "overlap_of"] == "A", extra
        assert {(f.building_id, f.value) for f in found} == {("P", "A (100%)"), ("A#2", "A (100%)")}


def test_shared_walls_are_not_overlaps():
    left, right = box(0, 0, 10, 10), box(10, 0, 20, 10)
    sliver = box(19.95, 0, 30, 10)           # 0.5 m² over `right`: digitising noise
    b, found = resolve_overlaps(frame([left, right, sliver], ["a", "b", "c"]))
    assert b["overlap_of"].isna().all() and found == []


def test_attributes_from_the_footprint_layer():
    layer = pd.DataFrame({
        "building": ["industrial", "apartments", "yes", None, "school"],
        "building:levels": ["2", None, "5;6", None, None],
        "height": [None, "33 m", None, "12", None],
        "name": ["厂房", None, " ", None, "小学"],
    })
    a = footprint_attributes(layer)
    assert a["category"].fillna("-").tolist() == ["factory", "urban_residential", "-", "-", "public_institution"]
    assert a["floors"].tolist()[:4] == [2.0, 11.0, 5.0, 4.0] and np.isnan(a["floors"][4])
    assert a["floors_from"].fillna("-").tolist() == ["building:levels", "height", "building:levels", "height", "-"]
    assert a["name"].fillna("-").tolist() == ["厂房", "-", "-", "-", "小学"]


@pytest.mark.parametrize(("height", "levels"), [("height_m", "floors"), ("Height (m)", "层数"),
                                                ("建筑高度(米)", "building_levels")])
def test_heights_and_floors_from_gis_export_columns(height, levels):
    """A GIS export's ``height_m`` (or its Chinese or bracketed-unit spelling) gives the
    floors where no level count is given, and the source names the column read."""
    layer = pd.DataFrame({height: [12.5, "33 m", None, 0.0], levels: [None, None, "6", None]})
    a = footprint_attributes(layer, storey_height_m=3.0)
    assert a["floors"].tolist()[:3] == [4.0, 11.0, 6.0] and np.isnan(a["floors"][3])  # 0 m: blank
    assert a["floors_from"].fillna("-").tolist() == [height, height, levels, "-"]
    b = fill_from_footprints(pd.DataFrame({"name": None, "category": None, "floors": [np.nan, np.nan, 2.0, np.nan]},
                                          index=a.index), a)
    assert b["floors"].tolist()[:3] == [4.0, 11.0, 2.0]
    assert b["floors_source"].tolist() == [f"footprints:{height}", f"footprints:{height}", "survey", "default"]


@pytest.mark.parametrize(("lat", "lon", "epsg"), [
    (30.68, 121.01, 4549),        # Pinghu: CGCS2000 GK CM 120°E
    (47.37, 8.54, 32632),         # Zürich: UTM 32N
    (59.33, 18.07, 32634),        # Stockholm: UTM 34N
    (-33.87, 151.21, 32756),      # Sydney: UTM 56S
])
def test_analysis_crs_inside_and_outside_china(lat, lon, epsg):
    assert analysis_epsg(lat, lon) == epsg


def test_row_rule_capped_at_high_latitude():
    L, tilt = 2.278, 20.0
    # Unchanged where the rule is sound (30.7°N: 3.62 m, the GB 50797 value).
    assert layout.row_pitch_tilted(L, tilt, 30.7) == pytest.approx(3.6204, abs=1e-3)
    assert not layout.row_pitch_capped(L, tilt, 30.7)
    # 57.7°N asked for 60 m rows; 59.3°N had no answer. Both get pitch L / 0.25.
    for lat in (57.7, 59.3, 70.0):
        assert layout.row_pitch_tilted(L, tilt, lat) == pytest.approx(L / layout.MIN_GCR)
        assert layout.row_pitch_capped(L, tilt, lat)
    assert layout.row_pitch_tilted(L, 0.0, 80.0) == pytest.approx(L)


def test_row_rule_finding_at_high_latitude(config):
    from roofpv.inputs.checks import row_rule_findings

    assert row_rule_findings(config) == []
    north = config.model_copy(update={"site": config.site.model_copy(update={"latitude": 59.3})})
    (finding,) = row_rule_findings(north)
    assert finding.column == "mountings.ballasted_tilted" and "ground coverage ratio 0.25" in finding.problem


def osm_parts():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # GDAL: repeated feature ids in the GeoJSON
        return gpd.read_file(LUJIAZUI)


@pytest.mark.real_data
def test_lujiazui_end_to_end(tmp_path, capsys):
    """init → validate → survey → plan → report on an OSM export with building parts
    over their parents and tile-split duplicates, no survey."""
    config = tmp_path / "lujiazui.yaml"
    out = tmp_path / "out"
    assert main(["init", str(LUJIAZUI), "--weather", str(WEATHER), "--out", str(config)]) == 0
    text = config.read_text(encoding="utf-8")
    assert "footprints_id_column: id" in text and "extends: " in text and "pinghu.yaml" in text
    assert main(["validate", str(config), "--out", str(out)]) == 0
    assert main(["survey", str(config), "--out", str(out), "--no-report", "--quiet", "--overwrite"]) == 0
    assert main(["plan", str(config), "--out", str(out), "--no-report", "--quiet", "--overwrite"]) == 0
    assert main(["report", str(config), "--out", str(out), "--overwrite"]) == 0
    assert (out / "report" / "index.html").exists()
    capsys.readouterr()

    b = gpd.read_file(out / "roofpv.gpkg", layer="buildings").set_index("building_id")
    raw = osm_parts()
    assert len(b) == len(raw) == 202
    # Hand-measured: the outlines' areas add up to 1.78 × the area they cover (parts
    # stacked on their parents); roofpv counts the covered area once.
    projected = raw.to_crs(4550).geometry
    union = shapely.union_all(projected.to_numpy()).area
    assert projected.area.sum() / union == pytest.approx(1.78, abs=0.01)
    assert b["roof_area_m2"].sum() == pytest.approx(union, rel=1e-3)
    # Huaxia Bank Tower (way 164901925, building:part) stands on 华夏银行大厦 (way 164901939).
    assert b.loc["164901925", "overlap_of"] == "164901939"
    assert b.loc["164901925", ["roof_area_m2", "usable_area_m2", "capacity_kwp"]].tolist() == [0.0, 0.0, 0.0]
    assert (b.loc[b["overlap_of"].notna(), "usable_area_m2"] == 0).all()  # parts: area counted once
    assert "footprint_overlap" in b.loc["164901925", "reasons"]
    parts = raw["kind"].eq("building_part").to_numpy()
    assert b["overlap_of"].notna().to_numpy()[parts].mean() > 0.95
    # Attributes from the layer: kind_detail=commercial → commercial; height 168 m → 56 floors.
    assert b.loc["164972439", ["category", "category_source"]].tolist() == ["commercial", "footprints"]
    assert b.loc["164972439", ["floors", "floors_source", "roof_height_m_source"]].tolist() == [
        56.0, "footprints:height", "footprints:height"]
    assert set(b["category_source"]) <= {"footprints", "default"}
    findings = pd.read_csv(out / "findings.csv", dtype={"building_id": str})
    assert findings["problem"].str.contains(r"irradiance runs 1\.0\d h late").any()
    overlap = findings[findings["problem"].str.startswith("footprint lies inside a larger one")]
    assert len(overlap) == b["overlap_of"].notna().sum()
    assert overlap.set_index("building_id").loc["164901925", "value"] == "164901939 (100%)"


@pytest.mark.slow
def test_nothing_crashes_on_empty_townships_and_cohorts(tmp_path, capsys):
    """A township without buildings, a target nobody qualifies for (built since 2100), a
    cohort without roofs, and `report --policy` that differs from the run's."""
    root = Path(__file__).resolve().parents[1]
    x, y = 121.013, 30.677
    gpd.GeoDataFrame({"building_id": ["a", "b"]},
                     geometry=[box(x, y, x + 0.0004, y + 0.0003), box(x + 0.001, y, x + 0.0013, y + 0.0002)],
                     crs="EPSG:4490").to_file(tmp_path / "fp.gpkg")
    gpd.GeoDataFrame({"township": ["有房镇", "空镇"]},
                     geometry=[box(x - 0.01, y - 0.01, x + 0.01, y + 0.01), box(x + 0.02, y, x + 0.03, y + 0.01)],
                     crs="EPSG:4490").to_file(tmp_path / "towns.gpkg")
    config = tmp_path / "c.yaml"
    config.write_text(
        f"extends: {root / 'configs' / 'pinghu.yaml'}\n"
        "inputs:\n  footprints: fp.gpkg\n  survey: null\n  townships: towns.gpkg\n"
        "grid:\n  transformers: null\ndsm:\n  tiles: null\n"
        "policy:\n  targets:\n    - name: future\n      label: 2100年后新建\n      categories: [factory]\n"
        "      built_since: 2100\n      milestones: {2030: 0.5}\n      source: test\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan", str(config), "--out", str(out), "--quiet", "--report"]) == 0
    assert (out / "report" / "index.html").exists()
    towns = pd.read_csv(out / "townships.csv").set_index("township")
    assert towns.loc["有房镇", "buildings"] == 2
    assert towns.loc["空镇", "buildings"] == 0  # listed, with nothing to measure
    assert towns.loc["空镇", "future_status_2030"] == "no_cohort"
    assert main(["report", str(config), "--out", str(out), "--overwrite",
                 "--policy", str(root / "configs" / "national.yaml")]) == 2
    assert "did not assess the targets" in " ".join(capsys.readouterr().err.split())


WUHAN = Path(__file__).parent / "data" / "real" / "osm_wuhan" / "guanggu_buildings.geojson"


@pytest.mark.real_data
def test_wuhan_screening_without_a_survey(tmp_path, capsys):
    """init → validate → survey → report on OSM footprints of a Wuhan district with no
    survey, no townships and no DSM: non-zero screening figures on every headline, the
    counted ones 0, and the datum check saying it could not run (docs/validation.md)."""
    root = Path(__file__).resolve().parents[1]
    config, out = tmp_path / "wuhan.yaml", tmp_path / "out"
    assert main(["init", str(WUHAN), "--out", str(config)]) == 0
    text = config.read_text(encoding="utf-8")
    assert "footprints_id_column: id" in text
    # the typical year of the nearest station of the table: Wuhan's CSWD, within 150 km
    km = re.search(r"nearest station of roofpv's table: Wuhan \(湖北, CSWD 574940\), (\d+) km", text)
    assert km and int(km.group(1)) < 150 and "station: 574940_CSWD" in text
    capsys.readouterr()
    assert main(["validate", str(config), "--out", str(out)]) == 0
    validate = " ".join(capsys.readouterr().out.split())
    assert "could not run: no DSM (dsm.tiles); no township layer" in validate
    assert "│ nan │" not in validate
    policy = str(root / "configs" / "nea_whole_county.yaml")
    assert main(["survey", str(config), "--out", str(out), "--overwrite", "--policy", policy]) == 0
    survey = capsys.readouterr().out
    assert main(["report", str(config), "--out", str(out), "--overwrite", "--policy", policy]) == 0

    b = gpd.read_file(out / "roofpv.gpkg", layer="buildings").set_index("building_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # GDAL: repeated feature ids in the GeoJSON
        raw = gpd.read_file(WUHAN)
    assert len(b) == len(raw) == 265
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    city = towns.loc["全市"]
    # counted figures: none without a survey; screening figures: all there
    assert city[["suitable", "counted_potential_kwp", "annual_mwh"]].tolist() == [0, 0, 0]
    assert city["conditional"] == (b["suitability"] == "conditional").sum() > 200
    kwp, mwh, p90 = city[["technical_potential_kwp", "technical_annual_mwh", "technical_annual_mwh_p90"]]
    assert kwp == pytest.approx(b["capacity_kwp"].sum(), abs=0.1) and kwp > 30_000
    assert mwh == pytest.approx(b["annual_kwh"].sum() / 1000, abs=0.1) and 0.85 * mwh < p90 < mwh
    # per m²: within the range of published rooftop technical potential (docs/validation.md:
    # 0.138 kWp per m² of suitable roof, Gagnon et al. 2018); usable area never above the roofs'
    assert 0 < city["usable_area_m2"] <= city["roof_area_m2"]
    assert 0.10 < kwp / city["usable_area_m2"] < 0.16
    assert 900 < 1000 * mwh / kwp < 1250  # kWh/kWp, central China (CSWD Wuhan: 938)
    for target in ("nea_public", "nea_industry_commerce", "nea_rural"):
        assert city[f"{target}_coverage_technical"] > 0.3 and city[f"{target}_coverage_potential"] == 0
    # heights: the tiles' height (m) gives floors (÷ 3 m), its source named; a height of 0 is blank
    from_height = b["floors_source"] == "footprints:height"
    assert from_height.sum() == (raw["height"] > 0).sum() == 87
    heights = raw.set_index(b.index)["height"][from_height]
    assert (b.loc[from_height, "floors"] == (heights / 3).round().clip(lower=1)).all()
    # every headline: console, report pages, workbook
    row = next(line for line in survey.splitlines() if line.strip("│ ").startswith("全市"))
    assert f"{kwp / 1000:,.1f}" in row and f"{mwh / 1000:,.1f}/{p90 / 1000:,.1f}" in row
    assert "area_total" not in survey
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert f"<dt>技术潜力年发电量 P50 (GWh，筛查†)</dt><dd>{mwh / 1000:,.2f}</dd>" in index
    assert "需普查核实后方可计入目标" in index
    page = next((out / "report").glob("01-*.html")).read_text(encoding="utf-8")
    assert f"<dt>技术潜力 (MWp，适宜＋有条件适宜，筛查†)</dt><dd>{kwp / 1000:,.1f}</dd>" in page
    assert (out / "report" / "roofpv.xlsx").exists()


@pytest.mark.real_data
@pytest.mark.parametrize("crs, suffix", [("EPSG:4326", ".gpkg"), ("EPSG:4547", ".fgb")])
def test_wuhan_per_partition_as_one_piece(crs, suffix, tmp_path, capsys):
    """The OSM layer of a Wuhan district (ids repeated, parts inside outlines), in another
    CRS and format, run in six spatial partitions that each read their own footprints: the
    same buildings, townships, plan and findings as one piece, and the figure a bureau
    quotes (technical potential of the 265 buildings) the same in both CRSs."""
    from roofpv.config import load_config
    from roofpv.inputs import first_pass
    from roofpv.run import engine
    from roofpv.run.pipeline import run
    from tests.test_first_pass import assert_same_results

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # GDAL: repeated feature ids in the GeoJSON
        raw = gpd.read_file(WUHAN)
    layer = tmp_path / f"wuhan{suffix}"
    raw.to_crs(crs).to_file(layer)
    config = tmp_path / "wuhan.yaml"
    assert main(["init", str(layer), "--out", str(config)]) == 0
    capsys.readouterr()
    config = load_config(config)
    assert first_pass.supported(config)
    whole = run(config)
    parted = engine.run_partitions(config, tmp_path / "out", partitions=6, by="spatial")
    assert_same_results(whole, parted)
    city = whole.townships.iloc[-1]
    assert len(whole.buildings) == 265 and whole.buildings["overlap_of"].notna().sum() > 0
    assert city["technical_potential_kwp"] == pytest.approx(40_342.48, abs=0.01)
