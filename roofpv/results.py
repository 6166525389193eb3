"""What reading the inputs and running the survey produce, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from roofpv import __version__
from roofpv.appraise.suitability import STATUSES
from roofpv.config import Config
from roofpv.energy.uncertainty import common_sigma, inter_annual_sigma
from roofpv.findings import Finding

if TYPE_CHECKING:  # the DSM stack and pyarrow load only in runs that need them
    from roofpv.io import tiles
    from roofpv.io.partitions import Partitions


@dataclass(frozen=True, kw_only=True)
class Inventory:
    """The buildings table before modelling, and what reading the inputs found."""

    buildings: gpd.GeoDataFrame
    township_polygons: gpd.GeoDataFrame | None
    findings: list[Finding]
    survey_rows: int
    crs: str
    dsm: tiles.Mosaic | None = None
    dem: tiles.Mosaic | None = None
    #: Register systems matched to buildings (:func:`roofpv.monitoring.register.match`), or None.
    register: pd.DataFrame | None = None
    #: Raised roofs of the DSM with no footprint (:mod:`roofpv.inputs.dsm_match`), or None.
    unmatched_roofs: gpd.GeoDataFrame | None = None


@dataclass(frozen=True, kw_only=True)
class Results:
    """What a survey run produced, before anything is written
    (:func:`roofpv.io.outputs.write_outputs`)."""

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
    #: One row per outer wall segment with its BIPV (:mod:`roofpv.surfaces.facades`), or None.
    facades: gpd.GeoDataFrame | None = None
    #: Policy target labels by target name (for field aliases and map styles).
    target_labels: dict[str, str] = field(default_factory=dict)
    #: Register matches, metered performance per system and calibration factors, or None.
    register: pd.DataFrame | None = None
    performance: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    #: Monthly kWh and plane-of-array irradiation per building (:func:`roofpv.run.stages.monthly_yield`).
    monthly_yield: pd.DataFrame | None = None
    #: Where the outputs stream from in a large run (:class:`roofpv.io.partitions.Partitions`):
    #: then ``buildings`` and ``plan`` hold only the columns of the jurisdiction-wide
    #: steps, without geometry, and the layers ``buildings``, ``monthly_yield``,
    #: ``roof_planes`` and ``pv_arrays`` are read from the partitions as they are written.
    partitions: Partitions | None = None
    #: Raised roofs of the DSM with no footprint (layer ``unmatched_roofs``), or None.
    unmatched_roofs: gpd.GeoDataFrame | None = None
    #: PV on surfaces beyond roofs (layer ``surfaces``, :mod:`roofpv.surfaces`), or None.
    surfaces: gpd.GeoDataFrame | None = None
    #: 台区 transformers with their DL/T 2041 hosting capacity and grade (layer
    #: ``transformers``, :func:`roofpv.grid.assess.transformer_layer`), or None.
    transformers: gpd.GeoDataFrame | None = None
    #: The area each transformer serves, with its columns (layer ``transformer_areas``,
    #: :func:`roofpv.grid.assess.service_area_layer`), or None.
    transformer_areas: gpd.GeoDataFrame | None = None
    #: Feeders and substations with their DL/T 2041 hosting capacity and grade (table
    #: ``feeders``, :func:`roofpv.grid.assess.feeder_table`), or None.
    feeders: pd.DataFrame | None = None
    #: A province run's county table (:func:`roofpv.targets.levels.county_table`: one row
    #: per county, then the province row), or None.
    counties: pd.DataFrame | None = None


def run_info(config: Config, weather_meta: dict, hourly: pd.DataFrame, crs: str,
             township_polygons=None) -> pd.DataFrame:
    """What produced the results: roofpv version, config, weather source and CRS; which
    inputs are synthetic sample data and how far the townships lie from the config's site."""
    from roofpv.inputs.provenance import sample_inputs, site_distance_km

    source = weather_meta["source"]
    if config.weather.file is None:
        source += f" (config weather.{'station' if config.weather.station else 'monthly'}, seed {config.weather.seed})"
    items = {
        "roofpv version": __version__,
        "config": str(config.source_path or ""),
        "weather source": source,
        "weather annual GHI (kWh/m²)": f"{hourly['ghi'].sum() / 1000:.1f}",
        "weather period": weather_meta.get("period", "full year"),
        "site (lat, lon)": f"{config.site.latitude:.4f}, {config.site.longitude:.4f}",
        "analysis CRS": crs,
        "synthetic sample inputs": ", ".join(sample_inputs(config)) or "none",
        "P90 (σ of annual energy)": _p90_basis(config),
    }
    km = site_distance_km(config, township_polygons)
    if km is not None:
        items[f"townships' distance from the site of {config.site.name} (km)"] = f"{km:.1f}"
    return pd.DataFrame({"item": list(items), "value": list(items.values())})


def _p90_basis(config: Config) -> str:
    """What the P90 rests on, in one line (roofpv.energy.uncertainty)."""
    u = config.uncertainty
    sigma, source = inter_annual_sigma(u)
    return (f"inter-annual {100 * sigma:.1f} % ({source}); with transposition {u.transposition_pct:g} %, "
            f"temperature {u.temperature_pct:g} %, losses {u.losses_pct:g} %: {100 * common_sigma(u):.2f} %; "
            f"shading {u.shading_class_pct:g} % (survey class) / {u.shading_measured_pct:g} % (DSM)")


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


def add_run_info(info: pd.DataFrame, items: dict[str, str]) -> pd.DataFrame:
    """``info`` (a ``run_info`` table) with ``items`` appended."""
    return pd.concat([info, pd.DataFrame({"item": list(items), "value": list(items.values())})],
                     ignore_index=True)
