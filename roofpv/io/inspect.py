"""What `roofpv init` reads from a user's files: columns, CRS, extent, headers, resolution.

Each ``inspect_*`` function returns plain facts (:mod:`roofpv.fieldwork.init` turns them
into a config, :func:`starting_config` both); none assesses anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pyproj import CRS, Transformer

from roofpv.config import read_config_text
from roofpv.errors import InputError, PointCloudError, SurveyError, WeatherFileError
from roofpv.fieldwork import init as starting
from roofpv.fieldwork.init import DsmFacts, FootprintFacts, SiteFacts, SurveyFacts, WeatherFacts
from roofpv.inputs.survey_table import locate_header
from roofpv.io import point_cloud
from roofpv.io.readers import read_csv_cells, read_layer
from roofpv.io.weather_files import read_weather
from roofpv.schema import HEADER_LOOKUP, header_key


def inspect_footprints(path: Path, layer: str | None = None) -> FootprintFacts:
    """Columns (unique and blank counts), CRS and lon/lat centre of a footprint layer."""
    frame, findings = read_layer(path, layer, "footprints")
    crs = frame.crs
    x0, y0, x1, y1 = frame.total_bounds
    to_lonlat = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
    lon, lat = to_lonlat.transform((x0 + x1) / 2, (y0 + y1) / 2)
    columns = {
        str(c): (int(frame[c].nunique(dropna=True)), int(frame[c].isna().sum()))
        for c in frame.columns if c != "geometry"
    }
    return FootprintFacts(
        path=path, layer=layer, features=len(frame), columns=columns,
        crs=crs.to_string(), crs_notes=[f.problem for f in findings],
        latitude=float(lat), longitude=float(lon),
    )


def inspect_survey(path: Path) -> SurveyFacts:
    """The sheet holding the survey header and how its headers map to roofpv columns."""
    if not path.exists():
        raise InputError(f"{path}: survey file not found")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    elif suffix == ".csv":
        cells, decoded, _ = read_csv_cells(path)
        sheets = {None: cells}
    else:
        raise InputError(f"{path}: survey must be .xlsx or .csv")
    best = None
    for name, cells in sheets.items():
        try:
            headers, first = locate_header(cells)
        except SurveyError:
            continue
        mapped = {h: HEADER_LOOKUP[header_key(h)] for h in headers if header_key(h) in HEADER_LOOKUP}
        if best is None or len(mapped) > len(best[1]):
            best = (name, mapped, [h for h in headers if h not in mapped and h], len(cells) - first)
    if best is None:
        raise InputError(f"{path}: no sheet has a header row with a building id column (e.g. 建筑编号)")
    name, mapped, unmapped, rows = best
    return SurveyFacts(path=path, sheet=name, mapped=mapped, unmapped=unmapped, rows=rows,
                       encoding=None if suffix != ".csv" else decoded.encoding)


def inspect_dsm(folder: Path, pattern: str = "*.tif") -> DsmFacts:
    """Tile count, pixel size and CRS of a folder of DSM GeoTIFFs, or of LAS/LAZ point
    clouds (:func:`inspect_point_clouds`)."""
    import rasterio

    tiles = sorted(Path(folder).glob(pattern))
    if not tiles and point_cloud.clouds(folder):
        return inspect_point_clouds(folder)
    if not tiles:
        raise InputError(f"{folder}: no DSM tiles matching {pattern}")
    sizes, crs = [], None
    for tile in tiles[:20]:
        with rasterio.open(tile) as src:
            sizes.append(src.res)
            crs = crs or (src.crs.to_string() if src.crs else None)
    res = np.median(np.asarray(sizes), axis=0)
    return DsmFacts(folder=Path(folder), pattern=pattern, tiles=len(tiles),
                    resolution_m=(float(res[0]), float(res[1])), crs=crs)


def inspect_point_clouds(folder: Path) -> DsmFacts:
    """Cloud count, mean point density, CRS (None when no header has one) of a folder of
    LAS/LAZ point clouds, from their headers, and the grid cell suggested for them: the
    finest of 0.25, 0.5, 1 and 2 m holding 2 points per cell on average (the cells a
    return misses are filled from their neighbours)."""
    try:
        facts = [point_cloud.header_facts(p) for p in point_cloud.clouds(folder)]
    except PointCloudError as exc:
        raise InputError(str(exc)) from None
    area = sum(max((b[2] - b[0]) * (b[3] - b[1]), 1e-9) for _, b, _ in facts)
    density = sum(n for *_, n in facts) / area
    res = next((r for r in (0.25, 0.5, 1.0) if density * r * r >= 2), 2.0)
    crs = next((c for c, *_ in facts if c is not None), None)
    return DsmFacts(folder=Path(folder), pattern="*.las/*.laz", tiles=len(facts), resolution_m=(res, res),
                    crs=CRS.from_wkt(crs).to_string() if crs else None, points_per_m2=float(density))


def inspect_weather(path: Path, site: tuple[float, float, float] | None = None) -> WeatherFacts:
    """Location and format of a weather file (read in full, so it is known to load); ``site``
    (latitude, longitude, altitude) splits a GHI-only file that states no location."""
    try:
        _, meta = read_weather(path, site=site)
    except WeatherFileError as exc:
        raise InputError(str(exc)) from None
    return WeatherFacts(path=path, source=meta["source"], latitude=meta.get("latitude"),
                        longitude=meta.get("longitude"), repairs=len(meta["findings"]))


def configured_sites(folder: Path) -> list[SiteFacts]:
    """The site of every configured jurisdiction in ``folder`` (``*.yaml`` with ``site``)."""
    sites = []
    for path in sorted(Path(folder).glob("*.yaml")):
        raw = yaml.safe_load(read_config_text(path)) or {}
        site = raw.get("site") if isinstance(raw, dict) else None
        if isinstance(site, dict) and {"latitude", "longitude"} <= set(site):
            sites.append(SiteFacts(path=path, name=str(site.get("name", path.stem)),
                                   latitude=float(site["latitude"]), longitude=float(site["longitude"]),
                                   province=site.get("province")))
    return sites


def starting_config(footprints: Path, out: Path, *, configs: Path, layer: str | None = None,
                    survey: Path | None = None, dsm: Path | None = None, weather: Path | None = None) -> str:
    """The YAML of a starting config for the user's ``footprints`` (and ``survey``
    workbook, ``dsm`` folder of GeoTIFF tiles or LAS/LAZ clouds, hourly ``weather`` file), saved as
    ``out`` (the paths in it are relative to ``out``'s folder): id column and CRS
    detected, survey headers mapped, DSM resolution read, the site at the footprints'
    centre (where a GHI-only weather file without a location is split), extending the jurisdiction of ``configs`` (a folder of configs) nearest to it;
    ``# CHECK`` comments say what to confirm. ``layer``: of a multi-layer footprint file.
    """
    facts = inspect_footprints(Path(footprints), layer)
    site = (facts.latitude, facts.longitude, 0.0)
    return starting.config_text(
        Path(out), facts, configured_sites(Path(configs)),
        survey=inspect_survey(Path(survey)) if survey else None,
        dsm=inspect_dsm(Path(dsm)) if dsm else None,
        weather=inspect_weather(Path(weather), site) if weather else None,
    )
