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


def resolve_crs(crs, bounds, source: str) -> tuple[CRS | None, list[Finding]]:
    """The CRS to read a layer in, and what was wrong with the declared one.

    Returns ``(None, findings)`` when no usable CRS can be inferred (the caller stops
    with the finding's message).
    """
    declared = CRS.from_user_input(crs) if crs is not None else None
    lonlat = looks_like_lonlat(bounds)

    def finding(level, problem, fix):
        return [Finding(level, source, None, None, "CRS", str(declared), problem, fix)]

    if declared is None:
        if lonlat:
            return CRS.from_user_input(CGCS2000), finding(
                "warning", "layer has no CRS; coordinates look like lon/lat and are read as CGCS2000 (EPSG:4490)",
                "assign the CRS in QGIS (Layer Properties → Source) and save the layer",
            )
        return None, finding(
            "error", "layer has no CRS and its coordinates are not lon/lat",
            "assign the CRS the coordinates are in (e.g. EPSG:4549, CGCS2000 / 3-degree GK CM 120E)",
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
    return declared, []
