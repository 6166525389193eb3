"""No formula injection: ids, names and values that start like a spreadsheet formula
(OWASP CSV injection: = + - @ tab CR, DDE payloads) reach every CSV and XLSX roofpv
writes as inert text, while real numbers stay numbers."""

import csv

import openpyxl
import pandas as pd
import pytest

from roofpv.findings import Finding, findings_frame
from roofpv.io.writers import FORMULA_LEADS, safe_text, write_findings_workbook, write_table

DDE = "=cmd|' /C calc'!A0"
HOSTILE = [DDE, "+cmd|' /C notepad'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
           "\t=1+2", "\r=1+2", "=HYPERLINK(\"http://x.invalid\",\"点我\")", "＝1+1", "-=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_is_prefixed(text):
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("value", ["-12.5", "+3", "-1e3", "当湖街道", "A-12", "", "-", "--", None, -12.5, 7])
def test_numbers_and_ordinary_text_pass_unchanged(value):
    assert safe_text(value) is value


def inert(cell) -> bool:
    """A cell a spreadsheet will not evaluate."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_LEADS):
        return True
    try:
        float(cell)
        return True
    except ValueError:
        return cell.strip("-") == ""


def hostile_findings():
    return findings_frame([
        Finding("warning", text, i + 2, text, "category", text, "unknown category value", "fix " + text)
        for i, text in enumerate(HOSTILE)
    ])


def test_csv_cells_are_inert_and_negative_numbers_numeric(tmp_path):
    frame = hostile_findings().assign(kwp=-3.5, text_number="-4.25")
    path = tmp_path / "findings.csv"
    write_table(path, frame)
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert all(inert(cell) for row in rows for cell in row)
    assert {row[-2] for row in rows[1:]} == {"-3.5"} and {row[-1] for row in rows[1:]} == {"-4.25"}
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["building_id"].str.removeprefix("'").tolist() == HOSTILE
    assert back["row"].tolist() == list(range(2, 2 + len(HOSTILE)))  # integers, not 2.0


def test_xlsx_cells_are_strings_never_formulas(tmp_path):
    path = tmp_path / "validation.xlsx"
    frame = hostile_findings()
    write_findings_workbook(path, frame, frame.groupby("problem").size().rename("count").reset_index())
    book = openpyxl.load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(inert(c.value) for c in cells)
    stored = [c.value.replace("_x000D_", "\r") for c in book["问题清单 findings"]["E"][1:]]  # CR as Excel escapes it
    assert sorted(stored) == sorted("'" + t for t in HOSTILE)


def test_report_workbook_cells_are_inert():
    from roofpv.report.workbook import _cell

    assert [_cell(t) for t in HOSTILE] == ["'" + t for t in HOSTILE]
    assert _cell(-2.5) == -2.5


def test_hostile_survey_reaches_townships_findings_and_validation_inert(config, tmp_path, capsys):
    """End to end: hostile ids, township names and cells through `validate` and the
    survey's CSV outputs."""
    import shapely

    from roofpv.cli import main
    from roofpv.io.outputs import output_set, write_outputs
    from roofpv.run.pipeline import run
    from tests.test_input_problems import Case

    case = Case(tmp_path)
    case.ids = [DDE, "@SUM(1)", "-2+3"]
    case.towns = [("=HYPERLINK(\"http://x.invalid\")", case.town),
                  ("+1+cmd", shapely.box(597_400.0, 3_397_900.0, 597_800.0, 3_398_100.0))]
    case.survey["建筑编号"] = case.ids
    case.survey["建筑类别"] = ["=1+2", "工业厂房", "@evil"]
    case.survey["备注"] = ["-1+1", "\t=2", "ok"]
    cfg = case.config(config)
    results = run(cfg)
    with output_set(tmp_path / "out", True) as stage:
        write_outputs(results, stage)
    for name in ("townships.csv", "findings.csv"):
        with open(tmp_path / "out" / name, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        assert all(inert(cell) for row in rows for cell in row), name
    towns = pd.read_csv(tmp_path / "out" / "townships.csv", encoding="utf-8-sig")["township"].tolist()
    assert "'=HYPERLINK(\"http://x.invalid\")" in towns
    findings = pd.read_csv(tmp_path / "out" / "findings.csv", encoding="utf-8-sig")
    assert "'=1+2" in findings["value"].tolist()

    (tmp_path / "c.yaml").write_text(
        "extends: " + str(cfg.source_path) + "\ninputs:\n"
        f"  footprints: {cfg.inputs.footprints}\n  footprints_layer: footprints\n"
        f"  survey: {cfg.inputs.survey}\n  townships: {cfg.inputs.townships}\n"
        "  townships_name_column: name\n", encoding="utf-8")
    assert main(["validate", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "v")]) in (0, 1)
    book = openpyxl.load_workbook(tmp_path / "v" / "validation.xlsx")
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(inert(c.value) for c in cells)
