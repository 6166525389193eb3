"""North-up raster windows in memory and zonal statistics over footprints on them.

The window type is shared by the DSM stage (:mod:`roofpv.roofs.dsm`), the tile reader
(:mod:`roofpv.io.tiles`), DSM coverage checks and the web map; zonal statistics are one
exactextract call per window, joined on ``building_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.operation import Operation
from exactextract.raster import NumPyRasterSource


@dataclass(frozen=True)
class Raster:
    """North-up raster window.

    Attributes
    ----------
    z : 2-D float32 array of values (heights above a datum [m] for a DSM); NaN = no data
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

    def slices(self, bounds, pad_px: int = 0) -> tuple[slice, slice]:
        """Row and column slices of the pixels covering ``bounds`` plus ``pad_px``
        pixels, within this window."""
        rows, cols = self.z.shape
        c0 = max(int(np.floor((bounds[0] - self.x0) / self.res)) - pad_px, 0)
        c1 = min(int(np.ceil((bounds[2] - self.x0) / self.res)) + pad_px, cols)
        r0 = max(int(np.floor((self.y0 - bounds[3]) / self.res)) - pad_px, 0)
        r1 = min(int(np.ceil((self.y0 - bounds[1]) / self.res)) + pad_px, rows)
        return slice(r0, max(r1, r0)), slice(c0, max(c1, c0))

    def crop(self, bounds, pad_px: int = 0) -> Raster:
        """Sub-window covering ``bounds`` plus ``pad_px`` pixels, within this window."""
        return self.cut(self.slices(bounds, pad_px))

    def cut(self, index: tuple[slice, slice]) -> Raster:
        """Sub-window of the pixels ``index`` (row and column slices)."""
        rs, cs = index
        return Raster(self.z[rs, cs], self.x0 + cs.start * self.res, self.y0 - rs.start * self.res, self.res)

    def on_grid_of(self, other: Raster) -> bool:
        """Same pixel size, origin and shape as ``other`` (to a thousandth of a pixel)."""
        tol = 1e-3 * self.res
        return (self.z.shape == other.z.shape and abs(self.res - other.res) <= 1e-9 * self.res
                and abs(self.x0 - other.x0) <= tol and abs(self.y0 - other.y0) <= tol)

    def sample(self, xy: np.ndarray) -> np.ndarray:
        """Value of the pixel holding each point (n, 2); NaN outside the window."""
        col = np.floor((xy[:, 0] - self.x0) / self.res).astype(np.int64)
        row = np.floor((self.y0 - xy[:, 1]) / self.res).astype(np.int64)
        inside = (row >= 0) & (row < self.z.shape[0]) & (col >= 0) & (col < self.z.shape[1])
        out = np.full(len(xy), np.nan)
        out[inside] = self.z[row[inside], col[inside]]
        return out

    def centres(self, cells: np.ndarray) -> np.ndarray:
        """(n, 2) x, y of the centres of flat cell indices (row · cols + col) [m]."""
        cols = self.z.shape[1]
        return np.c_[self.x0 + (cells % cols + 0.5) * self.res, self.y0 - (cells // cols + 0.5) * self.res]


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


def zonal(raster: Raster, bands: dict[str, np.ndarray], ops: list[tuple[str, str, dict]],
          ids: np.ndarray, geometry: np.ndarray, crs_wkt: str | None) -> pd.DataFrame:
    """One exactextract call over ``bands`` (arrays on ``raster``'s pixel grid); ``ops``
    are (band, stat, options); the result has a column ``{band}_{stat}`` per op and is
    indexed by ``ids``."""
    xmin, ymin, xmax, ymax = raster.bounds
    src = {name: NumPyRasterSource(a, xmin, ymin, xmax, ymax, nodata=np.nan, name=name,
                                   srs_wkt=crs_wkt) for name, a in bands.items()}
    operations = [Operation(stat, f"{band}_{stat}", src[band], None, opt)
                  for band, stat, opt in ops]
    out = exact_extract(list(src.values()), _Features(ids, geometry, crs_wkt), operations,
                        include_cols=["building_id"], output="pandas")
    return out.set_index("building_id")


def gradient_at(z: np.ndarray, res: float, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.gradient(z, res)`` (along rows, then columns) at the flat ``cells`` only, bit
    for bit: central differences inside the grid, one-sided ones on its edges (float64)."""
    at = np.divmod(cells, z.shape[1])
    out = []
    for axis, n in enumerate(z.shape):
        pos = at[axis]
        ahead, behind = list(at), list(at)
        ahead[axis], behind[axis] = np.minimum(pos + 1, n - 1), np.maximum(pos - 1, 0)
        rise = z[tuple(ahead)].astype(float) - z[tuple(behind)].astype(float)
        out.append(np.where((pos > 0) & (pos < n - 1), rise / (2.0 * res), rise / res))
    return out[0], out[1]


def footprint_width(geometry: np.ndarray) -> np.ndarray:
    """Width of each footprint [m]: 2 · area / perimeter (a long rectangle's short side;
    0 without a perimeter)."""
    area, perimeter = shapely.area(geometry), shapely.length(geometry)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(perimeter > 0, 2 * area / perimeter, 0.0)


def inner_buffer(geometry: np.ndarray, res: float, largest_m: float) -> np.ndarray:
    """Inner buffer of each footprint [m]: half a pixel (pixels whose centre lies closer to
    the outline straddle the wall), at most ``largest_m`` and an eighth of the
    footprint's width (:func:`footprint_width`: a row house 4 m wide keeps 3.5 m of it)."""
    return np.minimum(min(0.5 * res, largest_m), footprint_width(geometry) / 8)


def shrink(geometry: np.ndarray, inner_buffer_m) -> np.ndarray:
    """Footprints shrunk by ``inner_buffer_m`` [m] (one value, or one per footprint) to
    keep eaves and walls out of the roof's pixels; a footprint too small to shrink is
    kept whole."""
    inner = shapely.buffer(geometry, -np.asarray(inner_buffer_m, float))
    return np.where(shapely.is_empty(inner), geometry, inner)


def data_share(count: np.ndarray, res: float, inner: np.ndarray) -> np.ndarray:
    """Share of each shrunk roof covered by ``count`` valid pixels of size ``res`` [m]."""
    return count * res * res / shapely.area(inner)
