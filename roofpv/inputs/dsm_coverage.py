"""How much of each footprint the DSM covers, and what an analyst is told about it.

A roof is measured from the DSM only where its tiles hold data over most of it
(``dsm.min_coverage``); other roofs keep the survey's roof geometry. Coverage is the
share of the roof (footprint shrunk by its inner buffer, :func:`roofpv.roofs.raster.inner_buffer`)
with DSM data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from roofpv.findings import Finding
from roofpv.roofs.raster import Raster, data_share, inner_buffer, shrink, zonal


def extent_share(geometry: np.ndarray, tile_bounds: np.ndarray) -> np.ndarray:
    """Share of each footprint's area inside the union of the tiles' extents [-]."""
    area = shapely.area(geometry)
    if len(tile_bounds) == 0:
        return np.zeros(len(geometry))
    extent = shapely.union_all(shapely.box(*np.asarray(tile_bounds, float).T))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = shapely.area(shapely.intersection(geometry, extent)) / area
    return np.clip(np.nan_to_num(share), 0.0, 1.0)


def roof_coverage(grid: Raster, ids: np.ndarray, geometry: np.ndarray, inner_buffer_m: float,
                  crs_wkt: str | None = None) -> pd.Series:
    """Share of each roof (footprint shrunk by its inner buffer, at most ``inner_buffer_m``)
    holding DSM data on ``grid``, as :func:`roofpv.roofs.dsm.roof_geometry` counts it,
    indexed by ``ids``."""
    ids = np.asarray(ids).astype(str)
    inner = shrink(geometry, inner_buffer(geometry, grid.res, inner_buffer_m))
    count = zonal(grid, {"z": grid.z}, [("z", "count", {})], ids, inner, crs_wkt)["z_count"]
    share = data_share(count.reindex(ids).fillna(0).to_numpy(), grid.res, inner)
    return pd.Series(np.clip(share, 0.0, 1.0), index=pd.Index(ids, name="building_id"))


def coverage_findings(coverage: pd.Series, extent: pd.Series, min_coverage: float,
                      tiles: str) -> list[Finding]:
    """What the DSM covers: one summary note, and per footprint at a tile edge or over a
    gap in the data, why its roof is not measured.

    Parameters
    ----------
    coverage : share of each roof with DSM data (0 outside every tile), by building id
    extent : share of each footprint inside the tiles' extents, same index
    min_coverage : ``dsm.min_coverage``
    tiles : the tile folder, for the messages
    """
    n = len(coverage)
    measured = coverage >= min_coverage
    edge = ~measured & (extent > 0) & (extent < 0.99)
    gap = ~measured & (extent >= 0.99)
    k = int(measured.sum())
    if n and k == 0:
        summary = Finding(
            "warning", tiles, None, None, "DSM", None,
            f"the DSM tiles cover none of the {n:,} footprints; every roof keeps the survey's geometry",
            "check the tiles' CRS and extent against the footprints (e.g. load both in QGIS), and "
            "whether the footprints were digitised on a web map (inputs.footprints_datum)")
    else:
        summary = Finding(
            "info", tiles, None, None, "DSM", None,
            f"the DSM covers {k:,} of {n:,} footprints ({k / max(n, 1):.0%}); the other {n - k:,} "
            "keep the survey's roof geometry (roof_*_source = survey or default, dsm_coverage < "
            f"{min_coverage:g})",
            "nothing to do if the tiles were meant to cover only part of the area")
    found = [summary]
    found += [
        Finding("info", tiles, None, bid, "dsm_coverage", f"{coverage[bid]:.1%}",
                f"footprint at the edge of the DSM tiles (DSM data over less than {min_coverage:.0%} "
                "of the roof); roof geometry from the survey", "nothing to do, or add the neighbouring tile")
        for bid in coverage.index[edge]
    ]
    found += [
        Finding("warning", tiles, None, bid, "dsm_coverage", f"{coverage[bid]:.1%}",
                f"footprint inside the DSM tiles but over a gap in their data (DSM data over less "
                f"than {min_coverage:.0%} of the roof); roof geometry from the survey",
                "check the tile's nodata value, or fill the gap in the DSM")
        for bid in coverage.index[gap]
    ]
    return found
