"""Readers for footprints, survey tables and township boundaries."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..findings import Finding
from ..survey import SurveyError, locate_header, normalise_survey


class InputError(ValueError):
    """An input file that cannot be used; the message names the file and what to do."""


def _read_layer(path: Path, layer: str | None, what: str) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; check `inputs` in the config")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise InputError(f"{path}: cannot read {what} ({exc})") from None
    if frame.crs is None:
        raise InputError(f"{path}: {what} layer has no CRS; assign one (e.g. EPSG:4490) in QGIS")
    return frame


def read_footprints(path: Path, layer: str | None = None, id_column: str = "building_id"):
    """Building footprints indexed by ``building_id`` (string), geometry as found."""
    frame = _read_layer(path, layer, "footprints")
    if id_column not in frame.columns:
        raise InputError(
            f"{path}: footprints have no id column {id_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.footprints_id_column"
        )
    ids = frame[id_column].astype("string").str.strip()
    missing = ids.isna() | (ids == "")
    if missing.any():
        rows = (missing[missing].index[:5] + 1).tolist()
        raise InputError(f"{path}: {int(missing.sum())} footprints without {id_column} (features {rows} …)")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(
            f"{path}: duplicate {id_column} values {sorted(set(dup))[:5]}; ids must be unique"
        )
    frame = frame[["geometry"]].set_index(pd.Index(ids.astype(str).to_numpy(), name="building_id"))
    return frame


def read_townships(path: Path, layer: str | None, name_column: str) -> gpd.GeoDataFrame:
    """Township polygons indexed by name."""
    frame = _read_layer(path, layer, "townships")
    if name_column not in frame.columns:
        raise InputError(
            f"{path}: townships have no name column {name_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.townships_name_column"
        )
    frame = frame.rename(columns={name_column: "township"})
    return frame.set_index(frame["township"].astype(str).str.strip()).drop(columns="township")


#: Encodings tried, in order, for survey CSV files (GB18030 covers GBK and GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_survey(path: Path, sheet: str | int = 0) -> tuple[pd.DataFrame, list[Finding]]:
    """Survey workbook (XLSX) or CSV → canonical survey table and findings.

    The header row is found among the first rows (titles above it and two- or
    three-row headers are fine); CSV files may be UTF-8 or GBK/GB18030.
    """
    if not path.exists():
        raise InputError(f"{path}: survey file not found; check inputs.survey in the config")
    findings: list[Finding] = []
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            cells = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, engine="openpyxl")
        except (ValueError, KeyError) as exc:
            raise InputError(f"{path}: cannot read sheet {sheet!r} ({exc})") from None
        sheet_name = sheet if isinstance(sheet, str) else None
    elif suffix == ".csv":
        cells, encoding = _read_csv(path)
        sheet_name = None
        if encoding != CSV_ENCODINGS[0]:
            findings.append(Finding(
                "info", str(path), None, None, None, None, f"file is encoded in {encoding}, not UTF-8",
                "nothing to do; save as UTF-8 CSV to share it with other tools",
            ))
    else:
        raise InputError(f"{path}: survey must be .xlsx or .csv")
    try:
        columns, first = locate_header(cells)
    except SurveyError as exc:
        raise InputError(f"{path}: {exc}") from None
    raw = cells.iloc[first:].set_axis(columns, axis=1)
    table, found = normalise_survey(raw, str(path), sheet_name, first_row=first + 1)
    return table, findings + found


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, header=None, dtype=object, encoding=encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: not readable as UTF-8 or GB18030 text; save it as UTF-8 CSV")
