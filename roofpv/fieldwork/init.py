"""A starting config for a user's own data (``roofpv init``), built from facts about it.

:mod:`roofpv.io.inspect` reads the facts (columns, CRS, extent, survey headers, DSM
pixel size, weather location); :func:`config_text` writes the YAML: it extends the
nearest configured jurisdiction, points ``inputs`` at the user's files and says in
comments what was detected and what to check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from roofpv.energy.weather import distance_km
from roofpv.roofs.roof import CHINA_LATITUDE, CHINA_LONGITUDE, analysis_epsg
from roofpv.schema import COLUMN_ALIASES, header_key

#: Id columns as OSM, GIS and web-platform exports name them, after the survey's.
ID_COLUMNS = tuple(COLUMN_ALIASES["building_id"]) + (
    "osm_id", "@id", "full_id", "osm_way_id", "fid", "objectid", "gid", "uuid",
)
#: A configured jurisdiction farther than this (km) gives no usable climate.
CLIMATE_MAX_KM = 300.0


@dataclass(frozen=True)
class FootprintFacts:
    path: Path
    layer: str | None
    features: int
    #: column name → (distinct values, blanks)
    columns: dict[str, tuple[int, int]]
    crs: str
    crs_notes: list[str]
    latitude: float
    longitude: float


@dataclass(frozen=True)
class SurveyFacts:
    path: Path
    sheet: str | None
    #: header → roofpv column
    mapped: dict[str, str]
    unmapped: list[str]
    rows: int
    encoding: str | None = None


@dataclass(frozen=True)
class DsmFacts:
    folder: Path
    pattern: str
    tiles: int
    resolution_m: tuple[float, float]
    crs: str | None
    #: Mean point density of a folder of LAS/LAZ point clouds [points/m²]; None for GeoTIFFs.
    points_per_m2: float | None = None


@dataclass(frozen=True)
class WeatherFacts:
    path: Path
    source: str
    latitude: float | None
    longitude: float | None
    repairs: int = 0


@dataclass(frozen=True)
class SiteFacts:
    path: Path
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Choice:
    """A detected value and what the user should know about it."""

    value: object
    notes: list[str] = field(default_factory=list)


def id_column(footprints: FootprintFacts) -> Choice:
    """The footprint column to use as building id: a column named like an id with the
    most distinct values, else any column whose values are all distinct and filled."""
    n = footprints.features
    named = {header_key(c): c for c in footprints.columns}
    candidates = [named[header_key(a)] for a in ID_COLUMNS if header_key(a) in named]
    if candidates:
        best = max(candidates, key=lambda c: footprints.columns[c][0])
        distinct, blank = footprints.columns[best]
        notes = []
        if distinct + blank < n:
            notes.append(f"{n - distinct - blank} features repeat an id (kept as <id>#2 …, each reported; "
                         "OSM and web-map exports split buildings at tile edges)")
        if blank:
            notes.append(f"{blank} features have no id (named <file>#<feature>)")
        return Choice(best, notes)
    unique = [c for c, (distinct, blank) in footprints.columns.items() if distinct == n and not blank]
    if unique:
        return Choice(unique[0], [f"no column is named like an id; {unique[0]!r} has a distinct value "
                                  "per feature — check that the survey uses it"])
    first = next(iter(footprints.columns), "building_id")
    return Choice(first, ["no column identifies the features: add an id column that the survey uses"])


def nearest_site(sites: list[SiteFacts], latitude: float, longitude: float) -> tuple[SiteFacts, float]:
    """The configured jurisdiction nearest to a point, and its distance [km]."""
    distances = [distance_km(s.latitude, s.longitude, latitude, longitude) for s in sites]
    k = min(range(len(sites)), key=distances.__getitem__)
    return sites[k], distances[k]


def timezone(latitude: float, longitude: float) -> str:
    """Asia/Shanghai inside China's extent, else the fixed offset of the longitude."""
    if (CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]
            and CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1]):
        return "Asia/Shanghai"
    hours = round(longitude / 15.0)
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def _path(target: Path, out: Path) -> str:
    """``target`` relative to the folder of the config ``out`` (how configs resolve paths)."""
    return Path(os.path.relpath(Path(target).resolve(), Path(out).resolve().parent)).as_posix()


def _quote(value) -> str:
    if value is None:
        return "null"
    text = str(value)
    return text if text.replace("_", "").replace(".", "").replace("/", "").replace("-", "").isalnum() \
        and text.isascii() else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(out: Path, footprints: FootprintFacts, sites: list[SiteFacts],
                survey: SurveyFacts | None = None, dsm: DsmFacts | None = None,
                weather: WeatherFacts | None = None) -> str:
    """The YAML of a starting config written to ``out`` for the data described.

    It extends the configured jurisdiction nearest to the footprints' centre (module,
    rules, policy, prices), sets ``inputs`` to the user's files (no survey, townships or
    transformers unless given), the site to the footprints' centre, and the weather to the
    given file or the nearest jurisdiction's typical year; comments say what to check.
    """
    lat, lon = footprints.latitude, footprints.longitude
    base, km = nearest_site(sites, lat, lon)
    ident = id_column(footprints)
    epsg = analysis_epsg(lat, lon)
    lines = [
        f"# roofpv configuration for {footprints.path.name}, written by `roofpv init`.",
        "# Read every CHECK below, then run `roofpv validate` on this file.",
        f"# Everything not set here comes from {base.path.name} ({base.name}, {km:,.0f} km away):",
        "# module, losses, roof rules, policy targets, prices and emission factor.",
        f"extends: {_path(base.path, out)}",
        "",
        "inputs:",
        f"  # {footprints.features:,} features; layer CRS {footprints.crs}.",
    ]
    lines += [f"  # CHECK: {note}" for note in footprints.crs_notes]
    lines += [
        f"  footprints: {_quote(_path(footprints.path, out))}",
        f"  footprints_layer: {_quote(footprints.layer)}",
    ]
    lines += [f"  # CHECK: {note}" for note in ident.notes]
    lines += [
        f"  footprints_id_column: {_quote(ident.value)}",
        "  # CHECK: set gcj02 (Amap, Tencent) or bd09 (Baidu) if the outlines were traced on a",
        "  # Chinese web map; `roofpv validate` measures the offset when a DSM is given.",
        "  footprints_datum: null",
    ]
    if survey is None:
        lines += [
            "  # No survey: every building is assessed with defaults by category (*_source = default);",
            "  # name, category (building type, e.g. OSM building=industrial → factory) and floors",
            "  # (levels, else height ÷ 3 m) are taken from the footprint layer's columns where present.",
            "  survey: null",
        ]
    else:
        mapped = ", ".join(f"{h} → {c}" for h, c in survey.mapped.items())
        lines += [f"  # {survey.rows:,} rows; headers read: {mapped}."]
        if survey.unmapped:
            lines += ["  # CHECK: headers roofpv does not know (ignored): " + "、".join(survey.unmapped)]
        lines += [f"  survey: {_quote(_path(survey.path, out))}",
                  f"  survey_sheet: {_quote(survey.sheet if survey.sheet is not None else 0)}"]
    lines += [
        "  # CHECK: give the township boundaries (a polygon layer with a name column) to get",
        "  # results by township; without them every building is in one township 未知.",
        "  townships: null",
        "",
        "site:",
        f"  # CHECK: centre of the footprints ({lat:.4f}°N, {lon:.4f}°E); rename and give the altitude.",
        f"  name: {_quote(footprints.path.stem)}",
        f"  latitude: {lat:.4f}",
        f"  longitude: {lon:.4f}",
        "  altitude_m: 0",
        f"  timezone: {timezone(lat, lon)}",
        "",
        f"# null: analysis CRS chosen from the site, here EPSG:{epsg} "
        + ("(CGCS2000 3° Gauss-Krüger)." if epsg < 32600 else "(WGS84 UTM; the site is outside China)."),
        "crs: null",
        "",
        "weather:",
    ]
    if weather is not None:
        lines += [f"  # {weather.source}."]
        if weather.latitude is not None:
            wkm = distance_km(weather.latitude, weather.longitude, lat, lon)
            lines += [f"  # Its station lies {wkm:,.0f} km from the site"
                      + (" — CHECK: a nearer station would fit better." if wkm >= 50 else ".")]
        if weather.repairs:
            lines += [f"  # CHECK: {weather.repairs} implausible or missing values are repaired on "
                      "reading (see `roofpv validate`)."]
        lines += [
            "  # `roofpv validate` compares the irradiance with the sun; if it reports an offset,",
            "  # CHECK the file's time convention and set shift_h as it says.",
            f"  file: {_quote(_path(weather.path, out))}",
            "  shift_h: 0",
        ]
    elif km <= CLIMATE_MAX_KM:
        lines += [f"  # Typical-year monthly means of {base.name} ({km:,.0f} km away), inherited.",
                  "  # CHECK: a local typical-year file (CSWD/CTYW/TMYx EPW) is better: roofpv init --weather.",
                  "  file: null"]
    else:
        lines += [f"  # CHECK: the nearest configured climate ({base.name}) is {km:,.0f} km away and does",
                  "  # not describe this site: give an hourly weather file (roofpv init --weather).",
                  "  file: null"]
    lines += [
        "",
        "grid:",
        "  # CHECK: the 台区 transformer table (id, kva, existing_pv_kw, min_load_kw), if any.",
        "  transformers: null",
        "",
        "dsm:",
    ]
    if dsm is None:
        lines += ["  # No DSM: roof slope and shading come from survey or defaults.", "  tiles: null"]
    elif dsm.points_per_m2 is not None:
        lines += [
            f"  # {dsm.tiles} LAS/LAZ point clouds, {dsm.points_per_m2:.1f} points/m², CRS "
            f"{dsm.crs or 'none in the headers'}:",
            "  # gridded to DSM, DTM (ground class) and canopy (vegetation classes) at",
            f"  # point_cloud_resolution_m into {dsm.folder.name}/roofpv_grid/.",
            f"  tiles: {_quote(_path(dsm.folder, out))}",
            f"  point_cloud_resolution_m: {dsm.resolution_m[0]:g}",
        ]
        if dsm.crs is None:
            lines += ["  # CHECK: the clouds' headers carry no CRS; give it (the footprints' is "
                      f"{footprints.crs}).",
                      "  point_cloud_crs: null"]
        lines += ["  # null: the DTM and canopy gridded from the clouds.", "  dem: null", "  canopy: null"]
    else:
        rx, ry = dsm.resolution_m
        lines += [
            f"  # {dsm.tiles} tiles, {rx:g} × {ry:g} pixels, CRS {dsm.crs or 'none (CHECK)'}.",
            f"  tiles: {_quote(_path(dsm.folder, out))}",
            f"  tiles_pattern: {_quote(dsm.pattern)}",
            "  # CHECK: the folder of DEM tiles (ground) if there is one.",
            "  dem: null",
        ]
    lines += [
        "",
        "# CHECK also, in the file extended above: module, economics (prices of your province),",
        "# policy targets and carbon factor — override any section here.",
    ]
    return "\n".join(lines) + "\n"
