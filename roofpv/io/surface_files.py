"""Read the layers of surfaces beyond roofs named in the config's ``surfaces.layers``.

Each layer is read like the footprints (:func:`roofpv.io.readers.read_layer`: any
format GDAL reads, CRS resolved, a message naming the file when it cannot be used);
what each outline is — a type for the whole layer, a type column, or OSM-style tags —
is decided by :func:`roofpv.surfaces.sites.recognise`.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from roofpv.config import SurfaceLayer
from roofpv.errors import InputError
from roofpv.findings import Finding
from roofpv.io import readers
from roofpv.surfaces import sites


def read_surfaces(layers: list[SurfaceLayer], crs: str) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The outlines of every configured surface layer in ``crs``, one row per surface
    (columns of :data:`roofpv.surfaces.sites.SITE_COLUMNS`), and the findings about them."""
    frames, findings = [], []
    for i, spec in enumerate(layers):
        if not spec.file.exists():
            raise InputError(f"{spec.file}: surfaces file not found; check surfaces.layers[{i}].file in the config")
        raw, found = readers.read_layer(spec.file, spec.layer, "surfaces", spec.crs, f"surfaces.layers[{i}].crs")
        recognised, more = sites.recognise(raw, spec, str(spec.file), f"surfaces.layers[{i}]")
        frames.append(recognised.to_crs(crs))
        findings += found + more
    if not frames:
        return sites.no_sites(crs), findings
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs), findings
