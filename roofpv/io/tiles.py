"""DSM / DEM tile folders read as one virtual mosaic, window by window.

A folder of GeoTIFF tiles (any CRS, any nodata value) is indexed once by its headers;
windows are then read from every tile they touch and mosaicked on the fly, reprojected
to the analysis CRS where a tile is in another CRS (bilinear). Nodata becomes NaN.
Nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import rasterio.merge
import shapely
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from roofpv.errors import TileError
from roofpv.roofs.raster import Raster


@dataclass(frozen=True)
class Mosaic:
    """Index of a tile folder in the analysis CRS.

    Attributes
    ----------
    paths : usable tile files
    crs : analysis CRS (WKT or EPSG string)
    bounds : (n, 4) tile bounds in the analysis CRS [m]
    res : pixel size of the mosaic [m]
    origin : (x, y) of a pixel corner, so windows share one pixel grid [m]
    skipped : (file, what is wrong) of each tile left out because it cannot be read
    """

    paths: tuple[Path, ...]
    crs: str
    bounds: np.ndarray
    res: float
    origin: tuple[float, float]
    skipped: tuple[tuple[str, str], ...] = ()


def _check_tile(src) -> None:
    """Raise TileError when a tile has no CRS or its last block cannot be read (a
    truncated file usually opens but loses its last blocks)."""
    *_, (_, last) = src.block_windows(1)
    src.read(1, window=last)
    if src.crs is None:
        raise TileError("tile has no CRS")


def open_mosaic(folder: str | Path, crs: str, pattern: str = "*.tif",
                res: float | None = None) -> Mosaic:
    """Index the tiles of ``folder`` (headers and each tile's last block only).

    Tiles that cannot be opened, have no CRS or are truncated are left out and listed
    in :attr:`Mosaic.skipped`; the mosaic may then hold no tile at all.

    Parameters
    ----------
    folder : folder holding the tiles
    crs : analysis CRS, projected, in metres
    pattern : glob of tile names
    res : pixel size [m]; default the finest tile resolution

    Raises
    ------
    TileError : when ``folder`` holds no file matching ``pattern``
    """
    folder = Path(folder)
    found = tuple(sorted(folder.glob(pattern)))
    if not found:
        raise TileError(f"{folder}: no tiles matching {pattern!r}; check `dsm.tiles` in the config")
    target = CRS.from_user_input(crs)
    paths, bounds, sizes, skipped, origin = [], [], [], [], None
    for path in found:
        try:
            with rasterio.open(path) as src:
                _check_tile(src)
                b = transform_bounds(src.crs, target, *src.bounds)
                size = abs(src.res[0]) if src.crs == target else (b[2] - b[0]) / src.width
                if origin is None and src.crs == target:
                    origin = (src.bounds.left, src.bounds.top)
        except (rasterio.errors.RasterioError, TileError) as exc:
            skipped.append((str(path), str(exc).split("\n")[0]))
            continue
        paths.append(path)
        bounds.append(b)
        sizes.append(size)
    bounds = np.asarray(bounds, float).reshape(-1, 4)
    if not paths:
        return Mosaic((), target.to_wkt(), bounds, float(res or 1.0), (0.0, 0.0), tuple(skipped))
    return Mosaic(tuple(paths), target.to_wkt(), bounds, float(res or min(sizes)),
                  origin or (float(bounds[:, 0].min()), float(bounds[:, 3].max())), tuple(skipped))


#: Mosaics of at most this many pixels whose tiles all lie on the mosaic's grid are read
#: once by :func:`windows`, which then cuts every window from memory (128 MB as float32).
IN_MEMORY_PX = 1 << 25


def _snap(mosaic: Mosaic, bounds) -> tuple[float, float, float, float, int, int]:
    """``bounds`` snapped outward to the mosaic grid, and their width and height [px]."""
    r, (ox, oy) = mosaic.res, mosaic.origin
    x0 = ox + np.floor((bounds[0] - ox) / r) * r
    x1 = ox + np.ceil((bounds[2] - ox) / r) * r
    y1 = oy - np.floor((oy - bounds[3]) / r) * r
    y0 = oy - np.ceil((oy - bounds[1]) / r) * r
    return x0, y0, x1, y1, round((x1 - x0) / r), round((y1 - y0) / r)


def read_window(mosaic: Mosaic, bounds, resampling: Resampling = Resampling.bilinear,
                _open: dict | None = None) -> Raster:
    """Mosaic of ``bounds`` (xmin, ymin, xmax, ymax) snapped outward to the mosaic grid.

    Pixels no tile covers, and nodata pixels, are NaN. Tiles in another CRS are warped
    with ``resampling``; tiles in the analysis CRS on the same grid are read as is.
    """
    r = mosaic.res
    x0, y0, x1, y1, width, height = _snap(mosaic, bounds)
    z = np.full((height, width), np.nan, np.float32)
    hit = np.flatnonzero(shapely.intersects(shapely.box(*mosaic.bounds.T), shapely.box(x0, y0, x1, y1)))
    with ExitStack() as stack:
        sources = []
        for i in hit:
            src = (_open or {}).get(i) or stack.enter_context(rasterio.open(mosaic.paths[i]))
            if src.crs != CRS.from_wkt(mosaic.crs):
                src = stack.enter_context(WarpedVRT(src, crs=mosaic.crs, resampling=resampling))
            sources.append(src)
        if sources:
            data, _ = rasterio.merge.merge(
                sources, bounds=(x0, y0, x1, y1), res=r, nodata=np.nan, dtype="float32",
                resampling=resampling, masked=True,
            )
            z[:] = np.ma.filled(data[0, :height, :width].astype(np.float32), np.nan)
    return Raster(z, float(x0), float(y1), r)


def _on_grid(mosaic: Mosaic, sources: dict) -> bool:
    """Every tile in the analysis CRS with the mosaic's pixel size and grid (read as is)."""
    target = CRS.from_wkt(mosaic.crs)
    r, (ox, oy) = mosaic.res, mosaic.origin
    for src in sources.values():
        steps = ((src.bounds.left - ox) / r, (oy - src.bounds.top) / r)
        if (src.crs != target or not np.allclose(np.abs(src.res), r, rtol=1e-9, atol=0)
                or any(abs(s - round(s)) > 1e-6 for s in steps)):
            return False
    return True


def _cut(full: Raster, mosaic: Mosaic, bounds) -> Raster:
    """The window :func:`read_window` reads for ``bounds``, cut from ``full`` (a window
    of the same mosaic that holds every tile); a view of ``full`` where it lies inside."""
    r = mosaic.res
    x0, _, _, y1, width, height = _snap(mosaic, bounds)
    col, row = round((x0 - full.x0) / r), round((full.y0 - y1) / r)
    rows, cols = full.z.shape
    r0, r1, c0, c1 = max(row, 0), min(row + height, rows), max(col, 0), min(col + width, cols)
    if (r0, r1, c0, c1) == (row, row + height, col, col + width):  # inside: a view, no copy
        return Raster(full.z[r0:r1, c0:c1], float(x0), float(y1), r)
    z = np.full((height, width), np.nan, np.float32)
    if r0 < r1 and c0 < c1:
        z[r0 - row:r1 - row, c0 - col:c1 - col] = full.z[r0:r1, c0:c1]
    return Raster(z, float(x0), float(y1), r)


def windows(mosaic: Mosaic, geometry: np.ndarray, halo_m: float, block_m: float = 500.0,
            dem: Mosaic | None = None, canopy: Mosaic | None = None
            ) -> Iterator[tuple[np.ndarray, Raster, Raster | None, Raster | None]]:
    """Blocks of buildings with the DSM (and DEM, canopy) window around them.

    Buildings that touch a tile are grouped by the ``block_m`` square their centroid
    falls in; each block's window covers its footprints plus ``halo_m`` on every side
    (the horizon search radius), so the mosaic is read once per block.

    Yields
    ------
    positions : int array, rows of ``geometry`` in the block
    dsm : Raster of the window (NaN = no data)
    dem, canopy : Raster on the same pixel grid, or None
    """
    tiles = shapely.STRtree(shapely.box(*mosaic.bounds.T))
    touching = np.unique(tiles.query(geometry, predicate="intersects")[0])
    if touching.size == 0:
        return
    centre = shapely.get_coordinates(shapely.centroid(geometry[touching]))
    key = np.floor(centre / block_m).astype(np.int64)
    _, block = np.unique(key, axis=0, return_inverse=True)
    blocks = [touching[block.ravel() == b] for b in range(block.max() + 1)]
    bounds = np.array([shapely.total_bounds(geometry[positions]) for positions in blocks])
    bounds += np.array([-halo_m, -halo_m, halo_m, halo_m])
    with ExitStack() as stack:
        def reader(m: Mosaic | None):
            """Window reader of a mosaic on the DSM's grid: the windows cut from one read
            of the area they span when it is on the grid, at most :data:`IN_MEMORY_PX`
            and smaller than the windows together (they overlap by their halos), else
            read one by one."""
            if m is None:
                return lambda bounds: None
            aligned = Mosaic(m.paths, m.crs, m.bounds, mosaic.res, mosaic.origin)
            opened = {i: stack.enter_context(rasterio.open(p)) for i, p in enumerate(m.paths)}
            span = (*np.maximum(bounds[:, :2].min(axis=0), m.bounds[:, :2].min(axis=0)),
                    *np.minimum(bounds[:, 2:].max(axis=0), m.bounds[:, 2:].max(axis=0)))
            *_, width, height = _snap(aligned, span)
            pixels = width * height
            windows_px = sum(w * h for *_, w, h in (_snap(aligned, b) for b in bounds))
            if 0 < pixels <= min(IN_MEMORY_PX, windows_px) and _on_grid(aligned, opened):
                full = read_window(aligned, span, _open=opened)
                return lambda bounds: _cut(full, aligned, bounds)
            return lambda bounds: read_window(aligned, bounds, _open=opened)

        readers = [reader(mosaic), reader(dem), reader(canopy)]
        for positions, window in zip(blocks, bounds):
            dsm, ground, trees = (read(window) for read in readers)
            yield positions, dsm, ground, trees
