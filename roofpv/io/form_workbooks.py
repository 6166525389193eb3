"""Survey form workbooks and maps: writing the forms, reading them back when they return,
and writing the collected survey workbook.

A form (XLSX) has three visible parts: the instructions sheet 填表说明, the data sheet
调查表 (title, form id and the office's name and date in rows 1–2, headers in row 3, one
row per building from row 4, blank rows for buildings added in the field) and two
very-hidden sheets with what roofpv issued (``_roofpv_meta``, ``_roofpv_rows``), so a
returned form can be compared with what was sent.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter

from roofpv.errors import ConfigError, FormError, SurveyError
from roofpv.fieldwork.collect import Returned
from roofpv.fieldwork.forms import Column, Form, is_survey, survey_columns
from roofpv.findings import Finding
from roofpv.inputs.survey_table import locate_header
from roofpv.io.encodings import read_text
from roofpv.io.writers import FORMULA_LEADS, atomic
from roofpv.schema import ISSUED_LIST

DATA_SHEET, INSTRUCTIONS_SHEET = "调查表", "填表说明"
META_SHEET, ROWS_SHEET = "_roofpv_meta", "_roofpv_rows"
#: Data sheet layout: header row and first building row (1-based).
HEADER_ROW, FIRST_ROW = 3, 4
#: Cells of the data sheet the office fills: its name, the person, the date.
OFFICE_CELL, PERSON_CELL, DATE_CELL = "G2", "I2", "K2"
#: Blank rows left at the end of every form for buildings found in the field.
EXTRA_ROWS = 20
FORMAT = "roofpv-survey-form 1"

ESTIMATE_FILL = PatternFill("solid", fgColor="FFF2CC")
KNOWN_FILL = PatternFill("solid", fgColor="FFFFFF")
LOCKED_FILL = PatternFill("solid", fgColor="E7E6E6")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
INPUT_FILL = PatternFill("solid", fgColor="E2EFDA")
THIN = Border(*(Side(style="thin", color="BFBFBF"),) * 4)



def put(ws, ref: str, value) -> None:
    """Write ``value`` into cell ``ref``; text that a spreadsheet would take for a formula
    (starting with = + - @) is stored as text."""
    cell = ws[ref]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        value = None
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        cell.data_type = "s"
        cell.quotePrefix = True


def save(wb: Workbook, path: Path, fixed_time: dt.datetime | None = None) -> None:
    """Save a workbook, atomically; with ``fixed_time`` the document properties and zip
    member times are that time, so the same content gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic(path) as tmp:
        if fixed_time is None:
            wb.save(tmp)
        else:
            wb.properties.created = wb.properties.modified = fixed_time
            buffer = io.BytesIO()
            ExcelWriter(wb, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
            with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(tmp, "w") as dst:
                for info in src.infolist():
                    member = zipfile.ZipInfo(info.filename, date_time=fixed_time.timetuple()[:6])
                    member.compress_type = zipfile.ZIP_DEFLATED
                    dst.writestr(member, src.read(info.filename))


def _validation(column: Column) -> DataValidation | None:
    """Excel data validation of a column: drop-down list or number range, with the
    column's input message and a Chinese error message."""
    common = dict(allow_blank=True, showInputMessage=True, showErrorMessage=True,
                  promptTitle=column.header[:32], prompt=column.prompt[:255], errorTitle="输入有误")
    if column.kind in ("vocab", "flag"):
        return DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"',
                              error="请从下拉列表中选择", **common)
    if column.kind == "number":
        low, high = column.low, column.high
        return DataValidation(type="whole" if column.whole else "decimal", operator="between",
                              formula1=f"{low:g}", formula2=f"{high:g}",
                              error=f"请输入 {low:g}–{high:g} 之间的数字（{column.unit}）", **common)
    if column.kind == "text" or column.kind == "id":
        return DataValidation(type=None, **common)
    return None


INSTRUCTIONS = (
    "一、本表由 roofpv 按建筑轮廓生成，每栋建筑一行，请逐栋现场核实后填写。",
    "二、灰色列（建筑编号、镇街道、占地面积及 DSM 参考列）为系统数据，已锁定，不可修改。",
    "三、黄色单元格是估计值，请现场核实：无误则保留，有误请改正。遮挡情况、层数来自数字表面模型（DSM）测算，已装光伏容量、面积来自电网公司并网登记。",
    "四、白色单元格中已有的内容来自已有的普查资料，如有变化请直接改正。",
    "五、下拉列表列请从列表中选择；数字列只填数字，单位见表头括号（荷载 kN/m²，面积 m²，容量 kW）。",
    "六、整行核实完毕后，在“已核实”列选“是”。未选“是”且未修改的黄色估计值不计入普查结果。",
    "七、表中没有的建筑，请在表末空行填写：自编建筑编号（如 新增-01）、镇街道及其他各列，汇总时将提示补绘轮廓。",
    "八、请在调查表第 2 行填写填报单位、填报人和填报日期（格式 2026-01-31）；多次报送时以填报日期最新者为准。",
    "九、请勿增删列、修改表头，勿删除隐藏工作表；打印请使用随表发放的地图（PDF），图上注有建筑编号。",
)


def write_form(path: Path, form: Form, title: str, map_pages: pd.Series | None = None,
               fixed_time: dt.datetime | None = None) -> None:
    """Write one survey form workbook (see the module docstring for its layout).

    ``title``: jurisdiction name for the title, e.g. 平湖市; ``map_pages``: the map page
    of each building (written as a read-only column 图页).
    """
    columns = survey_columns(int(form.issued[:4]))
    wb = Workbook()
    info = wb.active
    info.title = INSTRUCTIONS_SHEET
    ws = wb.create_sheet(DATA_SHEET)
    _instructions(info, form, title)
    _data_sheet(ws, form, title, columns, map_pages)
    _issued_sheets(wb, form, columns)
    wb.active = 1
    save(wb, path, fixed_time)


def _instructions(ws, form: Form, title: str) -> None:
    put(ws, "A1", f"{title}屋顶光伏资源普查表 · 填表说明")
    ws["A1"].font = Font(bold=True, size=14)
    put(ws, "A2", f"表单编号：{form.form_id}　　发放日期：{form.issued}　　建筑数：{len(form.values)}")
    for i, line in enumerate(INSTRUCTIONS, start=4):
        put(ws, f"A{i}", line)
        ws[f"A{i}"].alignment = Alignment(wrap_text=True, vertical="top")
    row = len(INSTRUCTIONS) + 5
    put(ws, f"A{row}", "图例")
    ws[f"A{row}"].font = Font(bold=True)
    for i, (fill, text) in enumerate((
        (ESTIMATE_FILL, "估计值（DSM 测算或并网登记），待核实"), (LOCKED_FILL, "系统数据，已锁定"),
        (KNOWN_FILL, "已有普查资料，如有变化请改正"), (INPUT_FILL, "填报单位、填报人、填报日期"),
    ), start=row + 1):
        put(ws, f"A{i}", text)
        ws[f"A{i}"].fill = fill
        ws[f"A{i}"].border = THIN
    ws.column_dimensions["A"].width = 110
    ws.protection.sheet = True
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"


def _data_sheet(ws, form: Form, title: str, columns, map_pages) -> None:
    cols = list(columns) + ([Column("map_page", "图页", "reference", "随表地图的页码", width=6)]
                            if map_pages is not None else [])
    last = get_column_letter(len(cols))
    put(ws, "A1", f"{title}屋顶光伏资源普查表 · {form.form_id}")
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(f"A1:{last}1")
    for ref, text in (("A2", "表单编号"), ("B2", form.form_id), ("D2", "发放日期"), ("E2", form.issued),
                      ("F2", "填报单位"), ("H2", "填报人"), ("J2", "填报日期")):
        put(ws, ref, text)
    ws.merge_cells("B2:C2")
    for ref in (OFFICE_CELL, PERSON_CELL, DATE_CELL):
        ws[ref].protection = Protection(locked=False)
        ws[ref].fill = INPUT_FILL
        ws[ref].border = THIN
    ws[DATE_CELL].number_format = "yyyy-mm-dd"
    date_check = DataValidation(type="date", operator="between", formula1="36526", formula2="73051",
                                allow_blank=True, showErrorMessage=True, showInputMessage=True,
                                promptTitle="填报日期", prompt="填报日期，格式 2026-01-31",
                                errorTitle="输入有误", error="请填写日期，格式 2026-01-31")
    ws.add_data_validation(date_check)
    date_check.add(DATE_CELL)

    for j, column in enumerate(cols, start=1):
        cell = ws.cell(HEADER_ROW, j)
        put(ws, cell.coordinate, column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = THIN
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(j)].width = column.width
        if column.key in ("shading", "floors"):
            cell.comment = Comment("黄色为 DSM 估计值，请现场核实", "roofpv")
        elif column.key in ("existing_pv_kw", "existing_pv_area_m2"):
            cell.comment = Comment("黄色为并网登记值，请现场核实", "roofpv")

    n = len(form.values)
    values = form.values.copy()
    values.insert(0, "building_id", values.index)
    if map_pages is not None:
        values["map_page"] = map_pages.reindex(values.index).to_numpy()
    data = values.reindex(columns=[c.key for c in cols]).to_numpy(dtype=object)
    estimate = form.estimate.reindex(columns=[c.key for c in cols], fill_value=False).to_numpy(bool)
    last_row = FIRST_ROW + n + EXTRA_ROWS - 1
    for j, column in enumerate(cols, start=1):
        letter = get_column_letter(j)
        locked = column.kind in ("id", "reference")
        for i in range(n):
            cell = ws.cell(FIRST_ROW + i, j)
            put(ws, cell.coordinate, data[i, j - 1])
            cell.border = THIN
            if locked:
                cell.fill = LOCKED_FILL
            else:
                cell.protection = Protection(locked=False)
                if estimate[i, j - 1]:
                    cell.fill = ESTIMATE_FILL
        for r in range(FIRST_ROW + n, last_row + 1):
            cell = ws.cell(r, j)
            cell.border = THIN
            if column.kind != "reference":
                cell.protection = Protection(locked=False)
        if column.kind == "number":
            fmt = "0" if column.whole else "0.##"
            for r in range(FIRST_ROW, last_row + 1):
                ws.cell(r, j).number_format = fmt
        rule = _validation(column)
        if rule is not None and column.kind != "reference":
            ws.add_data_validation(rule)
            rule.add(f"{letter}{FIRST_ROW}:{letter}{last_row}")
    ws.freeze_panes = ws.cell(FIRST_ROW, 3)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{last_row}"
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _issued_sheets(wb: Workbook, form: Form, columns) -> None:
    meta = wb.create_sheet(META_SHEET)
    items = {"format": FORMAT, "form_id": form.form_id, "township": form.township,
             "village": form.village or "", "issued": form.issued, "sheet": DATA_SHEET}
    for i, (key, value) in enumerate(items.items(), start=1):
        put(meta, f"A{i}", key)
        put(meta, f"B{i}", value)
    meta.sheet_state = "veryHidden"
    rows = wb.create_sheet(ROWS_SHEET)
    keys = [c.key for c in columns if is_survey(c) and c.key != "building_id"]
    header = ["building_id", *keys, "estimates", "measured_shading"]
    rows.append(header)
    values = form.values.reindex(columns=keys).to_numpy(dtype=object)
    estimate = form.estimate.reindex(columns=keys, fill_value=False).to_numpy(bool)
    measured = form.measured.reindex(form.values.index).to_numpy(dtype=object)
    for i, bid in enumerate(form.values.index):
        r = i + 2
        line = [bid, *values[i], ";".join(k for k, e in zip(keys, estimate[i]) if e), measured[i]]
        for j, value in enumerate(line, start=1):
            put(rows, rows.cell(r, j).coordinate, value)
    rows.sheet_state = "veryHidden"


def _date(value) -> dt.datetime | None:
    """The 填报日期 cell as a date: a date cell, an Excel serial number or text such as
    2026-03-05, 2026/3/5 or 2026年3月5日; None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(value))  # Excel serial date
    match = re.match(r"\s*(\d{4})\D+(\d{1,2})\D+(\d{1,2})", value) if isinstance(value, str) else None
    if match:  # 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日
        try:
            return dt.datetime(*map(int, match.groups()))
        except ValueError:
            return None
    return None


def read_form(path: Path) -> Returned:
    """A returned form: its rows, who filled it and when, and what was issued."""
    try:
        wb = load_workbook(path, data_only=True, read_only=True)
    except FileNotFoundError:
        raise FormError(f"{path}: file not found") from None
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise FormError(f"{path}: not a readable XLSX workbook ({exc})") from None
    if META_SHEET not in wb.sheetnames or ROWS_SHEET not in wb.sheetnames:
        raise FormError(f"{path}: not a roofpv survey form (its hidden sheets are missing); "
                        "collect the forms `roofpv forms` wrote, or read a plain survey workbook "
                        "with `roofpv survey`")
    meta = {str(k): ("" if v is None else str(v)) for k, v in wb[META_SHEET].iter_rows(values_only=True)}
    if meta.get("format") != FORMAT:
        raise FormError(f"{path}: form format {meta.get('format')!r} is not {FORMAT!r}")
    sheet = meta["sheet"]
    if sheet not in wb.sheetnames:
        raise FormError(f"{path}: sheet {sheet!r} was deleted or renamed; restore it")
    ws = wb[sheet]
    issued_rows = list(wb[ROWS_SHEET].iter_rows(values_only=True))
    issued = pd.DataFrame(issued_rows[1:], columns=issued_rows[0], dtype=object)
    issued["building_id"] = issued["building_id"].astype(str)
    issued = issued.set_index("building_id")
    estimates_ = issued.pop("estimates").fillna("").astype(str).str.split(";")
    measured = issued.pop("measured_shading")
    keys = list(issued.columns)
    estimate = pd.DataFrame({k: estimates_.map(lambda e, k=k: k in e) for k in keys}, index=issued.index)

    office, person, date = (ws[ref].value for ref in (OFFICE_CELL, PERSON_CELL, DATE_CELL))
    filled = _date(date)
    filled_from = "填报日期"
    if filled is None:
        filled, filled_from = dt.datetime.fromtimestamp(path.stat().st_mtime), "file time"
    cells = pd.DataFrame(list(ws.iter_rows(values_only=True)), dtype=object)
    wb.close()
    try:
        names, first = locate_header(cells)
    except SurveyError as exc:
        raise FormError(f"{path}: sheet {sheet!r}: {exc}") from None
    by_header = {c.header: c.key for c in survey_columns(int(meta["issued"][:4]))}
    missing = [h for h, k in by_header.items() if k in ("building_id", *keys) and h not in names]
    if missing:
        raise FormError(f"{path}: sheet {sheet!r} lacks columns {missing}; do not rename or delete "
                        "columns, use the form as issued")
    raw = cells.iloc[first:].set_axis(names, axis=1)
    raw = raw[[n for n in names if n in by_header]].rename(columns=by_header)
    raw.index = pd.RangeIndex(first + 1, first + 1 + len(raw))
    return Returned(
        path, meta["form_id"], meta["township"], meta["village"] or None, meta["issued"],
        _text(office), _text(person), filled, filled_from, sheet,
        raw, issued, estimate, measured,
    )


def read_returns(paths: list[Path]) -> tuple[list[Returned], list[Finding]]:
    """The returned forms among ``paths`` (workbooks, or folders whose ``*.xlsx`` are
    read; the issued listing and Office lock files skipped) and an error finding for each
    workbook that is not a readable roofpv form. Raises :class:`FormError` when none is."""
    files: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            files += sorted(p for p in item.glob("*.xlsx") if not p.name.startswith((".", "~$")))
        else:
            files.append(item)
    returns, unreadable = [], []
    for path in files:
        if path.name == ISSUED_LIST:
            continue
        try:
            returns.append(read_form(path))
        except FormError as exc:
            unreadable.append(Finding("error", str(path), None, None, None, None, str(exc),
                                      "collect the forms `roofpv forms` wrote, as returned"))
    if not returns:
        raise FormError("no readable form among " + ", ".join(map(str, paths))
                        + ("; " + unreadable[0].problem if unreadable else ""))
    return returns, unreadable


def read_issued(path: Path) -> pd.DataFrame:
    """The listing ``roofpv forms`` wrote (``path`` is the file or its folder): by
    ``building_id``, columns ``form``, ``township``, ``file``, ``issued`` (YYYY-MM-DD) and
    ``measured_shading`` (DSM shading class code, blank where not measured), as text;
    in any encoding a spreadsheet may have saved it in."""
    path = Path(path)
    listing = path / ISSUED_LIST if path.is_dir() else path
    if not listing.exists():
        raise ConfigError(f"{listing}: not found; pass the forms folder of `roofpv forms`")
    return pd.read_csv(io.StringIO(read_text(listing).text), dtype=str).set_index("building_id")


def _text(value) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _safe(ws, value):
    """A cell for a write-only sheet: text that a spreadsheet would take for a formula is
    stored as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def write_sheets(path: Path, sheets: dict[str, pd.DataFrame], fixed_time: dt.datetime | None = None) -> None:
    """A workbook with one sheet per table (bold frozen header, filters); every text
    cell safe from formula injection."""
    wb = Workbook(write_only=True)
    for name, frame in sheets.items():
        ws = wb.create_sheet(name[:31])
        data = frame.to_numpy(dtype=object)
        for j, header in enumerate(frame.columns, start=1):
            longest = max([len(str(header))] + [len(str(v)) for v in data[:200, j - 1] if v is not None])
            ws.column_dimensions[get_column_letter(j)].width = min(40, 3 + 1.6 * longest)
        ws.freeze_panes = "B2"
        if len(frame.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
        header = []
        for text in frame.columns:
            cell = WriteOnlyCell(ws, str(text))
            cell.font, cell.fill = Font(bold=True), HEADER_FILL
            header.append(cell)
        ws.append(header)
        for row in data:
            ws.append([_safe(ws, v) for v in row])
    save(wb, path, fixed_time)


# ---------------------------------------------------------------------------------------
# Maps
# ---------------------------------------------------------------------------------------

#: Paper sizes, landscape, in inches (ISO 216).
PAPER = {"A4": (11.69, 8.27), "A3": (16.54, 11.69)}


def write_map(path: Path, buildings, township, pages: pd.DataFrame, page: pd.Series, title: str,
              paper: str = "A3", font_path: Path | None = None) -> None:
    """A printable PDF map of a form: an overview page with the numbered detail pages,
    then one page per detail sheet with every building outlined and labelled by its id.

    ``buildings``: GeoDataFrame (projected, metres) indexed by ``building_id``;
    ``township``: its polygon (or None); ``pages``: :func:`roofpv.fieldwork.forms.map_pages`
    output: the pages (number → xmin, ymin, xmax, ymax) and each building's ``page``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.font_manager import FontProperties

    font = FontProperties(fname=str(font_path)) if font_path else None
    size = PAPER[paper]
    geoms = buildings.geometry
    points = geoms.representative_point()
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Title": title, "Creator": "roofpv", "CreationDate": None, "ModDate": None}
    with atomic(path) as tmp, PdfPages(tmp, metadata=metadata) as pdf:
        fig, ax = plt.subplots(figsize=size)
        if township is not None:
            _outline(ax, township, "#888888", 1.0)
        ax.add_collection(_polygons(geoms, facecolor="#404040", linewidth=0))
        ax.autoscale_view()
        for number, (x0, y0, x1, y1) in pages[["xmin", "ymin", "xmax", "ymax"]].iterrows():
            ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#c00000", lw=0.8))
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, str(number), color="#c00000", ha="center",
                    va="center", fontsize=9, fontweight="bold")
        _finish(ax, f"{title} · 总图（红框为分图页码）", font)
        pdf.savefig(fig)
        for number, (x0, y0, x1, y1) in pages[["xmin", "ymin", "xmax", "ymax"]].iterrows():
            for drawn in [*ax.collections, *ax.lines, *ax.patches, *ax.texts]:  # one figure, page after page
                drawn.remove()
            inside = page.reindex(geoms.index).eq(number).to_numpy()
            if township is not None:
                _outline(ax, township, "#888888", 1.0)
            ax.add_collection(_polygons(geoms[inside], facecolor="#d9d9d9", edgecolor="#404040", linewidth=0.4))
            near = geoms.cx[x0:x1, y0:y1]
            others = near[~near.index.isin(geoms.index[inside])]
            if len(others):  # buildings of neighbouring pages, unlabelled
                ax.add_collection(_polygons(others, facecolor="#f2f2f2", edgecolor="#a0a0a0", linewidth=0.3))
            for bid, p in points[inside].items():
                ax.text(p.x, p.y, str(bid), fontsize=5, ha="center", va="center")
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            _finish(ax, f"{title} · 第 {number} 页（{int(inside.sum())} 栋）", font, scale_m=100)
            pdf.savefig(fig)
        plt.close(fig)


def _polygons(geoms, **style):
    """One matplotlib collection of the polygons ``geoms`` (holes kept), drawn with ``style``."""
    import shapely
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as MplPath

    parts = shapely.get_parts(geoms.to_numpy())
    parts = parts[shapely.get_type_id(parts) == 3]
    rings, owner = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return PathCollection([], **style)
    last = np.r_[ring[1:] != ring[:-1], True]
    first = np.r_[True, last[:-1]]
    codes = np.where(first, MplPath.MOVETO, np.where(last, MplPath.CLOSEPOLY, MplPath.LINETO)).astype(np.uint8)
    cut = np.flatnonzero(np.r_[True, np.diff(owner[ring]) != 0, True])
    paths = [MplPath(xy[a:b], codes[a:b]) for a, b in zip(cut[:-1].tolist(), cut[1:].tolist())]
    return PathCollection(paths, **style)


def _outline(ax, polygon, colour: str, width: float) -> None:
    from shapely import get_parts

    for part in get_parts(polygon):
        x, y = part.exterior.xy
        ax.plot(x, y, color=colour, linewidth=width)


def _finish(ax, title: str, font, scale_m: float | None = None) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title, fontproperties=font, fontsize=12)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = scale_m or 10 ** np.floor(np.log10((x1 - x0) / 4))
    ax.plot([x0 + 0.03 * (x1 - x0), x0 + 0.03 * (x1 - x0) + bar], [y0 + 0.03 * (y1 - y0)] * 2,
            color="black", linewidth=2)
    ax.text(x0 + 0.03 * (x1 - x0), y0 + 0.045 * (y1 - y0), f"{bar:g} m", fontsize=7)
    ax.annotate("N ↑", xy=(0.97, 0.95), xycoords="axes fraction", ha="right", fontsize=10)
    ax.figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.96)  # the title above
