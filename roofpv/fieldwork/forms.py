"""Survey forms sent to the townships: which rows, columns, drop-down lists and ranges,
and which values roofpv already knows (pure; :mod:`roofpv.io.form_workbooks` writes and reads the
workbooks).

A form has one row per building. Survey columns carry the headers that
:mod:`roofpv.inputs.survey_table` reads, so a filled form is itself a survey table. Values the survey
already holds are pre-filled as they are; values measured on the DSM (shading class,
storeys from the roof height) and registered PV matched from the grid company's register
are pre-filled as *estimates*: marked in the workbook and
taken by :mod:`roofpv.fieldwork.collect` only when the office confirms the row (已核实 = 是) or edits
the value. Reference columns (footprint area, DSM roof form and height) are read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from roofpv.schema import LABELS_ZH

#: Header of the row flag an office sets when it has checked the whole row on site.
CONFIRMED = "已核实"
CONFIRMED_YES, CONFIRMED_NO = "是", "否"


@dataclass(frozen=True)
class Column:
    """One column of the form.

    ``kind``: ``id`` (locked on issued rows), ``vocab`` (drop-down list ``choices``),
    ``number`` (``low``–``high`` in ``unit``; ``whole`` for integers), ``text``,
    ``flag`` (是/否) or ``reference`` (read-only, not a survey column).
    """

    key: str
    header: str
    kind: str
    prompt: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    unit: str = ""
    whole: bool = False
    width: float = 10.0


def _labels(field_name: str) -> tuple[str, ...]:
    return tuple(LABELS_ZH[field_name].values())


#: Drop-down choices: the Chinese label of every code, and for the category the common
#: kinds of public institution (all are spellings :mod:`roofpv.schema` accepts).
CATEGORY_CHOICES = ("党政机关", "学校", "医院", "卫生院", "幼儿园", "村委会", "其他公共机构",
                    "工业厂房", "仓储", "商业", "城镇住宅", "农村住宅", "其他")


def survey_columns(issue_year: int) -> tuple[Column, ...]:
    """The columns of a form issued in ``issue_year`` (the upper bound of 建成年份)."""
    return (
        Column("building_id", "建筑编号", "id", "建筑编号，与图上编号一致；新增建筑请在表末空行填写新编号", width=11),
        Column("township", "镇街道", "id", "所属镇街道", width=10),
        Column("name", "建筑名称", "text", "建筑名称（单位、小区或户主）", width=22),
        Column("address", "地址", "text", "门牌地址（路名门牌号或村组门牌号）", width=22),
        Column("category", "建筑类别", "vocab", "从下拉列表选择建筑类别", CATEGORY_CHOICES, width=11),
        Column("owner_type", "权属", "vocab", "产权人为自然人或非自然人（单位、企业、集体）",
               _labels("owner_type"), width=9),
        Column("roof_type", "屋面类型", "vocab", "从下拉列表选择屋面类型", _labels("roof_type"), width=13),
        Column("roof_load_kn_m2", "屋面荷载(kN/m²)", "number",
               "屋面可用（富余）荷载，单位 kN/m²（1 kN/m² ≈ 102 kg/m²）", low=0.0, high=10.0,
               unit="kN/m²", width=11),
        Column("shading", "遮挡情况", "vocab", "屋面受周边建筑、树木遮挡的程度", _labels("shading"), width=9),
        Column("grid_condition", "并网条件", "vocab", "就近台区能否接入光伏", _labels("grid_condition"),
               width=9),
        Column("transformer_id", "台区变压器编号", "text", "供电台区变压器编号", width=13),
        Column("year_built", "建成年份", "number", "建成（竣工）年份，四位数字", low=1900,
               high=issue_year, unit="年", whole=True, width=9),
        Column("floors", "层数", "number", "地上层数", low=1, high=100, unit="层", whole=True, width=6),
        Column("floor_area_m2", "建筑面积(m²)", "number", "总建筑面积，单位 m²", low=0.0, high=1e6,
               unit="m²", width=11),
        Column("existing_pv_kw", "已装光伏容量(kW)", "number", "已建成光伏的装机容量，单位 kW；未装填 0",
               low=0.0, high=1e5, unit="kW", width=11),
        Column("existing_pv_area_m2", "已装光伏面积(m²)", "number", "已建成光伏的组件面积，单位 m²；未装填 0",
               low=0.0, high=1e6, unit="m²", width=11),
        Column("note", "备注", "text", "其他需要说明的情况", width=20),
        Column("confirmed", CONFIRMED, "flag", "整行现场核实后选“是”；黄色估计值随之确认",
               (CONFIRMED_YES, CONFIRMED_NO), width=7),
        Column("footprint_area_m2", "占地面积(m²)", "reference", "按建筑轮廓计算，仅供参考", width=10),
        Column("dsm_roof_form", "DSM屋顶形式", "reference", "由数字表面模型（DSM）识别，仅供参考", width=10),
        Column("dsm_roof_height_m", "DSM屋顶高度(m)", "reference", "由数字表面模型（DSM）量测，仅供参考",
               width=10),
    )


def is_survey(column: Column) -> bool:
    """Whether a form column is a survey column (not the row flag or a reference column)."""
    return column.kind not in ("flag", "reference")


#: Chinese names of the DSM roof forms.
ROOF_FORMS_ZH = {"flat": "平屋顶", "gable": "双坡", "mono_pitch": "单坡", "hip": "四坡", "complex": "复杂"}

#: Survey columns pre-filled from the DSM when it measured the roof, as estimates.
ESTIMATED = ("shading", "floors")
#: Survey columns pre-filled from the PV register (``existing_pv_source`` = register), as estimates.
REGISTERED = ("existing_pv_kw", "existing_pv_area_m2")


@dataclass(frozen=True)
class Form:
    """One survey form: a township (or a village of it) and its rows.

    ``values``: display values by column key (index ``building_id``), pre-filled cells
    only; ``estimate``: True where a value is a DSM estimate to confirm; ``measured``:
    the DSM's shading class code per building (NaN where not measured), for the field
    check after collection.
    """

    form_id: str
    township: str
    village: str | None
    issued: str
    values: pd.DataFrame
    estimate: pd.DataFrame
    measured: pd.Series
    file_name: str = field(default="")


def _display(column: str, values: pd.Series) -> pd.Series:
    """Canonical survey values as a form shows them (Chinese labels, plain numbers)."""
    if column in LABELS_ZH:
        return values.map(LABELS_ZH[column])
    return values


def estimates(b: pd.DataFrame, storey_height_m: float) -> pd.DataFrame:
    """DSM estimates of survey columns, as form display values (NaN where not measured).

    ``b``: buildings after :func:`roofpv.roofs.dsm.combine` (``shading_measured_class``,
    ``roof_height_m`` with its ``_source``). Storeys = roof height ÷ storey height,
    rounded, at least 1.
    """
    dsm = b["roof_height_m_source"].eq("dsm")
    storeys = np.maximum(np.round(b["roof_height_m"].astype(float) / storey_height_m), 1.0)
    return pd.DataFrame({
        "shading": b["shading_measured_class"].map(LABELS_ZH["shading"]),
        "floors": storeys.where(dsm & b["roof_height_m"].notna()),
    }, index=b.index)


def file_stem(number: int, form_id: str) -> str:
    """``01-当湖街道``: the form's number and id with only letters, digits, CJK and ·."""
    return f"{number:02d}-" + re.sub(r"[^\w·]+", "", form_id, flags=re.UNICODE)


def make_forms(b: pd.DataFrame, storey_height_m: float, issued: str, order: list[str] | None = None,
               village: pd.Series | None = None) -> list[Form]:
    """One form per township (per village of a township when ``village`` gives it).

    Parameters
    ----------
    b : buildings after :func:`roofpv.roofs.dsm.combine`, indexed by ``building_id``: survey
        columns (canonical codes; NaN where the survey has no value), ``township``,
        ``roof_area_m2``, ``roof_form`` with ``roof_form_source``, ``roof_height_m``
        with its ``_source``, ``shading_measured_class`` and, optionally,
        ``existing_pv_source`` (``register`` marks registered PV as an estimate).
    storey_height_m : storey height for the storeys estimate [m]
    issued : issue date of the forms (ISO, written into each form)
    order : townships in this order first (e.g. the polygons' order), the rest by name
    village : village or community of each building (blank: the township form)
    """
    columns = survey_columns(int(issued[:4]))
    keys = [c.key for c in columns if is_survey(c) and c.key != "building_id"]
    known = pd.DataFrame({k: _display(k, b[k]) if k in b else np.nan for k in keys}, index=b.index)
    known = known.astype(object).where(known.notna(), None)
    est = estimates(b, storey_height_m)
    estimate = pd.DataFrame(False, index=b.index, columns=keys)
    for key in ESTIMATED:
        use = known[key].isna() & est[key].notna()
        known.loc[use, key] = est.loc[use, key]
        estimate[key] = use
    if "existing_pv_source" in b:  # PV matched from the grid company's register
        registered = b["existing_pv_source"].eq("register").to_numpy()
        for key in REGISTERED:
            estimate[key] = registered & known[key].notna().to_numpy()
    dsm = b["roof_form_source"].eq("dsm")
    known["footprint_area_m2"] = b["roof_area_m2"].round(0)
    known["dsm_roof_form"] = b["roof_form"].map(ROOF_FORMS_ZH).where(dsm)
    known["dsm_roof_height_m"] = b["roof_height_m"].astype(float).round(1).where(dsm)
    known = known.astype(object).where(known.notna(), None)
    village = (village.reindex(b.index) if village is not None else pd.Series(None, b.index, dtype=object))
    village = village.astype(object).where(village.notna() & (village.astype(str).str.strip() != ""), None)
    group = pd.DataFrame({"township": b["township"].astype(str), "village": village})
    towns = [t for t in (order or []) if t in set(group["township"])]
    towns += sorted(set(group["township"]) - set(towns))
    forms: list[Form] = []
    for town in towns:
        rows = group[group["township"] == town]
        villages = [None] if rows["village"].isna().all() else sorted(rows["village"].dropna().unique())
        if None not in villages and rows["village"].isna().any():
            villages.append(None)
        for v in villages:
            ids = rows.index[rows["village"].isna() if v is None else rows["village"].eq(v)]
            ids = ids.sort_values()
            form_id = town if v is None else f"{town}·{v}"
            forms.append(Form(
                form_id, town, v, issued, known.loc[ids], estimate.loc[ids],
                b.loc[ids, "shading_measured_class"], file_stem(len(forms) + 1, form_id),
            ))
    return forms


#: Ground covered by a detail map page at 1:2000, metres (paper landscape minus margins).
PAGE_GROUND_M = {"A3": (760.0, 520.0), "A4": (520.0, 350.0)}


def map_pages(x: np.ndarray, y: np.ndarray, ids: pd.Index, paper: str = "A3") -> tuple[pd.DataFrame, pd.Series]:
    """Detail pages of a form's map, each centred on a group of buildings.

    Greedy: the north-western building not yet on a page seeds a page-sized window
    reaching east and south of it; the page is then centred on the buildings in that
    window, and every building not yet placed inside it goes on it. Repeats until every
    building (points ``x``, ``y`` in metres) is on a page.

    Returns the pages (index: page number from 1; ``xmin``, ``ymin``, ``xmax``, ``ymax``)
    and each building's page number (index ``ids``).
    """
    width, height = PAGE_GROUND_M[paper]
    x, y = np.asarray(x, float), np.asarray(y, float)
    page = np.zeros(len(x), int)
    boxes = []
    while (free := page == 0).any():
        order = np.lexsort((x[free], -np.round(y[free] / height)))
        seed = np.flatnonzero(free)[order[0]]
        near = free & (x >= x[seed] - width / 4) & (x <= x[seed] + 3 * width / 4) \
            & (y <= y[seed] + height / 4) & (y >= y[seed] - 3 * height / 4)
        cx = (x[near].min() + x[near].max()) / 2
        cy = (y[near].min() + y[near].max()) / 2
        box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
        inside = free & (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        boxes.append(box)
        page[inside | (np.arange(len(x)) == seed)] = len(boxes)
    pages = pd.DataFrame(boxes, columns=["xmin", "ymin", "xmax", "ymax"],
                         index=pd.RangeIndex(1, len(boxes) + 1, name="page"))
    return pages, pd.Series(page, index=ids, name="map_page")
