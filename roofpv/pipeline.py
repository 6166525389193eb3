"""The survey pipeline: the only module that knows the order of the stages.

``run(config)`` reads the inputs, runs the pure stages and returns the results;
``write_outputs`` puts them on disk. Stages report progress through an optional
callback ``progress(stage_name)`` called as each stage starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import (
    __version__,
    arrays,
    carbon,
    dsm,
    economics,
    grid,
    input_checks,
    layout,
    planning,
    shading,
    solar,
    weather,
)
from .config import Config
from .findings import Finding, findings_frame
from .inventory import (
    assign_townships,
    fill_from_footprints,
    footprint_attributes,
    join_survey,
    project,
    resolve_overlaps,
)
from .io import readers, tiles, writers
from .io.weather import WeatherFileError, read_weather
from .policy import energy, in_cohort, township_summary
from .project import project_xml
from .roof import analysis_epsg, roof_planes
from .schema import COLUMN_ALIASES
from .styles import aliases, layer_styles
from .suitability import STATUSES, assess

STAGES = (
    "read inputs", "weather and yield table", "roof planes and layout",
    "yield", "suitability", "PV array outlines", "grid, economics and carbon", "rollout plan",
    "coverage and targets",
)

#: Column order of the ``buildings`` output.
BUILDING_COLUMNS = [
    "township", "township_source", "name", "category", "owner_type", "year_built", "floors",
    "floor_area_m2", "roof_type", "roof_type_source", "roof_load_kn_m2", "shading",
    "shading_source", "shading_loss", "shading_loss_source", "shading_measured_class",
    "field_check", "sky_view_factor", "roof_height_m", "roof_height_m_source", "roof_form",
    "roof_form_source", "planar_share", "dsm_coverage", "roof_slope_deg_source", "roof_aspect_deg_source",
    "grid_condition", "transformer_id", "existing_pv_kw",
    "existing_pv_area_m2", "roof_area_m2", "roof_slope_deg", "roof_aspect_deg", "mounting",
    "module_tilt_deg", "usable_area_m2", "modules", "capacity_kwp", "pv_area_m2", "annual_kwh",
    "specific_yield_kwh_kwp", "suitability", "reasons", "has_survey", "note",
    "category_source", "floors_source", "overlap_of", "overlap_share",
]
#: Name of the whole-jurisdiction row of the township table.
CITY = "全市"


@dataclass(frozen=True)
class Inventory:
    """The buildings table before modelling, and what reading the inputs found."""

    buildings: gpd.GeoDataFrame
    township_polygons: gpd.GeoDataFrame | None
    findings: list[Finding]
    survey_rows: int
    crs: str
    dsm: tiles.Mosaic | None = None
    dem: tiles.Mosaic | None = None


@dataclass(frozen=True)
class Results:
    """What a survey run produced, before anything is written (:func:`write_outputs`)."""

    buildings: gpd.GeoDataFrame
    townships: pd.DataFrame
    township_polygons: gpd.GeoDataFrame | None
    findings: list[Finding]
    crs: str
    survey_rows: int
    plan: gpd.GeoDataFrame | None = None
    plan_status: pd.DataFrame | None = None
    trajectory: pd.DataFrame | None = None
    parameters: pd.DataFrame | None = None
    roof_planes: gpd.GeoDataFrame | None = None
    run_info: pd.DataFrame | None = None
    pv_arrays: gpd.GeoDataFrame | None = None
    #: Policy target labels by target name (for field aliases and map styles).
    target_labels: dict[str, str] = field(default_factory=dict)


def analysis_crs(config: Config) -> str:
    """The configured projected CRS, else the CGCS2000 3° Gauss-Krüger zone of the site
    (in China) or its UTM zone (elsewhere)."""
    return config.crs or f"EPSG:{analysis_epsg(config.site.latitude, config.site.longitude)}"


def load_weather(config: Config, strict: bool = True) -> tuple[pd.DataFrame, dict]:
    """Hourly weather: the configured file, else a typical year from the monthly means.

    A file's findings (values repaired, time stamps against the sun, distance from the
    site) are in ``meta["findings"]``; with ``strict`` an error among them (a file too far
    from the site) raises :class:`WeatherFileError`.
    """
    w, site = config.weather, config.site
    if w.file is None:
        m = w.monthly
        try:
            hourly, meta = weather.typical_year(
                site.latitude, site.longitude, site.altitude_m, m.ghi_kwh_m2, m.temp_air_c, m.wind_m_s,
                tz=site.timezone, seed=w.seed,
            )
        except ValueError as exc:  # monthly GHI above what the sky gives at the site
            raise WeatherFileError(
                f"weather.monthly of {config.source_path or 'the config'} cannot describe a year at "
                f"{site.latitude:.2f}°N, {site.longitude:.2f}°E ({exc}): the monthly means belong to "
                "another climate; give weather.file or the site's own monthly means") from None
        return hourly, {**meta, "findings": []}
    hourly, meta = read_weather(w.file, w.format, tz=site.timezone, label=w.label,
                                columns=w.columns or None, shift_h=w.shift_h)
    source = str(w.file)
    found = weather.location_findings(meta, site.latitude, site.longitude, source,
                                      w.warn_distance_km, w.max_distance_km)
    if strict and any(f.level == "error" for f in found):
        raise WeatherFileError(f"{source}: {found[0].problem}; {found[0].fix}")
    lat, lon = meta.get("latitude"), meta.get("longitude")
    found += weather.timing_findings(hourly, meta, site.latitude if lat is None else lat,
                                     site.longitude if lon is None else lon, source)
    meta["findings"] = meta["findings"] + found
    return hourly, meta


def yield_tables(config: Config, hourly: pd.DataFrame, tilt_step_deg: float | None = None,
                 azimuth_step_deg: float | None = None) -> dict[str, solar.YieldTable]:
    """Specific-yield tables over orientation bins, one per temperature model in use;
    bin widths from ``config.bins`` unless given [degrees]."""
    site = config.site
    bins = config.bins
    tilts = np.arange(0.0, bins.max_tilt_deg + 1e-9, tilt_step_deg or bins.tilt_step_deg)
    azimuths = np.arange(0.0, 360.0, azimuth_step_deg or bins.azimuth_step_deg)
    models = sorted({m.temperature_model for m in config.mountings.values()})
    return {
        model: solar.yield_table(
            hourly, site.latitude, site.longitude, site.altitude_m, tilts, azimuths,
            temperature_model=model, gamma_pdc=config.module.gamma_pdc_per_c,
            losses_pct=config.system.total_losses_pct,
            inverter_eff_nom=config.system.inverter_efficiency_nom,
            dc_ac_ratio=config.system.dc_ac_ratio, albedo=config.system.albedo,
        )
        for model in models
    }


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
    # A footprint inside another (a building part, a duplicate) has its roof counted there.
    counted = out["overlap_of"].isna() if "overlap_of" in out else True
    out["roof_area_m2"] = np.where(counted, shapely.area(out.geometry.to_numpy()), 0.0)
    measured = roofs if roofs is not None else pd.DataFrame(index=pd.Index([], name="building_id"))
    out = dsm.combine(out, measured, config.rules.shading_loss, survey_forms(config),
                      config.dsm.storey_height_m)
    out["dsm_coverage"] = measured.get("dsm_coverage", pd.Series(dtype=float)).reindex(out.index)
    return out


def measure_roofs(b: gpd.GeoDataFrame, config: Config, hourly: pd.DataFrame, crs: str,
                  mosaic: tiles.Mosaic | None, dem: tiles.Mosaic | None = None
                  ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Roof geometry and shading from the DSM tiles (empty without a ``mosaic``)."""
    c = config.dsm
    empty = (pd.DataFrame(index=pd.Index([], name="building_id")),
             gpd.GeoDataFrame(geometry=[], crs=crs))
    if mosaic is None:
        return empty
    site = config.site
    table = shading.sun_table(hourly, site.latitude, site.longitude, site.altitude_m,
                              n_sectors=c.n_sectors, albedo=config.system.albedo)
    racks = [m.module_tilt_deg for m in config.mountings.values() if m.row_spacing == "gb50797"]
    params = dsm.DsmParams(**{f: getattr(c, f) for f in dsm.DsmParams.__dataclass_fields__
                              if f != "flat_module_tilt_deg"},
                           flat_module_tilt_deg=racks[0] if racks else 0.0)
    footprints = b.geometry[b["geometry_valid"]]
    windows = tiles.windows(mosaic, footprints.to_numpy(), params.radius_m, c.block_m, dem)
    return dsm.measure(windows, footprints, table, params, c.workers)


def plane_yields(measured: gpd.GeoDataFrame, planes: pd.DataFrame) -> gpd.GeoDataFrame | None:
    """The ``roof_planes`` layer: measured planes with their layout and yield
    (``annual_kwh`` = layout kWp × specific yield × (1 − the plane's shading loss));
    None when no roof was measured."""
    if measured.empty:
        return None
    cols = ["building_id", "plane", "module_tilt_deg", "modules", "layout_kwp", "specific_yield_kwh_kwp"]
    out = measured.merge(planes[cols], on=["building_id", "plane"], how="left")
    out["annual_kwh"] = out["layout_kwp"] * out["specific_yield_kwh_kwp"] * (1 - out["shading_loss"])
    out["horizon_deg"] = [";".join(f"{v:g}" for v in h) for h in out["horizon_deg"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=measured.crs)


def survey_forms(config: Config) -> dict[str, str]:
    """Roof form assumed for each roof type where no DSM measures it."""
    return {t: "gable" if r.planes == 2 else "flat" if r.slope_deg == 0 else "mono_pitch"
            for t, r in config.roofs.items()}


def lay_out(b: pd.DataFrame, config: Config, tables: dict[str, solar.YieldTable],
            measured_planes: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Roof planes, modules and specific yield per plane (pure; one row per plane).

    Roofs measured from the DSM use their measured planes; the others are modelled from
    footprint and roof type (:func:`roofpv.roof.roof_planes`). Each plane keeps its local
    polygon and frame, module depth and row pitch for :func:`array_layer`."""
    rules = config.roofs
    sel = b["geometry_valid"].to_numpy() & b["mounting"].notna().to_numpy()
    rows = b.loc[sel]
    measured = rows.get("roof_slope_deg_source", pd.Series("", rows.index)).eq("dsm").to_numpy()
    setback = rows["roof_type"].map(lambda t: rules[t].setback_m)
    modelled = rows.loc[~measured]
    roof_rule = modelled["roof_type"].map(rules)
    planes = roof_planes(
        modelled.geometry.to_numpy(),
        roof_rule.map(lambda r: r.planes).to_numpy(int),
        modelled["roof_slope_deg"].to_numpy(float),
        roof_rule.map(lambda r: r.setback_m).to_numpy(float),
    )
    planes.insert(0, "building_id", modelled.index.to_numpy()[planes["building"].to_numpy()])
    planes["shading_loss"] = modelled["shading_loss"].to_numpy()[planes["building"].to_numpy()]
    planes = planes.drop(columns="building")
    if measured.any() and measured_planes is not None:
        mp = measured_planes[measured_planes["building_id"].isin(rows.index[measured])]
        local = dsm.local_planes(mp, setback.reindex(mp["building_id"]).to_numpy(),
                                 config.dsm.flat_max_slope_deg)
        local["shading_loss"] = mp["shading_loss"].to_numpy()
        planes = pd.concat([planes, local], ignore_index=True)
    planes = planes.sort_values(["building_id", "plane"], kind="stable").reset_index(drop=True)
    mounting = rows["mounting"].reindex(planes["building_id"]).to_numpy()
    planes["mounting"] = mounting
    spec = {k: config.mountings[k] for k in np.unique(mounting)}
    per_plane = pd.Series(mounting)
    racked = per_plane.map({k: m.row_spacing == "gb50797" for k, m in spec.items()}).to_numpy(bool)
    rack_tilt = per_plane.map({k: m.module_tilt_deg or 0.0 for k, m in spec.items()}).to_numpy(float)
    tilt = np.where(racked, rack_tilt, planes["slope_deg"].to_numpy())
    planes["module_tilt_deg"] = tilt

    module, rule = config.module, config.rules
    beta = np.radians(tilt)
    depth = module.length_m * np.cos(beta)
    pitch = np.where(
        racked,
        layout.row_pitch_tilted(module.length_m, tilt, config.site.latitude),
        (module.length_m + module.gap_m) * np.cos(beta),
    )
    az = planes["azimuth_deg"].to_numpy()
    off_north = np.abs((az + 180.0) % 360.0 - 180.0)
    planes["north_unused"] = (off_north < rule.north_half_width_deg) & (tilt > rule.north_max_tilt_deg)
    used = ~planes["north_unused"].to_numpy()
    polygons = planes["local"].to_numpy()
    planes["usable_area_m2"] = np.where(used, shapely.area(polygons), 0.0)
    planes["modules"] = np.where(
        used, layout.count_modules(polygons, module.width_m, module.gap_m, depth, pitch), 0
    )
    planes["layout_kwp"] = planes["modules"] * module.power_w / 1000.0
    planes["module_depth_m"] = depth
    planes["row_pitch_m"] = pitch

    models = per_plane.map({k: m.temperature_model for k, m in spec.items()}).to_numpy()
    specific = np.zeros(len(planes))
    for model in np.unique(models):
        hit = models == model
        specific[hit] = solar.interpolate(tables[model], tilt[hit], az[hit])
    planes["specific_yield_kwh_kwp"] = specific
    return planes


def building_layout(b: pd.DataFrame, planes: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Aggregate plane layouts to buildings; existing PV takes its share of the modules."""
    p = planes.assign(
        kwh_per_kwp_x_kwp=planes["layout_kwp"] * planes["specific_yield_kwh_kwp"],
        shaded_kwh=planes["layout_kwp"] * planes["specific_yield_kwh_kwp"] * (1 - planes["shading_loss"]),
    )
    front = p[p["plane"] == 0].set_index("building_id")
    agg = p.groupby("building_id").agg(
        usable_area_m2=("usable_area_m2", "sum"),
        layout_modules=("modules", "sum"),
        layout_kwp=("layout_kwp", "sum"),
        kwh=("kwh_per_kwp_x_kwp", "sum"),
        shaded_kwh=("shaded_kwh", "sum"),
        north_plane_unused=("north_unused", "any"),
    ).reindex(b.index)
    out = b.copy()
    measured = out.get("roof_aspect_deg_source", pd.Series("", b.index)).eq("dsm")
    measured_aspect = out.get("roof_aspect_deg", pd.Series(np.nan, b.index))
    out["roof_aspect_deg"] = measured_aspect.where(measured, front["azimuth_deg"].reindex(b.index))
    # Measured roofs: the building's loss is the yield-weighted loss of its planes.
    with np.errstate(invalid="ignore", divide="ignore"):
        plane_loss = 1 - agg["shaded_kwh"] / agg["kwh"]
    out["shading_loss"] = out["shading_loss"].where(~measured | plane_loss.isna(), plane_loss)
    out["module_tilt_deg"] = front["module_tilt_deg"].reindex(b.index)
    out["usable_area_m2"] = agg["usable_area_m2"].fillna(0.0)
    out["layout_kwp"] = agg["layout_kwp"].fillna(0.0)
    out["north_plane_unused"] = agg["north_plane_unused"].fillna(False).astype(bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["specific_yield_kwh_kwp"] = (agg["kwh"] / agg["layout_kwp"]).where(agg["layout_kwp"] > 0)
    module = config.module
    existing_modules = np.ceil(out["existing_pv_area_m2"] / module.area_m2 - 1e-9)
    out["modules"] = (agg["layout_modules"].fillna(0) - existing_modules).clip(lower=0).astype(int)
    return out


def array_layer(planes: pd.DataFrame, b: pd.DataFrame, config: Config, crs: str
                ) -> gpd.GeoDataFrame:
    """The ``pv_arrays`` layer: module rows of the layout on every plane that holds
    modules, on roofs that are not unsuitable (a preview: existing PV is not cut out)."""
    status = b["suitability"].reindex(planes["building_id"]).to_numpy()
    keep = (status != "unsuitable") & (planes["modules"].to_numpy() > 0)
    m = config.module
    rows = arrays.module_rows(planes[keep], m.width_m, m.gap_m, m.power_w)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def finish(b: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Suitability, then capacity and energy of what each suitable or conditional roof adds."""
    out = b.join(assess(b, config.rules))
    out.loc[out["suitability"] == "unsuitable", "modules"] = 0
    module = config.module
    out["capacity_kwp"] = out["modules"] * module.power_w / 1000.0
    out["pv_area_m2"] = out["modules"] * module.area_m2
    out["annual_kwh"] = (
        out["capacity_kwp"] * out["specific_yield_kwh_kwp"].fillna(0.0) * (1.0 - out["shading_loss"])
    )
    for target in config.policy.targets:
        out[f"cohort_{target.name}"] = in_cohort(out, target).to_numpy()
    cohorts = [f"cohort_{t.name}" for t in config.policy.targets]
    return out[BUILDING_COLUMNS + cohorts + ["geometry"]]


def build_inventory(config: Config) -> Inventory:
    """Read the inputs and build the buildings table: survey joined to footprints,
    projected, placed in townships. Every problem found becomes a finding."""
    inputs = config.inputs
    footprints, findings = readers.read_footprints(
        inputs.footprints, inputs.footprints_layer, inputs.footprints_id_column
    )
    if inputs.survey is not None:
        survey, found = readers.read_survey(inputs.survey, inputs.survey_sheet)
        findings += found
    else:
        survey = pd.DataFrame(columns=[c for c in COLUMN_ALIASES if c != "building_id"])
        survey.index.name = "building_id"
    polygons = None
    if inputs.townships is not None:
        polygons, found = readers.read_townships(
            inputs.townships, inputs.townships_layer, inputs.townships_name_column
        )
        findings += found
    crs = analysis_crs(config)
    attributes = footprint_attributes(footprints.drop(columns="geometry"), config.dsm.storey_height_m)
    footprints = footprints[["geometry"]]
    b, found = join_survey(footprints, survey, str(inputs.survey) if inputs.survey else None,
                           str(inputs.footprints))
    findings += found
    b = fill_from_footprints(b, attributes)
    b, found = project(b, crs, str(inputs.footprints), inputs.footprints_datum)
    findings += found
    b, found = resolve_overlaps(b, str(inputs.footprints))
    findings += found
    findings += row_rule_findings(config)
    b, found = assign_townships(b, polygons, str(inputs.survey))
    findings += found
    mosaic, dem, found = input_checks.open_tiles(config, crs)
    findings += found
    findings += input_checks.datum_check(config, footprints.geometry, polygons, mosaic, crs)
    polygons = polygons.to_crs(crs) if polygons is not None else None
    return Inventory(b, polygons, findings, len(survey), crs, mosaic, dem)


def row_rule_findings(config: Config) -> list[Finding]:
    """A note for each racked mounting whose GB 50797 row pitch is capped at the site."""
    return [
        Finding("warning", str(config.source_path or "config"), None, None, f"mountings.{name}", None,
                f"at {config.site.latitude:.1f}° latitude the GB 50797 row rule asks for more than "
                f"{1 / layout.MIN_GCR:g} module lengths between rows (none beyond 58.5°); row pitch "
                f"capped at ground coverage ratio {layout.MIN_GCR:g}, accepting some winter row shading",
                "lower module_tilt_deg, or set row_spacing and a tilt suited to the latitude")
        for name, m in config.mountings.items()
        if m.row_spacing == "gb50797" and layout.row_pitch_capped(
            config.module.length_m, m.module_tilt_deg or 0.0, config.site.latitude)
    ]


def check_inputs(config: Config) -> Inventory:
    """:func:`build_inventory` plus the DSM's coverage of the footprints: every check
    `roofpv validate` makes, without modelling."""
    inventory = build_inventory(config)
    try:
        _, meta = load_weather(config, strict=False)
        found = meta["findings"]
    except WeatherFileError as exc:
        found = [Finding("error", str(config.weather.file or config.source_path), None, None, "weather",
                         None, str(exc), "fix the weather file or weather.* in the config")]
    inventory = replace(inventory, findings=inventory.findings + found)
    if inventory.dsm is None:
        return inventory
    _, found = input_checks.dsm_coverage(inventory.buildings, inventory.dsm, config)
    return replace(inventory, findings=inventory.findings + found)


def assess_buildings(
    buildings: gpd.GeoDataFrame, config: Config, hourly: pd.DataFrame,
    tables: dict[str, solar.YieldTable], crs: str,
    progress: Callable[[str], None] = lambda stage: None, neighbours: gpd.GeoDataFrame | None = None,
    mosaic: tiles.Mosaic | None = None, dem: tiles.Mosaic | None = None, draw_arrays: bool = True,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The per-building stages: DSM roofs, layout, yield, suitability, grid, economics,
    carbon and energy use. Each building's result depends only on its own row (and, for
    the DSM, on the footprints around it), so any split of ``buildings`` gives the same
    rows. ``neighbours``: footprints outside ``buildings`` that the DSM stage sees
    (ground rings, shading) but whose results are dropped. Returns the buildings, the
    ``roof_planes`` layer (None without measured roofs) and, with ``draw_arrays``, the
    ``pv_arrays`` layer."""
    progress(STAGES[2])
    around = buildings if neighbours is None else pd.concat([buildings, neighbours])
    roofs, measured_planes = measure_roofs(around, config, hourly, crs, mosaic, dem)
    if neighbours is not None and not roofs.empty:
        roofs = roofs[roofs.index.isin(buildings.index)]
        measured_planes = measured_planes[measured_planes["building_id"].isin(buildings.index)]
    b = resolve_roofs(buildings, config, roofs)
    planes = lay_out(b, config, tables, measured_planes)
    plane_layer = plane_yields(measured_planes, planes)

    progress(STAGES[3])
    b = building_layout(b, planes, config)

    progress(STAGES[4])
    b = finish(b, config)
    pv_arrays = None
    if draw_arrays:
        progress(STAGES[5])
        pv_arrays = array_layer(planes, b, config, crs)

    progress(STAGES[6])
    b = carbon.assess(economics.assess(grid.classify(b, config.grid), config.economics), config.carbon)
    return energy(b, config.energy), plane_layer, pv_arrays


def read_transformers(config: Config) -> pd.DataFrame | None:
    """The configured 台区 transformers table, or None."""
    grid_cfg = config.grid
    if grid_cfg.transformers is None:
        return None
    return readers.read_transformers(grid_cfg.transformers, grid_cfg.transformers_layer)


def conclude(
    b: pd.DataFrame, config: Config, inventory: Inventory, transformers: pd.DataFrame | None,
    plane_layer: gpd.GeoDataFrame | None, pv_arrays: gpd.GeoDataFrame | None,
    info: pd.DataFrame, progress: Callable[[str], None] = lambda stage: None,
) -> Results:
    """The jurisdiction-wide steps on the assessed buildings: the DSM's coverage
    findings, grid admission in rank order, the rollout plan and the township table."""
    findings = inventory.findings
    if inventory.dsm is not None:
        b["dsm_coverage"], found = input_checks.dsm_coverage(
            inventory.buildings, inventory.dsm, config, b["dsm_coverage"].dropna())
        findings = findings + found
    remaining = grid.hosting_capacity(transformers, config.grid) if transformers is not None else None
    b = planning.admit(b, config.planning, remaining)

    progress(STAGES[7])
    kw_per_m2 = config.module.power_w / config.module.area_m2 / 1000.0
    plan, plan_status, trajectory = planning.rollout(
        b, config.policy, config.planning, remaining, kw_per_m2, CITY
    )

    progress(STAGES[8])
    townships = pd.concat([
        township_summary(b, config.policy), township_summary(b.assign(township=CITY), config.policy)
    ]).join(planning.wide(plan_status))
    crs = inventory.crs
    return Results(
        gpd.GeoDataFrame(b, geometry="geometry", crs=crs), townships, inventory.township_polygons,
        findings, crs, inventory.survey_rows,
        gpd.GeoDataFrame(plan, geometry="geometry", crs=crs), plan_status, trajectory,
        economics.parameters(config.economics), plane_layer, info, pv_arrays,
        {t.name: t.label for t in config.policy.targets},
    )


def run_info(config: Config, weather_meta: dict, hourly: pd.DataFrame, crs: str) -> pd.DataFrame:
    """What produced the results: roofpv version, config, weather source and CRS."""
    source = weather_meta["source"]
    if config.weather.file is None:
        source += f" (config weather.monthly, seed {config.weather.seed})"
    items = {
        "roofpv version": __version__,
        "config": str(config.source_path or ""),
        "weather source": source,
        "weather annual GHI (kWh/m²)": f"{hourly['ghi'].sum() / 1000:.1f}",
        "site (lat, lon)": f"{config.site.latitude:.4f}, {config.site.longitude:.4f}",
        "analysis CRS": crs,
    }
    return pd.DataFrame({"item": list(items), "value": list(items.values())})


def run(config: Config, progress: Callable[[str], None] = lambda stage: None) -> Results:
    """Run the survey described by ``config`` and return its results (no files written)."""
    progress(STAGES[0])
    inventory = build_inventory(config)
    transformers = read_transformers(config)

    progress(STAGES[1])
    hourly, weather_meta = load_weather(config)
    inventory = replace(inventory, findings=inventory.findings + weather_meta["findings"])
    tables = yield_tables(config, hourly)

    b, plane_layer, pv_arrays = assess_buildings(
        inventory.buildings, config, hourly, tables, inventory.crs, progress,
        mosaic=inventory.dsm, dem=inventory.dem)
    return conclude(b, config, inventory, transformers, plane_layer, pv_arrays,
                    run_info(config, weather_meta, hourly, inventory.crs), progress)


def reconcile(buildings: pd.DataFrame, survey_rows: int) -> dict[str, int]:
    """Counts that show no building was lost: footprints in = buildings out, by status."""
    counts = {
        "footprints": len(buildings),
        "with survey row": int(buildings["has_survey"].sum()),
        "without survey row": int((~buildings["has_survey"]).sum()),
        "survey rows": survey_rows,
        "survey rows without footprint": survey_rows - int(buildings["has_survey"].sum()),
    }
    if "suitability" in buildings:
        status = buildings["suitability"].value_counts()
        counts.update({s: int(status.get(s, 0)) for s in STATUSES})
    return counts


#: Files `roofpv survey` writes into its output folder.
SURVEY_OUTPUTS = ("roofpv.gpkg", "roofpv.qgz", "townships.csv", "findings.csv")
#: Files `roofpv plan` writes besides the survey's (and layer ``rollout_plan`` in roofpv.gpkg).
PLAN_OUTPUTS = ("rollout_plan.csv", "plan_status.csv", "trajectory.csv", "parameters.csv")


def existing_outputs(out_dir: Path, names=SURVEY_OUTPUTS) -> list[Path]:
    """Outputs that a run into ``out_dir`` would replace."""
    return [out_dir / n for n in names if (out_dir / n).exists()]


def write_outputs(results: Results, out_dir: Path, plan: bool = False, geo_format: str = "gpkg"
                  ) -> dict[str, Path]:
    """Write ``roofpv.gpkg`` (buildings, roof planes, PV arrays, townships, run_info, with
    QGIS styles), the QGIS project ``roofpv.qgz``, ``townships.csv`` and ``findings.csv``;
    with ``plan`` also layer ``rollout_plan`` and the :data:`PLAN_OUTPUTS` tables.
    ``geo_format="parquet"`` writes each layer as ``<layer>.parquet`` (GeoParquet) instead
    of the GeoPackage and the project."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gpkg = out_dir / "roofpv.gpkg"
    layers = {"buildings": results.buildings.reset_index()}
    if results.roof_planes is not None:
        layers["roof_planes"] = results.roof_planes
    if results.pv_arrays is not None:
        layers["pv_arrays"] = results.pv_arrays
    if plan:
        layers["rollout_plan"] = results.plan.reset_index()
    if results.run_info is not None:
        layers["run_info"] = results.run_info
    if results.township_polygons is not None:
        poly = results.township_polygons[["geometry"]].join(results.townships, how="left")
        poly = poly.fillna({c: 0 for c in ("buildings", *STATUSES)})
        layers["townships"] = poly.rename_axis("township").reset_index()
    if geo_format == "parquet":
        paths = {f"{name}.parquet": out_dir / f"{name}.parquet" for name in layers}
        for name, frame in layers.items():
            writers.write_geoparquet(out_dir / f"{name}.parquet", frame)
    else:
        labels = results.target_labels
        styles = layer_styles(layers, labels)
        writers.write_geopackage(gpkg, layers, styles,
                                 {n: aliases(f.columns, labels) for n, f in layers.items()})
        qgz = out_dir / "roofpv.qgz"
        extent = (layers["townships"] if "townships" in layers else layers["buildings"]).total_bounds
        writers.write_qgis_project(qgz, project_xml(
            f"roofpv {out_dir.resolve().name}", gpkg.name,
            [n for n, f in layers.items() if isinstance(f, gpd.GeoDataFrame)], results.crs,
            pyproj.CRS(results.crs).to_wkt(), tuple(extent),
            {s.layer: s.qml for s in styles if s.default},
        ))
        paths = {"geopackage": gpkg, "qgis project": qgz}
    csv = out_dir / "townships.csv"
    writers.write_table(csv, results.townships.reset_index())
    findings = out_dir / "findings.csv"
    writers.write_table(findings, findings_frame(results.findings))
    paths.update({"townships": csv, "findings": findings})
    if plan:
        tables = (
            results.plan.drop(columns="geometry"), results.plan_status, results.trajectory,
            results.parameters.set_index("parameter"),
        )
        for name, frame in zip(PLAN_OUTPUTS, tables):
            paths[name.removesuffix(".csv")] = out_dir / name
            writers.write_table(out_dir / name, frame.reset_index())
    return paths
