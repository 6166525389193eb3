"""Coordinate reference checks: a missing or wrong CRS is caught before any area is measured."""

from __future__ import annotations

from pyproj import CRS

from roofpv.findings import Finding

#: Geographic CRS assumed for lon/lat coordinates that come without one (CGCS2000).
CGCS2000 = "EPSG:4490"
#: Lon/lat bounds of China with a margin (deg).
CHINA_LONLAT = (70.0, 0.0, 140.0, 56.0)


def looks_like_lonlat(bounds) -> bool:
    """True when (xmin, ymin, xmax, ymax) lies inside China's lon/lat box."""
    xmin, ymin, xmax, ymax = bounds
    x0, y0, x1, y1 = CHINA_LONLAT
    return x0 <= xmin <= xmax <= x1 and y0 <= ymin <= ymax <= y1


def valid_lonlat(bounds, eps: float = 1e-9) -> bool:
    """True when (xmin, ymin, xmax, ymax) are possible lon/lat anywhere on Earth (within
    ``eps`` degrees of rounding: world layers end at 180.00000000000006)."""
    xmin, ymin, xmax, ymax = bounds
    return -180 - eps <= xmin <= xmax <= 180 + eps and -90 - eps <= ymin <= ymax <= 90 + eps


#: CGCS2000 Gauss-Krüger zones whose eastings carry the zone number in front (X = zone
#: × 10⁶ m + 500 000 m + distance east of the central meridian, as Chinese survey maps
#: write them): zone number → EPSG code. 3° zones 25–45 (central meridians 75°–135°E)
#: are EPSG:4513–4533, 6° zones 13–23 (75°–135°E) EPSG:4491–4501; the numbers do not
#: overlap, so the prefix alone tells the zone.
GK_PREFIXED = {**{z: 4513 + z - 25 for z in range(25, 46)}, **{z: 4491 + z - 13 for z in range(13, 24)}}
#: How far from its central meridian a zone reaches in China (half its width at 18°N,
#: 1.5° or 3° of longitude, with a margin) [m].
GK_HALF_WIDTH_M = {3: 200_000.0, 6: 400_000.0}
#: Northings of China, equator to 56°N [m].
CHINA_NORTHING_M = (0.0, 6_300_000.0)


def prefixed_zone(bounds) -> int | None:
    """The EPSG code of the CGCS2000 Gauss-Krüger zone whose zone-prefixed eastings
    (:data:`GK_PREFIXED`) ``bounds`` (xmin, ymin, xmax, ymax) hold, or None."""
    xmin, ymin, xmax, ymax = bounds
    zone = int(xmin // 1_000_000)
    if zone not in GK_PREFIXED or int(xmax // 1_000_000) != zone:
        return None
    half = GK_HALF_WIDTH_M[3 if zone >= 25 else 6]
    east = (xmin - zone * 1_000_000 - 500_000, xmax - zone * 1_000_000 - 500_000)
    lo, hi = CHINA_NORTHING_M
    if -half <= east[0] and east[1] <= half and lo <= ymin <= ymax <= hi:
        return GK_PREFIXED[zone]
    return None


def resolve_crs(crs, bounds, source: str, configured: str | None = None,
                key: str = "inputs.footprints_crs") -> tuple[CRS | None, list[Finding]]:
    """The CRS to read a layer in, and what was wrong with the declared one.

    ``configured`` (the config's ``key``) replaces the file's CRS. A layer without
    any is read as CGCS2000 lon/lat when its coordinates look like lon/lat in China,
    or in the CGCS2000 Gauss-Krüger zone its zone-prefixed eastings name
    (:func:`prefixed_zone`). Returns ``(None, findings)`` when no usable CRS can be
    inferred (the caller stops with the finding's message).
    """
    declared = CRS.from_user_input(crs) if crs is not None else None
    lonlat = looks_like_lonlat(bounds)
    overridden = []
    if configured is not None:
        wanted = CRS.from_user_input(configured)
        if declared is not None and not declared.equals(wanted):
            overridden = [Finding("warning", source, None, None, "CRS", str(declared),
                                  f"the file says its CRS is {declared.name}; read in {wanted.name} "
                                  f"as {key} says", f"remove {key} if the file's CRS is right")]
        declared = wanted

    def finding(level, problem, fix):
        return overridden + [Finding(level, source, None, None, "CRS", str(declared), problem, fix)]

    if declared is None:
        if lonlat:
            return CRS.from_user_input(CGCS2000), finding(
                "warning", "layer has no CRS; coordinates look like lon/lat and are read as CGCS2000 (EPSG:4490)",
                "assign the CRS in QGIS (Layer Properties → Source) and save the layer",
            )
        zone = prefixed_zone(bounds)
        if zone is not None:
            gk = CRS.from_epsg(zone)
            return gk, finding(
                "warning", f"layer has no CRS; its eastings start with the zone number "
                f"{int(bounds[0] // 1_000_000)} (x {bounds[0]:,.0f}–{bounds[2]:,.0f} m): read as "
                f"{gk.name} (EPSG:{zone})",
                f"if the map is in Xi'an 1980 or Beijing 1954 (same zones, up to ~100 m apart), set "
                f"{key}; else assign EPSG:{zone} to the file (QGIS: Layer Properties → Source)",
            )
        return None, finding(
            "error", "layer has no CRS and its coordinates are not lon/lat",
            f"set {key} to the CRS the coordinates are in (e.g. EPSG:4549, CGCS2000 / 3-degree GK "
            "CM 120E), or assign it to the file",
        )
    if declared.is_projected and lonlat:
        return CRS.from_user_input(CGCS2000), finding(
            "warning", f"CRS says projected ({declared.name}) but the coordinates look like lon/lat; "
            "read as CGCS2000 (EPSG:4490)",
            "fix the layer's CRS: assign (not reproject to) EPSG:4490",
        )
    if declared.is_geographic and not valid_lonlat(bounds):
        return None, finding(
            "error", f"CRS says lon/lat ({declared.name}) but the coordinates are not lon/lat "
            "(projected metres?)",
            "assign the projected CRS the coordinates are in (e.g. EPSG:4549)",
        )
    if declared.equals(CRS.from_epsg(4326)):
        return declared, finding(
            "info", "coordinates are WGS84; CGCS2000 differs from it by less than 0.1 m here",
            "nothing to do; if the data came from a web map (GCJ-02), see the offset check",
        )
    return declared, overridden
