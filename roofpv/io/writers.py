"""Writers: GeoPackage layers and tables, each written to a temporary file first and
moved into place, so a failed run never leaves a half-written file over a good one.

Every text cell of a CSV or XLSX file goes through :func:`safe_text` (the OWASP rules
against formula injection), and a disk or permission failure becomes an
:class:`OutputError` naming the path.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from roofpv.errors import OutputError
from roofpv.io.readers import gdal_options


def output_error(path: Path, exc: OSError) -> OutputError:
    """The :class:`OutputError` for ``exc`` raised while writing ``path``, saying what to do."""
    import errno

    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        fix = "free disk space, or write elsewhere with --out"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "make the folder writable, close the file if another program has it open, or use --out"
    else:
        fix = "check the folder and the disk, or write elsewhere with --out"
    return OutputError(f"{path}: cannot write ({reason}); {fix}")


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV
#: injection: = + - @ tab CR, and their full-width forms, which Excel also accepts).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_text(value):
    """``value`` made inert for spreadsheets: a text that starts like a formula
    (:data:`FORMULA_LEADS`) gets a leading apostrophe, as OWASP recommends; numbers,
    text holding a plain number (``-12.5``), lone dashes and non-text pass unchanged."""
    if (isinstance(value, str) and value.startswith(FORMULA_LEADS)
            and not _PLAIN_NUMBER.match(value) and value.strip("-")):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`safe_text` applied to every text cell and to the headers
    (one pass per text column, the distinct values only)."""
    out = frame.copy()
    out.columns = [safe_text(c) for c in frame.columns]
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            cells = col.to_numpy(dtype=object)
            codes, distinct = pd.factorize(cells, use_na_sentinel=True)
            if len(distinct) and any(safe_text(v) is not v for v in distinct):
                fixed = np.array([safe_text(v) for v in distinct] + [None], dtype=object)
                cells = np.where(codes >= 0, fixed[codes], cells)
                out.isetitem(j, pd.Series(cells, index=out.index, dtype=object))
    return out

#: Layer descriptions stored in gpkg_contents (shown by QGIS as layer metadata).
LAYER_DESCRIPTIONS = {
    "buildings": "roofpv: one row per input footprint with suitability, reasons, capacity and yield",
    "townships": "roofpv: coverage today and potential against the targets, per township",
    "roof_planes": "roofpv: roof planes measured from the DSM, with orientation, shading and yield",
    "pv_arrays": "roofpv: module rows of the layout on every roof that can carry PV (preview)",
    "unmatched_roofs": "roofpv: raised roofs of the DSM that no footprint covers (buildings missing from the register)",
    "rollout_plan": "roofpv: ranked roofs that close each township's gap, with build year",
    "surfaces": "roofpv: PV on surfaces beyond roofs (carports, corridors, tank covers, greenhouses, rural yards)",
    "transformers": "roofpv: 台区 transformers with DL/T 2041 hosting capacity, open capacity and grade",
    "changed_buildings": "roofpv compare: buildings that changed between two runs, with why",
    "layer_styles": "QGIS layer styles",
}
#: Geometry type of layers that may be written without features (an empty layer's type
#: cannot be inferred).
LAYER_GEOMETRY = {"unmatched_roofs": "MultiPolygon", "transformers": "Point", "surfaces": "MultiPolygon"}
#: GeoPackage version written: 1.3 is read by every GDAL ≥ 2.2 and QGIS 3, and passes the
#: validator of older GDAL releases (1.4 changed the R-tree triggers).
GPKG_VERSION = "1.3"
#: Name of the geometry column of every layer (QGIS finds a layer's styles by it).
GEOMETRY_COLUMN = "geom"
#: The GeoPackage schema extension (gpkg_data_columns), as the GeoPackage standard defines it.
DATA_COLUMNS_DDL = (
    ("CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, "
     "column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT, "
     "constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), "
     "CONSTRAINT gdc_tn UNIQUE (table_name, name))"),
    ("CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL, "
     "constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, "
     "max NUMERIC, max_is_inclusive BOOLEAN, description TEXT, "
     "CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))"),
)


#: Mark in the names of temporary files and folders (cleaned at the next run's start).
TMP_MARK = ".roofpv-tmp"


@contextmanager
def atomic(path: Path):
    """Yield a temporary path beside ``path``; move it onto ``path`` only on success."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise output_error(path, exc) from None
    os.close(fd)
    os.unlink(tmp)  # GDAL wants to create the file itself
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class Chunked:
    """A layer given as chunks that are written one after the other into it, so that
    only one chunk is in memory at a time. ``geometry_type`` and ``promote_to_multi``
    hold for the whole layer (:func:`layer_geometry`); the first chunk sets the fields."""

    chunks: Iterable[pd.DataFrame]
    geometry_type: str | None = None
    promote_to_multi: bool | None = None
    #: The chunks' ``geometry`` column holds WKB (``bytes``) in this CRS, not shapes.
    wkb_crs: str | None = None
    #: GeoParquet metadata of the whole layer's geometry (``geometry_types``, ``bbox``
    #: where known), which a file written a chunk at a time must state before its
    #: first chunk (:func:`write_geoparquet`); None: the first chunk's (a layer of one
    #: chunk, or without geometry).
    geo: dict | None = None


def layer_geometry(types: set, has_z: bool, driver: str = "GPKG") -> tuple[str, bool]:
    """Layer geometry type and whether to promote single to multi geometries, for a
    layer whose geometries have ``types`` (``geom_type`` values, None for missing): as
    pyogrio infers them from a whole GeoDataFrame, for a layer written in chunks."""
    present = sorted(t for t in types if t is not None)
    if not present:
        return "Unknown", False
    kind, promote = "Unknown", False
    if len(present) == 1:
        kind = present[0]
    elif len(present) == 2:
        pairs = {("MultiPolygon", "Polygon"), ("LineString", "MultiLineString"), ("MultiPoint", "Point")}
        if tuple(present) in pairs and driver in ("GPKG", "FlatGeobuf"):
            kind, promote = next(t for t in present if t.startswith("Multi")), True
    if has_z and kind != "Unknown":
        kind = f"{kind} Z"
    return kind, promote


#: ``geom_type`` of the WKB geometry type codes.
WKB_TYPES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
             6: "MultiPolygon", 7: "GeometryCollection"}


def wkb_types(column) -> tuple[set, bool]:
    """Geometry types (``geom_type`` names, None for a missing geometry) in a pyarrow
    column of WKB (ISO or extended) and whether any non-empty geometry has Z, read from
    each geometry's 5-byte header without decoding it."""
    import pyarrow as pa

    types, has_z = set(), False
    for array in column.chunks:
        array = array.storage if isinstance(array, pa.ExtensionArray) else array
        if len(array) == 0:
            continue
        wide = pa.types.is_large_binary(array.type)
        offsets = np.frombuffer(array.buffers()[1], np.int64 if wide else np.int32)
        offsets = offsets[array.offset: array.offset + len(array) + 1]
        data = np.frombuffer(array.buffers()[2], np.uint8) if array.buffers()[2] else np.zeros(5, np.uint8)
        valid = ~array.is_null().to_numpy(zero_copy_only=False)
        if not valid.all():
            types.add(None)
        start = offsets[:-1][valid]
        if not len(start):
            continue
        head = data[np.minimum(start[:, None] + np.arange(5), len(data) - 1)].astype(np.uint32)
        little = head[:, 0] == 1
        code = np.where(little, head[:, 1] | head[:, 2] << 8 | head[:, 3] << 16 | head[:, 4] << 24,
                        head[:, 4] | head[:, 3] << 8 | head[:, 2] << 16 | head[:, 1] << 24)
        plain = code & 0x0FFFFFFF
        types |= {WKB_TYPES.get(int(t), "Unknown") for t in np.unique(plain % 1000)}
        z = ((code & 0x80000000) != 0) | np.isin(plain // 1000, (1, 3))
        empty = (offsets[1:] - offsets[:-1])[valid] <= 9  # header and a zero count
        has_z = has_z or bool((z & ~empty).any())
    return types, has_z


def write_geopackage(path: Path, layers: dict[str, pd.DataFrame | Chunked], styles=(),
                     aliases: dict[str, dict[str, str]] | None = None,
                     progress: Callable[[str], None] = lambda layer: None) -> None:
    """Write each GeoDataFrame (or :class:`Chunked` layer) as a layer of a new
    GeoPackage at ``path`` (with a spatial index), then the QGIS ``styles``
    (:class:`roofpv.qgis.styles.Style`) as table ``layer_styles`` and the field ``aliases``
    (layer → column → alias) into ``gpkg_data_columns``; ``progress(layer)`` is called
    as each layer starts."""
    with atomic(path) as tmp, gdal_options(**UNSYNCED):
        for name, layer in layers.items():
            progress(name)
            options = {"DESCRIPTION": LAYER_DESCRIPTIONS.get(name, name),
                       "GEOMETRY_NAME": GEOMETRY_COLUMN}
            chunked = layer if isinstance(layer, Chunked) else Chunked([layer])
            first = {"layer_options": options, "dataset_options": {"VERSION": GPKG_VERSION}}
            if chunked.wkb_crs is not None:
                _write_wkb(chunked, tmp, name, **first)
                continue
            for i, frame in enumerate(chunked.chunks):
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG",
                                        geometry_type=chunked.geometry_type or LAYER_GEOMETRY.get(name),
                                        promote_to_multi=chunked.promote_to_multi,
                                        append=i > 0, use_arrow=True,  # through Arrow: about twice as fast
                                        **({} if i else first))
        if styles:
            _write_styles(tmp, styles)
        if aliases:
            _write_aliases(tmp, aliases)
        _fsync(tmp)


#: SQLite settings of a GeoPackage being written: no wait for the disk after each of the
#: many transactions a layer takes (about a second of waiting for the sample's eleven
#: layers), and the rollback journal in memory. The file is a temporary one, moved into
#: place only once complete and flushed to disk (:func:`_fsync`), so a crash half way
#: loses nothing that the journal would have saved.
UNSYNCED = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_JOURNAL": "MEMORY"}


def _fsync(path: Path) -> None:
    """Flush ``path`` to disk (before it is moved into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_wkb(chunked: Chunked, path: Path, layer: str, **options) -> None:
    """A layer whose chunks hold WKB in ``geometry``, as one Arrow stream (one layer
    creation, the spatial index built once at the end), with the fields and types
    :func:`pyogrio.write_dataframe` would give the whole GeoDataFrame, without decoding
    and re-encoding the shapes."""
    import pyarrow as pa
    import pyproj

    tables = (_arrow_chunk(frame, chunked.promote_to_multi) for frame in chunked.chunks)
    head = next(tables, None)
    if head is None:
        return
    schema = head.schema
    first = [head]  # memory: the first chunk let go once written, as every other
    del head

    def batches():
        yield from first.pop().to_batches()
        for table in tables:
            yield from table.select(schema.names).cast(schema).to_batches()

    crs = pyproj.CRS(chunked.wkb_crs)
    epsg = crs.to_epsg()
    pyogrio.write_arrow(pa.RecordBatchReader.from_batches(schema, batches()), path, layer=layer,
                        driver="GPKG", geometry_name="geometry", geometry_type=chunked.geometry_type,
                        crs=f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL"), **options)


def _arrow_chunk(frame: pd.DataFrame, promote: bool | None):
    """``frame`` (geometry as WKB) as the Arrow table pyogrio writes for a GeoDataFrame:
    single geometries promoted to multi where the layer mixes them, object columns that
    Arrow cannot type as text, null columns as text."""
    import pyarrow as pa
    import shapely

    frame = pd.DataFrame(frame, copy=False)
    if promote:  # rare: polygons beside multipolygons
        shapes = shapely.from_wkb(frame["geometry"].to_numpy())
        kinds = shapely.get_type_id(shapes)
        for type_id, make in {0: shapely.multipoints, 1: shapely.multilinestrings,
                              3: shapely.multipolygons}.items():
            mask = kinds == type_id
            if mask.any():
                shapes[mask] = make(np.atleast_2d(shapes[mask]), axis=0)
        frame = frame.assign(geometry=shapely.to_wkb(shapes))
    for column in frame.columns:
        if column != "geometry" and frame[column].dtype == object:
            if pd.api.types.infer_dtype(frame[column]) not in ("string", "empty"):
                try:
                    pa.Schema.from_pandas(frame[[column]])
                except pa.ArrowInvalid:
                    frame[column] = frame[column].astype("string")
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type) or (field.name == "geometry" and not pa.types.is_binary(field.type)):
            kind = pa.binary() if field.name == "geometry" else pa.string()
            table = table.set_column(i, field.with_type(kind), table[i].cast(kind))
    return table


def _write_styles(path: Path, styles) -> None:
    """Table ``layer_styles`` in QGIS's layout; QGIS applies the ``useAsDefault`` row of
    a layer when it opens the layer."""
    now = pd.Timestamp.now(tz="UTC").floor("s").tz_localize(None)
    table = pd.DataFrame({
        "f_table_catalog": "", "f_table_schema": "",
        "f_table_name": [s.layer for s in styles],
        "f_geometry_column": GEOMETRY_COLUMN,
        "styleName": [s.name for s in styles], "styleQML": [s.qml for s in styles],
        "styleSLD": "", "useAsDefault": [s.default for s in styles],
        "description": [s.description for s in styles], "owner": "", "ui": "",
        "update_time": now,
    })
    pyogrio.write_dataframe(table, path, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id", "DESCRIPTION": LAYER_DESCRIPTIONS["layer_styles"]})


def _write_aliases(path: Path, aliases: dict[str, dict[str, str]]) -> None:
    """Field aliases as ``gpkg_data_columns.name`` (read by GDAL ≥ 3.7 as the fields'
    alternative names), registering the GeoPackage schema extension."""
    rows = [(layer, column, alias) for layer, cols in aliases.items() for column, alias in cols.items()]
    extension = "http://www.geopackage.org/spec/#extension_schema"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")  # flushed once at the end (:func:`_fsync`)
        for ddl in DATA_COLUMNS_DDL:
            db.execute(ddl)
        for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
            db.execute("DELETE FROM gpkg_extensions WHERE table_name = ? AND extension_name = "
                       "'gpkg_schema'", (table,))
            db.execute("INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
                       (table, extension))
        db.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name) "
                       "VALUES (?, ?, ?)", rows)
    db.close()


def write_qgis_project(path: Path, qgs: str) -> None:
    """A ``.qgz`` project: the ``.qgs`` document ``qgs`` zipped under the same stem."""
    with atomic(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{path.stem}.qgs", qgs)


def write_folder(path: Path, files: dict[str, bytes]) -> None:
    """A folder holding exactly ``files`` (plain file name → content): written beside
    ``path`` and swapped in whole, replacing an earlier folder of that name."""
    for name in files:
        if name in ("", ".", "..") or "/" in name or "\\" in name or Path(name).name != name:
            raise ValueError(f"{name!r} is not a plain file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{TMP_MARK}.", dir=path.parent))
    except OSError as exc:
        raise output_error(path, exc) from None
    tmp.chmod(0o755)  # mkdtemp makes it private
    old = path.with_name(f".{path.name}{TMP_MARK}.old.{os.getpid()}")
    try:
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """A UTF-8 text file (HTML page, config), written atomically."""
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_geoparquet(path: Path, frame: gpd.GeoDataFrame | pd.DataFrame | Chunked) -> None:
    """One layer as GeoParquet (for large runs: fast to write and to read). A
    :class:`Chunked` layer is written a chunk at a time, one row group each, so that
    only one chunk is held: each chunk converted as ``GeoDataFrame.to_parquet`` converts
    a frame, the file's metadata that of the whole layer (``Chunked.geo``); it reads
    back as the whole layer written at once would."""
    if not isinstance(frame, Chunked):
        with atomic(path) as tmp:
            frame.to_parquet(tmp)
        return
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    from geopandas.io.arrow import _geopandas_to_arrow  # the conversion of GeoDataFrame.to_parquet

    with atomic(path) as tmp:
        writer = None
        try:
            for chunk in frame.chunks:
                if frame.wkb_crs is not None:
                    chunk = gpd.GeoDataFrame(chunk.assign(geometry=gpd.GeoSeries.from_wkb(chunk["geometry"])),
                                             geometry="geometry", crs=frame.wkb_crs)
                table = (_geopandas_to_arrow(chunk, index=False) if isinstance(chunk, gpd.GeoDataFrame)
                         else pa.Table.from_pandas(chunk, preserve_index=False))
                if writer is None:
                    metadata = dict(table.schema.metadata or {})
                    if frame.geo is not None and b"geo" in metadata:
                        geo = json.loads(metadata[b"geo"])
                        column = geo["columns"][geo["primary_column"]]
                        column.pop("bbox", None)
                        column.update(frame.geo)
                        metadata[b"geo"] = json.dumps(geo).encode()
                    schema = table.schema.with_metadata(metadata)
                    writer = pq.ParquetWriter(tmp, schema)
                writer.write_table(table.select(schema.names).cast(schema))
                del table, chunk
        finally:
            if writer is not None:
                writer.close()


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """CSV in UTF-8 with a byte-order mark, so Excel shows Chinese correctly; text cells
    made inert (:func:`safe_text`). Lines end in CRLF (RFC 4180), so a cell holding a
    bare CR is quoted rather than read as a line break."""
    with atomic(path) as tmp:
        safe_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")


#: Chinese headers of the findings workbook, by findings column.
FINDING_HEADERS = {
    "level": "级别 level", "file": "文件 file", "sheet": "工作表 sheet", "row": "行 row",
    "building_id": "建筑编号 building id", "column": "列 column", "value": "值 value",
    "problem": "问题 problem", "fix": "处理建议 fix",
}


def write_findings_workbook(path: Path, findings: pd.DataFrame, summary: pd.DataFrame) -> None:
    """Validation report: a summary sheet and one row per finding, header frozen.

    Written row by row with XlsxWriter's constant-memory mode (200k findings take a few
    seconds); text cells pass :func:`safe_text` and are stored as strings, never as
    formulas or links.
    """
    import xlsxwriter

    columns = list(FINDING_HEADERS)
    sheets = {
        "汇总 summary": summary,
        "问题清单 findings": findings[columns].rename(columns=FINDING_HEADERS),
    }
    with atomic(path) as tmp:
        book = xlsxwriter.Workbook(tmp, {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False,
                                         "tmpdir": str(path.parent)})
        bold = book.add_format({"bold": True})
        for title, frame in sheets.items():
            sheet = book.add_worksheet(title)
            sheet.freeze_panes(1, 0)
            frame = safe_frame(frame)
            for j, column in enumerate(frame.columns):
                head = [len(str(v)) for v in frame.iloc[:200, j] if not pd.isna(v)]
                sheet.set_column(j, j, min(60, 4 + 1.6 * max([len(str(column)), *head])))
            sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
            for i, row in enumerate(_rows(frame), start=1):
                sheet.write_row(i, 0, row)
        book.close()


def _rows(frame: pd.DataFrame):
    """Rows of ``frame`` as lists of Python values for openpyxl: NaN/NA → empty cell,
    whole floats of integer-like columns as int."""
    cols = []
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        values = col.to_numpy(dtype=object)
        values = np.where(pd.isna(values), None, values)
        if pd.api.types.is_float_dtype(col.dtype):
            whole = col.dropna()
            if len(whole) and (whole == whole.round()).all():
                values = np.array([None if v is None else int(v) for v in values], dtype=object)
        cols.append(values.tolist())
    return zip(*cols) if cols else iter(())
