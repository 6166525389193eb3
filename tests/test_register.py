import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from roofpv.config import Monitoring
from roofpv.io.register_files import read_meters, read_register
from roofpv.monitoring.register import apply, match, normalise, registered_kw, similarity, variants

CRS = "EPSG:4549"
CFG = Monitoring()


@pytest.fixture
def buildings():
    """Six 20 m × 20 m houses 40 m apart, with names as a survey writes them."""
    names = ["新仓镇中学1号楼", "新仓镇中学2号楼", "红光村12号", "红光村13号", "红光村14号", "华丰纺织有限公司3号厂房"]
    ids = [f"XC{i:05d}" for i in range(1, 7)]
    geoms = [shapely.box(500000 + 40 * i, 3400000, 500020 + 40 * i, 3400020) for i in range(6)]
    return gpd.GeoDataFrame({"name": names, "township": "新仓镇", "existing_pv_kw": [np.nan, 30.0, 8.0, np.nan,
                            np.nan, np.nan], "existing_pv_area_m2": [np.nan, 150.0, np.nan, np.nan, np.nan, np.nan]},
                            geometry=geoms, index=pd.Index(ids, name="building_id"), crs=CRS)


def _register(rows):
    frame = pd.DataFrame(rows).set_index("system_id")
    for col in ("building_id", "address", "project", "owner", "township", "geometry", "connected", "row"):
        if col not in frame:
            frame[col] = None
    return frame


def test_normalise_respellings():
    assert normalise("新仓镇中学２＃楼") == normalise("新仓镇中学2号楼") == "新仓镇中学2幢"
    assert normalise("嘉兴瑞和纸業有限公司三號廠房") == "嘉兴瑞和纸业有限公司3号厂房"
    assert normalise("红光村十二号") == "红光村12号"
    assert normalise(None) == normalise(pd.NA) == ""
    assert variants(normalise("红光村12号、13号")) == ["红光村12号", "红光村13号"]


def test_similarity_needs_the_same_house_number():
    assert similarity(normalise("浙江省平湖市红光村12号"), normalise("红光村12号")) == 1.0
    assert similarity(normalise("红光村12号"), normalise("红光村14号")) < 0.6


def test_matching_with_known_answers(buildings):
    register = _register([
        {"system_id": "A", "kw": 50.0, "building_id": "XC00001"},                       # by id
        {"system_id": "B", "kw": 30.0, "geometry": shapely.Point(500050, 3400010)},      # point in XC00002
        {"system_id": "C", "kw": 9.0, "address": "浙江省平湖市新仓镇红光村十二号"},           # address only
        {"system_id": "D", "kw": 20.0, "address": "平湖市新仓镇红光村13号、14号"},           # two houses
        {"system_id": "E", "kw": 400.0, "address": "平湖市新仓镇红光村88号"},               # no such house
        {"system_id": "F", "kw": 0.5 * 1000, "project": "华丰纺织有限公司3#廠房屋顶分布式光伏项目"},  # project name
        {"system_id": "G", "kw": 5.0, "geometry": shapely.Point(500103, 3400010)},       # 3 m off XC00003
    ])
    m, findings = match(register, buildings, CFG, "register.csv")
    got = m.groupby("system_id").agg(b=("building_id", lambda s: sorted(s.dropna())), st=("status", "first"),
                                     how=("method", "first"))
    assert got.loc["A"].tolist() == [["XC00001"], "matched", "building_id"]
    assert got.loc["B"].tolist() == [["XC00002"], "matched", "point"]
    assert got.loc["C"].tolist() == [["XC00003"], "matched", "text"]
    assert got.loc["D"].tolist() == [["XC00004", "XC00005"], "matched", "text"]
    assert got.loc["E"].tolist() == [[], "unmatched", "none"]
    assert got.loc["F"].tolist() == [["XC00006"], "matched", "text"]
    assert got.loc["G"].tolist() == [["XC00003"], "doubtful", "point"]
    d = m[m["system_id"] == "D"]
    assert d["kw"].sum() == pytest.approx(20.0) and "2 buildings" in d["reason"].iloc[0]
    problems = {f.value.split(" ")[0].rstrip(":"): f.problem for f in findings}
    assert problems == {"E": "register system matches no building",
                        "G": "register system matched doubtfully by point"}


def test_register_replaces_survey_capacity_and_reports_disagreement(buildings):
    register = _register([{"system_id": "B", "kw": 45.0, "building_id": "XC00002"},
                          {"system_id": "A", "kw": 8.2, "building_id": "XC00003"}])
    m, _ = match(register, buildings, CFG, "register.csv")
    b, findings = apply(buildings, m, CFG, "register.csv")
    assert b.loc["XC00002", "existing_pv_kw"] == 45.0
    assert b.loc["XC00002", "existing_pv_area_m2"] == pytest.approx(150.0 * 45 / 30)  # survey area scaled
    assert b.loc["XC00002", "existing_pv_source"] == "register"
    assert b.loc["XC00001", "existing_pv_source"] == ""
    assert [f.building_id for f in findings] == ["XC00002"]  # 8.2 vs 8 kW is within 10 %
    assert registered_kw(m, b.index).notna().sum() == 2


def test_blank_surveyed_capacity_is_unknown_not_zero(buildings):
    """XC00001's 已装光伏容量 is blank: the register fills it without a disagreement, and no
    text says the survey had 0 kW; a surveyed 0 kW is a disagreement."""
    register = _register([{"system_id": "A", "kw": 12.0, "building_id": "XC00001"},
                          {"system_id": "B", "kw": 20.0, "building_id": "XC00004"}])
    surveyed = buildings.assign(existing_pv_kw=buildings["existing_pv_kw"].where(buildings.index != "XC00004", 0.0))
    m, _ = match(register, surveyed, CFG, "register.csv")
    b, findings = apply(surveyed, m, CFG, "register.csv")
    assert b.loc[["XC00001", "XC00004"], "existing_pv_kw"].tolist() == [12.0, 20.0]
    by_id = {f.building_id: f for f in findings}
    assert (by_id["XC00001"].level, by_id["XC00001"].value) == ("info", "survey blank, register 12 kW")
    assert "not 0 kW" in by_id["XC00001"].problem
    assert (by_id["XC00004"].level, by_id["XC00004"].value) == ("warning", "survey 0 kW, register 20 kW")
    assert not any("survey 0 kW" in f.value for f in findings if f.building_id == "XC00001")


def test_read_register_units_headers_and_coordinates(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "户号,项目名称,安装地址,装机容量,容量单位,并网日期,并网电压等级,消纳方式,经度,纬度\n"
        "1,甲,红光村12号,0.25,MW,2024-03-01,10kV,全额上网,121.0,30.7\n"
        "2,乙,红光村13号,50kW,,2025/6/1,380V,\"自发自用、余电上网\",,\n"
        "3,丙,红光村14号,12,,2026-01-05,380V,全部自用,,\n"
        "3,丁,红光村15号,=1+1,,,,,,\n", encoding="utf-8-sig")
    reg, findings = read_register(path, 0, CRS)
    assert list(reg.index) == ["1", "2", "3"]
    assert reg["kw"].tolist() == [250.0, 50.0, 12.0]
    assert reg["voltage_kv"].tolist() == [10.0, 0.38, 0.38]
    assert reg["export_mode"].tolist() == ["full_export", "self_use_surplus", "full_self_use"]
    assert reg["connected"].iloc[1] == pd.Timestamp("2025-06-01")
    assert reg["geometry"].iloc[0].x > 300000 and reg["geometry"].iloc[1] is None
    text = " ".join(f.problem for f in findings)
    assert "1 capacities given in MW" in text and "without a unit read as kW" in text
    assert "not a positive number" in text and "repeated" in text


def test_read_register_without_capacity_says_which_headers(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text("户号,地址\n1,红光村\n", encoding="utf-8")
    from roofpv.errors import InputError
    with pytest.raises(InputError, match="装机容量"):
        read_register(path, 0, CRS)


def test_read_meters_long_and_wide(tmp_path):
    long = tmp_path / "long.csv"
    long.write_text("户号,年月,发电量(kWh)\n1,2025-01,100\n1,2025年2月,120\n2,2025-01,-5\n", encoding="utf-8")
    m, findings = read_meters(long)
    assert m["kwh"].tolist() == [100, 120] and m["month"].dt.month.tolist() == [1, 2]
    assert len(findings) == 1
    wide = tmp_path / "wide.csv"
    wide.write_text("户号,2025-01,2025-02\n1,100,120\n", encoding="utf-8")
    m, _ = read_meters(wide)
    assert m["kwh"].tolist() == [100, 120]


def test_sample_register_every_system_on_its_building(pinghu_results):
    """The sample register (scripts/make_sample.py): matched systems land on the
    building they were made from (its name is in the project name)."""
    from roofpv.config import load_config
    from roofpv.io.register_files import read_register
    from roofpv.monitoring.calibration import apply_register
    from tests.conftest import ROOT

    config = load_config(ROOT / "configs" / "pinghu_monitor.yaml")
    b = pinghu_results.buildings[["name", "township", "existing_pv_kw", "existing_pv_area_m2", "geometry"]]
    path = config.inputs.register_file
    table, findings = read_register(path, config.inputs.register_sheet, pinghu_results.crs)
    b, matches, more = apply_register(b, table, config, str(path))
    findings += more
    found = matches.dropna(subset=["building_id"])
    names = b["name"].reindex(found["building_id"]).fillna("").to_numpy()
    project = found["project"].to_numpy()
    right = [(not n) or (n in p) or ("两户" in p) for n, p in zip(names, project)]
    assert all(right)
    assert (matches["status"] == "unmatched").sum() == 1  # the deliberate 望海路 system
    assert len(found) >= 0.99 * (len(matches) - 1)
    assert any("capacities given in MW" in f.problem for f in findings)
