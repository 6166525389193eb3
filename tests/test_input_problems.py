"""One case per input problem the tool handles, end to end through the checks that
`roofpv validate` makes: small files made in the test, the message an analyst reads,
and every footprint still in the buildings table."""

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from roofpv.results import reconcile
from roofpv.run.pipeline import check_inputs

X0, Y0 = 597_000.0, 3_398_000.0  # EPSG:4549, 当湖 (Pinghu)
IDS = ["A", "B", "C"]


def box(i, w=20.0, h=12.0):
    return shapely.box(X0 + 40 * i, Y0, X0 + 40 * i + w, Y0 + h)


SURVEY = {"建筑编号": IDS, "建筑类别": ["工业厂房"] * 3, "屋面类型": ["混凝土平屋面"] * 3,
          "屋面荷载": [2.0] * 3, "遮挡情况": ["无"] * 3, "建成年份": [2020] * 3}


class Case:
    """Inputs written into ``tmp_path``: footprints, survey, townships and DSM tiles."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.geoms = [box(i) for i in range(3)]
        self.ids = list(IDS)
        self.crs = "EPSG:4549"
        self.survey = pd.DataFrame(SURVEY)
        self.survey_file = None
        self.town = shapely.box(X0 - 100, Y0 - 100, X0 + 300, Y0 + 100)
        self.towns = None  # (name, polygon) pairs instead of 甲镇 over ``town``
        self.footprint_columns = {}
        self.transformers = None  # text of a transformers CSV
        self.dsm = None

    def lonlat(self):
        """The footprints' lon/lat coordinates (CGCS2000)."""
        return list(gpd.GeoSeries(self.geoms, crs="EPSG:4549").to_crs("EPSG:4490"))

    def config(self, config):
        fp = self.dir / "fp.gpkg"
        frame = gpd.GeoDataFrame({"building_id": self.ids, **self.footprint_columns},
                                 geometry=self.geoms, crs=self.crs)
        frame.to_file(fp, layer="footprints")
        if self.survey_file is None:
            self.survey_file = self.dir / "survey.csv"
            self.survey.to_csv(self.survey_file, index=False)
        towns = self.dir / "towns.gpkg"
        names, shapes = zip(*(self.towns or [("甲镇", self.town)]))
        gpd.GeoDataFrame({"name": list(names)}, geometry=list(shapes), crs="EPSG:4549").to_file(towns)
        inputs = config.inputs.model_copy(update={
            "footprints": fp, "footprints_layer": "footprints", "survey": self.survey_file,
            "survey_sheet": 0, "townships": towns, "townships_name_column": "name"})
        dsm = config.dsm.model_copy(update={"tiles": self.dsm, "workers": 1})
        grid = config.grid
        if self.transformers is not None:
            (self.dir / "transformers.csv").write_text(self.transformers, encoding="utf-8")
            grid = grid.model_copy(update={"transformers": self.dir / "transformers.csv"})
        return config.model_copy(update={"inputs": inputs, "dsm": dsm, "grid": grid})


def three_d(c):
    g = c.geoms[1]
    c.geoms[1] = shapely.Polygon([(x, y, 9.0) for x, y in g.exterior.coords])
    return "info", "B", "geometry", "Z coordinates dropped"


def multipart(c):
    c.geoms[1] = shapely.MultiPolygon([box(1, 8, 12), shapely.affinity.translate(box(1, 8, 12), 10)])
    return "info", "B", "geometry", "multipart footprint assessed as one building"


def tiny(c):
    c.geoms[1] = box(1, 1.0, 2.0)
    return "warning", "B", "geometry", "footprint smaller than 5 m²"


def empty(c):
    c.geoms[1] = shapely.Polygon()
    return "error", "B", "geometry", "footprint has no usable polygon"


def self_intersecting(c):
    x, y = X0 + 40, Y0
    c.geoms[1] = shapely.Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])
    return "warning", "B", "geometry", "invalid polygon (self-intersection or bad ring) repaired"


def duplicate_id(c):
    c.ids = ["A", "A", "C"]
    return "warning", "A#2", "building_id", "duplicate building_id; this footprint is kept as A#2"


def missing_crs(c):
    c.geoms, c.crs = c.lonlat(), None
    return "warning", None, "CRS", "layer has no CRS; coordinates look like lon/lat"


def projected_crs_on_lonlat(c):
    c.geoms = c.lonlat()
    return "warning", None, "CRS", "CRS says projected"


def wgs84(c):
    c.geoms, c.crs = c.lonlat(), "EPSG:4326"
    return "info", None, "CRS", "coordinates are WGS84; CGCS2000 differs from it by less than 0.1 m"


def no_survey_row(c):
    c.survey = c.survey.iloc[:2]
    return "warning", "C", "building_id", "footprint has no survey row"


def no_footprint(c):
    c.survey = pd.concat([c.survey, c.survey.iloc[[0]].assign(建筑编号="D")])
    return "warning", "D", "building_id", "survey row has no footprint"


def unknown_value(c):
    c.survey.loc[1, "屋面类型"] = "混泥土平屋面"
    return "warning", "B", "roof_type", "unknown roof_type value"


def load_in_kg(c):
    c.survey["屋面荷载"] = c.survey["屋面荷载"].astype(object)
    c.survey.loc[1, "屋面荷载"] = "250kg/㎡"
    return "warning", "B", "roof_load_kn_m2", "value written in kg/m²; converted to kN/m²"


def area_in_mu(c):
    c.survey["建筑面积"] = ["1.5亩", "800", "900"]
    return "warning", "A", "floor_area_m2", "亩"


def gbk_csv(c):
    c.survey_file = c.dir / "survey_gbk.csv"
    c.survey.assign(屋面类型=["混凝土平屋面", "梯形彩鋼瓦", "瓦屋面"]).to_csv(c.survey_file, index=False, encoding="gbk")
    return "info", None, None, "file is encoded in GBK, not UTF-8"


def workbook(c):
    """Title row, merged two-row header, a blank row, numbers stored as text."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["平湖市屋顶光伏资源普查表"])
    sheet.merge_cells("A1:D1")
    sheet.append(["建筑编号", "屋面", None, "建成年份"])
    sheet.append([None, "类型", "荷载(kN/m²)", None])
    sheet.merge_cells("B2:C2")
    sheet.append(["A", "混凝土平屋面", "2.0", 2020])
    sheet.append([None, None, None, None])
    sheet.append(["B", "瓦屋面", 1.0, "2011"])
    sheet.append(["C", "梯形彩钢瓦", 0.5, 2012])
    c.survey_file = c.dir / "survey.xlsx"
    book.save(c.survey_file)
    return "info", "A", "roof_load_kn_m2", "number stored as text"


def outside_townships(c):
    c.geoms[2] = shapely.affinity.translate(c.geoms[2], 5000)
    return "warning", "C", "geometry", "building lies outside every township polygon"


def corrupt_raster(c):
    c.dsm = c.dir / "dsm"
    c.dsm.mkdir()
    (c.dsm / "t1.tif").write_bytes(b"II*\x00" + bytes(100))
    return "error", None, "DSM", "DSM tile left out"


def no_dsm_coverage(c):
    c.dsm = c.dir / "dsm"
    c.dsm.mkdir()
    with rasterio.open(c.dsm / "t.tif", "w", driver="GTiff", width=40, height=40, count=1, dtype="float32",
                       crs="EPSG:4549", transform=from_origin(X0 - 10, Y0 + 30, 1.0, 1.0)) as dst:
        dst.write(np.full((1, 40, 40), 3.0, np.float32))
    return "info", None, "DSM", "the DSM covers 1 of 3 footprints"


# --- survey cells, headers and units --------------------------------------------


def write_text_survey(c, text):
    c.survey_file = c.dir / "survey.csv"
    c.survey_file.write_text(text, encoding="utf-8")


def ragged_row(c):
    write_text_survey(c, "建筑编号,建筑类别,屋面类型,屋面荷载,遮挡情况,建成年份\n"
                         "A,工业厂房,混凝土平屋面,2.0,无,2020\n"
                         "B,工业厂房,混凝土平屋面,2,5,无,2020\n"
                         "C,工业厂房,混凝土平屋面,2.0,无,2020\n")
    return "error", "B", None, ("row has 7 cells but the header has 6 (likely an unquoted comma in 屋面荷载 ('2,5')); "
                           "the row is skipped")


def headers_only(c):
    c.survey = c.survey.iloc[:0]
    return "warning", None, None, "survey has a header but no data rows"


def english_headers(c):
    c.survey = c.survey.rename(columns={"建筑编号": "Building ID", "建成年份": "Year of Construction"})
    c.survey["Roof Colour"] = "red"
    return "warning", None, "Roof Colour", "column not recognised; ignored"


def header_unit_kg(c):
    c.survey = c.survey.rename(columns={"屋面荷载": "屋面荷载(kg/m²)"})
    c.survey["屋面荷载(kg/m²)"] = [12.2, 200.0, 150.0]
    return "warning", "A", "roof_load_kn_m2", "header gives the unit kg/m²; converted to kN/m²"


def header_unit_conflict(c):
    c.survey = c.survey.rename(columns={"屋面荷载": "屋面荷载(kN/m²)"})
    c.survey["屋面荷载(kN/m²)"] = [250.0, 2.0, 2.0]
    return "warning", "A", "roof_load_kn_m2", "header says kN/m² but 250 is implausible in kN/m²"


def capacity_in_mw(c):
    c.survey["已装光伏容量(MW)"] = [0.05, None, None]
    return "warning", "A", "existing_pv_kw", "header gives the unit MW"


def chinese_unit_words(c):
    c.survey["屋面荷载"] = ["250千克/平方米", "2.0千牛/平方米", "300公斤"]
    return "warning", "A", "roof_load_kn_m2", "value written in kg/m²"


def decimal_comma(c):
    c.survey["屋面荷载"] = ["2,5", "1,250", "2.0"]
    return "info", "A", "roof_load_kn_m2", "decimal comma read as a decimal point"


def implausible_load(c):
    c.survey["屋面荷载"] = [1e9, 2.0, 2.0]
    return "warning", "A", "roof_load_kn_m2", "implausible"


def implausible_years(c):
    c.survey["建成年份"] = [21, 1800, 2099]
    return "warning", "A", "year_built", "implausible: 21 years is outside 1900"


def footprint_larger_than_floor_area(c):
    c.geoms[1] = shapely.box(X0 + 40, Y0, X0 + 1040, Y0 + 1000)  # 1 km²
    c.survey["建筑面积"] = [240, 1663, 240]
    c.survey["层数"] = [1, 1, 1]
    return "warning", "B", "geometry", "footprint of 1,000,000 m² is 601× what the survey's floor area"


# --- townships --------------------------------------------------------------------


def surveyed_township_far_away(c):
    c.towns = [("甲镇", c.town), ("乙镇", shapely.box(X0 + 10_000, Y0, X0 + 12_000, Y0 + 2000))]
    c.survey["镇街道"] = ["乙镇", "甲镇", "甲镇"]
    return "warning", "A", "township", "footprint lies 10.0 km outside its surveyed township 乙镇 (it is in 甲镇)"


def unnamed_township(c):
    c.towns = [("甲镇", c.town), (None, shapely.box(X0 + 400, Y0 - 100, X0 + 800, Y0 + 100))]
    return "warning", None, "name", "township polygon has no name; called towns#2"


def duplicate_township_names(c):
    c.towns = [("甲镇", shapely.box(X0 - 100, Y0 - 100, X0 + 30, Y0 + 100)),
               ("甲镇", shapely.box(X0 + 30, Y0 - 100, X0 + 300, Y0 + 100))]
    return "warning", None, "name", "2 township polygons (features [1, 2]) share the name '甲镇'; merged"


def overlapping_townships(c):
    c.towns = [("甲镇", c.town), ("乙镇", shapely.affinity.translate(c.town, 200))]
    return "warning", None, "geometry", "townships 甲镇 and 乙镇 overlap by 4.0 ha (50% of the smaller)"


def township_gap(c):
    outer = shapely.box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000)
    c.towns = [("甲镇", outer.difference(shapely.box(X0 - 800, Y0 - 800, X0 - 500, Y0 - 500)))]
    return "warning", None, "geometry", "gap of 9.0 ha between the townships"


# --- ids --------------------------------------------------------------------------


def float_ids(c):
    c.ids = [100006475.0, 100006476.0, 100006477.0]
    c.survey["建筑编号"] = ["100006475", "100006476", "100006477"]
    return "warning", "100006475", "building_id", "3 ids written as a decimal number"


def full_width_ids(c):
    c.survey["建筑编号"] = ["Ａ", "B", "C"]
    return "warning", "A", "building_id", "1 building ids full-width characters"


def zero_width_ids(c):
    c.survey["建筑编号"] = ["A\u200b", "B", "\ufeffC"]
    return "warning", "A", "building_id", "2 building ids invisible characters"


def leading_zeros(c):
    c.ids = ["001", "002", "003"]
    c.survey["建筑编号"] = ["1", "2", "003"]
    return "warning", "001", "building_id", "2 survey ids differ from their footprint's id only by leading zeros"


def id_case(c):
    c.ids = ["a1", "b1", "c1"]
    c.survey["建筑编号"] = ["A1", "B1", "c1"]
    return "warning", "a1", "building_id", "only by case"


def ids_do_not_join(c):
    c.survey["建筑编号"] = ["BLD-0001", "BLD-0002", "BLD-0003"]
    return "error", None, "building_id", "only 0 of 3 survey rows (0%) match a footprint id; survey ids: letters and digits"


# --- transformers -----------------------------------------------------------------


def transformer_units_and_gaps(c):
    c.transformers = "id,kva,existing_pv_kw,min_load_kw\nT1,100kVA,,\nT2,n/a,0,0\nT3,0.4MVA,50kW,\n"
    return "error", "T2", "kva", "not a number in a known unit; taken as 0 kVA"


CASES = [three_d, multipart, tiny, empty, self_intersecting, duplicate_id, missing_crs,
         projected_crs_on_lonlat, wgs84, no_survey_row, no_footprint, unknown_value, load_in_kg,
         area_in_mu, gbk_csv, workbook, outside_townships, corrupt_raster, no_dsm_coverage,
         ragged_row, headers_only, english_headers, header_unit_kg, header_unit_conflict,
         capacity_in_mw, chinese_unit_words, decimal_comma, implausible_load, implausible_years,
         footprint_larger_than_floor_area, surveyed_township_far_away, unnamed_township,
         duplicate_township_names, overlapping_townships, township_gap, float_ids, full_width_ids,
         zero_width_ids, leading_zeros, id_case, ids_do_not_join, transformer_units_and_gaps]


@pytest.mark.parametrize("make", CASES, ids=[c.__name__ for c in CASES])
def test_problem_is_reported_and_no_footprint_is_lost(config, tmp_path, make):
    case = Case(tmp_path)
    level, building, column, message = make(case)
    inventory = check_inputs(case.config(config))
    hits = [f for f in inventory.findings if message in f.problem]
    assert hits, [f.problem for f in inventory.findings]
    assert (hits[0].level, hits[0].building_id, hits[0].column) == (level, building, column)
    b = inventory.buildings
    assert len(b) == 3 and len(set(b.index)) == 3
    counts = reconcile(b, inventory.survey_rows)
    assert counts["with survey row"] + counts["without survey row"] == 3


def test_wgs84_and_cgcs2000_footprints_land_within_a_decimetre(config, tmp_path):
    places = {}
    for crs in ("EPSG:4490", "EPSG:4326"):
        case = Case(tmp_path / crs.replace(":", ""))
        case.dir.mkdir()
        case.geoms, case.crs = case.lonlat(), crs
        places[crs] = check_inputs(case.config(config)).buildings.geometry
    assert (places["EPSG:4490"].distance(places["EPSG:4326"]) < 0.1).all()
    np.testing.assert_allclose(places["EPSG:4490"].area, 240.0, rtol=1e-6)


END_TO_END = [headers_only, english_headers, ids_do_not_join, duplicate_township_names, unnamed_township,
              ragged_row, transformer_units_and_gaps]


@pytest.mark.slow
@pytest.mark.parametrize("make", END_TO_END, ids=[c.__name__ for c in END_TO_END])
def test_survey_runs_to_the_end_on_the_problem(config, tmp_path, make):
    """`roofpv survey` (report included) exits 0 on inputs that once ended in a traceback,
    and every footprint is in the buildings layer."""
    import pyogrio

    from roofpv.cli import main

    case = Case(tmp_path)
    make(case)
    cfg = case.config(config)
    path = tmp_path / "c.yaml"
    path.write_text(
        f"extends: {cfg.source_path}\ninputs:\n  footprints: {cfg.inputs.footprints}\n"
        f"  footprints_layer: footprints\n  survey: {cfg.inputs.survey}\n"
        f"  townships: {cfg.inputs.townships}\n  townships_name_column: name\n"
        + (f"grid:\n  transformers: {cfg.grid.transformers}\n" if cfg.grid.transformers else "")
        + "dsm:\n  tiles: null\n", encoding="utf-8")
    assert main(["survey", str(path), "--out", str(tmp_path / "out"), "--quiet", "--report"]) == 0
    buildings = pyogrio.read_dataframe(tmp_path / "out" / "roofpv.gpkg", layer="buildings", read_geometry=False)
    assert len(buildings) == 3 and buildings["suitability"].notna().all()
