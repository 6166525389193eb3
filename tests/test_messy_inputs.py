"""Messy inputs: each problem is repaired or stopped with a clear message, and no
footprint is lost. Files are made in the tests."""

from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from roofpv.errors import InputError, OutputError
from roofpv.inputs.georef import resolve_crs
from roofpv.inputs.inventory import assign_townships, to_analysis_crs
from roofpv.io import readers, writers

LONLAT = (121.0, 30.7, 121.01, 30.71)
METRES = (500_000.0, 3_394_000.0, 500_100.0, 3_394_100.0)


# --- CRS -------------------------------------------------------------------------


def test_missing_crs_with_lonlat_is_read_as_cgcs2000():
    crs, found = resolve_crs(None, LONLAT, "f.shp")
    assert crs.to_epsg() == 4490 and found[0].level == "warning"
    assert "no CRS" in found[0].problem


def test_projected_crs_declared_on_lonlat_coordinates():
    crs, found = resolve_crs("EPSG:4549", LONLAT, "f.shp")
    assert crs.to_epsg() == 4490 and "look like lon/lat" in found[0].problem


@pytest.mark.parametrize("declared", [None, "EPSG:4490"])
def test_unusable_crs_stops_with_a_fix(tmp_path, declared):
    frame = gpd.GeoDataFrame({"building_id": ["a"]}, geometry=[shapely.box(*METRES)], crs=declared)
    path = tmp_path / "fp.gpkg"
    frame.to_file(path)
    with pytest.raises(InputError, match=r"fp.gpkg: .*(no CRS|not lon/lat).*EPSG:4549"):
        readers.read_footprints(path)


def test_wgs84_is_noted():
    crs, found = resolve_crs("EPSG:4326", LONLAT, "f.shp")
    assert crs.to_epsg() == 4326 and found[0].level == "info" and "GCJ-02" in found[0].fix


# --- footprints ------------------------------------------------------------------


def footprints(tmp_path, ids, geoms, crs="EPSG:4549"):
    path = tmp_path / "fp.gpkg"
    gpd.GeoDataFrame({"building_id": ids}, geometry=geoms, crs=crs).to_file(path)
    return path


def test_duplicate_and_blank_ids_are_kept_and_reported(tmp_path):
    boxes = [shapely.box(500_000 + 20 * i, 3_394_000, 500_010 + 20 * i, 3_394_010) for i in range(4)]
    frame, found = readers.read_footprints(footprints(tmp_path, ["A", "A", None, "B"], boxes))
    assert frame.index.tolist() == ["A", "A#2", "fp#3", "B"]
    assert [(f.row, f.building_id) for f in found] == [(3, "fp#3"), (2, "A#2")]


def test_geometry_problems_are_repaired_or_flagged():
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    geoms = {
        "ok": shapely.box(0, 0, 10, 10),
        "bowtie": bowtie,
        "empty": shapely.Polygon(),
        "z": shapely.Polygon([(0, 0, 5), (10, 0, 5), (10, 10, 5), (0, 10, 5)]),
        "multi": shapely.MultiPolygon([shapely.box(0, 0, 5, 5), shapely.box(10, 10, 15, 15)]),
        "tiny": shapely.box(0, 0, 1, 2),
        "line": shapely.LineString([(0, 0), (5, 5)]),
    }
    frame = gpd.GeoDataFrame(geometry=list(geoms.values()), index=list(geoms), crs="EPSG:4549")
    out, found = to_analysis_crs(frame, "EPSG:4549")
    assert len(out) == len(geoms)
    assert out["geometry_valid"].to_dict() == {
        "ok": True, "bowtie": True, "empty": False, "z": True, "multi": True, "tiny": True, "line": False,
    }
    assert out.loc["bowtie"].geometry.area == pytest.approx(50.0)  # two triangles
    assert not out.geometry.has_z.any()
    problems = {(f.building_id, f.level) for f in found}
    assert {("empty", "error"), ("line", "error"), ("bowtie", "warning"), ("z", "info"),
            ("multi", "info"), ("tiny", "warning")} <= problems
    assert not any(f.building_id == "ok" for f in found)


def test_buildings_outside_townships_are_kept_and_reported():
    towns = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], index=pd.Index(["甲镇"]), crs="EPSG:4549")
    b = gpd.GeoDataFrame(
        {"township": [None, None, "乙镇"]},
        geometry=[shapely.box(10, 10, 20, 20), shapely.box(500, 500, 510, 510), shapely.box(600, 0, 610, 10)],
        index=["in", "out", "named"], crs="EPSG:4549",
    )
    out, found = assign_townships(b, towns, "s.xlsx")
    assert out["township"].tolist() == ["甲镇", "未知", "乙镇"]
    assert out["township_source"].tolist() == ["location", "outside", "outside"]
    assert sum("outside every township" in f.problem for f in found) == 2
    assert any(f.building_id == "named" and "matches no township" in f.problem for f in found)


# --- survey files ----------------------------------------------------------------


def test_gbk_csv_with_traditional_characters_and_units(tmp_path):
    path = tmp_path / "survey.csv"
    pd.DataFrame({
        "建築編號": ["A", "B"],
        "屋面類型": ["混凝土平屋面", "梯形彩鋼瓦"],
        "遮擋情況": ["嚴重", "無"],
        "建筑面积": ["1.5亩", "800"],
        "已装光伏容量": ["0.2MW", "50"],
    }).to_csv(path, index=False, encoding="gbk")
    survey, found = readers.read_survey(path)
    assert survey["roof_type"].tolist() == ["concrete_flat", "metal_trapezoidal"]
    assert survey["shading"].tolist() == ["severe", "none"]
    assert survey["floor_area_m2"].tolist() == pytest.approx([1000.0, 800.0])
    assert survey["existing_pv_kw"].tolist() == pytest.approx([200.0, 50.0])
    assert found[0].problem == "file is encoded in GBK, not UTF-8"
    assert any("亩" in f.problem and f.building_id == "A" for f in found)


def test_workbook_with_title_merged_two_row_header_blank_rows_and_text_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "普查"
    sheet.append(["平湖市屋顶光伏资源普查表（当湖街道）"])
    sheet.merge_cells("A1:E1")
    sheet.append(["建筑编号", "建筑类别", "屋面", None, "建成年份"])
    sheet.append([None, None, "类型", "荷载(kN/m²)", None])
    for col in "ABE":
        sheet.merge_cells(f"{col}2:{col}3")
    sheet.merge_cells("C2:D2")
    sheet.append(["A1", "学校", "混凝土平屋面", "2.0", "'2022"])
    sheet.append([None, None, None, None, None])
    sheet.append(["A2", "工业厂房", "直立锁边", 0.3, 2015])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    survey, found = readers.read_survey(path, "普查")
    assert survey.index.tolist() == ["A1", "A2"]
    assert survey["roof_type"].tolist() == ["concrete_flat", "metal_standing_seam"]
    assert survey["roof_load_kn_m2"].tolist() == [2.0, 0.3]
    assert survey["year_built"].tolist() == [2022, 2015]
    text = [f for f in found if f.problem == "number stored as text"]
    assert {(f.row, f.column) for f in text} == {(4, "roof_load_kn_m2"), (4, "year_built")}


def test_survey_without_id_column_names_the_file(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"名称": ["x"], "屋面类型": ["瓦屋面"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"s.csv: no header row with a building id column"):
        readers.read_survey(path)


# --- safe outputs ----------------------------------------------------------------


def test_failed_write_leaves_the_earlier_output_intact(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "t.csv"
    writers.write_table(path, pd.DataFrame({"a": [1]}))

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    with pytest.raises(OutputError, match=r"t.csv: cannot write \(No space left on device\); free disk space"):
        writers.write_table(path, pd.DataFrame({"a": [2]}))
    monkeypatch.undo()
    assert pd.read_csv(path, encoding="utf-8-sig")["a"].tolist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary left behind


# --- files that cannot be read stop with a message, never a traceback --------------


def test_empty_survey_files_are_refused_with_the_file_named(tmp_path):
    for name, content in (("empty.csv", b""), ("blank.csv", b"\n \n"), ("empty.xlsx", b"")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError, match=rf"{name}: survey file (is empty|has no text)"):
            readers.read_survey(path)


def test_truncated_workbook_is_refused_with_what_to_do(tmp_path):
    good = tmp_path / "good.xlsx"
    pd.DataFrame({"建筑编号": ["A"] * 50, "屋面荷载": [2.0] * 50}).to_excel(good, index=False)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match=r"cut.xlsx: not a readable XLSX workbook .*save it again as .xlsx"):
        readers.read_survey(cut)


def test_undecodable_survey_csv_is_refused(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xff\xfe\x00\xd8" * 10)
    with pytest.raises(InputError, match="not readable as UTF-8, GBK, Big5 or Windows-1252 text"):
        readers.read_survey(path)


def test_point_layer_as_footprints_is_refused(tmp_path):
    path = tmp_path / "points.gpkg"
    gpd.GeoDataFrame({"building_id": ["A", "B"]}, geometry=[shapely.Point(METRES[:2]), shapely.Point(METRES[2:])],
                     crs="EPSG:4549").to_file(path)
    with pytest.raises(InputError, match="holds Point geometries, not polygons; point the config at a polygon"):
        readers.read_footprints(path)


def test_zero_byte_footprints_and_transformers_are_refused(tmp_path):
    for reader, name in ((readers.read_footprints, "fp.gpkg"), (readers.read_transformers, "t.csv")):
        path = tmp_path / name
        path.write_bytes(b"")
        with pytest.raises(InputError, match=r"file is empty \(0 bytes\)"):
            reader(path)
    damaged = tmp_path / "t.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match="cannot read the transformers table"):
        readers.read_transformers(damaged)


def test_transformer_values_never_become_unlimited(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,kva,existing_pv_kw,min_load_kw\nT1,100kVA,,\nT2,n/a,0,0\nT3,0.4MVA,50kW,-3\n"
                    ",200,0,0\n", encoding="utf-8")
    frame, findings = readers.read_transformers(path)
    assert frame.loc["T1", "kva"] == 100.0 and frame.loc["T3", "kva"] == 400.0
    assert frame.loc["T2", "kva"] == 0.0  # not NaN, which would be unlimited
    assert frame.loc["T3", "existing_pv_kw"] == 50.0
    found = {(f.row, f.building_id, f.column, f.level) for f in findings}
    assert found == {(3, "T2", "kva", "error"), (4, "T3", "min_load_kw", "error"), (5, None, "id", "error")}


# --- config files in any encoding ---------------------------------------------------


CONFIG_TEXT = "extends: {base}\nsite:\n  name: 平湖市测试\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "big5", "utf-16"])
def test_config_in_any_common_encoding_loads(tmp_path, encoding):
    from roofpv.config import load_config

    base = (Path(__file__).resolve().parents[1] / "configs" / "pinghu.yaml").as_posix()
    path = tmp_path / "c.yaml"
    text = CONFIG_TEXT.format(base=base)
    if encoding == "big5":
        text = text.replace("平湖市测试", "平湖市測試")
    path.write_bytes(text.encode(encoding))
    assert load_config(path).site.name.startswith("平湖市")


def test_config_that_is_not_text_or_not_yaml_gets_a_message(tmp_path):
    from roofpv.config import load_config
    from roofpv.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(ConfigError, match="not readable as UTF-8, GBK/GB18030 or Big5 text; save the config as UTF-8"):
        load_config(path)
    path.write_text("site:\n  name: [平湖\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.yaml: not valid YAML at line \d+, column \d+"):
        load_config(path)
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
