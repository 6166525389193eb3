"""Classified LAS/LAZ point clouds gridded to DSM, DTM and canopy GeoTIFF tiles.

National LiDAR programmes and many bureaus deliver classified point clouds (ASPRS LAS
1.2–1.4 classes) rather than rasters. Each ``.las``/``.laz`` file of a folder becomes
three GeoTIFF tiles on one pixel grid (origin at multiples of the resolution, so the
tiles of neighbouring files line up into one mosaic):

``dsm``
    the highest return per cell of the surface classes — ground (2), building (6),
    water (9), road surface (11), bridge deck (17); vegetation (3–5) and noise (7, 18)
    never. A cloud with no building point (unclassified or only ground-classified) takes
    every non-noise, non-vegetation return. Empty cells (between sparse returns, under
    trees) are filled from their neighbours within 2 cells, the rest from the DTM.
``dtm``
    the mean ground (class 2) return per cell, gaps filled by inverse-distance
    interpolation (GDAL's fill), the terrain under buildings and trees included.
``canopy``
    vegetation height above the DTM (classes 3–5, highest return; 0 = no tree), the
    UMEP CDSM convention the DSM stage reads. Clouds without vegetation classes that
    classify buildings (the Dutch AHN convention leaves trees in class 1) take their
    class-1 returns more than :data:`CLASS1_TREE_MIN_M` above ground as canopy.

The tiles are written once into a cache folder beside the clouds
(``roofpv_grid/<resolution>m[_<CRS given>]/{dsm,dtm,canopy}/``, a CRS given for clouds
without one is part of the key) and reused while they are newer than their cloud and
were written by this gridding (:data:`GRID_VERSION`); the DSM stage then reads them as any GeoTIFF tile folder
(:mod:`roofpv.io.tiles`). Gridding is vectorised (one sort of the cell indices per
chunk of points); clouds are read in chunks so a tile of any size fits in memory.
Needs the optional extra ``pointcloud`` (laspy with the lazrs LAZ backend).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from roofpv.errors import PointCloudError

#: File names taken as point clouds (case-insensitive).
SUFFIXES = (".las", ".laz")
#: ASPRS classes of the surface the DSM stage measures (see module docstring).
SURFACE_CLASSES = (2, 6, 9, 11, 17)
GROUND_CLASS = 2
BUILDING_CLASS = 6
VEGETATION_CLASSES = (3, 4, 5)
NOISE_CLASSES = (7, 18)
#: Class-1 returns this far above ground count as trees in clouds without vegetation
#: classes (AHN); lower ones are cars, fences and street furniture [m].
CLASS1_TREE_MIN_M = 2.5
#: Empty DSM cells are filled from returns at most this many cells away.
FILL_CELLS = 2
#: Points read per chunk.
CHUNK = 2_000_000
CACHE = "roofpv_grid"
#: Bumped when the gridding changes, so tiles gridded before are made again.
GRID_VERSION = "1"
LAYERS = ("dsm", "dtm", "canopy")


@dataclass(frozen=True)
class Grids:
    """The folders of gridded tiles of a point-cloud folder (one GeoTIFF per cloud)."""

    dsm: Path
    dtm: Path
    canopy: Path


def clouds(folder: str | Path) -> list[Path]:
    """The LAS/LAZ files directly in ``folder``, sorted; [] when it is no folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())


def _laspy():
    try:
        import laspy
    except ImportError:  # pragma: no cover - depends on the environment
        raise PointCloudError(
            "reading LAS/LAZ point clouds needs laspy with the lazrs backend: "
            "pip install 'roofpv[pointcloud]'") from None
    return laspy


def header_facts(path: str | Path) -> tuple[str | None, tuple[float, ...], int]:
    """CRS (WKT, None when the header has none), bounds (xmin, ymin, xmax, ymax) [m] and
    point count of a cloud, read from its header only."""
    laspy = _laspy()
    try:
        with laspy.open(path) as f:
            h = f.header
            try:
                crs = h.parse_crs()
            except Exception:  # a malformed CRS record is no CRS
                crs = None
            return (crs.to_wkt() if crs is not None else None,
                    (h.mins[0], h.mins[1], h.maxs[0], h.maxs[1]), int(h.point_count))
    except (OSError, laspy.errors.LaspyException) as exc:
        raise PointCloudError(f"{path}: cannot read the point cloud ({str(exc).splitlines()[0]}); "
                              "replace the file (lasinfo or pdal info finds damage)") from None


def _cell_max(key: np.ndarray, z: np.ndarray, out: np.ndarray) -> None:
    """``out.flat[key] = max(out.flat[key], z)`` over repeated keys, vectorised: sort by
    key then height, keep each key's last."""
    if key.size == 0:
        return
    order = np.lexsort((z, key))
    k, v = key[order], z[order]
    last = np.r_[k[1:] != k[:-1], True]
    flat = out.reshape(-1)
    flat[k[last]] = np.fmax(flat[k[last]], v[last])


def _fill(z: np.ndarray, max_cells: float) -> np.ndarray:
    """NaN cells filled by GDAL's inverse-distance fill from cells at most ``max_cells``
    away; farther cells stay NaN (all NaN stays NaN)."""
    from rasterio.fill import fillnodata
    from scipy.ndimage import distance_transform_edt

    valid = np.isfinite(z)
    if valid.all() or not valid.any():
        return z
    filled = fillnodata(np.where(valid, z, 0).astype(np.float32), mask=valid.astype(np.uint8),
                        max_search_distance=float(max_cells), smoothing_iterations=0)
    far = distance_transform_edt(~valid) > max_cells
    return np.where(far, np.nan, filled).astype(np.float32)


def grid_cloud(path: str | Path, res: float, crs: str | None = None
               ) -> tuple[dict[str, np.ndarray], tuple[float, float], str]:
    """DSM, DTM and canopy grids of one cloud (see the module docstring).

    Parameters
    ----------
    path : LAS/LAZ file
    res : cell size [m]
    crs : CRS of a cloud whose header has none (e.g. ``"EPSG:28992"``)

    Returns
    -------
    grids : ``{"dsm", "dtm", "canopy"}`` → float32 (rows, cols) arrays [m], NaN = no data
    origin : (x, y) of the grids' north-west corner, multiples of ``res`` [m]
    crs : WKT of the grids' CRS

    Raises
    ------
    PointCloudError : unreadable file, no CRS, no ground points
    """
    laspy = _laspy()
    header_crs, (xmin, ymin, xmax, ymax), count = header_facts(path)
    if header_crs is None and crs is None:
        raise PointCloudError(
            f"{path}: the point cloud's header has no CRS; set dsm.point_cloud_crs in the config "
            "(e.g. EPSG:28992), or assign it (pdal translate … --writers.las.a_srs=EPSG:…)")
    from pyproj import CRS

    wkt = header_crs or CRS.from_user_input(crs).to_wkt()
    if not CRS.from_wkt(wkt).is_projected:
        raise PointCloudError(f"{path}: the point cloud is in {CRS.from_wkt(wkt).name}, not a "
                              "projected CRS in metres; reproject it (pdal translate … reprojection)")
    x0, y1 = np.floor(xmin / res) * res, np.ceil(ymax / res) * res
    cols = max(1, int(np.ceil((xmax - x0) / res)))
    rows = max(1, int(np.ceil((y1 - ymin) / res)))
    top = {n: np.full((rows, cols), np.nan, np.float32) for n in ("surface", "all", "veg", "class1")}
    gsum = np.zeros(rows * cols)
    gcount = np.zeros(rows * cols)
    has_building = has_vegetation = False
    try:
        with laspy.open(path) as f:
            for pts in f.chunk_iterator(CHUNK):
                x, y, z = np.asarray(pts.x), np.asarray(pts.y), np.asarray(pts.z, dtype=np.float64)
                cls = np.asarray(pts.classification)
                c = np.clip(((x - x0) / res).astype(np.int64), 0, cols - 1)
                r = np.clip(((y1 - y) / res).astype(np.int64), 0, rows - 1)
                key = r * cols + c
                noise = np.isin(cls, NOISE_CLASSES)
                veg = np.isin(cls, VEGETATION_CLASSES)
                has_building |= bool((cls == BUILDING_CLASS).any())
                has_vegetation |= bool(veg.any())
                for name, sel in (("surface", np.isin(cls, SURFACE_CLASSES)), ("all", ~noise & ~veg),
                                  ("veg", veg), ("class1", cls == 1)):
                    _cell_max(key[sel], z[sel], top[name])
                g = cls == GROUND_CLASS
                gsum += np.bincount(key[g], z[g], rows * cols)
                gcount += np.bincount(key[g], minlength=rows * cols)
    except laspy.errors.LaspyException as exc:
        raise PointCloudError(f"{path}: cannot read the point cloud ({str(exc).splitlines()[0]}); "
                              "replace the file (lasinfo or pdal info finds damage)") from None
    if not gcount.any():
        raise PointCloudError(f"{path}: no ground (class 2) points among {count} points; classify "
                              "the cloud first (pdal filters.smrf or lasground)")
    with np.errstate(invalid="ignore", divide="ignore"):
        dtm = (gsum / gcount).reshape(rows, cols).astype(np.float32)
    dtm = _fill(dtm, max(rows, cols))
    surface = top["surface"] if has_building else top["all"]
    dsm = _fill(surface, FILL_CELLS)
    dsm = np.where(np.isfinite(dsm), np.fmax(dsm, dtm), dtm).astype(np.float32)
    if has_vegetation:
        tree = top["veg"] - dtm
    elif has_building:
        tree = np.where(top["class1"] - dtm > CLASS1_TREE_MIN_M, top["class1"] - dtm, np.nan)
    else:
        tree = np.full_like(dtm, np.nan)
    canopy = np.where(tree > 0, tree, 0).astype(np.float32)
    return {"dsm": dsm, "dtm": dtm, "canopy": canopy}, (float(x0), float(y1)), wkt


def _version(path: Path) -> str | None:
    import rasterio

    try:
        with rasterio.open(path) as src:
            return src.tags().get("ROOFPV_GRID_VERSION")
    except rasterio.errors.RasterioError:
        return None


def _write(path: Path, z: np.ndarray, origin: tuple[float, float], res: float, wkt: str) -> None:
    import rasterio
    from rasterio.transform import from_origin

    tmp = path.with_name(path.name + ".part")
    with rasterio.open(tmp, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float32", crs=wkt, transform=from_origin(*origin, res, res),
                       nodata=np.nan, compress="deflate", predictor=3, tiled=True) as dst:
        dst.write(z, 1)
        dst.update_tags(ROOFPV_GRID_VERSION=GRID_VERSION)
    os.replace(tmp, path)


def grid_folder(folder: str | Path, res: float, crs: str | None = None,
                cache: str | Path | None = None) -> Grids:
    """Grid every cloud of ``folder`` into ``cache`` (default ``folder/roofpv_grid/<res>m``,
    with ``_<crs>`` when ``crs`` is given), skipping clouds whose three tiles are newer
    than the cloud and carry this :data:`GRID_VERSION`.

    Raises
    ------
    PointCloudError : ``folder`` holds no LAS/LAZ file, or a cloud cannot be gridded
    """
    found = clouds(folder)
    if not found:
        raise PointCloudError(f"{folder}: no .las or .laz point clouds; check dsm.tiles in the config")
    if not res > 0:
        raise PointCloudError(f"dsm.point_cloud_resolution_m must be > 0 (got {res})")
    key = f"{res:g}m" + ("_" + "".join(ch for ch in crs if ch.isalnum()) if crs else "")
    root = Path(cache) if cache is not None else Path(folder) / CACHE / key
    grids = Grids(*(root / layer for layer in LAYERS))
    for d in (grids.dsm, grids.dtm, grids.canopy):
        d.mkdir(parents=True, exist_ok=True)
    for path in found:
        targets = [getattr(grids, layer) / f"{path.stem}.tif" for layer in LAYERS]
        stamp = path.stat().st_mtime
        if all(t.exists() and t.stat().st_mtime >= stamp and _version(t) == GRID_VERSION
               for t in targets):
            continue
        layers, origin, wkt = grid_cloud(path, res, crs)
        for layer, target in zip(LAYERS, targets):
            _write(target, layers[layer], origin, res, wkt)
    return grids


def resolve(c):
    """The DSM settings with a point-cloud ``tiles`` folder replaced by its gridded tiles.

    When ``c.tiles`` holds LAS/LAZ files and none matching ``c.tiles_pattern``, the clouds
    are gridded at ``c.point_cloud_resolution_m`` (:func:`grid_folder`, cached) and the
    returned settings read the DSM tiles from the cache; ``dem`` and ``canopy`` left
    null take the cloud's DTM and canopy. Any other settings are returned as they are.

    Parameters
    ----------
    c : :class:`roofpv.config.Dsm`
    """
    if c.tiles is None or not clouds(c.tiles) or any(Path(c.tiles).glob(c.tiles_pattern)):
        return c
    grids = grid_folder(c.tiles, c.point_cloud_resolution_m, c.point_cloud_crs)
    return c.model_copy(update={"tiles": grids.dsm, "tiles_pattern": "*.tif",
                                "dem": c.dem if c.dem is not None else grids.dtm,
                                "canopy": c.canopy if c.canopy is not None else grids.canopy})
