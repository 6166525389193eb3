"""Prepare the real DSM test sets of tests/data/real/ from their public sources.

    python scripts/make_real_dsm_sets.py delft SOURCE_DIR    # AHN3 LAZ + BGT footprints
    python scripts/make_real_dsm_sets.py zurich ZURICH_JSON  # LoD2 CityJSON → DSM, DEM, truth
    python scripts/make_real_dsm_sets.py delft-labels        # Delft labels from the raw points
    python scripts/make_real_dsm_sets.py toufeng ODM_DSM     # drone photogrammetric DSM → DSM, DTM, footprints
    python scripts/make_real_dsm_sets.py toufeng-labels      # Toufeng labels: planes fitted in hand-drawn faces

``delft``: SOURCE_DIR holds ``ahn3_cropped_1.laz`` and ``bgt_pand.sqlite`` of
tudelft3d/3dfier's ``example_data``; the cloud is clipped to the northern block and the
footprints wholly inside it are kept (``lokaalid`` as ``building_id``). Plane labels
are then measured from profiles of the gridded DSM (``scripts/bench_planes.py``'s
``measure_labels`` with edges ≥ 3 m).

``delft-labels``: each Delft label's tilt and azimuth replaced by those of the dominant
plane of the raw LiDAR points in its polygon (:func:`dominant_plane`), the profile
values kept as ``profile_tilt_deg`` / ``profile_azimuth_deg``. The profiles were
regressed over the whole edge-to-ridge rectangle, which on 7 of 39 faces reaches over
a dormer or a flat strip and averages them into the slope
(face labelled 26.1° whose points lie at 33.7°); the raw points, not the gridded DSM
roofpv reads, decide the plane.

``zurich``: the City of Zurich LoD2 subset of cityjson/cjio's tests
(``zurich_subset_lod2.json``, EPSG:2056). Every building becomes a footprint (the
union of its ground surfaces), its roof surfaces the truth (tilt and azimuth from
each polygon's 3-D normal, plan area), and the roof surfaces are rasterised at 0.5 m:
the DSM holds the highest roof surface over each pixel centre, else the ground; the
DEM holds the ground (each building's lowest ground-surface height, the tile's
median between buildings). One tile per cluster of buildings (buildings whose boxes
with a 20 m halo touch), so the set is a folder of many small tiles.

``toufeng``: ODM_DSM is ``tests/data/odm/odm_dem/dsm.tif`` of
leftfield-geospatial/orthority, an OpenDroneMap DSM of a drone survey (Tuniu River,
Toufeng, Miaoli County, Taiwan; EPSG:32651, 0.8 m). Its northern 192 m (rows 0–240: the
village along the road; the river valley south of it has no buildings) become the DSM.
There is no DTM: :func:`ground_filter` derives one from the DSM. Footprints: in a
window set by hand around each building (:data:`TOUFENG_WINDOWS`), the largest
connected region whose height above that DTM lies in a hand-set range, outlined (cells
two regions share stay with the first).

``toufeng-labels``: each face of ``dsm_toufeng/plane_labels.csv`` is a polygon drawn by
hand on the DSM's hillshade, height, slope and aspect maps; its tilt and azimuth are
those of the plane fitted by least squares to the DSM pixels inside it
(:func:`plane_fit`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "real"
RES = 0.5
HALO = 20.0


def delft(source: Path) -> None:
    import laspy

    out = REAL / "dsm_delft"
    box = (84820.0, 447510.0, 84990.0, 447640.0)
    b = gpd.read_file(source / "bgt_pand.sqlite")
    inner = shapely.box(box[0] + 8, box[1] + 8, box[2] - 8, box[3] - 8)
    keep = b[b.within(inner)].copy()
    keep.insert(0, "building_id", keep.pop("lokaalid").astype(str))
    keep["bag_pand"] = keep["identificatiebagpnd"].astype("int64").astype(str).str.zfill(16)
    keep[["building_id", "bag_pand", "geometry"]].to_file(out / "buildings.gpkg", driver="GPKG")
    cloud = laspy.read(source / "ahn3_cropped_1.laz")
    m = (cloud.x >= box[0]) & (cloud.x < box[2]) & (cloud.y >= box[1]) & (cloud.y < box[3])
    clip = laspy.LasData(cloud.header)
    clip.points = cloud.points[m]
    (out / "laz").mkdir(exist_ok=True)
    clip.write(out / "laz" / "ahn3_delft_c_37en1_clip.laz")


#: Inlier distance of a point from a roof plane [m]: twice AHN3's stated vertical
#: accuracy (σ 5 cm), so a rough tiled roof's points stay on their plane.
INLIER_M = 0.10
#: The dominant plane must hold this share of a label's points to be the face; below
#: it the polygon holds no one face (the label is noted ``mixed``).
DOMINANT_SHARE = 0.5


def dominant_plane(xyz: np.ndarray, tries: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """The plane holding most of the points ``xyz`` (n, 3) within :data:`INLIER_M`
    (RANSAC over ``tries`` random triples; walls steeper than 75° skipped), refitted by
    least squares to its inliers.

    Returns tilt [deg], azimuth (downslope, clockwise from grid north) [deg] and the
    share of the points it holds."""
    rng = np.random.default_rng(seed)
    triples = xyz[rng.integers(0, len(xyz), (tries, 3))]
    normal = np.cross(triples[:, 1] - triples[:, 0], triples[:, 2] - triples[:, 0])
    length = np.linalg.norm(normal, axis=1)
    ok = length > 1e-9
    normal = normal[ok] / length[ok, None]
    ok2 = np.abs(normal[:, 2]) >= np.cos(np.radians(75.0))
    normal, origin = normal[ok2], triples[ok][ok2, 0]
    count = np.zeros(len(normal), np.int64)
    for start in range(0, len(normal), 200):  # (200, n) distances at a time
        sl = slice(start, start + 200)
        dist = np.abs(np.einsum("kj,nj->kn", normal[sl], xyz) - np.sum(normal[sl] * origin[sl], axis=1)[:, None])
        count[sl] = (dist < INLIER_M).sum(axis=1)
    best = int(np.argmax(count))
    inlier = np.abs((xyz - origin[best]) @ normal[best]) < INLIER_M
    p = xyz[inlier]
    design = np.c_[np.ones(len(p)), p[:, :2] - p[:, :2].mean(axis=0)]
    _, a, b = np.linalg.lstsq(design, p[:, 2], rcond=None)[0]
    return (float(np.degrees(np.arctan(np.hypot(a, b)))), float(np.degrees(np.arctan2(-a, -b)) % 360.0),
            float(inlier.mean()))


def delft_labels() -> None:
    import laspy

    out = REAL / "dsm_delft"
    lab = pd.read_csv(out / "plane_labels.csv", dtype={"building_id": str})
    if "profile_tilt_deg" not in lab:
        lab["profile_tilt_deg"], lab["profile_azimuth_deg"] = lab["tilt_deg"], lab["azimuth_deg"]
    cloud = laspy.read(out / "laz" / "ahn3_delft_c_37en1_clip.laz")
    building = np.asarray(cloud.classification) == 6
    x, y, z = (np.asarray(v)[building] for v in (cloud.x, cloud.y, cloud.z))
    notes = []
    for i, poly in enumerate(shapely.from_wkt(lab["wkt"])):
        inside = shapely.contains_xy(poly, x, y)
        tilt, azimuth, share = dominant_plane(np.c_[x[inside], y[inside], z[inside]])
        lab.loc[i, ["tilt_deg", "azimuth_deg", "points_share"]] = round(tilt, 1), round(azimuth, 1), round(share, 2)
        notes.append(f"mixed: the dominant plane holds {share:.0%} of {inside.sum()} points"
                     if share < DOMINANT_SHARE else "")
    lab["note"] = notes
    lab.to_csv(out / "plane_labels.csv", index=False)
    moved = (lab["tilt_deg"] - lab["profile_tilt_deg"]).abs() > 5
    print(f"{len(lab)} labels; {int(moved.sum())} moved by > 5° from their profile tilt; "
          f"{int((lab['note'] != '').sum())} mixed")


def _surfaces(cj: dict) -> tuple[dict, dict]:
    """Roof and ground polygons (3-D rings, metres) of every Building of a CityJSON."""
    scale, shift = np.asarray(cj["transform"]["scale"]), np.asarray(cj["transform"]["translate"])
    v = np.asarray(cj["vertices"], float) * scale + shift
    roofs, grounds = {}, {}
    for bid, o in cj["CityObjects"].items():
        if o["type"] != "Building":
            continue
        roofs[bid], grounds[bid] = [], []
        for part in [o, *(cj["CityObjects"][c] for c in o.get("children", []))]:
            for g in part.get("geometry", []):
                if g["type"] != "MultiSurface" or "semantics" in g and not g["semantics"]:
                    continue
                kinds = [g["semantics"]["surfaces"][i]["type"] if i is not None else None
                         for i in g["semantics"]["values"]]
                for rings, kind in zip(g["boundaries"], kinds):
                    ring = v[rings[0]]
                    if kind == "RoofSurface":
                        roofs[bid].append(ring)
                    elif kind == "GroundSurface":
                        grounds[bid].append(ring)
    return roofs, grounds


def _plane(ring: np.ndarray) -> tuple[np.ndarray, float]:
    """Unit normal (upward) and offset of the best-fit plane of a 3-D ring (Newell)."""
    n = np.zeros(3)
    for a, b in zip(ring, np.roll(ring, -1, axis=0)):
        n += [(a[1] - b[1]) * (a[2] + b[2]), (a[2] - b[2]) * (a[0] + b[0]), (a[0] - b[0]) * (a[1] + b[1])]
    n /= np.linalg.norm(n) or 1.0
    if n[2] < 0:
        n = -n
    return n, float(n @ ring.mean(axis=0))


def zurich(source: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    out = REAL / "dsm_zurich"
    for d in ("dsm", "dem"):
        (out / d).mkdir(parents=True, exist_ok=True)
        for old in (out / d).glob("*.tif"):
            old.unlink()
    roofs, grounds = _surfaces(json.loads(source.read_text(encoding="utf-8")))
    rows, foot, base = [], {}, {}
    for bid in roofs:
        rings = grounds[bid] or roofs[bid]
        fp = shapely.union_all([shapely.Polygon(r[:, :2]).buffer(0) for r in rings])
        if fp.is_empty or not roofs[bid]:
            continue
        foot[bid] = fp
        base[bid] = float(min(r[:, 2].min() for r in (grounds[bid] or [np.array([[0, 0, np.inf]])])))
        if not np.isfinite(base[bid]):
            base[bid] = float(min(r[:, 2].min() for r in roofs[bid]))
        for i, ring in enumerate(roofs[bid]):
            n, _ = _plane(ring)
            poly = shapely.Polygon(ring[:, :2]).buffer(0)
            if poly.is_empty:
                continue
            tilt = float(np.degrees(np.arccos(np.clip(n[2], -1, 1))))
            az = float(np.degrees(np.arctan2(n[0], n[1])) % 360) if tilt >= 1 else 0.0
            rows.append({"building_id": bid, "face": i, "tilt_deg": round(tilt, 2),
                         "azimuth_deg": round(az, 2), "area_m2": round(poly.area, 2),
                         "wkt": shapely.to_wkt(poly, rounding_precision=3), "keep": 1, "note": ""})
    ids = list(foot)
    fp = gpd.GeoDataFrame({"building_id": [i.removeprefix("UUID_") for i in ids]},
                          geometry=[foot[i] for i in ids], crs="EPSG:2056")
    fp.to_file(out / "buildings.gpkg", driver="GPKG")
    labels = pd.DataFrame(rows)
    labels["building_id"] = labels["building_id"].str.removeprefix("UUID_")
    labels.to_csv(out / "plane_labels.csv", index=False)
    # Clusters of buildings whose haloed boxes touch: one tile each.
    boxes = shapely.box(*np.asarray([shapely.bounds(foot[i]) for i in ids]).T)
    halo = shapely.buffer(boxes, HALO, join_style="mitre")
    tree = shapely.STRtree(halo)
    parent = list(range(len(ids)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(*tree.query(halo, predicate="intersects")):
        parent[find(a)] = find(b)
    clusters = {}
    for i in range(len(ids)):
        clusters.setdefault(find(i), []).append(i)
    for k, members in enumerate(clusters.values()):
        x0, y0, x1, y1 = shapely.total_bounds(halo[members])
        x0, y1 = np.floor(x0 / RES) * RES, np.ceil(y1 / RES) * RES
        w, h = int(np.ceil((x1 - x0) / RES)), int(np.ceil((y1 - y0) / RES))
        xc = x0 + (np.arange(w) + 0.5) * RES
        yc = y1 - (np.arange(h) + 0.5) * RES
        X, Y = np.meshgrid(xc, yc)
        ground = np.full((h, w), float(np.median([base[ids[i]] for i in members])))
        surface = np.full((h, w), -np.inf)
        for i in members:
            bid = ids[i]
            inside = shapely.contains_xy(foot[bid], X, Y)
            ground[inside] = base[bid]
            for ring in roofs[bid]:
                n, d = _plane(ring)
                poly = shapely.Polygon(ring[:, :2]).buffer(0)
                if n[2] < 0.05 or poly.is_empty:
                    continue
                a, b_, c_, d_ = shapely.bounds(poly)
                win = (X >= a) & (X <= c_) & (Y >= b_) & (Y <= d_)
                hit = win.copy()
                hit[win] = shapely.contains_xy(poly, X[win], Y[win])
                z = (d - n[0] * X[hit] - n[1] * Y[hit]) / n[2]
                surface[hit] = np.maximum(surface[hit], z)
        dsm = np.where(np.isfinite(surface), np.maximum(surface, ground), ground)
        for name, z in (("dsm", dsm), ("dem", ground)):
            with rasterio.open(out / name / f"zurich_{k:02d}.tif", "w", driver="GTiff", width=w,
                               height=h, count=1, dtype="float32", crs="EPSG:2056",
                               transform=from_origin(x0, y1, RES, RES), nodata=np.nan,
                               compress="deflate", predictor=3) as dst:
                dst.write(np.round(z, 2).astype(np.float32), 1)
    print(f"{len(fp)} buildings, {len(labels)} roof faces, {len(clusters)} tiles")


#: Toufeng DSM rows kept (the northern 192 m; the river valley south of them is bare).
TOUFENG_ROWS = 240
#: Hand-set footprint windows of the Toufeng DSM: building id → (first column, first
#: row, end column, end row) in DSM pixels and the range of heights above the DTM [m]
#: that is this building there (a neighbour, tree or lower annex outside it). Set on
#: the hillshade and height maps; W16 and N02 are blocks of several houses.
TOUFENG_WINDOWS = {
    "W01": (13, 99, 59, 124, 4.5, 10.5), "W02": (64, 102, 84, 152, 4.0, 10.0),
    "W03": (80, 125, 118, 167, 2.5, 16.0), "W04": (13, 147, 42, 169, 2.5, 8.0),
    "W05": (41, 156, 68, 185, 6.0, 13.0), "W06": (1, 166, 15, 193, 6.0, 13.0),
    "W07": (19, 166, 28, 194, 6.0, 13.0), "W09": (35, 203, 56, 230, 2.5, 6.5),
    "W10": (54, 183, 64, 202, 8.0, 20.0), "W11": (54, 202, 65, 224, 8.0, 20.0),
    "W12": (64, 203, 80, 227, 4.0, 12.0), "W13": (87, 195, 102, 224, 2.5, 16.0),
    "W14": (104, 188, 116, 220, 2.5, 20.0), "W16": (148, 166, 198, 201, 4.0, 16.0),
    "G01": (236, 132, 283, 191, 8.0, 22.0), "N02": (388, 35, 488, 74, 6.0, 18.0),
    "N03": (436, 76, 452, 95, 2.5, 12.0),
}


def ground_filter(z: np.ndarray, res: float) -> np.ndarray:
    """A DTM from a DSM ``z`` of cell ``res`` [m]: cells within 0.5 m of the DSM's grey
    opening by a 49 m square (wider than any building here) are ground; the ground is
    interpolated linearly between them (nearest beyond their hull), smoothed (Gaussian,
    σ 1.6 m) and kept at or below the DSM. The progressive-morphology idea of ODM's and
    PDAL's ground filters, in one step."""
    from scipy import ndimage
    from scipy.interpolate import griddata

    size = int(round(49.0 / res)) | 1
    ground = (z - ndimage.grey_opening(z, size=(size, size))) < 0.5
    rows, cols = np.nonzero(ground)
    grid = tuple(np.mgrid[:z.shape[0], :z.shape[1]])
    dtm = griddata((rows, cols), z[ground], grid, method="linear")
    dtm = np.where(np.isnan(dtm), griddata((rows, cols), z[ground], grid, method="nearest"), dtm)
    return np.minimum(ndimage.gaussian_filter(dtm, 1.6 / res), z)


def toufeng(source: Path) -> None:
    import rasterio
    from rasterio.features import shapes
    from rasterio.windows import Window
    from scipy import ndimage

    out = REAL / "dsm_toufeng"
    with rasterio.open(source) as src:
        window = Window(0, 0, src.width, TOUFENG_ROWS)
        z = src.read(1, window=window).astype(np.float64)
        transform, crs = src.window_transform(window), src.crs
    dtm = ground_filter(z, abs(transform.a))
    for folder, name, grid in (("dsm", "toufeng_odm_dsm.tif", z), ("dem", "toufeng_odm_dtm.tif", dtm)):
        (out / folder).mkdir(parents=True, exist_ok=True)
        with rasterio.open(out / folder / name, "w", driver="GTiff", width=grid.shape[1], height=grid.shape[0],
                           count=1, dtype="float32", crs=crs, transform=transform, nodata=np.nan,
                           compress="deflate", predictor=3) as dst:
            dst.write(grid.astype(np.float32), 1)
    above = z - dtm
    ids, geoms = [], []
    for bid, (c0, r0, c1, r1, lo, hi) in TOUFENG_WINDOWS.items():
        win = above[r0:r1, c0:c1]
        mask = ndimage.binary_opening((win >= lo) & (win <= hi))
        label, _ = ndimage.label(mask)
        mask = ndimage.binary_fill_holes(label == np.argmax(np.bincount(label.ravel())[1:]) + 1)
        parts = [shapely.geometry.shape(g) for g, _ in
                 shapes(mask.astype(np.uint8), mask=mask, transform=transform * transform.translation(c0, r0))]
        ids.append(bid)
        # Where two windows' regions meet, the earlier footprint keeps the shared cells.
        geoms.append(shapely.union_all(parts).simplify(0.5).difference(shapely.union_all(geoms)))
    gpd.GeoDataFrame({"building_id": ids}, geometry=geoms, crs=crs).to_file(out / "buildings.gpkg", driver="GPKG")
    print(f"{len(ids)} footprints; DSM and DTM {z.shape[1]} × {z.shape[0]} px")


def plane_fit(xyz: np.ndarray) -> dict:
    """Least-squares plane z = a + b·x + c·y of the DSM cells ``xyz`` (n, 3) of one face,
    refitted three times without the cells more than 2.5 robust σ (at least 5 cm) from
    it (water tanks, stair houses, parapets on the face).

    Returns tilt and azimuth (downslope, clockwise from grid north) [deg], the tilt's
    standard error from the fit [deg], the rms residual [m], the cells fitted and the
    share of them kept."""
    xy = xyz[:, :2] - xyz[:, :2].mean(axis=0)
    keep = np.ones(len(xyz), bool)
    for _ in range(4):
        design = np.c_[np.ones(keep.sum()), xy[keep]]
        coef = np.linalg.lstsq(design, xyz[keep, 2], rcond=None)[0]
        residual = xyz[:, 2] - np.c_[np.ones(len(xyz)), xy] @ coef
        sigma = 1.4826 * np.median(np.abs(residual[keep]))
        keep = np.abs(residual) <= max(2.5 * sigma, 0.05)
    rms = float(np.sqrt(np.mean(residual[keep] ** 2)))
    design = np.c_[np.ones(keep.sum()), xy[keep]]
    cov = np.linalg.pinv(design.T @ design)[1:, 1:] * rms ** 2
    _, b, c = coef
    slope = float(np.hypot(b, c))
    grad = np.array([b, c]) / max(slope, 1e-12)
    return {"tilt_deg": float(np.degrees(np.arctan(slope))),
            "azimuth_deg": float(np.degrees(np.arctan2(-b, -c)) % 360.0),
            "tilt_se_deg": float(np.degrees(np.sqrt(grad @ cov @ grad)) / (1 + slope ** 2)),
            "rms_m": rms, "cells": int(len(xyz)), "kept_share": float(keep.mean())}


#: A face is truth when its fit leaves at most this rms [m] (a plane, not a step or a
#: roof with its structures) ...
FACE_RMS_M = 0.30
#: ... from at least this many DSM cells, with a tilt determined to this standard
#: error [deg] (narrow ledges between steps are not) ...
FACE_MIN_CELLS = 12
FACE_SE_DEG = 2.0
#: ... and its tilt moves by at most this much [deg] when the polygon is shrunk by a
#: further 0.8 m (photogrammetric smoothing rounds ridges and eaves: a face whose
#: tilt depends on its edges is not measured by its polygon).
FACE_SHRINK_DEG = 3.0


def toufeng_labels() -> None:
    import rasterio

    out = REAL / "dsm_toufeng"
    lab = pd.read_csv(out / "plane_labels.csv", dtype={"building_id": str, "face": str})
    with rasterio.open(out / "dsm" / "toufeng_odm_dsm.tif") as src:
        z, t = src.read(1).astype(np.float64), src.transform
    rows, cols = np.indices(z.shape)
    x, y = t * (cols + 0.5, rows + 0.5)
    records = []
    for poly in shapely.from_wkt(lab["wkt"]):
        cells = {}
        for shrink in (0.4, 1.2):  # half a cell inside the drawn edge; one more cell
            inside = shapely.contains_xy(poly.buffer(-shrink), x, y)
            ok = inside.sum() >= 6 and np.ptp(x[inside]) > 0 and np.ptp(y[inside]) > 0
            cells[shrink] = plane_fit(np.c_[x[inside], y[inside], z[inside]]) if ok else None
        fit, inner = cells[0.4], cells[1.2]
        shift = abs(fit["tilt_deg"] - inner["tilt_deg"]) if inner else 0.0
        why = [f"rms {fit['rms_m']:.2f} m"] if fit["rms_m"] > FACE_RMS_M else []
        why += [f"{fit['cells']} cells"] if fit["cells"] < FACE_MIN_CELLS else []
        why += [f"tilt moves {shift:.1f}° when shrunk"] if shift > FACE_SHRINK_DEG else []
        why += [f"tilt ± {fit['tilt_se_deg']:.1f}°"] if fit["tilt_se_deg"] > FACE_SE_DEG else []
        records.append({"tilt_deg": round(fit["tilt_deg"], 1), "azimuth_deg": round(fit["azimuth_deg"], 1),
                        "tilt_se_deg": round(fit["tilt_se_deg"], 2), "rms_m": round(fit["rms_m"], 3),
                        "cells": fit["cells"], "kept_share": round(fit["kept_share"], 2),
                        "tilt_inner_deg": round(inner["tilt_deg"], 1) if inner else np.nan,
                        "azimuth_inner_deg": round(inner["azimuth_deg"], 1) if inner else np.nan,
                        "area_m2": round(poly.area, 1), "keep": int(not why), "note": "; ".join(why)})
    lab = pd.concat([lab[["building_id", "face", "wkt"]], pd.DataFrame(records)], axis=1)
    lab.to_csv(out / "plane_labels.csv", index=False)
    kept = lab[lab["keep"] == 1]
    print(f"{len(lab)} faces drawn, {len(kept)} kept ({kept['area_m2'].sum():.0f} m²)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", choices=["delft", "delft-labels", "zurich", "toufeng", "toufeng-labels"])
    ap.add_argument("source", type=Path, nargs="?")
    args = ap.parse_args(argv)
    if args.set in ("delft-labels", "toufeng-labels"):
        {"delft-labels": delft_labels, "toufeng-labels": toufeng_labels}[args.set]()
    else:
        {"delft": delft, "zurich": zurich, "toufeng": toufeng}[args.set](args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
