"""Synthetic DSM scenes with known roofs, written as GeoTIFF tiles in a national CRS.

A scene is a 100 m × 80 m patch of sloping ground with fourteen buildings of known
geometry (flat, gable, hip, mansard, low-pitch, two-pitch, a row of narrow houses, a
narrow gable, a steep gable), trees beside them and a building without footprint; its
DSM is the exact surface sampled at pixel centres (as LiDAR gridding does), optionally
noisy and quantised; its DEM is the ground sampled on the grid of another CRS and
resolution. Truth is the planes the roofs were built from (tilt, azimuth against true
north from pyproj's geodesic, plan polygon) and each building's median height above
its ground over the footprint, computed on a 0.1 m lattice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import shapely
from rasterio.transform import from_origin

#: Scene origin (south-west corner) in each national CRS, and the CRS of its DEM.
PLACES = {
    "EPSG:3007": ((147_700.0, 6_398_500.0), "EPSG:3006", 2.0),  # SWEREF99 12 00; DEM SWEREF99 TM 2 m
    "EPSG:28992": ((155_000.0, 463_000.0), "EPSG:25831", 0.7),  # RD New; DEM ETRS89 UTM 31N 0.7 m
    "EPSG:4549": ((596_000.0, 3_400_000.0), "EPSG:4490", 1e-5),  # CGCS2000 GK 120E; DEM geographic
}
SIZE = (100.0, 80.0)
#: Ground around the scene on the DSM [m] (room for the buildings when turned).
MARGIN = 20.0


def ground(u, v):
    """Ground height [m] at local (u, v) [m east, north of the origin]: a 2 % / 1 % slope."""
    return 12.0 + 0.02 * np.asarray(u) + 0.01 * np.asarray(v)


def _gable(box, pitch_s, pitch_n=None, axis="u", ridge=None):
    """Roof height above the eaves of a gable with its ridge along ``axis``."""
    u0, v0, u1, v1 = box
    pitch_n = pitch_s if pitch_n is None else pitch_n
    ts, tn = np.tan(np.radians(pitch_s)), np.tan(np.radians(pitch_n))
    if axis == "u":  # planes face south (below the ridge) and north
        width = v1 - v0
        ridge = v0 + width * tn / (ts + tn) if ridge is None else ridge
        return lambda u, v: np.where(v < ridge, (v - v0) * ts, (v1 - v) * tn), ridge
    width = u1 - u0
    ridge = u0 + width * tn / (ts + tn) if ridge is None else ridge
    return lambda u, v: np.where(u < ridge, (u - u0) * ts, (u1 - u) * tn), ridge


def buildings() -> list[dict]:
    """Footprint (local box), eave height, roof function and truth planes of each building."""
    out = []

    def add(bid, box, eave, roof, planes):
        out.append({"building_id": bid, "box": box, "eave": eave, "roof": roof, "planes": planes})

    add("flat", (5, 5, 25, 19), 9.0, lambda u, v: np.zeros_like(u), [(shapely.box(5, 5, 25, 19), 0.0, 180.0)])
    f, r = _gable((35, 5, 59, 17), 35.0)
    add("gable35", (35, 5, 59, 17), 6.0, f,
        [(shapely.box(35, 5, 59, r), 35.0, 180.0), (shapely.box(35, r, 59, 17), 35.0, 0.0)])
    t = np.tan(np.radians(30.0))
    add("hip30", (68, 4, 90, 18), 7.0,
        lambda u, v: np.minimum.reduce([v - 4, 18 - v, u - 68, 90 - u]) * t,
        [(shapely.Polygon([(68, 4), (90, 4), (83, 11), (75, 11)]), 30.0, 180.0),
         (shapely.Polygon([(68, 18), (90, 18), (83, 11), (75, 11)]), 30.0, 0.0),
         (shapely.Polygon([(68, 4), (68, 18), (75, 11)]), 30.0, 270.0),
         (shapely.Polygon([(90, 4), (90, 18), (83, 11)]), 30.0, 90.0)])
    steep, shallow = np.tan(np.radians(60.0)), np.tan(np.radians(15.0))

    def mansard(u, v):
        d = np.minimum(v - 30, 42 - v)
        return np.where(d < 2.5, d * steep, 2.5 * steep + (d - 2.5) * shallow)

    add("mansard", (5, 30, 27, 42), 7.0, mansard,
        [(shapely.box(5, 30, 27, 32.5), 60.0, 180.0), (shapely.box(5, 39.5, 27, 42), 60.0, 0.0),
         (shapely.box(5, 32.5, 27, 36), 15.0, 180.0), (shapely.box(5, 36, 27, 39.5), 15.0, 0.0)])
    f, r = _gable((35, 30, 51, 40), 10.0)
    add("low10", (35, 30, 51, 40), 5.0, f,
        [(shapely.box(35, 30, 51, r), 10.0, 180.0), (shapely.box(35, r, 51, 40), 10.0, 0.0)])
    f, r = _gable((60, 28, 80, 42), 28.0, 44.0)
    add("twopitch", (60, 28, 80, 42), 6.0, f,
        [(shapely.box(60, 28, 80, r), 28.0, 180.0), (shapely.box(60, r, 80, 42), 44.0, 0.0)])
    for i in range(5):  # row houses 5 m wide, ridge along the row
        box = (5 + 5 * i, 55, 10 + 5 * i, 64)
        f, r = _gable(box, 40.0)
        add(f"row{i}", box, 6.0, f,
            [(shapely.box(box[0], 55, box[2], r), 40.0, 180.0), (shapely.box(box[0], r, box[2], 64), 40.0, 0.0)])
    f, r = _gable((40, 52, 58, 58), 38.0)
    add("narrow", (40, 52, 58, 58), 6.0, f,
        [(shapely.box(40, 52, 58, r), 38.0, 180.0), (shapely.box(40, r, 58, 58), 38.0, 0.0)])
    t70, t40 = np.tan(np.radians(70.0)), np.tan(np.radians(40.0))

    def steep_mansard(u, v):  # 70° lower bands 2.4 m wide under 40° upper planes
        d = np.minimum(v - 64, 76 - v)
        return np.where(d < 2.4, d * t70, 2.4 * t70 + (d - 2.4) * t40)

    add("mansard70", (40, 64, 58, 76), 4.0, steep_mansard,
        [(shapely.box(40, 64, 58, 66.4), 70.0, 180.0), (shapely.box(40, 73.6, 58, 76), 70.0, 0.0),
         (shapely.box(40, 66.4, 58, 70), 40.0, 180.0), (shapely.box(40, 70, 58, 73.6), 40.0, 0.0)])
    f, r = _gable((85, 45, 95, 70), 55.0, axis="v")  # ridge north-south: planes face west and east
    add("steep55", (85, 45, 95, 70), 5.0, f,
        [(shapely.box(85, 45, r, 70), 55.0, 270.0), (shapely.box(r, 45, 95, 70), 55.0, 90.0)])
    return out


#: Trees (centre u, v, crown radius, height above ground) beside the buildings, and a
#: building the footprints do not hold (box, height above ground).
TREES = [(30.0, 12.0, 4.0, 10.0), (63.0, 48.0, 3.5, 8.0), (33.0, 66.0, 3.0, 9.0), (82.0, 24.0, 3.0, 12.0)]
UNMAPPED = ((64.0, 55.0, 76.0, 66.0), 7.0)


def surface(u: np.ndarray, v: np.ndarray, with_trees: bool = True) -> np.ndarray:
    """Exact surface height [m] at local points."""
    z = ground(u, v).astype(float)
    (a, b, c, d), h = UNMAPPED
    z = np.where((u > a) & (u < c) & (v > b) & (v < d), ground((a + c) / 2, (b + d) / 2) + h, z)
    for bld in buildings():
        u0, v0, u1, v1 = bld["box"]
        inside = (u > u0) & (u < u1) & (v > v0) & (v < v1)
        base = ground((u0 + u1) / 2, (v0 + v1) / 2) + bld["eave"]
        z = np.where(inside, base + bld["roof"](u, v), z)
    if with_trees:
        for cu, cv, radius, h in TREES:
            d = np.hypot(u - cu, v - cv)
            crown = ground(cu, cv) + h * np.clip(1 - (d / radius) ** 2, 0, None) ** 0.5
            z = np.where(d < radius, np.maximum(z, crown), z)
    return z


@dataclass
class Scene:
    dsm: Path
    dem: Path
    footprints: gpd.GeoDataFrame
    truth: pd.DataFrame
    heights: pd.Series
    crs: str


def _true_azimuth(crs: str, x: np.ndarray, y: np.ndarray, grid_azimuth: np.ndarray) -> np.ndarray:
    """Geodesic azimuth of a 10 m step along each grid azimuth from (x, y)."""
    a = np.radians(grid_azimuth)
    to_geo = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_geo.transform(x, y)
    lon1, lat1 = to_geo.transform(x + 10 * np.sin(a), y + 10 * np.cos(a))
    return np.asarray(pyproj.Geod(ellps="GRS80").inv(lon0, lat0, lon1, lat1)[0]) % 360.0


def make_scene(folder: Path, crs: str = "EPSG:3007", res: float = 0.5, noise: float = 0.0,
               step: float = 0.0, seed: int = 0, turn_deg: float = 0.0, shift_m: float = 0.0) -> Scene:
    """Write the scene's DSM (``crs``, ``res``, Gaussian ``noise`` σ [m], heights rounded
    to ``step`` [m] when > 0) and DEM (another CRS and grid) under ``folder``. The
    buildings are turned counter-clockwise by ``turn_deg`` about the scene's centre and
    the pixel grid is offset by ``shift_m`` (so outlines cross pixels)."""
    (x0, y0), dem_crs, dem_res = PLACES[crs]
    x0, y0 = x0 + shift_m, y0 + shift_m
    t = np.radians(turn_deg)
    cu, cv = SIZE[0] / 2, SIZE[1] / 2

    def unturn(u, v):  # grid-local point → scene frame
        du, dv = u - cu, v - cv
        return cu + du * np.cos(t) + dv * np.sin(t), cv - du * np.sin(t) + dv * np.cos(t)
    folder = Path(folder)
    (folder / "dsm").mkdir(parents=True, exist_ok=True)
    (folder / "dem").mkdir(parents=True, exist_ok=True)
    cols, rows = int((SIZE[0] + 2 * MARGIN) / res), int((SIZE[1] + 2 * MARGIN) / res)
    u, v = np.meshgrid((np.arange(cols) + 0.5) * res - MARGIN, SIZE[1] + MARGIN - (np.arange(rows) + 0.5) * res)
    z = surface(*unturn(u, v)) + np.random.default_rng(seed).normal(0.0, noise, u.shape)
    if step > 0:
        z = np.round(z / step) * step
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "nodata": -9999.0, "crs": crs}
    with rasterio.open(folder / "dsm" / "dsm.tif", "w", width=cols, height=rows,
                       transform=from_origin(x0 - MARGIN, y0 + SIZE[1] + MARGIN, res, res), **profile) as dst:
        dst.write(z.astype(np.float32), 1)
    # DEM: the ground on a grid of another CRS covering the scene with a margin.
    to_dem = pyproj.Transformer.from_crs(crs, dem_crs, always_xy=True)
    back = pyproj.Transformer.from_crs(dem_crs, crs, always_xy=True)
    far = MARGIN + 20
    ex, ey = to_dem.transform([x0 - far, x0 + SIZE[0] + far, x0 - far, x0 + SIZE[0] + far],
                              [y0 - far, y0 - far, y0 + SIZE[1] + far, y0 + SIZE[1] + far])
    left, top = min(ex), max(ey)
    dcols, drows = int(np.ceil((max(ex) - left) / dem_res)), int(np.ceil((top - min(ey)) / dem_res))
    du, dv = np.meshgrid(left + (np.arange(dcols) + 0.5) * dem_res, top - (np.arange(drows) + 0.5) * dem_res)
    gx, gy = back.transform(du, dv)
    with rasterio.open(folder / "dem" / "dem.tif", "w", width=dcols, height=drows,
                       transform=from_origin(left, top, dem_res, dem_res), **(profile | {"crs": dem_crs})) as dst:
        dst.write(ground(*unturn(gx - x0, gy - y0)).astype(np.float32), 1)

    def place(g):  # scene frame → CRS (turned about the centre, then moved to the origin)
        d = np.asarray([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        return shapely.transform(g, lambda c: (c - [cu, cv]) @ d + [cu + x0, cv + y0])

    blds = buildings()
    fp = gpd.GeoDataFrame({"building_id": [b["building_id"] for b in blds]},
                          geometry=[place(shapely.box(*b["box"])) for b in blds], crs=crs)
    rows_ = [(b["building_id"], place(p), tilt, az) for b in blds for p, tilt, az in b["planes"]]
    truth = pd.DataFrame(rows_, columns=["building_id", "geometry", "tilt_deg", "grid_azimuth_deg"])
    centre = shapely.get_coordinates(shapely.centroid(truth["geometry"].to_numpy()))
    truth["grid_azimuth_deg"] = (truth["grid_azimuth_deg"] - turn_deg) % 360.0
    truth["azimuth_deg"] = _true_azimuth(crs, centre[:, 0], centre[:, 1], truth["grid_azimuth_deg"].to_numpy())
    truth["area_m2"] = shapely.area(truth["geometry"].to_numpy())
    heights = {}
    for b in blds:
        u0, v0, u1, v1 = b["box"]
        fu, fv = np.meshgrid(np.arange(u0 + 0.05, u1, 0.1), np.arange(v0 + 0.05, v1, 0.1))
        heights[b["building_id"]] = float(np.median(surface(fu, fv, False) - ground(fu, fv)))
    return Scene(folder / "dsm", folder / "dem", fp.set_index("building_id"), truth,
                 pd.Series(heights, name="roof_height_m"), crs)


def score(planes: gpd.GeoDataFrame, truth: pd.DataFrame, tilt_tol: float = 5.0, az_tol: float = 15.0
          ) -> pd.DataFrame:
    """Each truth plane against the measured plane of its building overlapping it most:
    ``ok`` within ``tilt_tol`` / ``az_tol`` (azimuth not judged under 3° tilt) and
    ``measured_m2``, the truth area that plane covers."""
    out = []
    for row in truth.itertuples():
        own = planes[planes["building_id"] == row.building_id]
        overlap = shapely.area(shapely.intersection(own.geometry.to_numpy(), row.geometry)) if len(own) else []
        if len(own) == 0 or np.max(overlap) <= 0:
            out.append({"ok": False, "measured_m2": 0.0, "tilt_err": np.nan, "az_err": np.nan})
            continue
        p = own.iloc[int(np.argmax(overlap))]
        t_err = abs(p["tilt_deg"] - row.tilt_deg)
        a_err = abs((p["azimuth_deg"] - row.azimuth_deg + 180) % 360 - 180) if row.tilt_deg >= 3 else 0.0
        out.append({"ok": bool(t_err <= tilt_tol and a_err <= az_tol), "measured_m2": float(np.max(overlap)),
                    "tilt_err": t_err, "az_err": a_err})
    return pd.concat([truth.reset_index(drop=True), pd.DataFrame(out)], axis=1)
