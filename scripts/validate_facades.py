"""Wall irradiation of roofpv's facades against independent references, wall by wall, on a
real DSM: ``python scripts/validate_facades.py [tests/data/real/dsm_goteborg/goteborg.yaml]``.

roofpv's facade stage (:mod:`roofpv.surfaces.facades`) runs in the survey of the config
(walls from the footprints, heights measured on the DSM, shading from the extruded
footprints by the canyon model). Each wall that may carry modules (``usable_area_m2`` >
0) whose building the DSM measured is then computed again, without roofpv's tables or
shading code:

* unshaded: pvlib's own transposition (``pvlib.irradiance.get_total_irradiance``,
  Perez, on a plane of tilt 90° and the wall's azimuth) hour by hour over the run's
  weather, summed to kWh/m²;
* shaded: the same hours with the horizon of points spread over the wall's band (every
  2 m along it, at a quarter and three quarters of the band's height, 1 m in front of
  it) ray-cast on the DSM itself (1° azimuth steps, 0.5 m steps out to the DSM's edge,
  the DSM's own cells: roofs as they are, not extruded footprints; the wall's own
  footprint widened by 1.5 m, within 2.5 m of the wall, read as ground so that a
  footprint off the DSM by a metre does not put the point inside its own roof). An hour's beam and
  circumsolar light is lost when the sun is below the point's horizon in its azimuth;
  the isotropic sky is scaled by the share of the wall's view of the sky the horizon
  leaves open (numerical integral over azimuth and elevation), the horizon band by the
  cosine-weighted share of azimuths in front of the wall with an open horizon; ground
  light is kept. The DSM holds no trees (its canopy is a separate raster, left out
  here as in roofpv's footprint shading).

Prints the per-wall ratios roofpv / reference (median, quartiles, share within 10 %)
and the walls beyond 20 %, with their distance to the DSM's edge.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import rasterio
import shapely
from rasterio.features import geometry_mask

from roofpv.config import load_config
from roofpv.energy.weather import interval_midpoints, solar_position
from roofpv.run.pipeline import assess_buildings, prepare

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "tests" / "data" / "real" / "dsm_goteborg" / "goteborg.yaml"


def sky_hours(hourly: pd.DataFrame, config) -> dict[str, np.ndarray]:
    """Daylight hours: sun position and the weather's irradiance components."""
    site = config.site
    pos = solar_position(hourly, site.latitude, site.longitude, site.altitude_m)
    zenith, azimuth = pos["apparent_zenith"].to_numpy(), pos["azimuth"].to_numpy()
    day = (zenith < 90) & (hourly["dni"].to_numpy() + hourly["dhi"].to_numpy() > 0)
    return {
        "zenith": zenith[day], "azimuth": azimuth[day],
        "dni": hourly["dni"].to_numpy()[day], "dhi": hourly["dhi"].to_numpy()[day],
        "ghi": hourly["ghi"].to_numpy()[day],
        "extra": pvlib.irradiance.get_extra_radiation(interval_midpoints(hourly.index[day])).to_numpy(),
    }


def unshaded(h: dict, azimuth_deg: float, albedo: float) -> float:
    """Annual irradiation of a vertical plane [kWh/m²], pvlib's transposition."""
    airmass = pvlib.atmosphere.get_relative_airmass(h["zenith"])
    poa = pvlib.irradiance.get_total_irradiance(
        90, azimuth_deg, h["zenith"], h["azimuth"], h["dni"], h["ghi"], h["dhi"], dni_extra=h["extra"],
        airmass=airmass, albedo=albedo, model="perez")
    return float(np.nansum(poa["poa_global"]) / 1000)


def ray_horizon(z: np.ndarray, transform, xy: np.ndarray, z0: np.ndarray, max_m: float) -> np.ndarray:
    """Horizon [deg] of each point in 360 one-degree azimuths (0 = north), ray-cast on
    the DSM cells in 0.5 m steps; cells off the raster are no obstacle."""
    phi = np.radians(np.arange(360.0))
    d = np.arange(0.5, max_m, 0.5)
    inv = ~transform
    out = np.zeros((len(xy), 360))
    for i, ((x, y), zp) in enumerate(zip(xy, z0)):
        px = x + np.sin(phi)[:, None] * d[None, :]
        py = y + np.cos(phi)[:, None] * d[None, :]
        col, row = inv * (px, py)
        col, row = np.floor(col).astype(int), np.floor(row).astype(int)
        inside = (row >= 0) & (row < z.shape[0]) & (col >= 0) & (col < z.shape[1])
        height = np.where(inside, z[np.clip(row, 0, z.shape[0] - 1), np.clip(col, 0, z.shape[1] - 1)], -np.inf)
        tan = np.nan_to_num((height - zp) / d[None, :], nan=-np.inf, neginf=-np.inf)
        out[i] = np.degrees(np.arctan(np.maximum(tan.max(axis=1), 0.0)))
    return out


def shaded(h: dict, azimuth_deg: float, horizon: np.ndarray, albedo: float) -> float:
    """Annual irradiation [kWh/m²] of a vertical plane whose points have ``horizon``
    (n, 360), averaged over the points."""
    airmass = pvlib.atmosphere.get_relative_airmass(h["zenith"])
    parts = pvlib.irradiance.perez(90, azimuth_deg, h["dhi"], h["dni"], h["extra"], h["zenith"], h["azimuth"],
                                   airmass, return_components=True)
    aoi = pvlib.irradiance.aoi(90, azimuth_deg, h["zenith"], h["azimuth"])
    beam = h["dni"] * np.maximum(np.cos(np.radians(aoi)), 0) + np.nan_to_num(parts["poa_circumsolar"])
    iso, band = np.nan_to_num(parts["poa_isotropic"]), np.nan_to_num(parts["poa_horizon"])
    ground = pvlib.irradiance.get_ground_diffuse(90, h["ghi"], albedo)
    # The wall's view of the sky: ∫∫ max(0, cos incidence) cos e de dφ over the open sky.
    e = np.radians(np.arange(0.25, 90, 0.5))
    facing = np.cos(np.radians(np.arange(360.0) - azimuth_deg))
    weight = np.maximum(facing[:, None] * np.cos(e)[None, :], 0) * np.cos(e)[None, :]
    open_sky = (e[None, None, :] >= np.radians(horizon)[:, :, None]) * weight[None]
    sky_share = open_sky.sum(axis=(1, 2)) / weight.sum()
    front = np.maximum(facing, 0)
    band_share = ((horizon <= 0.5) * front).sum(axis=1) / front.sum()
    sector = np.round(h["azimuth"]).astype(int) % 360
    lit = (90 - h["zenith"])[None, :] >= horizon[:, sector]
    per_point = (lit * beam).sum(axis=1) + iso.sum() * sky_share + band.sum() * band_share + ground.sum()
    return float(per_point.mean() / 1000)


def wall_points(row, band_bottom: float, top: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every 2 m along the wall, 1 m in front of it, at 1/4 and 3/4 of the band
    (heights above ground [m])."""
    (x0, y0), (x1, y1) = row.geometry.coords[0], row.geometry.coords[-1]
    length = np.hypot(x1 - x0, y1 - y0)
    n = max(1, int(np.ceil(length / 2)))
    f = (np.arange(n) + 0.5) / n
    nx, ny = (y1 - y0) / length, -(x1 - x0) / length
    az = np.degrees(np.arctan2(nx, ny)) % 360
    if abs((az - row.azimuth_deg + 180) % 360 - 180) > 5:  # the other orientation of the ring
        nx, ny = -nx, -ny
    xy = np.column_stack([x0 + f * (x1 - x0) + nx, y0 + f * (y1 - y0) + ny])
    heights = band_bottom + (top - band_bottom) * np.array([0.25, 0.75])
    return np.repeat(xy, 2, axis=0), np.tile(heights, n)


def measured_walls(config_path: Path):
    """roofpv's facades of the buildings the DSM measured that may carry modules, the
    buildings, the run's prepared inputs (weather, tables, DSM) and its config."""
    config = load_config(config_path)
    prepared = prepare(config)
    inv = prepared.inventory
    b, _, _, layer = assess_buildings(inv.buildings, config, prepared.hourly, prepared.tables, inv.crs,
                                      mosaic=inv.dsm, dem=inv.dem, draw_arrays=False,
                                      facade_tables=prepared.facade_tables)
    measured = b.index[b["dsm_status"] == "measured"]
    walls = layer[layer["building_id"].isin(measured) & (layer["usable_area_m2"] > 0)].reset_index(drop=True)
    return walls, b, prepared, config


def compare(config_path: Path) -> pd.DataFrame:
    """The per-wall table: roofpv's and the references' irradiation, unshaded and
    shaded [kWh/m²], losses, the walls' distance to the DSM's edge [m] and the ratios."""
    walls, b, prepared, config = measured_walls(config_path)
    inv = prepared.inventory
    with rasterio.open(inv.dsm.paths[0]) as src:
        z, transform = src.read(1).astype(float), src.transform
        if src.nodata is not None:
            z[z == src.nodata] = np.nan
        bounds = src.bounds
    with rasterio.open(inv.dem.paths[0]) as src:  # on the DSM's grid
        dem = src.read(1).astype(float)
    h = sky_hours(prepared.hourly, config)
    albedo = config.system.albedo
    rows = []
    for row in walls.itertuples():
        top = b.at[row.building_id, "roof_height_m"]
        xy, z0 = wall_points(row, row.band_bottom_m, top)
        col, r = ~transform * (xy[:, 0], xy[:, 1])
        col = np.clip(np.floor(col).astype(int), 0, dem.shape[1] - 1)
        r = np.clip(np.floor(r).astype(int), 0, dem.shape[0] - 1)
        z0 = z0 + dem[r, col]  # heights above ground → the DSM's datum
        # The wall's own roof right behind it is no obstacle in front of it: the own
        # footprint, 1.5 m wider for the footprints' offset from the DSM, within 2.5 m of
        # the wall, read as ground (its wings and the far side of its courtyards stay).
        behind = shapely.intersection(shapely.buffer(b.geometry[row.building_id], 1.5),
                                      shapely.buffer(row.geometry, 2.5, cap_style="flat"))
        own = geometry_mask([behind], z.shape, transform, invert=True)
        horizon = ray_horizon(np.where(own, dem, z), transform, xy, z0, 200.0)
        ref_open = unshaded(h, row.azimuth_deg, albedo)
        ref_shaded = shaded(h, row.azimuth_deg, horizon, albedo)
        edge = min(row.geometry.centroid.x - bounds.left, bounds.right - row.geometry.centroid.x,
                   row.geometry.centroid.y - bounds.bottom, bounds.top - row.geometry.centroid.y)
        rows.append({
            "building_id": row.building_id, "wall": row.wall, "orientation": row.orientation,
            "length_m": row.length_m, "roofpv_open": row.poa_kwh_m2, "reference_open": ref_open,
            "roofpv_shaded": row.poa_kwh_m2 * (1 - row.shading_loss), "reference_shaded": ref_shaded,
            "roofpv_loss": row.shading_loss, "reference_loss": 1 - ref_shaded / ref_open, "edge_m": edge,
        })
    t = pd.DataFrame(rows)
    t["ratio_open"] = t["roofpv_open"] / t["reference_open"]
    t["ratio_shaded"] = t["roofpv_shaded"] / t["reference_shaded"]
    return t


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--csv", type=Path, help="write the per-wall table here")
    args = parser.parse_args(argv)
    t = compare(args.config)
    pd.set_option("display.width", 200)
    print(f"{len(t)} walls that may carry modules on {t['building_id'].nunique()} buildings the DSM measured")
    for kind in ("open", "shaded"):
        r = t[f"ratio_{kind}"]
        print(f"{kind:>6}: median ratio {r.median():.3f}, quartiles {r.quantile(0.25):.3f}–{r.quantile(0.75):.3f}, "
              f"within 10 %: {(abs(r - 1) <= 0.10).mean():.0%}, within 20 %: {(abs(r - 1) <= 0.20).mean():.0%}")
    print(f"shading loss: roofpv median {t['roofpv_loss'].median():.3f}, reference median "
          f"{t['reference_loss'].median():.3f}; mean absolute difference "
          f"{(t['roofpv_loss'] - t['reference_loss']).abs().mean():.3f}")
    outliers = t[abs(t["ratio_shaded"] - 1) > 0.2].sort_values("ratio_shaded")
    print(f"walls beyond 20 % ({len(outliers)}):")
    print(outliers.round(3).to_string(index=False))
    if args.csv:
        t.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
