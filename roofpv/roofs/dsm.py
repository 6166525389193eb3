"""Roof geometry from a DSM: ground, heights, roof planes, form, obstacles and shading.

Everything here works on arrays already in memory (:class:`roofpv.roofs.raster.Raster` windows
read by :mod:`roofpv.io.tiles`), for all footprints of a window at once:

1. Per roof pixel (only those: roofs cover a small part of a window), slope, aspect and
   the rms residual of a plane fitted to its 3 × 3 neighbourhood (Horn 1981 differences).
2. The DSM's vertical noise is measured on the window's roof pixels as a function of
   slope, σ(s) = √(σ₀² + (k·tan s)²) (a resampled DSM is noisier on steep roofs), from
   the lower quartile of the 3 × 3 residuals (:func:`noise_model`), pooled with the
   whole window's pixels where it holds few roofs and never below the rounding noise of
   the DSM's height step (:func:`window_noise`); every threshold below derives from it.
3. Planar pixels are clustered per roof by their unit normal (peaks of a 2-D histogram
   of its horizontal part, so mansards split by tilt and hips by aspect; normals of a
   5 × 5 or 7 × 7 window where the noise scatters 3 × 3 normals past the histogram's
   resolution, :func:`normal_half_width`), split into
   8-connected regions (a roof's smoothest quarter of pixels counts as planar whatever
   the noise model says: a smoothed or coarsened DSM has few pixels it calls planar),
   and each region of at least :func:`seed_size` pixels gets a
   least-squares plane (refitted once without outliers; a region one pixel row wide
   takes its pixels' mean gradient).
4. Every footprint pixel joins the plane of its nearest region when it lies within 3σ
   of that plane, σ(s) from here on the larger of step 2's and the same model measured
   on the pixels' residuals from those planes (a DSM resampled finer than it was
   measured hides its noise from 3 × 3 windows, not from its planes); roof pixels
   standing above their plane are obstacles (chimneys, dormers), pixels under tree
   canopy are not roof. A plane that fits its pixels worse
   than the noise allows and holds two planes (a ridge or a change of pitch it was
   fitted across) is split (:func:`_split_at_breaks`). A plane's tilt and azimuth come
   from its planar pixels (the 3 × 3 test of step 3) where they span a plane.
5. Plane outlines are the pixels' outlines clipped to the footprint. Heights are
   quantiles of DSM − ground over the whole footprint (eaves included), ground from the
   DEM or a ring around the footprint; something stands on a footprint whose median
   height exceeds 2 m (and 5 σ₀). Data coverage is counted over the footprint shrunk
   by its inner buffer (:func:`roofpv.roofs.raster.inner_buffer`).
6. Plane azimuths are turned from grid north to true north (:func:`true_north`).

A roof that cannot be read keeps no plane and gets a ``dsm_status`` saying why
(:data:`DSM_STATUSES`); it is never an error. Areas are plan areas in m².
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from rasterio.features import rasterize, shapes
from rasterio.transform import from_origin
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from roofpv.config import Dsm
from roofpv.fieldwork.completeness import contradicts
from roofpv.findings import Finding
from roofpv.roofs import shading, steps
from roofpv.roofs.raster import Raster, data_share, footprint_width, inner_buffer, shrink, zonal
from roofpv.roofs.roof import to_local
from roofpv.schema import SHADING_CLASSES

#: Outcome of roof measurement per footprint.
DSM_STATUSES = {
    "measured": "roof planes measured from the DSM",
    "no_data": "DSM data over less than dsm.min_coverage of the roof",
    "nothing_standing": "the DSM shows nothing standing on the footprint (median DSM − ground over it "
                        "below 2 m)",
    "no_planes": "no roof plane could be read from the DSM (too small, too rough or covered by trees)",
}

#: rasterio's rasterize and shapes run from several threads at once have now and then
#: warned that their in-memory raster had no transform (NotGeoreferencedWarning): one
#: call at a time (they are a small part of the stage's time).
_GDAL = threading.Lock()
#: Default measurement parameters.
DEFAULTS = Dsm()
#: Lower quartile of the rms of a 9-point plane fit to pure noise of std 1: √(χ²₆,0.25 / 9).
_RMS_Q25 = 0.62
#: Lower quartile of |e| for e of unit Gaussian noise (Φ⁻¹(0.625)).
_ABS_Q25 = 0.3186
#: Planar when the 3 × 3 rms is below this many σ(s) (≈ the 99th percentile of √(χ²₆/9)).
_PLANAR_SIGMA = 1.4
#: Share of each roof's open pixels (the smoothest by 3 × 3 rms) that may always seed planes.
_SEED_SHARE = 0.25
#: A pixel belongs to a plane within this many σ(s) of it; above it by more, it is an obstacle.
_FIT_SIGMA = 3.0
#: Something stands on a footprint whose median DSM − ground over the footprint exceeds
#: this [m] (a storey: sheds and garages reach it, cars, walls and hedges mostly do not) …
_STANDING_M = 2.0
#: … and this many σ₀ (a noisy DSM).
_STANDING_SIGMA = 5.0
#: Width of the grey opening of the DSM that stands in for the ground in that ring
#: without a DEM [m] (wider than most buildings: raised cells, trees and roofs, vanish).
_OPENING_M = 40.0
#: Fewer open roof pixels than this in a window: the noise is measured on every pixel of
#: the window too (ground, roads and the roofs of the halo), not on these roofs alone.
_NOISE_MIN_PX = 2000
#: Steepest roof plane [deg]; steeper fitted surfaces are walls or towers.
_MAX_TILT = 75.0
#: Normal-space histogram: bin width and most planes kept per roof.
_NORMAL_BIN = 0.04
#: Largest rms scatter of the pixels' normals (horizontal part) the clustering works with
#: before it widens their window (:func:`normal_half_width`): 1.5 bins, a peak radius of 3.
_NORMAL_SCATTER = 0.06
_MAX_PLANES = 16


def slope_aspect(z: np.ndarray, res: float, cells: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope, aspect and local planarity of a height grid.

    Parameters
    ----------
    z : 2-D array of heights [m], NaN = no data
    res : pixel size [m]
    cells : flat indices (row · cols + col) of the pixels wanted; None = every pixel

    Returns
    -------
    slope : [deg], Horn's 3 × 3 finite differences
    aspect : direction the surface faces (downslope), clockwise from north [deg]
    rms : rms residual of the least-squares plane over each 3 × 3 window [m]

    Shaped as ``z``, or (len(cells),) with ``cells``. Pixels on the window edge or next
    to no-data are NaN in all three.
    """
    rows, cols = z.shape
    p = np.pad(np.asarray(z, np.float32), 1, constant_values=np.nan).ravel()
    q = np.arange(z.size) if cells is None else np.asarray(cells, np.int64)
    q = q + q // cols * 2 + cols + 3  # the same pixel in the padded grid
    centre = p[q]
    # Height differences to the 8 neighbours (and 0 to itself), keyed by (row, column) offset.
    d = {(dr, dc): p[q + (dr * (cols + 2) + dc)] - centre for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
    east = d[-1, 1] + 2 * d[0, 1] + d[1, 1]
    west = d[-1, -1] + 2 * d[0, -1] + d[1, -1]
    north = d[-1, -1] + 2 * d[-1, 0] + d[-1, 1]
    south = d[1, -1] + 2 * d[1, 0] + d[1, 1]
    dzdx, dzdy = (east - west) / (8 * res), (north - south) / (8 * res)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    aspect = np.degrees(np.arctan2(-dzdx, -dzdy)) % 360.0
    # Unweighted plane fit over the 3 × 3 window: RSS = Σd² − (Σd)²/9 − (Σxd)²/6 − (Σyd)²/6.
    s1 = np.zeros_like(centre)
    s2 = np.zeros_like(centre)
    for diff in d.values():  # row by row, as the dict was built
        s1 += diff
        s2 += diff * diff
    sx = sum(d[dr, 1] - d[dr, -1] for dr in (-1, 0, 1))
    sy = sum(d[-1, dc] - d[1, dc] for dc in (-1, 0, 1))
    rss = s2 - s1 * s1 / 9 - (sx * sx + sy * sy) / 6
    rms = np.sqrt(np.maximum(rss, 0) / 9)
    if cells is None:
        return slope.reshape(z.shape), aspect.reshape(z.shape), rms.reshape(z.shape)
    return slope, aspect, rms


def _normal_noise(sigma: float, res: float, half: int) -> float:
    """Rms of the horizontal part of a unit normal, (u, v), fitted to a flat (2·half + 1)²
    window of heights with noise ``sigma`` [m] on ``res`` [m] pixels: √2 σ / (res √Σx²),
    Σx² the window's sum of squared column offsets; Horn's weighted 3 × 3 (half 1) gives
    √2 · √12 / 8 = 0.61."""
    if half == 1:
        return 0.61 * sigma / res
    return float(np.sqrt(2.0) * sigma / (res * np.sqrt(_sum_sq_offsets(half))))


def _sum_sq_offsets(half: int) -> float:
    """Σx² over a (2·half + 1)² window of the squared column (or row) offsets [pixels²]."""
    w = 2 * half + 1
    return w * half * (half + 1) * w / 3.0


def normal_half_width(sigma0: float, res: float) -> int:
    """Half width of the window the pixels' normals are clustered on: the smallest of
    1 (3 × 3), 2 (5 × 5) or 3 (7 × 7 pixels) whose normals scatter by at most
    :data:`_NORMAL_SCATTER` on a DSM of noise ``sigma0`` [m] and pixel ``res`` [m] (3
    where none does). On a noisy DSM 3 × 3 normals of a 6–13° face and of the flat roof
    beside it overlap (σ 0.15 m on 1 m pixels: they scatter by 0.1, sin 8° = 0.14); a
    wider window shrinks the scatter with its size, at the cost of the faces' edge
    pixels, whose windows straddle a break line and fall between the peaks."""
    for half in (1, 2):
        if _normal_noise(sigma0, res, half) <= _NORMAL_SCATTER:
            return half
    return 3


def _fitting_half_width(geometry: np.ndarray, res: float) -> np.ndarray:
    """Widest half width (1–3) of a normal window no wider than half each footprint's
    width (:func:`roofpv.roofs.raster.footprint_width`) [pixels]:
    on a gable each face is half the width deep, and a wider window leaves it few pixels
    whose window lies on it alone (Delft's row houses, 2.3–3.6 m by that measure, keep
    Horn's 3 × 3 at 0.5 m; with 5 × 5 windows σ 0.15 m data read 10 points worse)."""
    return np.clip(np.floor((footprint_width(geometry) / 2 / res - 1) / 2), 1, 3).astype(np.int64)


def window_normals(z: np.ndarray, res: float, cells: np.ndarray, half: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal part (u, v) = (sin, cos)(aspect) · sin(slope) of the normal of the
    least-squares plane over the (2·half + 1)² window of each pixel ``cells`` (flat
    indices of ``z``), and the rms residual of that plane [m]; NaN where the window
    leaves the grid or holds no data."""
    rows, cols = z.shape
    p = np.pad(np.asarray(z, np.float64), half, constant_values=np.nan).ravel()
    q = np.asarray(cells, np.int64)
    q = q + q // cols * 2 * half + half * (cols + 2 * half) + half  # the same pixel, padded
    centre = p[q]
    s1, s2, sxz, syz = (np.zeros(q.size) for _ in range(4))
    for dr in range(-half, half + 1):
        for dc in range(-half, half + 1):
            d = p[q + dr * (cols + 2 * half) + dc] - centre
            s1 += d
            s2 += d * d
            sxz += dc * d
            syz -= dr * d
    w = 2 * half + 1
    sxx = _sum_sq_offsets(half)
    rss = s2 - s1 * s1 / (w * w) - (sxz * sxz + syz * syz) / sxx
    dzdx, dzdy = sxz / (sxx * res), syz / (sxx * res)
    norm = np.sqrt(1.0 + dzdx * dzdx + dzdy * dzdy)
    return -dzdx / norm, -dzdy / norm, np.sqrt(np.maximum(rss, 0.0) / (w * w))


def noise_model(slope: np.ndarray, rms: np.ndarray, res: float, step: float = 0.0,
                unit_q25: float = _RMS_Q25) -> tuple[float, float]:
    """Vertical noise of a DSM, σ(s) = √(σ₀² + (k·tan s)²), from its roof pixels.

    σ of a set of pixels is the lower quartile of their 3 × 3 plane-fit rms divided by
    its value for unit Gaussian noise, ``unit_q25`` (the lower quartile keeps ridges and
    edges out; :data:`_ABS_Q25` when ``rms`` holds absolute residuals from fitted planes).
    σ₀ is σ of the pixels flatter than 10° (without 50 such pixels, σ of the smoothest
    5° slope bin); k (the horizontal position noise that makes
    a resampled DSM rougher on steep roofs) is the pixel-weighted median over the 5° slope
    bins from 10° to 60° holding ≥ 50 pixels of √(σ² − σ₀²) / tan s. σ₀ is at least
    1 mm + 0.2 % of the pixel size (float rounding of a perfect surface) and the rounding
    noise of heights stored in steps of ``step``, step / √12.

    Parameters
    ----------
    slope, rms : per-pixel slope [deg] and 3 × 3 rms [m] of roof pixels (1-D)
    res : pixel size [m]
    step : height step of the DSM [m] (:func:`height_step`; 0 = continuous)

    Returns
    -------
    sigma0 : noise on flat roofs [m]
    k : growth of the noise with tan(slope) [m]
    """
    floor = max(1e-3 + 2e-3 * res, step / np.sqrt(12.0))
    keep = np.isfinite(slope) & np.isfinite(rms)
    s, r = slope[keep], rms[keep]
    b = (s // 5).astype(int)
    bins = [(np.quantile(r[sel], 0.25) / unit_q25, np.tan(np.radians(s[sel].mean())), count)
            for sel in (b == k for k in range(2, 12)) if (count := sel.sum()) >= 50]
    flat = s < 10
    if flat.sum() >= 50:
        sigma0 = float(np.quantile(r[flat], 0.25)) / unit_q25
    else:  # no flat roof: all the noise of the smoothest slope bin is taken as σ₀
        sigma0 = min((sig for sig, _, _ in bins), default=floor)
    sigma0 = max(sigma0, floor)
    if not bins:
        return sigma0, 0.0
    ks = [np.sqrt(max(sig * sig - sigma0 * sigma0, 0.0)) / t for sig, t, _ in bins]
    w = [n for *_, n in bins]
    order = np.argsort(ks)
    cum = np.cumsum(np.asarray(w, float)[order])
    return sigma0, float(np.asarray(ks)[order][np.searchsorted(cum, cum[-1] / 2)])


def height_step(z: np.ndarray) -> float:
    """Height step of a DSM [m]: the median gap between its sorted distinct values
    (1 cm for heights stored in centimetres; ≈ 0 for continuous values)."""
    values = np.unique(z[np.isfinite(z)])
    return float(np.median(np.diff(values))) if values.size > 2 else 0.0


def window_noise(raster: Raster, z: np.ndarray, slope: np.ndarray, rms: np.ndarray, cells: np.ndarray
                 ) -> tuple[float, float]:
    """:func:`noise_model` of a window's open roof pixels (``cells`` of ``z``, with their
    ``slope`` and ``rms``). With fewer than :data:`_NOISE_MIN_PX` of them (a few small
    buildings) the noise is pooled with a lattice sample of every pixel of ``raster``
    (the whole window, halo included: ground, roads, other roofs), so a lone small roof
    gets the DSM's noise, not the floor."""
    r = raster.res
    if slope.size >= _NOISE_MIN_PX:
        return noise_model(slope, rms, r, height_step(z.ravel()[cells]))
    rows, cols = raster.z.shape
    every = max(int(np.sqrt(raster.z.size / 200_000)), 1)
    rr, cc = np.meshgrid(np.arange(1, rows - 1, every), np.arange(1, cols - 1, every), indexing="ij")
    sample = (rr * cols + cc).ravel()
    s2, _, r2 = slope_aspect(raster.z, r, sample)
    return noise_model(np.r_[slope, s2], np.r_[rms, r2], r, height_step(raster.z.ravel()[sample]))


def _sigma(slope_deg, sigma0: float, k: float):
    return np.hypot(sigma0, k * np.tan(np.radians(np.minimum(slope_deg, 80.0))))


def ring_stats(raster: Raster, ids: np.ndarray, geometry: np.ndarray, neighbours: np.ndarray,
               params: Dsm, raised: np.ndarray, crs_wkt: str | None = None, ground: bool = True
               ) -> pd.DataFrame:
    """What a ring ``ground_ring_m`` around each building holds, in one exactextract call.

    Returns, indexed by ``ids``: ``raised_around_share`` (mean of ``raised``, 1 where a
    pixel stands above the ground, 0 where not) and, with ``ground``, ``ground_m``: a low
    quantile (``ground_quantile``) of the DSM in the ring, where pixels within
    ``ground_ring_m[0]`` of any footprint in ``neighbours`` are not ground (the
    window-wide quantile where a ring holds no such pixel).
    """
    inner, outer = params.ground_ring_m
    rings = shapely.difference(shapely.buffer(geometry, outer), shapely.buffer(geometry, inner))
    bands, ops = {"raised": raised}, [("raised", "mean", {})]
    if ground:
        neighbours = neighbours[shapely.intersects(neighbours, shapely.box(*raster.bounds))]
        mask = _burn(shapely.buffer(neighbours, inner), raster, np.ones(len(neighbours), np.int32), 0)
        bands["ground"] = np.where(mask == 1, np.nan, raster.z).astype(np.float32)
        ops.append(("ground", "quantile", {"q": params.ground_quantile}))
    stats = zonal(raster, bands, ops, ids, rings, crs_wkt).reindex(ids)
    out = pd.DataFrame({"raised_around_share": stats["raised_mean"].to_numpy(float)},
                       index=pd.Index(ids, name="building_id"))
    if ground:
        values = bands["ground"]
        fill = np.nanquantile(values, params.ground_quantile) if np.isfinite(values).any() else np.nan
        out["ground_m"] = stats.iloc[:, 1].fillna(fill).to_numpy(float)
    return out


def ground_surface(z: np.ndarray, res: float, index: tuple[slice, slice] | None = None) -> np.ndarray:
    """Ground under a DSM without a DEM: its grey opening over :data:`_OPENING_M` (the
    highest surface a disc that wide can reach from below; roofs and trees narrower than
    that vanish). Used only to tell raised from open ground around footprints.

    ``index`` (row and column slices): only those cells are computed, the rest is NaN;
    they hold the values of the whole window's opening (no-data cells filled with the
    whole window's median, the opening read on the cells within its reach around them)."""
    size = max(int(round(_OPENING_M / res)), 3)
    fill = np.nanmedian(z) if np.isfinite(z).any() else 0.0
    if index is None:
        return ndimage.grey_opening(np.where(np.isfinite(z), z, fill), size=(size, size))
    # A cell of the opening depends on the cells within size − 1 of it (erosion, then
    # dilation, over a size × size square): beyond that the window's edge is not seen.
    rows, cols = (slice(max(s.start - size, 0), min(s.stop + size, n)) for s, n in zip(index, z.shape))
    part = z[rows, cols]
    opened = ndimage.grey_opening(np.where(np.isfinite(part), part, fill), size=(size, size))
    out = np.full(z.shape, np.nan, opened.dtype)
    inner = tuple(slice(s.start - r.start, s.stop - r.start) for s, r in zip(index, (rows, cols)))
    out[index] = opened[inner]
    return out


def true_north(crs_wkt: str | None, x, y):
    """Azimuth of grid north against true north at (x, y) [deg, clockwise] (the grid
    convergence, from pyproj): a grid azimuth plus this is an azimuth from true north.
    0 without a CRS. ``x``, ``y``: scalars (a float back) or arrays (an array back)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    crs = pyproj.CRS.from_wkt(crs_wkt) if crs_wkt is not None else None
    if crs is None or not crs.is_projected:
        azimuth = np.zeros(np.broadcast(x, y).shape)
    else:
        to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        lon, lat = to_geo.transform(np.concatenate([x.ravel(), x.ravel()]), np.concatenate([y.ravel(), y.ravel() + 100.0]))
        n = x.size
        azimuth = crs.get_geod().inv(lon[:n], lat[:n], lon[n:], lat[n:])[0].reshape(x.shape)
    return float(azimuth) if azimuth.ndim == 0 else azimuth


def halo_m(params: Dsm = DEFAULTS) -> float:
    """DSM around the footprints that :func:`roof_geometry` reads (ground and raised
    rings) [m]."""
    return params.ground_ring_m[1]


def mostly_nothing_standing(status: pd.Series) -> bool:
    """Whether most of the (at least 5) footprints the DSM covers show nothing standing
    (``dsm_status``): the sign of a whole area off its DSM, not of a few open lots."""
    seen = status[status.ne("no_data") & status.notna()]
    return len(seen) >= 5 and seen.eq("nothing_standing").sum() >= 0.5 * len(seen)


def standing_findings(roofs: pd.DataFrame, source: str) -> list[Finding]:
    """A warning when most footprints the DSM covers show nothing standing (status
    ``nothing_standing``), naming the likely cause from what stands around them.

    ``roofs``: :func:`roof_geometry`'s table (``dsm_status``, ``roof_height_m``,
    ``raised_around_share``) of all footprints or of a sample of them.
    """
    if not mostly_nothing_standing(roofs["dsm_status"]):
        return []
    seen = roofs[roofs["dsm_status"].ne("no_data")]
    flat = seen[seen["dsm_status"].eq("nothing_standing")]
    n, k = len(seen), len(flat)
    height = float(flat["roof_height_m"].median())
    around = float(flat["raised_around_share"].median())
    if height < -_STANDING_M:
        cause = (f"the ground lies {-height:.1f} m above the DSM under them: the DEM is probably "
                 "in another height datum or unit than the DSM")
        fix = "give DSM and DEM heights in the same datum and in metres (or drop dsm.dem)"
    elif around < 0.05:
        cause = ("little stands above the ground around them either: the DSM is probably a "
                 "terrain model (DTM, bare ground) rather than a surface model with the buildings")
        fix = ("point dsm.tiles at the surface model (first returns, buildings included) and "
               "dsm.dem at the terrain model")
    else:
        cause = (f"the DSM shows buildings around them ({around:.0%} of the ring around them "
                 "stands out) but not on them: the footprints are probably shifted against the "
                 "DSM (web-map offset, another survey) or declared in the wrong CRS")
        fix = ("load footprints and DSM together in QGIS; set inputs.footprints_datum or the "
               "footprint file's CRS")
    return [Finding(
        "warning", source, None, None, "dsm_status", f"{k:,} of {n:,}",
        f"{k:,} of the {n:,} footprints the DSM covers ({k / n:.0%}) show nothing standing "
        f"(median DSM − ground over the footprint under {_STANDING_M:g} m); {cause}", fix)]


def _burn(geometry: np.ndarray, raster: Raster, values: np.ndarray, fill: int) -> np.ndarray:
    """Raster of ``values`` burnt at the pixels whose centre lies in each geometry."""
    if len(geometry) == 0:
        return np.full(raster.z.shape, fill, np.int32)
    with _GDAL:
        return rasterize(zip(geometry, values.astype(np.int32)), out_shape=raster.z.shape,
                         transform=from_origin(raster.x0, raster.y0, raster.res, raster.res),
                         fill=fill, dtype="int32")


def _form(flat: np.ndarray, azimuth: np.ndarray, n_planes: np.ndarray) -> np.ndarray:
    """Roof form (flat, mono_pitch, gable, hip, complex) from the number of sloped planes
    and their azimuths (n, k; sorted, NaN-padded)."""
    gaps = (np.diff(np.c_[azimuth, azimuth[:, :1] + 360.0], axis=1))
    two = np.abs(np.nan_to_num(gaps[:, 0], nan=0.0) - 180.0) <= 30.0
    k = azimuth.shape[1]
    four = np.zeros(len(flat), bool)
    if k >= 4:
        a4 = azimuth[:, :4]
        g4 = np.diff(np.c_[a4, a4[:, :1] + 360.0], axis=1)
        four = np.all(np.abs(g4 - 90.0) <= 30.0, axis=1)
    return np.select(
        [flat, n_planes == 1, (n_planes == 2) & two, (n_planes == 4) & four],
        ["flat", "mono_pitch", "gable", "hip"], "complex",
    )


def _group_quantiles(owner: np.ndarray, values: np.ndarray, n: int, qs: tuple[float, ...]
                     ) -> list[np.ndarray]:
    """Quantiles ``qs`` (nearest rank) of the finite ``values`` of each owner 0…n−1
    (owner −1 = none); NaN for an owner without values."""
    keep = (owner >= 0) & np.isfinite(values)
    o, v = owner[keep], values[keep]
    order = np.lexsort((v, o))
    o, v = o[order], v[order]
    count = np.bincount(o, minlength=n)
    start = np.r_[0, np.cumsum(count)[:-1]]
    out = []
    for q in qs:
        at = start + np.floor(q * np.maximum(count - 1, 0)).astype(np.int64)
        out.append(np.where(count > 0, v[np.minimum(at, max(v.size - 1, 0))] if v.size else np.nan, np.nan))
    return out


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each run of equal values of a sorted array."""
    first = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.arange(len(groups)) - np.repeat(first, np.diff(np.r_[first, len(groups)]))


def _fit_planes(group: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray, m: int
                ) -> tuple[np.ndarray, ...]:
    """Least-squares planes z = c + a·(x − x̄) + b·(y − ȳ) of ``m`` pixel groups.

    Returns x̄, ȳ, c, a, b and the pixel count of each group (NaN where < 3 pixels or
    degenerate)."""
    cnt = np.bincount(group, minlength=m).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my, mz = (np.bincount(group, v, minlength=m) / cnt for v in (x, y, z))
        dx, dy, dz = x - mx[group], y - my[group], z - mz[group]
        sxx, sxy, syy, sxz, syz = (np.bincount(group, v, minlength=m)
                                   for v in (dx * dx, dx * dy, dy * dy, dx * dz, dy * dz))
        det = sxx * syy - sxy * sxy
        ok = (cnt >= 3) & (det > 1e-9 * np.maximum(sxx * syy, 1e-12))
        a = np.where(ok, (syy * sxz - sxy * syz) / det, np.nan)
        b = np.where(ok, (sxx * syz - sxy * sxz) / det, np.nan)
    return mx, my, mz, a, b, cnt


def seed_size(geometry: np.ndarray, res: float, plane_min_area_m2: float) -> np.ndarray:
    """Fewest planar pixels that seed a plane on each footprint: those of
    ``plane_min_area_m2`` (at least 6), but no more than a sixteenth of the footprint's
    pixels and no fewer than 3 (a narrow row house at 1 m: 5 m × 9 m, two planes of
    22 m² whose 3 × 3-planar interior holds 3–6 pixels each)."""
    area_px = shapely.area(geometry) / (res * res)
    return np.clip(area_px / 16, 3, max(plane_min_area_m2 / (res * res), 6))


def _seed_planes(group: np.ndarray, xy: np.ndarray, z: np.ndarray, grad: tuple[np.ndarray, np.ndarray],
                 m: int) -> tuple[np.ndarray, ...]:
    """Planes of ``m`` seed regions: the least-squares plane (:func:`_fit_planes`), or,
    where the region is one pixel row (collinear: a plane 2–3 pixels wide keeps only its
    middle row as seed), the plane through its centroid with its pixels' mean gradient
    ``grad`` (dz/dx, dz/dy). Returns x̄, ȳ, z̄, a, b."""
    mx, my, mz, a, b, cnt = _fit_planes(group, xy[:, 0], xy[:, 1], z, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        line = ~np.isfinite(a) & (cnt >= 3)
        a = np.where(line, np.bincount(group, grad[0], minlength=m) / cnt, a)
        b = np.where(line, np.bincount(group, grad[1], minlength=m) / cnt, b)
    return mx, my, mz, a, b


def _two_planes(xy: np.ndarray, z: np.ndarray, grad: np.ndarray, min_px: float) -> np.ndarray | None:
    """Pixels of one fitted plane that are two planes (a ridge, a valley or a change of
    pitch it was fitted across): the second plane's pixels, or None.

    The pixels are first split by their gradient (``grad``, (n, 2) dz/dx, dz/dy) along
    the gradients' principal axis, then by which of the two fitted planes each lies
    closer to, until the split settles (k-planes). Two planes are kept when they explain
    the heights better by Schwarz's criterion (BIC lower by > 10, three more parameters),
    both hold ≥ ``min_px`` pixels and their normals differ by ≥ 3°."""
    n = z.size
    design = np.c_[np.ones(n), xy - xy.mean(axis=0)]
    ok = np.isfinite(grad).all(axis=1)
    if ok.sum() < 2 * min_px:
        return None
    g = grad[ok] - np.median(grad[ok], axis=0)
    axis = np.linalg.eigh(np.cov(g.T))[1][:, -1]
    side = np.zeros(n, bool)
    side[ok] = g @ axis > 0
    one = np.linalg.lstsq(design, z, rcond=None)[0]
    rss1 = float(np.sum((z - design @ one) ** 2))
    fits = None
    for _ in range(8):
        if side.sum() < 3 or (~side).sum() < 3:
            return None
        fits = [np.linalg.lstsq(design[part], z[part], rcond=None)[0] for part in (~side, side)]
        err = np.abs(z[:, None] - design @ np.c_[fits[0], fits[1]])
        new = err[:, 1] < err[:, 0]
        if np.array_equal(new, side):
            break
        side = new
    rss2 = float(np.sum(np.min(err, axis=1) ** 2))
    if min(side.sum(), (~side).sum()) < min_px or rss2 <= 0 or rss1 <= 0:
        return None
    normals = [np.r_[-f[1], -f[2], 1.0] / np.linalg.norm(np.r_[f[1], f[2], 1.0]) for f in fits]
    angle = np.degrees(np.arccos(np.clip(normals[0] @ normals[1], -1, 1)))
    better = n * np.log(rss1 / n) - (n * np.log(rss2 / n) + 3 * np.log(n))
    return side if better > 10 and angle >= 3 else None


def _split_at_breaks(plane_px: np.ndarray, z: np.ndarray, window: Raster, seed_owner: np.ndarray,
                     seed_px: np.ndarray, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Planes whose pixels fit them worse than the noise allows (rms > 1.5 σ(tilt)) and
    that hold two planes (:func:`_two_planes`: a low-pitch gable fitted across its
    ridge, a roof of two pitches read as one) split in two, up to three times over.

    Returns the relabelled plane raster (flat, plane per pixel) and the owner of each
    plane (new planes appended)."""
    for _ in range(3):
        cells = np.flatnonzero(plane_px >= 0)
        g = plane_px[cells]
        m = seed_owner.size
        xy = window.centres(cells)
        zz = z.ravel()[cells].astype(float)
        mx, my, mz, a, b, cnt = _fit_planes(g, xy[:, 0], xy[:, 1], zz, m)
        e = zz - (mz[g] + a[g] * (xy[:, 0] - mx[g]) + b[g] * (xy[:, 1] - my[g]))
        with np.errstate(invalid="ignore", divide="ignore"):
            rms = np.sqrt(np.bincount(g, e * e, minlength=m) / cnt)
            tilt = np.degrees(np.arctan(np.hypot(a, b)))
            suspect = np.flatnonzero((rms > 1.5 * sigma(tilt)) & (cnt >= 2 * seed_px[seed_owner]))
        if suspect.size == 0:
            break
        order = np.argsort(g, kind="stable")
        start = np.r_[0, np.cumsum(np.bincount(g, minlength=m))]
        slope, aspect, _ = slope_aspect(z, window.res, cells)
        tan_s = np.tan(np.radians(slope))
        grad = np.c_[-tan_s * np.sin(np.radians(aspect)), -tan_s * np.cos(np.radians(aspect))]
        added = []
        for p in suspect:
            sel = order[start[p]:start[p + 1]]
            second = _two_planes(xy[sel], zz[sel], grad[sel], seed_px[seed_owner[p]])
            if second is not None:
                plane_px[cells[sel[second]]] = m + len(added)
                added.append(seed_owner[p])
        if not added:
            break
        seed_owner = np.r_[seed_owner, np.asarray(added, np.int64)]
    return plane_px, seed_owner


def _components(cells: np.ndarray, label: np.ndarray, cols: int) -> np.ndarray:
    """8-connected regions of equal ``label`` among the pixels ``cells`` (ascending flat
    indices of a grid ``cols`` wide): region of each pixel, numbered 0… in the order of
    their first pixel. Diagonal neighbours join: the planar interior of a plane 2–3
    pixels wide turned against the grid is a staircase."""
    col = cells % cols
    src, dst = [], []
    for step, ok in ((1, col != cols - 1), (cols, True), (cols - 1, col != 0), (cols + 1, col != cols - 1)):
        at = np.minimum(np.searchsorted(cells, cells + step), max(cells.size - 1, 0))
        hit = np.flatnonzero((cells[at] == cells + step) & (label[at] == label) & ok)
        src.append(hit)
        dst.append(at[hit])
    src, dst = np.concatenate(src), np.concatenate(dst)
    graph = sparse.coo_matrix((np.ones(src.size, np.int8), (src, dst)), shape=(cells.size, cells.size))
    return connected_components(graph, directed=False)[1]


def _normal_peaks(owner: np.ndarray, u: np.ndarray, v: np.ndarray, n: int, radius: np.ndarray,
                  min_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per roof, the peaks of the 2-D histogram of the pixels' normals (u, v) =
    sin(slope)·(sin, cos)(aspect): local maxima of the 3 × 3-smoothed histogram within
    ``radius`` bins (of each roof, (n,)) that hold ≥ ``min_px`` (of each roof, (n,))
    pixels within that radius.

    Returns
    -------
    peak_u, peak_v : (n, k) peak positions, NaN-padded, largest first (k ≥ 1: the most
        peaks of any roof, at most ``_MAX_PLANES``)
    """
    peak_u = np.full((n, 1), np.nan)
    peak_v = np.full((n, 1), np.nan)
    present = np.flatnonzero(np.bincount(owner, minlength=n))  # roofs with pixels
    for rad in np.unique(radius[present]):
        sel = radius[owner] == rad
        pu, pv = _peaks(owner[sel], u[sel], v[sel], n, int(rad), min_px)
        k = max(peak_u.shape[1], pu.shape[1])
        peak_u, peak_v = (np.pad(q, ((0, 0), (0, k - q.shape[1])), constant_values=np.nan) for q in (peak_u, peak_v))
        rows = present[radius[present] == rad]
        peak_u[rows, :pu.shape[1]], peak_v[rows, :pv.shape[1]] = pu[rows], pv[rows]
    return peak_u, peak_v


def _peaks(owner: np.ndarray, u: np.ndarray, v: np.ndarray, n: int, radius: int,
           min_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_normal_peaks` of roofs sharing one ``radius``."""
    nb = int(round(2 / _NORMAL_BIN))
    iu = np.clip(((u + 1) / _NORMAL_BIN).astype(np.int64), 0, nb - 1)
    iv = np.clip(((v + 1) / _NORMAL_BIN).astype(np.int64), 0, nb - 1)
    present = np.flatnonzero(np.bincount(owner, minlength=n))  # np.unique's, counted not sorted
    dense = np.zeros(n, np.intp)
    dense[present] = np.arange(present.size)
    dense = dense[owner]
    hist = np.bincount((dense * nb + iu) * nb + iv, minlength=present.size * nb * nb)
    hist = hist.reshape(present.size, nb, nb).astype(np.float64)
    smooth = ndimage.uniform_filter(hist, size=(1, 3, 3), mode="constant")
    # Break ties between equal neighbours (plateaus) by position: one peak per plateau.
    smooth += np.tile(np.arange(nb * nb, dtype=np.float64).reshape(nb, nb), (present.size, 1, 1)) * 1e-6
    w = 2 * radius + 1
    mass = ndimage.uniform_filter(hist, size=(1, w, w), mode="constant") * w * w
    enough = mass >= np.asarray(min_px, float)[present][:, None, None]
    peak = (smooth == ndimage.maximum_filter(smooth, size=(1, w, w), mode="constant")) & enough
    r, pu, pv = np.nonzero(peak)
    order = np.lexsort((-mass[r, pu, pv], r))
    r, pu, pv = r[order], pu[order], pv[order]
    rank = _rank_within(r)
    keep = rank < _MAX_PLANES
    k = int(rank[keep].max(initial=0)) + 1
    peak_u = np.full((n, k), np.nan)
    peak_v = np.full((n, k), np.nan)
    peak_u[present[r[keep]], rank[keep]] = (pu[keep] + 0.5) * _NORMAL_BIN - 1
    peak_v[present[r[keep]], rank[keep]] = (pv[keep] + 0.5) * _NORMAL_BIN - 1
    return peak_u, peak_v


def _segment(raster: Raster, footprints: gpd.GeoSeries, params: Dsm, ground: Raster | None,
             canopy: Raster | None, neighbours: np.ndarray | None):
    """Roof measurement of one window (see :func:`roof_geometry`); also returns the
    cropped window and its plane label raster (plane row per pixel, −1 = none)."""
    ids = footprints.index.to_numpy().astype(str)
    geometry = footprints.to_numpy()
    crs_wkt = footprints.crs.to_wkt() if footprints.crs is not None else None
    n, r = len(ids), raster.res
    for extra, what in ((ground, "DEM"), (canopy, "canopy")):
        if extra is not None and not extra.on_grid_of(raster):
            raise ValueError(f"the {what} window is not on the DSM window's pixel grid "
                             "(read the windows with roofpv.io.tiles.windows)")
    pad = int(np.ceil(halo_m(params) / r)) + 2
    index = raster.slices(shapely.total_bounds(geometry), pad)
    window = raster.cut(index)
    z = window.z
    dem = ground.z[index] if ground is not None else None
    buffer_m = inner_buffer(geometry, r, params.inner_buffer_m)
    inner = shrink(geometry, buffer_m)

    # Heights over the whole footprint (eaves included); data coverage of the shrunk roof.
    bands = {"z": z}
    ops = [("z", "mean", {})]
    if dem is not None:
        bands["dem"] = dem
        ops.append(("dem", "mean", {}))
    stats = zonal(window, bands, ops, ids, geometry, crs_wkt).reindex(ids)
    count = zonal(window, {"z": z}, [("z", "count", {})], ids, inner, crs_wkt)["z_count"].reindex(ids)
    # Something stands where pixels rise above the ground: the DEM, else the DSM's grey
    # opening (only for the share of the ring around each footprint that stands).
    base = dem if dem is not None else ground_surface(z, r)
    raised = np.where(np.isfinite(z) & np.isfinite(base), (z - base > _STANDING_M).astype(np.float32), np.nan)
    ground_m = stats["dem_mean"].to_numpy(float, copy=True) if dem is not None else np.full(n, np.nan)
    rings = ring_stats(window, ids, geometry, geometry if neighbours is None else neighbours, params,
                       raised, crs_wkt, ground=not np.isfinite(ground_m).all())
    raised_around = rings["raised_around_share"].to_numpy(float)
    if "ground_m" in rings:  # no DEM, or no DEM data under a footprint: ground from its ring
        ground_m = np.where(np.isfinite(ground_m), ground_m, rings["ground_m"].to_numpy(float))
    coverage = data_share(count.fillna(0).to_numpy(), r, inner)
    # Pixels: owner (footprint position) of each pixel, and of each roof pixel (shrunk).
    positions = np.arange(n)
    owner_full = _burn(geometry, window, positions, -1)
    owner_in = _burn(inner, window, positions, -1)
    # Median and 90th percentile of the pixels whose centre lies on the footprint
    # (exactextract's quantiles interpolate between distinct values, which a noise-free
    # DSM has few of); the coverage-weighted mean for a footprint holding no pixel centre.
    mid, high = _group_quantiles(owner_full.ravel(), z.ravel(), n, (0.5, 0.9))
    mean = stats["z_mean"].to_numpy(float)
    height = np.where(np.isfinite(mid), mid, mean) - ground_m
    height_max = np.where(np.isfinite(high), high, mean) - ground_m
    # Per-pixel roof values only at the roof pixels (a small part of the window).
    roof = np.flatnonzero(owner_in >= 0)
    roof_owner = owner_in.ravel()[roof]
    slope, aspect, rms = slope_aspect(z, r, roof)
    usable = np.isfinite(rms)
    if canopy is not None:
        trees = canopy.z[index]
        base = dem if dem is not None else z
        tree_top = np.where(np.nan_to_num(trees) > 0, base + np.nan_to_num(trees), -np.inf)
        covered = tree_top > np.nan_to_num(z, nan=-np.inf) + 0.5
    else:
        covered = np.zeros(z.shape, bool)
    open_roof = usable & ~covered.ravel()[roof]
    sigma0, k_noise = window_noise(raster, z, slope[open_roof], rms[open_roof], roof[open_roof])
    standing = height > max(_STANDING_M, _STANDING_SIGMA * sigma0)
    measured_cov = coverage >= params.min_coverage
    live = measured_cov & standing

    # Seeds: planar roof pixels of live roofs, clustered by normal, split into regions.
    # A roof's smoothest quarter of pixels may always seed: on a smoothed or coarsened
    # DSM (Zurich 0.5 → 1 m, a blur) most 3 × 3 windows of a small face straddle a
    # rounded edge, too few pixels per slope bin measure k, and steep faces held to the
    # flat-roof noise kept no seed (16 of 49 buildings). Where the noise is Gaussian as
    # modelled, that quarter lies within the planar test anyway (0.62 σ against 1.4 σ).
    # Tilts are still fitted to the strictly planar pixels (below).
    smoothest = _group_quantiles(np.where(open_roof, roof_owner, -1), rms, n, (_SEED_SHARE,))[0]
    strict = rms <= _PLANAR_SIGMA * _sigma(slope, sigma0, k_noise)
    cand = open_roof & (strict | (rms <= smoothest[roof_owner])) & live[roof_owner]
    cells = roof[cand]
    own = roof_owner[cand]
    sin_s = np.sin(np.radians(slope[cand]))
    asp = np.radians(aspect[cand])
    # Normals clustered over a wider window where the noise makes 3 × 3 normals scatter
    # past the histogram's resolution (:func:`normal_half_width`), and they do scatter so
    # (against the wide windows' normals: the noise model's σ₀ may be a quantisation floor
    # that a noise-free DSM does not reach), on roofs wide enough for that window
    # (:func:`_fitting_half_width`); a pixel whose wide window is not planar (across a
    # ridge, an eave or a wall) keeps its 3 × 3 normal.
    u, v = sin_s * np.sin(asp), sin_s * np.cos(asp)
    half = np.ones(n, np.int64)
    wide_half = normal_half_width(sigma0, r)
    if wide_half > 1 and cells.size:
        wu, wv, wrms = window_normals(z, r, cells, wide_half)
        planar_wide = wrms <= _PLANAR_SIGMA * _sigma(slope[cand], sigma0, k_noise)
        # Rms of a 2-D Gaussian scatter is 1.2 times its median distance (Rayleigh).
        scatter = 1.2 * np.median(np.hypot(u - wu, v - wv)[planar_wide]) if planar_wide.any() else 0.0
        if scatter > _NORMAL_SCATTER:
            half[:] = np.minimum(wide_half, _fitting_half_width(geometry, r))
            wide = (half[own] > 1) & planar_wide
            u[wide], v[wide] = wu[wide], wv[wide]
    radius = np.clip(np.ceil(2.0 * np.array([_normal_noise(sigma0, r, h) for h in (1, 2, 3)]) / _NORMAL_BIN),
                     2, 6).astype(int)[half - 1]
    seed_px = seed_size(geometry, r, params.plane_min_area_m2)
    peak_u, peak_v = _normal_peaks(own, u, v, n, radius, seed_px)
    d2 = (peak_u[own] - u[:, None]) ** 2 + (peak_v[own] - v[:, None]) ** 2
    best = np.argmin(np.nan_to_num(d2, nan=np.inf), axis=1)
    near = np.nan_to_num(d2[np.arange(len(cells)), best], nan=np.inf) <= (2 * radius[own] * _NORMAL_BIN) ** 2
    region = _components(cells[near], own[near] * _MAX_PLANES + best[near], z.shape[1])
    size = np.bincount(region)
    region_owner = np.zeros(size.size, np.int64)
    region_owner[region] = own[near]
    big = np.flatnonzero(size >= seed_px[region_owner])
    renum = np.full(size.size, -1, np.int64)
    renum[big] = np.arange(big.size)
    region = renum[region]
    seed_cells = cells[near][region >= 0]
    g = region[region >= 0]
    m = big.size
    seed_owner = np.zeros(m, np.int64)
    seed_owner[g] = owner_in.ravel()[seed_cells]
    xy = window.centres(seed_cells)
    zs = z.ravel()[seed_cells].astype(float)
    # Pixel gradients (dz/dx, dz/dy), for seeds one pixel row wide (narrow planes).
    tan_s = np.tan(np.radians(slope[cand][near][region >= 0]))
    grad = -tan_s * np.sin(asp[near][region >= 0]), -tan_s * np.cos(asp[near][region >= 0])
    mx, my, mz, a, b = _seed_planes(g, xy, zs, grad, m)
    # Refit without outliers.
    tilt = np.degrees(np.arctan(np.hypot(a, b)))
    res_ = zs - (mz[g] + a[g] * (xy[:, 0] - mx[g]) + b[g] * (xy[:, 1] - my[g]))
    inl = np.abs(res_) <= _FIT_SIGMA * _sigma(np.nan_to_num(tilt[g]), sigma0, k_noise)
    mx, my, mz, a, b = _seed_planes(g[inl], xy[inl], zs[inl], (grad[0][inl], grad[1][inl]), m)

    # Every footprint pixel joins its nearest seed region's plane if it fits it (regions
    # without a plane, e.g. one pixel row along a ridge, seed nothing). The distance
    # transform runs on the footprints' bounding box, which holds every seed.
    good = np.isfinite(a) & np.isfinite(b)
    fp_rows, fp_cols = np.nonzero(owner_full >= 0)
    pix = np.zeros(0, np.int64)
    if good.any() and fp_rows.size:
        r0, r1, c0, c1 = fp_rows.min(), fp_rows.max() + 1, fp_cols.min(), fp_cols.max() + 1
        box = np.full((r1 - r0, c1 - c0), -1, np.int64)
        keep = good[g]
        box[seed_cells[keep] // z.shape[1] - r0, seed_cells[keep] % z.shape[1] - c0] = g[keep]
        nr, nc = ndimage.distance_transform_edt(box < 0, return_distances=False, return_indices=True)
        inside = np.s_[r0:r1, c0:c1]
        br, bc = np.nonzero((owner_full[inside] >= 0) & np.isfinite(z[inside]) & ~covered[inside])
        nearest = box[nr[br, bc], nc[br, bc]]
        pix = ((br + r0) * z.shape[1] + bc + c0)[nearest >= 0]
        nearest_pix = nearest[nearest >= 0]
    else:
        nearest_pix = np.zeros(0, np.int64)
    p = nearest_pix
    pxy = window.centres(pix)
    with np.errstate(invalid="ignore"):
        tilt = np.degrees(np.arctan(np.hypot(a, b)))
        e = z.ravel()[pix] - (mz[p] + a[p] * (pxy[:, 0] - mx[p]) + b[p] * (pxy[:, 1] - my[p]))
        # The noise as the planes see it: the footprint pixels' residuals from their
        # nearest plane. A DSM resampled finer than it was measured (bilinear 1 m → 0.5 m)
        # is smooth within 3 × 3 pixels, so the pixel-scale estimate misses the noise of
        # the heights it was interpolated from (Gothenburg 1 m → 0.5 m: k 0.16 → 0.03 m);
        # on a DSM at its own cell the two agree. The tolerances take the larger.
        fit0, fit_k = noise_model(tilt[p], np.abs(e), r, unit_q25=_ABS_Q25)
        sigma0, k_noise = max(sigma0, fit0), max(k_noise, fit_k)
        tol = _FIT_SIGMA * _sigma(tilt[p], sigma0, k_noise)
        fits = (np.abs(e) <= tol) & (owner_full.ravel()[pix] == seed_owner[p])
    plane_px = np.full(z.size, -1, np.int64)
    plane_px[pix[fits]] = p[fits]
    in_roof = owner_in.ravel()[pix] >= 0
    above = in_roof & (e > tol) & (owner_in.ravel()[pix] == seed_owner[p])
    roof_count = np.bincount(roof_owner[usable], minlength=n)
    obstacle = np.bincount(owner_in.ravel()[pix[above]], minlength=n)
    # Walls at height steps between roof levels are not roof planes (roofs/steps.py).
    wall = steps.step_pixels(z, r, (raised == 1) & ~covered, plane_px >= 0)
    plane_px, wall_m2 = steps.drop_walls(plane_px, wall, tilt, seed_owner, n, r)
    # Planes that are two planes meeting at a break line are split; final planes from their pixels.
    plane_px, seed_owner = _split_at_breaks(plane_px, z, window, seed_owner, seed_px,
                                            lambda t: _sigma(t, sigma0, k_noise))
    m = seed_owner.size
    a_cells = np.flatnonzero(plane_px >= 0)
    ga = plane_px[a_cells]
    axy = window.centres(a_cells)
    za = z.ravel()[a_cells].astype(float)
    mx, my, mz, a, b, cnt = _fit_planes(ga, axy[:, 0], axy[:, 1], za, m)
    # Tilt and azimuth from the plane's planar pixels (the noise model's 3 × 3 test) where
    # they span a plane: the pixels that joined within 3σ but are not planar straddle its ridge or
    # eaves and flatten a face a few pixels deep (Delft's 45° faces at 1 m: 5–10°).
    planar = np.zeros(z.size, bool)
    planar[roof[cand & strict]] = True
    on = planar[a_cells]
    px, py, pz, pa, pb, pcnt = _fit_planes(ga[on], axy[on, 0], axy[on, 1], za[on], m)
    inner_fit = np.isfinite(pa) & np.isfinite(pb) & (pcnt >= 3)
    mx, my, mz, a, b = (np.where(inner_fit, q_in, q_all) for q_in, q_all in
                        ((px, mx), (py, my), (pz, mz), (pa, a), (pb, b)))
    e = z.ravel()[a_cells] - (mz[ga] + a[ga] * (axy[:, 0] - mx[ga]) + b[ga] * (axy[:, 1] - my[ga]))
    with np.errstate(invalid="ignore", divide="ignore"):
        fit_rms = np.sqrt(np.bincount(ga, e * e, minlength=m) / cnt)
    tilt = np.degrees(np.arctan(np.hypot(a, b)))
    x_mid, y_mid = (window.bounds[0] + window.bounds[2]) / 2, (window.bounds[1] + window.bounds[3]) / 2
    azimuth = (np.degrees(np.arctan2(-a, -b)) + true_north(crs_wkt, x_mid, y_mid)) % 360.0

    # Plane outlines: the plane's pixels, grown by half a pixel into the footprint where
    # no other plane of the roof holds the pixels (so the eaves follow the footprint edge
    # instead of the pixel staircase), clipped to the footprint.
    label2d = plane_px.reshape(z.shape)
    own = shapely.make_valid(_outlines(label2d, window, m))
    held = shapely.make_valid(_outlines(np.r_[seed_owner, -1][label2d], window, n))  # −1 → −1
    grown = shapely.buffer(shapely.simplify(own, r), r / 2, join_style="mitre")
    free = shapely.difference(grown, held[seed_owner])
    outline = shapely.union(shapely.make_valid(shapely.simplify(own, r / 2)), free)
    polygons = _polygonal(shapely.intersection(outline, geometry[seed_owner]))
    area = np.nan_to_num(shapely.area(polygons))
    # Walls and towers are not roof planes; a plane its own pixels do not fit was a bad seed.
    with np.errstate(invalid="ignore"):
        ok = ((area >= params.plane_min_area_m2 / 2) & (tilt <= _MAX_TILT)
              & (fit_rms <= _FIT_SIGMA * _sigma(tilt, sigma0, k_noise)))
    sel = np.flatnonzero(ok)
    flat_plane = tilt < params.flat_max_slope_deg
    azimuth = np.where(flat_plane, 180.0, azimuth)
    off_south = np.abs((azimuth - 180.0 + 180.0) % 360.0 - 180.0)
    order = sel[np.lexsort((-area[sel], off_south[sel], seed_owner[sel]))]
    p_owner = seed_owner[order]
    p_rank = _rank_within(p_owner)
    row_of = np.full(m + 1, -1, np.int64)
    row_of[order] = np.arange(order.size)
    plane_px = row_of[plane_px]
    p_tilt, p_az, p_area, p_flat = tilt[order], azimuth[order], area[order], flat_plane[order]

    # Roof-level values.
    n_planes = np.bincount(p_owner, minlength=n)
    weight = np.bincount(p_owner, p_area, minlength=n)
    flat_share = np.bincount(p_owner, p_area * p_flat, minlength=n) / np.where(weight > 0, weight, np.nan)
    flat = flat_share >= 0.5
    sloped = ~p_flat
    n_sloped = np.bincount(p_owner[sloped], minlength=n)
    az_sorted = np.full((n, max(int(n_sloped.max(initial=0)), 1)), np.nan)
    by_az = np.lexsort((p_az[sloped], p_owner[sloped]))
    az_sorted[p_owner[sloped][by_az], _rank_within(p_owner[sloped][by_az])] = p_az[sloped][by_az]
    status = np.select([~measured_cov, ~standing, n_planes == 0],
                       ["no_data", "nothing_standing", "no_planes"], "measured")
    measured = status == "measured"
    form = np.where(measured, _form(flat, az_sorted, n_sloped), None)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope_roof = np.bincount(p_owner, p_area * p_tilt, minlength=n) / weight
        planar_share = np.bincount(p_owner, p_area, minlength=n) / shapely.area(geometry)
        obstacle_share = obstacle / roof_count
    front = p_rank == 0
    aspect_roof = np.full(n, np.nan)
    aspect_roof[p_owner[front]] = p_az[front]
    aspect_roof[flat] = np.nan
    roofs = pd.DataFrame({
        "dsm_coverage": np.clip(coverage, 0, 1),
        "measured": measured,
        "dsm_status": status,
        "ground_m": np.where(measured_cov, ground_m, np.nan),
        "roof_height_m": np.where(measured_cov, height, np.nan),
        "roof_height_max_m": np.where(measured_cov, height_max, np.nan),
        "roof_slope_deg": np.where(measured, slope_roof, np.nan),
        "roof_aspect_deg": np.where(measured, aspect_roof, np.nan),
        "planar_share": np.where(measured, np.clip(planar_share, 0, 1), np.nan),
        "obstacle_share": np.where(measured, obstacle_share, np.nan),
        "roof_form": form,
        "n_planes": n_planes,
        "dsm_noise_m": sigma0,
        "raised_around_share": raised_around,
        "step_wall_m2": wall_m2,
    }, index=pd.Index(ids, name="building_id"))
    planes = gpd.GeoDataFrame({
        "building_id": ids[p_owner], "plane": p_rank, "azimuth_deg": p_az, "tilt_deg": p_tilt,
        "area_m2": p_area, "fit_rms_m": fit_rms[order],
    }, geometry=polygons[order], crs=footprints.crs)
    return roofs, planes, window, plane_px.reshape(z.shape)


def _outlines(label: np.ndarray, window: Raster, m: int) -> np.ndarray:
    """(m,) outlines of the pixels of each label 0…m−1 (None where it has none)."""
    out = np.full(m, None, object)
    if m == 0:
        return out
    transform = from_origin(window.x0, window.y0, window.res, window.res)
    with _GDAL:
        found = list(shapes(label.astype(np.int32), mask=label >= 0, connectivity=4, transform=transform))
    if found:
        # GeoJSON polygons (shell, then holes) → shapely in one vectorised pass.
        rings = [ring for geom, _ in found for ring in geom["coordinates"]]
        per_polygon = np.fromiter((len(geom["coordinates"]) for geom, _ in found), np.int64, len(found))
        size = np.fromiter(map(len, rings), np.int64, len(rings))
        xy = np.array([xy for ring in rings for xy in ring], float)
        ring = shapely.linearrings(xy, indices=np.repeat(np.arange(len(rings)), size))
        parts = shapely.polygons(ring, indices=np.repeat(np.arange(len(found)), per_polygon))
        which = np.fromiter((value for _, value in found), np.int64, len(found))
        order = np.argsort(which, kind="stable")
        present, dense = np.unique(which[order], return_inverse=True)
        out[present] = shapely.multipolygons(parts[order], indices=dense)
    return out


def _polygonal(geometry: np.ndarray) -> np.ndarray:
    """The polygonal parts of each geometry as one (multi)polygon; None where none."""
    parts, idx = shapely.get_parts(geometry, return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)
    idx = idx[sub]
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    out = np.full(len(geometry), None, object)
    if keep.any():
        present, dense = np.unique(idx[keep], return_inverse=True)
        out[present] = shapely.multipolygons(parts[keep], indices=dense)
    return out


def roof_geometry(raster: Raster, footprints: gpd.GeoSeries, params: Dsm = DEFAULTS,
                  ground: Raster | None = None, canopy: Raster | None = None,
                  neighbours: np.ndarray | None = None) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Measure the roofs of ``footprints`` on one DSM window.

    Parameters
    ----------
    raster : DSM window covering the footprints (and their ground rings)
    footprints : polygons in the raster's CRS, indexed by ``building_id``
    params : measurement parameters (``config.dsm``)
    ground : DEM on the same pixel grid (:func:`roofpv.io.tiles.windows` reads it so);
        None = ground from rings around each footprint (also where the DEM has no data)
    canopy : tree heights above ground on the same pixel grid [m]; None = no trees
    neighbours : every footprint in the window (masked out of the ground rings);
        default ``footprints``

    Returns
    -------
    roofs : DataFrame indexed by ``building_id``: ``dsm_coverage`` (share of the shrunk
        roof with data), ``dsm_status`` (:data:`DSM_STATUSES`), ``measured`` (status
        ``measured``), ``ground_m``, ``roof_height_m`` (median above ground over the
        footprint), ``roof_height_max_m`` (90th percentile), ``roof_slope_deg`` (area-weighted plane
        tilt), ``roof_aspect_deg`` (plane facing nearest south; NaN for flat roofs),
        ``planar_share`` (plane area / footprint area), ``obstacle_share`` (share of roof
        pixels standing above their plane), ``roof_form``, ``n_planes``, ``dsm_noise_m``
        (σ₀ of the window, the larger of the 3 × 3 and the plane-residual estimates),
        ``raised_around_share`` (share of the ring ``ground_ring_m`` around the
        footprint standing 2 m above the ground: :func:`standing_findings`),
        ``step_wall_m2`` (plan area of the largest plane left out as a wall at a height
        step between roof levels, :func:`roofpv.roofs.steps.drop_walls`; 0 when none)
    planes : GeoDataFrame, one row per plane of each measured roof: ``building_id``,
        ``plane`` (0 = facing nearest south), ``azimuth_deg`` (of the fitted plane's
        downslope, from true north; 180 for flat planes), ``tilt_deg``, ``area_m2`` (plan), ``fit_rms_m``,
        ``geometry`` (the plane's pixels clipped to the footprint)
    """
    roofs, planes, *_ = _segment(raster, footprints, params, ground, canopy, neighbours)
    return roofs, planes


def plane_points(label: np.ndarray, window: Raster, n_planes: int, per_plane: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Horizon sample points: about ``per_plane`` pixel centres of each plane on a square
    lattice over its pixels (every s-th row and column, s = ⌈√(pixels / per_plane)⌉), or
    every k-th pixel where the lattice misses a narrow plane.

    Returns
    -------
    xy : (m, 2) coordinates [m]
    plane : (m,) plane of each point
    """
    cells = np.flatnonzero(label.ravel() >= 0)
    which = label.ravel()[cells]
    order = np.argsort(which, kind="stable")
    cells, which = cells[order], which[order]
    count = np.bincount(which, minlength=n_planes)
    s = np.maximum(np.ceil(np.sqrt(count / per_plane)), 1).astype(np.int64)[which]
    cols = label.shape[1]
    lattice = (cells // cols % s == 0) & (cells % cols % s == 0)
    short = np.bincount(which[lattice], minlength=n_planes) < min(per_plane, 4)
    step = np.maximum(np.ceil(count / per_plane), 1).astype(np.int64)
    keep = np.where(short[which], _rank_within(which) % step[which] == 0, lattice)
    return window.centres(cells[keep]), which[keep]


def measure_window(raster: Raster, footprints: gpd.GeoSeries, table: shading.SunTable,
           params: Dsm = DEFAULTS, ground: Raster | None = None, canopy: Raster | None = None,
           neighbours: np.ndarray | None = None, flat_module_tilt_deg: float = 0.0
           ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Roof geometry (:func:`roof_geometry`) plus horizon and annual shading loss.

    Each plane's horizon is sampled at about ``points_per_plane`` of its pixels,
    ``point_height_m`` above the DSM, over the DSM with trees (``canopy``) added; the
    plane's loss is the mean over its points, for its own tilt and azimuth (flat planes:
    ``flat_module_tilt_deg`` facing south, the racks' tilt).

    Returns
    -------
    roofs : as :func:`roof_geometry` plus ``shading_loss`` (plan-area-weighted over the
        planes) and ``sky_view_factor`` (horizontal, mean over the sample points)
    planes : as :func:`roof_geometry` plus ``shading_loss``, ``sky_visible`` (share of
        the plane's sky diffuse not blocked), ``horizon_deg`` (mean profile, list) and
        ``shading_points``
    """
    roofs, planes, window, label = _segment(raster, footprints, params, ground, canopy, neighbours)
    if planes.empty:
        return roofs.assign(shading_loss=np.nan, sky_view_factor=np.nan), planes
    surface = raster
    if canopy is not None:
        base = ground.z if ground is not None else raster.z
        trees = np.nan_to_num(canopy.z)
        surface = Raster(np.fmax(raster.z, np.where(trees > 0, base + trees, np.nan)).astype(np.float32),
                         raster.x0, raster.y0, raster.res)
    xy, which = plane_points(label, window, len(planes), params.points_per_plane)
    z0 = raster.sample(xy) + params.point_height_m
    h = shading.horizon(surface, xy, z0, params.n_sectors, params.radius_m, params.steps_per_octave)
    flat = planes["tilt_deg"].to_numpy() < params.flat_max_slope_deg
    tilt = np.where(flat, flat_module_tilt_deg, planes["tilt_deg"].to_numpy())
    azimuth = np.where(flat, 180.0, planes["azimuth_deg"].to_numpy())
    loss, visible = shading.shading_loss(table, h, tilt[which], azimuth[which])
    count = np.bincount(which, minlength=len(planes))
    with np.errstate(invalid="ignore"):
        planes["shading_loss"] = np.bincount(which, loss, minlength=len(planes)) / count
        planes["sky_visible"] = np.bincount(which, visible, minlength=len(planes)) / count
        profile = np.stack([np.bincount(which, h[:, k], minlength=len(planes)) / count
                            for k in range(h.shape[1])], axis=1)
    planes["horizon_deg"] = list(np.round(profile, 1))
    planes["shading_points"] = count
    n = len(roofs)
    owner = roofs.index.get_indexer(planes["building_id"])
    area = planes["area_m2"].to_numpy()
    weight = np.bincount(owner, area, minlength=n)
    svf = shading.sky_view_factor(h)
    point_owner = owner[which]
    measured = roofs["measured"].to_numpy(bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        roof_loss = np.bincount(owner, area * planes["shading_loss"], minlength=n) / weight
        roof_svf = np.bincount(point_owner, svf, minlength=n) / np.bincount(point_owner, minlength=n)
    roofs["shading_loss"] = np.where(measured, roof_loss, np.nan)
    roofs["sky_view_factor"] = np.where(measured, roof_svf, np.nan)
    return roofs, planes


def measure(windows: Iterable[tuple], footprints: gpd.GeoSeries, table: shading.SunTable,
            params: Dsm = DEFAULTS, flat_module_tilt_deg: float = 0.0
            ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """:func:`measure_window` every window of ``windows`` (:func:`roofpv.io.tiles.windows`:
    positions, DSM, DEM or None, canopy or None) and gather the results; with
    ``params.workers`` > 1 windows run in that many threads (no processes: the stage
    runs inside Dask workers too).

    Buildings in no window are absent from the result (their values stay survey values).
    """
    geometry = footprints.to_numpy()
    tree = shapely.STRtree(geometry)

    def run(item):
        positions, dsm, dem, trees = item
        near = geometry[tree.query(shapely.box(*dsm.bounds))]
        return measure_window(dsm, footprints.iloc[positions], table, params, dem, trees, near,
                      flat_module_tilt_deg)

    if params.workers <= 1:
        results = [run(item) for item in windows]
    else:
        results, pending = [], deque()
        with ThreadPoolExecutor(params.workers) as pool:
            for item in windows:  # at most 2 windows per thread in memory
                pending.append(pool.submit(run, item))
                if len(pending) > 2 * params.workers:
                    results.append(pending.popleft().result())
            results += [f.result() for f in pending]
    if not results:
        empty = gpd.GeoDataFrame(geometry=[], crs=footprints.crs)
        return pd.DataFrame(index=pd.Index([], name="building_id")), empty
    roofs = pd.concat([r for r, _ in results])
    planes = pd.concat([p for _, p in results], ignore_index=True)
    return roofs, gpd.GeoDataFrame(planes, geometry="geometry", crs=footprints.crs)


def shading_class(loss: np.ndarray, class_loss: dict[str, float]) -> np.ndarray:
    """Survey class whose loss is nearest to each measured ``loss`` (boundaries half-way
    between the classes' losses); None where ``loss`` is NaN."""
    values = np.array([class_loss[c] for c in SHADING_CLASSES])
    edges = (values[1:] + values[:-1]) / 2
    loss = np.asarray(loss, float)
    cls = np.array(SHADING_CLASSES, object)[np.searchsorted(edges, np.nan_to_num(loss))]
    return np.where(np.isnan(loss), None, cls)


def combine(b: pd.DataFrame, roofs: pd.DataFrame, class_loss: dict[str, float],
            survey_form: dict[str, str], storey_height_m: float = 3.0) -> pd.DataFrame:
    """Measured values where the DSM covers a roof, survey values elsewhere.

    Parameters
    ----------
    b : buildings indexed by ``building_id`` with ``roof_type``, ``roof_type_source``,
        ``roof_slope_deg``, ``shading``, ``shading_loss``, ``shading_source``, ``floors``
    roofs : :func:`measure_window` / :func:`measure` output (joined on ``building_id``)
    class_loss : annual loss of each survey shading class [-]
    survey_form : roof form assumed for each roof type without a DSM
    storey_height_m : storey height for the survey roof height (floors × this) [m]

    Returns
    -------
    ``b`` with ``roof_height_m`` (measured wherever the DSM covers the roof, planes found
    or not), ``roof_slope_deg``, ``roof_aspect_deg``, ``roof_form``,
    ``planar_share``,
    ``shading_loss``, ``sky_view_factor`` (measured or survey), a ``*_source`` column for
    each ("dsm" | "survey" | "default" | "none"), ``shading_measured_class``,
    ``shading_class`` (the measured class where the DSM measured the roof, else the
    surveyed one: the class the shading rules use), ``dsm_status`` (:data:`DSM_STATUSES`;
    None where no DSM window holds the roof) and ``field_check`` (surveyed shading class
    more than one class away from the measured).
    """
    m = roofs.reindex(b.index)
    dsm = m["measured"].fillna(False).astype(bool).to_numpy() if "measured" in m else np.zeros(len(b), bool)
    out = b.copy()
    floors = pd.to_numeric(b.get("floors"), errors="coerce") if "floors" in b else pd.Series(np.nan, b.index)
    survey = {
        "roof_height_m": (floors * storey_height_m,
                          np.where(floors.notna(), b.get("floors_source", "survey"), "none")),
        "roof_slope_deg": (b["roof_slope_deg"], b["roof_type_source"]),
        "roof_form": (b["roof_type"].map(survey_form), b["roof_type_source"]),
        "roof_aspect_deg": (b.get("roof_aspect_deg", pd.Series(np.nan, b.index)),
                            b["roof_type_source"]),
        "planar_share": (pd.Series(np.nan, b.index), "none"),
        "shading_loss": (b["shading_loss"], b["shading_source"]),
        "sky_view_factor": (pd.Series(np.nan, b.index), "none"),
    }
    # Heights are read wherever the DSM covers the roof, planes found or not.
    covered = (m["dsm_status"].isin(["measured", "no_planes", "nothing_standing"]).to_numpy()
               if "dsm_status" in m else dsm)
    for col, (value, source) in survey.items():
        measured = m[col] if col in m else pd.Series(np.nan, b.index)
        use = (covered & measured.notna().to_numpy()) if col == "roof_height_m" else dsm
        out[col] = np.where(use, measured.to_numpy(object), value.to_numpy(object))
        out[f"{col}_source"] = np.where(use, "dsm", source)
    for col in survey.keys() - {"roof_form"}:
        out[col] = out[col].astype(float)
    measured_class = shading_class(np.where(dsm, out["shading_loss"], np.nan), class_loss)
    out["shading_measured_class"] = measured_class
    out["shading_class"] = np.where(dsm, measured_class, b["shading"].to_numpy(object))
    out["dsm_status"] = m["dsm_status"].to_numpy(object) if "dsm_status" in m else None
    out["field_check"] = dsm & (b["shading_source"].to_numpy() == "survey") & contradicts(
        b["shading"].to_numpy(object), measured_class)
    return out


def local_planes(planes: gpd.GeoDataFrame, setback_m: np.ndarray, outline: np.ndarray,
                 flat_max_slope_deg: float = DEFAULTS.flat_max_slope_deg) -> pd.DataFrame:
    """Measured planes in the frame of :func:`roofpv.roofs.roof.roof_planes` (facing local −y,
    centred on the plane's centroid), kept ``setback_m`` [m] inside their roof's
    ``outline`` (its footprint), for module layout; planes flatter than
    ``flat_max_slope_deg`` are flat.

    The setback is taken from the roof's outline only: the break line where two planes of
    a roof meet is no roof edge, so modules are packed up to it (a uniform inner buffer of
    each plane cost Delft's row houses, whose faces are split by 8–14 m² flat parts, a
    module row per face).

    Returns
    -------
    DataFrame with ``building_id``, ``plane``, ``azimuth_deg``, ``slope_deg``, ``local``,
    ``centre_x``, ``centre_y``, ``rotation_deg``; flat planes face south (racks).
    """
    polygons = planes.geometry.to_numpy()
    centre = shapely.get_coordinates(shapely.centroid(polygons))
    flat = planes["tilt_deg"].to_numpy() < flat_max_slope_deg
    azimuth = np.where(flat, 180.0, planes["azimuth_deg"].to_numpy())
    rotation = azimuth - 180.0
    inside = shapely.buffer(outline, -np.asarray(setback_m, float), join_style="mitre")
    local = to_local(shapely.intersection(polygons, inside), centre, rotation)
    return pd.DataFrame({
        "building_id": planes["building_id"].to_numpy(), "plane": planes["plane"].to_numpy(),
        "azimuth_deg": azimuth, "slope_deg": np.where(flat, 0.0, planes["tilt_deg"].to_numpy()),
        "local": local, "centre_x": centre[:, 0], "centre_y": centre[:, 1], "rotation_deg": rotation,
    })
