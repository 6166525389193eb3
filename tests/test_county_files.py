"""Files as Chinese GIS and office software deliver them: shapefiles in GBK without
``.cpg``, a real Latin-1 shapefile, CAD drawings (DXF) with a JMD layer, Gauss-Krüger
coordinates with the zone number in front and no ``.prj``, configs saved in GBK, empty
geometries, ragged CSV rows, kgf loads and formulas without a saved value. Each test
makes the file as those programs write it, reads it through the checks `roofpv
validate` makes and asserts the values read, the finding and that no footprint is lost.
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS

from roofpv.errors import InputError
from roofpv.inputs.formulas import plain_arithmetic
from roofpv.inputs.georef import GK_PREFIXED, prefixed_zone
from roofpv.inputs.survey_table import KG_PER_KN
from roofpv.io import encodings, readers
from roofpv.run.pipeline import check_inputs
from tests.test_input_problems import X0, Y0, Case

NAMES = {"A": "当湖街道东湖大厦", "B": "新埭镇鑫达纺织厂", "C": "钟埭街道卫生院"}
TOWNS = [("当湖街道", shapely.box(X0 - 100, Y0 - 100, X0 + 70, Y0 + 100)),
         ("钟埭街道", shapely.box(X0 + 70, Y0 - 100, X0 + 300, Y0 + 100))]
LATIN1 = Path(__file__).parent / "data" / "real" / "naturalearth_latin1" / "naturalearth_lowres.shp"


def shapefile(path: Path, frame: gpd.GeoDataFrame, encoding: str = "GBK", ldid: int | None = None,
              prj: bool = True) -> Path:
    """``frame`` written as a shapefile in ``encoding`` without the ``.cpg`` that would
    say so (as ArcGIS exports it), with language driver byte ``ldid`` and optionally
    without ``.prj``."""
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    path.with_suffix(".cpg").unlink()
    if not prj:
        path.with_suffix(".prj").unlink(missing_ok=True)
    if ldid is not None:
        with open(path.with_suffix(".dbf"), "r+b") as f:
            f.seek(29)
            f.write(bytes([ldid]))
    return path


def with_files(case: Case, config, footprints: Path | None = None, townships: Path | None = None, **inputs):
    """The case's config pointing at other footprint/township files."""
    cfg = case.config(config)
    update = dict(inputs)
    if footprints is not None:
        update |= {"footprints": footprints, "footprints_layer": inputs.get("footprints_layer")}
    if townships is not None:
        update |= {"townships": townships, "townships_name_column": "乡镇名称"}
    return cfg.model_copy(update={"inputs": cfg.inputs.model_copy(update=update)})


def gbk_case(tmp_path, ldid=None):
    """Footprints and townships as GBK shapefiles without .cpg, Chinese field names."""
    case = Case(tmp_path)
    fp = shapefile(tmp_path / "建筑.shp", gpd.GeoDataFrame(
        {"编号": case.ids, "名称": [NAMES[i] for i in case.ids]}, geometry=case.geoms, crs="EPSG:4549"), ldid=ldid)
    towns = shapefile(tmp_path / "乡镇.shp", gpd.GeoDataFrame(
        {"乡镇名称": [n for n, _ in TOWNS]}, geometry=[g for _, g in TOWNS], crs="EPSG:4549"), ldid=ldid)
    return case, fp, towns


# --- encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("text, encoding, expected", [
    ("当湖街道\n新埭镇", "gbk", "gb18030"),
    ("臺北市信義區\n高雄市", "big5", "big5"),
    ("Müller\nStraße\nGenève\nPeñalara", "cp1252", "cp1252"),
    ("Zürich\n当湖街道", "utf-8", "utf-8"),
    ("平湖市测试", "utf-8-sig", "utf-8-sig"),
])
def test_decode_tells_gbk_big5_latin1_and_utf8_apart(text, encoding, expected):
    decoded = encodings.decode(text.encode(encoding))
    assert (decoded.text, decoded.encoding) == (text, expected)


def test_binary_bytes_are_not_text():
    with pytest.raises(encodings.EncodingError):
        encodings.decode(b"\xff\xfe\x00\xd8" * 10)


@pytest.mark.parametrize("ldid", [None, 0x57, 0x03], ids=["ldid0", "ldid-ansi", "ldid-1252"])
def test_gbk_shapefiles_without_cpg_read_right_in_every_layer(config, tmp_path, ldid):
    """A language driver byte saying ANSI or Windows-1252 (as ArcGIS writes on any
    Windows) does not outvote text that decodes as Chinese."""
    case, fp, towns = gbk_case(tmp_path, ldid)
    cfg = with_files(case, config, fp, towns, footprints_id_column="编号")
    inventory = check_inputs(cfg)
    b = inventory.buildings
    assert list(b.index) == ["A", "B", "C"]  # footprints in = buildings out
    assert b["township"].tolist() == ["当湖街道", "当湖街道", "钟埭街道"]
    assert list(inventory.township_polygons.index) == ["当湖街道", "钟埭街道"]
    said = [f for f in inventory.findings if f.problem.startswith("shapefile has no .cpg")]
    assert {Path(f.file).name for f in said} == {"建筑.shp", "乡镇.shp"}
    assert said[0].problem == ("shapefile has no .cpg file saying its text encoding; read as GBK "
                               "(its text decodes as Chinese), e.g. '当湖街道东湖大厦'")
    assert said[0].fix.startswith("check the names; add a text file 建筑.cpg holding the line GBK")
    # the fast (Arrow) read of the datum check and the slow read agree
    fast = readers.read_vector(fp, use_arrow=True, read_geometry=False)
    assert fast["名称"].tolist() == list(NAMES.values())
    assert set(NAMES.values()) <= set(readers.layer_text(fp))


def test_zipped_gbk_shapefile_without_cpg(tmp_path):
    """Shapefiles are mailed zipped; GDAL reads the zip, the encoding is detected in it."""
    import zipfile

    _, fp, _ = gbk_case(tmp_path)
    packed = tmp_path / "建筑.zip"
    with zipfile.ZipFile(packed, "w") as book:
        for part in fp.parent.glob("建筑.*"):
            book.write(part, part.name)
    frame, findings = readers.read_footprints(packed, id_column="编号")
    assert frame["名称"].to_dict() == NAMES
    assert findings[0].problem.endswith("read as GBK (its text decodes as Chinese), e.g. '当湖街道东湖大厦'")
    assert "add a text file 建筑.cpg" in findings[0].fix


def test_an_arrow_read_that_fails_is_done_the_slow_way(tmp_path, monkeypatch):
    case, fp, _ = gbk_case(tmp_path)
    real = pyogrio.read_dataframe

    def arrowless(*args, use_arrow=False, **kw):
        if use_arrow:
            raise pyogrio.errors.DataSourceError("The file being read is not encoded in UTF-8; please use_arrow=False")
        return real(*args, **kw)

    monkeypatch.setattr(pyogrio, "read_dataframe", arrowless)
    assert readers.read_vector(fp, use_arrow=True, read_geometry=False)["名称"].tolist() == list(NAMES.values())


@pytest.mark.real_data
def test_real_latin1_shapefile_without_cpg():
    """Natural Earth's countries with their DBF in ISO-8859-1 and the .cpg left out."""
    frame, findings = readers.read_footprints(LATIN1, id_column="name")
    assert len(frame) == 177 and "Côte d'Ivoire" in frame.index  # not 'C么te' nor 'CÃ´te'
    said = findings[0]
    assert said.value == "Windows-1252 (Latin-1)"
    assert said.problem == ("shapefile has no .cpg file saying its text encoding; read as Windows-1252 (Latin-1) "
                            "(it is neither UTF-8 nor Chinese; Windows-1252 is the usual encoding of European "
                            "GIS files), e.g. \"Côte d'Ivoire\"")
    assert "naturalearth_lowres.cpg holding the line 1252" in said.fix
    assert "Côte d'Ivoire" in readers.layer_text(LATIN1)  # the datum check's fast (Arrow) read


def test_gbk_shapefile_runs_validate_and_survey_from_the_command_line(config, tmp_path, capsys):
    from roofpv.cli import main

    case, fp, towns = gbk_case(tmp_path)
    cfg = case.config(config)
    path = tmp_path / "县.yaml"
    path.write_text(f"extends: {cfg.source_path}\ninputs:\n  footprints: {fp}\n  footprints_id_column: 编号\n"
                    f"  survey: {cfg.inputs.survey}\n  townships: {towns}\n  townships_name_column: 乡镇名称\n"
                    "dsm:\n  tiles: null\n", encoding="utf-8")
    assert main(["validate", str(path), "--out", str(tmp_path / "v")]) == 0
    assert main(["survey", str(path), "--out", str(tmp_path / "out"), "--quiet", "--no-report"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    buildings = pyogrio.read_dataframe(tmp_path / "out" / "roofpv.gpkg", layer="buildings", read_geometry=False)
    assert sorted(buildings["building_id"]) == ["A", "B", "C"]
    assert sorted(buildings["township"]) == ["当湖街道", "当湖街道", "钟埭街道"]
    towns_csv = pd.read_csv(tmp_path / "out" / "townships.csv", encoding="utf-8-sig")
    assert {"当湖街道", "钟埭街道"} <= set(towns_csv["township"])


# --- coordinates: Gauss-Krüger zones, DXF ------------------------------------------------


def test_prefixed_zone_codes_are_the_cgcs2000_gauss_kruger_zones():
    for zone, epsg in GK_PREFIXED.items():
        crs = CRS.from_epsg(epsg)
        assert crs.name.startswith("CGCS2000") and crs.name.endswith(f"zone {zone}")
        false_easting = next(p.value for p in crs.coordinate_operation.params if p.name == "False easting")
        assert false_easting == zone * 1_000_000 + 500_000
    assert prefixed_zone((597_000, 3_398_000, 597_100, 3_398_100)) is None  # no prefix
    assert prefixed_zone((40_597_000, 3_398_000, 41_000_100, 3_398_100)) is None  # two zones


@pytest.mark.parametrize("epsg", [4528, 4499], ids=["3-degree-zone-40", "6-degree-zone-21"])
def test_zone_prefixed_coordinates_without_prj_are_placed_in_their_zone(config, tmp_path, epsg):
    """Footprints projected into a zone-prefixed CRS and written without .prj land in
    the township drawn in EPSG:4549: the detected zone is the right one."""
    case = Case(tmp_path)
    geoms = gpd.GeoSeries(case.geoms, crs="EPSG:4549").to_crs(epsg)
    fp = shapefile(tmp_path / "fp.shp", gpd.GeoDataFrame({"编号": case.ids}, geometry=geoms), prj=False)
    assert not fp.with_suffix(".prj").exists()
    inventory = check_inputs(with_files(case, config, fp, footprints_id_column="编号"))
    b = inventory.buildings
    assert list(b.index) == case.ids and (b["township"] == "甲镇").all()
    np.testing.assert_allclose(b.geometry.area, 240.0, rtol=1e-3)
    said = next(f for f in inventory.findings if "zone number" in f.problem)
    zone = int(geoms.total_bounds[0] // 1_000_000)
    assert said.problem.startswith(f"layer has no CRS; its eastings start with the zone number {zone} ")
    assert said.problem.endswith(f"(EPSG:{epsg})") and said.level == "warning"


def test_unprefixed_coordinates_without_crs_ask_for_footprints_crs(config, tmp_path):
    case = Case(tmp_path)
    fp = shapefile(tmp_path / "fp.shp", gpd.GeoDataFrame({"编号": case.ids}, geometry=case.geoms), prj=False)
    with pytest.raises(InputError, match="set inputs.footprints_crs to the CRS"):
        check_inputs(with_files(case, config, fp, footprints_id_column="编号"))
    inventory = check_inputs(with_files(case, config, fp, footprints_id_column="编号", footprints_crs="EPSG:4549"))
    assert (inventory.buildings["township"] == "甲镇").all()


def cad_drawing(path: Path, x0: float, layer: str = "JMD") -> list[str]:
    """A topographic map as CAD exports it (DXF 2010, UTF-8): on ``layer`` a closed
    polyline, a closed polyline filled by a hatch, a hatch alone, an open line and a
    label; a road outline on DLSS. Returns the handles of the three buildings."""
    ezdxf = pytest.importorskip("ezdxf")
    doc = ezdxf.new("R2010")
    for name in (layer, "DLSS"):
        doc.layers.add(name)
    msp = doc.modelspace()
    corners = [[(x0 + 40 * i + dx, Y0 + dy) for dx, dy in ((0, 0), (20, 0), (20, 12), (0, 12))] for i in range(3)]
    first = msp.add_lwpolyline(corners[0], close=True, dxfattribs={"layer": layer})
    second = msp.add_lwpolyline(corners[1], close=True, dxfattribs={"layer": layer})
    msp.add_hatch(dxfattribs={"layer": layer}).paths.add_polyline_path(corners[1], is_closed=True)
    third = msp.add_hatch(dxfattribs={"layer": layer})
    third.paths.add_polyline_path(corners[2], is_closed=True)
    msp.add_lwpolyline([(x0, Y0 - 5), (x0 + 100, Y0 - 5)], dxfattribs={"layer": layer})
    msp.add_text("砼5", dxfattribs={"layer": layer, "insert": (x0 + 5, Y0 + 5)})
    msp.add_lwpolyline([(x0, Y0 - 30), (x0 + 100, Y0 - 30), (x0 + 100, Y0 - 20), (x0, Y0 - 20)], close=True,
                       dxfattribs={"layer": "DLSS"})
    doc.saveas(path)
    return [first.dxf.handle, second.dxf.handle, third.dxf.handle]


def test_dxf_topographic_map_with_a_jmd_layer_and_zone_prefixed_coordinates(config, tmp_path):
    case = Case(tmp_path)
    handles = cad_drawing(tmp_path / "地形图.dxf", X0 + 40_000_000)
    case.survey["建筑编号"] = handles
    inventory = check_inputs(with_files(case, config, tmp_path / "地形图.dxf", footprints_layer="jmd"))
    b = inventory.buildings
    assert list(b.index) == handles and b["has_survey"].all()  # handles are the ids the survey uses
    np.testing.assert_allclose(b.geometry.area, 240.0, rtol=1e-6)
    assert (b["township"] == "甲镇").all()  # zone 40 = EPSG:4528, as the township in EPSG:4549
    problems = [f.problem for f in inventory.findings]
    assert "2 entities of layer JMD are not closed outlines (1 LineString, 1 Point); left out" in problems
    assert "1 hatches or outlines of layer JMD repeat another outline; each building counted once" in problems
    assert any(p.endswith("(EPSG:4528)") for p in problems)


def test_dxf_layer_and_crs_from_the_config(config, tmp_path):
    case = Case(tmp_path)
    handles = cad_drawing(tmp_path / "map.dxf", X0, layer="居民地")
    cfg = with_files(case, config, tmp_path / "map.dxf", footprints_crs="EPSG:4549")
    inventory = check_inputs(cfg)  # no layer configured: 居民地 is found (UTF-8, whatever $DWGCODEPAGE says)
    assert list(inventory.buildings.index) == handles
    assert any(f.problem == "no CAD layer configured; outlines read from layer 居民地" for f in inventory.findings)
    with pytest.raises(InputError, match=r"no CAD layer 'FW' in the drawing; its layers \(entities\) are"):
        check_inputs(with_files(case, config, tmp_path / "map.dxf", footprints_layer="FW",
                                footprints_crs="EPSG:4549"))


# --- cells ---------------------------------------------------------------------------


def test_ragged_row_with_an_empty_last_column_is_found(config, tmp_path):
    case = Case(tmp_path)
    case.survey_file = tmp_path / "survey.csv"
    case.survey_file.write_text("建筑编号,建筑名称,建筑类别,屋面荷载,备注\n"
                                "A,东湖大厦,工业厂房,2.0,\n"
                                "B,张三,李四纺织厂,工业厂房,2.0,\n"
                                "C,卫生院,工业厂房,2.0,\n", encoding="utf-8")
    inventory = check_inputs(case.config(config))
    said = next(f for f in inventory.findings if "cells but the header" in f.problem)
    assert (said.level, said.row, said.building_id) == ("error", 3, "B")
    assert said.problem == ("row has 6 cells but the header has 5 (likely an unquoted comma in 建筑名称 "
                            "('张三,李四纺织厂')); the row is skipped")
    b = inventory.buildings
    assert list(b.index) == ["A", "B", "C"] and b["has_survey"].tolist() == [True, False, True]
    assert b.loc["A", "name"] == "东湖大厦" and b.loc["C", "roof_load_kn_m2"] == 2.0


def test_a_stray_trailing_comma_keeps_its_row(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("建筑编号,建筑名称,建筑类别,屋面荷载,备注\nA,东湖大厦,工业厂房,2.0,\nB,鑫达纺织厂,工业厂房,3.0,,\n"
                    "C,卫生院,公共机构,1.5,\nD,张三,李四纺织厂,工业厂房,2.0,\n", encoding="utf-8")
    survey, findings = readers.read_survey(path)
    assert list(survey.index) == ["A", "B", "C"] and survey.loc["B", "roof_load_kn_m2"] == 3.0
    said = {f.building_id: f for f in findings if "cells but the header" in f.problem}
    assert (said["B"].level, said["B"].row) == ("warning", 3)
    assert said["B"].problem == ("row has 6 cells but the header has 5; the extra cells are blank and the others "
                                 "read right where they are, so the row is read as written")
    assert (said["D"].level, said["D"].row) == ("error", 5) and "建筑名称 ('张三,李四纺织厂')" in said["D"].problem


def test_loads_in_kilogram_force(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("建筑编号,屋面荷载\nA,250kgf/m2\nB,300公斤力/平方米\nC,2.0\n", encoding="utf-8")
    survey, findings = readers.read_survey(path)
    np.testing.assert_allclose(survey["roof_load_kn_m2"], [250 / KG_PER_KN, 300 / KG_PER_KN, 2.0])
    assert survey["roof_load_kn_m2"].iloc[0] == pytest.approx(2.4517, abs=1e-4)  # 250 × 9.80665 N/m²
    said = [f for f in findings if f.column == "roof_load_kn_m2"]
    assert [f.building_id for f in said] == ["A", "B"]
    assert said[0].problem == "value written in kgf/m²; converted to kN/m²"


def test_formulas_without_a_saved_value(config, tmp_path):
    """openpyxl, like most scripts, writes formulas without their value."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "普查"
    sheet.append(["平湖市屋顶普查"])
    sheet.append(["建筑编号", "建筑类别", "屋面荷载", "建筑面积"])
    sheet.append(["A", "工业厂房", "=1.2+0.3", "=(120+80)*2.5"])
    sheet.append(["B", "工业厂房", "=SUM(C3:C3)", 480])
    sheet.append(["C", "工业厂房", "=__import__('os').getcwd()", "=-(2-5)/0.01"])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    case = Case(tmp_path)
    case.survey_file = path
    inventory = check_inputs(case.config(config))
    b = inventory.buildings
    assert b.loc["A", "roof_load_kn_m2"] == pytest.approx(1.5) and b.loc["A", "floor_area_m2"] == 500.0
    assert np.isnan(b.loc["B", "roof_load_kn_m2"]) and b.loc["C", "floor_area_m2"] == pytest.approx(300.0)
    assert np.isnan(b.loc["C", "roof_load_kn_m2"]) and len(b) == 3
    said = {(f.row, f.column): f for f in inventory.findings if f.problem.startswith("formula ")}
    assert said[(3, "屋面荷载")].problem == ("formula =1.2+0.3 has no saved value (the workbook was written by a "
                                          "program, not saved in Excel or WPS); evaluated as 1.5")
    assert said[(3, "屋面荷载")].building_id == "A" and said[(3, "屋面荷载")].level == "info"
    assert said[(4, "屋面荷载")].level == "warning" and "not plain arithmetic" in said[(4, "屋面荷载")].problem
    assert said[(5, "屋面荷载")].building_id == "C"


@pytest.mark.parametrize("formula, value", [
    ("=1.2+0.3", 1.5), ("=(2+3)*4/2", 10.0), ("= -1.5", -1.5), ("=1e3*2", 2000.0),
    ("=1/0", None), ("=A1*2", None), ("=SUM(1,2)", None), ("=2**3", None), ("=0x10", None), ("=1_000", None),
    ("=__import__('os')", None), ("=" + "(" * 150 + "1" + ")" * 150, None),
])
def test_plain_arithmetic_only(formula, value):
    assert plain_arithmetic(formula) == value


# --- whole runs with the report --------------------------------------------------------


@pytest.mark.slow
def test_gbk_config_and_gbk_shapefiles_run_survey_and_report(config, tmp_path):
    """A config saved by Notepad on a Chinese Windows (GBK) is read by the report too,
    and GBK township names come out right in every layer, table and page."""
    from roofpv.cli import main

    case, fp, towns = gbk_case(tmp_path)
    cfg = case.config(config)
    path = tmp_path / "平湖.yaml"
    path.write_bytes((f"# 平湖市配置（GBK 保存）\nextends: {cfg.source_path}\nsite:\n  name: 平湖市试点\n"
                      f"inputs:\n  footprints: {fp}\n  footprints_id_column: 编号\n"
                      f"  survey: {cfg.inputs.survey}\n  townships: {towns}\n"
                      "  townships_name_column: 乡镇名称  # 镇街道名称字段\ndsm:\n  tiles: null\n").encode("gbk"))
    out = tmp_path / "out"
    assert main(["survey", str(path), "--out", str(out), "--quiet", "--report"]) == 0
    pages = {p.name: p.read_text(encoding="utf-8") for p in (out / "report").glob("*.html")}
    everything = "".join(pages.values())
    assert "平湖市试点" in everything and "当湖街道" in everything and "钟埭街道" in everything
    assert "µ±ºþ" not in everything  # 当湖 read as Latin-1
    buildings = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="buildings", read_geometry=False)
    assert sorted(buildings["township"]) == ["当湖街道", "当湖街道", "钟埭街道"]
    layer = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="townships", read_geometry=False)
    assert set(layer["township"]) == {"当湖街道", "钟埭街道"}
    table = pd.read_csv(out / "townships.csv", encoding="utf-8-sig")
    assert {"当湖街道", "钟埭街道"} <= set(table["township"])


@pytest.mark.slow
def test_null_and_empty_geometries_run_survey_and_report(config, tmp_path):
    from roofpv.cli import main

    case = Case(tmp_path)
    case.geoms[1] = None
    case.geoms[2] = shapely.Polygon()
    inventory = check_inputs(case.config(config))
    b = inventory.buildings
    assert list(b.index) == ["A", "B", "C"] and b["geometry_valid"].tolist() == [True, False, False]
    assert any(f.building_id == "B" and f.problem.startswith("footprint has no usable polygon")
               for f in inventory.findings)
    cfg = case.config(config)
    path = tmp_path / "c.yaml"
    path.write_text(f"extends: {cfg.source_path}\ninputs:\n  footprints: {cfg.inputs.footprints}\n"
                    f"  footprints_layer: footprints\n  survey: {cfg.inputs.survey}\n"
                    f"  townships: {cfg.inputs.townships}\n  townships_name_column: name\ndsm:\n  tiles: null\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    assert main(["survey", str(path), "--out", str(out), "--quiet", "--report"]) == 0
    buildings = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="buildings", read_geometry=False)
    kept = buildings.set_index("building_id")
    assert sorted(kept.index) == ["A", "B", "C"]
    assert (kept.loc[["B", "C"], "suitability"] == "unsuitable").all()
    assert kept.loc[["B", "C"], "reasons"].str.len().gt(0).all()
    assert any(p.suffix == ".html" for p in (out / "report").iterdir())

