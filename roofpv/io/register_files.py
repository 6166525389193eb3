"""Readers for the grid company's register of connected PV and the monthly meter readings.

Grid companies export these as CSV or XLSX with Chinese headers; headers are matched
after :func:`roofpv.schema.header_key` (units in brackets, spaces and width ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.errors import InputError
from roofpv.findings import Finding
from roofpv.io.readers import read_csv_cells
from roofpv.schema import header_key

REGISTER_ALIASES: dict[str, tuple[str, ...]] = {
    "system_id": ("system_id", "户号", "发电户号", "用户编号", "项目编号", "项目代码", "并网编号"),
    "project": ("project", "项目名称", "电站名称", "工程名称"),
    "owner": ("owner", "业主", "业主名称", "用户名称", "户名", "产权人", "投资主体"),
    "address": ("address", "地址", "安装地址", "项目地址", "用电地址", "建设地址"),
    "township": ("township", "乡镇", "所属乡镇", "镇街道", "乡镇街道", "供电所"),
    "kw": ("kw", "capacity", "装机容量", "容量", "并网容量", "发电容量", "装机规模"),
    "unit": ("unit", "容量单位", "单位"),
    "connected": ("connected", "connection_date", "并网日期", "并网时间", "投运日期"),
    "voltage_kv": ("voltage_kv", "voltage", "并网电压等级", "电压等级", "接入电压"),
    "export_mode": ("export_mode", "消纳方式", "上网模式", "运营模式", "消纳模式"),
    "building_id": ("building_id", "建筑编号", "建筑物编号"),
    "longitude": ("longitude", "lon", "经度"),
    "latitude": ("latitude", "lat", "纬度"),
}
METER_ALIASES: dict[str, tuple[str, ...]] = {
    "system_id": REGISTER_ALIASES["system_id"],
    "month": ("month", "月份", "年月", "抄表月份", "电量年月"),
    "kwh": ("kwh", "generation_kwh", "发电量", "月发电量", "上网电量", "发电电量"),
}
EXPORT_MODES = {"全额上网": "full_export", "自发自用余电上网": "self_use_surplus", "余电上网": "self_use_surplus",
                "全部自用": "full_self_use", "自发自用": "full_self_use"}
#: kW per unit of a capacity header or cell.
UNITS = {"kw": 1.0, "kwp": 1.0, "千瓦": 1.0, "mw": 1000.0, "mwp": 1000.0, "兆瓦": 1000.0, "w": 0.001, "瓦": 0.001}
_UNIT_RE = re.compile(r"(kwp|kw|mwp|mw|千瓦|兆瓦|瓦|w)\s*$", re.I)


def _table(path: Path, sheet: str | int) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: file not found; check `inputs` in the config")
    if path.suffix.lower() == ".csv":
        frame = read_csv_cells(path)[0]
        frame.columns = frame.iloc[0].astype(str)
        return frame.iloc[1:].reset_index(drop=True)
    try:
        return pd.read_excel(path, sheet_name=sheet, dtype=object)
    except Exception as exc:
        raise InputError(f"{path}: cannot read sheet {sheet!r} ({exc})") from None


def _canonical(frame: pd.DataFrame, aliases: dict[str, tuple[str, ...]], path: Path, needed: tuple[str, ...]
               ) -> tuple[pd.DataFrame, dict[str, str]]:
    lookup = {header_key(a): k for k, names in aliases.items() for a in names}
    headers = {c: lookup.get(header_key(c)) for c in frame.columns}
    missing = [k for k in needed if k not in headers.values()]
    if missing:
        raise InputError(f"{path}: no column for {missing}; headers are {list(frame.columns)}. "
                         f"Accepted: " + "; ".join(f"{k}: {'/'.join(aliases[k][1:4])}" for k in missing))
    originals = {k: c for c, k in headers.items() if k}
    return frame[list(originals.values())].set_axis(list(originals), axis=1), originals


def _kw(values: pd.Series, header: str, unit_col: pd.Series | None, path: Path, rows: pd.Series
        ) -> tuple[pd.Series, list[Finding]]:
    """Capacity in kW from the header's unit, a unit column or a unit in the cell."""
    header_unit = re.search(r"[(（\[]\s*(\w+)\s*[)）\]]", header)
    scale = UNITS.get(header_unit.group(1).lower(), 1.0) if header_unit else None
    text = values.astype("string").str.strip()
    cell_unit = text.str.extract(_UNIT_RE, expand=False).str.lower()
    number = pd.to_numeric(text.str.replace(_UNIT_RE, "", regex=True).str.replace(",", ""), errors="coerce")
    unit = cell_unit
    if unit_col is not None:
        unit = unit.fillna(unit_col.astype("string").str.strip().str.lower())
    factor = unit.map(UNITS).astype(float)
    assumed = factor.isna() & (scale is None)
    kw = number * factor.fillna(scale if scale is not None else 1.0)
    findings = []
    in_mw = np.flatnonzero(unit.isin(["mw", "mwp", "兆瓦"]).fillna(False).to_numpy() | (scale == 1000.0))
    if len(in_mw):
        listed = ", ".join(str(int(r)) for r in rows.iloc[in_mw[:10]])
        findings.append(Finding("info", str(path), int(rows.iloc[in_mw[0]]), None, "kw", str(values.iloc[in_mw[0]]),
                                f"{len(in_mw)} capacities given in MW (rows {listed}{' …' if len(in_mw) > 10 else ''}), "
                                "read as kW × 1000", "nothing to do"))
    if assumed.any() and number[assumed].notna().any():
        findings.append(Finding("info", str(path), None, None, "kw", header,
                                f"{int(assumed.sum())} capacities without a unit read as kW",
                                "write the unit in the header, e.g. 装机容量(kW)"))
    for i in np.flatnonzero(number.isna() | (number <= 0)):
        findings.append(Finding("warning", str(path), int(rows.iloc[i]), None, "kw", str(values.iloc[i]),
                                "capacity is not a positive number; system left out",
                                "give the capacity in kW or MW"))
    return kw, findings


def _dates(values: pd.Series) -> pd.Series:
    """Dates written as 2025-06-01, 2025/6/1, 2025.6.1 or 2025年6月1日 (or typed in Excel)."""
    text = values.astype("string").str.strip().str.replace(r"[/.年月]", "-", regex=True).str.replace("日", "")
    return pd.to_datetime(text, errors="coerce", format="mixed")


def read_register(path: Path, sheet: str | int, crs: str) -> tuple[pd.DataFrame, list[Finding]]:
    """The register: one row per system, index ``system_id``, columns ``kw`` (kW, from
    any unit), ``connected`` (date), ``voltage_kv``, ``export_mode`` (code),
    ``project``, ``owner``, ``address``, ``township``, ``building_id``, ``row`` and
    ``geometry`` (points in ``crs`` where coordinates are given, else None)."""
    raw = _table(path, sheet)
    frame, originals = _canonical(raw, REGISTER_ALIASES, path, ("kw",))
    frame = frame.dropna(how="all")
    rows = pd.Series(frame.index + 2, index=frame.index)
    findings: list[Finding] = []
    kw, found = _kw(frame["kw"], originals["kw"], frame.get("unit"), path, rows)
    findings += found
    out = pd.DataFrame({"row": rows, "kw": kw}, index=frame.index)
    for col in ("project", "owner", "address", "township", "building_id"):
        out[col] = frame[col].astype("string").str.strip() if col in frame else pd.NA
    out["connected"] = _dates(frame["connected"]) if "connected" in frame else pd.NaT
    if "voltage_kv" in frame:
        volts = frame["voltage_kv"].astype("string").str.lower()
        value = pd.to_numeric(volts.str.extract(r"([\d.]+)", expand=False), errors="coerce")
        out["voltage_kv"] = np.where(volts.str.contains("kv|千伏", na=False), value, value / 1000.0)
    if "export_mode" in frame:
        out["export_mode"] = frame["export_mode"].astype("string").str.replace(r"[\s、，,]", "", regex=True).map(
            EXPORT_MODES)
    ids = frame["system_id"].astype("string").str.strip() if "system_id" in frame else pd.Series(pd.NA, index=frame.index)
    ids = ids.fillna(pd.Series([f"{path.stem}#{r}" for r in rows], index=frame.index))
    dup = ids.duplicated(keep="first")
    findings += [Finding("warning", str(path), int(rows[i]), None, "system_id", ids[i],
                         "system id repeated; numbered", "give every system its own 户号") for i in ids.index[dup]]
    ids = ids.where(~dup, ids + "#" + (ids.groupby(ids).cumcount() + 1).astype(str))
    out.index = pd.Index(ids.to_numpy(), name="system_id")
    geometry = None
    if "longitude" in frame and "latitude" in frame:
        lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy()
        lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy()
        ok = np.isfinite(lon) & np.isfinite(lat)
        pts = gpd.GeoSeries(gpd.points_from_xy(np.where(ok, lon, 0), np.where(ok, lat, 0)), crs="EPSG:4490")
        geometry = pts.to_crs(crs).where(ok, None).to_numpy()
    out["geometry"] = geometry
    missing = out["connected"].isna()
    if missing.any():
        findings.append(Finding("info", str(path), None, None, "connected", None,
                                f"{int(missing.sum())} systems without a connection date",
                                "give 并网日期; the pace of connections counts dated systems only"))
    return out[out["kw"] > 0], findings


def read_meters(path: Path, sheet: str | int = 0) -> tuple[pd.DataFrame, list[Finding]]:
    """Monthly metered generation: ``system_id``, ``month`` (Period), ``kwh``; long form
    (one row per system and month) or wide (one column per month, e.g. 2025-01)."""
    raw = _table(path, sheet)
    lookup = {header_key(a) for a in METER_ALIASES["month"]}
    findings: list[Finding] = []
    if not any(header_key(c) in lookup for c in raw.columns):
        frame, _ = _canonical(raw, {"system_id": METER_ALIASES["system_id"]}, path, ("system_id",))
        months = [c for c in raw.columns if re.fullmatch(r"\d{4}[-/.年]\d{1,2}月?", str(c).strip())]
        raw = raw.assign(system_id=frame["system_id"]).melt("system_id", months, var_name="month", value_name="kwh")
    frame, _ = _canonical(raw, METER_ALIASES, path, ("system_id", "month", "kwh"))
    month = frame["month"].astype("string").str.strip().str.replace(r"[年/.]", "-", regex=True).str.rstrip("月")
    out = pd.DataFrame({
        "system_id": frame["system_id"].astype("string").str.strip(),
        "month": pd.PeriodIndex(pd.to_datetime(month, errors="coerce"), freq="M"),
        "kwh": pd.to_numeric(frame["kwh"], errors="coerce"),
    })
    bad = out["month"].isna() | out["kwh"].isna() | (out["kwh"] < 0)
    for i in np.flatnonzero(bad):
        findings.append(Finding("warning", str(path), int(i) + 2, None, "kwh", str(frame["kwh"].iloc[i]),
                                "meter reading without a valid month or a kWh ≥ 0; left out",
                                "give 年月 as 2025-01 and 发电量 in kWh"))
    return out[~bad].reset_index(drop=True), findings
