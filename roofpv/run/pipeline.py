"""The survey pipeline: the one module that runs the stages, in the order of
:data:`roofpv.run.sequence.STAGES`.

A run has three steps: :func:`prepare` (read the inputs, the weather and the yield
tables, once per jurisdiction), :func:`assess_buildings` (the per-building stages, on
all buildings or on partitions of them, see :mod:`roofpv.run.engine`) and
:func:`conclude` (the jurisdiction-wide steps). ``run(config)`` does the three in this
process and returns the :class:`~roofpv.results.Results`;
:func:`roofpv.io.outputs.write_outputs` puts them on disk. Every caller — `roofpv
survey` and `plan`, the engine's partitions, :func:`roofpv.api.assess`, the sensitivity
scenarios and monitoring — goes through these functions. Stages report progress through
an optional callback ``progress(stage)`` called with a label of
:mod:`roofpv.run.sequence` as each stage starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.appraise import economics, grid
from roofpv.config import Config
from roofpv.energy import solar, uncertainty
from roofpv.errors import PointCloudError, WeatherFileError
from roofpv.findings import Finding
from roofpv.grid import assess as gridstage
from roofpv.grid import topology as gridtopology
from roofpv.grid.profiles import BinSeries
from roofpv.inputs import checks, dsm_match, first_pass, jurisdictions
from roofpv.inputs.inventory import (
    assign_townships,
    footprint_attributes,
    join_survey,
    place,
)
from roofpv.inputs.site_checks import site_findings
from roofpv.io import point_cloud, readers, surface_files, survey_spill, tiles
from roofpv.io.register_files import read_meters, read_register
from roofpv.io.topology import read_topology as read_grid_topology
from roofpv.io.weather_files import load_weather
from roofpv.monitoring import calibration
from roofpv.results import Inventory, Results, add_run_info, run_info
from roofpv.roofs import dsm
from roofpv.roofs.roof import analysis_epsg
from roofpv.run import sequence
from roofpv.run.memory import give_back_freed_memory
from roofpv.run.stages import (
    appraise,
    array_layer,
    building_layout,
    finish,
    lay_out,
    measure_roofs,
    monthly_yield,
    plane_yields,
    resolve_roofs,
)
from roofpv.schema import CITY, COLUMN_ALIASES, MONTHLY_FIELDS
from roofpv.surfaces import canopies, facades, sites, totals
from roofpv.targets import levels, planning
from roofpv.targets.policy import energy, potential, township_summary, with_status


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """What every partition of a run shares: the inventory, the transformers, the
    hourly weather, the yield tables and the ``run_info`` table."""

    inventory: Inventory
    transformers: pd.DataFrame | None
    hourly: pd.DataFrame
    tables: dict[str, solar.YieldTable]
    info: pd.DataFrame
    #: Monthly metered generation (``inputs.meters``), or None.
    meters: pd.DataFrame | None = None
    #: Surfaces beyond roofs on their open ground (:func:`surface_sites`), or None.
    surfaces: gpd.GeoDataFrame | None = None
    #: Yield and shading tables of vertical planes (None when facades are off).
    facade_tables: facades.FacadeTables | None = None
    #: The first pass of a run read per partition (:func:`scan_inventory`), or None.
    scan: first_pass.Scan | None = None
    #: Feeder and substation of each transformer (``grid.topology``), or None.
    topology: pd.DataFrame | None = None


def analysis_crs(config: Config) -> str:
    """The configured projected CRS, else the DSM's own CRS when it is projected in
    metres (so the DSM is measured on its own grid, never resampled), else the CGCS2000
    3° Gauss-Krüger zone of the site (in China) or its UTM zone (elsewhere)."""
    if config.crs:
        return config.crs
    native = None
    if config.dsm.tiles is not None:
        try:  # a folder of point clouds: the CRS of its gridded tiles
            c = point_cloud.resolve(config.dsm)
        except PointCloudError:  # reported by checks.open_tiles
            c = config.dsm
        native = tiles.native_crs(c.tiles, c.tiles_pattern)
    return native or f"EPSG:{analysis_epsg(config.site.latitude, config.site.longitude)}"


def survey_or_empty(config: Config) -> tuple[pd.DataFrame, list[Finding]]:
    """The survey table by building id (empty, with the survey's columns, without
    ``inputs.survey``) and the findings of reading it."""
    if config.inputs.survey is None:
        survey = pd.DataFrame(columns=[c for c in COLUMN_ALIASES if c != "building_id"])
        survey.index.name = "building_id"
        return survey, []
    return readers.read_survey(config.inputs.survey, config.inputs.survey_sheet)


def build_inventory(config: Config) -> Inventory:
    """Read the inputs and build the buildings table: survey joined to footprints,
    projected, placed in townships. Every problem found becomes a finding."""
    inputs = config.inputs
    footprints, findings = readers.read_footprints(
        inputs.footprints, inputs.footprints_layer, inputs.footprints_id_column, inputs.footprints_crs
    )
    survey, found = survey_or_empty(config)
    findings += found
    polygons, found = jurisdictions.read_townships(config)
    findings += found
    crs = analysis_crs(config)
    survey, found = checks.match_ids(footprints.index, survey, str(inputs.survey))
    findings += found
    attributes = footprint_attributes(footprints.drop(columns="geometry"), config.dsm.storey_height_m)
    footprints = footprints[["geometry"]]
    b, found = join_survey(footprints, survey, str(inputs.survey) if inputs.survey else None,
                           str(inputs.footprints))
    findings += found
    b, found = place(b, attributes, crs, str(inputs.footprints), inputs.footprints_datum)
    findings += found
    findings += checks.row_rule_findings(config)
    b, found = assign_townships(b, polygons, str(inputs.survey))
    findings += found
    county = jurisdictions.county_of(b["township"], polygons)
    if county is not None:  # a province run: the county level
        b.insert(b.columns.get_loc("township_source") + 1, "county", county)
    matches = None
    if inputs.register_file is not None:
        table, found = read_register(inputs.register_file, inputs.register_sheet, crs)
        b, matches, more = calibration.apply_register(b, table, config, str(inputs.register_file))
        findings += found + more
    mosaic, dem, found = checks.open_tiles(config, crs)
    findings += found + checks.grid_findings(config, crs, mosaic, dem)
    findings += checks.datum_check(config, footprints.geometry, polygons, mosaic, crs)
    b, unmatched_roofs, found = dsm_match.footprints_on_dsm(config, b, crs, mosaic, dem)
    findings += found
    polygons = polygons.to_crs(crs) if polygons is not None else None
    findings += checks.cross_checks(b, polygons, str(inputs.survey), str(inputs.footprints),
                                    str(inputs.townships))
    return Inventory(buildings=b, township_polygons=polygons, findings=findings, survey_rows=len(survey),
                     crs=crs, dsm=mosaic, dem=dem, register=matches, unmatched_roofs=unmatched_roofs)


def surface_sites(config: Config, inventory: Inventory,
                  footprints: Callable[[gpd.GeoDataFrame], gpd.GeoSeries] | None = None,
                  ) -> tuple[gpd.GeoDataFrame | None, list[Finding]]:
    """The outlines of the config's ``surfaces.layers`` in the analysis CRS, cut to their
    open ground (the footprints on them count as roofs) and placed in townships; None
    without surface layers. ``footprints(outlines)``: the buildings' outlines that matter
    to these outlines, in the inventory's order, where the inventory holds none (a run
    read per partition, :func:`roofpv.run.engine.surface_footprints`)."""
    if not config.surfaces.layers:
        return None, []
    found, findings = surface_files.read_surfaces(config.surfaces.layers, inventory.crs)
    files = ", ".join(str(layer.file) for layer in config.surfaces.layers)
    outlines = (footprints(found) if footprints is not None
                else inventory.buildings.geometry if "geometry" in inventory.buildings else None)
    found, more = sites.near_buildings(found, outlines, files)
    findings += more
    found, more = sites.open_ground(found, outlines, files)
    findings += more
    found, more = sites.in_townships(found, inventory.township_polygons, files)
    return found, findings + more


def scan_inventory(config: Config, spill: Path | None = None) -> tuple[Inventory, first_pass.Scan]:
    """:func:`build_inventory` for a run whose partitions read their own footprints and
    survey rows (:mod:`roofpv.inputs.first_pass`, where :func:`first_pass.supported`):
    the jurisdiction-wide checks on the first pass. The inventory holds no buildings; its
    findings are the jurisdiction-wide ones (:meth:`first_pass.Scan.findings` adds the
    partitions'). The survey's rows wait on disk, in a folder inside ``spill``
    (:func:`roofpv.io.survey_spill.spill_survey`), for the partitions that use them."""
    inputs = config.inputs
    if inputs.survey is None:
        empty, findings = survey_or_empty(config)
        survey = survey_spill.from_table(empty, spill)
    else:
        survey, findings = survey_spill.spill_survey(inputs.survey, inputs.survey_sheet, spill)
    polygons, found = jurisdictions.read_townships(config)
    findings += found
    crs = analysis_crs(config)
    scanned = first_pass.scan_apart(config, crs, polygons, survey.keys)  # (in a child process)
    catalogue, survey = scanned.catalogue, survey.renamed(scanned.keys)
    findings = scanned.read + findings + scanned.matched
    probe = survey.probe  # a footprint without survey row turns ints to floats in the join
    if (catalogue.rows < 0).any():
        probe = probe.reindex(probe.index.append(pd.Index([None])))
    late = checks.row_rule_findings(config)
    mosaic, dem, found = checks.open_tiles(config, crs)
    later = found + checks.grid_findings(config, crs, mosaic, dem)
    later += checks.datum_check(config, scanned.sample, polygons, mosaic, crs, sampled=scanned.sampled)
    projected = polygons.to_crs(crs) if polygons is not None else None
    last = checks.township_layout(projected, str(inputs.townships)) if projected is not None else []
    empty = gpd.GeoDataFrame(index=catalogue.ids[:0], geometry=[], crs=crs)
    scan = first_pass.Scan(catalogue=catalogue, survey=survey, survey_dtypes=probe.dtypes, polygons=polygons,
                           layout=(findings, "survey", "geometry", "overlaps", late, "townships", later,
                                   "cross", last))
    inventory = Inventory(buildings=empty, township_polygons=projected, findings=findings + late + later + last,
                          survey_rows=len(survey), crs=crs)
    return inventory, scan


def check_inputs(config: Config) -> Inventory:
    """:func:`build_inventory` plus the weather file's checks and the DSM's coverage of the
    footprints: every check `roofpv validate` makes, without modelling."""
    inventory = build_inventory(config)
    _, found = read_transformers(config)
    try:
        _, meta = load_weather(config, strict=False)
        found += meta["findings"]
    except WeatherFileError as exc:
        found += [Finding("error", str(config.weather.file or config.source_path), None, None, "weather",
                         None, str(exc), "fix the weather file or weather.* in the config")]
    found += site_findings(config) + surface_sites(config, inventory)[1]
    inventory = replace(inventory, findings=inventory.findings + found)
    if inventory.dsm is None:
        return inventory
    _, found = checks.dsm_coverage(inventory.buildings, inventory.dsm, config)
    found += checks.standing_check(inventory.buildings, inventory.dsm, inventory.dem, config)
    return replace(inventory, findings=inventory.findings + found)


def read_transformers(config: Config) -> tuple[pd.DataFrame | None, list]:
    """The configured 台区 transformers table (or None) and its findings."""
    grid_cfg = config.grid
    if grid_cfg.transformers is None:
        return None, []
    return readers.read_transformers(grid_cfg.transformers, grid_cfg.transformers_layer)


def read_topology(config: Config, transformers: pd.DataFrame | None) -> tuple[pd.DataFrame | None, list]:
    """The configured feeder and substation of each transformer (or None) and its findings."""
    if config.grid.topology is None:
        return None, []
    if transformers is None:
        return None, [Finding("warning", str(config.grid.topology), None, None, None, None,
                              "grid topology given without a transformers table: feeders and substations "
                              "are not assessed", "set `grid.transformers` as well")]
    frame, found = read_grid_topology(config.grid.topology)
    frame, more = gridtopology.match(frame, transformers, str(config.grid.topology))
    return frame, found + more


def prepare(config: Config, progress: Callable[[str], None] = lambda stage: None,
            per_partition: bool = False, spill: Path | None = None) -> Prepared:
    """Read the inputs and the weather and compute the yield tables: the steps a run
    does once, whatever the number of buildings. ``per_partition``: only the first pass
    over the footprints (:func:`scan_inventory`), the partitions read their own (their
    survey rows wait on disk inside ``spill``, default the system's temporary folder)."""
    progress(sequence.READ)
    scan = None
    if per_partition:
        inventory, scan = scan_inventory(config, spill)
    else:
        inventory = build_inventory(config)
    transformers, found = read_transformers(config)
    topology, more = read_topology(config, transformers)
    found = found + more
    if transformers is not None and scan is not None:  # each partition assigns its own
        # Only the count of buildings that cannot be placed: each partition finds its own.
        lost = scan.unserved(transformers, inventory.crs)
        more = [f for f in gridstage.assign_transformers(lost, transformers, inventory.crs,
                                                         str(config.inputs.survey or config.inputs.footprints))[1]
                if f.building_id is None]
        scan = replace(scan, layout=(*scan.layout, found + more, "transformers"), transformers=transformers)
        found = found + more
    elif transformers is not None:
        served, more = gridstage.assign_transformers(inventory.buildings, transformers, inventory.crs,
                                                     str(config.inputs.survey or config.inputs.footprints))
        inventory, found = replace(inventory, buildings=served), found + more
    if scan is not None and config.surfaces.layers:  # cut to open ground after the partitions (engine)
        surfaces, more = None, []
        scan = replace(scan, surfaces_at=len(inventory.findings) + len(found))
    else:
        surfaces, more = surface_sites(config, inventory)
    inventory = replace(inventory, findings=inventory.findings + found + more)
    progress(sequence.WEATHER)
    hourly, weather_meta = load_weather(config)
    found = weather_meta["findings"] + site_findings(config)
    if config.grid.hourly:
        found = (found + gridstage.metered_load(config.grid.metered_load, len(hourly))[1]
                 + gridstage.metered_load(config.grid.metered_transformer_load, len(hourly), "transformer_id")[1])
    meters = None
    if inventory.register is not None and config.inputs.meters is not None:
        meters, more = read_meters(config.inputs.meters)
        found = found + more
    inventory = replace(inventory, findings=inventory.findings + found)
    return Prepared(inventory=inventory, transformers=transformers, topology=topology, hourly=hourly,
                    tables=solar.yield_tables(config, hourly),
                    info=run_info(config, weather_meta, hourly, inventory.crs, inventory.township_polygons),
                    meters=meters, surfaces=surfaces, scan=scan,
                    facade_tables=facades.tables(config, hourly) if config.facades.enabled else None)


def survey_roofs(config: Config) -> tuple[Inventory, gpd.GeoDataFrame]:
    """The buildings with the values a survey form needs: the inputs read and the roofs
    the DSM measures (stages :data:`~roofpv.run.sequence.READ` and the measurement of
    :data:`~roofpv.run.sequence.ROOFS`; no layout, yield or economics), survey columns as
    surveyed (not filled with defaults). Returns the inventory and the buildings."""
    inventory = build_inventory(config)
    hourly = load_weather(config)[0] if inventory.dsm is not None else None
    roofs, _ = measure_roofs(inventory.buildings, config, hourly, inventory.crs, inventory.dsm, inventory.dem)
    b = resolve_roofs(inventory.buildings, config, roofs)
    survey = [c for c in COLUMN_ALIASES if c in inventory.buildings and c != "building_id"]
    b[survey] = inventory.buildings[survey]
    return inventory, b


def assess_buildings(
    buildings: gpd.GeoDataFrame, config: Config, hourly: pd.DataFrame,
    tables: dict[str, solar.YieldTable], crs: str,
    progress: Callable[[str], None] = lambda stage: None, neighbours: gpd.GeoDataFrame | None = None,
    mosaic: tiles.Mosaic | None = None, dem: tiles.Mosaic | None = None, draw_arrays: bool = True,
    measured: tuple[pd.DataFrame, gpd.GeoDataFrame] | None = None,
    facade_tables: facades.FacadeTables | None = None,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The per-building stages: DSM roofs, layout, yield, suitability, grid, economics,
    carbon and energy use. Each building's result depends only on its own row (and, for
    the DSM, on the footprints around it), so any split of ``buildings`` gives the same
    rows. ``neighbours``: footprints outside ``buildings`` that the DSM stage sees
    (ground rings, shading) but whose results are dropped. Returns the buildings, the
    ``roof_planes`` layer (None without measured roofs), with ``draw_arrays`` the
    ``pv_arrays`` layer, and the ``facades`` layer (None when ``config.facades`` is off;
    ``facade_tables``: the run's :func:`roofpv.surfaces.facades.tables`, computed here
    when not given). The buildings carry the :data:`MONTHLY_FIELDS` of the
    ``monthly_yield`` table (:func:`monthly_yield`). ``measured``: the result of
    :func:`measure_roofs` for these buildings when already at hand (it depends on
    neither module, losses nor rules)."""
    progress(sequence.ROOFS)
    around = buildings if neighbours is None else pd.concat([buildings, neighbours])
    roofs, measured_planes = (measure_roofs(around, config, hourly, crs, mosaic, dem)
                              if measured is None else measured)
    roofs_around = roofs  # the neighbours' too: their walls' heights stand against these
    if neighbours is not None and not roofs.empty:
        roofs = roofs[roofs.index.isin(buildings.index)]
        measured_planes = measured_planes[measured_planes["building_id"].isin(buildings.index)]
    b = resolve_roofs(buildings, config, roofs)
    planes, runs = lay_out(b, config, tables, measured_planes)
    plane_layer = plane_yields(measured_planes, planes)

    progress(sequence.YIELD)
    b = building_layout(b, planes, config)

    progress(sequence.SUITABILITY)
    b = finish(b, config)
    facade_layer = None
    if config.facades.enabled:
        progress(sequence.FACADES)
        facade_layer = facades.facade_layer(
            b, config, facade_tables or facades.tables(config, hourly), crs,
            around=None if neighbours is None else facades.heights(
                resolve_roofs(facades.within_reach(neighbours, b, config), config, roofs_around), config),
            north_deg=facades.grid_north(b, crs), mosaic=mosaic, dem=dem)
    pv_arrays = None
    if draw_arrays:
        progress(sequence.ARRAYS)
        pv_arrays = array_layer(planes, runs, b, config, crs)

    progress(sequence.APPRAISE)
    b = energy(grid.classify(b, config.grid), config.energy)
    hourly_grid = config.grid.hourly and all(t.hourly_kwh_per_kwp is not None for t in tables.values())
    if hourly_grid:
        b = gridstage.building_balance(
            b, planes, config, BinSeries(tables), hourly.index,
            gridstage.metered_load(config.grid.metered_load, len(hourly))[0],
            gridstage.metered_load(config.grid.metered_transformer_load, len(hourly), "transformer_id")[0])
    b = uncertainty.p90(appraise(b, config), config.uncertainty)
    if hourly_grid:
        b = gridstage.split_surplus(b)
    # The monthly table travels with the buildings as columns; conclude() splits it off.
    b = b.join(monthly_yield(b, planes, config, tables))
    if facade_layer is not None:
        b = b.join(facades.building_totals(facade_layer, b.index))
    return b, plane_layer, pv_arrays, facade_layer


def admit(b: pd.DataFrame, config: Config, transformers: pd.DataFrame | None,
          tables: dict[str, solar.YieldTable] | None = None, index: pd.DatetimeIndex | None = None,
          topology: pd.DataFrame | None = None, ids: pd.Index | None = None,
          ) -> tuple[pd.DataFrame, pd.Series | pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """Grid admission in rank order (:func:`roofpv.targets.planning.admit`) against the
    transformers' open capacity (None without a transformers table): the buildings, the
    capacity left per transformer (with ``topology`` also per feeder and substation,
    :func:`roofpv.grid.topology.limits`), the ``transformers`` table
    (:func:`roofpv.grid.assess.transformer_table`, from the hourly profiles when the
    yield tables hold them and the buildings their main planes; else DL/T 2041 with
    every kWp at full output and the table's minimum load) and the ``feeders`` table
    (None without ``topology`` or hourly profiles). ``ids``: the buildings' ids where
    ``b`` is indexed by position (ties in the ranking go by id)."""
    if transformers is None:
        return _admitted(b, config.planning, None, ids), None, None, None
    hourly = (tables is not None and index is not None and "pv_tilt_deg" in b
              and all(t.hourly_kwh_per_kwp is not None for t in tables.values()))
    equipment = None
    if hourly:
        metered = gridstage.metered_load(config.grid.metered_transformer_load, len(index), "transformer_id")[0]
        table, equipment = gridstage.transformer_table(plain(b, ("category", "mounting")), transformers, config,
                                                       BinSeries(tables), index, topology, metered)
        remaining = gridtopology.limits(table, equipment)
    else:
        table, remaining = None, gridstage.flat_hosting(transformers, config.grid)
    b = _admitted(b, config.planning, remaining, ids)
    if table is not None:
        eligible = planning.eligibility(plain(b, ELIGIBILITY_TEXTS), config.planning)["owner"] & ~b["grid_limited"]
        admitted = b["capacity_kwp"].where(eligible, 0.0).groupby(b["transformer_id"]).sum()
        table = gridstage.with_admitted(table, admitted, config.grid)
    return b, remaining, table, equipment


def _admitted(b: pd.DataFrame, cfg, remaining: pd.Series | pd.DataFrame | None,
              ids: pd.Index | None = None) -> pd.DataFrame:
    """``b`` with :func:`roofpv.targets.planning.admit`'s ``plan_order`` and
    ``grid_limited`` (its texts as held: :func:`plain`)."""
    ranked = planning.admit(plain(b, ELIGIBILITY_TEXTS), cfg, remaining, ids)
    return b.assign(plan_order=ranked["plan_order"], grid_limited=ranked["grid_limited"])


def township_table(b: pd.DataFrame, config: Config, polygons: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Per-township totals and target coverage (:func:`roofpv.targets.policy.township_summary`),
    every township of the township layer listed (also those without buildings), then the
    whole-city row :data:`~roofpv.schema.CITY`."""
    return pd.concat([
        township_summary(b, config.policy, config.uncertainty, None if polygons is None else polygons.index),
        township_summary(b.assign(township=CITY), config.policy, config.uncertainty),
    ])


def milestone_status(plan_status: pd.DataFrame, townships: pd.DataFrame) -> list:
    """The township table's ``<target>_status_<milestone>`` for each row of the plan's
    ``plan_status`` (one per township, target and milestone), one column at a time."""
    rows = townships.index.get_indexer(plan_status.index)
    columns = plan_status["target"].astype(str) + "_status_" + plan_status["milestone"].astype(str)
    out = np.empty(len(plan_status), dtype=object)
    for column in columns.unique():
        at = (columns == column).to_numpy()
        out[at] = townships[column].to_numpy(dtype=object)[rows[at]]
    return out.tolist()


#: Building columns the jurisdiction-wide steps of :func:`conclude` read (grid admission,
#: the rollout plan and its layer, the township table, the potential fields and the
#: reconciliation). A run that streams its partitions to the outputs gathers only these
#: (all columns when it calibrates with metered generation; ``dsm_status`` and
#: ``dsm_coverage`` only with a DSM; the :data:`REGISTER_COLUMNS` only with a register);
#: the facade totals go to the township roll-up. The outputs take every other column
#: from the partitions.
CONCLUDE_COLUMNS = (
    "township", "county", "name", "category", "owner_type", "year_built",
    "roof_load_kn_m2", "shading_loss_source", "transformer_id", "existing_pv_kw",
    "existing_pv_area_m2", "roof_area_m2", "usable_area_m2", "capacity_kwp",
    "pv_area_m2", "annual_kwh", "specific_yield_kwh_kwp", "suitability", "reasons",
    "has_survey", "dsm_coverage", "dsm_status", "connection_class", "nea_category", "export_mode", "capex_yuan",
    "revenue_yuan_yr", "npv_yuan", "lcoe_yuan_kwh", "payback_years", "co2_avoided_t_yr",
    "energy_use_kwh", "existing_pv_kwh", "facade_kwp", "facade_annual_kwh", "mounting", "pv_tilt_deg", "pv_azimuth_deg",
    "self_consumed_kwh", "exported_kwh", "curtailed_kwh",
)
#: Building columns only the pace from the register reads (its energy use a year ago:
#: :func:`roofpv.monitoring.calibration.registered_pace`).
REGISTER_COLUMNS = ("floor_area_m2", "shading_loss", "existing_pv_source")


#: Building columns :func:`conclude` only carries into the rollout plan (of the
#: :data:`~roofpv.targets.planning.PLAN_COLUMNS`): a streamed run leaves them in the
#: partitions and adds them to the planned roofs after :func:`conclude`
#: (:func:`roofpv.run.engine.run_partitions`), unless the plan draws on surfaces, whose
#: rows carry their own.
PLAN_ONLY_COLUMNS = ("name", "connection_class", "nea_category", "export_mode")
#: Building columns a streamed run's results keep after :func:`conclude` besides those it
#: adds: those it may change (``dsm_coverage``, the potential fields) and those read
#: after it (the reconciliation's, the styles' yields, the transformers' placement).
#: The outputs take every other column from the partitions.
HELD_COLUMNS = ("dsm_coverage", "technical_potential_kwp", "counted_potential_kwp", "pv_full", "has_survey",
                "suitability", "specific_yield_kwh_kwp", "transformer_id")


#: Texts of few values a streamed run holds as categories in its slim table
#: (:meth:`roofpv.io.partitions.Partitions.read`, ≈ 1 byte a building each against ≈ 20
#: as text): each step of :func:`conclude` gets those it reads back as text
#: (:func:`plain`), never the categories.
COMPACT_TEXTS = ("category", "owner_type", "suitability", "reasons", "shading_loss_source", "mounting", "county",
                 "existing_pv_source")
#: The texts of :data:`COMPACT_TEXTS` that roof eligibility reads
#: (:func:`roofpv.targets.planning.eligibility`), and the ones the township table reads.
ELIGIBILITY_TEXTS = ("suitability", "reasons", "owner_type")
SUMMARY_TEXTS = ("category", "suitability", "shading_loss_source")


def plain(b: pd.DataFrame, texts: tuple[str, ...] = ()) -> pd.DataFrame:
    """``b`` as a step of :func:`conclude` reads it: of the texts held as categories (a
    streamed run's slim table), those in ``texts`` back as the text they were, the
    others left out, so that a step reading one it was not given fails rather than
    group or match categories. ``b`` itself when it holds none (a one-piece run)."""
    held = [c for c in b.columns if isinstance(b[c].dtype, pd.CategoricalDtype)]
    if not held:
        return b
    out = b[[c for c in b.columns if c not in held or c in texts]]
    for column in held:
        if column in texts:  # the categories taken by code: Arrow's take, no Python strings
            values = b[column].array
            out[column] = values.categories.array.take(values.codes, allow_fill=True)
    return out


def calibrates(prepared: Prepared) -> bool:
    """Whether :func:`conclude` calibrates the yields with metered generation (a register
    and meters), which re-appraises every roof."""
    return prepared.inventory.register is not None and prepared.meters is not None


def conclude_columns(columns: list[str], prepared: Prepared, config: Config) -> list[str]:
    """Of the assessed ``columns``, those :func:`conclude` needs: :data:`CONCLUDE_COLUMNS`
    (with a register also :data:`REGISTER_COLUMNS`; the :data:`PLAN_ONLY_COLUMNS` only
    when the plan draws on surfaces), or every column but the geometry when it
    calibrates the yields with metered generation (which re-appraises every roof)."""
    if calibrates(prepared):
        return [c for c in columns if c != "geometry"]
    wanted = {*CONCLUDE_COLUMNS, *(REGISTER_COLUMNS if prepared.inventory.register is not None else ())}
    if prepared.inventory.dsm is None:
        wanted -= {"dsm_status", "dsm_coverage"}
    if "surfaces" not in config.planning.draw_on:
        wanted -= set(PLAN_ONLY_COLUMNS)
    return [c for c in columns if c in wanted]


def conclude(
    b: pd.DataFrame, config: Config, prepared: Prepared,
    plane_layer: gpd.GeoDataFrame | None, pv_arrays: gpd.GeoDataFrame | None,
    progress: Callable[[str], None] = lambda stage: None, facade_layer: gpd.GeoDataFrame | None = None,
    ids: pd.Index | None = None,
) -> Results:
    """The jurisdiction-wide steps on the assessed buildings: the DSM's coverage
    findings, grid admission in rank order, the rollout plan and the township table.
    ``b`` may hold only the :func:`conclude_columns` (no geometry): then so do the
    results' buildings and plan; its :data:`COMPACT_TEXTS` may be held as categories
    (each step gets them as text, :func:`plain`; the results' buildings keep them so).
    ``ids``: the buildings' ids where ``b`` is indexed by position (0 … n − 1): the
    steps then align their columns without pandas hashing the ids (≈ 0.15 KB a
    building for each index it looks up), and the results are indexed by id again."""
    inventory, transformers = prepared.inventory, prepared.transformers
    findings = inventory.findings
    info, perf, calib = prepared.info, None, None
    matches = inventory.register
    if ids is not None and (matches is not None or inventory.dsm is not None):
        b, ids = b.set_axis(ids), None  # the register and the DSM's coverage match buildings by id
    if calibrates(prepared):
        b, perf, calib, found, items = calibration.calibrate(
            b, prepared.meters, matches, config, prepared.tables, str(config.inputs.meters))
        findings, info = findings + found, add_run_info(info, items)
    if inventory.dsm is not None:
        b["dsm_coverage"], found = checks.dsm_coverage(
            inventory.buildings, inventory.dsm, config, b["dsm_coverage"].dropna())
        if dsm.mostly_nothing_standing(b["dsm_status"]):  # name the likely cause (rare: measured again)
            found += checks.standing_check(inventory.buildings, inventory.dsm, inventory.dem, config)
        findings = findings + found
    b, remaining, transformer_table, feeders = admit(b, config, transformers, prepared.tables, prepared.hourly.index,
                                                     prepared.topology, ids)
    give_back_freed_memory()  # admission's hourly blocks and sparse weights

    progress(sequence.SURFACES)
    surfaces = None if prepared.surfaces is None else canopies.assess(prepared.surfaces, config, prepared.tables)

    progress(sequence.PLAN)
    kw_per_m2 = config.module.power_w / config.module.area_m2 / 1000.0
    planned = plain(b, (*ELIGIBILITY_TEXTS, "category"))
    plan, plan_status, trajectory = planning.rollout(
        planned, config.policy, config.planning, remaining, kw_per_m2, CITY,
        planning.others(planned, surfaces, config.planning))
    del planned

    progress(sequence.TARGETS)
    townships = township_table(plain(b, SUMMARY_TEXTS), config, inventory.township_polygons)
    townships = gridstage.with_township_grid(townships, plain(b), transformer_table, CITY).join(
        planning.wide(plan_status))
    townships = totals.with_surfaces(townships, plain(b), surfaces)
    as_of = config.run_date
    paced = ("existing_pv_source", "category", "suitability", "county")
    pace = calibration.registered_pace(plain(b, paced), config, matches, as_of) if matches is not None else None
    townships = with_status(townships, plan_status, config.policy, as_of, config.planning.start_year, pace)
    counties = None
    if config.province is not None:  # the county and province levels
        townships = levels.with_county(townships, inventory.township_polygons, config)
        county_pace = None
        if matches is not None:
            by_county = plain(b, paced)
            county_pace = calibration.registered_pace(by_county.assign(township=by_county["county"]), config,
                                                      matches, as_of)
        counties = levels.county_table(plain(b, (*SUMMARY_TEXTS, "county")), config, inventory.township_polygons,
                                       townships, plan_status, as_of, county_pace, transformer_table)
        in_county = None if surfaces is None else surfaces.assign(
            township=surfaces["township"].map(townships["county"]))
        by_county = plain(b, ("county",))
        counties = totals.with_surfaces(counties, by_county.assign(township=by_county["county"]), in_county,
                                        config.province.name)
        del by_county
    plan_status = plan_status.assign(status=milestone_status(plan_status, townships))
    info = add_run_info(info, {"milestone status as of": as_of.isoformat()})
    crs = inventory.crs
    centres = (gridstage.served_centres(b["transformer_id"], b.geometry.to_numpy())
               if "geometry" in b and "transformer_id" in b else None)
    transformer_layer = gridstage.transformer_layer(transformer_table, transformers, centres, crs)
    extra = potential(plain(b, ("suitability",)))  # technical and counted potential, pv_full
    # assign, not join: a join hashes every building id (≈ 0.1 KB a building, kept with the index)
    b = b.drop(columns=extra.columns, errors="ignore").assign(**extra)
    if ids is not None:
        b, plan = b.set_axis(ids), planned_by_id(plan, ids)
    monthly = [c for c in MONTHLY_FIELDS if c in b]
    monthly_table = b[monthly].dropna(how="all").rename_axis("building_id") if monthly else None
    b = b.drop(columns=monthly)
    if "geometry" in b:
        b, plan = (gpd.GeoDataFrame(f, geometry="geometry", crs=crs) for f in (b, plan))
    areas = None  # a partitioned run without geometry here draws them from its partitions (engine)
    if "geometry" in b and "transformer_id" in b:
        areas = gridstage.service_area_layer(transformer_layer, gridstage.served_hulls(b["transformer_id"],
                                                                                         b.geometry.to_numpy()))
    return Results(
        buildings=b, townships=townships, township_polygons=inventory.township_polygons,
        findings=findings, crs=crs, survey_rows=inventory.survey_rows, plan=plan,
        plan_status=plan_status, trajectory=trajectory,
        parameters=economics.parameters(config.economics), roof_planes=plane_layer,
        run_info=info, pv_arrays=pv_arrays, facades=facade_layer,
        target_labels={t.name: t.label for t in config.policy.targets}, register=matches,
        performance=perf, calibration=calib, monthly_yield=monthly_table,
        unmatched_roofs=inventory.unmatched_roofs, counties=counties, surfaces=surfaces,
        transformers=transformer_layer,
        transformer_areas=areas,
        feeders=gridstage.feeder_table(feeders, transformer_table),
    )


def planned_by_id(plan: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """The rollout ``plan`` of buildings indexed by position with its roofs and facades
    indexed by building id (``ids``); the sites beyond roofs keep their ``surface_id``."""
    at = plan.index.to_numpy()
    of_buildings = plan["surface_type"].isin((planning.ROOF, planning.FACADE)).to_numpy()
    if of_buildings.all():
        return plan.set_axis(ids.take(at.astype(np.int64)))
    labels = at.astype(object)
    labels[of_buildings] = ids.take(at[of_buildings].astype(np.int64)).to_numpy(dtype=object)
    return plan.set_axis(pd.Index(labels, name=ids.name))


def run(config: Config, progress: Callable[[str], None] = lambda stage: None) -> Results:
    """Run the survey described by ``config`` in this process and return its results
    (no files written)."""
    prepared = prepare(config, progress)
    inventory = prepared.inventory
    b, plane_layer, pv_arrays, facade_layer = assess_buildings(
        inventory.buildings, config, prepared.hourly, prepared.tables, inventory.crs, progress,
        mosaic=inventory.dsm, dem=inventory.dem, facade_tables=prepared.facade_tables)
    return conclude(b, config, prepared, plane_layer, pv_arrays, progress, facade_layer)
