"""Prepare the real DSM test sets of tests/data/real/ from their public sources.

    python scripts/make_real_dsm_sets.py delft SOURCE_DIR    # AHN3 LAZ + BGT footprints
    python scripts/make_real_dsm_sets.py zurich ZURICH_JSON  # LoD2 CityJSON → DSM, DEM, truth

``delft``: SOURCE_DIR holds ``ahn3_cropped_1.laz`` and ``bgt_pand.sqlite`` of
tudelft3d/3dfier's ``example_data``; the cloud is clipped to the northern block and the
footprints wholly inside it are kept (``lokaalid`` as ``building_id``). Plane labels
are then measured from profiles of the gridded DSM (``scripts/bench_planes.py``'s
``measure_labels`` with edges ≥ 3 m).

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
    ap.add_argument("set", choices=["delft", "zurich"])
    ap.add_argument("source", type=Path)
    args = ap.parse_args(argv)
    {"delft": delft, "zurich": zurich}[args.set](args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
