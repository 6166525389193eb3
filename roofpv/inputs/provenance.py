"""Where a run's inputs come from, as far as a reader of its outputs must know: whether
they are roofpv's synthetic sample, and whether the townships lie in the jurisdiction the
config names (a config of one city run on another city's townships says so)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

from roofpv.config import Config
from roofpv.errors import EncodingError
from roofpv.inputs.jurisdictions import township_files
from roofpv.io.encodings import read_text
from roofpv.roofs.roof import utm_epsg

#: First line of the README of a folder of synthetic sample data (data/sample/README.md).
SAMPLE_MARK = "SYNTHETIC"
#: Distance (km) from the config's site to the nearest township beyond which the
#: townships are taken to lie outside the jurisdiction the config names. A Chinese
#: prefecture-level city spans up to ~150 km, so its seat lies within that of its townships.
SITE_TOLERANCE_KM = 50.0


def sample_inputs(config: Config) -> list[str]:
    """Names of the config's input files that are synthetic sample data: files in a
    folder whose README's first line says ``SYNTHETIC``."""
    out = []
    for path in (config.inputs.footprints, config.inputs.survey, *township_files(config)):
        if path is None:
            continue
        readme = Path(path).parent / "README.md"
        try:
            first = read_text(readme).text.splitlines()[0] if readme.exists() else ""
        except (OSError, EncodingError, IndexError):
            first = ""
        if SAMPLE_MARK in first:
            out.append(Path(path).name)
    return out


def site_distance_km(config: Config, polygons: gpd.GeoDataFrame | gpd.GeoSeries | None) -> float | None:
    """Distance from the config's site (latitude, longitude) to the nearest township
    polygon, km; None without polygons or CRS."""
    if polygons is None or polygons.empty or polygons.crs is None:
        return None
    lon, lat = config.site.longitude, config.site.latitude
    site = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326")
    # the site's UTM zone from its longitude: a tenth of the time of a search of the CRS
    # database with GeoSeries.estimate_utm_crs
    local = polygons.to_crs(f"EPSG:{utm_epsg(lat, lon)}")
    return float(local.distance(site.to_crs(local.crs).iloc[0]).min()) / 1000.0


def site_mismatch(config: Config, polygons) -> float | None:
    """The distance (km) when the townships lie farther than :data:`SITE_TOLERANCE_KM`
    from the config's site, else None."""
    km = site_distance_km(config, polygons)
    return km if km is not None and km > SITE_TOLERANCE_KM else None
