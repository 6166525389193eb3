"""Screening without a survey: footprints only (how most counties start) give the technical
potential, its P50/P90 energy and the screening coverage on every headline — console,
townships.csv, the townships layer, the report and its workbook — labelled 筛查, while the
counted figures stay with the suitable roofs; heights from the layer's ``height_m``."""

import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from roofpv.cli import main
from roofpv.config import Target
from roofpv.schema import CITY
from roofpv.targets.policy import coverage, township_summary

from .conftest import ROOT

X, Y = 121.013, 30.677  # in 当湖街道, Pinghu
KINDS = ["commercial", "school", "yes", "commercial", "industrial", "school"]


@pytest.fixture(scope="module")
def footprints_only(tmp_path_factory):
    """Twelve footprints with OSM-like ``building`` and a GIS export's ``height_m``, one
    township, no survey; `validate`, then `survey` with its report."""
    tmp = tmp_path_factory.mktemp("screening")
    n = 12
    boxes = [box(X + 0.0006 * (i % 4), Y + 0.0005 * (i // 4), X + 0.0006 * (i % 4) + 0.0003,
                 Y + 0.0005 * (i // 4) + 0.0002) for i in range(n)]
    gpd.GeoDataFrame({"osm_id": [f"w{i}" for i in range(n)], "building": [KINDS[i % 6] for i in range(n)],
                      "height_m": [12.5, 33.0, None, 6.0] * 3},
                     geometry=boxes, crs="EPSG:4326").to_file(tmp / "fp.geojson")
    gpd.GeoDataFrame({"township": ["试验镇"]}, geometry=[box(X - 0.01, Y - 0.01, X + 0.02, Y + 0.02)],
                     crs="EPSG:4490").to_file(tmp / "towns.gpkg")
    config = tmp / "c.yaml"
    config.write_text(
        f"extends: {ROOT / 'configs' / 'pinghu.yaml'}\n"
        "inputs:\n  footprints: fp.geojson\n  footprints_id_column: osm_id\n  survey: null\n"
        "  townships: towns.gpkg\n"
        "grid:\n  transformers: null\ndsm:\n  tiles: null\n"
        "policy:\n  targets:\n    - name: whole_county\n      label: 整县推进公共与商业屋顶\n"
        "      categories: [public_institution, commercial]\n      built_since: null\n"
        "      metric: area_total\n      milestones: {2025: 0.3}\n      source: test\n", encoding="utf-8")
    return tmp, config


@pytest.fixture(scope="module")
def surveyed(footprints_only):
    tmp, config = footprints_only
    out = tmp / "out"
    import contextlib
    import io

    console = io.StringIO()
    with contextlib.redirect_stdout(console):
        assert main(["validate", str(config), "--out", str(out)]) == 0
        validate = console.getvalue()
        assert main(["survey", str(config), "--out", str(out), "--overwrite"]) == 0
    return out, validate, console.getvalue()[len(validate):]


def test_console_shows_the_screening_answer_and_no_internal_codes(surveyed):
    out, validate, survey = surveyed
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    city = towns.loc[CITY]
    row = next(line for line in survey.splitlines() if line.strip("│ ").startswith("全市"))
    cells = [c.strip() for c in row.strip("│").split("│")]
    # buildings, suitable, conditional, counted MWp, GWh, today, potential, technical MWp,
    # technical GWh P50/P90, screening coverage, 2025
    assert cells[1:6] == ["12", "0", "12", "0.0", "0.0"]
    assert cells[8] == f"{city['technical_potential_kwp'] / 1000:,.1f}" != "0.0"
    assert cells[9] == f"{city['technical_annual_mwh'] / 1000:,.1f}/{city['technical_annual_mwh_p90'] / 1000:,.1f}"
    assert cells[10] == f"{100 * city['whole_county_coverage_technical']:.1f}%" != "0.0%"
    text = " ".join(survey.split())
    assert "技术潜力†" in text and "年发电† GWh" in text and "筛查†" in text  # headers, over two lines
    assert "† 筛查：适宜与有条件适宜屋顶（含无普查记录的建筑）的技术潜力，需普查核实后方可计入目标" in text
    assert "覆盖率: 光伏面积 ÷ 屋面总面积 · test" in text and "area_total" not in survey
    # validate: no column named nan; the datum check says why it could not check positions
    assert "nan" not in re.findall(r"│\s*(\w+)\s*│", validate)
    assert "│ –" in validate and "no survey" in validate


def test_townships_csv_and_layer_carry_the_screening_figures(surveyed):
    out, _, _ = surveyed
    b = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="buildings", read_geometry=False).set_index("building_id")
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    layer = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="townships", read_geometry=False).set_index("township")
    assert (b["suitability"] == "conditional").all() and b["reasons"].str.contains("no_survey_record").all()
    city = towns.loc[CITY]
    # counted figures stay with suitable roofs: none
    assert city[["counted_potential_kwp", "annual_mwh", "annual_mwh_p90"]].tolist() == [0, 0, 0]
    assert city["whole_county_coverage_potential"] == 0.0  # no PV today, no suitable roof
    # screening: sums of the buildings, P90 below P50, area consistent with the capacity
    assert city["technical_potential_kwp"] == pytest.approx(b["capacity_kwp"].sum(), abs=0.1)
    assert city["technical_annual_mwh"] == pytest.approx(b["annual_kwh"].sum() / 1000, abs=0.1)
    assert 0.8 * city["technical_annual_mwh"] < city["technical_annual_mwh_p90"] < city["technical_annual_mwh"]
    assert city["usable_area_m2"] > 0 and city["usable_area_m2"] == pytest.approx(b["usable_area_m2"].sum(), abs=1)
    assert 0.1 < city["technical_potential_kwp"] / city["usable_area_m2"] < 0.25  # kWp per m² laid out
    cohort = b["category"].isin(["public_institution", "commercial"])
    by_hand = b.loc[cohort, "pv_area_m2"].sum() / b.loc[cohort, "roof_area_m2"].sum()
    assert city["whole_county_coverage_technical"] == pytest.approx(by_hand, rel=1e-6)
    assert layer.loc["试验镇", "technical_annual_mwh"] == pytest.approx(city["technical_annual_mwh"], abs=0.1)
    assert layer.loc["试验镇", "whole_county_coverage_technical"] == pytest.approx(by_hand, rel=1e-6)
    # heights from height_m: floors = height ÷ 3 m, the source naming the column
    assert b.loc["w0", ["floors", "floors_source"]].tolist() == [4.0, "footprints:height_m"]
    assert b.loc["w1", ["floors", "floors_source"]].tolist() == [11.0, "footprints:height_m"]
    assert b.loc["w2", "floors_source"] == "default" and np.isnan(b.loc["w2", "floors"])
    assert b.loc["w1", "roof_height_m_source"] == "footprints:height_m"


def test_report_and_workbook_show_the_screening_figures_labelled(surveyed):
    out, _, _ = surveyed
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    city = towns.loc[CITY]
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    page = next((out / "report").glob("01-*.html")).read_text(encoding="utf-8")
    gwh = f"{city['technical_annual_mwh'] / 1000:,.2f}"
    for html in (index, page):
        assert f"<dt>技术潜力年发电量 P50 (GWh，筛查†)</dt><dd>{gwh}</dd>" in html
        assert (f"<dt>技术潜力年发电量 P90 (GWh，筛查†)</dt><dd>"
                f"{city['technical_annual_mwh_p90'] / 1000:,.2f}</dd>") in html
        assert f"<dt>技术潜力 (MWp，适宜＋有条件适宜，筛查†)</dt><dd>{city['technical_potential_kwp'] / 1000:,.1f}" in html
        assert "需普查核实后方可计入目标" in html
        assert f"{100 * city['whole_county_coverage_technical']:.1f}%" in html  # the chart's third bar
    assert f'<td class="num screening">{gwh} / ' in index
    sheet = openpyxl.load_workbook(out / "report" / "roofpv.xlsx", read_only=True)["汇总"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == CITY)
    assert row[header.index("技术潜力年发电量 P50 (MWh，筛查，需普查核实后方可计入目标)")] == pytest.approx(
        city["technical_annual_mwh"], abs=0.1)
    assert row[header.index("整县推进公共与商业屋顶 筛查覆盖率†")] == pytest.approx(
        city["whole_county_coverage_technical"])


def test_screening_coverage_and_areas_by_hand():
    """Two cohort roofs, one suitable, one conditional (no survey row): the potential
    coverage counts the suitable one, the screening coverage both; usable area is the
    technical potential's."""
    target = Target(name="t", label="t", categories=["factory"], built_since=None, metric="area_total",
                    milestones={2025: 0.3}, source="test")
    b = pd.DataFrame({
        "township": "甲", "category": "factory", "year_built": np.nan, "suitability": ["suitable", "conditional", "unsuitable"],
        "roof_area_m2": [1000.0, 500.0, 300.0], "usable_area_m2": [800.0, 400.0, 250.0],
        "pv_area_m2": [600.0, 300.0, 0.0], "existing_pv_area_m2": [0.0, 50.0, 0.0], "capacity_kwp": [120.0, 60.0, 0.0],
        "existing_pv_kw": [0.0, 10.0, 0.0], "annual_kwh": [120e3, 60e3, 0.0], "shading_loss_source": "default",
    })
    cov = coverage(b, target).loc["甲"]
    assert cov["coverage_today"] == pytest.approx(50 / 1800)
    assert cov["coverage_potential"] == pytest.approx((50 + 600) / 1800)
    assert cov["coverage_technical"] == pytest.approx((50 + 600 + 300) / 1800)
    from roofpv.config import Policy

    full = b.assign(shading_loss=0.0, grid_limited=False, capex_yuan=0.0, revenue_yuan_yr=0.0, npv_yuan=0.0,
                    lcoe_yuan_kwh=np.nan, co2_avoided_t_yr=0.0, energy_use_kwh=0.0, payback_years=np.nan)
    row = township_summary(full, Policy(targets=[target])).loc["甲"]
    assert row["usable_area_m2"] == 1200.0  # suitable + conditional, like technical_potential_kwp
    assert (row["technical_potential_kwp"], row["counted_potential_kwp"]) == (180.0, 120.0)
    assert (row["technical_annual_mwh"], row["annual_mwh"]) == (180.0, 120.0)
    assert row["t_coverage_technical"] == pytest.approx(950 / 1800)
