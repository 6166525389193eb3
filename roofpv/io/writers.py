"""Writers: GeoPackage layers and tables, each written to a temporary file first and
moved into place, so a failed run never leaves a half-written file over a good one."""

from __future__ import annotations

import os
import tempfile
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
}


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


def write_geopackage(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write each GeoDataFrame as a layer of a new GeoPackage at ``path``."""
    with _atomic(path) as tmp:
        for name, frame in layers.items():
            options = {"DESCRIPTION": LAYER_DESCRIPTIONS.get(name, name)}
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", layer_options=options,
                                    use_arrow=True)  # through Arrow: about twice as fast


def write_geoparquet(path: Path, frame: gpd.GeoDataFrame) -> None:
    """One layer as GeoParquet (for large runs: fast to write and to read)."""
    with _atomic(path) as tmp:
        frame.to_parquet(tmp)


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """CSV in UTF-8 with a byte-order mark, so Excel shows Chinese correctly."""
    with _atomic(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")


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
