"""Roof planes measured by roofpv against truth: synthetic roofs and hand-checked real roofs.

    python scripts/bench_planes.py [--labels] [--seed 0] [--no-shading] [--no-scenes]

Synthetic: gable, hip, mansard, mono-pitch, L, U and courtyard (O) roofs from 15° to 60°
at 0.5 m and 1 m pixels with LiDAR-like noise (Gaussian σ 0.05–0.15 m plus 2 % of
pixels hit by ±0.5 m outliers); truth is the planes they were built from.
Real: the Gothenburg DSM (``tests/data/real/dsm_goteborg``) against ``plane_labels.csv``
there, measured from DSM profiles perpendicular to footprint edges (``--labels``
re-measures them; see the folder's README), independently of roofpv's segmentation.

Scenes: the synthetic DSM scenes of the tests (``tests/dsm_scenes.py``: flat, gable, hip,
mansard, 70° mansard, low-pitch, two-pitch, narrow row houses, trees, an unmapped building)
in SWEREF99 12 00, RD New and CGCS2000 GK with the DEM in another CRS and grid, read through
the tile reader as a survey reads them, at 0.5 m and 1 m, noise-free (1 m: 1 cm steps) or
with σ 0.05–0.15 m, aligned with the grid or turned 23°.

A truth plane is matched to the roofpv plane of its building that overlaps it most;
it is right when tilt is within 5° and azimuth within 15°. IoU is plan-area
intersection over union of the matched polygons. Shading: per-plane irradiation from
roofpv against a brute-force per-pixel reference (every daylight hour of a clear-sky
year, a shadow ray from every plane pixel toward the sun, isotropic sky diffuse from
145 sky patches ray-cast the same way).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roofpv.config import Dsm  # noqa: E402
from roofpv.io import tiles  # noqa: E402
from roofpv.roofs import dsm, shading  # noqa: E402
from roofpv.roofs.raster import Raster  # noqa: E402

REAL = ROOT / "tests" / "data" / "real" / "dsm_goteborg"
TILT_TOL, AZ_TOL = 5.0, 15.0


def _angle(a, b):
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


# --- synthetic roofs -------------------------------------------------------------------

def _synthetic(kind: str, pitch: float, res: float, noise: float, rng) -> tuple:
    """DSM, footprint and truth planes (polygon, tilt, azimuth) of one roof on flat ground."""
    size = 60.0
    n = int(size / res)
    c = (np.arange(n) + 0.5) * res
    x, y = np.meshgrid(c, size - c)
    t = np.tan(np.radians(pitch))
    eave = 8.0
    z = np.zeros_like(x)
    if kind in ("gable", "mono", "mansard", "hip"):
        x0, x1, y0, y1 = 15.0, 45.0, 22.0, 38.0
        fp = shapely.box(x0, y0, x1, y1)
        inside = (x > x0) & (x < x1) & (y > y0) & (y < y1)
        dn, ds, dw, de = y1 - y, y - y0, x - x0, x1 - x
        if kind == "gable":
            h = np.minimum(dn, ds) * t
            planes = [(shapely.box(x0, 30, x1, y1), pitch, 0.0), (shapely.box(x0, y0, x1, 30), pitch, 180.0)]
        elif kind == "mono":
            h = (y1 - y) * t
            planes = [(fp, pitch, 0.0)]
        elif kind == "hip":
            h = np.minimum.reduce([dn, ds, dw, de]) * t
            planes = [(shapely.Polygon([(x0, y1), (x1, y1), (x1 - 8, 30), (x0 + 8, 30)]), pitch, 0.0),
                      (shapely.Polygon([(x0, y0), (x1, y0), (x1 - 8, 30), (x0 + 8, 30)]), pitch, 180.0),
                      (shapely.Polygon([(x0, y0), (x0, y1), (x0 + 8, 30)]), pitch, 270.0),
                      (shapely.Polygon([(x1, y0), (x1, y1), (x1 - 8, 30)]), pitch, 90.0)]
        else:  # mansard: steep lower band 3 m wide, shallow (pitch/3) upper
            d = np.minimum(dn, ds)
            t2 = np.tan(np.radians(pitch / 3))
            h = np.where(d < 3, d * t, 3 * t + (d - 3) * t2)
            planes = [(shapely.box(x0, y1 - 3, x1, y1), pitch, 0.0), (shapely.box(x0, y0, x1, y0 + 3), pitch, 180.0),
                      (shapely.box(x0, 30, x1, y1 - 3), pitch / 3, 0.0),
                      (shapely.box(x0, y0 + 3, x1, 30), pitch / 3, 180.0)]
        z[inside] = eave + h[inside]
    else:  # L, U, O: gabled wings 10 m wide around a yard
        wings = {"L": [(10, 10, 50, 20, "x"), (10, 20, 20, 50, "y")],
                 "U": [(10, 10, 50, 20, "x"), (10, 20, 20, 50, "y"), (40, 20, 50, 50, "y")],
                 "O": [(10, 10, 50, 20, "x"), (10, 40, 50, 50, "x"), (10, 20, 20, 40, "y"), (40, 20, 50, 40, "y")]}[kind]
        planes, parts = [], []
        for a, b_, c_, d_, axis in wings:
            inside = (x > a) & (x < c_) & (y > b_) & (y < d_)
            if axis == "x":
                mid = (b_ + d_) / 2
                h = (5 - np.abs(y - mid)) * t
                planes += [(shapely.box(a + 10 if kind != "L" or a > 10 else a, mid, c_, d_), pitch, 0.0),
                           (shapely.box(a, b_, c_, mid), pitch, 180.0)]
            else:
                mid = (a + c_) / 2
                h = (5 - np.abs(x - mid)) * t
                planes += [(shapely.box(mid, b_, c_, d_), pitch, 90.0), (shapely.box(a, b_, mid, d_), pitch, 270.0)]
            z = np.where(inside, np.maximum(z, eave + h), z)
            parts.append(shapely.box(a, b_, c_, d_))
        fp = shapely.union_all(parts)
        # Valleys where wings meet make the wing planes overlap near corners: keep truth
        # to the parts of each wing plane away from the junction.
        planes = [(p, tl, az) for p, tl, az in planes]
    z = z + rng.normal(0, noise, z.shape)
    hit = rng.random(z.shape) < 0.02
    z[hit] += rng.choice([-0.5, 0.5], hit.sum())
    return Raster(z.astype(np.float32), 0.0, size, res), fp, planes


def bench_synthetic(rng) -> pd.DataFrame:
    rows = []
    for kind in ("gable", "hip", "mansard", "mono", "L", "U", "O"):
        for pitch in (15.0, 30.0, 45.0, 60.0):
            for res, noise in ((0.5, 0.05), (1.0, 0.15)):
                if kind == "mansard" and pitch < 30:
                    continue
                raster, fp, truth = _synthetic(kind, pitch, res, noise, rng)
                roofs, planes = dsm.roof_geometry(raster, gpd.GeoSeries([fp], index=["b"]))
                for poly, tilt, az in truth:
                    rows.append(_match("synthetic", kind, pitch, res, poly, tilt, az, planes))
    return pd.DataFrame(rows)


def _match(source, kind, pitch, res, poly, tilt, az, planes) -> dict:
    """The roofpv plane overlapping the truth polygon most, and its errors."""
    row = {"source": source, "kind": kind, "pitch": pitch, "res": res, "tilt": tilt, "azimuth": az}
    overlap = shapely.area(shapely.intersection(planes.geometry.to_numpy(), poly)) if len(planes) else []
    if len(planes) == 0 or np.max(overlap) <= 0:
        return row | {"found": False, "tilt_err": np.nan, "az_err": np.nan, "iou": 0.0, "ok": False}
    p = planes.iloc[int(np.argmax(overlap))]
    t_err = abs(p["tilt_deg"] - tilt)
    a_err = float(_angle(p["azimuth_deg"], az)) if tilt >= 3 else 0.0
    g = p.geometry
    iou = shapely.area(shapely.intersection(g, poly)) / shapely.area(shapely.union(g, poly))
    return row | {"found": True, "tilt_err": t_err, "az_err": a_err, "iou": iou,
                  "ok": bool(t_err <= TILT_TOL and a_err <= AZ_TOL)}


# --- real labelled roofs ---------------------------------------------------------------

def _profile(raster: Raster, start, direction, length, step=0.5):
    d = np.arange(0.0, length, step)
    xy = np.asarray(start)[None, :] + d[:, None] * np.asarray(direction)[None, :]
    return d, raster.sample(xy)


def measure_labels(raster: Raster, footprints: gpd.GeoSeries, dem: Raster | None = None,
                   min_edge_m: float = 6.0) -> pd.DataFrame:
    """Candidate plane labels from DSM profiles perpendicular to footprint edges.

    For each footprint edge ≥ ``min_edge_m`` long (6 m) of a footprint wholly on the DSM, nine profiles
    (from 20 to 80 % of the edge, every 0.5 m) run inward, perpendicular to the edge,
    to the highest point within the footprint and 15 m (the ridge). The pooled samples
    between 1.5 m inside the edge and 1 m before the median ridge distance are regressed
    on distance. A candidate is kept when the ridges agree (interquartile range ≤ 2 m),
    the pooled fit is straight (R² ≥ 0.8, ≥ 20 samples) and rises ≥ 5°. Tilt = the
    fitted slope; azimuth = the edge's outward normal; the plane polygon = the edge ×
    the median ridge distance, clipped to the footprint.
    """
    rows = []
    extent = shapely.box(*raster.bounds).buffer(-2)
    for bid, fp in footprints.items():
        if not shapely.within(fp, extent):
            continue
        ring = np.asarray(shapely.get_coordinates(shapely.orient_polygons(fp).exterior))
        for (xa, ya), (xb, yb) in zip(ring[:-1], ring[1:]):
            length = np.hypot(xb - xa, yb - ya)
            if length < min_edge_m:
                continue
            ex, ey = (xb - xa) / length, (yb - ya) / length
            inward = np.array([-ey, ex])  # exterior ring counter-clockwise: left is inside
            dd, zz, ridges = [], [], []
            for f in np.linspace(0.2, 0.8, 9):
                start = np.array([xa + f * (xb - xa), ya + f * (yb - ya)])
                d, z = _profile(raster, start, inward, 15.0)
                inside = shapely.contains_xy(fp, start[0] + d * inward[0], start[1] + d * inward[1])
                stop = np.flatnonzero(~inside[3:])
                end = 3 + stop[0] if stop.size else len(d)
                if end < 8 or not np.isfinite(z[:end]).all():
                    break
                ridges.append(d[int(np.argmax(z[:end]))])
                dd.append(d[:end])
                zz.append(z[:end])
            if len(ridges) < 9:
                continue
            depth = float(np.median(ridges))
            d, z = np.concatenate(dd), np.concatenate(zz)
            sel = (d >= 1.5) & (d <= depth - 1.0)
            if sel.sum() < 20 or np.subtract(*np.percentile(ridges, [75, 25])) > 2.0:
                continue
            k, c = np.polyfit(d[sel], z[sel], 1)
            r2 = 1 - np.var(z[sel] - (k * d[sel] + c)) / max(np.var(z[sel]), 1e-9)
            tilt = float(np.degrees(np.arctan(k)))
            if r2 < 0.8 or tilt < 5:
                continue
            az = np.degrees(np.arctan2(-inward[0], -inward[1])) % 360
            poly = shapely.intersection(shapely.Polygon([
                (xa, ya), (xb, yb), (xb + depth * inward[0], yb + depth * inward[1]),
                (xa + depth * inward[0], ya + depth * inward[1])]), fp)
            mid = np.array([xa + 0.5 * (xb - xa), ya + 0.5 * (yb - ya)]) + inward * depth / 2
            rows.append({"building_id": bid, "tilt_deg": round(tilt, 1),
                         "azimuth_deg": round(float(az), 1), "ridge_distance_m": round(float(depth), 2),
                         "profile_r2": round(float(r2), 4), "point_x": round(float(mid[0]), 2),
                         "point_y": round(float(mid[1]), 2), "area_m2": round(float(poly.area), 1),
                         "wkt": shapely.to_wkt(poly, rounding_precision=2)})
    return pd.DataFrame(rows)


def _real_inputs():
    b = gpd.read_file(REAL / "buildings.gpkg").set_index("building_id")
    crs = b.crs.to_wkt()
    mosaic = tiles.open_mosaic(REAL / "dsm", crs)
    dem = tiles.open_mosaic(REAL / "dem", crs)
    canopy = tiles.open_mosaic(REAL / "canopy", crs)
    (pos, raster, ground, trees), = tiles.windows(mosaic, b.geometry.to_numpy(), 0.0, 1e4, dem, canopy)
    return b.geometry.iloc[pos], raster, ground, trees


def bench_real() -> pd.DataFrame:
    footprints, raster, ground, trees = _real_inputs()
    labels = pd.read_csv(REAL / "plane_labels.csv", dtype={"building_id": str})
    labels = labels[labels["keep"] == 1]
    roofs, planes = dsm.roof_geometry(raster, footprints, Dsm(), ground, trees)
    rows = []
    for _, lab in labels.iterrows():
        own = planes[planes["building_id"] == lab["building_id"]]
        poly = shapely.from_wkt(lab["wkt"])
        row = _match("real", lab["building_id"], lab["tilt_deg"], raster.res, poly, lab["tilt_deg"],
                     lab["azimuth_deg"], own)
        overlap = shapely.area(shapely.intersection(own.geometry.to_numpy(), poly)) if len(own) else [0.0]
        rows.append(row | {"area": poly.area, "measured_m2": float(np.max(overlap)) * row["ok"]})
    return pd.DataFrame(rows)


# --- shading against a per-pixel reference ---------------------------------------------

def _shadow(surface: np.ndarray, res: float, rows, cols, z0, sun_az, sun_el, reach_m) -> np.ndarray:
    """True where the ray from each point toward (sun_az, sun_el) hits the surface."""
    step = res / 2
    d = np.arange(step, reach_m, step)
    dx, dy = np.sin(np.radians(sun_az)), np.cos(np.radians(sun_az))
    tan_el = np.tan(np.radians(sun_el))
    r = np.floor(rows[:, None] - d[None, :] * dy / res).astype(int)
    c = np.floor(cols[:, None] + d[None, :] * dx / res).astype(int)
    ok = (r >= 0) & (r < surface.shape[0]) & (c >= 0) & (c < surface.shape[1])
    h = np.where(ok, surface[np.clip(r, 0, surface.shape[0] - 1), np.clip(c, 0, surface.shape[1] - 1)], -np.inf)
    return np.any(np.nan_to_num(h, nan=-np.inf) > z0[:, None] + d[None, :] * tan_el, axis=1)


def bench_shading(max_planes: int = 60) -> pd.DataFrame:
    """roofpv's plane irradiation against a brute-force per-pixel reference."""
    import pvlib

    footprints, raster, ground, trees = _real_inputs()
    lat, lon = 57.70, 11.97
    index = pd.date_range("2023-01-01", periods=8760, freq="h", tz="Europe/Stockholm")
    loc = pvlib.location.Location(lat, lon, "Europe/Stockholm", 10.0)
    cs = loc.get_clearsky(index + pd.Timedelta(minutes=30)).set_axis(index)
    weather = cs.assign(temp_air=10.0, wind_speed=2.0)
    params = Dsm(radius_m=150.0, points_per_plane=16)
    table = shading.sun_table(weather, lat, lon, 10.0, n_sectors=params.n_sectors)
    roofs, planes = dsm.measure_window(raster, footprints, table, params, ground, trees)
    _, _, window, label = dsm._segment(raster, footprints, params, ground, trees, None)
    surface = np.fmax(raster.z, np.where(np.nan_to_num(trees.z) > 0, ground.z + np.nan_to_num(trees.z), np.nan))
    sol = pvlib.solarposition.get_solarposition(index + pd.Timedelta(minutes=30), lat, lon)
    day = (sol["apparent_elevation"] > 0).to_numpy() & (weather["dni"] + weather["dhi"] > 0).to_numpy()
    el, az = sol["apparent_elevation"].to_numpy()[day], sol["azimuth"].to_numpy()[day]
    dni, dhi, ghi = (weather[c].to_numpy()[day] for c in ("dni", "dhi", "ghi"))
    # Sun positions binned to 2° × 1° (reference shadows are cast once per bin).
    key = np.rint(az / 2).astype(int) * 1000 + np.rint(el).astype(int)
    bins, inv = np.unique(key, return_inverse=True)
    # Sky patches for the isotropic diffuse: 145-ish (elevation bands of 12°).
    patches = [(a, e) for e in (6, 18, 30, 42, 54, 66, 78) for a in np.arange(0, 360, 360 / max(1, round(30 * np.cos(np.radians(e)))))]
    patches.append((0.0, 90.0))
    pe = np.radians(np.array([p[1] for p in patches]))
    pw = np.cos(pe)
    pw = pw / pw.sum()
    order = np.argsort(-planes["area_m2"].to_numpy())[:max_planes]
    rows = []
    wl = window.crop(window.bounds)
    roff = int(round((raster.y0 - wl.y0) / raster.res))
    coff = int(round((wl.x0 - raster.x0) / raster.res))
    for i in order:
        p = planes.iloc[i]
        cells = np.flatnonzero(label.ravel() == i)
        rr, cc = cells // label.shape[1] + roff, cells % label.shape[1] + coff
        z0 = raster.z[rr, cc] + params.point_height_m
        tilt = p["tilt_deg"] if p["tilt_deg"] >= params.flat_max_slope_deg else 0.0
        paz = p["azimuth_deg"] if tilt > 0 else 180.0
        lit = np.zeros((len(cells), bins.size), bool)
        for j, k in enumerate(bins):
            lit[:, j] = ~_shadow(surface, raster.res, rr + 0.5, cc + 0.5, z0, (k // 1000) * 2.0, k % 1000,
                                 params.radius_m)
        aoi = pvlib.irradiance.aoi(tilt, paz, 90 - el, az)
        beam = dni * np.maximum(np.cos(np.radians(aoi)), 0)
        seen = np.zeros(len(cells))
        for (a, e), w in zip(patches, pw):
            cos_inc = max(0.0, pvlib.tools.cosd(pvlib.irradiance.aoi(tilt, paz, 90 - e, a)))
            seen += w * cos_inc * ~_shadow(surface, raster.res, rr + 0.5, cc + 0.5, z0, a, e, params.radius_m)
        full = sum(w * max(0.0, pvlib.tools.cosd(pvlib.irradiance.aoi(tilt, paz, 90 - e, a)))
                   for (a, e), w in zip(patches, pw))
        sky_unshaded = pvlib.irradiance.isotropic(tilt, dhi).sum()
        ground_r = pvlib.irradiance.get_ground_diffuse(tilt, ghi, 0.2).sum()
        ref = (beam[None, :] * lit[:, inv]).sum(axis=1) + sky_unshaded * seen / full + ground_r
        unshaded = beam.sum() + sky_unshaded + ground_r
        rows.append({"building_id": p["building_id"], "plane": p["plane"], "tilt": tilt, "azimuth": paz,
                     "area_m2": p["area_m2"], "pixels": len(cells),
                     "roofpv_loss": p["shading_loss"], "reference_loss": 1 - ref.mean() / unshaded})
    out = pd.DataFrame(rows)
    out["irradiation_ratio"] = (1 - out["roofpv_loss"]) / (1 - out["reference_loss"])
    return out


def bench_scenes(folder: Path) -> pd.DataFrame:
    """Area within tolerance and area measured on the synthetic national-CRS scenes."""
    from tests.dsm_scenes import make_scene, score

    rows = []
    for crs in ("EPSG:3007", "EPSG:28992", "EPSG:4549"):
        for res, noise, step in ((0.5, 0.0, 0.0), (0.5, 0.05, 0.0), (0.5, 0.15, 0.0),
                                 (1.0, 0.0, 0.01), (1.0, 0.1, 0.0), (1.0, 0.15, 0.0)):
            for turn in (0.0, 23.0):
                scene = make_scene(folder / f"{crs[5:]}_{res}_{noise}_{turn}", crs, res, noise, step,
                                   turn_deg=turn, shift_m=0.3 if turn else 0.0)
                native = tiles.native_crs(scene.dsm)
                mosaic, dem = tiles.open_mosaic(scene.dsm, native), tiles.open_mosaic(scene.dem, native)
                fp = scene.footprints.geometry
                (pos, raster, ground, _), = tiles.windows(mosaic, fp.to_numpy(), 0.0, 1e4, dem)
                roofs, planes = dsm.roof_geometry(raster, fp.iloc[pos], Dsm(), ground)
                s = score(planes, scene.truth)
                area = s["area_m2"].sum()
                rows.append({"crs": crs, "res": res, "noise": noise, "turn": turn,
                             "within_tol_area": (s["area_m2"] * s["ok"]).sum() / area,
                             "measured_area": (s["measured_m2"] * s["ok"]).sum() / area,
                             "planes_within_tol": s["ok"].mean(),
                             "buildings_measured": (roofs["dsm_status"] == "measured").mean(),
                             "height_err_max_m": (roofs["roof_height_m"] - scene.heights).abs().max()})
    return pd.DataFrame(rows)


def _summary(df: pd.DataFrame, by: str) -> pd.DataFrame:
    return df.groupby(by).agg(planes=("ok", "size"), within_tol=("ok", "mean"),
                              tilt_err_median=("tilt_err", "median"), az_err_median=("az_err", "median"),
                              iou_median=("iou", "median"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", action="store_true", help="re-measure the candidate labels and exit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-shading", action="store_true")
    ap.add_argument("--no-scenes", action="store_true")
    args = ap.parse_args(argv)
    if args.labels:
        footprints, raster, ground, _ = _real_inputs()
        labels = measure_labels(raster, footprints, ground)
        print(labels.to_csv(index=False))
        return 0
    t = time.perf_counter()
    syn = bench_synthetic(np.random.default_rng(args.seed))
    real = bench_real()
    pd.set_option("display.width", 200)
    print("synthetic, by roof kind\n", _summary(syn, "kind").round(3))
    print("synthetic, by pitch\n", _summary(syn, "pitch").round(3))
    print(f"synthetic all: {len(syn)} planes, within tolerance {syn['ok'].mean():.1%}, "
          f"median IoU {syn['iou'].median():.2f}")
    print(f"real labelled: {len(real)} planes on {real['kind'].nunique()} roofs, within tolerance "
          f"{real['ok'].mean():.1%}, median tilt error {real['tilt_err'].median():.1f}°, "
          f"median azimuth error {real['az_err'].median():.1f}°, median IoU {real['iou'].median():.2f}")
    print(f"real labelled area within tolerance {(real['area'] * real['ok']).sum() / real['area'].sum():.1%}, "
          f"measured (overlap of a plane within tolerance) {real['measured_m2'].sum() / real['area'].sum():.1%}")
    print(real[~real["ok"]].drop(columns=["area", "measured_m2"]).round(2).to_string())
    if not args.no_scenes:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            scenes = bench_scenes(Path(folder))
        print("synthetic national-CRS scenes (DEM in another CRS and grid)\n", scenes.round(3).to_string())
        for res, part in scenes.groupby("res"):
            print(f"scenes at {res:g} m: area within tolerance min {part['within_tol_area'].min():.1%} "
                  f"mean {part['within_tol_area'].mean():.1%}; area measured min {part['measured_area'].min():.1%} "
                  f"mean {part['measured_area'].mean():.1%}")
    if not args.no_shading:
        sh = bench_shading()
        print(sh.round(3).to_string())
        print(f"shading: {len(sh)} planes, median irradiation ratio roofpv/reference "
              f"{sh['irradiation_ratio'].median():.3f}, "
              f"within 5 %: {(np.abs(sh['irradiation_ratio'] - 1) <= 0.05).mean():.0%}")
    print(f"({time.perf_counter() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
