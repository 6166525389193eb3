"""End to end: `roofpv survey` on the embedded Pinghu sample."""

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from roofpv.cli import main
from roofpv.run.sequence import STAGES
from roofpv.schema import CITY

from .conftest import ROOT

SAMPLE = ROOT / "data" / "sample"
TOWNSHIPS = ["当湖街道", "钟埭街道", "曹桥街道", "乍浦镇", "新埭镇", "新仓镇", "广陈镇", "林埭镇", "独山港镇"]


@pytest.fixture(scope="module")
def out(pinghu_cli_out):
    """`roofpv plan` on the sample (the survey's outputs and the plan's)."""
    return pinghu_cli_out


def test_log_file_records_every_stage_partition_and_write(out):
    logged = (out.parent / "pinghu.log").read_text(encoding="utf-8")
    for number, stage in enumerate(STAGES, 1):
        assert f"[{number}/{len(STAGES)}] {stage}" in logged
    assert "partition 1: 3,449 buildings" in logged
    assert "writing layer buildings (3,449 rows)" in logged and "writing the report" in logged


@pytest.fixture(scope="module")
def buildings(out):
    return pyogrio.read_dataframe(out / "roofpv.gpkg", layer="buildings")


def test_outputs_written(out):
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv", "parameters.csv", "plan_status.csv", "report", "rollout_plan.csv",
        "roofpv-manifest.json", "roofpv.gpkg", "roofpv.qgz", "townships.csv", "trajectory.csv"]
    assert sorted(pyogrio.list_layers(out / "roofpv.gpkg")[:, 0]) == [
        "buildings", "facades", "feeders", "layer_styles", "monthly_yield", "pv_arrays", "rollout_plan",
        "roof_planes", "run_info", "surfaces", "townships", "transformer_areas", "transformers", "unmatched_roofs"]


def test_monthly_yield_and_p90(out, buildings):
    monthly = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="monthly_yield").set_index("building_id")
    kwh = monthly.filter(regex="^kwh_").sum(axis=1)
    annual = buildings.set_index("building_id")["annual_kwh"].reindex(kwh.index)
    assert np.allclose(kwh, annual, rtol=1e-9, atol=1e-6)
    # July outshines December at 30.7° N; POA in the range of a plane's monthly sums.
    assert (monthly["kwh_07"] >= monthly["kwh_12"]).mean() > 0.95
    assert monthly.filter(regex="^poa_").stack().between(30, 250).all()
    assert (buildings["annual_kwh_p90"] <= buildings["annual_kwh"]).all()
    towns = pd.read_csv(out / "townships.csv")
    producing = towns["annual_mwh"] > 0
    assert (towns.loc[producing, "annual_mwh_p90"] < towns.loc[producing, "annual_mwh"]).all()


def test_geopackage_names_the_weather_source(out):
    info = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="run_info").set_index("item")["value"]
    assert info["weather source"].startswith("synthetic typical year from monthly means")
    # Pinghu's monthly GHI table sums to 1336.4 kWh/m² (configs/pinghu.yaml).
    assert info["weather annual GHI (kWh/m²)"] == "1336.4"


def test_every_footprint_once_with_status_and_reasons(buildings):
    footprints = pyogrio.read_dataframe(SAMPLE / "footprints.gpkg", read_geometry=False)
    assert len(buildings) == len(footprints)
    assert set(buildings.building_id) == set(footprints.building_id)
    assert buildings.suitability.isin(["suitable", "conditional", "unsuitable"]).all()
    assert buildings.reasons.notna().all()
    # A roof that is not suitable always says why.
    assert (buildings.loc[buildings.suitability != "suitable", "reasons"] != "").all()
    assert buildings.township.isin(TOWNSHIPS).all()


def test_unsuitable_roofs_carry_no_capacity(buildings):
    unsuitable = buildings.suitability == "unsuitable"
    assert (buildings.loc[unsuitable, "capacity_kwp"] == 0).all()
    suitable = buildings[buildings.suitability == "suitable"]
    assert (suitable.capacity_kwp > 0).mean() > 0.95


def test_township_totals_equal_sums_over_buildings(out, buildings):
    layer = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="townships").set_index("township")
    assert sorted(layer.index) == sorted(TOWNSHIPS)
    suitable = buildings[buildings.suitability == "suitable"]
    by_town = suitable.groupby("township")
    np.testing.assert_allclose(layer.counted_potential_kwp, by_town.capacity_kwp.sum().reindex(layer.index))
    np.testing.assert_allclose(layer.annual_mwh, by_town.annual_kwh.sum().reindex(layer.index) / 1000)
    np.testing.assert_array_equal(layer.buildings, buildings.township.value_counts().reindex(layer.index))
    for col in ("new_public_and_factory_coverage_today", "new_public_and_factory_coverage_potential",
                "new_public_and_factory_target_2025", "new_public_and_factory_target_2030"):
        assert layer[col].notna().all(), col
    csv = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    assert csv.loc[CITY, "buildings"] == len(buildings)
    assert csv.loc[CITY, "counted_potential_kwp"] == pytest.approx(suitable.capacity_kwp.sum())


def test_cohort_coverage_today_matches_existing_pv(out, buildings):
    csv = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    cohort = buildings[buildings.cohort_new_public_and_factory]
    expected = cohort.existing_pv_area_m2.sum() / cohort.roof_area_m2.sum()
    assert csv.loc[CITY, "new_public_and_factory_coverage_today"] == pytest.approx(expected)


def test_specific_yield_plausible_for_pinghu(buildings):
    sy = buildings.loc[buildings.capacity_kwp > 0, "specific_yield_kwh_kwp"]
    # Pinghu GHI 1336 kWh/m²: south-facing systems ~1000-1200 kWh/kWp, N-E/W planes lower.
    assert 900 < sy.median() < 1250
    assert sy.min() > 600


def test_existing_outputs_are_not_replaced_without_overwrite(out, capsys):
    before = (out / "roofpv.gpkg").stat().st_mtime_ns
    code = main(["survey", str(ROOT / "configs" / "pinghu.yaml"), "--out", str(out), "--quiet"])
    assert code == 2
    assert "pass --overwrite" in capsys.readouterr().err.replace("\n", "")
    assert (out / "roofpv.gpkg").stat().st_mtime_ns == before


def test_validate_reports_the_sample_blemishes(tmp_path):
    """The deliberate blemishes listed in data/sample/README.md, each found."""
    code = main(["validate", str(ROOT / "configs" / "pinghu.yaml"), "--out", str(tmp_path), "--lang", "en"])
    assert code == 0  # blemishes are repaired or assumed, none is an error
    findings = pd.read_excel(tmp_path / "validation.xlsx", sheet_name="问题清单 findings", engine="calamine")
    problems = findings["问题 problem"]
    counts = {
        "blank load": (problems.str.startswith("blank cell") & (findings["列 column"] == "roof_load_kn_m2")).sum(),
        "blank shading": (problems.str.startswith("blank cell") & (findings["列 column"] == "shading")).sum(),
        "blank township": (problems.str.startswith("blank cell") & (findings["列 column"] == "township")).sum(),
        "kg loads": problems.str.contains("kg/m²").sum(),
        "stray spaces": (problems == "stray spaces around the value").sum(),
        "text numbers": (problems == "number stored as text").sum(),
        "no survey row": problems.str.startswith("footprint has no survey row").sum(),
        "no footprint": problems.str.startswith("survey row has no footprint").sum(),
    }
    assert counts == {
        "blank load": 15, "blank shading": 10, "blank township": 5, "kg loads": 5,
        "stray spaces": 6, "text numbers": 3, "no survey row": 2, "no footprint": 1,
    }
    kg = findings[problems.str.contains("kg/m²")]
    assert set(kg["建筑编号 building id"]) == {"XD00235", "XC00087", "CQ00318", "XD00358", "DH00199"}
    # The DSM tiles cover only the 当湖 centre (231 footprints inside, 9 cut by their edge):
    # reported as notes, and the footprints sit on the DSM's buildings without any shift.
    dsm = findings[findings["列 column"].isin(["DSM", "dsm_coverage"])]
    assert (dsm["级别 level"] == "info").all()
    covered = dsm["问题 problem"].str.extract(r"the DSM covers (\d+) of 3,449 footprints")[0].dropna()
    assert len(covered) == 1 and 231 <= int(covered.iloc[0]) <= 240
    assert 1 <= dsm["问题 problem"].str.startswith("footprint at the edge of the DSM tiles").sum() <= 9
    datum = problems[problems.str.startswith("footprint positions checked against the DSM")]
    assert len(datum) == 1 and "WGS84/CGCS2000 (no shift) fits" in datum.iloc[0]


def test_roofs_under_the_dsm_tiles_are_measured(out, buildings):
    """Every footprint inside the sample tiles carries measured values and its planes."""
    tiles = shapely.box(596740, 3397650, 597740, 3398650)  # data/sample_tiles/README.md
    inside = buildings[buildings.geometry.within(tiles.buffer(-1))]
    assert len(inside) >= 200
    measured = inside[inside.roof_form_source == "dsm"]
    assert len(measured) == len(inside)
    for col in ("roof_height_m", "roof_slope_deg", "roof_form", "shading_loss", "sky_view_factor"):
        assert measured[col].notna().all(), col
    assert (measured.shading_loss_source == "dsm").all()
    pitched = measured[measured.roof_form != "flat"]
    assert pitched.roof_aspect_deg.notna().all() and (pitched.roof_slope_deg > 3).all()
    planes = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="roof_planes")
    all_measured = buildings.loc[buildings.roof_form_source == "dsm", "building_id"]
    assert set(measured.building_id) <= set(planes.building_id) == set(all_measured)
    used = planes[planes.modules > 0]
    assert (used.annual_kwh > 0).all() and used.specific_yield_kwh_kwp.between(600, 1300).all()
    # Far from the tiles the survey still speaks.
    far = ~buildings.geometry.intersects(tiles.buffer(50))
    assert buildings.loc[far, "roof_form_source"].isin(["survey", "default"]).all()
