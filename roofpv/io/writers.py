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
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", layer_options=options)


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """CSV in UTF-8 with a byte-order mark, so Excel shows Chinese correctly."""
    with _atomic(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")
