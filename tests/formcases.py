"""Small hand-made survey forms and a way to fill them as an office would, for the forms
and collect tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from roofpv.fieldwork.forms import make_forms, survey_columns
from roofpv.io.form_workbooks import DATA_SHEET, DATE_CELL, FIRST_ROW, OFFICE_CELL, write_form

ISSUED = "2026-03-01"
HEADER = {c.key: c.header for c in survey_columns(2026)}


def buildings() -> pd.DataFrame:
    """Six buildings in two townships: A1–A4 in 甲镇, B1–B2 in 乙街道. A1 and A2 have a
    survey row; A1, A3 and B1 were measured on the DSM; B2's PV comes from the register."""
    ids = ["A1", "A2", "A3", "A4", "B1", "B2"]
    b = pd.DataFrame(index=pd.Index(ids, name="building_id"))
    b["township"] = ["甲镇"] * 4 + ["乙街道"] * 2
    for column in ("name", "category", "owner_type", "roof_type", "roof_load_kn_m2", "shading",
                   "grid_condition", "transformer_id", "year_built", "floors", "floor_area_m2",
                   "existing_pv_kw", "existing_pv_area_m2", "note"):
        b[column] = np.nan
    b = b.astype(object)
    b.loc["A1", ["name", "category", "roof_type", "year_built", "existing_pv_kw"]] = [
        "=HYPERLINK(\"http://x\")", "factory", "metal_trapezoidal", 2022, 120.0]
    b.loc["A2", ["name", "category", "shading", "floors"]] = ["镇政府", "party_gov", "none", 4]
    b["roof_area_m2"] = [1200.4, 800.0, 150.0, 90.0, 3000.0, 60.0]
    dsm = np.array([True, False, True, False, True, False])
    b["roof_form"] = np.where(dsm, "flat", "gable")
    b["roof_form_source"] = np.where(dsm, "dsm", "default")
    b["roof_height_m"] = np.where(dsm, [12.2, 0, 6.4, 0, 9.1, 0], np.nan)
    b["roof_height_m_source"] = np.where(dsm, "dsm", "none")
    b.loc["B2", ["existing_pv_kw", "existing_pv_area_m2"]] = [30.0, 150.0]
    b["existing_pv_source"] = ["survey", "", "", "", "", "register"]
    b["shading_measured_class"] = np.where(dsm, np.array(["light", None, "severe", None, "none", None]), None)
    return b


def write_forms(folder: Path, b: pd.DataFrame | None = None, issued: str = ISSUED) -> dict[str, Path]:
    """The forms of :func:`buildings` (or ``b``), by form id."""
    forms = make_forms(buildings() if b is None else b, 3.0, issued, ["甲镇", "乙街道"])
    paths = {}
    for form in forms:
        paths[form.form_id] = folder / f"{form.file_name}.xlsx"
        write_form(paths[form.form_id], form, "测试市")
    return paths


def fill(form: Path, out: Path, values: dict[str, dict[str, object]], office: str | None = None,
         date: dt.date | None = None, new: list[dict[str, object]] = ()) -> Path:
    """Save a copy of ``form`` filled as an office would: ``values`` by building id and
    column key (None clears a cell), rows ``new`` in the blank rows at the end."""
    wb = openpyxl.load_workbook(form)
    ws = wb[DATA_SHEET]
    header = {cell.value: cell.column for cell in ws[FIRST_ROW - 1]}
    rows = {ws.cell(r, 1).value: r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value}
    for bid, cells in values.items():
        for key, value in cells.items():
            ws.cell(rows[bid], header[HEADER[key]]).value = value
    free = max(rows.values()) + 1
    for i, cells in enumerate(new):
        for key, value in cells.items():
            ws.cell(free + i, header[HEADER[key]]).value = value
    if office is not None:
        ws[OFFICE_CELL] = office
    if date is not None:
        ws[DATE_CELL] = date
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
