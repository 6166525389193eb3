"""Horizon profiles from a DSM and the annual shading loss they cause.

The horizon of a point is the elevation angle of the highest obstacle in each of
``n_sectors`` azimuth sectors (sector ``s`` centred on ``s · 360/n_sectors`` degrees,
clockwise from north), found by marching outward from the point over a max-pyramid
of the DSM: near the point every pixel is visited, farther out the step grows with
the distance (``steps_per_octave`` steps per doubling) and each step reads the
max-pyramid level whose cells are as large as the step, so no obstacle between two steps
is missed (an obstacle may be seen up to one step nearer than it is: conservative).

The loss is taken from a :class:`SunTable` built once per site from the hourly weather:
for every orientation bin, the beam (with Perez circumsolar) irradiance of each
daylight hour sorted by sun sector and elevation, and the share of the plane's sky
diffuse coming from below each elevation in each sector. An hour's beam is lost when
the sun is below the horizon of its sector; sky diffuse (isotropic and horizon band)
is scaled by the plane's visible share of its sky; ground-reflected light is unchanged.
Annual loss = 1 − shaded / unshaded plane-of-array irradiation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pvlib

from roofpv.energy.weather import interval_midpoints, solar_position

if TYPE_CHECKING:
    from roofpv.roofs.raster import Raster


def _steps(radius_px: float, per_octave: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample distances [px] and pyramid levels: every pixel up to 2·per_octave, then
    ``per_octave`` steps per doubling of the distance, step = distance / per_octave."""
    d = list(np.arange(1, 2 * per_octave + 1, dtype=float))
    level = [0] * len(d)
    start, lev = 2.0 * per_octave, 1
    while start < radius_px:
        step = start / per_octave
        d += list(start + step * np.arange(1, per_octave + 1))
        level += [lev] * per_octave
        start, lev = start * 2, lev + 1
    d, level = np.array(d), np.array(level)
    return d[d <= radius_px], level[d <= radius_px]


def _pyramid(z: np.ndarray, levels: int) -> list[np.ndarray]:
    """Max-pyramid of ``z`` (float32, no data as −inf): level k holds the maxima of
    2^k × 2^k blocks."""
    level = z
    out = [level]
    for _ in range(levels):
        rows, cols = level.shape
        even = (np.pad(level, ((0, rows % 2), (0, cols % 2)), constant_values=-np.inf)
                if rows % 2 or cols % 2 else level)
        pairs = np.maximum(even[0::2], even[1::2])  # row pairs: whole rows at a time
        level = np.maximum(pairs[:, 0::2], pairs[:, 1::2])
        out.append(level)
    return out


def horizon(grid: Raster, xy: np.ndarray, z0: np.ndarray, n_sectors: int = 36,
            radius_m: float = 300.0, steps_per_octave: int = 8, chunk: int = 4096) -> np.ndarray:
    """Horizon elevation angle of each point in each azimuth sector.

    Parameters
    ----------
    grid : DSM window; cells outside it, and no-data cells, are no obstacle
    xy : (n, 2) point coordinates [m]
    z0 : (n,) point heights [m], same datum as the DSM
    n_sectors : azimuth sectors, sector s centred on s · 360/n_sectors [deg from north]
    radius_m : search radius [m]
    steps_per_octave : steps per doubling of the distance beyond the first 2·this pixels
    chunk : points processed at a time

    Returns
    -------
    (n, n_sectors) horizon angles [deg], ≥ 0
    """
    d_px, level = _steps(radius_m / grid.res, steps_per_octave)
    prow = (grid.y0 - xy[:, 1]) / grid.res
    pcol = (xy[:, 0] - grid.x0) / grid.res
    # Pad the grid so every sample of every point falls inside it (as −inf).
    reach = int(np.ceil(d_px.max(initial=0))) + 1
    rows, cols = grid.z.shape
    before = max(0, reach - int(np.floor(min(prow.min(initial=0), pcol.min(initial=0)))))
    after = max(0, reach + int(np.ceil(max(prow.max(initial=0) - rows, pcol.max(initial=0) - cols))))
    # Sizes rounded up to whole blocks of the coarsest level, so no level needs padding.
    levels = int(level.max(initial=0))
    block = 1 << levels
    z = np.full((-(-(rows + before + after) // block) * block,
                 -(-(cols + before + after) // block) * block), -np.inf, np.float32)
    np.fmax(grid.z, -np.inf, out=z[before:before + rows, before:before + cols])  # NaN → −inf
    pyramid = [lvl.ravel() for lvl in _pyramid(z, levels)]
    width = [(z.shape[1] + (1 << k) - 1) >> k for k in range(len(pyramid))]
    prow = (prow + before).astype(np.float32)
    pcol = (pcol + before).astype(np.float32)
    phi = np.radians(np.arange(n_sectors) * 360.0 / n_sectors)
    drow = (-np.cos(phi)[:, None] * d_px[None, :]).astype(np.float32)
    dcol = (np.sin(phi)[:, None] * d_px[None, :]).astype(np.float32)
    inv_d = (1.0 / (d_px * grid.res)).astype(np.float32)
    out = np.empty((len(xy), n_sectors), np.float32)
    for s in range(0, len(xy), chunk):
        pr, pc = prow[s:s + chunk, None], pcol[s:s + chunk, None]
        base = z0[s:s + chunk, None].astype(np.float32)
        best = np.zeros((len(pr), n_sectors), np.float32)
        for k in range(d_px.size):
            lv = int(level[k])
            # Samples lie inside the padded grid (≥ 0), where truncation is floor.
            r = (pr + drow[:, k]).astype(np.int32) >> lv
            c = (pc + dcol[:, k]).astype(np.int32) >> lv
            r *= width[lv]
            r += c
            tan = pyramid[lv].take(r)
            tan -= base
            tan *= inv_d[k]
            np.maximum(best, tan, out=best)
        out[s:s + chunk] = best
    return np.degrees(np.arctan(out))


def sky_view_factor(horizon_deg: np.ndarray) -> np.ndarray:
    """Sky-view factor of a horizontal surface: mean over sectors of cos²(horizon)."""
    return np.mean(np.cos(np.radians(horizon_deg)) ** 2, axis=-1)


@dataclass(frozen=True, eq=False)
class SunTable:
    """Irradiance of a site's year per orientation bin, arranged for horizon lookups.

    Attributes
    ----------
    tilts, azimuths : orientation bins [deg]
    n_sectors : azimuth sectors of the horizons it serves
    elevation : daylight hours' apparent sun elevation, sorted by sector then elevation [deg]
    start : (n_sectors + 1,) first position of each sector in ``elevation``
    beam_cum : (ntilt·nazimuth, hours + 1) cumulative beam + circumsolar irradiation in
        the order of ``elevation`` [Wh/m²]
    sky : (ntilt·nazimuth,) annual isotropic + horizon-band sky diffuse [Wh/m²]
    total : (ntilt·nazimuth,) annual plane-of-array irradiation, unshaded [Wh/m²]
    sky_below : (ntilt·nazimuth, n_sectors, 91) share of the plane's sky diffuse that
        comes from each sector below elevation 0, 1, …, 90° (isotropic sky)
    """

    tilts: np.ndarray
    azimuths: np.ndarray
    n_sectors: int
    elevation: np.ndarray
    start: np.ndarray
    beam_cum: np.ndarray
    sky: np.ndarray
    total: np.ndarray
    sky_below: np.ndarray


def _sky_below(tilt: np.ndarray, azimuth: np.ndarray, n_sectors: int) -> np.ndarray:
    """Share of an isotropic sky's irradiance on each plane from each sector below each
    whole-degree elevation: ∫∫ max(0, n·u) cos e de dφ (midpoint rule, 0.5° × sector/4),
    normalised over the hemisphere."""
    width, sub, step = 2 * np.pi / n_sectors, 4, 0.5
    phi = (np.arange(n_sectors)[:, None] * width
           + (np.arange(sub)[None, :] + 0.5) / sub * width - width / 2).ravel()
    e = np.radians((np.arange(int(90 / step)) + 0.5) * step)
    out = np.empty((len(tilt), n_sectors, 91))
    for start in range(0, len(tilt), 64):
        t = np.radians(tilt[start:start + 64])[:, None, None]
        a = np.radians(azimuth[start:start + 64])[:, None, None]
        f = np.sin(t) * np.cos(e) * np.cos(phi[:, None] - a)  # cos(incidence), in place
        f += np.cos(t) * np.sin(e)
        np.maximum(f, 0, out=f)
        f *= np.cos(e)
        f = f.reshape(len(t), n_sectors, sub, e.size).sum(axis=2)
        cum = np.concatenate([np.zeros((len(t), n_sectors, 1)), np.cumsum(f, axis=2)], axis=2)
        out[start:start + 64] = cum[:, :, ::int(1 / step)]
    return out / out[:, :, -1:].sum(axis=1, keepdims=True)


def sun_table(weather: pd.DataFrame, latitude: float, longitude: float, altitude: float,
              tilts=None, azimuths=None, n_sectors: int = 36, albedo: float = 0.2,
              chunk: int = 96) -> SunTable:
    """Build the :class:`SunTable` of a site (once per run).

    Parameters
    ----------
    weather : canonical hourly weather frame (:mod:`roofpv.energy.weather`)
    latitude, longitude : [deg N, deg E]
    altitude : site elevation [m]
    tilts, azimuths : orientation bins [deg], default 0–60 by 5 and 0–350 by 10;
        azimuths evenly spaced over 360
    n_sectors : azimuth sectors of the horizons
    albedo : ground reflectance [-]
    chunk : orientations computed at a time (bounds the hours × orientations arrays)
    """
    solpos = solar_position(weather, latitude, longitude, altitude)
    zenith_all = solpos["apparent_zenith"].to_numpy()
    day = (zenith_all < 90) & (weather["dni"].to_numpy() + weather["dhi"].to_numpy() > 0)
    zenith = zenith_all[day]
    sun_az = solpos["azimuth"].to_numpy()[day]
    sector = np.rint(sun_az / (360.0 / n_sectors)).astype(int) % n_sectors
    order = np.lexsort((90.0 - zenith, sector))
    zenith, sun_az, sector = zenith[order], sun_az[order], sector[order]
    ghi, dni, dhi = (weather[c].to_numpy()[day][order][:, None] for c in ("ghi", "dni", "dhi"))
    dni_extra = pvlib.irradiance.get_extra_radiation(
        interval_midpoints(weather.index[day][order])).to_numpy()[:, None]
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)[:, None]
    tilts = np.arange(0.0, 61.0, 5.0) if tilts is None else np.asarray(tilts, float)
    azimuths = np.arange(0.0, 360.0, 10.0) if azimuths is None else np.asarray(azimuths, float)
    tilt, az = (v.ravel() for v in np.meshgrid(tilts, azimuths, indexing="ij"))
    beam_cum = np.zeros((tilt.size, zenith.size + 1))
    sky, ground = np.empty(tilt.size), np.empty(tilt.size)
    for start in range(0, tilt.size, chunk):  # hours × orientations, a few at a time
        cols = slice(start, start + chunk)
        aoi = pvlib.irradiance.aoi(tilt[cols], az[cols], zenith[:, None], sun_az[:, None])
        beam = dni * np.maximum(np.cos(np.radians(aoi)), 0)
        perez = pvlib.irradiance.perez(tilt[cols], az[cols], dhi, dni, dni_extra, zenith[:, None],
                                       sun_az[:, None], airmass, return_components=True)
        beamlike = beam + np.nan_to_num(perez["poa_circumsolar"])
        sky[cols] = np.nan_to_num(perez["poa_isotropic"] + perez["poa_horizon"]).sum(axis=0)
        ground[cols] = pvlib.irradiance.get_ground_diffuse(tilt[cols], ghi, albedo).sum(axis=0)
        beam_cum[cols, 1:] = np.cumsum(beamlike.T, axis=1)
    return SunTable(
        tilts, azimuths, n_sectors, 90.0 - zenith,
        np.searchsorted(sector, np.arange(n_sectors + 1)), beam_cum, sky,
        beam_cum[:, -1] + sky + ground, _sky_below(tilt, az, n_sectors),
    )


def shading_loss(table: SunTable, horizon_deg: np.ndarray, tilt_deg, azimuth_deg
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Annual shading loss of planes with the given horizons.

    Parameters
    ----------
    table : the site's :class:`SunTable`
    horizon_deg : (n, n_sectors) horizon angles [deg]
    tilt_deg, azimuth_deg : (n,) plane orientation [deg]; interpolated bilinearly
        between orientation bins (tilt clipped to the table's range)

    Returns
    -------
    loss : (n,) 1 − shaded / unshaded annual plane-of-array irradiation [-]
    sky_visible : (n,) share of the plane's isotropic sky diffuse not blocked [-]
    """
    h = np.asarray(horizon_deg, float)
    n, S = h.shape
    if S != table.n_sectors:
        raise ValueError(f"horizons have {S} sectors, the sun table {table.n_sectors}")
    tilt = np.broadcast_to(np.asarray(tilt_deg, float), (n,))
    azimuth = np.broadcast_to(np.asarray(azimuth_deg, float), (n,))
    # Hours of each sector with the sun below the horizon: positions in the sorted table.
    lo = np.repeat(table.start[None, :-1], n, axis=0)
    hi = np.empty((n, S), np.int64)
    for s in range(S):
        seg = table.elevation[table.start[s]:table.start[s + 1]]
        hi[:, s] = table.start[s] + np.searchsorted(seg, h[:, s])
    e0 = np.clip(np.floor(h).astype(int), 0, 89)
    fe = np.clip(h - e0, 0, 1)
    sectors = np.arange(S)[None, :]

    ts, az = table.tilts, table.azimuths
    tc = np.clip(tilt, ts[0], ts[-1])
    i = np.clip(np.searchsorted(ts, tc, side="right") - 1, 0, ts.size - 2)
    wt = (tc - ts[i]) / (ts[i + 1] - ts[i])
    step = 360.0 / az.size
    aw = np.mod(azimuth - az[0], 360.0) / step
    j = np.floor(aw).astype(int) % az.size
    wa = aw - np.floor(aw)
    loss = np.zeros(n)
    visible = np.zeros(n)
    for ii, jj, w in ((i, j, (1 - wt) * (1 - wa)), (i, (j + 1) % az.size, (1 - wt) * wa),
                      (i + 1, j, wt * (1 - wa)), (i + 1, (j + 1) % az.size, wt * wa)):
        o = (ii * az.size + jj)[:, None]
        blocked = (table.beam_cum[o, hi] - table.beam_cum[o, lo]).sum(axis=1)
        below = table.sky_below[o, sectors, e0] * (1 - fe) + table.sky_below[o, sectors, e0 + 1] * fe
        vis = 1.0 - below.sum(axis=1)
        o = o[:, 0]
        loss += w * (blocked + table.sky[o] * (1 - vis)) / table.total[o]
        visible += w * vis
    return loss, visible
