"""Roof geometry from footprints: projected CRS, main axis, roof planes and setbacks.

Without a DSM a roof is modelled from its footprint and roof type: flat roofs are one
plane; pitched and metal roofs are gables with the ridge along the footprint's long
axis, so their two planes face the two normals of that axis. Each plane is returned
in a *local frame*: centred on the footprint and rotated so that the plane faces
local −y (south), which is the frame :mod:`roofpv.roofs.layout` packs modules in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from roofpv.roofs import convex


def gauss_kruger_epsg(longitude: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (CM form, no zone prefix).

    EPSG:4534 is CM 75°E, EPSG:4554 CM 135°E, one code per 3°; China lies in between.
    """
    cm = 3 * round(longitude / 3)
    if not 75 <= cm <= 135:
        raise ValueError(f"longitude {longitude}° is outside the CGCS2000 3° zones (75–135°E)")
    return 4534 + (cm - 75) // 3


#: Where the CGCS2000 Gauss-Krüger zones serve: China's extent [degrees].
CHINA_LATITUDE = (3.0, 54.0)
CHINA_LONGITUDE = (73.5, 136.5)


def analysis_epsg(latitude: float, longitude: float) -> int:
    """EPSG code of a metric CRS for a site: its CGCS2000 3° Gauss-Krüger zone inside
    China's extent, else its WGS84 UTM zone (326xx north, 327xx south)."""
    lat_ok = CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]
    if lat_ok and CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1]:
        return gauss_kruger_epsg(min(max(longitude, 75.0), 135.0))
    return utm_epsg(latitude, longitude)


def utm_epsg(latitude: float, longitude: float) -> int:
    """EPSG code of the WGS84 UTM zone of a point (326xx north, 327xx south)."""
    zone = int((longitude + 180.0) // 6.0) % 60 + 1
    return (32600 if latitude >= 0 else 32700) + zone


def ridge_facing_azimuth(geometry: np.ndarray) -> np.ndarray:
    """Azimuth (deg from north, clockwise) of the footprint normal nearest to south.

    The normals are those of the long side of the minimum rotated rectangle, i.e. the
    directions the two planes of a gable along the long axis face; the one in
    [90°, 270°) is returned.
    """
    env = shapely.oriented_envelope(geometry)
    coords = shapely.get_coordinates(env).reshape(len(geometry), 5, 2)
    e1 = coords[:, 1] - coords[:, 0]
    e2 = coords[:, 2] - coords[:, 1]
    longer = np.where(
        (np.hypot(*e1.T) >= np.hypot(*e2.T))[:, None], e1, e2
    )
    axis_math = np.degrees(np.arctan2(longer[:, 1], longer[:, 0]))
    # Compass azimuth of the normal (axis rotated by -90° in math sense).
    normal = (90.0 - (axis_math - 90.0)) % 360.0
    return np.where((normal >= 90) & (normal < 270), normal, (normal + 180.0) % 360.0)


def to_local(geometry: np.ndarray, centre: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """Translate each geometry so its centre is the origin, then rotate it
    counter-clockwise by its own angle (deg)."""
    _, index = shapely.get_coordinates(geometry, return_index=True)
    theta = np.radians(angle_deg)[index]
    cos, sin, origin = np.cos(theta), np.sin(theta), centre[index]

    def turn(xy: np.ndarray) -> np.ndarray:
        dx, dy = (xy - origin).T
        return np.column_stack([dx * cos - dy * sin, dx * sin + dy * cos])

    return shapely.transform(geometry, turn)


def from_local(geometry: np.ndarray, centre: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_local`: rotate each geometry clockwise by its own angle (deg)
    about the origin, then move the origin to its centre."""
    _, index = shapely.get_coordinates(geometry, return_index=True)
    theta = np.radians(angle_deg)[index]
    cos, sin, origin = np.cos(theta), np.sin(theta), centre[index]

    def turn(xy: np.ndarray) -> np.ndarray:
        x, y = xy.T
        return np.column_stack([x * cos + y * sin, -x * sin + y * cos]) + origin

    return shapely.transform(geometry, turn)


def roof_planes(
    geometry: np.ndarray, n_planes: np.ndarray, slope_deg: np.ndarray, setback_m: np.ndarray
) -> pd.DataFrame:
    """Split projected footprints into roof planes in their local frames.

    Parameters
    ----------
    geometry : array of Polygon/MultiPolygon, projected CRS in metres
    n_planes : array of int, 1 (flat or mono-pitch) or 2 (gable along the long axis)
    slope_deg : array of float, roof pitch; 0 for flat roofs
    setback_m : array of float, clear margin kept from the roof edges and ridge

    Returns
    -------
    DataFrame, one row per plane: ``building`` (position in the input), ``plane``
    (0 front, 1 back), ``azimuth_deg`` (direction the plane faces), ``slope_deg``,
    ``local`` (plane polygon after setbacks, local frame, horizontal metres),
    ``centre_x``/``centre_y`` and ``rotation_deg`` to map the local frame back
    (rotate by −rotation_deg about the centre, then translate).
    """
    n = len(geometry)
    centre = shapely.get_coordinates(shapely.centroid(geometry))
    flat = (n_planes == 1) & (slope_deg == 0)
    front_az = np.full(n, 180.0)
    front_az[~flat] = ridge_facing_azimuth(geometry[~flat])
    # Rotating by (azimuth − 180)° counter-clockwise turns the facing direction to south.
    rotation = front_az - 180.0
    gable = n_planes == 2
    index = np.concatenate([np.arange(n), np.flatnonzero(gable)])
    setback = setback_m[index]

    # Convex footprints (nearly all) in closed form on their coordinates; the others,
    # and planes with repeated or nearly collinear vertices, through shapely.
    rings, whole = convex.from_polygons(geometry)
    fast = whole & (convex.convexity(rings) >= 0)
    rings = _rotate(convex.select(rings, fast), centre, rotation)
    xmin, ymin, xmax, ymax = convex.bounds(rings).T
    ridge = (ymin + ymax) / 2.0
    zero, one = np.zeros(n), np.ones(n)
    front = convex.clip(rings, zero, np.where(gable, one, 0.0), np.where(gable, ridge, 1.0))
    back = convex.clip(convex.select(rings, gable), zero, -one, -ridge)
    back = convex.Rings(-back.xy, back.count)   # turned by 180° to face local −y too
    back = convex.Rings(back.xy, back.count[gable])
    pre = convex.concat(front, back)
    fast = fast[index]
    clean = fast & (convex.convexity(pre) > np.maximum(CLEAN_M, CLEAN_SHARE * setback))
    at = np.flatnonzero(clean)
    inset, whole = convex.inset(convex.take(pre, at), setback[at])
    clean[at[~whole]] = False
    local = np.empty(len(index), dtype=object)
    local[at[whole]] = convex.to_polygons(convex.take(inset, np.flatnonzero(whole)))
    shaped = np.empty(len(index), dtype=object)
    at = np.flatnonzero(fast & ~clean)
    shaped[at] = convex.to_polygons(convex.take(pre, at))
    slow = ~fast[:n]
    shaped[np.flatnonzero(~fast)] = _split(geometry[slow], centre[slow], rotation[slow], gable[slow])
    rest = ~clean
    local[rest] = shapely.buffer(shaped[rest], -setback[rest], join_style="mitre")

    planes = pd.DataFrame(
        {
            "building": index,
            "plane": np.r_[np.zeros(n, int), np.ones(gable.sum(), int)],
            "azimuth_deg": np.r_[front_az, (front_az[gable] + 180.0) % 360.0],
            "slope_deg": slope_deg[index],
            "local": local,
            "centre_x": centre[index, 0],
            "centre_y": centre[index, 1],
            "rotation_deg": np.r_[rotation, rotation[gable] + 180.0],
        }
    )
    return planes.sort_values(["building", "plane"], kind="stable").reset_index(drop=True)


#: Planes whose vertices all stand at least CLEAN_M, and CLEAN_SHARE of the setback,
#: from the line through their neighbours are inset in closed form
#: (:func:`roofpv.roofs.convex.inset`) where no edge vanishes. The others go through shapely's
#: buffer, whose result they decide: it drops vertices closer than 1 % of the distance
#: to that line, and below a millimetre an edge's direction is uncertain.
CLEAN_M = 1e-3
CLEAN_SHARE = 0.02


def _rotate(rings: convex.Rings, centre: np.ndarray, angle_deg: np.ndarray) -> convex.Rings:
    """:func:`to_local` on rings."""
    owner = rings.owner
    theta = np.radians(angle_deg)[owner]
    cos, sin = np.cos(theta), np.sin(theta)
    dx, dy = (rings.xy - centre[owner]).T
    return convex.Rings(np.column_stack([dx * cos - dy * sin, dx * sin + dy * cos]), rings.count)


def _split(geometry: np.ndarray, centre: np.ndarray, rotation: np.ndarray,
           gable: np.ndarray) -> np.ndarray:
    """Planes of any footprints before setbacks, with shapely: each footprint in its
    local frame, gables cut at the ridge (the back half turned by 180°); fronts first,
    then the backs of the gables."""
    n = len(geometry)
    local = to_local(geometry, centre, rotation)
    xmin, ymin, xmax, ymax = shapely.bounds(local).T
    ridge = (ymin + ymax) / 2.0
    g = np.flatnonzero(gable)
    front = local.copy()
    front[g] = shapely.intersection(local[g], shapely.box(xmin[g], ymin[g], xmax[g], ridge[g]))
    back = shapely.intersection(local[g], shapely.box(xmin[g], ridge[g], xmax[g], ymax[g]))
    back = shapely.transform(back, lambda xy: -xy)
    return np.concatenate([front, back]) if n else front
