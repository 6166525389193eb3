"""The report workbook: a summary sheet of the townships and one sheet of buildings per
township, with Chinese (or English) headers, number formats and frozen header rows.

Written by XlsxWriter column by column; text cells pass :func:`~roofpv.io.writers.safe_text`
and are stored as strings, never as formulas or links.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import xlsxwriter

from roofpv.config import Config
from roofpv.io.writers import safe_frame, safe_text
from roofpv.report.data import ReportData
from roofpv.report.labels import code_label, reason_label, text
from roofpv.schema import SURFACE_TYPES
from roofpv.targets.milestones import COLOURS, LABELS
from roofpv.targets.planning import ROOF

INT, ONE, TWO, PCT = "#,##0", "#,##0.0", "#,##0.00", "0.0%"
#: Summary columns: townships-table column, label key or (zh, en) header, number format.
SUMMARY = [
    ("buildings", "buildings", INT), ("suitable", "suitable", INT),
    ("conditional", "conditional", INT), ("unsuitable", "unsuitable", INT),
    ("roof_area_m2", "roof_area", INT),
    ("counted_potential_kwp", "counted_kwp", ONE), ("technical_potential_kwp", "technical_kwp", ONE),
    ("pv_full", "pv_full", INT),
    ("annual_mwh", ("年发电量 (MWh)", "Generation (MWh/yr)"), ONE),
    ("annual_mwh_p90", ("年发电量 P90 (MWh)", "Generation P90 (MWh/yr)"), ONE),
    ("technical_annual_mwh", ("技术潜力年发电量 P50 (MWh，筛查，需普查核实后方可计入目标)",
                              "Technical potential generation P50 (MWh/yr, screening: survey needed "
                              "before counting toward a target)"), ONE),
    ("technical_annual_mwh_p90", ("技术潜力年发电量 P90 (MWh，筛查)",
                                  "Technical potential generation P90 (MWh/yr, screening)"), ONE),
    ("existing_pv_kw", "existing_kw", ONE),
    ("capex_myuan", ("投资 (百万元)", "Capex (M yuan)"), TWO),
    ("npv_myuan", ("净现值 (百万元)", "NPV (M yuan)"), TWO),
    ("co2_avoided_t_yr", ("年减排 CO₂ (t)", "CO₂ avoided (t/yr)"), INT),
    ("transformers_green", ("绿色台区 (台)", "Transformers green"), INT),
    ("transformers_yellow", ("黄色台区 (台)", "Transformers yellow"), INT),
    ("transformers_red", ("红色台区 (台)", "Transformers red"), INT),
    ("open_kw", ("台区可开放容量 (kWp，DL/T 2041)", "Transformers' open capacity (kWp, DL/T 2041)"), ONE),
    ("storage_to_host_kwh", ("全部接入需储能 (kWh)", "Storage to host every roof (kWh)"), INT),
    ("self_consumption_share", ("新增光伏自用比例（逐时）", "Self-consumed share of added PV (hourly)"), PCT),
    ("facade_kwp", ("立面容量 (kWp)", "Facades (kWp)"), ONE),
    ("surface_kwp", ("周边场地容量 (kWp，车棚、连廊、水池加盖、大棚、院落)",
                     "Surfaces beyond roofs (kWp: carports, corridors, tank covers, greenhouses, yards)"), ONE),
    ("total_kwp", ("合计容量 (kWp，屋顶计入潜力 + 立面 + 周边场地)", "Total (kWp: counted roofs + facades + surfaces)"), ONE),
    ("facade_annual_mwh", ("立面年发电量 (MWh)", "Facades generation (MWh/yr)"), ONE),
    ("surface_annual_mwh", ("周边场地年发电量 (MWh)", "Surfaces generation (MWh/yr)"), ONE),
    ("total_annual_mwh", ("合计年发电量 (MWh)", "Total generation (MWh/yr)"), ONE),
    ("substitution_roofs", ("替代率（仅屋顶）", "Substitution rate (roofs only)"), PCT),
    ("substitution_with_facades", ("替代率（屋顶 + 立面）", "Substitution rate (roofs + facades)"), PCT),
    ("substitution_all", ("替代率（屋顶 + 立面 + 周边场地）", "Substitution rate (roofs + facades + surfaces)"), PCT),
]
#: Surface columns (sheet of surfaces beyond roofs): surfaces-layer column, (zh, en) header, format.
SURFACES = [
    ("surface_type", ("类型", "Type"), None), ("township", ("镇街道", "Township"), None),
    ("name", ("名称", "Name"), None), ("area_m2", ("面积 (m²)", "Area (m²)"), INT),
    ("open_area_m2", ("空地面积 (m²，扣除建筑轮廓)", "Open area (m², footprints taken out)"), INT),
    ("usable_area_m2", ("光伏覆盖面积 (m²)", "Area under PV (m²)"), INT),
    ("module_tilt_deg", ("组件倾角 (°)", "Tilt (°)"), INT), ("azimuth_deg", ("朝向 (°)", "Azimuth (°)"), INT),
    ("kwp", ("容量 (kWp)", "Capacity (kWp)"), ONE), ("annual_kwh", ("年发电量 (kWh)", "Generation (kWh/yr)"), INT),
    ("npv_yuan", ("净现值 (元)", "NPV (yuan)"), INT), ("payback_years", ("回收期 (年)", "Payback (years)"), ONE),
]
#: Building columns: buildings-table column, label key or (zh, en) header, number format.
BUILDINGS = [
    ("name", "name", None), ("category", "category", None), ("roof_type", "roof_type", None),
    ("roof_area_m2", "roof_area", ONE), ("suitability", "status", None), ("reasons", "reason", None),
    ("counted_potential_kwp", "counted_kwp", ONE), ("technical_potential_kwp", "technical_kwp", ONE),
    ("existing_pv_kw", "existing_kw", ONE), ("annual_kwh", "annual_kwh", INT),
    ("specific_yield_kwh_kwp", "specific_yield", INT), ("plan_year", "plan_year", None),
]
#: Header cells: bold, light blue, wrapped.
HEADER = {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter"}
#: Rows read to size a column; its width in characters at most.
WIDTH_ROWS, MAX_WIDTH = 300, 48


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
    """A summary value for XlsxWriter: NaN → empty, numpy scalars → Python, text made inert."""
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and np.isnan(value) else safe_text(value)


def _columns(frame: pd.DataFrame) -> list[np.ndarray]:
    """The columns of ``frame`` as arrays of Python values: NA → None, text made inert."""
    safe = safe_frame(frame)
    return [np.where(pd.isna(col), None, col).astype(object)
            for col in (safe.iloc[:, j].to_numpy(dtype=object) for j in range(safe.shape[1]))]


class _Writer:
    """Sheets of one XlsxWriter workbook, with its cell formats made once."""

    def __init__(self, buffer: io.BytesIO):
        self.book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                                 "strings_to_urls": False, "strings_to_numbers": False})
        self.header = self.book.add_format(HEADER)
        self._formats: dict[str, object] = {}

    def format(self, spec: str | None, fill: str | None = None):
        """The cell format of number format ``spec`` and background ``fill`` (None: none)."""
        if spec is None and fill is None:
            return None
        key = f"{spec}|{fill}"
        if key not in self._formats:
            self._formats[key] = self.book.add_format({**({"num_format": spec} if spec else {}),
                                                       **({"bg_color": fill} if fill else {})})
        return self._formats[key]

    def sheet(self, title: str, headers: list[str], columns: list, formats: list[str | None],
              fills: dict[str, str] | None = None) -> None:
        """A sheet of ``columns`` (sequences of Python values) under ``headers``: number
        formats per column, text cells found in ``fills`` on that background colour,
        header row and first column frozen, a filter on the header."""
        ws = self.book.add_worksheet(title)
        ws.write_row(0, 0, headers, self.header)
        fills = fills or {}
        for j, (values, spec) in enumerate(zip(columns, formats)):
            values = list(values)
            if any(isinstance(v, str) and v in fills for v in values):
                for i, v in enumerate(values, start=1):
                    ws.write(i, j, v, self.format(spec, fills.get(v) if isinstance(v, str) else None))
            else:
                ws.write_column(1, j, values, self.format(spec))
            longest = max([len(str(headers[j]))] + [len(str(v or "")) for v in values[:WIDTH_ROWS]])
            ws.set_column(j, j, min(MAX_WIDTH, 4 + 1.7 * longest))
        ws.freeze_panes(1, 1)
        ws.autofilter(0, 0, max((len(c) for c in columns), default=0), len(headers) - 1)

    def close(self) -> None:
        self.book.close()


def build(report: ReportData, config: Config, lang: str) -> bytes:
    """The workbook, as the bytes of an ``.xlsx`` file."""
    t = text(lang)
    taken: set[str] = set()
    headers = [t["township"]] + [_header(label, lang) for _, label, _ in SUMMARY]
    formats: list[str | None] = [None] + [fmt for *_, fmt in SUMMARY]
    names = {tg.name: (tg.label if lang == "zh" else tg.name.replace("_", " ")) for tg in config.policy.targets}
    towns = report.townships
    for tg in config.policy.targets:
        headers += [f"{names[tg.name]} {t[c]}" for c in ("coverage_today_col", "coverage_potential_col",
                                                          "coverage_technical_col")]
        formats += [PCT, PCT, PCT]
        for year in tg.milestones:
            headers += [f"{names[tg.name]} {year} {t['target']}", f"{names[tg.name]} {year} {t['gap']}"]
            formats += [PCT, PCT]
            if f"{tg.name}_gap_kwp_{year}" in towns.columns:
                headers.append(f"{names[tg.name]} {year} {t['gap_kwp']}")
                formats.append(ONE)
            headers.append(f"{names[tg.name]} {year} {t['milestone_status']}")
            formats.append(None)

    def summary_rows(table: pd.DataFrame, names: list[str]) -> list:
        rows = []
        for name in names:
            r = table.loc[name]
            row = [name] + [r.get(c, np.nan) for c, *_ in SUMMARY]
            for tg in config.policy.targets:
                p = f"{tg.name}_"
                row += [r[p + "coverage_today"], r[p + "coverage_potential"], r.get(p + "coverage_technical", np.nan)]
                for year in tg.milestones:
                    row += [r[f"{p}target_{year}"], r[f"{p}gap_{year}"]]
                    if f"{p}gap_kwp_{year}" in towns.columns:
                        row.append(r[f"{p}gap_kwp_{year}"])
                    row.append(LABELS[lang][r[f"{p}status_{year}"]])
            rows.append([_cell(v) for v in row])
        return list(zip(*rows))

    buffer = io.BytesIO()
    out = _Writer(buffer)
    colours = {LABELS[lang][s]: c for s, c in COLOURS.items()}
    if report.counties is not None:  # a province run: the counties and the province first
        counties = [c for c in report.counties.index if c != report.province]
        out.sheet(sheet_title(t["county_sheet"], taken), [t["county"], *headers[1:]],
                  summary_rows(report.counties, [*counties, report.province]), formats, colours)
    out.sheet(sheet_title(t["summary_sheet"], taken), headers, summary_rows(towns, [*report.order, report.city]),
              formats, colours)

    b = report.buildings
    roofs = (report.plan if report.plan is None or "surface_type" not in report.plan
             else report.plan[report.plan["surface_type"] == ROOF])
    plan_year = roofs.groupby(level=0)["build_year"].min() if roofs is not None else pd.Series(dtype=float)
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
    table = b.drop(columns=shown.columns, errors="ignore").join(shown)
    columns = [c for c, *_ in BUILDINGS]
    table = table.reindex(columns=columns)
    headers = [t["building_id"]] + [_header(label, lang) for _, label, _ in BUILDINGS]
    formats = [None] + [fmt for *_, fmt in BUILDINGS]
    cells = _columns(table.reset_index())
    township = b["township"].to_numpy()
    for name in report.order:
        take = township == name
        out.sheet(sheet_title(name, taken), headers, [c[take] for c in cells], formats)
    if report.surfaces is not None and len(report.surfaces):
        s = report.surfaces
        table = s.assign(surface_type=_labelled(s["surface_type"], lambda v: SURFACE_TYPES.get(v, (v, v))[
            0 if lang == "zh" else 1])).reindex(columns=[c for c, *_ in SURFACES])
        out.sheet(sheet_title(t["surfaces_sheet"], taken),
                  [t["surface_id"]] + [_header(label, lang) for _, label, _ in SURFACES],
                  _columns(table.set_axis(s["surface_id"].to_numpy()).rename_axis("surface_id").reset_index()),
                  [None] + [fmt for *_, fmt in SURFACES])
    out.close()
    return buffer.getvalue()


def _labelled(values: pd.Series, label) -> pd.Series:
    """``label`` applied once per distinct value of ``values``."""
    distinct = values.drop_duplicates()
    return values.map(dict(zip(distinct, map(label, distinct))))
