"""The survey pipeline: the only module that knows the order of the stages.

A run has three steps: :func:`prepare` (read the inputs, the weather and the yield
tables, once per jurisdiction), :func:`roofpv.assess.assess_buildings` (the
per-building stages, on all buildings or on partitions of them, see
:mod:`roofpv.engine`) and :func:`conclude` (the jurisdiction-wide steps). ``run(config)``
does the three in this process and returns the :class:`~roofpv.results.Results`;
:func:`roofpv.io.outputs.write_outputs` puts them on disk. Stages report progress
through an optional callback ``progress(stage_name)`` called as each stage starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import geopandas as gpd
import pandas as pd

from . import economics, grid, input_checks, planning, solar
from .assess import assess_buildings
from .config import Config
from .constants import CITY, STAGES
from .inventory import assign_townships, join_survey, project
from .io import readers
from .io.weather import load_weather
from .policy import township_summary
from .results import Inventory, Results, run_info
from .roof import gauss_kruger_epsg
from .schema import COLUMN_ALIASES


@dataclass(frozen=True)
class Prepared:
    """What every partition of a run shares: the inventory, the transformers, the
    hourly weather, the yield tables and the ``run_info`` table."""

    inventory: Inventory
    transformers: pd.DataFrame | None
    hourly: pd.DataFrame
    tables: dict[str, solar.YieldTable]
    info: pd.DataFrame


def analysis_crs(config: Config) -> str:
    """The configured projected CRS, or the CGCS2000 3° Gauss-Krüger zone of the site."""
    return config.crs or f"EPSG:{gauss_kruger_epsg(config.site.longitude)}"


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
    b, found = join_survey(footprints, survey, str(inputs.survey), str(inputs.footprints))
    findings += found
    b, found = project(b, crs, str(inputs.footprints), inputs.footprints_datum)
    findings += found
    b, found = assign_townships(b, polygons, str(inputs.survey))
    findings += found
    mosaic, dem, found = input_checks.open_tiles(config, crs)
    findings += found
    findings += input_checks.datum_check(config, footprints.geometry, polygons, mosaic, crs)
    polygons = polygons.to_crs(crs) if polygons is not None else None
    return Inventory(b, polygons, findings, len(survey), crs, mosaic, dem)


def check_inputs(config: Config) -> Inventory:
    """:func:`build_inventory` plus the DSM's coverage of the footprints: every check
    `roofpv validate` makes, without modelling."""
    inventory = build_inventory(config)
    if inventory.dsm is None:
        return inventory
    _, found = input_checks.dsm_coverage(inventory.buildings, inventory.dsm, config)
    return replace(inventory, findings=inventory.findings + found)


def read_transformers(config: Config) -> pd.DataFrame | None:
    """The configured 台区 transformers table, or None."""
    grid_cfg = config.grid
    if grid_cfg.transformers is None:
        return None
    return readers.read_transformers(grid_cfg.transformers, grid_cfg.transformers_layer)


def prepare(config: Config, progress: Callable[[str], None] = lambda stage: None) -> Prepared:
    """Read the inputs and the weather and compute the yield tables: the steps a run
    does once, whatever the number of buildings."""
    progress(STAGES[0])
    inventory = build_inventory(config)
    transformers = read_transformers(config)
    progress(STAGES[1])
    hourly, weather_meta = load_weather(config)
    return Prepared(inventory, transformers, hourly, solar.yield_tables(config, hourly),
                    run_info(config, weather_meta, hourly, inventory.crs, inventory.township_polygons))


def conclude(
    b: pd.DataFrame, config: Config, prepared: Prepared,
    plane_layer: gpd.GeoDataFrame | None, pv_arrays: gpd.GeoDataFrame | None,
    progress: Callable[[str], None] = lambda stage: None,
) -> Results:
    """The jurisdiction-wide steps on the assessed buildings: the DSM's coverage
    findings, grid admission in rank order, the rollout plan and the township table."""
    inventory, transformers = prepared.inventory, prepared.transformers
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
        economics.parameters(config.economics), plane_layer, prepared.info, pv_arrays,
        {t.name: t.label for t in config.policy.targets},
    )


def run(config: Config, progress: Callable[[str], None] = lambda stage: None) -> Results:
    """Run the survey described by ``config`` in this process and return its results
    (no files written)."""
    prepared = prepare(config, progress)
    inventory = prepared.inventory
    b, plane_layer, pv_arrays = assess_buildings(
        inventory.buildings, config, prepared.hourly, prepared.tables, inventory.crs, progress,
        mosaic=inventory.dsm, dem=inventory.dem)
    return conclude(b, config, prepared, plane_layer, pv_arrays, progress)
