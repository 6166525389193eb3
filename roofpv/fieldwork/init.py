"""A starting config for a user's own data (``roofpv init``), built from facts about it.

:mod:`roofpv.io.inspect` reads the facts (columns, CRS, extent, survey headers, DSM
pixel size, weather location); :func:`config_text` writes the YAML: it extends the
nearest configured jurisdiction of the site's province (else the nearest one, with CHECK
comments on the prices and emission factor that do not fit), takes the typical year of
the nearest station of roofpv's table (:mod:`roofpv.energy.stations`) unless a weather
file is given, points ``inputs`` at the user's files and says in comments what was
detected and what to check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from roofpv.energy.stations import CHINA_MAX_KM, PROVINCE_VOTERS, nearest, site_province
from roofpv.energy.weather import distance_km
from roofpv.roofs.roof import CHINA_LATITUDE, CHINA_LONGITUDE, analysis_epsg
from roofpv.schema import COLUMN_ALIASES, header_key

#: Id columns as OSM, GIS and web-platform exports name them, after the survey's.
ID_COLUMNS = tuple(COLUMN_ALIASES["building_id"]) + (
    "osm_id", "@id", "full_id", "osm_way_id", "fid", "objectid", "gid", "uuid",
)
#: A station or weather file farther than this from the site [km]: CHECK (`roofpv validate`
#: warns from the same distance, weather.warn_distance_km).
CLIMATE_WARN_KM = 150.0


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
    province: str | None = None


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


def base_site(sites: list[SiteFacts], latitude: float, longitude: float,
              province: str | None) -> tuple[SiteFacts, float]:
    """The configured jurisdiction a new config extends: the nearest one in ``province``
    (its prices and emission factor hold there), else the nearest one; and its distance [km]."""
    same = [s for s in sites if province is not None and s.province == province]
    return nearest_site(same or sites, latitude, longitude)


def timezone(latitude: float, longitude: float) -> str:
    """Asia/Shanghai inside China's extent, else the fixed offset of the longitude."""
    if (CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]
            and CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1]):
        return "Asia/Shanghai"
    hours = round(longitude / 15.0)
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def _site_lines(lat: float, lon: float, guess) -> list[str]:
    """The ``province`` and ``timezone`` lines of the site, each with what to check."""
    zone = timezone(lat, lon)
    if guess is None:
        return [
            "  # Outside China: no province (prices and emission factor below are CHECKs).",
            "  province: null",
            f"  # CHECK: time zone from the longitude ({lon:.1f}° ≈ UTC{round(lon / 15):+d}, no daylight",
            "  # saving); set the zone the weather file's time stamps are in.",
            f"  timezone: {zone}",
        ]
    province, station, km = guess
    return [
        f"  # CHECK: province guessed from the {PROVINCE_VOTERS} nearest stations (the nearest: {station.label},",
        f"  # {km:,.0f} km); correct it if the site lies across a border.",
        f"  province: {province}",
        "  # Beijing time, as all of China keeps.",
        f"  timezone: {zone}",
    ]


def _weather_lines(out: Path, lat: float, lon: float, weather: WeatherFacts | None) -> list[str]:
    """The ``weather`` section: the given file, else the nearest station's typical year."""
    if weather is not None:
        lines = [f"  # {weather.source}."]
        if weather.latitude is not None:
            wkm = distance_km(weather.latitude, weather.longitude, lat, lon)
            lines += [f"  # Its station lies {wkm:,.0f} km from the site"
                      + (" — CHECK: a nearer station would fit better." if wkm >= CLIMATE_WARN_KM else ".")]
        if weather.repairs:
            lines += [f"  # CHECK: {weather.repairs} findings on reading it (values repaired, DNI/DHI split "
                      "from GHI, hours not covered; see `roofpv validate`)."]
        return lines + [
            "  # `roofpv validate` compares the irradiance with the sun; if it reports an offset,",
            "  # CHECK the file's time convention and set shift_h as it says.",
            f"  file: {_quote(_path(weather.path, out))}",
            "  shift_h: 0",
        ]
    station, km = nearest(lat, lon)
    lines = [f"  # Typical year of the nearest station of roofpv's table: {station.label}, {km:,.0f} km",
             f"  # from the site; monthly means of {station.file}:", f"  # {station.url}"]
    if km >= CHINA_MAX_KM:
        lines += [f"  # CHECK: no station is near (the table covers China): this climate is {km:,.0f} km away",
                  "  # and `roofpv validate` refuses it. Give an hourly weather file (roofpv init --weather)."]
    elif km >= CLIMATE_WARN_KM:
        lines += [f"  # CHECK: {km:,.0f} km is far for a climate: a local typical-year file (CSWD/CTYW/TMYx",
                  "  # EPW) or measured hourly GHI fits better (roofpv init --weather)."]
    else:
        lines += ["  # A local typical-year or measured file is better still: roofpv init --weather."]
    return lines + [f"  station: {station.station_id}", "  monthly: null", "  file: null"]


def _defaults_lines(base: SiteFacts, guess) -> list[str]:
    """Comments on the prices, emission factor and targets inherited from ``base``."""
    inherited = f"{base.path.name} ({base.province or 'no province stated'})"
    if guess is None:
        return [
            f"# CHECK: the site lies outside China: the prices, tariffs and emission factor of {inherited}",
            "# do not apply — set economics.* and carbon.* (and their province: null) for the site;",
            "# `roofpv validate` warns until then. Policy targets are Chinese ones, to be replaced.",
        ]
    province = guess[0]
    if base.province == province:
        return [f"# Prices, tariffs and emission factor are {province}'s, from {inherited}; CHECK they are",
                "# current, and the module, policy targets and energy use in the file extended above."]
    return [
        f"# CHECK: roofpv has no prices or emission factor for {province}: those of {inherited} are",
        f"# inherited. Set economics.* and carbon.* to {province}'s values with economics.province and",
        f"# carbon.province: {province} (or the national factor of national.yaml); `roofpv validate`",
        "# warns until then. CHECK also the module, policy targets and energy use extended above.",
    ]


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
    guess = site_province(lat, lon)
    base, km = base_site(sites, lat, lon, guess[0] if guess else None)
    ident = id_column(footprints)
    epsg = analysis_epsg(lat, lon)
    lines = [
        f"# roofpv configuration for {footprints.path.name}, written by `roofpv init`.",
        "# Read every CHECK below, then run `roofpv validate` on this file.",
        f"# Everything not set here comes from {base.path.name} ({base.name}, {km:,.0f} km away"
        + (f", {base.province}" if base.province else "") + "):",
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
        *_site_lines(lat, lon, guess),
        "",
        f"# null: analysis CRS chosen from the site, here EPSG:{epsg} "
        + ("(CGCS2000 3° Gauss-Krüger)." if epsg < 32600 else "(WGS84 UTM; the site is outside China)."),
        "crs: null",
        "",
        "weather:",
    ]
    lines += _weather_lines(out, lat, lon, weather)
    lines += [
        "",
        "grid:",
        "  # CHECK: the 台区 transformer table (id, kva, existing_pv_kw, min_load_kw), if any.",
        "  transformers: null",
        "",
        "surfaces:",
        "  # CHECK: layers of car parks, walkways, wastewater plants, greenhouses, yards (each with",
        "  # `type` or `type_column`, or OSM tags), e.g. - {file: parking.geojson}; none = roofs only.",
        "  layers: []",
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
    lines += ["", *_defaults_lines(base, guess)]
    return "\n".join(lines) + "\n"
