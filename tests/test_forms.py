"""Survey forms: rows, pre-filled values and estimates, data validation, protection,
read-back by the survey reader, maps, and opening in LibreOffice."""

import shutil
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest

from roofpv.cli import main
from roofpv.fieldwork.forms import make_forms, map_pages
from roofpv.io.form_workbooks import (
    DATA_SHEET,
    ESTIMATE_FILL,
    FIRST_ROW,
    META_SHEET,
    ROWS_SHEET,
    read_form,
)
from roofpv.io.readers import read_survey

from .conftest import ROOT
from .formcases import HEADER, buildings, fill, write_forms


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    return write_forms(tmp_path_factory.mktemp("forms"))


def _sheet(path):
    wb = openpyxl.load_workbook(path)
    ws = wb[DATA_SHEET]
    header = {cell.value: cell.column for cell in ws[FIRST_ROW - 1]}
    rows = {ws.cell(r, 1).value: r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value}
    return wb, ws, header, rows


def test_one_form_per_township_one_row_per_building(forms):
    assert list(forms) == ["甲镇", "乙街道"]
    assert [p.name for p in forms.values()] == ["01-甲镇.xlsx", "02-乙街道.xlsx"]
    _, _, _, rows = _sheet(forms["甲镇"])
    assert list(rows) == ["A1", "A2", "A3", "A4"]


def test_known_values_and_dsm_estimates_prefilled(forms):
    _, ws, header, rows = _sheet(forms["甲镇"])

    def cell(bid, key):
        return ws.cell(rows[bid], header[HEADER[key]])

    # Survey values as surveyed, in Chinese; registered PV pre-filled.
    assert cell("A1", "category").value == "工业厂房"
    assert cell("A1", "roof_type").value == "梯形彩钢瓦"
    assert cell("A1", "existing_pv_kw").value == 120
    assert cell("A2", "shading").value == "无"
    assert cell("A2", "shading").fill.fgColor.rgb != ESTIMATE_FILL.fgColor.rgb
    # DSM estimates where the survey is blank: class label and storeys = 12.2 m / 3 m → 4.
    assert cell("A1", "shading").value == "轻微"
    assert cell("A1", "floors").value == 4
    assert cell("A3", "shading").value == "严重"
    assert cell("A3", "floors").value == 2
    for bid, key in (("A1", "shading"), ("A1", "floors"), ("A3", "shading")):
        assert cell(bid, key).fill.fgColor.rgb == ESTIMATE_FILL.fgColor.rgb
    assert cell("A4", "shading").value is None  # not measured, not surveyed
    assert ws.cell(rows["A1"], header["DSM屋顶形式"]).value == "平屋顶"
    assert ws.cell(rows["A1"], header["DSM屋顶高度(m)"]).value == 12.2
    assert ws.cell(rows["A1"], header["占地面积(m²)"]).value == 1200


def test_registered_pv_is_an_estimate(forms):
    _, ws, header, rows = _sheet(forms["乙街道"])
    kw = ws.cell(rows["B2"], header[HEADER["existing_pv_kw"]])
    assert kw.value == 30 and kw.fill.fgColor.rgb == ESTIMATE_FILL.fgColor.rgb
    assert read_form(forms["乙街道"]).estimates.loc["B2", "existing_pv_area_m2"]


def test_formula_text_is_stored_as_text(forms):
    _, ws, header, rows = _sheet(forms["甲镇"])
    cell = ws.cell(rows["A1"], header[HEADER["name"]])
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    hidden = openpyxl.load_workbook(forms["甲镇"])[ROWS_SHEET]
    assert all(c.data_type != "f" for row in hidden.iter_rows() for c in row)


def test_data_validation_lists_ranges_and_messages(forms):
    _, ws, header, rows = _sheet(forms["甲镇"])
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            rules[rng.min_col] = dv
    shading = rules[header["遮挡情况"]]
    assert shading.type == "list" and shading.formula1 == '"无,轻微,部分,严重"'
    assert shading.showErrorMessage and shading.prompt
    category = rules[header["建筑类别"]]
    assert "学校" in category.formula1 and "工业厂房" in category.formula1
    load = rules[header["屋面荷载(kN/m²)"]]
    assert (load.type, load.operator, load.formula1, load.formula2) == ("decimal", "between", "0", "10")
    year = rules[header["建成年份"]]
    assert (year.type, year.formula2) == ("whole", "2026")
    # Validation reaches the blank rows left for new buildings.
    assert next(iter(rules[header["遮挡情况"]].sqref.ranges)).max_row == max(rows.values()) + 20
    assert "kN/m²" in HEADER["roof_load_kn_m2"]


def test_id_columns_locked_survey_cells_open(forms):
    wb, ws, header, rows = _sheet(forms["甲镇"])
    assert ws.protection.sheet
    assert ws.cell(rows["A1"], 1).protection.locked
    assert ws.cell(rows["A1"], header["镇街道"]).protection.locked
    assert ws.cell(rows["A1"], header["DSM屋顶高度(m)"]).protection.locked
    assert not ws.cell(rows["A1"], header["屋面类型"]).protection.locked
    assert not ws.cell(max(rows.values()) + 1, 1).protection.locked  # new-building rows
    assert wb[META_SHEET].sheet_state == "veryHidden"
    assert wb["填表说明"]["A4"].value.startswith("一、")


def test_filled_form_is_a_survey_table(forms):
    survey, _ = read_survey(forms["甲镇"], DATA_SHEET)
    assert list(survey.index) == ["A1", "A2", "A3", "A4"]
    assert survey.loc["A1", "category"] == "factory"
    assert survey.loc["A2", "category"] == "party_gov"
    assert survey.loc["A1", "shading"] == "light"


def test_read_form_returns_what_was_issued(forms):
    r = read_form(forms["甲镇"])
    assert (r.form_id, r.township, r.issued_on) == ("甲镇", "甲镇", "2026-03-01")
    assert r.issued.loc["A1", "category"] == "工业厂房"
    assert r.estimates.loc["A1", "shading"] and not r.estimates.loc["A2", "shading"]
    assert r.measured["A3"] == "severe"


def test_village_forms():
    b = buildings()
    village = pd.Series({"A1": "东村", "A2": "东村", "A3": "西村"})
    forms = make_forms(b, 3.0, "2026-03-01", ["甲镇", "乙街道"], village=village)
    assert [f.form_id for f in forms] == ["甲镇·东村", "甲镇·西村", "甲镇", "乙街道"]
    assert list(forms[2].values.index) == ["A4"]


def test_map_pages_cover_every_building_once():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(0, 500, 50), rng.uniform(3000, 3400, 50)])
    y = np.concatenate([rng.uniform(0, 300, 50), rng.uniform(2000, 2300, 50)])
    pages, page = map_pages(x, y, pd.Index([f"b{i}" for i in range(100)]), "A3")
    assert len(pages) <= 4 and page.between(1, len(pages)).all()
    for number, box in pages.iterrows():
        on = page == number
        assert ((x[on] >= box.xmin) & (x[on] <= box.xmax) & (y[on] >= box.ymin) & (y[on] <= box.ymax)).all()


@pytest.mark.slow
def test_forms_command_on_the_sample(tmp_path):
    """`roofpv forms` on the Pinghu sample: nine forms (maps: see the village test);
    DSM-measured roofs carry their roof form and height."""
    out = tmp_path / "forms"
    assert main(["forms", str(ROOT / "configs" / "pinghu.yaml"), "--out", str(out), "--date",
                 "2026-11-01", "--no-maps", "--quiet"]) == 0
    assert len(list(out.glob("*.xlsx"))) == 9 and not list(out.glob("*.pdf"))
    listing = pd.read_csv(out / "forms_issued.csv", encoding="utf-8-sig")
    assert len(listing) == 3449 and listing["building_id"].is_unique
    r = read_form(out / "01-当湖街道.xlsx")
    wb = openpyxl.load_workbook(out / "01-当湖街道.xlsx")
    ws = wb[DATA_SHEET]
    header = {c.value: c.column for c in ws[FIRST_ROW - 1]}
    heights = [ws.cell(i, header["DSM屋顶高度(m)"]).value for i in range(FIRST_ROW, FIRST_ROW + len(r.issued))]
    assert sum(h is not None for h in heights) > 200  # the DSM covers the 当湖 centre
    assert main(["forms", "--out", str(out), "--quiet"]) == 2  # no overwrite unasked


def _soffice():
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.libreoffice
@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) not installed: apt-get install libreoffice-calc-nogui")
def test_forms_open_in_libreoffice(forms, tmp_path):
    """LibreOffice converts the form to PDF without complaint (no repair, no error)."""
    result = subprocess.run(
        [_soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(forms["甲镇"])],
        capture_output=True, text=True, timeout=180,
    )
    pdf = tmp_path / "01-甲镇.pdf"
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower() and "repair" not in (result.stdout + result.stderr).lower()
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000


def test_forms_command_per_village(tmp_path):
    """--village-column: one form per village of a township, from a footprints attribute;
    buildings without a village stay on the township's form."""
    import geopandas as gpd
    import shapely

    x0, y0 = 597_000.0, 3_398_000.0  # EPSG:4549, 当湖 (Pinghu)
    geoms = [shapely.box(x0 + 40 * i, y0, x0 + 40 * i + 20, y0 + 12) for i in range(4)]
    gpd.GeoDataFrame({"building_id": ["A", "B", "C", "D"], "村社区": ["东村", "东村", "西村", None]},
                     geometry=geoms, crs="EPSG:4549").to_file(tmp_path / "fp.gpkg", layer="footprints")
    gpd.GeoDataFrame({"name": ["甲镇"]}, geometry=[shapely.box(x0 - 100, y0 - 100, x0 + 300, y0 + 100)],
                     crs="EPSG:4549").to_file(tmp_path / "towns.gpkg")
    config = tmp_path / "case.yaml"
    config.write_text(
        f"extends: {ROOT / 'configs' / 'pinghu.yaml'}\n"
        f"inputs: {{footprints: {tmp_path / 'fp.gpkg'}, survey: null, townships: {tmp_path / 'towns.gpkg'},"
        " townships_name_column: name}\ndsm: {tiles: null}\n", encoding="utf-8")
    out = tmp_path / "forms"
    assert main(["forms", str(config), "--out", str(out), "--village-column", "村社区", "--date",
                 "2026-05-01", "--paper", "A4", "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("*.xlsx")) == ["01-甲镇·东村.xlsx", "02-甲镇·西村.xlsx", "03-甲镇.xlsx"]
    assert len(list(out.glob("*.pdf"))) == 3
    assert (out / "03-甲镇.pdf").read_bytes().startswith(b"%PDF")
    assert list(read_form(out / "01-甲镇·东村.xlsx").issued.index) == ["A", "B"]
    assert read_form(out / "01-甲镇·东村.xlsx").village == "东村"
    assert main(["forms", str(config), "--out", str(tmp_path / "x"), "--village-column", "村"]) == 2


GOTEBORG = ROOT / "tests" / "data" / "real" / "dsm_goteborg"


@pytest.mark.real_data
@pytest.mark.slow
def test_forms_on_real_buildings_and_dsm(tmp_path):
    """`roofpv forms` on the real Gothenburg footprints, DSM and DEM (tests/data/real/
    dsm_goteborg), one form per building type (TYP): every roof with a profile-measured
    pitch (plane_labels.csv, an independent reference) that the DSM measured is shown as
    pitched in the form, never as 平屋顶."""
    config = tmp_path / "goteborg.yaml"
    config.write_text(f"""extends: {ROOT / 'configs' / 'pinghu.yaml'}
inputs: {{footprints: {GOTEBORG / 'buildings.gpkg'}, survey: null, townships: null}}
site: {{name: Göteborg, latitude: 57.7, longitude: 11.97, altitude_m: 10, timezone: Europe/Stockholm}}
crs: EPSG:3007
dsm: {{tiles: {GOTEBORG / 'dsm'}, dem: {GOTEBORG / 'dem'}}}
weather:  # rough monthly means for 57.7°N (assumption: only the shading classes use them)
  monthly:
    ghi_kwh_m2: [8, 22, 60, 110, 160, 165, 160, 125, 75, 36, 12, 5]
    dhi_kwh_m2: null  # Pinghu's monthly diffuse does not apply here
    temp_air_c: [0, 0, 2, 7, 12, 15, 17, 17, 13, 9, 5, 1]
    wind_m_s: [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    latitude: 57.7  # where these means hold
    longitude: 11.97
    source: rough monthly means for Gothenburg
""", encoding="utf-8")
    out = tmp_path / "forms"
    assert main(["forms", str(config), "--out", str(out), "--village-column", "TYP", "--no-maps",
                 "--date", "2026-05-01", "--quiet"]) == 0
    listing = pd.read_csv(out / "forms_issued.csv", encoding="utf-8-sig", dtype=str)
    assert len(listing) == 137 and listing["form"].str.startswith("未知·").all()
    rows = []
    for path in sorted(out.glob("*.xlsx")):
        wb, ws, header, found = _sheet(path)
        rows += [(str(bid), ws.cell(r, header["DSM屋顶形式"]).value, ws.cell(r, header["层数"]).value)
                 for bid, r in found.items()]
    form = pd.DataFrame(rows, columns=["building_id", "roof_form", "floors"]).set_index("building_id")
    assert form["roof_form"].notna().sum() >= 20
    assert (form["floors"].dropna() >= 1).all()
    labels = pd.read_csv(GOTEBORG / "plane_labels.csv", dtype={"building_id": str})
    pitched = labels[(labels["keep"] == 1) & (labels["tilt_deg"] > 10)]["building_id"].unique()
    measured = form.loc[form.index.isin(pitched), "roof_form"].dropna()
    assert len(measured) >= 10 and (measured != "平屋顶").all()


@pytest.mark.slow
def test_forms_replace_their_set_and_keep_returned_forms(tmp_path, monkeypatch, capsys):
    """The forms folder is written as one set (merged into the folder): a run stopped
    part-way leaves the earlier forms; --overwrite replaces the forms and the listing and
    keeps every other file, e.g. returned forms saved beside them under their own names,
    and refuses to replace a form an office filled in."""
    out = tmp_path / "forms"
    args = ["forms", str(ROOT / "configs" / "pinghu.yaml"), "--out", str(out), "--no-maps", "--quiet"]
    assert main([*args, "--date", "2026-01-05"]) == 0
    returned = out / "01-当湖街道-农办返回.xlsx"
    shutil.copy(out / "01-当湖街道.xlsx", returned)
    (out / "说明.txt").write_text("第二轮", encoding="utf-8")
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}

    def disk_full(path, frame):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("roofpv.io.writers.write_table", disk_full)  # the listing, written last
    assert main([*args, "--date", "2026-03-01", "--overwrite"]) == 2
    assert "forms_issued.csv: cannot write (No space left on device)" in capsys.readouterr().err.replace("\n", "")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier
    monkeypatch.undo()

    assert main([*args, "--date", "2026-03-01", "--overwrite"]) == 0
    assert returned.read_bytes() == earlier[returned.name] and (out / "说明.txt").exists()
    assert read_form(returned).issued_on == "2026-01-05"
    assert read_form(out / "01-当湖街道.xlsx").issued_on == "2026-03-01"
    listing = pd.read_csv(out / "forms_issued.csv", encoding="utf-8-sig")
    assert set(listing["issued"]) == {"2026-03-01"} and len(listing) == 3449
    # a returned form saved over its issued file is never replaced
    fill(out / "02-钟埭街道.xlsx", out / "02-钟埭街道.xlsx", {}, office="钟埭街道农办")
    filled = (out / "02-钟埭街道.xlsx").read_bytes()
    assert main([*args, "--overwrite"]) == 2
    assert "02-钟埭街道.xlsx: filled in by an office" in capsys.readouterr().err.replace("\n", "")
    assert (out / "02-钟埭街道.xlsx").read_bytes() == filled
