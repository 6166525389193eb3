"""Writers: GeoPackage layers and tables, each written to a temporary file first and
moved into place, so a failed run never leaves a half-written file over a good one."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

#: Layer descriptions stored in gpkg_contents (shown by QGIS as layer metadata).
LAYER_DESCRIPTIONS = {
    "buildings": "roofpv: one row per input footprint with suitability, reasons, capacity and yield",
    "townships": "roofpv: coverage today and potential against the targets, per township",
    "roof_planes": "roofpv: roof planes measured from the DSM, with orientation, shading and yield",
    "pv_arrays": "roofpv: module rows of the layout on every roof that can carry PV (preview)",
    "rollout_plan": "roofpv: ranked roofs that close each township's gap, with build year",
    "changed_buildings": "roofpv compare: buildings that changed between two runs, with why",
    "layer_styles": "QGIS layer styles",
}
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


@contextmanager
def _atomic(path: Path):
    """Yield a temporary path beside ``path``; move it onto ``path`` only on success."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL wants to create the file itself
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_geopackage(path: Path, layers: dict[str, gpd.GeoDataFrame], styles=(),
                     aliases: dict[str, dict[str, str]] | None = None,
                     progress: Callable[[str], None] = lambda layer: None) -> None:
    """Write each GeoDataFrame as a layer of a new GeoPackage at ``path`` (with a spatial
    index), then the QGIS ``styles`` (:class:`roofpv.styles.Style`) as table
    ``layer_styles`` and the field ``aliases`` (layer → column → alias) into
    ``gpkg_data_columns``; ``progress(layer)`` is called as each layer starts."""
    with _atomic(path) as tmp:
        for name, frame in layers.items():
            progress(name)
            options = {"DESCRIPTION": LAYER_DESCRIPTIONS.get(name, name),
                       "GEOMETRY_NAME": GEOMETRY_COLUMN}
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", layer_options=options,
                                    dataset_options={"VERSION": GPKG_VERSION},
                                    use_arrow=True)  # through Arrow: about twice as fast
        if styles:
            _write_styles(tmp, styles)
        if aliases:
            _write_aliases(tmp, aliases)


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
    with _atomic(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{path.stem}.qgs", qgs)


def write_folder(path: Path, files: dict[str, bytes]) -> None:
    """A folder holding exactly ``files`` (plain file name → content): written beside
    ``path`` and swapped in whole, replacing an earlier folder of that name."""
    for name in files:
        if name in ("", ".", "..") or "/" in name or "\\" in name or Path(name).name != name:
            raise ValueError(f"{name!r} is not a plain file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private
    old = path.with_name(f".{path.name}.old.{os.getpid()}")
    try:
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """A UTF-8 text file (HTML page), written atomically."""
    with _atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_geoparquet(path: Path, frame: gpd.GeoDataFrame) -> None:
    """One layer as GeoParquet (for large runs: fast to write and to read)."""
    with _atomic(path) as tmp:
        frame.to_parquet(tmp)


#: First characters that make a spreadsheet read a cell as a formula (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sanitize(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'``."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col]
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
            if risky.any():
                out[col] = text.where(~risky, "'" + text.astype(str))
    return out


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """CSV in UTF-8 with a byte-order mark, so Excel shows Chinese correctly; text cells
    that would start a formula are escaped (:func:`sanitize`)."""
    with _atomic(path) as tmp:
        sanitize(frame).to_csv(tmp, index=False, encoding="utf-8-sig")


#: Chinese headers of the findings workbook, by findings column.
FINDING_HEADERS = {
    "level": "级别 level", "file": "文件 file", "sheet": "工作表 sheet", "row": "行 row",
    "building_id": "建筑编号 building id", "column": "列 column", "value": "值 value",
    "problem": "问题 problem", "fix": "处理建议 fix",
}


def write_findings_workbook(path: Path, findings: pd.DataFrame, summary: pd.DataFrame) -> None:
    """Validation report: a summary sheet and one row per finding, header frozen."""
    columns = list(FINDING_HEADERS)
    with _atomic(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as book:
            summary.to_excel(book, sheet_name="汇总 summary", index=False)
            findings[columns].rename(columns=FINDING_HEADERS).to_excel(
                book, sheet_name="问题清单 findings", index=False
            )
            for sheet in book.sheets.values():
                sheet.freeze_panes = "A2"
                for cells in sheet.columns:
                    longest = max(len(str(c.value or "")) for c in cells[:200])
                    sheet.column_dimensions[cells[0].column_letter].width = min(60, 4 + 1.6 * longest)
