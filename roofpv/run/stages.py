"""The per-building stages: roof geometry (measured or modelled), module layout, yield
lookup, suitability, capacity and energy, grid class, economics and carbon.

:func:`assess_buildings` runs them in order on any set of buildings; a building's row
depends only on itself (and, for the DSM, on the footprints around it), so the engine
may split the buildings into partitions freely.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.appraise import carbon, economics
from roofpv.appraise.suitability import classify
from roofpv.config import Config
from roofpv.energy import solar
from roofpv.io import point_cloud, tiles
from roofpv.roofs import arrays, dsm, layout, shading
from roofpv.roofs.roof import roof_planes
from roofpv.schema import ASSESSED_FIELDS, MONTHLY_FIELDS
from roofpv.targets.policy import in_cohort


def survey_forms(config: Config) -> dict[str, str]:
    """Roof form assumed for each roof type where no DSM measures it."""
    return {t: "gable" if r.planes == 2 else "flat" if r.slope_deg == 0 else "mono_pitch"
            for t, r in config.roofs.items()}


def resolve_roofs(b: pd.DataFrame, config: Config, roofs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fill roof type and shading defaults and attach each roof's rule parameters; take
    measured roof values from ``roofs`` (:func:`measure_roofs`) where the DSM covers a roof
    (``dsm_coverage``: share of the roof with DSM data; NaN where not measured)."""
    out = b.copy()
    out["roof_type_surveyed"] = out["roof_type"]
    default_type = out["category"].fillna("other").map(config.rules.default_roof_type)
    out["roof_type"] = out["roof_type"].fillna(default_type)
    out["roof_type_source"] = np.where(out["roof_type_surveyed"].notna(), "survey", "default")
    out["mounting"] = out["roof_type"].map(lambda t: config.roofs[t].mounting)
    out["roof_slope_deg"] = out["roof_type"].map(lambda t: config.roofs[t].slope_deg).astype(float)
    dead = {k: m.dead_load_kn_m2 for k, m in config.mountings.items()}
    out["dead_load_kn_m2"] = out["mounting"].map(dead).astype(float)
    shading = out["shading"].fillna(config.rules.default_shading)
    out["shading_loss"] = shading.map(config.rules.shading_loss).astype(float)
    out["shading_source"] = np.where(out["shading"].notna(), "survey", "default")
    module = config.module
    kw = out["existing_pv_kw"].fillna(0.0)
    area = out["existing_pv_area_m2"].fillna(0.0)
    out["existing_pv_area_m2"] = np.where(
        (area == 0) & (kw > 0), kw * 1000.0 / module.power_w * module.area_m2, area
    )
    out["existing_pv_kw"] = np.where(
        (kw == 0) & (area > 0), area / module.area_m2 * module.power_w / 1000.0, kw
    )
    if "existing_pv_source" not in out:  # set by the register match where there is one
        out["existing_pv_source"] = np.where((kw > 0) | (area > 0), "survey", "")
    # A footprint inside another (a building part, a duplicate) has its roof counted there.
    counted = out["overlap_of"].isna() if "overlap_of" in out else True
    out["roof_area_m2"] = np.where(counted, shapely.area(out.geometry.to_numpy()), 0.0)
    measured = roofs if roofs is not None else pd.DataFrame(index=pd.Index([], name="building_id"))
    out = dsm.combine(out, measured, config.rules.shading_loss, survey_forms(config),
                      config.dsm.storey_height_m)
    out["dsm_coverage"] = measured.get("dsm_coverage", pd.Series(dtype=float)).reindex(out.index)
    walls = measured.get("step_wall_m2", pd.Series(dtype=float)).reindex(out.index)
    out["dsm_step_wall"] = walls.fillna(0).to_numpy() >= layout.EMPTY_PLANE_MIN_AREA_M2
    if config.dsm.tiles is not None:  # a roof in no DSM window has no DSM data
        out["dsm_status"] = out["dsm_status"].where(out["dsm_status"].notna(), "no_data")
    return mount_by_form(out, config)


def form_roof_types(config: Config) -> tuple[str | None, str | None]:
    """Roof types that stand for roofs whose form the DSM measured: (flat, pitched) =
    the flat roof type with a racked mounting and the steepest roof type with a flush
    mounting (None where the config has none). Their mountings and setbacks apply to
    measured planes of that form whose own roof type is of the other kind."""
    racked = {k for k, m in config.mountings.items() if m.row_spacing == "gb50797"}
    flat = next((k for k, r in config.roofs.items() if r.slope_deg == 0 and r.mounting in racked), None)
    flush = [k for k, r in config.roofs.items() if r.mounting is not None and r.mounting not in racked]
    pitched = max(flush, key=lambda k: config.roofs[k].slope_deg) if flush else None
    return flat, pitched


def form_mountings(config: Config) -> tuple[str | None, str | None]:
    """Mountings for roofs whose form the DSM measured: (flat, pitched) = the mountings
    of the :func:`form_roof_types` (None where the config has none)."""
    return tuple(config.roofs[t].mounting if t is not None else None  # type: ignore[return-value]
                 for t in form_roof_types(config))


def mount_by_form(b: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Measured form sets the mounting: a roof the DSM measured flat gets racks, one it
    measured pitched gets flush modules on each plane (:func:`form_mountings`), where
    the roof type's mounting is of the other kind; ``mounting_source`` says which
    decided ("dsm" or the roof type's source) and the dead load follows the mounting."""
    out = b.copy()
    flat_m, pitched_m = form_mountings(config)
    racked = out["mounting"].map({k: m.row_spacing == "gb50797" for k, m in config.mountings.items()})
    measured = (out["roof_form_source"] == "dsm") & out["mounting"].notna()
    is_flat = out["roof_form"] == "flat"
    to_flat = measured & is_flat & racked.eq(False) & (flat_m is not None)
    to_pitched = measured & ~is_flat & racked.eq(True) & (pitched_m is not None)
    out.loc[to_flat, "mounting"] = flat_m
    out.loc[to_pitched, "mounting"] = pitched_m
    out["mounting_source"] = np.where(to_flat | to_pitched, "dsm", out["roof_type_source"])
    dead = {k: m.dead_load_kn_m2 for k, m in config.mountings.items()}
    out["dead_load_kn_m2"] = out["mounting"].map(dead).astype(float)
    return out


def measure_roofs(b: gpd.GeoDataFrame, config: Config, hourly: pd.DataFrame, crs: str,
                  mosaic: tiles.Mosaic | None, dem: tiles.Mosaic | None = None
                  ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Roof geometry and shading from the DSM tiles (empty without a ``mosaic``)."""
    empty = (pd.DataFrame(index=pd.Index([], name="building_id")),
             gpd.GeoDataFrame(geometry=[], crs=crs))
    if mosaic is None:
        return empty
    c = point_cloud.resolve(config.dsm)  # the gridded canopy of a point-cloud folder
    site = config.site
    table = shading.sun_table(hourly, site.latitude, site.longitude, site.altitude_m,
                              n_sectors=c.n_sectors, albedo=config.system.albedo)
    racks = [m.module_tilt_deg for m in config.mountings.values() if m.row_spacing == "gb50797"]
    footprints = b.geometry[b["geometry_valid"]]
    canopy = tiles.open_mosaic(c.canopy, crs, c.tiles_pattern) if c.canopy is not None else None
    windows = tiles.windows(mosaic, footprints.to_numpy(), c.radius_m, c.block_m, dem, canopy)
    roofs, planes = dsm.measure(windows, footprints, table, c, racks[0] if racks else 0.0)
    planes["resolution_m"] = mosaic.res   # the pixel size outlines are drawn at (layout)
    return roofs, planes


def plane_yields(measured: gpd.GeoDataFrame, planes: pd.DataFrame) -> gpd.GeoDataFrame | None:
    """The ``roof_planes`` layer: measured planes with their layout and yield
    (``annual_kwh`` = layout kWp × specific yield × (1 − the plane's shading loss));
    None when no roof was measured."""
    if measured.empty:
        return None
    cols = ["building_id", "plane", "module_tilt_deg", "modules", "layout_kwp", "poa_kwh_m2",
            "specific_yield_kwh_kwp"]
    out = measured.drop(columns="resolution_m", errors="ignore").merge(
        planes[cols], on=["building_id", "plane"], how="left")
    out["annual_kwh"] = out["layout_kwp"] * out["specific_yield_kwh_kwp"] * (1 - out["shading_loss"])
    out["horizon_deg"] = [";".join(f"{v:g}" for v in h) for h in out["horizon_deg"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=measured.crs)


def lay_out(b: pd.DataFrame, config: Config, tables: dict[str, solar.YieldTable],
            measured_planes: gpd.GeoDataFrame | None = None
            ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Roof planes, modules and specific yield per plane (pure; one row per plane), and
    the runs of modules the layout placed (:func:`roofpv.roofs.layout.module_runs`, ``polygon``
    = position in the planes table), from which :func:`array_layer` draws the rows.

    Roofs measured from the DSM use their measured planes (outlines straightened to within
    a pixel, :func:`_straightened`; racks on the flat ones, flush modules on the pitched
    ones, each with the setback of its mounting's roof type, :func:`_measured_mountings`);
    the others are modelled from footprint and roof type
    (:func:`roofpv.roofs.roof.roof_planes`). Each plane keeps its local polygon and frame,
    module width, depth and row pitch for :func:`array_layer`; ``too_narrow`` marks a
    measured plane of at least :data:`roofpv.roofs.layout.EMPTY_PLANE_MIN_AREA_M2` that
    faces the sun and holds no module."""
    rules = config.roofs
    sel = b["geometry_valid"].to_numpy() & b["mounting"].notna().to_numpy()
    used = ["roof_type", "roof_slope_deg", "roof_slope_deg_source", "shading_loss", "mounting",
            b.geometry.name]
    rows = b.loc[sel, [c for c in used if c in b]]
    measured = rows.get("roof_slope_deg_source", pd.Series("", rows.index)).eq("dsm").to_numpy()
    roof_type = rows["roof_type"].to_numpy(object)
    setback = _per_value(roof_type, {t: r.setback_m for t, r in rules.items()}).astype(float)
    modelled = np.flatnonzero(~measured)
    planes = roof_planes(
        rows.geometry.to_numpy()[modelled],
        _per_value(roof_type[modelled], {t: r.planes for t, r in rules.items()}).astype(int),
        rows["roof_slope_deg"].to_numpy(float)[modelled],
        setback[modelled],
    )
    position = modelled[planes["building"].to_numpy()]      # row of each plane in ``rows``
    planes.insert(0, "building_id", rows.index.to_numpy()[position])
    planes["shading_loss"] = rows["shading_loss"].to_numpy(float)[position]
    planes = planes.drop(columns="building")
    planes["mounting"] = rows["mounting"].to_numpy(object)[position]
    if measured.any() and measured_planes is not None:
        mp = measured_planes[measured_planes["building_id"].isin(rows.index[measured])]
        at = rows.index.get_indexer(mp["building_id"])
        flat = mp["tilt_deg"].to_numpy(float) < config.dsm.flat_max_slope_deg
        mounting, setback_at = _measured_mountings(roof_type[at], flat, config)
        local = dsm.local_planes(_straightened(mp), setback_at, rows.geometry.to_numpy()[at],
                                 config.dsm.flat_max_slope_deg)
        local["shading_loss"] = mp["shading_loss"].to_numpy()
        local["plane_area_m2"] = mp["area_m2"].to_numpy(float)
        local["mounting"] = mounting
        planes = pd.concat([planes, local], ignore_index=True)
        position = np.r_[position, at]
    # Planes by building id, then plane.
    rank = (np.arange(len(rows)) if rows.index.is_monotonic_increasing
            else np.argsort(np.argsort(rows.index.to_numpy(), kind="stable"), kind="stable"))
    order = np.lexsort((planes["plane"].to_numpy(), rank[position]))
    if (order != np.arange(len(order))).any():
        planes, position = planes.iloc[order].reset_index(drop=True), position[order]
    mounting = planes["mounting"].to_numpy(object)
    racked = _per_value(mounting, {k: m.row_spacing == "gb50797" for k, m in config.mountings.items()}).astype(bool)
    rack_tilt = _per_value(mounting, {k: m.module_tilt_deg or 0.0 for k, m in config.mountings.items()})
    tilt = np.where(racked, rack_tilt.astype(float), planes["slope_deg"].to_numpy())
    planes["module_tilt_deg"] = tilt

    module, rule = config.module, config.rules
    az = planes["azimuth_deg"].to_numpy()
    off_north = np.abs((az + 180.0) % 360.0 - 180.0)
    planes["north_unused"] = (off_north < rule.north_half_width_deg) & (tilt > rule.north_max_tilt_deg)
    used = ~planes["north_unused"].to_numpy()
    polygons = planes["local"].to_numpy()
    planes["usable_area_m2"] = np.where(used, shapely.area(polygons), 0.0)
    runs, width, depth, pitch = _pack(polygons, used, racked, tilt, config)
    planes["modules"] = np.bincount(runs["polygon"], weights=runs["modules"],
                                    minlength=len(planes)).astype(np.int64)
    planes["layout_kwp"] = planes["modules"] * module.power_w / 1000.0
    planes["module_width_m"] = width
    planes["module_depth_m"] = depth
    planes["row_pitch_m"] = pitch
    # A plane of some size that holds no module, though it faces the sun: its outline
    # after the setback is narrower than a module (or it lies in pieces).
    if "plane_area_m2" not in planes:
        planes["plane_area_m2"] = np.nan
    planes["too_narrow"] = (used & (planes["modules"].to_numpy() == 0)
                            & (planes["plane_area_m2"].to_numpy(float) >= layout.EMPTY_PLANE_MIN_AREA_M2))
    planes = planes.drop(columns="plane_area_m2")

    models = _per_value(mounting, {k: m.temperature_model for k, m in config.mountings.items()})
    specific = np.zeros(len(planes))
    for model in np.unique(models):
        hit = models == model
        specific[hit] = solar.interpolate(tables[model], tilt[hit], az[hit])
    planes["specific_yield_kwh_kwp"] = specific
    # Irradiance does not depend on the mounting: any table serves.
    planes["poa_kwh_m2"] = solar.interpolate_field(next(iter(tables.values())), "poa_annual_kwh_m2", tilt, az)
    return planes, runs


def _straightened(planes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Measured planes read as roof planes, not pixel sets (``resolution_m``): gaps and
    notches narrower than two pixels closed (a mitred buffer out and back by a pixel:
    pixels that missed the plane fit by noise split a plane into pieces, most at fine
    resolution — Delft at 0.25 m: 2.7 pieces a plane, 159 → 12 modules), then the
    outline straightened to within a pixel (Douglas–Peucker, topology kept): where two
    planes of a roof meet, the outline is the pixel staircase between them, whose teeth
    stand up to a pixel into every row strip along it; on rotated gables at 0.5 m and
    1 m that staircase cost 16 % of the modules the exact planes hold, 7–9 % once read
    so."""
    if "resolution_m" not in planes:
        return planes
    out = planes.copy()
    res = planes["resolution_m"].to_numpy(float)
    closed = shapely.buffer(shapely.buffer(planes.geometry.to_numpy(), res, join_style="mitre"), -res,
                            join_style="mitre")
    out[out.geometry.name] = shapely.simplify(closed, res, preserve_topology=True)
    return out


def _measured_mountings(roof_type: np.ndarray, flat: np.ndarray, config: Config
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Mounting and setback (m) of each measured plane: racks on the flat ones, flush
    modules on the pitched ones. Where the mounting of the building's roof type is of
    the other kind, the plane takes the mounting and setback of the
    :func:`form_roof_types` of its form, so a pitched plane of a roof assumed flat is
    not kept a flat roof's edge zone away from its eaves."""
    rules = config.roofs
    mounting = _per_value(roof_type, {t: r.mounting for t, r in rules.items()})
    setback = _per_value(roof_type, {t: r.setback_m for t, r in rules.items()}).astype(float)
    racked = _per_value(mounting, {k: m.row_spacing == "gb50797" for k, m in config.mountings.items()})
    for form_type, change in zip(form_roof_types(config), (flat & ~racked.astype(bool), ~flat & racked.astype(bool))):
        if form_type is not None:
            mounting[change] = rules[form_type].mounting
            setback[change] = rules[form_type].setback_m
    return mounting, setback


def _pack(polygons: np.ndarray, used: np.ndarray, racked: np.ndarray, tilt: np.ndarray,
          config: Config) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Module runs on the ``used`` planes (:func:`roofpv.roofs.layout.module_runs`,
    ``polygon`` = position in ``polygons``) and each plane's module width along the
    row, depth and row pitch (m, horizontal).

    Racks stand in portrait rows at the GB 50797 pitch. Flush modules lie in portrait
    or landscape rows, whichever holds more on the plane (portrait on ties): a narrow
    plane, e.g. a mansard face 2.5 m deep, holds landscape rows where a portrait
    module does not fit down the slope.
    """
    m = config.module
    cos = np.cos(np.radians(tilt))
    portrait = (np.full(len(polygons), m.width_m), m.length_m * cos,
                np.where(racked, layout.row_pitch_tilted(m.length_m, tilt, config.site.latitude),
                         (m.length_m + m.gap_m) * cos))
    flush = np.flatnonzero(used & ~racked)
    landscape = (np.full(flush.size, m.length_m), m.width_m * cos[flush], (m.width_m + m.gap_m) * cos[flush])
    tried = np.r_[np.flatnonzero(used), flush]
    width, depth, pitch = (np.r_[p[used], q] for p, q in zip(portrait, landscape))
    runs = layout.module_runs(polygons[tried], width, m.gap_m, depth, pitch)
    count = np.bincount(runs["polygon"], weights=runs["modules"], minlength=tried.size)
    n_used = int(used.sum())
    turn = np.zeros(len(polygons), bool)
    turn[flush] = count[n_used:] > count[:n_used][np.searchsorted(np.flatnonzero(used), flush)]
    # Keep each plane's better candidate: portrait unless landscape holds more.
    keep_candidate = np.r_[~turn[tried[:n_used]], turn[flush]]
    keep = keep_candidate[runs["polygon"]]
    runs = {k: v[keep] for k, v in runs.items()}
    runs["polygon"] = tried[runs["polygon"]]
    order = np.lexsort((runs["x"], runs["row"], runs["polygon"]))
    runs = {k: v[order] for k, v in runs.items()}
    out = [p.copy() for p in portrait]
    for o, q in zip(out, landscape):
        o[flush[turn[flush]]] = q[turn[flush]]
    return runs, *out


def _per_value(values: np.ndarray, field: dict) -> np.ndarray:
    """``field[v]`` for each of ``values``, looked up once per distinct value."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.array([field[v] for v in distinct])[codes] if len(distinct) else np.array([])


def monthly_yield(b: pd.DataFrame, planes: pd.DataFrame, config: Config,
                  tables: dict[str, solar.YieldTable]) -> pd.DataFrame:
    """The ``monthly_yield`` table, one row per building with a layout: monthly kWh
    (the building's ``annual_kwh`` split as its planes' monthly yields, after each
    plane's shading loss) and the layout-kWp-weighted plane-of-array irradiation of its
    planes (equal weights without modules), kWh/m², from the same orientation tables."""
    tilt = planes["module_tilt_deg"].to_numpy(float)
    az = planes["azimuth_deg"].to_numpy(float)
    model = _per_value(planes["mounting"].to_numpy(object),
                       {k: m.temperature_model for k, m in config.mountings.items()})
    monthly = np.zeros((len(planes), 12))
    for name in pd.unique(model):
        hit = model == name
        monthly[hit] = solar.interpolate_field(tables[name], "monthly_kwh_per_kwp", tilt[hit], az[hit])
    poa = solar.interpolate_field(next(iter(tables.values())), "poa_monthly_kwh_m2", tilt, az)
    kwp = planes["layout_kwp"].to_numpy(float)
    weight = kwp * (1 - planes["shading_loss"].to_numpy(float))
    owner = planes["building_id"].to_numpy()
    row, ids = pd.factorize(owner, sort=True)
    order = np.argsort(row, kind="stable")                    # planes building by building
    starts = np.flatnonzero(np.r_[True, np.diff(row[order]) != 0])
    energy = np.add.reduceat((weight[:, None] * monthly)[order], starts) if row.size else np.zeros((0, 12))
    # Irradiation weighted by layout kWp; planes count equally on a roof without modules.
    empty = np.bincount(row, kwp, minlength=ids.size) == 0
    by = np.where(empty[row], 1.0, kwp)
    irradiation = np.add.reduceat((by[:, None] * poa)[order], starts) if row.size else np.zeros((0, 12))
    irradiation /= np.bincount(row, by, minlength=ids.size)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = energy / energy.sum(axis=1, keepdims=True)
    annual = b["annual_kwh"].reindex(ids).fillna(0.0).to_numpy(float)[:, None]
    out = pd.DataFrame(np.hstack([np.nan_to_num(share) * annual, irradiation]),
                       index=pd.Index(ids, name="building_id"), columns=MONTHLY_FIELDS)
    return out


def building_layout(b: pd.DataFrame, planes: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Aggregate plane layouts to buildings; existing PV takes its share of the modules."""
    at = b.index.get_indexer(planes["building_id"])          # building of each plane
    n = len(b)

    def total(values) -> pd.Series:  # per building; NaN counts as 0, as in a pandas sum
        return pd.Series(np.bincount(at, weights=np.nan_to_num(values), minlength=n), b.index)

    kwp = planes["layout_kwp"].to_numpy(float)
    specific = planes["specific_yield_kwh_kwp"].to_numpy(float)
    area = planes["usable_area_m2"].to_numpy(float)
    has = pd.Series(np.bincount(at, minlength=n) > 0, b.index)   # buildings with planes
    agg = pd.DataFrame({
        "usable_area_m2": total(area),
        "layout_modules": total(planes["modules"].to_numpy(float)),
        "layout_kwp": total(kwp),
        "kwh": total(kwp * specific),
        "shaded_kwh": total(kwp * specific * (1 - planes["shading_loss"].to_numpy(float))),
        "area_yield": total(area * specific),
        "north_plane_unused": total(planes["north_unused"].to_numpy(float)) > 0,
        "plane_too_narrow": total(planes["too_narrow"].to_numpy(float)) > 0,
    }).where(has)
    first = planes["plane"].to_numpy() == 0
    front = pd.DataFrame(np.nan, index=b.index, columns=["azimuth_deg", "module_tilt_deg"])
    front.iloc[at[first]] = planes.loc[first, ["azimuth_deg", "module_tilt_deg"]].to_numpy(float)
    out = b.copy()
    measured = out.get("roof_aspect_deg_source", pd.Series("", b.index)).eq("dsm")
    measured_aspect = out.get("roof_aspect_deg", pd.Series(np.nan, b.index))
    out["roof_aspect_deg"] = measured_aspect.where(measured, front["azimuth_deg"])
    # Measured roofs: the building's loss is the yield-weighted loss of its planes.
    with np.errstate(invalid="ignore", divide="ignore"):
        plane_loss = 1 - agg["shaded_kwh"] / agg["kwh"]
    out["shading_loss"] = out["shading_loss"].where(~measured | plane_loss.isna(), plane_loss)
    out["module_tilt_deg"] = front["module_tilt_deg"]
    out["usable_area_m2"] = agg["usable_area_m2"].fillna(0.0)
    out["layout_kwp"] = agg["layout_kwp"].fillna(0.0)
    out["north_plane_unused"] = agg["north_plane_unused"].fillna(False).astype(bool)
    out["plane_too_narrow"] = agg["plane_too_narrow"].fillna(False).astype(bool)
    # Roofs where no module fits keep the usable-area-weighted yield of their planes, so
    # existing PV on them is valued by its own roof, not by a median of the partition.
    with np.errstate(invalid="ignore", divide="ignore"):
        out["specific_yield_kwh_kwp"] = (agg["kwh"] / agg["layout_kwp"]).where(
            agg["layout_kwp"] > 0, (agg["area_yield"] / agg["usable_area_m2"]).where(agg["usable_area_m2"] > 0))
    module = config.module
    existing_modules = np.ceil(out["existing_pv_area_m2"] / module.area_m2 - 1e-9)
    out["modules"] = (agg["layout_modules"].fillna(0) - existing_modules).clip(lower=0).astype(int)
    return out


def array_layer(planes: pd.DataFrame, runs: dict[str, np.ndarray], b: pd.DataFrame,
                config: Config, crs: str) -> gpd.GeoDataFrame:
    """The ``pv_arrays`` layer: module rows of the layout (its ``runs``) on every plane
    that holds modules, on roofs that are not unsuitable (a preview: existing PV is not
    cut out)."""
    status = b["suitability"].reindex(planes["building_id"]).to_numpy()
    keep = (status != "unsuitable")[runs["polygon"]]
    m = config.module
    rows = arrays.module_rows(planes, m.width_m, m.gap_m, m.power_w,
                              {k: v[keep] for k, v in runs.items()})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def finish(b: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Suitability, then capacity and energy of what each suitable or conditional roof adds."""
    out = b.join(classify(b, config.rules))
    out.loc[out["suitability"] == "unsuitable", "modules"] = 0
    # A footprint inside another has its roof, and so its usable area, counted there.
    out["usable_area_m2"] = out["usable_area_m2"].where(out["roof_area_m2"] > 0, 0.0)
    module = config.module
    out["capacity_kwp"] = out["modules"] * module.power_w / 1000.0
    out["pv_area_m2"] = out["modules"] * module.area_m2
    out["annual_kwh"] = (
        out["capacity_kwp"] * out["specific_yield_kwh_kwp"].fillna(0.0) * (1.0 - out["shading_loss"])
    )
    for target in config.policy.targets:
        out[f"cohort_{target.name}"] = in_cohort(out, target).to_numpy()
    cohorts = [f"cohort_{t.name}" for t in config.policy.targets]
    fields = [*ASSESSED_FIELDS, *cohorts, "geometry"]
    if "county" in out:  # a province run's county level (roofpv.inputs.jurisdictions)
        fields.insert(fields.index("township_source") + 1, "county")
    return out[fields]


def appraise(b: pd.DataFrame, config: Config) -> pd.DataFrame:
    """What each roof's energy is worth: economics (:func:`roofpv.appraise.economics.appraise`)
    and avoided carbon (:func:`roofpv.appraise.carbon.account`), again after any change to
    the roofs' kWh (monitoring's calibration)."""
    return carbon.account(economics.appraise(b, config.economics), config.carbon)
