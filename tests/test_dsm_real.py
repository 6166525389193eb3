"""Roof measurement on a real 1 m DSM (Gothenburg old town, tests/data/real/dsm_goteborg)
against facts measured by hand from its pixels and profiles, and an end-to-end survey."""

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from roofpv.config import Dsm
from roofpv.io import tiles
from roofpv.roofs import dsm

pytestmark = pytest.mark.real_data

REAL = Path(__file__).parent / "data" / "real" / "dsm_goteborg"


@pytest.fixture(scope="module")
def measured():
    b = gpd.read_file(REAL / "buildings.gpkg").set_index("building_id")
    crs = b.crs.to_wkt()
    mosaic = tiles.open_mosaic(REAL / "dsm", crs)
    dem = tiles.open_mosaic(REAL / "dem", crs)
    canopy = tiles.open_mosaic(REAL / "canopy", crs)
    (pos, raster, ground, trees), = tiles.windows(mosaic, b.geometry.to_numpy(), 0.0, 1e4, dem, canopy)
    roofs, planes = dsm.roof_geometry(raster, b.geometry.iloc[pos], Dsm(), ground, trees)
    return b, roofs, planes


def test_every_footprint_on_the_dsm_gets_a_status_and_valid_planes(measured):
    b, roofs, planes = measured
    assert len(roofs) == 41  # every footprint touching the rasters, U/O shapes included
    assert set(roofs["dsm_status"]) <= set(dsm.DSM_STATUSES)
    assert (roofs["dsm_status"] == "measured").sum() >= 20
    assert shapely.is_valid(planes.geometry.to_numpy()).all()
    assert (planes["area_m2"] > 0).all() and planes["tilt_deg"].between(0, 75).all()
    # Planes lie on their own footprint.
    own = b.geometry.reindex(planes["building_id"]).to_numpy()
    inside = shapely.area(shapely.intersection(planes.geometry.to_numpy(), own)) / planes["area_m2"]
    assert inside.min() > 0.99
    # Courtyard blocks (O shapes) are read, with planes on every side.
    for bid in ("300157091", "300137822", "300157113"):
        assert roofs.loc[bid, "dsm_status"] == "measured"
        az = planes.loc[planes["building_id"] == bid, "azimuth_deg"]
        assert {round(a / 90) % 4 for a in az} == {0, 1, 2, 3}


def test_heights_and_tilts_match_hand_measured_facts(measured):
    _, roofs, planes = measured
    facts = pd.read_csv(REAL / "facts.csv", dtype={"building_id": str})
    for _, f in facts.iterrows():
        if f["fact"] == "tilt_deg":
            got = planes.loc[planes["building_id"] == f["building_id"], "tilt_deg"].to_numpy()
            assert len(got) == 2 and np.abs(got - f["value"]).max() <= f["tolerance"], f.to_dict()
        else:
            assert abs(roofs.loc[f["building_id"], f["fact"]] - f["value"]) <= f["tolerance"], f.to_dict()


def test_nothing_standing_footprints_are_flagged(measured):
    _, roofs, _ = measured
    flat_ground = ["300050897", "300157181", "300157121"]
    assert (roofs.loc[flat_ground, "dsm_status"] == "nothing_standing").all()
    assert (roofs.loc[roofs["dsm_status"] == "measured", "roof_height_m"] > 2.0).all()


def test_steep_47_degree_gable_has_two_planes_at_its_pitch(measured):
    _, roofs, planes = measured
    p = planes[planes["building_id"] == "300050856"].sort_values("azimuth_deg")
    assert roofs.loc["300050856", "roof_form"] == "gable"
    assert p["tilt_deg"].to_numpy() == pytest.approx([47.4, 47.4], abs=3.0)
    assert p["azimuth_deg"].to_numpy() == pytest.approx([164.2, 344.2], abs=5.0)


def test_profile_labelled_planes_within_tolerance(measured):
    """The plane benchmark's real-roof figure (docs/validation.md) cannot silently fall."""
    _, roofs, planes = measured
    labels = pd.read_csv(REAL / "plane_labels.csv", dtype={"building_id": str})
    labels = labels[labels["keep"] == 1]
    assert len(labels) >= 40
    ok = []
    for _, lab in labels.iterrows():
        own = planes[planes["building_id"] == lab["building_id"]]
        poly = shapely.from_wkt(lab["wkt"])
        overlap = shapely.area(shapely.intersection(own.geometry.to_numpy(), poly))
        if len(own) == 0 or overlap.max() <= 0:
            ok.append(False)
            continue
        p = own.iloc[int(np.argmax(overlap))]
        az_err = abs((p["azimuth_deg"] - lab["azimuth_deg"] + 180) % 360 - 180)
        ok.append(abs(p["tilt_deg"] - lab["tilt_deg"]) <= 5 and az_err <= 15)
    assert np.mean(ok) >= 0.85


def test_survey_end_to_end_on_the_real_dsm(tmp_path):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "roofpv", "survey", str(REAL / "goteborg.yaml"),
                          "--out", str(out), "--no-report", "--quiet"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    b = gpd.read_file(out / "roofpv.gpkg", layer="buildings").set_index("building_id")
    assert len(b) == 137
    # The 47° gable: flush modules on its planes at its pitch, not flat-roof racks.
    g = b.loc["300050856"]
    assert g["roof_form"] == "gable" and g["mounting_source"] == "dsm"
    assert g["mounting"] == "tile_hook_flush" and g["module_tilt_deg"] == pytest.approx(47, abs=3)
    assert g["capacity_kwp"] > 0 and "mounting_from_dsm" in g["reasons"]
    # Measured shading decides the shading rules, and says so.
    measured = b[b["dsm_status"] == "measured"]
    assert (measured["shading_loss_source"] == "dsm").all()
    assert measured["reasons"].str.contains("shading_from_dsm").all()
    severe = measured[measured["shading_class"] == "severe"]
    assert len(severe) > 0 and (severe["suitability"] == "unsuitable").all()
    assert not measured["reasons"].str.contains("shading_unknown").any()
    # Nothing standing: its own reason, no potential.
    ground = b.loc["300050897"]
    assert ground["dsm_status"] == "nothing_standing" and ground["suitability"] == "unsuitable"
    assert "dsm_nothing_standing" in ground["reasons"] and ground["capacity_kwp"] == 0
    # Footprints off the rasters keep survey/default geometry, and say so.
    off = b[b["dsm_status"] == "no_data"]
    assert len(off) >= 137 - 41  # off the rasters, or over less than min_coverage of them
    assert off["reasons"].str.contains("dsm_no_data").all()
    assert (off["roof_slope_deg_source"] != "dsm").all()
    planes = gpd.read_file(out / "roofpv.gpkg", layer="roof_planes")
    assert set(planes["building_id"]) <= set(measured.index)


def test_odd_footprints_on_the_real_dsm_never_fail():
    """Slivers, specks, multipolygons and random shapes, with and without DEM and canopy."""
    b = gpd.read_file(REAL / "buildings.gpkg").set_index("building_id")
    rng = np.random.default_rng(0)
    geoms = list(b.geometry)
    for _ in range(120):
        x, y = rng.uniform(147700, 147970), rng.uniform(6398540, 6398800)
        geoms += [shapely.box(x, y, x + rng.uniform(0.1, 3), y + rng.uniform(0.1, 3)),
                  shapely.box(x, y, x + 40, y + 0.6),
                  shapely.MultiPolygon([shapely.box(x, y, x + 5, y + 5), shapely.box(x + 10, y, x + 15, y + 8)]),
                  shapely.Polygon(np.c_[x + rng.uniform(0, 30, 7), y + rng.uniform(0, 30, 7)]).buffer(0)]
    fp = gpd.GeoSeries(geoms, index=[f"f{i}" for i in range(len(geoms))], crs=b.crs)
    fp = fp[~fp.is_empty]
    crs = b.crs.to_wkt()
    mosaic = tiles.open_mosaic(REAL / "dsm", crs)
    dem, canopy = tiles.open_mosaic(REAL / "dem", crs), tiles.open_mosaic(REAL / "canopy", crs)
    for extra in ((dem, canopy), (None, None)):
        seen = 0
        for pos, raster, ground, trees in tiles.windows(mosaic, fp.to_numpy(), 5.0, 60.0, *extra):
            roofs, planes = dsm.roof_geometry(raster, fp.iloc[pos], Dsm(), ground, trees)
            assert len(roofs) == len(pos) and roofs["dsm_status"].notna().all()
            assert shapely.is_valid(planes.geometry.to_numpy()).all()
            seen += len(pos)
        assert seen > 300


def test_validate_and_plan_run_on_the_real_dsm(tmp_path):
    for cmd in (["validate"], ["plan", "--no-report", "--quiet"]):
        run = subprocess.run([sys.executable, "-m", "roofpv", *cmd, str(REAL / "goteborg.yaml"),
                              "--out", str(tmp_path / cmd[0])], capture_output=True, text=True)
        assert run.returncode == 0, (cmd, run.stderr[-2000:])
        assert "Traceback" not in run.stderr
    assert (tmp_path / "validate" / "validation.xlsx").exists()
    assert (tmp_path / "plan" / "rollout_plan.csv").exists()


@pytest.mark.slow
def test_init_validate_survey_plan_report_on_the_real_dsm_and_weather(tmp_path, capsys):
    """The chain a new user runs: `init` on the footprints, DSM and the UMEP typical year,
    `validate` (which finds the year's hour-end stamps 0.77 h late), the fix the message
    names, then `survey`, `plan` and `report`."""
    import shutil

    from roofpv.cli import main

    for name in ("buildings.gpkg", "dsm", "dem", "weather"):
        src = REAL / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    config, out = tmp_path / "gbg.yaml", tmp_path / "out"
    assert main(["init", str(tmp_path / "buildings.gpkg"), "--dsm", str(tmp_path / "dsm"),
                 "--weather", str(tmp_path / "weather" / "GBG_TMY_1977.csv.gz"), "--out", str(config)]) == 0
    text = config.read_text(encoding="utf-8")
    assert "footprints_id_column: building_id" in text and "latitude: 57.7" in text
    capsys.readouterr()
    assert main(["validate", str(config), "--out", str(out), "--lang", "en"]) == 0
    assert "0.77 h late" in " ".join(capsys.readouterr().out.split())
    config.write_text(text.replace("  file: GBG_TMY_1977.csv.gz", "  file: GBG_TMY_1977.csv.gz\n  label: end")
                      .replace("file: weather/GBG_TMY_1977.csv.gz", "file: weather/GBG_TMY_1977.csv.gz\n  label: end"),
                      encoding="utf-8")
    assert "label: end" in config.read_text(encoding="utf-8")
    assert main(["validate", str(config), "--out", str(out), "--overwrite", "--lang", "en"]) == 0
    assert " late " not in " ".join(capsys.readouterr().out.split())
    for command in ("survey", "plan"):
        assert main([command, str(config), "--out", str(out), "--overwrite", "--quiet", "--report"]) == 0
    assert main(["report", str(config), "--out", str(out), "--overwrite", "--quiet"]) == 0
    towns = pd.read_csv(out / "townships.csv")
    assert towns["buildings"].sum() == 2 * 137  # the township rows and the whole-city row
    info = gpd.read_file(out / "roofpv.gpkg", layer="run_info").set_index("item")["value"]
    assert float(info["weather annual GHI (kWh/m²)"]) == pytest.approx(970.0, abs=0.5)
    assert (out / "report" / "index.html").exists()
