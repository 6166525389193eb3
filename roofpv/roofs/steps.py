"""Walls at height steps between roof levels: steep DSM pixels that are not roof.

A vertical step between two roof levels — a storey higher next door, a stair house on a
flat roof, a terrace — is, in a DSM, not vertical: dense image matching rounds it,
gridding and resampling average it, and a 3–4 m step becomes a ramp two or three pixels
wide at 50–70° (a drone DSM at 0.8 m). Region growing fits planes to such ramps, or joins
them to the level below or above and tilts it; the layout then puts modules on walls.

What tells such a ramp from a real steep roof face (a mansard, a steep gable) is not its
tilt but its context at the DSM's resolution:

* it is **narrow**: crossed along its slope it is at most :data:`BAND_MAX_PX` pixels of
  steep surface (the width a DSM smears a vertical edge over), whatever the step's
  height — a roof face is as wide as its rafters, so a mansard 2.4–2.9 m wide is 5–6
  pixels at 0.5 m;
* it **rises by a step**: the level above it lies at least :data:`MIN_STEP_M` higher
  than the level below;
* its **lower edge meets a lower roof level**: the first non-steep pixel below it lies
  inside a footprint and stands above the ground. A mansard or gable face ends at the
  eaves: below it is the street or the yard, not a roof.

A narrow steep face whose lower edge meets a lower roof cannot be told from a wall at the
DSM's resolution, and is treated as one. The functions are pure: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np

from roofpv.roofs.raster import gradient_at

#: Widest band of steep pixels a vertical step makes in a DSM [pixels], measured along
#: the slope: the step itself spread over 2–3 pixels by matching, gridding or resampling,
#: plus one for the central-difference slope on either side of it.
BAND_MAX_PX = 4
#: Smallest height step between two roof levels treated as a wall [m]: most of a storey
#: (a parapet or a water tank stand is lower and stays an obstacle on its roof).
MIN_STEP_M = 2.0
#: A steep plane is a wall when at least this share of its pixels lie on walls: a wall
#: plane is the steep band and a foot and a head pixel row of the levels it joins (about
#: half of it wall pixels), a roof face beside a step holds the step only along one edge
#: (a third of a face 6 pixels deep).
WALL_SHARE = 1 / 3
#: Pixel classes of :func:`step_pixels`.
LEVEL, STEEP, WALL = 0, 1, 2


def steep_slope_deg(res: float, width_px: float, min_step_m: float = MIN_STEP_M) -> float:
    """Slope [deg] of the least step, ``min_step_m`` [m], spread over ``width_px`` cells of
    ``res`` [m]: over ``BAND_MAX_PX − 1`` cells, the least slope of a wall's pixels; over
    ``BAND_MAX_PX + 1`` (a foot and a head pixel of the levels joined), the least tilt of
    a plane fitted to a wall."""
    return float(np.degrees(np.arctan(min_step_m / (width_px * res))))


def step_pixels(z: np.ndarray, res: float, roof_level: np.ndarray, tested: np.ndarray,
                min_step_m: float = MIN_STEP_M, band_px: int = BAND_MAX_PX) -> np.ndarray:
    """Class of each pixel of ``tested``: on a wall at a height step between roof levels?

    Parameters
    ----------
    z : DSM heights [m] (rows north to south), NaN where no data
    res : cell size [m]
    roof_level : bool, same shape: pixels a lower roof level may be — standing above the
        ground and not under a tree (any roof: the neighbour's lower roof counts, with a
        footprint or without)
    tested : bool, same size (flat or not): the pixels to classify (those of roof planes)
    min_step_m, band_px : :data:`MIN_STEP_M`, :data:`BAND_MAX_PX`

    Returns
    -------
    int8, per pixel (flat): :data:`WALL` where the pixel is tested, steep (slope ≥
    ``steep_slope_deg(res, band_px − 1)``), the steep band through it along its slope is
    at most ``band_px`` pixels wide, the first non-steep pixel uphill lies at least
    ``min_step_m`` above the first downhill, the surface goes on at either level for two
    more pixels (it does not fall away by half the rise, as beyond a ridge or an eave),
    and the downhill pixel is a ``roof_level`` pixel (not the street or yard);
    :data:`STEEP` for other steep tested pixels; :data:`LEVEL` elsewhere.
    """
    rows, cols = z.shape
    cls = np.zeros(z.size, np.int8)
    least = np.tan(np.radians(steep_slope_deg(res, band_px - 1, min_step_m))) * res

    def slope(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rise [m per pixel] along rows and columns at ``cells`` (np.gradient's), and its size."""
        d_row, d_col = gradient_at(z, 1.0, cells)
        return d_row, d_col, np.hypot(d_row, d_col)

    with np.errstate(invalid="ignore"):
        cells = np.flatnonzero(np.ravel(tested))
        d_row, d_col, grad = slope(cells)
        steep = grad >= least
    idx = cells[steep]
    cls[idx] = STEEP
    if idx.size == 0:
        return cls
    r0, c0 = np.divmod(idx, cols)
    down = -d_row[steep] / grad[steep], -d_col[steep] / grad[steep]  # unit step downhill [pixels]
    zf = z.ravel()

    def first_level(sign: int) -> tuple[np.ndarray, np.ndarray]:
        """Distance [pixels] to, and flat index of, the first non-steep pixel along the
        slope (downhill for +1; index −1 when the band is wider than ``band_px``)."""
        dist = np.zeros(idx.size, np.int64)
        at = np.full(idx.size, -1, np.int64)
        for k in range(1, band_px + 1):
            r = np.rint(r0 + sign * k * down[0]).astype(np.int64)
            c = np.rint(c0 + sign * k * down[1]).astype(np.int64)
            inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
            flat = np.where(inside, r * cols + c, 0)
            with np.errstate(invalid="ignore"):
                level = inside & ~(slope(flat)[2] >= least) & np.isfinite(zf[flat]) & (at < 0)
            dist[level], at[level] = k, flat[level]
        return dist, at

    def height(k: np.ndarray) -> np.ndarray:
        """Height [m] ``k`` pixels downhill (uphill for k < 0; +inf off the raster)."""
        r = np.rint(r0 + k * down[0]).astype(np.int64)
        c = np.rint(c0 + k * down[1]).astype(np.int64)
        inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        return np.where(inside, zf[np.where(inside, r * cols + c, 0)], np.inf)

    k_lo, lo = first_level(+1)
    k_hi, hi = first_level(-1)
    found = (lo >= 0) & (hi >= 0)
    lo, hi = np.where(found, lo, 0), np.where(found, hi, 0)
    with np.errstate(invalid="ignore"):
        rise = zf[hi] - zf[lo]
        # Beyond its head and foot a step goes on at the upper and the lower level; a
        # gable face's head is its ridge, beyond which the roof falls away again, and its
        # foot is the eave, beyond which the wall falls to the street.
        beyond_head = np.fmin(height(-k_hi - 1), height(-k_hi - 2))
        beyond_foot = np.fmin(height(k_lo + 1), height(k_lo + 2))
        wall = (found & (k_lo + k_hi - 1 <= band_px) & (rise >= min_step_m)
                & ~(beyond_head < zf[hi] - rise / 2) & ~(beyond_foot < zf[lo] - rise / 2)
                & np.ravel(roof_level)[lo])
    cls[idx[wall]] = WALL
    return cls


def drop_walls(plane_px: np.ndarray, pixel_class: np.ndarray, tilt: np.ndarray, owner: np.ndarray,
               n: int, res: float, min_step_m: float = MIN_STEP_M, band_px: int = BAND_MAX_PX,
               wall_share: float = WALL_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Drops the planes that are walls at height steps.

    A plane is a wall when its tilt reaches that of the least step fitted with a foot and
    a head pixel (``steep_slope_deg(res, band_px + 1)``: 27° at 0.8 m, 39° at 0.5 m) and
    at least ``wall_share`` of its pixels are :data:`WALL` pixels. Its pixels are left
    to no plane (a ramp's foot and head are smeared into the levels it joins, so they are
    not given to them either); the levels on both sides keep their own pixels. A level
    that region growing joined to a ramp keeps it: its tilt comes from its planar pixels.

    Parameters
    ----------
    plane_px : plane of each pixel (flat, −1 = none)
    pixel_class : :func:`step_pixels`
    tilt : tilt of each plane [deg]
    owner : footprint position of each plane
    n : number of footprints
    res : cell size [m]

    Returns
    -------
    The plane raster without the walls, and the area of the largest plane dropped per
    footprint [m²] (0 where none).
    """
    on = plane_px >= 0
    m = owner.size
    count = np.bincount(plane_px[on], minlength=m)
    walls = np.bincount(plane_px[on], pixel_class[on] == WALL, minlength=m)
    with np.errstate(invalid="ignore"):
        dropped = ((np.nan_to_num(tilt) >= steep_slope_deg(res, band_px + 1, min_step_m))
                   & (walls > 0) & (walls >= wall_share * count))
    out = np.where(np.r_[dropped, False][plane_px], -1, plane_px)
    lost = np.zeros(n)
    np.maximum.at(lost, owner[dropped], count[dropped] * res * res)
    return out, lost
