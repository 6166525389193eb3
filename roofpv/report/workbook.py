"""The report workbook: a summary sheet of the townships and one sheet of buildings per
township, with Chinese (or English) headers, number formats and frozen header rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..config import Config
from ..io.writers import safe_text
from ..milestones import COLOURS, LABELS
from ..policy import potential
from .data import ReportData
from .labels import code_label, reason_label, text

INT, ONE, TWO, PCT = "#,##0", "#,##0.0", "#,##0.00", "0.0%"
potential_columns = ("technical_potential_kwp", "counted_potential_kwp", "pv_full")
#: Summary columns: townships-table column, label key or (zh, en) header, number format.
SUMMARY = [
    ("buildings", "buildings", INT), ("suitable", "suitable", INT),
    ("conditional", "conditional", INT), ("unsuitable", "unsuitable", INT),
    ("roof_area_m2", "roof_area", INT),
    ("counted_potential_kwp", "counted_kwp", ONE), ("technical_potential_kwp", "technical_kwp", ONE),
    ("pv_full", "pv_full", INT),
    ("annual_mwh", ("年发电量 (MWh)", "Generation (MWh/yr)"), ONE),
    ("annual_mwh_p90", ("年发电量 P90 (MWh)", "Generation P90 (MWh/yr)"), ONE),
    ("existing_pv_kw", "existing_kw", ONE),
    ("capex_myuan", ("投资 (百万元)", "Capex (M yuan)"), TWO),
    ("npv_myuan", ("净现值 (百万元)", "NPV (M yuan)"), TWO),
    ("co2_avoided_t_yr", ("年减排 CO₂ (t)", "CO₂ avoided (t/yr)"), INT),
]
#: Building columns: buildings-table column, label key or (zh, en) header, number format.
BUILDINGS = [
    ("name", "name", None), ("category", "category", None), ("roof_type", "roof_type", None),
    ("roof_area_m2", "roof_area", ONE), ("suitability", "status", None), ("reasons", "reason", None),
    ("counted_potential_kwp", "counted_kwp", ONE), ("technical_potential_kwp", "technical_kwp", ONE),
    ("existing_pv_kw", "existing_kw", ONE), ("annual_kwh", "annual_kwh", INT),
    ("specific_yield_kwh_kwp", "specific_yield", INT), ("plan_year", "plan_year", None),
]
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet title for ``name``: no ``[]:*?/\\``, no leading or trailing
    apostrophe, at most 31 characters; ``~2``, ``~3`` … added on a clash."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'").strip() or "sheet"
    title, n = base[:31], 1
    while title.casefold() in {t.casefold() for t in taken}:
        n += 1
        title = f"{base[:31 - len(str(n)) - 1]}~{n}"
    taken.add(title)
    return title


def _header(label, lang: str) -> str:
    return text(lang)[label] if isinstance(label, str) else label[0 if lang == "zh" else 1]


def _cell(value):
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and np.isnan(value) else safe_text(value)


def _text_cell(ws, value):
    """A cell for ``value``; a string is stored as a string even when it starts with ``=``
    (openpyxl would store it as a formula)."""
    if not isinstance(value, str) or not value.startswith("="):
        return value
    cell = Cell(ws, value=value)
    cell.data_type = "s"
    return cell


def _write(ws, headers: list[str], rows: list[list], formats: list[str | None]) -> None:
    ws.append([_text_cell(ws, h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        ws.append([_text_cell(ws, _cell(v)) for v in row])
    for j, fmt in enumerate(formats, start=1):
        letter = get_column_letter(j)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        longest = max([len(str(headers[j - 1]))] + [len(str(r[j - 1] or "")) for r in rows[:300]])
        ws.column_dimensions[letter].width = min(48, 4 + 1.7 * longest)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions


def build(report: ReportData, config: Config, lang: str) -> Workbook:
    """The workbook (not saved)."""
    t = text(lang)
    book = Workbook()
    summary = book.active
    taken: set[str] = set()
    summary.title = sheet_title(t["summary_sheet"], taken)
    headers = [t["township"]] + [_header(label, lang) for _, label, _ in SUMMARY]
    formats: list[str | None] = [None] + [fmt for *_, fmt in SUMMARY]
    names = {tg.name: (tg.label if lang == "zh" else tg.name.replace("_", " ")) for tg in config.policy.targets}
    towns = report.townships
    for tg in config.policy.targets:
        headers += [f"{names[tg.name]} {t['coverage_today_col']}", f"{names[tg.name]} {t['coverage_potential_col']}"]
        formats += [PCT, PCT]
        for year in tg.milestones:
            headers += [f"{names[tg.name]} {year} {t['target']}", f"{names[tg.name]} {year} {t['gap']}"]
            formats += [PCT, PCT]
            if f"{tg.name}_gap_kwp_{year}" in towns.columns:
                headers.append(f"{names[tg.name]} {year} {t['gap_kwp']}")
                formats.append(ONE)
            headers.append(f"{names[tg.name]} {year} {t['milestone_status']}")
            formats.append(None)
    rows = []
    for name in [*report.order, report.city]:
        r = report.townships.loc[name]
        row = [name] + [r[c] for c, *_ in SUMMARY]
        for tg in config.policy.targets:
            p = f"{tg.name}_"
            row += [r[p + "coverage_today"], r[p + "coverage_potential"]]
            for year in tg.milestones:
                row += [r[f"{p}target_{year}"], r[f"{p}gap_{year}"]]
                if f"{p}gap_kwp_{year}" in towns.columns:
                    row.append(r[f"{p}gap_kwp_{year}"])
                row.append(LABELS[lang][r[f"{p}status_{year}"]])
        rows.append(row)
    _write(summary, headers, rows, formats)
    fills = {LABELS[lang][s]: PatternFill("solid", fgColor="FF" + c.lstrip("#").upper()) for s, c in COLOURS.items()}
    for cells in summary.iter_rows(min_row=2):
        for cell in cells:
            if cell.value in fills:
                cell.fill = fills[cell.value]

    b = report.buildings
    plan_year = (report.plan.groupby(level=0)["build_year"].min() if report.plan is not None
                 else pd.Series(dtype=float))
    severity = config.rules.severity
    sep = "；" if lang == "zh" else "; "

    def reasons(value) -> str:
        codes = [c for c in str(value or "").split(";") if c and severity.get(c) != "info"]
        return sep.join(reason_label(c, lang) for c in codes)

    shown = pd.DataFrame({
        "category": _labelled(b["category"], lambda v: code_label("category", v, lang)),
        "roof_type": _labelled(b["roof_type"], lambda v: code_label("roof_type", v, lang)),
        "suitability": (_labelled(b["suitability"], lambda v: code_label("suitability", v, lang))
                        if lang == "zh" else b["suitability"]),
        "reasons": _labelled(b["reasons"], reasons),
        "plan_year": plan_year.reindex(b.index),
    }, index=b.index)
    table = b.drop(columns=[*shown.columns, *potential_columns], errors="ignore").join(shown).join(potential(b))
    columns = [c for c, *_ in BUILDINGS]
    table = table.reindex(columns=columns)
    headers = [t["building_id"]] + [_header(label, lang) for _, label, _ in BUILDINGS]
    formats = [None] + [fmt for *_, fmt in BUILDINGS]
    for name in report.order:
        sub = table[b["township"] == name]
        ws = book.create_sheet(sheet_title(name, taken))
        rows = [[bid, *values] for bid, values in zip(sub.index, sub.itertuples(index=False))]
        _write(ws, headers, rows, formats)
    return book


def _labelled(values: pd.Series, label) -> pd.Series:
    """``label`` applied once per distinct value of ``values``."""
    distinct = values.drop_duplicates()
    return values.map(dict(zip(distinct, map(label, distinct))))
