"""Readers for footprints, survey tables, township boundaries and transformers.

A file that cannot be read at all stops the run with an :class:`InputError` naming the
file and what to do; everything readable is read, and each problem becomes a finding.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from roofpv.errors import InputError, SurveyError
from roofpv.findings import Finding
from roofpv.inputs.georef import resolve_crs
from roofpv.inputs.ids import REPAIRS, clean_ids
from roofpv.inputs.survey_table import locate_header, normalise_survey, unit_key


def read_vector(path: Path, layer: str | None = None, **options) -> pd.DataFrame:
    """:func:`pyogrio.read_dataframe` of an input layer. GDAL renumbers GeoJSON features
    whose ``id`` repeats and warns once per layer; that warning is not shown, since the
    id column is checked and repeated ids are reported as findings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Several features with id", category=RuntimeWarning)
        return pyogrio.read_dataframe(path, layer=layer, **options)


def read_layer(path: Path, layer: str | None, what: str) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """A polygon layer with its CRS resolved (and the findings about it); a message
    naming the file for one that is missing, empty, unreadable or not polygons."""
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; check `inputs` in the config")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: {what} file is empty (0 bytes); export the layer again")
    try:
        frame = read_vector(path, layer)
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise InputError(f"{path}: cannot read {what} ({exc}); open it in QGIS to check it, "
                         "or export it again as GeoPackage") from None
    if frame.geometry.isna().all() or frame.geometry.is_empty.all():
        raise InputError(f"{path}: {what} layer has no geometries; point the config at the "
                         "layer with the outlines")
    kinds = shapely.get_type_id(frame.geometry.to_numpy())
    if not np.isin(kinds, (3, 6)).any():
        found = sorted(set(frame.geometry.geom_type.dropna()))
        raise InputError(f"{path}: {what} layer holds {', '.join(found)} geometries, not polygons; "
                         f"point the config at a polygon layer of {what} outlines")
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
    frame, findings = read_layer(path, layer, "footprints")
    if id_column not in frame.columns:
        raise InputError(
            f"{path}: footprints have no id column {id_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.footprints_id_column"
        )
    raw, repaired = clean_ids(frame[id_column])
    feature = pd.RangeIndex(1, len(frame) + 1)
    findings += [
        Finding("warning", str(path), int(feature[rows[0]]), raw.iloc[rows[0]], id_column,
                repr(frame[id_column].iloc[rows[0]]),
                f"{len(rows):,} ids {REPAIRS[repair]}; read as {raw.iloc[rows[0]]!r}",
                "store the ids as text, as the survey writes them")
        for repair, rows in repaired.items()
    ]
    missing = raw.isna().to_numpy()
    ids = raw.fillna("").to_numpy(dtype=object, copy=True)
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
    """Township polygons indexed by name, one row per name.

    A polygon without a name is named ``<file>#<feature number>``; polygons sharing a
    name are merged into one township (so it is counted once and gets one page); each
    is reported.
    """
    frame, findings = read_layer(path, layer, "townships")
    if name_column not in frame.columns:
        raise InputError(
            f"{path}: townships have no name column {name_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.townships_name_column"
        )
    names, _ = clean_ids(frame[name_column])
    feature = np.arange(1, len(frame) + 1)
    for n in feature[names.isna().to_numpy()]:
        names.iloc[n - 1] = f"{path.stem}#{n}"
        findings.append(Finding("warning", str(path), int(n), None, name_column, None,
                                f"township polygon has no name; called {names.iloc[n - 1]}",
                                f"fill in {name_column} for every township polygon"))
    frame = frame.drop(columns=name_column).set_index(pd.Index(names.to_numpy(dtype=object), name="township"))
    repeated = frame.index[frame.index.duplicated()].unique()
    for name in repeated:
        rows = [int(n) for n in feature[frame.index == name]]
        findings.append(Finding("warning", str(path), rows[1], None, name_column, name,
                                f"{len(rows)} township polygons (features {rows}) share the name "
                                f"{name!r}; merged into one township",
                                "give each township its own name, or merge the parts in QGIS"))
    if len(repeated):
        frame = frame.dissolve(level=0, sort=False, aggfunc="first")
    return frame, findings


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
    if path.stat().st_size == 0:
        raise InputError(f"{path}: survey file is empty (0 bytes); save or export the survey again")
    if suffix in (".xlsx", ".xlsm"):
        try:
            cells = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, engine="calamine")
        except ValueError as exc:
            if "Worksheet" in str(exc) or "sheet" in str(exc).lower():
                raise InputError(f"{path}: cannot read sheet {sheet!r} ({exc}); set inputs.survey_sheet "
                                 "to one of the workbook's sheets") from None
            raise InputError(f"{path}: not a readable XLSX workbook ({exc}); open it in Excel or WPS "
                             "and save it again as .xlsx") from None
        except Exception as exc:  # zipfile, XML and I/O errors of a damaged or truncated file
            raise InputError(f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc}); "
                             "the file may be truncated or not XLSX: open it in Excel or WPS and "
                             "save it again as .xlsx") from None
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
    if suffix == ".csv":
        raw, found = _ragged_rows(raw, columns, str(path), first + 1)
        findings += found
    table, found = normalise_survey(raw, str(path), sheet_name, first_row=first + 1,
                                    typed=suffix != ".csv")
    return table, findings + found


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    """All cells of a CSV file as text, and its encoding. Rows of unequal length (a
    comma inside a cell without quotes) are kept, padded with blanks."""
    data = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"{path}: not readable as UTF-8 or GB18030 text; save it as UTF-8 CSV")
    if not text.strip():
        raise InputError(f"{path}: survey file has no text; export the survey sheet again as CSV")
    try:
        return pd.read_csv(io.StringIO(text), header=None, dtype=object), encoding
    except Exception:  # a ragged row or a damaged line: read row by row
        pass
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(f"{path}: not readable as CSV ({exc}); open it in Excel or WPS and save "
                         "it again as CSV UTF-8") from None
    width = max(map(len, rows), default=0)
    cells = [[c if c != "" else None for c in row] + [None] * (width - len(row)) for row in rows]
    return pd.DataFrame(cells, dtype=object), encoding


def _ragged_rows(raw: pd.DataFrame, columns: list[str], source: str, first_row: int
                 ) -> tuple[pd.DataFrame, list[Finding]]:
    """Leave out the CSV rows with cells beyond the header (an unquoted comma shifted
    their cells), each reported."""
    named = [j for j, c in enumerate(columns) if not c.startswith("column ")]
    width = named[-1] + 1 if named else 0
    if width >= raw.shape[1]:
        return raw, []
    extra = raw.iloc[:, width:].notna().to_numpy() & (raw.iloc[:, width:].astype(str) != "").to_numpy()
    ragged = extra.any(axis=1)
    if not ragged.any():
        return raw, []
    id_col = next((c for c in columns if c in raw.columns and _is_id(c)), columns[0])
    findings = [
        Finding("error", source, first_row + int(i), _text(raw.iloc[i][id_col]), None, None,
                f"row has {width + int(np.flatnonzero(extra[i]).max()) + 1} cells but the header "
                f"has {width} (a comma inside a cell without quotes?); the row is skipped",
                "put the cell in double quotes or remove the comma, then export the CSV again")
        for i in np.flatnonzero(ragged)
    ]
    return raw.loc[~ragged], findings


def _is_id(header: str) -> bool:
    from roofpv.schema import HEADER_LOOKUP, header_key

    return HEADER_LOOKUP.get(header_key(header)) == "building_id"


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


#: Columns of the transformers table.
TRANSFORMER_COLUMNS = ("id", "kva", "existing_pv_kw", "min_load_kw")
#: Units each transformer number may carry (after :func:`roofpv.inputs.survey_table.unit_key`) →
#: factor to the column's unit (kVA, kW).
TRANSFORMER_UNITS = {
    "kva": {"": 1.0, "kva": 1.0, "千伏安": 1.0, "mva": 1000.0, "兆伏安": 1000.0},
    "existing_pv_kw": {"": 1.0, "kw": 1.0, "kwp": 1.0, "mw": 1000.0, "mwp": 1000.0},
    "min_load_kw": {"": 1.0, "kw": 1.0, "mw": 1000.0},
}
#: What an unreadable value of each column is taken as, and why (never "unlimited").
TRANSFORMER_FALLBACK = {
    "kva": (0.0, "taken as 0 kVA: no PV is admitted on this transformer until its rating is given"),
    "existing_pv_kw": (0.0, "taken as 0 kW of PV already connected"),
    "min_load_kw": (0.0, "taken as 0 kW minimum load (no load credited)"),
}
_QUANTITY = re.compile(r"^(?P<num>[+-]?(\d+(\.\d*)?|\.\d+))(?P<unit>.*)$")


def read_transformers(path: Path, layer: str | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Transformers table (CSV, XLSX or any vector layer GDAL reads), indexed by ``id``,
    and its findings.

    Columns: ``kva`` (rating, kVA), ``existing_pv_kw`` (PV already connected, kW) and
    ``min_load_kw`` (minimum load, kW). Numbers may carry a unit (``100kVA``, ``0.5MW``);
    an unreadable or negative value is an error finding and takes the conservative
    value of :data:`TRANSFORMER_FALLBACK`, so no transformer is ever read as unlimited.
    """
    if not path.exists():
        raise InputError(f"{path}: transformers file not found; check `grid.transformers` in the config")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: transformers file is empty (0 bytes); export the table again")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = _read_csv(path)[0]
            frame = frame.iloc[1:].set_axis([str(c).strip() for c in frame.iloc[0]], axis=1)
            first = 2
        elif suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, sheet_name=layer or 0, dtype=object, engine="calamine")
            first = 2
        else:
            frame = read_vector(path, layer, read_geometry=False)
            first = 1
    except InputError:
        raise
    except Exception as exc:  # damaged file: zip, XML, GDAL or parser errors
        raise InputError(f"{path}: cannot read the transformers table ({type(exc).__name__}: {exc}); "
                         "open it in Excel, WPS or QGIS and save it again") from None
    missing = set(TRANSFORMER_COLUMNS) - set(frame.columns)
    if missing:
        raise InputError(f"{path}: the transformers table needs columns {sorted(missing)}; "
                         f"found {[str(c) for c in frame.columns]}")
    frame = frame.loc[:, list(TRANSFORMER_COLUMNS)]
    frame.index = np.arange(first, first + len(frame))
    ids, _ = clean_ids(frame["id"])
    findings = [
        Finding("error", str(path), int(row), None, "id", None,
                "transformer has no id; the row is left out", "fill in the transformer id")
        for row in ids.index[ids.isna()]
    ]
    frame, ids = frame.loc[ids.notna()], ids[ids.notna()]
    repeated = sorted(set(ids[ids.duplicated()]))
    if repeated:
        raise InputError(f"{path}: transformer ids repeat: {repeated}; give each transformer its own id")
    out = pd.DataFrame(index=pd.Index(ids.to_numpy(dtype=object), name="id"))
    for column in TRANSFORMER_COLUMNS[1:]:
        units = TRANSFORMER_UNITS[column]
        fallback, meaning = TRANSFORMER_FALLBACK[column]
        values = []
        for row, bid, value in zip(frame.index, ids, frame[column]):
            if column != "kva" and _text(value) is None:
                values.append(np.nan)  # blank: none connected / no load credited
                continue
            number = _quantity(value, units)
            if number is None:
                findings.append(Finding(
                    "error", str(path), int(row), bid, column, None if _text(value) is None else str(value),
                    f"not a number in a known unit; {meaning}",
                    f"write a plain number in {'kVA' if column == 'kva' else 'kW'}"))
                number = fallback
            values.append(number)
        out[column] = np.asarray(values, dtype=float)
    return out, findings


def _quantity(value, units: dict[str, float]) -> float | None:
    """A non-negative number with an optional unit of ``units``, in the column's unit;
    None when blank, unreadable or negative."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        number = float(value)
        return number if np.isfinite(number) and number >= 0 else None
    if _text(value) is None:
        return None
    match = _QUANTITY.match(unit_key(str(value)).replace(",", ""))
    if match is None or match["unit"] not in units:
        return None
    number = float(match["num"]) * units[match["unit"]]
    return number if number >= 0 else None


def layer_text(path: Path, layer: str | None = None, limit: int = 1000) -> list[str]:
    """The words of a vector layer that may say where it came from: file and layer
    name, field names, metadata and up to ``limit`` distinct values of each text field."""
    info = pyogrio.read_info(path, layer=layer)
    texts = [path.name, str(info["layer_name"]), *map(str, info["fields"]),
             str(info["layer_metadata"]), str(info["dataset_metadata"])]
    text_fields = [f for f, t in zip(info["fields"], info["dtypes"]) if t == "object"]
    if text_fields:
        frame = read_vector(path, layer, columns=text_fields, read_geometry=False, use_arrow=True)
        for column in text_fields:
            texts += frame[column].dropna().astype(str).unique()[:limit].tolist()
    return texts
