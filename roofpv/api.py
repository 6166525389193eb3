"""The Python interface for notebooks and scripts: the stages on one's own GeoDataFrames,
no files written.

``roofpv.run(config)`` runs a configured survey as the CLI does and returns its
:class:`~roofpv.results.Results`; the functions here take a GeoDataFrame of footprints
(with or without survey columns) and return one:

>>> import roofpv
>>> config = roofpv.load_config("configs/pinghu.yaml")
>>> weather = roofpv.hourly_weather(config)               # typical year, hourly
>>> b = roofpv.assess(footprints, config, weather=weather)  # doctest: +SKIP

Each runs the stages in the order of :mod:`roofpv.run.pipeline`; ``docs/design.md`` lists
the columns every stage needs and adds.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from roofpv.config import Config
from roofpv.energy import solar
from roofpv.errors import ApiInputError
from roofpv.findings import findings_frame
from roofpv.inputs.inventory import assign_townships, footprint_attributes, place
from roofpv.inputs.survey_table import map_headers, normalise_survey
from roofpv.io import point_cloud, tiles
from roofpv.io.weather_files import load_weather
from roofpv.run.pipeline import analysis_crs, assess_buildings
from roofpv.schema import COLUMN_ALIASES, MONTHLY_FIELDS


def hourly_weather(config: Config) -> pd.DataFrame:
    """The hourly typical year of ``config`` (columns ``ghi``, ``dni``, ``dhi`` in W/m²,
    ``temp_air`` in °C, ``wind_speed`` in m/s), as the survey uses it."""
    return load_weather(config)[0]


def buildings_table(footprints: gpd.GeoDataFrame, config: Config,
                    townships: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The buildings table of ``footprints``: survey columns translated to canonical
    codes and units, projected to the analysis CRS, placed in townships.

    Parameters
    ----------
    footprints : one polygon per building, with a CRS; building ids in a
        ``building_id`` column (any of its aliases, e.g. 建筑编号) or as the index. Any of
        the survey columns (``category``, ``roof_type``, ``shading``, … or their Chinese
        headers and values, see :data:`roofpv.schema.COLUMN_ALIASES`) may be present;
        absent ones take the config's defaults.
    config : the jurisdiction's configuration (site, CRS, rules)
    townships : township polygons indexed by name, or None (then the ``township``
        column, or 未知)

    Returns
    -------
    GeoDataFrame indexed by ``building_id`` in the analysis CRS, with every canonical
    survey column, ``has_survey``, ``geometry_valid``, ``township_source``; the input
    problems found are in ``.attrs["findings"]`` (a findings table, as ``findings.csv``).
    """
    if footprints.crs is None:
        raise ApiInputError("footprints have no CRS; set one, e.g. footprints.set_crs('EPSG:4490')")
    frame = footprints
    if not any(c in COLUMN_ALIASES["building_id"] for c in frame.columns):
        frame = frame.rename_axis("building_id").reset_index()
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    survey, findings = normalise_survey(attributes, "buildings", first_row=0)
    if len(survey) != len(frame):
        raise ApiInputError(
            f"{len(frame) - len(survey)} buildings have a blank or repeated building_id; "
            "give each footprint its own id")
    geometry = gpd.GeoSeries(frame.geometry.to_numpy(), index=survey.index, crs=frame.crs)
    b = gpd.GeoDataFrame(survey, geometry=geometry)
    given = [c for c in map_headers(list(attributes.columns), "buildings").values()
             if c != "building_id"]
    b["has_survey"] = survey[given].notna().any(axis=1) if given else False
    # OSM-style columns (building, building:levels, height) fill what the survey columns leave blank.
    b, found = place(b, footprint_attributes(attributes.set_axis(survey.index), config.dsm.storey_height_m),
                     analysis_crs(config), "buildings")
    findings += found
    b, found = assign_townships(b, townships, "buildings")
    b.attrs["findings"] = findings_frame(findings + found)
    return b


def assess(buildings: gpd.GeoDataFrame, config: Config, *, weather: pd.DataFrame | None = None,
           dsm: str | Path | tiles.Mosaic | None = None, arrays: bool = False,
           ) -> gpd.GeoDataFrame | tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Every per-building stage on ``buildings``: roof planes (measured from ``dsm`` where
    it covers a roof), module layout, yield, suitability with reasons, grid class,
    economics, carbon and energy use.

    Parameters
    ----------
    buildings : footprints with optional survey columns (as for :func:`buildings_table`),
        or a table :func:`buildings_table` made
    config : the jurisdiction's configuration
    weather : hourly weather as from :func:`hourly_weather`; default read from ``config``
    dsm : folder of DSM GeoTIFF tiles (or an opened :class:`~roofpv.io.tiles.Mosaic`);
        default none: roofs modelled from footprint and roof type
    arrays : also return the ``pv_arrays`` layer (module rows as polygons)

    Returns
    -------
    GeoDataFrame of the ``buildings`` layer's columns (``capacity_kwp`` in kWp,
    ``annual_kwh`` in kWh/yr, ``suitability`` and ``reasons``, …) in the analysis CRS;
    with ``arrays``, also the ``pv_arrays`` GeoDataFrame.
    """
    if "geometry_valid" not in buildings:
        buildings = buildings_table(buildings, config)
    crs = analysis_crs(config)
    hourly = weather if weather is not None else load_weather(config)[0]
    if isinstance(dsm, (str, Path)):
        c = point_cloud.resolve(config.dsm.model_copy(update={"tiles": Path(dsm)}))
        dsm = tiles.open_mosaic(c.tiles, crs, c.tiles_pattern)
    b, _, pv_arrays, _ = assess_buildings(buildings, config, hourly, solar.yield_tables(config, hourly),
                                          crs, mosaic=dsm, draw_arrays=arrays)
    out = gpd.GeoDataFrame(b.drop(columns=MONTHLY_FIELDS), geometry="geometry", crs=crs)
    out.attrs = dict(buildings.attrs)
    return (out, pv_arrays) if arrays else out


__all__ = ["ApiInputError", "assess", "buildings_table", "hourly_weather"]
