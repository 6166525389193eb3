"""Benchmark: roof geometry and shading of N synthetic roofs on a 1 m DSM (opt-in).

    python scripts/bench_dsm.py [--roofs 100000] [--workers 2] [--radius 300]

Builds a synthetic town (untimed): roofs on a jittered grid, 60 % flat, 30 % gables,
10 % hips, 3-30 m tall, plus trees; writes it as 1000 × 1000 GeoTIFF tiles in a
temporary folder. Then times the sun table, and geometry + horizon + shading loss
through :func:`roofpv.io.tiles.windows` and :func:`roofpv.roofs.dsm.measure`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.transform import from_origin

from roofpv.config import Dsm
from roofpv.energy import weather
from roofpv.io import tiles
from roofpv.roofs import dsm, shading

CRS = "EPSG:4549"
X0, Y0 = 590_000.0, 3_400_000.0
SPACING = 22.0
PINGHU = dict(
    monthly_ghi_kwh_m2=[74.5, 80.2, 110.2, 131.2, 144.6, 134.4, 149.7, 148.8, 113.8, 96.3, 77.2, 75.5],
    monthly_temp_air_c=[5.0, 6.4, 10.3, 16.0, 21.0, 24.6, 28.1, 28.4, 24.4, 19.3, 13.1, 6.9],
    monthly_wind_m_s=[2.8, 2.8, 3.3, 2.8, 3.0, 3.0, 2.4, 2.1, 3.3, 2.6, 2.3, 2.3],
)


def synthetic_town(n_roofs: int, seed: int = 0) -> tuple[np.ndarray, gpd.GeoSeries]:
    """1 m DSM (rows, cols; north-west corner X0, Y0) and footprints of ``n_roofs``."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_roofs)))
    size = int(side * SPACING) + 40
    z = (3.0 + 0.3 * rng.standard_normal()).__float__() * np.ones((size, size), np.float32)
    k = np.arange(n_roofs)
    cx = 20 + (k % side + 0.5) * SPACING + rng.uniform(-2, 2, n_roofs)
    cy = 20 + (k // side + 0.5) * SPACING + rng.uniform(-2, 2, n_roofs)
    length, width = rng.uniform(8, 16, n_roofs), rng.uniform(6, 12, n_roofs)
    swap = rng.random(n_roofs) < 0.5
    hx, hy = np.where(swap, width, length) / 2, np.where(swap, length, width) / 2
    eave = rng.uniform(3, 30, n_roofs)
    form = rng.choice(3, n_roofs, p=[0.6, 0.3, 0.1])
    pitch = np.tan(np.radians(rng.uniform(15, 35, n_roofs)))
    for i in range(n_roofs):
        c0, c1 = int(round(cx[i] - hx[i])), int(round(cx[i] + hx[i]))
        r0, r1 = int(round(cy[i] - hy[i])), int(round(cy[i] + hy[i]))
        u = np.arange(c0, c1) + 0.5 - cx[i]
        v = np.arange(r0, r1) + 0.5 - cy[i]
        du, dv = hx[i] - np.abs(u)[None, :], hy[i] - np.abs(v)[:, None]
        if form[i] == 0:
            rise = 0.0
        elif form[i] == 1:
            rise = (dv if hy[i] < hx[i] else du) * pitch[i]
        else:
            rise = np.minimum(du, dv) * pitch[i]
        z[r0:r1, c0:c1] = 3.0 + eave[i] + rise
    # Trees between the buildings (cones 5-12 m, radius 3 m) on the grid's street corners.
    tx, ty = np.meshgrid(20 + np.arange(side + 1) * SPACING, 20 + np.arange(side + 1) * SPACING)
    pick = rng.random(tx.size) < 0.3
    for x, y, h in zip(tx.ravel()[pick], ty.ravel()[pick], rng.uniform(5, 12, pick.sum())):
        r0, c0 = int(y) - 3, int(x) - 3
        yy, xx = np.mgrid[r0:r0 + 7, c0:c0 + 7] + 0.5
        cone = 3.0 + h * np.clip(1 - np.hypot(xx - x, yy - y) / 3.0, 0, 1)
        z[r0:r0 + 7, c0:c0 + 7] = np.maximum(z[r0:r0 + 7, c0:c0 + 7], cone)
    boxes = shapely.box(X0 + cx - hx, Y0 - (cy + hy), X0 + cx + hx, Y0 - (cy - hy))
    ids = pd.Index([f"B{i:06d}" for i in range(n_roofs)], name="building_id")
    return z, gpd.GeoSeries(boxes, index=ids, crs=CRS)


def write_tiles(z: np.ndarray, folder: Path, tile: int = 1000) -> None:
    """Cut ``z`` into GeoTIFF tiles (nodata −9999, DEFLATE)."""
    for r in range(0, z.shape[0], tile):
        for c in range(0, z.shape[1], tile):
            part = z[r:r + tile, c:c + tile]
            profile = dict(driver="GTiff", width=part.shape[1], height=part.shape[0], count=1,
                           dtype="float32", crs=CRS, nodata=-9999.0, compress="deflate",
                           tiled=True, transform=from_origin(X0 + c, Y0 - r, 1.0, 1.0))
            with rasterio.open(folder / f"dsm_{r}_{c}.tif", "w", **profile) as dst:
                dst.write(part, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roofs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--radius", type=float, default=300.0)
    args = parser.parse_args()

    t = time.perf_counter()
    z, footprints = synthetic_town(args.roofs)
    print(f"synthetic town: {len(footprints):,} roofs, DSM {z.shape[1]} × {z.shape[0]} px "
          f"({z.size / 1e6:.0f} Mpx, 1 m) in {time.perf_counter() - t:.1f} s (untimed)")
    with tempfile.TemporaryDirectory() as tmp:
        write_tiles(z, Path(tmp))
        del z
        t = time.perf_counter()
        hourly, _ = weather.typical_year(30.677, 121.013, 5.0, **PINGHU)
        table = shading.sun_table(hourly, 30.677, 121.013, 5.0)
        t_table = time.perf_counter() - t

        params = Dsm(radius_m=args.radius, workers=args.workers)
        t = time.perf_counter()
        mosaic = tiles.open_mosaic(tmp, CRS)
        windows = tiles.windows(mosaic, footprints.to_numpy(), params.radius_m)
        roofs, planes = dsm.measure(windows, footprints, table, params, flat_module_tilt_deg=20.0)
        t_measure = time.perf_counter() - t

    measured = int(roofs["measured"].sum())
    print(f"sun table: {t_table:.1f} s")
    print(f"geometry + shading: {t_measure:.1f} s for {measured:,} measured roofs, "
          f"{len(planes):,} planes, {args.workers} workers, radius {args.radius:.0f} m "
          f"({measured / t_measure:,.0f} roofs/s)")
    print(roofs["roof_form"].value_counts().to_string())
    print(f"shading loss: median {roofs['shading_loss'].median():.3f}, "
          f"95th percentile {roofs['shading_loss'].quantile(0.95):.3f}")


if __name__ == "__main__":
    main()
