"""Roof geometry from a DSM: ground, heights, slope, aspect, planarity, planes and form.

Everything here works on arrays already in memory (:class:`Grid` windows read by
:mod:`roofpv.io.tiles`). Per window, slope, aspect and a plane-fit residual are computed
by finite differences (Horn 1981) and all roof statistics come from one exactextract
call over the footprints shrunk by an inner buffer (walls, eaves and parapets left
out), joined on ``building_id``. Roof pixels that are locally planar and sloped are
clustered by aspect into planes; the number and directions of the planes give the
roof form. Horizontal quantities (areas) are plan areas in m².
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.operation import Operation
from exactextract.raster import NumPyRasterSource
from rasterio.features import rasterize
from rasterio.transform import from_origin

from . import shading
from .roof import to_local


@dataclass(frozen=True)
class Grid:
    """North-up raster window.

    Attributes
    ----------
    z : 2-D float32 array, heights above sea level [m]; NaN = no data
    x0, y0 : west and north edge of the window [m]
    res : pixel size [m]
    """

    z: np.ndarray
    x0: float
    y0: float
    res: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        rows, cols = self.z.shape
        return self.x0, self.y0 - rows * self.res, self.x0 + cols * self.res, self.y0

    def crop(self, bounds, pad_px: int = 0) -> Grid:
        """Sub-window covering ``bounds`` plus ``pad_px`` pixels, within this window."""
        rows, cols = self.z.shape
        c0 = max(int(np.floor((bounds[0] - self.x0) / self.res)) - pad_px, 0)
        c1 = min(int(np.ceil((bounds[2] - self.x0) / self.res)) + pad_px, cols)
        r0 = max(int(np.floor((self.y0 - bounds[3]) / self.res)) - pad_px, 0)
        r1 = min(int(np.ceil((self.y0 - bounds[1]) / self.res)) + pad_px, rows)
        return Grid(self.z[r0:r1, c0:c1], self.x0 + c0 * self.res, self.y0 - r0 * self.res, self.res)

    def sample(self, xy: np.ndarray) -> np.ndarray:
        """Value of the pixel holding each point (n, 2); NaN outside the window."""
        col = np.floor((xy[:, 0] - self.x0) / self.res).astype(np.int64)
        row = np.floor((self.y0 - xy[:, 1]) / self.res).astype(np.int64)
        inside = (row >= 0) & (row < self.z.shape[0]) & (col >= 0) & (col < self.z.shape[1])
        out = np.full(len(xy), np.nan)
        out[inside] = self.z[row[inside], col[inside]]
        return out


@dataclass(frozen=True)
class DsmParams:
    """Parameters of roof measurement (lengths in m, angles in degrees)."""

    #: Footprints are shrunk by this much before roof statistics (walls, eaves, parapets).
    inner_buffer_m: float = 0.75
    #: Ground ring around each footprint, inner and outer distance (used without a DEM).
    ground_ring_m: tuple[float, float] = (1.0, 6.0)
    #: Quantile of DSM heights in the ring taken as ground (low: trees and cars excluded).
    ground_quantile: float = 0.1
    #: Pixels below this slope are flat; a roof is flat when most planar pixels are.
    flat_max_slope_deg: float = 3.0
    #: A pixel is planar when the rms residual of a plane fitted to its 3 × 3 window is below.
    planar_rms_m: float = 0.05
    #: Aspect clusters smaller than this share of the roof's sloped planar pixels are not
    #: planes (the hip ends of a 2:1 roof hold ~12 % of its area, ~9 % after the inner buffer).
    plane_min_share: float = 0.07
    #: Share of the (shrunk) roof that must hold valid DSM pixels for the roof to be measured.
    min_coverage: float = 0.9
    #: Aspect histogram bins for plane clustering.
    aspect_bins: int = 36
    #: Horizon sample points per plane (1 = representative point only, up to 5).
    points_per_plane: int = 5
    #: Height of the sample points above the roof surface (module height).
    point_height_m: float = 0.5
    #: Horizon: azimuth sectors, search radius, steps per doubling of the distance.
    n_sectors: int = 36
    radius_m: float = 300.0
    steps_per_octave: int = 8
    #: Tilt (facing south) of modules on flat roofs, for their shading loss (racks).
    flat_module_tilt_deg: float = 0.0


def slope_aspect(z: np.ndarray, res: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope, aspect and local planarity of a height grid.

    Parameters
    ----------
    z : 2-D array of heights [m], NaN = no data
    res : pixel size [m]

    Returns
    -------
    slope : [deg], Horn's 3 × 3 finite differences
    aspect : direction the surface faces (downslope), clockwise from north [deg]
    rms : rms residual of the least-squares plane over each 3 × 3 window [m]

    Pixels on the window edge or next to no-data are NaN in all three.
    """
    p = np.pad(np.asarray(z, np.float32), 1, constant_values=np.nan)
    rows, cols = z.shape
    centre = p[1:rows + 1, 1:cols + 1]

    def at(dr: int, dc: int) -> np.ndarray:
        return p[1 + dr:rows + 1 + dr, 1 + dc:cols + 1 + dc] - centre

    east = at(-1, 1) + 2 * at(0, 1) + at(1, 1)
    west = at(-1, -1) + 2 * at(0, -1) + at(1, -1)
    north = at(-1, -1) + 2 * at(-1, 0) + at(-1, 1)
    south = at(1, -1) + 2 * at(1, 0) + at(1, 1)
    dzdx, dzdy = (east - west) / (8 * res), (north - south) / (8 * res)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    aspect = np.degrees(np.arctan2(-dzdx, -dzdy)) % 360.0
    # Unweighted plane fit over the 3 × 3 window: RSS = Σd² − (Σd)²/9 − (Σxd)²/6 − (Σyd)²/6.
    s1 = np.zeros_like(centre)
    s2 = np.zeros_like(centre)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            d = at(dr, dc)
            s1 += d
            s2 += d * d
    sx = sum(at(dr, 1) - at(dr, -1) for dr in (-1, 0, 1))
    sy = sum(at(-1, dc) - at(1, dc) for dc in (-1, 0, 1))
    rss = s2 - s1 * s1 / 9 - (sx * sx + sy * sy) / 6
    rms = np.sqrt(np.maximum(rss, 0) / 9)
    return slope, aspect, rms


class _Feature(Feature):
    def __init__(self, building_id: str, wkb: bytes):
        super().__init__()
        self._id, self._wkb = building_id, wkb

    def geometry(self):
        return self._wkb

    def get(self, name):
        return self._id

    def fields(self):
        return ["building_id"]


class _Features(FeatureSource):
    """exactextract features from WKB prepared in one vectorised call (the GeoPandas
    source re-encodes every geometry as GeoJSON, which dominates the run time)."""

    def __init__(self, ids: np.ndarray, geometry: np.ndarray, crs_wkt: str | None):
        super().__init__()
        self._ids, self._wkb, self._crs = ids, shapely.to_wkb(geometry), crs_wkt

    def count(self):
        return len(self._ids)

    def __iter__(self):
        for i, w in zip(self._ids, self._wkb):
            yield _Feature(i, w)

    def srs_wkt(self):
        return self._crs


def shrink(geometry: np.ndarray, inner_buffer_m: float) -> np.ndarray:
    """Footprints shrunk by ``inner_buffer_m`` (m) to keep eaves and walls out of the
    roof's pixels; a footprint too small to shrink is kept whole."""
    inner = shapely.buffer(geometry, -inner_buffer_m)
    return np.where(shapely.is_empty(inner), geometry, inner)


def data_share(count: np.ndarray, res: float, inner: np.ndarray) -> np.ndarray:
    """Share of each shrunk roof covered by ``count`` valid pixels of size ``res`` (m)."""
    return count * res * res / shapely.area(inner)


def zonal(grid: Grid, bands: dict[str, np.ndarray], ops: list[tuple[str, str, dict]],
           ids: np.ndarray, geometry: np.ndarray, crs_wkt: str | None) -> pd.DataFrame:
    """One exactextract call; ``ops`` are (band, stat, options); result indexed by id."""
    xmin, ymin, xmax, ymax = grid.bounds
    src = {name: NumPyRasterSource(a, xmin, ymin, xmax, ymax, nodata=np.nan, name=name,
                                   srs_wkt=crs_wkt) for name, a in bands.items()}
    operations = [Operation(stat, f"{band}_{stat}", src[band], None, opt)
                  for band, stat, opt in ops]
    out = exact_extract(list(src.values()), _Features(ids, geometry, crs_wkt), operations,
                        include_cols=["building_id"], output="pandas")
    return out.set_index("building_id")


def ground_from_rings(grid: Grid, ids: np.ndarray, geometry: np.ndarray, neighbours: np.ndarray,
                      params: DsmParams, crs_wkt: str | None = None) -> pd.Series:
    """Ground height per building: a low quantile of the DSM in a ring around it.

    Pixels within ``ground_ring_m[0]`` of any footprint in ``neighbours`` are not ground.
    Where a ring holds no such pixel the window-wide quantile is used.
    """
    inner, outer = params.ground_ring_m
    neighbours = neighbours[shapely.intersects(neighbours, shapely.box(*grid.bounds))]
    mask = rasterize(((g, 1) for g in shapely.buffer(neighbours, inner)), out_shape=grid.z.shape,
                     transform=from_origin(grid.x0, grid.y0, grid.res, grid.res), fill=0,
                     dtype="uint8")
    ground = np.where(mask == 1, np.nan, grid.z).astype(np.float32)
    rings = shapely.difference(shapely.buffer(geometry, outer), shapely.buffer(geometry, inner))
    q = params.ground_quantile
    stats = zonal(grid, {"ground": ground}, [("ground", "quantile", {"q": q})], ids, rings, crs_wkt)
    fallback = np.nanquantile(ground, q) if np.isfinite(ground).any() else np.nan
    return stats.iloc[:, 0].reindex(ids).fillna(fallback).rename("ground_m")


def _circular_peaks(hist: np.ndarray, radius: int) -> np.ndarray:
    """Bins of each row that are the (last) maximum of the smoothed histogram within
    ``radius`` bins on either side, circularly."""
    smooth = (np.roll(hist, 1, 1) + 2 * hist + np.roll(hist, -1, 1)) / 4
    peak = hist > 0
    for k in range(1, radius + 1):
        peak &= (smooth > np.roll(smooth, -k, 1)) & (smooth >= np.roll(smooth, k, 1))
    return peak


def _form(flat: np.ndarray, azimuth: np.ndarray, n_planes: np.ndarray) -> np.ndarray:
    """Roof form (flat, mono_pitch, gable, hip, complex) from the number of aspect
    clusters kept and their azimuths (n, k; sorted, NaN-padded)."""
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


def roof_geometry(grid: Grid, footprints: gpd.GeoSeries, params: DsmParams = DsmParams(),
                  ground: Grid | None = None, neighbours: np.ndarray | None = None
                  ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Measure the roofs of ``footprints`` on one DSM window.

    Parameters
    ----------
    grid : DSM window covering the footprints (and their ground rings)
    footprints : polygons in the grid's CRS, indexed by ``building_id``
    params : measurement parameters
    ground : DEM on the same pixel grid; None = ground from rings around each footprint
    neighbours : every footprint in the window (masked out of the ground rings);
        default ``footprints``

    Returns
    -------
    roofs : DataFrame indexed by ``building_id``: ``dsm_coverage`` (share of the shrunk
        roof with data), ``measured`` (coverage ≥ ``min_coverage``), ``ground_m``,
        ``roof_height_m`` (median above ground), ``roof_height_max_m`` (90th percentile),
        ``roof_slope_deg`` (area-weighted plane tilt), ``roof_aspect_deg`` (plane facing
        nearest south; NaN for flat roofs), ``planar_share``, ``roof_form``, ``n_planes``
    planes : GeoDataFrame, one row per plane of each measured roof: ``building_id``,
        ``plane`` (0 = facing nearest south), ``azimuth_deg`` (circular mean aspect;
        180 for flat roofs), ``tilt_deg``, ``area_m2`` (plan), ``geometry`` (the footprint
        clipped to the plane's pixels)
    """
    ids = footprints.index.to_numpy().astype(str)
    geometry = footprints.to_numpy()
    crs_wkt = footprints.crs.to_wkt() if footprints.crs is not None else None
    n, r = len(ids), grid.res
    pad = int(np.ceil(params.ground_ring_m[1] / r)) + 2
    window = grid.crop(shapely.total_bounds(geometry), pad)
    slope, aspect, rms = slope_aspect(window.z, r)
    planar = np.where(np.isnan(rms), np.nan, (rms <= params.planar_rms_m).astype(np.float32))
    inner = shrink(geometry, params.inner_buffer_m)

    bands = {"z": window.z, "slope": slope, "aspect": aspect, "planar": planar}
    ops = [("z", "quantile", {"q": 0.5}), ("z", "quantile", {"q": 0.9}), ("z", "count", {}),
           ("slope", "values", {}), ("slope", "coverage", {}), ("slope", "cell_id", {}),
           ("aspect", "values", {}), ("planar", "values", {})]
    if ground is not None:
        bands["dem"] = ground.crop(window.bounds).z
        ops.append(("dem", "mean", {}))
    stats = zonal(window, bands, ops, ids, inner, crs_wkt).reindex(ids)
    if ground is not None:
        ground_m = stats["dem_mean"].to_numpy(float)
    else:
        ground_m = ground_from_rings(window, ids, geometry,
                                     geometry if neighbours is None else neighbours,
                                     params, crs_wkt).to_numpy(float)

    # Per-pixel arrays of all roofs, with the position of their roof.
    def cat(col: str, dtype=float) -> np.ndarray:
        parts = [np.asarray(v, dtype) for v in stats[col] if isinstance(v, np.ndarray)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype)

    lengths = np.array([len(v) if isinstance(v, np.ndarray) else 0 for v in stats["slope_values"]])
    owner = np.repeat(np.arange(n), lengths)
    s, a, w = cat("slope_values"), cat("aspect_values"), cat("slope_coverage")
    is_planar = cat("planar_values") > 0.5
    cell = cat("slope_cell_id", np.int64)
    coverage = data_share(stats["z_count"].fillna(0).to_numpy(), r, inner)
    measured = coverage >= params.min_coverage
    total = np.bincount(owner, w, minlength=n)
    planar_w = np.bincount(owner, w * is_planar, minlength=n)

    nb = params.aspect_bins
    sloped = is_planar & (s >= params.flat_max_slope_deg)
    b = (a // (360.0 / nb)).astype(np.int64) % nb
    hist = np.bincount(owner[sloped] * nb + b[sloped], w[sloped], minlength=n * nb).reshape(n, nb)
    flat = hist.sum(1) < 0.5 * planar_w
    peak = _circular_peaks(hist, max(1, nb // 12))
    # Each bin joins the nearest peak within 45°.
    d = np.abs(np.arange(nb)[:, None] - np.arange(nb)[None, :])
    d = np.minimum(d, nb - d).astype(np.float32)
    dist = np.where(peak[:, None, :], d[None], np.inf)
    label = np.argmin(dist, axis=2)
    label = np.where(np.min(dist, axis=2) <= nb / 8, label, -1)
    pix_label = np.where(sloped, label[owner, b], -1)
    key = owner * nb + pix_label
    ok = pix_label >= 0
    size = np.bincount(key[ok], w[ok], minlength=n * nb)
    share = size / np.repeat(np.maximum(hist.sum(1), 1e-12), nb)
    keep = (share >= params.plane_min_share) & np.repeat(~flat & measured, nb)
    rad = np.radians(a)
    sum_slope = np.bincount(key[ok], (w * s)[ok], minlength=n * nb)
    sum_e = np.bincount(key[ok], (w * np.sin(rad))[ok], minlength=n * nb)
    sum_n = np.bincount(key[ok], (w * np.cos(rad))[ok], minlength=n * nb)

    # Planes: kept clusters, or one plane per measured roof without any (flat or noisy).
    kept = np.flatnonzero(keep)
    p_owner = kept // nb
    p_tilt = sum_slope[kept] / size[kept]
    p_az = np.degrees(np.arctan2(sum_e[kept], sum_n[kept])) % 360.0
    p_share = share[kept]
    n_planes = np.bincount(p_owner, minlength=n)
    single = np.flatnonzero(measured & (n_planes == 0))
    mean_slope = (np.bincount(owner, w * s * is_planar, minlength=n)
                  / np.maximum(planar_w, 1e-12))
    all_e = np.bincount(owner[sloped], (w * np.sin(rad))[sloped], minlength=n)
    all_n = np.bincount(owner[sloped], (w * np.cos(rad))[sloped], minlength=n)
    single_az = np.where(flat[single], 180.0, np.degrees(np.arctan2(all_e, all_n))[single] % 360.0)
    p_owner = np.r_[p_owner, single]
    p_tilt = np.r_[p_tilt, mean_slope[single]]
    p_az = np.r_[p_az, single_az]
    p_share = np.r_[p_share, np.ones(len(single))]
    p_key = np.r_[kept, np.full(len(single), -1)]
    off_south = np.abs((p_az - 180.0 + 180.0) % 360.0 - 180.0)
    order = np.lexsort((-p_share, off_south, p_owner))
    p_owner, p_tilt, p_az, p_share, p_key = (v[order] for v in (p_owner, p_tilt, p_az, p_share, p_key))
    p_rank = _rank_within(p_owner)

    polygons = _plane_polygons(geometry, window, p_owner, p_key, p_rank, key, ok, cell, params)
    area = shapely.area(polygons)

    # Roof-level values.
    n_kept = np.bincount(p_owner, minlength=n)
    az_sorted = np.full((n, max(int(n_kept.max(initial=0)), 1)), np.nan)
    by_az = np.lexsort((p_az, p_owner))
    az_sorted[p_owner[by_az], _rank_within(p_owner[by_az])] = p_az[by_az]
    clusters = np.bincount(kept // nb, minlength=n)
    form = np.where(measured, _form(flat, az_sorted, clusters), None)
    weight = np.bincount(p_owner, area, minlength=n)
    slope_roof = np.bincount(p_owner, area * p_tilt, minlength=n) / np.where(weight > 0, weight, np.nan)
    front = p_rank == 0
    aspect_roof = np.full(n, np.nan)
    aspect_roof[p_owner[front]] = p_az[front]
    aspect_roof[flat] = np.nan
    roofs = pd.DataFrame({
        "dsm_coverage": np.clip(coverage, 0, 1),
        "measured": measured,
        "ground_m": ground_m,
        "roof_height_m": stats["z_quantile_50"].to_numpy(float) - ground_m,
        "roof_height_max_m": stats["z_quantile_90"].to_numpy(float) - ground_m,
        "roof_slope_deg": slope_roof,
        "roof_aspect_deg": aspect_roof,
        "planar_share": planar_w / np.where(total > 0, total, np.nan),
        "roof_form": form,
        "n_planes": n_kept,
    }, index=pd.Index(ids, name="building_id"))
    cols = ["dsm_coverage", "measured"]
    roofs.loc[~measured, roofs.columns.difference(cols)] = np.nan
    planes = gpd.GeoDataFrame({
        "building_id": ids[p_owner], "plane": p_rank, "azimuth_deg": p_az, "tilt_deg": p_tilt,
        "area_m2": area,
    }, geometry=polygons, crs=footprints.crs)
    return roofs, planes


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each run of equal values of a sorted array."""
    first = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.arange(len(groups)) - np.repeat(first, np.diff(np.r_[first, len(groups)]))


def _plane_polygons(geometry, window, p_owner, p_key, p_rank, key, ok, cell, params):
    """Footprint ∩ convex hull of each plane's pixels grown by the inner buffer and two
    pixels, split half-way where two planes' grown hulls overlap; single-plane roofs keep
    the whole footprint."""
    r = window.res
    cols = window.z.shape[1]
    index = np.full(key.max(initial=-1) + 2, -1, np.int64)
    clustered = p_key >= 0
    index[p_key[clustered]] = np.flatnonzero(clustered)
    plane_of_px = np.where(ok, index[np.where(ok, key, -1)], -1)
    hit = plane_of_px >= 0
    order = np.argsort(plane_of_px[hit], kind="stable")
    c = cell[hit][order]
    xy = np.c_[window.x0 + (c % cols + 0.5) * r, window.y0 - (c // cols + 0.5) * r]
    hulls = np.full(len(p_owner), None, object)
    present, dense = np.unique(plane_of_px[hit][order], return_inverse=True)
    hulls[present] = shapely.convex_hull(shapely.multipoints(xy, indices=dense))
    own = geometry[p_owner]
    multi = np.bincount(p_owner, minlength=len(geometry))[p_owner] > 1
    grown = shapely.intersection(own, shapely.buffer(hulls, params.inner_buffer_m + 2 * r))
    out = np.where(multi & ~shapely.is_missing(hulls), grown, own)
    # Where grown hulls overlap, each plane keeps the side nearer its own hull: the other
    # hull grown by half the distance between the two is cut away.
    for rank in range(int(p_rank.max(initial=-1)) + 1):
        of_rank = np.full(len(geometry), None, object)
        sel = (p_rank == rank) & ~shapely.is_missing(hulls)
        of_rank[p_owner[sel]] = hulls[sel]
        other = of_rank[p_owner]
        cut = multi & (p_rank != rank) & ~shapely.is_missing(other) & ~shapely.is_missing(hulls)
        gap = shapely.distance(hulls[cut], other[cut])
        out[cut] = shapely.difference(out[cut], shapely.buffer(other[cut], gap / 2))
    return out


def plane_points(polygons: np.ndarray, per_plane: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizon sample points: each polygon's representative point and the points half-way
    from it to up to four corners of its minimum rotated rectangle (the representative
    point where such a point falls outside the polygon).

    Returns
    -------
    xy : (m, 2) coordinates [m]
    plane : (m,) position of each point's polygon
    """
    n = len(polygons)
    rep = shapely.get_coordinates(shapely.point_on_surface(polygons))
    env = shapely.oriented_envelope(polygons)
    env = np.where(shapely.get_type_id(env) == 3, env, shapely.box(*shapely.bounds(polygons).T))
    corners = shapely.get_coordinates(shapely.get_exterior_ring(env)).reshape(n, 5, 2)[:, :4]
    k = int(np.clip(per_plane, 1, 5)) - 1
    half = (rep[:, None, :] + corners[:, :k]) / 2
    inside = shapely.contains_xy(np.repeat(polygons, k), half[..., 0].ravel(), half[..., 1].ravel())
    half = np.where(inside.reshape(n, k)[..., None], half, rep[:, None, :])
    xy = np.concatenate([rep[:, None, :], half], axis=1).reshape(-1, 2)
    return xy, np.repeat(np.arange(n), k + 1)


def assess(grid: Grid, footprints: gpd.GeoSeries, table: shading.SunTable,
           params: DsmParams = DsmParams(), ground: Grid | None = None,
           neighbours: np.ndarray | None = None) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Roof geometry (:func:`roof_geometry`) plus horizon and annual shading loss.

    Each plane's horizon is sampled at :func:`plane_points` placed ``point_height_m``
    above the DSM; the plane's loss is the mean over its points, computed for its own
    tilt and azimuth (flat roofs: ``flat_module_tilt_deg`` facing south).

    Returns
    -------
    roofs : as :func:`roof_geometry` plus ``shading_loss`` (plan-area-weighted over the
        planes) and ``sky_view_factor`` (horizontal, mean over the sample points)
    planes : as :func:`roof_geometry` plus ``shading_loss``, ``sky_visible`` (share of
        the plane's sky diffuse not blocked) and ``horizon_deg`` (mean profile, list)
    """
    roofs, planes = roof_geometry(grid, footprints, params, ground, neighbours)
    if planes.empty:
        return roofs.assign(shading_loss=np.nan, sky_view_factor=np.nan), planes
    xy, which = plane_points(planes.geometry.to_numpy(), params.points_per_plane)
    owner = roofs.index.get_indexer(planes["building_id"])
    surface = roofs["ground_m"].to_numpy() + roofs["roof_height_m"].to_numpy()
    z = grid.sample(xy)
    z0 = np.where(np.isnan(z), surface[owner][which], z) + params.point_height_m
    h = shading.horizon(grid, xy, z0, params.n_sectors, params.radius_m, params.steps_per_octave)
    flat = (roofs["roof_form"].to_numpy() == "flat")[owner]
    tilt = np.where(flat, params.flat_module_tilt_deg, planes["tilt_deg"].to_numpy())
    azimuth = np.where(flat, 180.0, planes["azimuth_deg"].to_numpy())
    loss, visible = shading.shading_loss(table, h, tilt[which], azimuth[which])
    count = np.bincount(which, minlength=len(planes))
    planes["shading_loss"] = np.bincount(which, loss, minlength=len(planes)) / count
    planes["sky_visible"] = np.bincount(which, visible, minlength=len(planes)) / count
    profile = np.stack([np.bincount(which, h[:, k], minlength=len(planes)) / count
                        for k in range(h.shape[1])], axis=1)
    planes["horizon_deg"] = list(np.round(profile, 1))
    n = len(roofs)
    area = planes["area_m2"].to_numpy()
    weight = np.bincount(owner, area, minlength=n)
    with np.errstate(invalid="ignore"):
        roofs["shading_loss"] = np.bincount(owner, area * planes["shading_loss"], minlength=n) / weight
    svf = shading.sky_view_factor(h)
    point_owner = owner[which]
    with np.errstate(invalid="ignore"):
        roofs["sky_view_factor"] = (np.bincount(point_owner, svf, minlength=n)
                                    / np.bincount(point_owner, minlength=n))
    roofs.loc[~roofs["measured"], ["shading_loss", "sky_view_factor"]] = np.nan
    return roofs, planes


_TABLE: shading.SunTable | None = None  # the sun table of a worker process


def _init_worker(table: shading.SunTable) -> None:
    global _TABLE
    _TABLE = table


def _assess_in_worker(grid, footprints, params, ground, neighbours):
    return assess(grid, footprints, _TABLE, params, ground, neighbours)


def measure(windows: Iterable[tuple[np.ndarray, Grid, Grid | None]], footprints: gpd.GeoSeries,
            table: shading.SunTable, params: DsmParams = DsmParams(), workers: int = 1
            ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """:func:`assess` every window of ``windows`` (e.g. :func:`roofpv.io.tiles.windows`)
    and gather the results; ``workers`` > 1 runs windows in that many processes (the sun
    table is sent to each process once).

    Buildings in no window are absent from the result (their values stay survey values).
    """
    geometry = footprints.to_numpy()
    tree = shapely.STRtree(geometry)

    def job(item):
        positions, grid, ground = item
        near = geometry[tree.query(shapely.box(*grid.bounds))]
        return grid, footprints.iloc[positions], params, ground, near

    if workers <= 1:
        results = [assess(g, f, table, p, gr, nb) for g, f, p, gr, nb in map(job, windows)]
    else:
        results = []
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(table,)) as pool:
            pending: deque = deque()
            for item in windows:
                pending.append(pool.submit(_assess_in_worker, *job(item)))
                if len(pending) > 2 * workers:
                    results.append(pending.popleft().result())
            results += [f.result() for f in pending]
    if not results:
        empty = gpd.GeoDataFrame(geometry=[], crs=footprints.crs)
        return pd.DataFrame(index=pd.Index([], name="building_id")), empty
    roofs = pd.concat([r for r, _ in results])
    planes = pd.concat([p for _, p in results], ignore_index=True)
    return roofs, gpd.GeoDataFrame(planes, geometry="geometry", crs=footprints.crs)


#: Survey shading classes from least to most shaded.
SHADING_CLASSES = ("none", "light", "moderate", "severe")


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
    roofs : :func:`assess` / :func:`measure` output (joined on ``building_id``)
    class_loss : annual loss of each survey shading class [-]
    survey_form : roof form assumed for each roof type without a DSM
    storey_height_m : storey height for the survey roof height (floors × this) [m]

    Returns
    -------
    ``b`` with ``roof_height_m``, ``roof_slope_deg``, ``roof_aspect_deg``, ``roof_form``,
    ``planar_share``,
    ``shading_loss``, ``sky_view_factor`` (measured or survey), a ``*_source`` column for
    each ("dsm" | "survey" | "default" | "none"), ``shading_measured_class`` and
    ``field_check`` (surveyed shading class more than one class away from the measured).
    """
    m = roofs.reindex(b.index)
    dsm = m["measured"].fillna(False).astype(bool).to_numpy() if "measured" in m else np.zeros(len(b), bool)
    out = b.copy()
    floors = pd.to_numeric(b.get("floors"), errors="coerce") if "floors" in b else pd.Series(np.nan, b.index)
    survey = {
        "roof_height_m": (floors * storey_height_m, np.where(floors.notna(), "survey", "none")),
        "roof_slope_deg": (b["roof_slope_deg"], b["roof_type_source"]),
        "roof_form": (b["roof_type"].map(survey_form), b["roof_type_source"]),
        "roof_aspect_deg": (b.get("roof_aspect_deg", pd.Series(np.nan, b.index)),
                            b["roof_type_source"]),
        "planar_share": (pd.Series(np.nan, b.index), "none"),
        "shading_loss": (b["shading_loss"], b["shading_source"]),
        "sky_view_factor": (pd.Series(np.nan, b.index), "none"),
    }
    for col, (value, source) in survey.items():
        measured = m[col] if col in m else pd.Series(np.nan, b.index)
        out[col] = np.where(dsm, measured.to_numpy(object), value.to_numpy(object))
        out[f"{col}_source"] = np.where(dsm, "dsm", source)
    for col in survey.keys() - {"roof_form"}:
        out[col] = out[col].astype(float)
    measured_class = shading_class(np.where(dsm, out["shading_loss"], np.nan), class_loss)
    out["shading_measured_class"] = measured_class
    out["field_check"] = dsm & (b["shading_source"].to_numpy() == "survey") & contradicts(
        b["shading"].to_numpy(object), measured_class)
    return out


def contradicts(surveyed: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Surveyed shading classes more than one class away from the DSM-measured ones
    (False where either is missing): the roofs to check in the field."""
    rank = {c: i for i, c in enumerate(SHADING_CLASSES)}
    a = pd.Series(surveyed, dtype=object).map(rank).to_numpy(float)
    b = pd.Series(measured, dtype=object).map(rank).to_numpy(float)
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) > 1


def local_planes(planes: gpd.GeoDataFrame, setback_m: np.ndarray,
                 flat_max_slope_deg: float = DsmParams.flat_max_slope_deg) -> pd.DataFrame:
    """Measured planes in the frame of :func:`roofpv.roof.roof_planes` (facing local −y,
    centred on the plane's centroid), shrunk by ``setback_m`` [m], for module layout;
    planes flatter than ``flat_max_slope_deg`` are flat.

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
    local = shapely.buffer(to_local(polygons, centre, rotation), -np.asarray(setback_m, float),
                           join_style="mitre")
    return pd.DataFrame({
        "building_id": planes["building_id"].to_numpy(), "plane": planes["plane"].to_numpy(),
        "azimuth_deg": azimuth, "slope_deg": np.where(flat, 0.0, planes["tilt_deg"].to_numpy()),
        "local": local, "centre_x": centre[:, 0], "centre_y": centre[:, 1], "rotation_deg": rotation,
    })
