"""Surfaces beyond roofs on real data: the car parks of an OpenStreetMap vector-tile
download of Lujiazui (tests/data/real/osm_shanghai), beside its buildings."""

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from roofpv.cli import main

DATA = Path(__file__).parent / "data" / "real"
BUILDINGS = DATA / "osm_shanghai" / "lujiazui_buildings.geojson"
LANDUSE = DATA / "osm_shanghai" / "lujiazui_landuse.geojson"
WEATHER = DATA / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw.gz"
#: Car parks of the download lying partly in tiles it does not hold (README).
CUT = {"135721393", "372333839"}

pytestmark = pytest.mark.real_data


def test_lujiazui_car_parks_as_carports(tmp_path, capsys):
    config, out = tmp_path / "lujiazui.yaml", tmp_path / "out"
    assert main(["init", str(BUILDINGS), "--weather", str(WEATHER), "--out", str(config)]) == 0
    text = config.read_text(encoding="utf-8").replace("  layers: []", f"  layers:\n    - file: {LANDUSE}")
    config.write_text(text, encoding="utf-8")
    assert main(["survey", str(config), "--out", str(out), "--no-report", "--quiet", "--overwrite"]) == 0
    capsys.readouterr()

    s = gpd.read_file(out / "roofpv.gpkg", layer="surfaces").set_index("surface_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # repeated feature ids in the GeoJSON
        raw = gpd.read_file(LANDUSE)
    parking = raw[raw["kind"] == "parking"]
    assert sorted(s.index) == sorted(parking["id"].astype(str).unique())  # 17 pieces → 13 car parks
    assert set(s["surface_type"]) == {"carport"} and set(s["surface_source"]) == {"kind=parking"}
    # merged pieces against the tiles' own area of the whole way (Web Mercator m² × cos² φ)
    whole = s.drop(index=list(CUT))
    tilezen = parking.groupby(parking["id"].astype(str))["area"].first().reindex(whole.index)
    ratio = whole["area_m2"] / (tilezen * np.cos(np.radians(31.236)) ** 2)
    assert ratio.between(0.995, 1.0).all(), ratio
    # the carport rule by hand on every lot: 0.6 of the open ground, 5° canopy, module pitch
    # 2.298 × 1.154 m, 580 W; yield within the weather's range for a 5° plane
    pv = np.where(s["open_area_m2"] >= 100, 0.6 * s["open_area_m2"], 0.0)
    assert s["usable_area_m2"].to_numpy() == pytest.approx(pv)
    modules = np.floor(pv / np.cos(np.radians(5)) / (2.298 * 1.154) + 1e-9)
    assert s["modules"].to_numpy() == pytest.approx(modules)
    assert s["kwp"].to_numpy() == pytest.approx(modules * 0.58)
    assert s["annual_kwh"].to_numpy() == pytest.approx(s["kwp"] * s["specific_yield_kwh_kwp"] * 0.95)
    # performance ratio (specific yield ÷ the weather file's annual GHI) of a 5° canopy:
    # PVWatts' 14 % losses, inverter and heat leave 0.70–0.85 (Dobos 2014)
    info = gpd.read_file(out / "roofpv.gpkg", layer="run_info").set_index("item")["value"]
    ghi = float(info["weather annual GHI (kWh/m²)"])
    assert (s.loc[s["kwp"] > 0, "specific_yield_kwh_kwp"] / ghi).between(0.70, 0.85).all()
    # open ground: a car park never keeps area under a footprint
    footprints = gpd.read_file(out / "roofpv.gpkg", layer="buildings")
    assert s.geometry.intersection(footprints.union_all()).area.max() < 0.01
    # what counts where: no township layer, so everything is 未知 and the city row
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    city = towns.loc["全市"]
    assert city["surface_kwp"] == pytest.approx(s["kwp"].sum(), abs=0.1)
    assert city["total_kwp"] == pytest.approx(city["counted_potential_kwp"] + city["facade_kwp"]
                                              + city["surface_kwp"], abs=0.2)
    findings = pd.read_csv(out / "findings.csv")
    # findings.csv in Chinese (the command's default language)
    assert findings["problem"].str.contains("323 个要素中有 306 个不带场地标签，未计入").any()
    assert findings["problem"].str.contains("7 个轮廓与同类轮廓编号相同（同一要素在瓦片边缘被切开），已合并为 3 个场地").any()
