"""Installed capacity per m² of measured roof plane: roofpv's layout against an
independent brute-force packing of the same planes.

    python scripts/bench_packing.py [CONFIG ...] [--offsets 8] [--synthetic]

Each CONFIG (default: the real DSM sets under ``tests/data/real``: Gothenburg 1 m LiDAR,
Delft AHN3 point cloud gridded at 0.5 m, Zurich LoD2 models rasterised at 0.5 m) is
surveyed with ``roofpv survey``; its ``roof_planes`` layer holds every measured plane
(plan polygon, tilt, azimuth) and the modules roofpv placed on it.

The reference packs each plane polygon again without roofpv's layout code: the plane
outline read as roofpv reads it (gaps and notches narrower than two pixels closed,
straightened to within a pixel by Douglas–Peucker; also packed raw, as the pixel
outline the DSM stage drew), is cut to its footprint shrunk by the setback of its
mounting (shapely buffer: the setback runs along the roof's outline, not along the break
lines between its planes), turned so its slope runs
along y, and a regular grid of module boxes (flush: portrait and landscape, rows
(L + gap)·cosβ apart; flat: portrait racks at the module tilt of the config, rows the
GB 50797 pitch apart, at most L / 0.25) is laid at ``offsets`` × ``offsets`` grid
phases; each row keeps its best x-phase, each plane its best y-phase and orientation.
A box counts where shapely says the polygon contains it. Planes the layout leaves
unused by rule (north-facing) are left out of both.

Printed per data set and plane class (flat / pitched, by plan area): kWp per m² of
measured plane (plan area, before setbacks) from roofpv and from the reference, their
ratio, and the coverage (module area over plane area, sloped for pitched planes) next
to NREL's rooftop assumption (Gagnon et al. 2016: 0.98 on tilted, 0.70 on flat roofs).
``--synthetic`` adds rotated gables and flat roofs rasterised at 0.5 m (noise σ 0.05 m)
and 1 m (σ 0.15 m): roofpv on the planes it measures, roofpv on the exact planes and the
reference on the exact planes, per m² of exact plane.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roofpv.config import load_config  # noqa: E402

REAL = ROOT / "tests" / "data" / "real"
DATA_SETS = [REAL / "dsm_goteborg" / "goteborg.yaml", REAL / "dsm_delft" / "delft.yaml",
             REAL / "dsm_zurich" / "zurich.yaml", REAL / "dsm_toufeng" / "toufeng.yaml"]
#: NREL rooftop technical potential: module area per m² of suitable plane.
NREL_COVERAGE = {"pitched": 0.98, "flat": 0.70}
SIZE_CLASSES = [(0, 50), (50, 200), (200, np.inf)]


def gb50797_pitch(length_m: float, tilt_deg: float, latitude_deg: float) -> float:
    """Row pitch of racks, GB 50797-2012 9:00–15:00 winter-solstice rule, capped at
    four module lengths (written out here, not taken from roofpv)."""
    t = np.tan(np.radians(abs(latitude_deg)))
    den = 0.707 - 0.4338 * t
    b = np.radians(tilt_deg)
    pitch = np.inf if den <= 0 else length_m * (np.cos(b) + np.sin(b) * (0.707 * t + 0.4338) / den)
    return float(min(pitch, length_m / 0.25))


def pack(polygon, width: float, depth: float, pitch: float, gap: float, offsets: int) -> int:
    """Most module boxes (``width`` along x × ``depth`` along y) in ``polygon``: rows
    ``pitch`` apart at ``offsets`` y-phases, each row at its best of ``offsets``
    x-phases."""
    if polygon.is_empty:
        return 0
    xmin, ymin, xmax, ymax = polygon.bounds
    step = width + gap
    shapely.prepare(polygon)
    cols = int(np.ceil((xmax - xmin) / step)) + 1
    best = 0
    for fy in np.arange(offsets) / offsets:
        y0 = ymin + fy * pitch + np.arange(int(np.ceil((ymax - ymin) / pitch)) + 1) * pitch
        y0 = y0[y0 + depth <= ymax + 1e-9]
        if y0.size == 0:
            continue
        x0 = xmin + (np.arange(offsets) / offsets)[:, None] * step + np.arange(cols)[None, :] * step
        # boxes[row, x-phase, column]
        bx = np.broadcast_to(x0[None], (y0.size, offsets, cols))
        by = np.broadcast_to(y0[:, None, None], bx.shape)
        boxes = shapely.box(bx + 1e-3, by + 1e-3, bx + width - 1e-3, by + depth - 1e-3)
        inside = shapely.contains(polygon, boxes)
        best = max(best, int(inside.sum(axis=2).max(axis=1).sum()))
    return best


def reference(planes: gpd.GeoDataFrame, outlines: np.ndarray, config, offsets: int,
              straighten_m: float = 0.0) -> np.ndarray:
    """Modules of the brute-force packing on each plane inside its roof's outline
    (``outlines``, one per plane) less the setback (the plane's outline first simplified
    by ``straighten_m``, Douglas–Peucker, when given)."""
    m = config.module
    racked = {k for k, v in config.mountings.items() if v.row_spacing == "gb50797"}
    flat_type = next(k for k, r in config.roofs.items() if r.slope_deg == 0 and r.mounting in racked)
    flush = [k for k, r in config.roofs.items() if r.mounting is not None and r.mounting not in racked]
    pitched_type = max(flush, key=lambda k: config.roofs[k].slope_deg)
    rack_tilt = config.mountings[config.roofs[flat_type].mounting].module_tilt_deg
    out = np.zeros(len(planes), np.int64)
    for i, p in enumerate(planes.itertuples()):
        flat = p.tilt_deg < config.dsm.flat_max_slope_deg
        setback = config.roofs[flat_type if flat else pitched_type].setback_m
        azimuth = 180.0 if flat else p.azimuth_deg
        outline = p.geometry
        if straighten_m:  # read as roofpv reads a pixel outline: gaps of a pixel closed, straightened
            closed = outline.buffer(straighten_m, join_style="mitre").buffer(-straighten_m, join_style="mitre")
            outline = shapely.simplify(closed, straighten_m, preserve_topology=True)
        outline = shapely.make_valid(outline.intersection(outlines[i].buffer(-setback, join_style="mitre")))
        c = p.geometry.centroid
        local = shapely.affinity.rotate(shapely.affinity.translate(outline, -c.x, -c.y),
                                        azimuth - 180.0, origin=(0, 0))
        if flat:
            d = m.length_m * np.cos(np.radians(rack_tilt))
            out[i] = pack(local, m.width_m, d, gb50797_pitch(m.length_m, rack_tilt, config.site.latitude),
                          m.gap_m, offsets)
        else:
            cos = np.cos(np.radians(p.tilt_deg))
            out[i] = max(pack(local, m.width_m, m.length_m * cos, (m.length_m + m.gap_m) * cos, m.gap_m, offsets),
                         pack(local, m.length_m, m.width_m * cos, (m.width_m + m.gap_m) * cos, m.gap_m, offsets))
    return out


def survey(config_path: Path, out: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """The ``roof_planes`` layer of a survey and its footprints by building id."""
    subprocess.run([sys.executable, "-m", "roofpv", "survey", str(config_path), "--out", str(out),
                    "--no-report"], check=True, cwd=ROOT, capture_output=True)
    buildings = gpd.read_file(out / "roofpv.gpkg", layer="buildings")
    footprints = buildings.set_index(buildings["building_id"].astype(str)).geometry
    return gpd.read_file(out / "roofpv.gpkg", layer="roof_planes"), footprints


def table(planes: gpd.GeoDataFrame, config, raw: np.ndarray, ref: np.ndarray) -> pd.DataFrame:
    m = config.module
    flat = planes["tilt_deg"].to_numpy() < config.dsm.flat_max_slope_deg
    area = planes["area_m2"].to_numpy(float)
    sloped = np.where(flat, area, area / np.cos(np.radians(planes["tilt_deg"].to_numpy())))
    rows = []
    for kind in ("flat", "pitched"):
        for lo, hi in SIZE_CLASSES + [(0, np.inf)]:
            sel = (flat == (kind == "flat")) & (area >= lo) & (area < hi)
            if not sel.any():
                continue
            mine = planes["modules"].to_numpy()[sel].sum()
            theirs = ref[sel].sum()
            rows.append({
                "planes": kind, "plan area m²": f"{lo:g}–{hi:g}" if np.isfinite(hi) else f"≥ {lo:g}" if lo else "all",
                "n": int(sel.sum()), "area m²": round(area[sel].sum()),
                "roofpv kWp/m²": mine * m.power_w / 1000 / area[sel].sum(),
                "reference kWp/m²": theirs * m.power_w / 1000 / area[sel].sum(),
                "ratio": mine / theirs if theirs else np.nan,
                "reference, pixel outline kWp/m²": raw[sel].sum() * m.power_w / 1000 / area[sel].sum(),
                "coverage": mine * m.area_m2 / sloped[sel].sum(),
                "NREL coverage": NREL_COVERAGE[kind],
                "empty ≥ 20 m²": int(((planes["modules"].to_numpy() == 0) & (area >= 20) & sel).sum()),
            })
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    """A Markdown table of ``frame`` (floats to 3 decimals)."""
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])


def synthetic(res: float, noise: float, seed: int = 0):
    """Rotated gables (pitch 20–45°) and flat roofs on a 1 m or 0.5 m DSM with Gaussian
    noise: the DSM, the footprints and the exact planes (plan polygons, tilt, azimuth)."""
    from roofpv.roofs.raster import Raster

    rng = np.random.default_rng(seed)
    x0, y0, size = 500_000.0, 3_400_200.0, 200.0
    n = int(size / res)
    c = (np.arange(n) + 0.5) * res
    x, y = np.meshgrid(x0 + c, y0 - c)
    z = np.full(x.shape, 3.0)
    footprints, truth = [], []
    for k in range(49):
        cx, cy = x0 + 14 + (k % 7) * 28, y0 - 14 - (k // 7) * 28
        hu, hv, angle = rng.uniform(5, 11), rng.uniform(3, 7), rng.uniform(0, 90)
        pitch = 0.0 if k % 4 == 3 else rng.uniform(20, 45)
        t = np.radians(angle)
        u = (x - cx) * np.cos(t) + (y - cy) * np.sin(t)
        v = -(x - cx) * np.sin(t) + (y - cy) * np.cos(t)
        inside = (np.abs(u) < hu) & (np.abs(v) < hv)
        z[inside] = (12.0 + (hv - np.abs(v)) * np.tan(np.radians(pitch)))[inside]

        def world(g, t=t, cx=cx, cy=cy):
            return shapely.transform(g, lambda q: np.c_[q[:, 0] * np.cos(t) - q[:, 1] * np.sin(t) + cx,
                                                         q[:, 0] * np.sin(t) + q[:, 1] * np.cos(t) + cy])
        bid = f"s{k}"
        footprints.append(world(shapely.box(-hu, -hv, hu, hv)))
        halves = ([(shapely.box(-hu, -hv, hu, hv), 1)] if pitch == 0 else
                  [(shapely.box(-hu, -hv, hu, 0), -1), (shapely.box(-hu, 0, hu, hv), 1)])
        for plane, (half, sign) in enumerate(halves):
            azimuth = 180.0 if pitch == 0 else np.degrees(np.arctan2(-np.sin(t) * sign, np.cos(t) * sign)) % 360
            truth.append({"building_id": bid, "plane": plane, "tilt_deg": pitch, "azimuth_deg": azimuth,
                          "area_m2": half.area, "shading_loss": 0.0, "geometry": world(half)})
    z += np.random.default_rng(seed + 1).normal(0, noise, z.shape)
    crs = "EPSG:4549"
    fp = gpd.GeoSeries(footprints, index=[f"s{k}" for k in range(49)], crs=crs)
    return Raster(z.astype(np.float32), x0, y0, res), fp, gpd.GeoDataFrame(truth, crs=crs)


def synthetic_table(offsets: int) -> None:
    """roofpv on planes it measures from synthetic DSMs, on the exact planes, and the
    reference on the exact planes, per m² of exact plane (Pinghu config, 30.7°N)."""
    from roofpv.energy import solar
    from roofpv.io.weather_files import load_weather
    from roofpv.roofs import dsm
    from roofpv.run import stages

    config = load_config(ROOT / "configs" / "pinghu.yaml")
    hourly, _ = load_weather(config)
    tables = solar.yield_tables(config, hourly)
    m = config.module
    print("\nsynthetic rotated gables and flat roofs, 49 buildings, Pinghu config (30.7°N)")
    print("| pixel, noise | planes | exact plane area m² | roofpv on measured planes kWp/m² | roofpv on exact planes kWp/m² "
          "| reference on exact planes kWp/m² | measured / reference |")
    print("|---|---|---|---|---|---|---|")
    for res, noise in ((0.5, 0.05), (1.0, 0.15)):
        raster, fp, truth = synthetic(res, noise)
        _, planes = dsm.roof_geometry(raster, fp)
        planes["shading_loss"] = 0.0
        planes["resolution_m"] = res
        b = gpd.GeoDataFrame({"geometry_valid": True, "mounting": "ballasted_tilted", "roof_type": "concrete_flat",
                              "roof_slope_deg": 0.0, "roof_slope_deg_source": "dsm", "shading_loss": 0.0},
                             index=pd.Index(fp.index, name="building_id"), geometry=fp.to_numpy(), crs=fp.crs)
        rule = config.rules
        for kind, flat in (("flat", True), ("pitched", False)):
            t_sel = (truth["tilt_deg"] < config.dsm.flat_max_slope_deg) == flat
            ids = truth.loc[t_sel, "building_id"].unique()
            measured, _ = stages.lay_out(b.loc[ids], config, tables, planes[planes["building_id"].isin(ids)])
            exact, _ = stages.lay_out(b.loc[ids], config, tables, truth[truth["building_id"].isin(ids)])
            t = truth[truth["building_id"].isin(ids)].reset_index(drop=True)
            off_north = np.abs((t["azimuth_deg"].to_numpy() + 180.0) % 360.0 - 180.0)
            north = (off_north < rule.north_half_width_deg) & (t["tilt_deg"].to_numpy() > rule.north_max_tilt_deg)
            area = t.loc[~north, "area_m2"].sum()
            t = t[~north].reset_index(drop=True)
            ref = reference(t, fp.loc[t["building_id"]].to_numpy(), config, offsets).sum()
            kw = m.power_w / 1000 / area
            print(f"| {res:g} m, σ {noise:g} m | {kind} ({int((~north).sum())}) | {area:,.0f} | "
                  f"{measured['modules'].sum() * kw:.3f} | {exact['modules'].sum() * kw:.3f} | {ref * kw:.3f} | "
                  f"{measured['modules'].sum() / ref:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path, default=DATA_SETS)
    parser.add_argument("--offsets", type=int, default=8, help="grid phases per axis")
    parser.add_argument("--synthetic", action="store_true", help="also synthetic gables and flat roofs")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    for path in args.configs:
        config = load_config(path)
        with tempfile.TemporaryDirectory() as tmp:
            planes, footprints = survey(path, Path(tmp))
        rule = config.rules
        off_north = np.abs((planes["azimuth_deg"].to_numpy() + 180.0) % 360.0 - 180.0)
        north = (off_north < rule.north_half_width_deg) & (planes["module_tilt_deg"].to_numpy() > rule.north_max_tilt_deg)
        planes = planes[~north].reset_index(drop=True)
        rasters = sorted(Path(config.dsm.tiles).glob(config.dsm.tiles_pattern))
        if rasters:
            with rasterio.open(rasters[0]) as src:
                res = abs(src.transform.a)
        else:                                   # a point cloud, gridded at this cell size
            res = config.dsm.point_cloud_resolution_m
        outlines = footprints.loc[planes["building_id"].astype(str)].to_numpy()
        raw = reference(planes, outlines, config, args.offsets)
        ref = reference(planes, outlines, config, args.offsets, res)
        print(f"\n{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
              f"{len(planes)} planes not facing north, {planes['area_m2'].sum():.0f} m²")
        print(f"pixel {res:g} m")
        print(markdown(table(planes, config, raw, ref)))
    if args.synthetic:
        synthetic_table(args.offsets)


if __name__ == "__main__":
    main()
