"""Web-map datums: GCJ-02 (Amap/高德, Tencent/腾讯) and BD-09 (Baidu/百度).

Chinese web maps publish coordinates in GCJ-02, WGS84 passed through a published
obfuscating offset (a few hundred metres in Zhejiang), and Baidu adds a second
offset on top of it (BD-09). Footprints digitised on such maps sit that far from
their buildings. This module converts such coordinates back to WGS84 (which equals
CGCS2000 to better than 0.1 m) and scores how well footprints fit a DSM or a
township layer at each datum, the evidence of :mod:`roofpv.inputs.checks`.

All functions are vectorised over numpy arrays of lon/lat in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from roofpv.findings import Finding
from roofpv.roofs.raster import Raster, zonal

Datum = Literal["gcj02", "bd09"]
#: Datums a footprint layer may be in, ``None`` = WGS84/CGCS2000 as declared.
CANDIDATES: tuple[Datum | None, ...] = (None, "gcj02", "bd09")
#: Display names of the datums.
LABELS = {None: "WGS84/CGCS2000 (no shift)", "gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}

#: Krasovsky 1940 ellipsoid, as used by the GCJ-02 offset: semi-major axis [m], e².
_A = 6378245.0
_EE = 0.00669342162296594323
#: BD-09 rotation constant [rad/deg].
_X_PI = np.pi * 3000.0 / 180.0


def in_china(lon, lat) -> np.ndarray:
    """True where the GCJ-02 offset applies (a rectangle around China)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 at WGS84 (lon, lat) [deg]; zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    root = np.sqrt(np.abs(x))
    ripple = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    north = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + ripple
             + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
             + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    east = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + ripple
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    phi = np.radians(lat)
    magic = 1.0 - _EE * np.sin(phi) ** 2
    dlat = north * 180.0 / ((_A * (1.0 - _EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = east * 180.0 / (_A / np.sqrt(magic) * np.cos(phi) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (the published forward formula) [deg]."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84 by fixed-point inversion of :func:`wgs84_to_gcj02` [deg].

    The offset changes by ~1e-5 of itself per metre, so each iteration cuts the error
    by that factor; six leave well under a millimetre.
    """
    glon, glat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon + (glon - flon), wlat + (glat - flat)
    return wlon, wlat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's published forward formula) [deg]."""
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.hypot(x, y) + 2e-5 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 3e-6 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat, iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 by fixed-point inversion of :func:`gcj02_to_bd09` [deg]."""
    blon, blat = np.asarray(lon, float), np.asarray(lat, float)
    glon, glat = blon - 0.0065, blat - 0.006
    for _ in range(iterations):
        flon, flat = gcj02_to_bd09(glon, glat)
        glon, glat = glon + (blon - flon), glat + (blat - flat)
    return glon, glat


def to_wgs84(lon, lat, datum: Datum) -> tuple[np.ndarray, np.ndarray]:
    """Web-map coordinates in ``datum`` → WGS84 [deg]."""
    if datum == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def unshift(geometry: gpd.GeoSeries, datum: Datum | None) -> gpd.GeoSeries:
    """Geometries digitised on a ``datum`` web map moved to their WGS84 position, in
    their own CRS (which must be set); ``None`` returns them unchanged."""
    if datum is None:
        return geometry
    lonlat = geometry.to_crs("EPSG:4326")

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], datum))

    moved = shapely.transform(lonlat.to_numpy(), move)
    return gpd.GeoSeries(moved, index=geometry.index, crs="EPSG:4326").to_crs(geometry.crs)


def shift_m(lon: float, lat: float, datum: Datum) -> float:
    """How far (m) ``datum`` moves a point at WGS84 (lon, lat), on the local sphere."""
    glon, glat = wgs84_to_gcj02(lon, lat)
    if datum == "bd09":
        glon, glat = gcj02_to_bd09(glon, glat)
    east = np.radians(glon - lon) * 6371000.0 * np.cos(np.radians(lat))
    north = np.radians(glat - lat) * 6371000.0
    return float(np.hypot(east, north))


#: Words in a file, layer, column or value naming the web map data came from.
HINTS: dict[str, Datum] = {
    "高德": "gcj02", "amap": "gcj02", "gaode": "gcj02", "autonavi": "gcj02", "腾讯": "gcj02",
    "tencent": "gcj02", "gcj": "gcj02", "火星坐标": "gcj02", "百度": "bd09", "baidu": "bd09",
    "bd09": "bd09", "bd-09": "bd09", "bd_09": "bd09",
}


def hinted_datums(texts) -> dict[str, Datum]:
    """The hint words found in ``texts`` (case-insensitive) and the datum each names."""
    joined = "\n".join(str(t) for t in texts).lower()
    return {word: datum for word, datum in HINTS.items() if word in joined}


# --- evidence: do the footprints fit better at another datum? ----------------------

#: A footprint sits on a building when its roof is this much above its surroundings [m].
RAISED_M = 2.0
#: Ring around a footprint taken as its surroundings, inner and outer distance [m].
RING_M = (1.0, 6.0)
#: Share of a footprint (and of its ring) that must hold DSM data for it to be tested.
MIN_DATA = 0.9
#: Footprints a datum must be tested on before the DSM speaks for or against it.
MIN_TESTED = 10
#: Share of tested footprints standing on raised cells for a datum to fit the DSM.
FITS = 0.6


def height_contrast(grid: Raster, geometry: np.ndarray, crs_wkt: str | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Median DSM height inside each footprint minus the median in a ring around it [m],
    and the share of each footprint and ring with data (the smaller of the two).

    A footprint on its building has a contrast of a storey or more; one beside its
    building, about zero.
    """
    ids = np.arange(len(geometry)).astype(str)
    ring = shapely.difference(shapely.buffer(geometry, RING_M[1]), shapely.buffer(geometry, RING_M[0]))
    res2 = grid.res * grid.res
    ops = [("z", "quantile", {"q": 0.5}), ("z", "count", {})]
    inside = zonal(grid, {"z": grid.z}, ops, ids, geometry, crs_wkt).reindex(ids)
    around = zonal(grid, {"z": grid.z}, ops, ids, ring, crs_wkt).reindex(ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        data = np.minimum(inside["z_count"].to_numpy(float) * res2 / shapely.area(geometry),
                          around["z_count"].to_numpy(float) * res2 / shapely.area(ring))
    contrast = inside["z_quantile_50"].to_numpy(float) - around["z_quantile_50"].to_numpy(float)
    return contrast, np.nan_to_num(data)


@dataclass(frozen=True)
class Fit:
    """How footprints fit the DSM and the township layer at one datum.

    tested : footprints with DSM data at this position
    raised : of those, footprints whose roof stands ``RAISED_M`` above their ring
    located : footprints whose representative point lies in a township (None: no layer)
    """

    tested: int
    raised: int
    located: int | None


def _share(k: int, n: int) -> str:
    return f"{k:,} of {n:,}"


def datum_findings(fits: dict, configured: Datum | None, footprints: int, hints: dict[str, Datum],
                   shift: dict, source: str, total: int | None = None, dsm: bool = False) -> list[Finding]:
    """Findings on the footprints' datum from the evidence of each candidate.

    Parameters
    ----------
    fits : :class:`Fit` per candidate datum (keys of :data:`CANDIDATES`)
    configured : ``inputs.footprints_datum``
    footprints : number of footprints located in the townships (``Fit.located`` counts of it)
    hints : :func:`hinted_datums` of the footprint file's names, fields and values
    shift : how far (m) each web-map datum moves points here
    source : the footprint file
    total : number of footprints in the file when ``footprints`` is a sample of them
    dsm : whether DSM tiles were given (to say why the check could not run without them)

    Without evidence from the DSM (tiles reaching :data:`MIN_TESTED` footprints) or the
    townships, a note says that the positions could not be checked, and why.
    """
    key = "inputs.footprints_datum"

    def fix_for(datum):
        if datum is None:
            return f"remove {key} (the footprints are already in WGS84/CGCS2000)"
        return (f"set {key}: {datum} (footprints digitised on {LABELS[datum]} maps; moved "
                f"~{shift[datum]:.0f} m back to WGS84/CGCS2000), or re-digitise on a CGCS2000 base map")

    def finding(level, problem, fix):
        return Finding(level, source, None, None, "geometry", LABELS[configured], problem, fix)

    # DSM: the candidate on which the largest share of footprints sit on raised cells.
    rate = {d: f.raised / f.tested if f.tested >= MIN_TESTED else None for d, f in fits.items()}
    known = {d: r for d, r in rate.items() if r is not None}
    dsm_best = max(known, key=known.get, default=configured)
    contradicted = (bool(known) and dsm_best != configured and known[dsm_best] >= FITS
                    and (rate[configured] is None or known[dsm_best] >= rate[configured] + 0.3))
    confirmed = not contradicted and rate[configured] is not None and rate[configured] >= FITS
    evidence = "; ".join(
        f"{LABELS[d]}: {_share(f.raised, f.tested)}" if rate[d] is not None
        else f"{LABELS[d]}: untested (the tiles reach {f.tested} footprints there)"
        for d, f in fits.items())
    standing = f"footprints standing ≥ {RAISED_M:g} m above their surroundings where the DSM has data"
    out = []
    if configured is not None:
        out.append(finding(
            "info", f"footprints converted from {LABELS[configured]} to WGS84/CGCS2000 ({key}), "
            f"moved ~{shift[configured]:.0f} m", "nothing to do"))
    if contradicted:
        out.append(finding(
            "error", f"footprints fit the DSM's buildings only if read as {LABELS[dsm_best]}; "
            f"{standing}: {evidence}", fix_for(dsm_best)))
    elif confirmed:
        out.append(finding(
            "info", f"footprint positions checked against the DSM: {LABELS[configured]} fits; "
            f"{standing}: {evidence}", "nothing to do"))

    # Townships: the candidate that places the most footprints inside a township.
    located = {d: f.located for d, f in fits.items() if f.located is not None}
    if located and not contradicted and not confirmed:
        outside = {d: footprints - k for d, k in located.items()}
        town_best = min(outside, key=outside.get)
        if (town_best != configured and outside[configured] >= 3
                and outside[town_best] <= outside[configured] / 4):
            numbers = "; ".join(f"{LABELS[d]}: {_share(k, footprints)}" for d, k in outside.items())
            if total is not None and total > footprints:
                numbers += f" (a sample spread evenly over the file's {total:,} footprints)"
            out.append(finding(
                "warning", f"fewer footprints fall outside every township if read as "
                f"{LABELS[town_best]}; footprints outside every township: {numbers}",
                fix_for(town_best)))

    # Neither DSM nor townships: say that the positions went unchecked, and why.
    if not known and not located:
        reach = max(f.tested for f in fits.values())
        why = [f"the DSM tiles reach {reach:,} footprints at most ({MIN_TESTED} needed)" if dsm
               else "no DSM (dsm.tiles)", "no township layer (inputs.townships)"]
        out.append(finding(
            "info", f"the web-map datum check (GCJ-02/BD-09) could not run: {'; '.join(why)}; "
            f"footprints traced on Amap/Tencent or Baidu maps would lie ~{shift['gcj02']:.0f}–"
            f"{shift['bd09']:.0f} m from their buildings unnoticed",
            f"give dsm.tiles or inputs.townships to have the positions checked, or set {key}: gcj02 "
            "or bd09 if the footprints were traced on a Chinese web map"))

    # Names: the file, its layers, fields or values mention a web map.
    named = {d for d in hints.values() if d != configured}
    if named:
        words = "、".join(sorted(hints))
        for datum in sorted(named):
            if confirmed:
                out.append(finding(
                    "info", f"the footprint file mentions {words} ({LABELS[datum]}), but the "
                    f"footprints fit the DSM as {LABELS[configured]}", "nothing to do"))
            elif not contradicted:
                out.append(finding(
                    "warning", f"the footprint file mentions {words}: the footprints may be in "
                    f"{LABELS[datum]} coordinates, ~{shift[datum]:.0f} m from their buildings",
                    f"if they were digitised on that web map, {fix_for(datum)}"))
    return out
