"""The real DSM data sets of tests/data/real/, their truth, and the variants that change
them the way the next data set will differ (CRS, resolution, noise, smoothing, holes,
trees, missing or shifted footprints).

Shared by ``tests/test_dsm_metamorphic.py`` and ``scripts/bench_dsm_sets.py``. A data
set is a folder with a roofpv config (``<name>.yaml``), footprints and
``plane_labels.csv`` (truth roof faces: ``building_id``, ``tilt_deg``, ``azimuth_deg``,
plan ``area_m2``, polygon ``wkt``, ``keep``). A run is the whole survey
(:func:`roofpv.run`), so every variant goes through the path a user's data takes.

Figures of a run against the truth (faces of at least :data:`MIN_FACE_M2`):

``within_tol``
    share of the true roof area whose matched plane (the measured plane of its building
    overlapping the face most) is within 5° tilt and 15° azimuth (azimuth ignored on
    faces under 3°, flat either way);
``measured``
    share of the true roof area covered by measured planes of its own building;
``inside``
    share of the true roof area inside its building's footprint (the rest is eaves
    overhanging the walls, where roofpv draws no plane: planes are clipped to the
    footprint), the ceiling of ``measured``;
``kwp``
    installed kWp on the buildings the DSM measured;
``kwp_per_m2``
    that kWp per m² of measured plane area.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.warp import Resampling, calculate_default_transform, reproject

import roofpv
from roofpv.io import point_cloud
from roofpv.run.pipeline import assess_buildings, prepare

REAL = Path(__file__).parent / "data" / "real"
SETS = {
    "goteborg": REAL / "dsm_goteborg" / "goteborg.yaml",
    "delft": REAL / "dsm_delft" / "delft.yaml",
    "zurich": REAL / "dsm_zurich" / "zurich.yaml",
    "toufeng": REAL / "dsm_toufeng" / "toufeng.yaml",
}
TILT_TOL, AZ_TOL = 5.0, 15.0
#: Truth faces smaller than this (chimney sides, dormer cheeks) are not scored [m²].
MIN_FACE_M2 = 5.0


def truth(name: str) -> pd.DataFrame:
    """Kept truth faces of at least :data:`MIN_FACE_M2`, with shapely polygons."""
    lab = pd.read_csv(SETS[name].parent / "plane_labels.csv", dtype={"building_id": str})
    lab = lab[(lab["keep"] == 1) & (lab["area_m2"] >= MIN_FACE_M2)].reset_index(drop=True)
    lab["polygon"] = shapely.from_wkt(lab["wkt"])
    return lab


def _angle(a, b):
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def score(lab: pd.DataFrame, planes: gpd.GeoDataFrame | None, buildings: pd.DataFrame,
          truth_crs, footprint_shift: tuple[float, float] = (0.0, 0.0),
          footprints: gpd.GeoSeries | None = None) -> dict:
    """The figures of one run (see the module docstring); the truth is in ``truth_crs``;
    ``footprint_shift`` [m] moves it with footprints that were shifted (planes are drawn
    inside footprints); ``footprints`` (the set's own, indexed by ``building_id``) give
    ``inside``. ``capacity`` holds kWp per measured building."""
    area = lab["area_m2"].to_numpy()
    poly = shapely.transform(lab["polygon"].to_numpy(), lambda xy: xy + np.asarray(footprint_shift))
    inside = np.nan
    if footprints is not None:
        own = footprints.reindex(lab["building_id"]).to_numpy()
        inside = float(np.nansum(shapely.area(shapely.intersection(lab["polygon"].to_numpy(), own))) / area.sum())
    ok = np.zeros(len(lab), bool)
    covered = np.zeros(len(lab))
    if planes is not None and len(planes):
        planes = planes.to_crs(truth_crs)
        by = planes.groupby("building_id").indices
        for i, (bid, p) in enumerate(zip(lab["building_id"], poly)):
            rows = by.get(bid)
            if rows is None:
                continue
            own = planes.iloc[rows]
            inter = shapely.area(shapely.intersection(own.geometry.to_numpy(), p))
            if inter.max() <= 0:
                continue
            covered[i] = min(inter.sum() / area[i], 1.0)
            best = own.iloc[int(np.argmax(inter))]
            t_err = abs(best["tilt_deg"] - lab["tilt_deg"].iat[i])
            a_err = _angle(best["azimuth_deg"], lab["azimuth_deg"].iat[i]) if lab["tilt_deg"].iat[i] >= 3 else 0.0
            ok[i] = t_err <= TILT_TOL and a_err <= AZ_TOL
    measured = buildings["dsm_status"] == "measured" if "dsm_status" in buildings else pd.Series(False, buildings.index)
    kwp = float(buildings.loc[measured, "capacity_kwp"].sum())
    plane_m2 = float(planes["area_m2"].sum()) if planes is not None and len(planes) else 0.0
    return {"faces": len(lab), "true_m2": float(area.sum()),
            "within_tol": float(area[ok].sum() / area.sum()),
            "measured": float((covered * area).sum() / area.sum()), "inside": inside,
            "buildings_measured": int(measured.sum()), "kwp": kwp,
            "plane_m2": plane_m2, "kwp_per_m2": kwp / plane_m2 if plane_m2 else 0.0,
            "capacity": buildings.loc[measured, "capacity_kwp"]}


def run(config: roofpv.Config) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None]:
    """Buildings and ``roof_planes`` of the survey's inventory and per-building stages
    (:func:`roofpv.run.pipeline.run` up to its conclusion; nothing written)."""
    prepared = prepare(config)
    inventory = prepared.inventory
    b, planes, *_ = assess_buildings(inventory.buildings, config, prepared.hourly, prepared.tables,
                                    inventory.crs, mosaic=inventory.dsm, dem=inventory.dem,
                                    draw_arrays=False)
    return b, planes


# --- the data, copied into a folder where a variant may change it ----------------------

@dataclass
class Copy:
    """A data set copied to ``root``: footprints, DSM, DEM, canopy as GeoTIFF folders
    (point clouds gridded first), and the config pointing at them."""

    root: Path
    config: roofpv.Config

    @property
    def footprints(self) -> Path:
        return self.config.inputs.footprints

    def rasters(self, layer: str) -> list[Path]:
        folder = getattr(self.config.dsm, layer)
        return sorted(Path(folder).glob("*.tif")) if folder is not None else []

    def with_dsm(self, **update) -> None:
        self.config = self.config.model_copy(update={"dsm": self.config.dsm.model_copy(update=update)})

    def with_(self, **update) -> None:
        self.config = self.config.model_copy(update=update)


def copy_set(name: str, root: Path, cloud_res: float | None = None) -> Copy:
    """The set ``name`` copied into ``root`` (a point cloud as its tiles gridded at
    ``cloud_res`` [m], default the config's ``point_cloud_resolution_m``)."""
    config = roofpv.load_config(SETS[name])
    if cloud_res is not None:
        config = config.model_copy(update={
            "dsm": config.dsm.model_copy(update={"point_cloud_resolution_m": cloud_res})})
    c = point_cloud.resolve(config.dsm)
    root.mkdir(parents=True, exist_ok=True)
    update = {"tiles_pattern": "*.tif"}
    for layer in ("tiles", "dem", "canopy"):
        src = getattr(c, layer)
        if src is None:
            update[layer] = None
            continue
        dst = root / layer
        dst.mkdir(exist_ok=True)
        for f in sorted(Path(src).glob("*.tif")):
            shutil.copy(f, dst / f.name)
        update[layer] = dst
    fp = root / "buildings.gpkg"
    shutil.copy(config.inputs.footprints, fp)
    config = config.model_copy(update={
        "dsm": config.dsm.model_copy(update=update),
        "inputs": config.inputs.model_copy(update={"footprints": fp})})
    return Copy(root, config)


def _rewrite(path: Path, fn) -> None:
    """Apply ``fn(z, profile) -> (z, profile)`` to a GeoTIFF in place."""
    with rasterio.open(path) as src:
        z, profile = src.read(1).astype(np.float32), src.profile
    z, profile = fn(z, profile)
    profile.update(dtype="float32", nodata=np.nan, width=z.shape[1], height=z.shape[0])
    profile.pop("blockxsize", None), profile.pop("blockysize", None)
    profile["tiled"] = False
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z.astype(np.float32), 1)


def warp(copy: Copy, crs: str | None = None, res: float | None = None) -> None:
    """Every raster warped to ``crs`` and/or resampled to ``res`` (bilinear; the DSM's
    roofs at a coarser grid average like a coarser LiDAR grid)."""
    for layer in ("tiles", "dem", "canopy"):
        for path in copy.rasters(layer):
            with rasterio.open(path) as src:
                dst_crs = crs or src.crs
                transform, w, h = calculate_default_transform(
                    src.crs, dst_crs, src.width, src.height, *src.bounds,
                    resolution=res or (abs(src.res[0]) if crs is None else None))
                z = np.full((h, w), np.nan, np.float32)
                reproject(rasterio.band(src, 1), z, src_nodata=src.nodata, dst_transform=transform,
                          dst_crs=dst_crs, dst_nodata=np.nan, resampling=Resampling.bilinear)
                profile = src.profile | {"crs": dst_crs, "transform": transform}
            _rewrite(path, lambda _z, p, z=z, profile=profile: (z, profile))


def on_dsm(copy: Copy, fn) -> None:
    for path in copy.rasters("tiles"):
        _rewrite(path, fn)


def noise(copy: Copy, sigma: float, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    on_dsm(copy, lambda z, p: (z + rng.normal(0, sigma, z.shape).astype(np.float32), p))


def smooth(copy: Copy, sigma_m: float) -> None:
    """Gaussian blur of σ ``sigma_m`` (rounded edges, as dense image matching gives)."""
    from scipy.ndimage import gaussian_filter

    def blur(z, p):
        ok = np.isfinite(z)
        num = gaussian_filter(np.where(ok, z, 0), sigma_m / abs(p["transform"].a))
        den = gaussian_filter(ok.astype(float), sigma_m / abs(p["transform"].a))
        return np.where(ok, num / np.maximum(den, 1e-9), np.nan), p
    on_dsm(copy, blur)


def holes(copy: Copy, share: float = 0.03, radius_px: int = 3, seed: int = 0) -> None:
    """No-data discs (radius ``radius_px``) covering about ``share`` of every DSM tile."""
    rng = np.random.default_rng(seed)

    def punch(z, p):
        r, c = np.ogrid[:z.shape[0], :z.shape[1]]
        n = max(1, int(share * z.size / (np.pi * radius_px ** 2)))
        out = z.copy()
        for y, x in zip(rng.integers(0, z.shape[0], n), rng.integers(0, z.shape[1], n)):
            out[(r - y) ** 2 + (c - x) ** 2 <= radius_px ** 2] = np.nan
        return out, p
    on_dsm(copy, punch)


def _onto(paths: list[Path], profile: dict, reducer=np.fmax) -> np.ndarray:
    """The rasters ``paths`` warped onto the grid of ``profile`` and combined (NaN where none)."""
    out = np.full((profile["height"], profile["width"]), np.nan, np.float32)
    for path in paths:
        with rasterio.open(path) as src:
            z = np.full_like(out, np.nan)
            reproject(rasterio.band(src, 1), z, src_nodata=src.nodata, dst_transform=profile["transform"],
                      dst_crs=profile["crs"], dst_nodata=np.nan, resampling=Resampling.bilinear)
        out = reducer(out, z)
    return out


def overhanging_trees(copy: Copy, every: int = 3, reach_m: float = 3.0, height_m: float = 4.0) -> None:
    """Trees over the roof edge of every ``every``-th footprint: a crown of radius
    ``reach_m`` centred on a footprint vertex (half of it over the roof), ``height_m``
    above the roof there. The DSM keeps the roof and the canopy layer holds the trees
    (height above ground, the UMEP CDSM convention); a canopy folder on the DSM's grids
    is made when there is none."""
    fp = gpd.read_file(copy.footprints)
    union = shapely.union_all([shapely.Point(shapely.get_coordinates(g)[0]).buffer(reach_m)
                               for g in fp.geometry[::every]])
    if copy.config.dsm.canopy is None:
        (copy.root / "canopy").mkdir(exist_ok=True)
        for path in copy.rasters("tiles"):
            with rasterio.open(path) as src:
                profile = src.profile | {"dtype": "float32", "nodata": np.nan}
                zero = np.zeros((src.height, src.width), np.float32)
            with rasterio.open(copy.root / "canopy" / path.name, "w", **profile) as dst:
                dst.write(zero, 1)
        copy.with_dsm(canopy=copy.root / "canopy")
    for path in copy.rasters("canopy"):
        def grow(z, p):
            t = p["transform"]
            rows, cols = np.indices(z.shape)
            inside = shapely.contains_xy(union, t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e)
            surface = _onto(copy.rasters("tiles"), p)
            ground = _onto(copy.rasters("dem"), p) if copy.rasters("dem") else np.nanmin(surface)
            tree = np.where(inside, np.nan_to_num(surface - ground) + height_m, 0.0)
            return np.fmax(np.nan_to_num(z), tree).astype(np.float32), p
        _rewrite(path, grow)


def trees_in_dsm(copy: Copy, every: int = 3, reach_m: float = 3.0, height_m: float = 4.0) -> None:
    """The crowns of :func:`overhanging_trees` in the DSM itself, as a photogrammetric DSM
    or a DSM without a canopy layer has them: the surface raised to ``height_m`` above
    the roof's eaves over each crown, no canopy layer saying they are trees."""
    fp = gpd.read_file(copy.footprints)
    union = shapely.union_all([shapely.Point(shapely.get_coordinates(g)[0]).buffer(reach_m)
                               for g in fp.geometry[::every]])

    def grow(z, p):
        t = p["transform"]
        rows, cols = np.indices(z.shape)
        inside = shapely.contains_xy(union, t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e)
        if not inside.any():
            return z, p
        from scipy.ndimage import grey_dilation

        top = grey_dilation(np.nan_to_num(z, nan=-1e9), size=int(2 * reach_m / abs(t.a)) | 1)
        return np.where(inside, np.fmax(z, top + height_m), z), p
    on_dsm(copy, grow)
    copy.with_dsm(canopy=None)


def drop_footprints(copy: Copy, share: float = 0.3, seed: int = 0) -> list[str]:
    """Remove ``share`` of the footprints; returns the ids kept."""
    fp = gpd.read_file(copy.footprints)
    keep = np.random.default_rng(seed).random(len(fp)) >= share
    fp[keep].to_file(copy.footprints, driver="GPKG")
    return fp.loc[keep, copy.config.inputs.footprints_id_column or "building_id"].astype(str).tolist()


def shift_footprints(copy: Copy, dx: float, dy: float) -> None:
    fp = gpd.read_file(copy.footprints)
    fp.geometry = fp.geometry.translate(dx, dy)
    fp.to_file(copy.footprints, driver="GPKG")


def _other_crs(copy: Copy) -> str:
    """Another CRS for the set: UTM 31N for Delft's RD New, Web Mercator for the others
    (its metres are not ground metres: 1.48–1.87 of them per metre at 47–58° N)."""
    return "EPSG:32631" if "28992" in str(copy.config.crs) else "EPSG:3857"


#: Variant name → what it does to a copy (each returns nothing, or the ids kept).
VARIANTS = {
    "crs_unset": lambda c: c.with_(crs=None),
    "reproject": lambda c: warp(c, crs=_other_crs(c)),
    "reproject_crs_unset": lambda c: (warp(c, crs=_other_crs(c)), c.with_(crs=None))[-1],
    "resample_coarser": lambda c: warp(c, res=1.0 if _res(c) < 0.75 else 2.0),
    "resample_finer": lambda c: warp(c, res=0.5 if _res(c) > 0.75 else 0.25),
    "noise_0.05": lambda c: noise(c, 0.05),
    "noise_0.15": lambda c: noise(c, 0.15),
    "smooth": lambda c: smooth(c, 0.5),
    "holes": holes,
    "trees": overhanging_trees,
    "trees_in_dsm": trees_in_dsm,
    "drop_30pct": drop_footprints,
    "shift_1m": lambda c: shift_footprints(c, 0.7071, 0.7071),
}


def _res(copy: Copy) -> float:
    with rasterio.open(copy.rasters("tiles")[0]) as src:
        return abs(src.res[0])


def is_cloud(name: str) -> bool:
    """Whether the set is read from point clouds."""
    return bool(point_cloud.clouds(roofpv.load_config(SETS[name]).dsm.tiles))


def run_variant(name: str, variant: str | None, root: Path, lab: pd.DataFrame | None = None,
                cloud_res: float | None = None) -> dict:
    """Figures of the set ``name`` with ``variant`` applied (None: unchanged), in ``root``;
    ``cloud_res``: a point-cloud set gridded at this cell size [m]."""
    copy = copy_set(name, root, cloud_res)
    kept = VARIANTS[variant](copy) if variant else None
    lab = truth(name) if lab is None else lab
    if kept is not None:
        lab = lab[lab["building_id"].isin(kept)].reset_index(drop=True)
    buildings, planes = run(copy.config)
    shift = (0.7071, 0.7071) if variant == "shift_1m" else (0.0, 0.0)
    own = gpd.read_file(SETS[name].parent / "buildings.gpkg")
    footprints = own.set_index(own["building_id"].astype(str)).geometry
    return score(lab, planes, buildings, own.crs, shift, footprints) | {"set": name, "variant": variant or "unchanged",
                                                     "buildings": len(buildings), "ids": kept}
