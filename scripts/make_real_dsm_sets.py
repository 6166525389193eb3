"""Prepare the real DSM test sets of tests/data/real/ from their public sources.

    python scripts/make_real_dsm_sets.py delft SOURCE_DIR    # AHN3 LAZ + BGT footprints
    python scripts/make_real_dsm_sets.py zurich ZURICH_JSON  # LoD2 CityJSON → DSM, DEM, truth
    python scripts/make_real_dsm_sets.py delft-labels        # Delft labels from the raw points

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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", choices=["delft", "delft-labels", "zurich"])
    ap.add_argument("source", type=Path, nargs="?")
    args = ap.parse_args(argv)
    if args.set == "delft-labels":
        delft_labels()
    else:
        {"delft": delft, "zurich": zurich}[args.set](args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
