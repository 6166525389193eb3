"""Readers for footprints, survey tables and township boundaries."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..errors import RoofpvError
from ..findings import Finding
from ..georef import resolve_crs
from ..survey import SurveyError, locate_header, normalise_survey


class InputError(RoofpvError):
    """An input file that cannot be used; the message names the file and what to do."""


def _read_layer(path: Path, layer: str | None, what: str) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; check `inputs` in the config")
    try:
        with warnings.catch_warnings():
            # GDAL renumbers GeoJSON features whose `id` repeats; the id column is checked
            # and repeated ids are reported as findings.
            warnings.filterwarnings("ignore", message="Several features with id", category=RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise InputError(f"{path}: cannot read {what} ({exc})") from None
    if frame.geometry.isna().all() or frame.geometry.is_empty.all():
        raise InputError(f"{path}: {what} layer has no geometries")
    crs, findings = resolve_crs(frame.crs, frame.total_bounds, str(path))
    if crs is None:
        raise InputError(f"{path}: {findings[0].problem}; {findings[0].fix}")
    return frame.set_crs(crs, allow_override=True), findings


def read_footprints(
    path: Path, layer: str | None = None, id_column: str = "building_id"
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Building footprints indexed by ``building_id`` (string), geometry and the layer's
    other columns as found.

    Every feature is kept: a blank id becomes ``<file>#<feature number>`` and a repeated
    id gets ``#2``, ``#3`` …, each reported.
    """
    frame, findings = _read_layer(path, layer, "footprints")
    if id_column not in frame.columns:
        raise InputError(
            f"{path}: footprints have no id column {id_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.footprints_id_column"
        )
    raw = frame[id_column].astype("string").str.strip()
    feature = pd.RangeIndex(1, len(frame) + 1)
    missing = (raw.isna() | (raw == "")).to_numpy()
    ids = raw.fillna("").to_numpy(dtype=object)
    ids[missing] = [f"{path.stem}#{n}" for n in feature[missing]]
    findings += [
        Finding("warning", str(path), n, bid, id_column, None, f"feature has no {id_column}; named {bid}",
                "give every footprint an id that the survey uses")
        for n, bid in zip(feature[missing], ids[missing])
    ]
    repeat = pd.Series(ids).groupby(ids).cumcount().to_numpy()
    for i in map(int, (repeat > 0).nonzero()[0]):
        new = f"{ids[i]}#{repeat[i] + 1}"
        findings.append(Finding(
            "warning", str(path), int(feature[i]), new, id_column, ids[i],
            f"duplicate {id_column}; this footprint is kept as {new} and gets no survey row",
            "give each footprint its own id, or delete the duplicate",
        ))
        ids[i] = new
    frame = frame.drop(columns=id_column).set_index(pd.Index(ids.astype(str), name="building_id"))
    return frame, findings


def read_townships(
    path: Path, layer: str | None, name_column: str
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Township polygons indexed by name."""
    frame, findings = _read_layer(path, layer, "townships")
    if name_column not in frame.columns:
        raise InputError(
            f"{path}: townships have no name column {name_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.townships_name_column"
        )
    frame = frame.rename(columns={name_column: "township"})
    return frame.set_index(frame["township"].astype(str).str.strip()).drop(columns="township"), findings


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
    table, found = normalise_survey(raw, str(path), sheet_name, first_row=first + 1,
                                    typed=suffix != ".csv")
    return table, findings + found


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, header=None, dtype=object, encoding=encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: not readable as UTF-8 or GB18030 text; save it as UTF-8 CSV")


#: Columns of the transformers table.
TRANSFORMER_COLUMNS = ("id", "kva", "existing_pv_kw", "min_load_kw")


def read_transformers(path: Path, layer: str | None = None) -> pd.DataFrame:
    """Transformers table (CSV, XLSX or any vector layer GDAL reads), indexed by ``id``.

    Columns: ``kva`` (rating, kVA), ``existing_pv_kw`` (PV already connected, kW) and
    ``min_load_kw`` (minimum load, kW).
    """
    if not path.exists():
        raise InputError(f"{path}: transformers file not found; check `grid.transformers` in the config")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype={"id": str}, encoding="utf-8-sig")
    elif suffix in (".xlsx", ".xls"):
        frame = pd.read_excel(path, sheet_name=layer or 0, dtype={"id": str})
    else:
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    missing = set(TRANSFORMER_COLUMNS) - set(frame.columns)
    if missing:
        raise InputError(f"{path}: the transformers table needs columns {sorted(missing)}")
    frame = frame.loc[:, list(TRANSFORMER_COLUMNS)].astype({"id": str}).set_index("id")
    if frame.index.duplicated().any():
        raise InputError(f"{path}: transformer ids repeat: {sorted(set(frame.index[frame.index.duplicated()]))}")
    return frame.apply(pd.to_numeric, errors="coerce")


def layer_text(path: Path, layer: str | None = None, limit: int = 1000) -> list[str]:
    """The words of a vector layer that may say where it came from: file and layer
    name, field names, metadata and up to ``limit`` distinct values of each text field."""
    info = pyogrio.read_info(path, layer=layer)
    texts = [path.name, str(info["layer_name"]), *map(str, info["fields"]),
             str(info["layer_metadata"]), str(info["dataset_metadata"])]
    text_fields = [f for f, t in zip(info["fields"], info["dtypes"]) if t == "object"]
    if text_fields:
        frame = pyogrio.read_dataframe(path, layer=layer, columns=text_fields, read_geometry=False)
        for column in text_fields:
            texts += frame[column].dropna().astype(str).unique()[:limit].tolist()
    return texts
